// Package tracking is the table of Redis's client-side caching (CLIENT
// TRACKING): which clients read which keys, the BCAST prefixes, and each
// tracking client's mode. It decides who must be told that a key
// changed; the server delivers the messages (RESP3 push or the
// __redis__:invalidate channel of a redirect client).
//
// The caller's duties:
//  1. Call Remember for a read-only command of a tracking client with
//     the command's keys locked, and Invalidate for every key a write
//     changed (and for expired and evicted keys), with the key's shard
//     held, so a read and a write of one key are ordered.
//  2. Call Off when a client disconnects.
//  3. Check Active (one atomic load) before Invalidate on hot paths.
package tracking

import (
	"bytes"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Flags are a tracking client's mode.
type Flags uint16

const (
	On          Flags = 1 << iota
	BCast             // broadcast mode: invalidations by prefix, nothing remembered
	OptIn             // keys are remembered only after CLIENT CACHING YES
	OptOut            // keys are remembered unless CLIENT CACHING NO
	NoLoop            // no invalidation for the client's own writes
	BrokenRedir       // the redirect client went away
	Caching           // CLIENT CACHING YES (optin) or NO (optout) for the next command
)

// State is one client's tracking state (CLIENT TRACKINGINFO).
type State struct {
	Flags    Flags
	Redirect int64    // client id, 0 for none
	Prefixes []string // BCAST prefixes, sorted
}

// Message tells the server to send an invalidation to client Target:
// Keys, or a null (every key: a flush) when Flush.
type Message struct {
	Target int64
	Keys   [][]byte
	Flush  bool
	// Prefix is the BCAST prefix that matched (BCast set): Redis gathers
	// these per prefix and client and sends them once per event-loop
	// turn (Gather).
	Prefix string
	BCast  bool
}

// Table is the tracking state of a server. Its methods are safe for
// concurrent use.
type Table struct {
	mu       sync.Mutex
	clients  map[int64]*State
	keys     map[string]map[int64]struct{}
	prefixes map[string]map[int64]struct{}
	active   atomic.Bool // keys or prefixes are recorded
	nclients atomic.Int64
}

// New returns an empty table.
func New() *Table {
	return &Table{clients: map[int64]*State{}, keys: map[string]map[int64]struct{}{},
		prefixes: map[string]map[int64]struct{}{}}
}

// Active reports whether any key or prefix is tracked: when not,
// Invalidate has nothing to do.
func (t *Table) Active() bool { return t != nil && t.active.Load() }

// Clients is the number of clients with tracking on.
func (t *Table) Clients() int64 { return t.nclients.Load() }

func (t *Table) setActive() { t.active.Store(len(t.keys) > 0 || len(t.prefixes) > 0) }

// Error texts of CLIENT TRACKING and CLIENT CACHING (Redis 7.0).
const (
	ErrPrefixNoBcast   = "ERR PREFIX option requires BCAST mode to be enabled"
	ErrSwitchBcast     = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	ErrBcastOpt        = "ERR OPTIN and OPTOUT are not compatible with BCAST"
	ErrOptInOut        = "ERR You can't specify both OPTIN mode and OPTOUT mode"
	ErrSwitchOpt       = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	ErrCachingMode     = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
	ErrCachingYes      = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
	ErrCachingNo       = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
	errPrefixOverlap   = "ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client must not overlap."
	errPrefixOverlapIn = "ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single client must not overlap."
)

// overlap reports whether one of a, b is a prefix of the other.
func overlap(a, b string) bool {
	n := min(len(a), len(b))
	return a[:n] == b[:n]
}

// Enable turns tracking on for client id (CLIENT TRACKING ON) with the
// mode in opts (On, BCast, OptIn, OptOut, NoLoop) and returns "" or the
// error reply. Turning it on again keeps the prefixes already set.
func (t *Table) Enable(id, redirect int64, opts Flags, prefixes []string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.clients[id]
	switch {
	case opts&BCast == 0 && len(prefixes) > 0:
		return ErrPrefixNoBcast
	case st != nil && (st.Flags&BCast != 0) != (opts&BCast != 0):
		return ErrSwitchBcast
	case opts&BCast != 0 && opts&(OptIn|OptOut) != 0:
		return ErrBcastOpt
	case opts&OptIn != 0 && opts&OptOut != 0:
		return ErrOptInOut
	case st != nil && (opts&OptIn != 0 && st.Flags&OptOut != 0 || opts&OptOut != 0 && st.Flags&OptIn != 0):
		return ErrSwitchOpt
	}
	if opts&BCast != 0 {
		for i, p := range prefixes {
			if st != nil {
				for _, q := range st.Prefixes {
					if overlap(q, p) {
						return strings.Replace(strings.Replace(errPrefixOverlap, "%s", p, 1), "%s", q, 1)
					}
				}
			}
			for _, q := range prefixes[i+1:] {
				if overlap(p, q) {
					return strings.Replace(strings.Replace(errPrefixOverlapIn, "%s", p, 1), "%s", q, 1)
				}
			}
		}
	}
	if st == nil {
		st = &State{}
		t.clients[id] = st
		t.nclients.Add(1)
	}
	st.Flags = On | opts&(BCast|OptIn|OptOut|NoLoop) | st.Flags&Caching
	st.Redirect = redirect
	if opts&BCast != 0 {
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			if t.prefixes[p] == nil {
				t.prefixes[p] = map[int64]struct{}{}
			}
			if _, ok := t.prefixes[p][id]; !ok {
				t.prefixes[p][id] = struct{}{}
				st.Prefixes = insertSorted(st.Prefixes, p)
			}
		}
	}
	t.setActive()
	return ""
}

