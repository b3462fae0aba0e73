package replication

// The replica's side of the driver (the package doc's duties 6-11): a
// Replica carried out over a real connection. Node.mu serializes the
// Replica between the reading goroutine and the cron; the snapshot is
// loaded and the stream applied without it.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"redgo/internal/netio"
	"redgo/internal/resp"
)

// follower is our link to our master.
type follower struct {
	n    *Node
	r    *Replica
	host string
	port int
	conn net.Conn
	gen  int // bumped per connection: a stale goroutine's reports are ignored
}

func nowMs() int64 { return time.Now().UnixMilli() }

// do carries out actions (n.mu held).
func (f *follower) do(acts ...Action) {
	n := f.n
	for _, a := range acts {
		switch a.Kind {
		case ActDial:
			f.gen++
			gen, addr := f.gen, a.Addr
			n.h.Go(func() { f.dial(gen, addr) })
		case ActSend:
			if f.conn != nil {
				f.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
				f.conn.Write(a.Data)
			}
		case ActClose:
			if f.conn != nil {
				f.conn.Close()
				f.conn = nil
			}
			f.gen++
		case ActLog:
			n.h.Logf("%s", a.Text)
		case ActResetBacklog:
			if n.backlog == nil {
				n.backlog = NewBacklog(n.backlogSize(), a.Offset)
			} else {
				n.backlog.Reset(a.Offset)
			}
		case ActDisconnectReplicas:
			n.disconnectReplicasLocked()
		case ActFailoverRejected:
			if fo := n.fo; fo != nil && fo.state == FailoverInProgress {
				fo.rejected = true // handOver ends it
			}
		}
	}
}

// dial connects to the master off the lock and reports it.
func (f *follower) dial(gen int, addr string) {
	c, err := netio.DialFrom(addr, f.n.h.Config("bind-source-addr"), time.Duration(f.n.timeout())*time.Millisecond)
	if err == nil {
		c = netio.Wrap(c)
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link != f || gen != f.gen {
		if c != nil {
			c.Close()
		}
		return
	}
	if err == nil {
		f.conn = c
	}
	f.do(f.r.Dialed(nowMs(), err)...)
	if err == nil && f.conn == c {
		gen := f.gen
		n.h.Go(func() { f.read(c, gen) })
	}
}

// current reports whether c is still the link (n.mu held).
func (f *follower) current(c net.Conn, gen int) bool {
	return f.n.link == f && f.conn == c && f.gen == gen
}

// read is one connection's reader: reply lines, the snapshot, then the
// stream.
func (f *follower) read(c net.Conn, gen int) {
	n := f.n
	rd := bufio.NewReaderSize(c, 64<<10)
	for {
		line, err := rd.ReadString('\n')
		n.mu.Lock()
		if !f.current(c, gen) {
			n.mu.Unlock()
			c.Close()
			return
		}
		if err != nil {
			f.do(f.r.LinkLost(nowMs(), err)...)
			n.mu.Unlock()
			return
		}
		acts := f.r.Line(nowMs(), strings.TrimRight(line, "\r\n"))
		f.do(acts...)
		if a, ok := find(acts, ActReceive); ok {
			n.mu.Unlock()
			rest, err := f.receive(c, rd, a.Bulk, a.Load)
			// What follows the payload: bytes the payload reader took past
			// an EOF mark, then what rd already buffered (a master streams
			// right after a sized payload), then the connection.
			rd = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(rest), rd), 64<<10)
			n.mu.Lock()
			if !f.current(c, gen) {
				n.mu.Unlock()
				c.Close()
				return
			}
			acts = f.r.PayloadDone(nowMs(), err)
			f.do(acts...)
		}
		gen = f.gen
		n.mu.Unlock()
		if a, ok := find(acts, ActStream); ok {
			f.stream(c, gen, rd, a.Offset)
			return
		}
		if _, ok := find(acts, ActClose); ok {
			return
		}
	}
}

func find(acts []Action, k ActionKind) (Action, bool) {
	for _, a := range acts {
		if a.Kind == k {
			return a, true
		}
	}
	return Action{}, false
}

