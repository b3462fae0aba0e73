package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func splitFields(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return []string{""}
	}
	return f
}

// pauseState is CLIENT PAUSE and the server's own pauses: until a
// deadline, commands (all, or only writes) wait before running. Each
// purpose pauses on its own, as Redis 7's pause purposes: the strictest
// in force applies, and ending one (a shutdown's, a failover's) leaves
// the others (a client's CLIENT PAUSE ALL) in force.
type pauseState struct {
	mu       sync.Mutex
	by       [numPausePurposes]pauseSpec
	until    time.Time // the latest deadline in force
	all      bool      // some purpose in force pauses every command
	on       atomic.Bool
	released chan struct{} // closed when the pause in force changes or ends
}

type pausePurpose int

const (
	pauseClient   pausePurpose = iota // CLIENT PAUSE
	pauseShutdown                     // SHUTDOWN waiting for replicas, the final save
	pauseFailover                     // CLUSTER FAILOVER, FAILOVER
	numPausePurposes
)

type pauseSpec struct {
	until time.Time // zero: not in force
	all   bool
}

func (p *pauseState) active() bool { return p.on.Load() }

// set pauses clients for purpose until the deadline; all selects ALL vs
// WRITE. A purpose already in force keeps the later deadline and the
// stricter mode, as Redis.
func (p *pauseState) set(purpose pausePurpose, until time.Time, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sp := &p.by[purpose]
	if !sp.until.IsZero() {
		if until.After(sp.until) {
			sp.until = until
		}
		sp.all = sp.all || all
	} else {
		sp.until, sp.all = until, all
	}
	p.updateLocked()
}

// unpause ends the pause of purpose.
func (p *pauseState) unpause(purpose pausePurpose) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.by[purpose] = pauseSpec{}
	p.updateLocked()
}

// updateLocked recomputes the pause in force and wakes the waiters so
// they look again (p.mu held).
func (p *pauseState) updateLocked() {
	now := time.Now()
	var until time.Time
	all := false
	for i := range p.by {
		sp := &p.by[i]
		if sp.until.IsZero() {
			continue
		}
		if !sp.until.After(now) {
			*sp = pauseSpec{}
			continue
		}
		if sp.until.After(until) {
			until = sp.until
		}
		all = all || sp.all
	}
	if p.released != nil {
		close(p.released)
		p.released = nil
	}
	p.until, p.all = until, all
	if until.IsZero() {
		p.on.Store(false)
		return
	}
	p.released = make(chan struct{})
	p.on.Store(true)
}

// appliesLocked reports whether the pause holds cmd back (p.mu held).
func (p *pauseState) appliesLocked(cmd *commands.Command) bool {
	return p.all || cmd.Has(commands.FWrite) || cmd.Has(commands.FMayReplicate) ||
		cmd.Name == "publish" || cmd.Name == "spublish"
}

// holds reports whether a pause in force holds cmd back.
func (p *pauseState) holds(cmd *commands.Command) bool {
	if !p.on.Load() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on.Load() && p.appliesLocked(cmd)
}

// wait blocks the calling client while the pause applies to cmd. A
// client held back counts in INFO's blocked_clients, as Redis counts its
// postponed clients.
func (p *pauseState) wait(cmd *commands.Command, c *Client) {
	counted := false
	defer func() {
		if counted {
			c.srv.stats.BlockedClients.Add(-1)
		}
	}()
	for {
		p.mu.Lock()
		if !p.on.Load() {
			p.mu.Unlock()
			return
		}
		if !time.Now().Before(p.until) {
			p.updateLocked() // deadlines passed
			p.mu.Unlock()
			continue
		}
		if !p.appliesLocked(cmd) {
			p.mu.Unlock()
			return
		}
		d := time.Until(p.until)
		ch := p.released
		p.mu.Unlock()
		if !counted {
			counted = true
			c.srv.stats.BlockedClients.Add(1)
		}
		c.flush()
		t := time.NewTimer(d)
		select {
		case <-ch:
		case <-t.C:
		case <-c.srv.quit:
			t.Stop()
			return
		}
		t.Stop()
	}
}

// monitorSet is the clients in MONITOR mode.
type monitorSet struct {
	mu sync.Mutex
	m  map[*Client]struct{}
	n  atomic.Int32
}

func (ms *monitorSet) add(c *Client) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.m == nil {
		ms.m = map[*Client]struct{}{}
	}
	if _, ok := ms.m[c]; !ok {
		ms.m[c] = struct{}{}
		ms.n.Add(1)
	}
}