func insertSorted(list []string, s string) []string {
	i := 0
	for i < len(list) && list[i] < s {
		i++
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}

// Off turns tracking off for client id (CLIENT TRACKING OFF, or the
// client left). The keys it read stay in the table until written, as in
// Redis; it is simply not told any more.
func (t *Table) Off(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.clients[id]
	if st == nil {
		return
	}
	for _, p := range st.Prefixes {
		delete(t.prefixes[p], id)
		if len(t.prefixes[p]) == 0 {
			delete(t.prefixes, p)
		}
	}
	delete(t.clients, id)
	t.nclients.Add(-1)
	t.setActive()
}

// Get returns a copy of client id's state (Flags 0 when off).
func (t *Table) Get(id int64) State {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.clients[id]; st != nil {
		c := *st
		c.Prefixes = append([]string(nil), st.Prefixes...)
		return c
	}
	return State{}
}

// SetCaching is CLIENT CACHING YES|NO: "" or the error reply.
func (t *Table) SetCaching(id int64, yes bool) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.clients[id]
	switch {
	case st == nil:
		return ErrCachingMode
	case yes && st.Flags&OptIn == 0:
		return ErrCachingYes
	case !yes && st.Flags&OptOut == 0:
		return ErrCachingNo
	}
	st.Flags |= Caching
	return ""
}

// EndCommand clears CLIENT CACHING's one-command flag after a command
// (the caller skips CLIENT commands and commands queued in MULTI).
func (t *Table) EndCommand(id int64) {
	t.mu.Lock()
	if st := t.clients[id]; st != nil {
		st.Flags &^= Caching
	}
	t.mu.Unlock()
}

// Remember records that client id read keys (a read-only command), as
// its mode allows: not in BCAST mode, in OPTIN mode only after CLIENT
// CACHING YES, in OPTOUT mode unless CLIENT CACHING NO.
func (t *Table) Remember(id int64, keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.clients[id]
	if st == nil || st.Flags&BCast != 0 {
		return
	}
	caching := st.Flags&Caching != 0
	if st.Flags&OptIn != 0 && !caching || st.Flags&OptOut != 0 && caching {
		return
	}
	for _, k := range keys {
		ids := t.keys[string(k)]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.keys[string(k)] = ids
		}
		ids[id] = struct{}{}
	}
	t.active.Store(true)
}

// Invalidate returns the messages that key changed (written by client
// writer, 0 for the server itself: expiry, eviction), and forgets who
// read it: one message per client that read it, then one per BCAST
// client with a matching prefix. NOLOOP clients are not told of their
// own writes.
func (t *Table) Invalidate(key []byte, writer int64) []Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Message
	if ids, ok := t.keys[string(key)]; ok {
		for _, id := range sortedIDs(ids) {
			st := t.clients[id]
			if st == nil || st.Flags&BCast != 0 || st.Flags&NoLoop != 0 && id == writer {
				continue
			}
			out = append(out, Message{Target: id, Keys: [][]byte{key}})
		}
		delete(t.keys, string(key))
	}
	for p, ids := range t.prefixes {
		if !strings.HasPrefix(string(key), p) {
			continue
		}
		for _, id := range sortedIDs(ids) {
			if st := t.clients[id]; st != nil && st.Flags&NoLoop != 0 && id == writer {
				continue
			}
			out = append(out, Message{Target: id, Keys: [][]byte{key}, Prefix: p, BCast: true})
		}
	}
	t.setActive()
	return out
}

// Gather merges BCAST messages as Redis's
// trackingBroadcastInvalidationMessages sends them: one message per
// prefix and client, prefixes in byte order, then clients by id, the
// keys of each sorted and without repeats. Other messages are kept, in
// their order, before them.
func Gather(msgs []Message) []Message {
	var out, bc []Message
	for _, m := range msgs {
		if m.BCast {
			bc = append(bc, m)
		} else {
			out = append(out, m)
		}
	}
	sort.SliceStable(bc, func(i, j int) bool {
		if bc[i].Prefix != bc[j].Prefix {
			return bc[i].Prefix < bc[j].Prefix
		}
		return bc[i].Target < bc[j].Target
	})
	for i := 0; i < len(bc); {
		j := i
		var keys [][]byte
		for ; j < len(bc) && bc[j].Prefix == bc[i].Prefix && bc[j].Target == bc[i].Target; j++ {
			keys = append(keys, bc[j].Keys...)
		}
		sort.Slice(keys, func(a, b int) bool { return bytes.Compare(keys[a], keys[b]) < 0 })
		uniq := keys[:0]
		for k, key := range keys {
			if k == 0 || !bytes.Equal(key, keys[k-1]) {
				uniq = append(uniq, key)
			}
		}
		m := bc[i]
		m.Keys = uniq
		out = append(out, m)
		i = j
	}
	return out
}

func sortedIDs(m map[int64]struct{}) []int64 {
	out := make([]int64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Flush returns a null invalidation for every tracking client
// (FLUSHALL, FLUSHDB) and forgets every remembered key.
func (t *Table) Flush() []Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Message
	ids := make(map[int64]struct{}, len(t.clients))
	for id := range t.clients {
		ids[id] = struct{}{}
	}
	for _, id := range sortedIDs(ids) {
		out = append(out, Message{Target: id, Flush: true})
	}
	clear(t.keys)
	t.setActive()
	return out
}

// Broken marks client id's redirect as gone (CLIENT TRACKINGINFO shows
// broken_redirect).
func (t *Table) Broken(id int64) {
	t.mu.Lock()
	if st := t.clients[id]; st != nil {
		st.Flags |= BrokenRedir
	}
	t.mu.Unlock()
}