// receive loads the snapshot (readSyncBulkPayload): a newline goes to the
// master every second meanwhile so it does not time the link out.
func (f *follower) receive(c net.Conn, rd io.Reader, b Bulk, mode LoadMode) ([]byte, error) {
	n := f.n
	p := NewPayloadReader(rd, b)
	pr := &progress{r: p}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n.mu.Lock()
				f.r.PayloadProgress(nowMs(), pr.k.Load())
				n.mu.Unlock()
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write([]byte("\n"))
			}
		}
	}()
	defer close(done)
	if mode == LoadInPlace || mode == LoadAside {
		n.LoadStarting()
	}
	defer func() {
		n.mu.Lock()
		n.loadingSync = false
		n.mu.Unlock()
	}()
	if mode == LoadInPlace {
		n.h.Logf("MASTER <-> REPLICA sync: Flushing old data")
	}
	if mode != LoadViaDisk {
		n.h.Logf("MASTER <-> REPLICA sync: Loading DB in memory")
	}
	err := n.h.LoadSnapshot(pr, max(b.Size, 0), mode)
	if err == nil {
		_, err = io.Copy(io.Discard, pr) // past the image: to the end of the framing
	} else if _, cerr := io.Copy(io.Discard, pr); cerr != nil {
		err = cerr // the link failed: report that, not the torn image
	}
	if err != nil && err != ErrTruncated {
		if te := ErrTruncated; strings.Contains(err.Error(), te.Error()) {
			err = te
		}
	}
	return p.Rest(), err
}

// LoadStarting tells that a full sync's snapshot starts to replace the
// dataset (with LoadViaDisk, the driver calls it once the file is whole):
// our offset is 0 until the load ends.
func (n *Node) LoadStarting() {
	n.mu.Lock()
	n.loadingSync = true
	n.mu.Unlock()
}

// progress counts the snapshot's bytes as they are read.
type progress struct {
	r io.Reader
	k atomic.Int64
}

func (p *progress) Read(b []byte) (int, error) {
	k, err := p.r.Read(b)
	p.k.Add(int64(k))
	return k, err
}

// stream applies the master's stream after off: each command runs as the
// master's client, is appended verbatim to our backlog for our own
// replicas, and moves our offset.
//
// The stream is read into one buffer and its commands parsed in place
// (their arguments alias it, as a client's do its query buffer). The
// commands of one read are applied one by one, the keys of the next ones
// read ahead (Host.Prefetch), then recorded together (our backlog, the
// offset we acknowledge) under one lock: the stream arrives in big
// chunks, and a lock per command cost as much as applying it. A GETACK
// is answered with every command before it recorded.
func (f *follower) stream(c net.Conn, gen int, rd io.Reader, off int64) {
	n := f.n
	buf := make([]byte, 0, streamBuf)
	args := make([][]byte, 0, 8)
	lost := func(err error) {
		n.mu.Lock()
		if f.current(c, gen) {
			f.do(f.r.LinkLost(nowMs(), err)...)
		}
		n.mu.Unlock()
	}
	for {
		if len(buf) == cap(buf) {
			// A command longer than the buffer: grow it by what arrives,
			// not by what its header claims.
			buf = slices.Grow(buf, cap(buf))
		}
		k, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if k == 0 {
			if err == nil {
				continue
			}
			lost(err)
			return
		}
		pos, recorded, ahead := 0, 0, 0
		for pos < len(buf) {
			if ahead == 0 {
				ahead = n.h.Prefetch(buf[pos:])
			}
			cmd, m, _, err := resp.Parse(buf[pos:], args, resp.Limits{})
			if err == resp.ErrIncomplete {
				break
			}
			if err != nil {
				lost(fmt.Errorf("master stream: %w", err))
				return
			}
			pos += m
			ahead = max(ahead-1, 0)
			if len(cmd) == 0 {
				continue // an empty line (a master's keepalive newline)
			}
			getack := len(cmd) >= 2 && strings.EqualFold(string(cmd[0]), "REPLCONF") && strings.EqualFold(string(cmd[1]), "GETACK")
			if !getack && !(len(cmd) == 1 && strings.EqualFold(string(cmd[0]), "PING")) {
				n.h.Apply(cmd, off+int64(pos))
			}
			if getack {
				if !f.record(c, gen, buf[recorded:pos], off+int64(pos), true) {
					return
				}
				recorded = pos
			}
		}
		if pos > recorded && !f.record(c, gen, buf[recorded:pos], off+int64(pos), false) {
			return
		}
		off += int64(pos)
		buf = buf[:copy(buf, buf[pos:])]
		if cap(buf) > 4*streamBuf && len(buf) <= streamBuf {
			buf = append(make([]byte, 0, streamBuf), buf...)
		}
	}
}

// streamBuf is the size of the buffer a replica reads its master's
// stream into (it grows for a longer command).
const streamBuf = 64 << 10

// record appends applied stream bytes to our backlog and moves our
// offset to end, answering a GETACK with it; false when the link is no
// longer the current one.
func (f *follower) record(c net.Conn, gen int, p []byte, end int64, getack bool) bool {
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if !f.current(c, gen) {
		return false
	}
	if n.backlog != nil {
		n.backlog.Append(p)
	}
	f.r.Applied(nowMs(), end)
	if getack {
		f.do(f.r.Ack())
	}
	return true
}