func (ms *monitorSet) remove(c *Client) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if _, ok := ms.m[c]; ok {
		delete(ms.m, c)
		ms.n.Add(-1)
	}
}

// feed sends one executed command to every monitor, formatted as Redis:
// +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
func (ms *monitorSet) feed(c *Client, args [][]byte) {
	now := time.Now()
	var b []byte
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.Itoa(now.Nanosecond() / 1000)
	b = append(b, strings.Repeat("0", 6-len(us))...)
	b = append(b, us...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.db), 10)
	b = append(b, ' ')
	if c.script {
		b = append(b, "lua"...) // a script's commands, as Redis's CLIENT_SCRIPT
	} else {
		b = append(b, c.addr...)
	}
	b = append(b, ']')
	for i, a := range args {
		b = append(b, ' ')
		if redacted(args, i) { // as SLOWLOG: AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2
			b = append(b, "\"(redacted)\""...)
			continue
		}
		b = resp.AppendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	// A monitor's own RESET ends its MONITOR before Redis feeds the
	// command (after running it): the others see it, the sender does not.
	self := commands.EqualFold(args[0], "reset")
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for m := range ms.m {
		if self && m == c {
			continue
		}
		m.push(b)
	}
}

// slowlog keeps the slowest commands, as SLOWLOG.
type slowlog struct {
	mu      sync.Mutex
	entries []slowEntry // newest first
	nextID  int64
	thresh  atomic.Int64 // microseconds; <0 disables
	maxLen  atomic.Int64
}

type slowEntry struct {
	id   int64
	at   int64 // unix seconds
	dur  int64 // microseconds
	args []string
	addr string
	name string
}

func (sl *slowlog) init() {
	sl.thresh.Store(10000)
	sl.maxLen.Store(128)
}

func (sl *slowlog) maybeAdd(c *Client, args [][]byte, dur time.Duration) {
	t := sl.thresh.Load()
	us := dur.Microseconds()
	if t < 0 || us < t {
		return
	}
	e := slowEntry{at: time.Now().Unix(), dur: us, addr: c.addr}
	c.mu.Lock()
	e.name = c.name
	c.mu.Unlock()
	n := len(args)
	if n > 32 {
		n = 32
	}
	for i := 0; i < n; i++ {
		a := args[i]
		if i == 31 && len(args) > 32 {
			e.args = append(e.args, "... ("+strconv.Itoa(len(args)-31)+" more arguments)")
			break
		}
		if redacted(args, i) {
			e.args = append(e.args, "(redacted)")
		} else if len(a) > 128 {
			e.args = append(e.args, string(a[:128])+"... ("+strconv.Itoa(len(a)-128)+" more bytes)")
		} else {
			e.args = append(e.args, string(a))
		}
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	e.id = sl.nextID
	sl.nextID++
	sl.entries = append([]slowEntry{e}, sl.entries...)
	if max := int(sl.maxLen.Load()); len(sl.entries) > max {
		sl.entries = sl.entries[:max]
	}
}

var _ = resp.Writer{}

// redacted reports whether args[i] is a secret Redis hides from SLOWLOG:
// passwords of AUTH, HELLO AUTH and MIGRATE, the rules of ACL SETUSER,
// the values of sensitive directives in CONFIG SET.
func redacted(args [][]byte, i int) bool {
	name := args[0]
	switch {
	case commands.EqualFold(name, "auth"):
		return i >= 1
	case commands.EqualFold(name, "acl"):
		return i >= 2 && commands.EqualFold(args[1], "setuser")
	case commands.EqualFold(name, "config"):
		if i < 3 || (i-2)%2 != 1 || !commands.EqualFold(args[1], "set") {
			return false
		}
		k := args[i-1]
		return commands.EqualFold(k, "requirepass") || commands.EqualFold(k, "masterauth") || commands.EqualFold(k, "masteruser")
	case commands.EqualFold(name, "hello"), commands.EqualFold(name, "migrate"):
		for j := 1; j < i; j++ {
			switch {
			case commands.EqualFold(args[j], "auth") && i == j+1:
				return true
			case commands.EqualFold(args[j], "auth") && commands.EqualFold(name, "hello") && i == j+2:
				return true
			case commands.EqualFold(args[j], "auth2") && commands.EqualFold(name, "migrate") && (i == j+1 || i == j+2):
				return true
			}
		}
	}
	return false
}