// tick is the replica half of the cron (n.mu held).
func (f *follower) tick(now int64) { f.do(f.r.Tick(now)...) }

// close drops the link (shutdown).
func (f *follower) close() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
	f.gen++
}

// SetMasterAuth applies CONFIG SET masterauth / masteruser to the link
// to our master, if any: its next handshake authenticates with them, as
// Redis reads server.masterauth at every connection.
func (n *Node) SetMasterAuth(auth, user string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if f := n.link; f != nil {
		f.r.SetAuth(auth, user)
	}
}

// ReplicaOf is REPLICAOF host port: follow that master. It returns
// false when we already follow it (Redis replies "+OK Already connected
// to specified master").
func (n *Node) ReplicaOf(host string, port int, auth, user string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.replicaOfLocked(host, port, auth, user, false)
}

func (n *Node) replicaOfLocked(host string, port int, auth, user string, failover bool) bool {
	if l := n.link; l != nil && strings.EqualFold(l.host, host) && l.port == port {
		return false
	}
	cfg := ReplicaConfig{Host: host, Port: port, MasterUser: user, MasterAuth: auth,
		ListeningPort: n.h.ListenPort(), AnnounceIP: n.h.Config("replica-announce-ip"), Timeout: n.timeout(),
		DisklessLoad: n.h.Config("repl-diskless-load") != "disabled", SwapDB: n.h.Config("repl-diskless-load") == "swapdb",
		Failover: failover}
	if p, _ := strconv.Atoi(n.h.Config("replica-announce-port")); p > 0 {
		cfg.ListeningPort = p
	}
	r := NewReplica(cfg, &n.ids)
	if old := n.link; old != nil {
		// Switching masters: our history so far is what we can PSYNC with.
		off := n.offsetLocked()
		old.close()
		f := &follower{n: n, r: r, host: host, port: port}
		n.link = f
		f.do(r.CacheMyself(off)...)
	} else {
		f := &follower{n: n, r: r, host: host, port: port}
		n.link = f
		n.feedTo.Store(nil)
		if n.backlog != nil {
			f.do(r.CacheMyself(n.backlog.Offset())...)
		}
		n.h.RoleChanged(true)
	}
	n.disconnectReplicasLocked()
	n.group = nil
	n.link.tick(nowMs())
	return true
}

// NoOne is REPLICAOF NO ONE: stop following, keep the data and continue
// our master's history as a master (our replicas can PSYNC).
func (n *Node) NoOne() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.noOneLocked()
}

func (n *Node) noOneLocked() {
	f := n.link
	if f == nil {
		return
	}
	off := n.offsetLocked()
	acts := f.r.Stop(off, rand.Reader)
	f.do(acts...)
	f.close()
	n.link = nil
	if n.backlog == nil {
		n.backlog = NewBacklog(n.backlogSize(), off)
	}
	n.backlog.ForceSelect()
	n.feedTo.Store(n.backlog)
	n.propagateLocked()
	n.h.RoleChanged(false)
	n.h.Logf("MASTER MODE enabled")
}

// MasterInfo is the replica part of INFO replication and ROLE.
type MasterInfo struct {
	Host  string
	Port  int
	State State
	Link  LinkInfo
	// DownSince is when the link went down (Unix ms; repl_down_since), 0
	// if it was never up.
	DownSince int64
	// LastHeard is when the master was last heard from (Unix ms), 0 if
	// this link never synced.
	LastHeard int64
}

// Following returns our master link's state; ok false on a master.
func (n *Node) Following() (MasterInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.link
	if f == nil {
		return MasterInfo{}, false
	}
	return MasterInfo{Host: f.host, Port: f.port, State: f.r.State(), Link: f.r.Info(nowMs()), DownSince: f.r.DownSince(),
		LastHeard: f.r.LastInteraction()}, true
}

// BacklogInfo returns the backlog's state; ok false when there is none.
func (n *Node) BacklogInfo() (BacklogInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.backlog == nil {
		return BacklogInfo{}, false
	}
	return n.backlog.Info(), true
}

// MasterLink returns the peer and local addresses of our connection to
// the master while the link is up (Redis's server.master client, which
// exists once the link is connected); ok false otherwise.
func (n *Node) MasterLink() (addr, laddr string, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.link
	if f == nil || f.conn == nil || f.r.State() != StateConnected {
		return "", "", false
	}
	return f.conn.RemoteAddr().String(), f.conn.LocalAddr().String(), true
}

// DropMasterLink closes the connection to our master, as CLIENT KILL
// TYPE master does: the replica reconnects and asks for a partial
// resynchronization. It reports whether there was a connection.
func (n *Node) DropMasterLink() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.link
	if f == nil || f.conn == nil {
		return false
	}
	f.conn.Close() // the reader reports the loss
	return true
}
