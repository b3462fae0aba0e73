package replication

// The master's side of the driver (Redis 7.0 replication.c: syncCommand,
// replconfCommand, startBgsaveForReplication, updateSlavesWaitingBgsave,
// putSlaveOnline, replicationCron's master half, waitCommand): the
// replicas we feed, each on its own goroutine, full resynchronizations
// from one point-in-time snapshot shared by the replicas that ask
// together, and the ACKs that WAIT counts.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/netio"
)

// Replica states as INFO shows them.
const (
	stWaitBgsave = "wait_bgsave"
	stSendBulk   = "send_bulk"
	stOnline     = "online"
)

// served is one replica we feed (a replica client in Redis).
type served struct {
	id       int64
	conn     net.Conn
	name     string // ip:port for log lines
	ip       string
	port     int64
	capa     Capa
	plain    bool // plain SYNC: no ACKs, no +FULLRESYNC
	state    string
	ackOff   int64
	ackTime  int64 // ms
	acked    chan struct{}
	ackOnce  sync.Once
	stop     chan struct{}
	stopOnce sync.Once
	wmu      sync.Mutex // one writer at a time on conn
	// sent is the stream offset handed to conn so far (stream); WaitDurable
	// waits on it.
	sent atomic.Int64
	// streaming is the backlog once the link only carries the stream:
	// from then on a reply waiting for its write may write the stream
	// itself (lead). buf (under wmu) is what a stream write copies into.
	streaming atomic.Pointer[Backlog]
	buf       []byte
}

func (s *served) write(p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.conn.Write(p)
	return err
}

// close ends the link: the sender stops and the connection closes (the
// server's reader then calls ClientGone).
func (s *served) close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.conn.Close()
	})
}

// syncGroup is a full resynchronization being prepared: replicas that
// ask before its snapshot starts share it.
type syncGroup struct {
	members []*served
	started bool
	ready   chan struct{} // closed when enough replicas joined (repl-diskless-sync-max-replicas)
}

// Handshake is what a client said with REPLCONF before SYNC/PSYNC.
type Handshake struct {
	Port int64
	IP   string
	Capa Capa
}

// ReplConf serves REPLCONF for the client id (hs is its handshake state,
// kept by the server on the client). It returns the reply line ("" for
// none).
func (n *Node) ReplConf(id int64, hs *Handshake, args [][]byte) string {
	n.mu.Lock()
	sv := n.replicas[id]
	n.mu.Unlock()
	rc, reply := ParseREPLCONF(args, sv != nil)
	if rc.HasPort {
		hs.Port = rc.Port
	}
	if rc.HasIP {
		hs.IP = rc.IP
	}
	hs.Capa |= rc.Capa
	if rc.Ack && sv != nil {
		n.ack(sv, rc.AckOffset)
	}
	if rc.GetAck {
		n.mu.Lock()
		if n.link != nil {
			n.link.do(n.link.r.Ack())
		}
		n.mu.Unlock()
	}
	return reply
}

// ack records a replica's REPLCONF ACK.
func (n *Node) ack(sv *served, off int64) {
	n.mu.Lock()
	if off > sv.ackOff {
		sv.ackOff = off
	}
	sv.ackTime = time.Now().UnixMilli()
	if sv.state == stSendBulk {
		sv.state = stOnline // diskless: online at its first ACK (repl_start_cmd_stream_on_ack)
		n.refreshOnlineLocked()
		n.h.Logf("Synchronization with replica %s succeeded", sv.name)
	}
	n.wakeWaitersLocked()
	n.mu.Unlock()
	sv.ackOnce.Do(func() { close(sv.acked) })
}

// SyncRequest is a SYNC or PSYNC taken over from a client connection.
type SyncRequest struct {
	ID     int64    // the client
	Conn   net.Conn // its connection: replication writes to it from now on
	PeerIP string
	HS     Handshake
	PSYNC  [][]byte // PSYNC's arguments; nil for SYNC
}

// Sync serves SYNC/PSYNC (syncCommand). It returns an error reply when it
// refuses (the connection stays the client's); otherwise "" and the
// connection is replication's for writing: the server must send nothing
// more on it, keep reading it (REPLCONF ACK) and call ClientGone when it
// closes.
func (n *Node) Sync(req SyncRequest) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(req.PSYNC) >= 3 && strings.EqualFold(string(req.PSYNC[2]), "failover") {
		// Our master hands over to us (its FAILOVER): we take its place.
		if !strings.EqualFold(string(req.PSYNC[0]), n.ids.ID) {
			return "-ERR PSYNC FAILOVER replid must match my replid."
		}
		n.h.Logf("Failover request received for replid %s.", req.PSYNC[0])
		n.noOneLocked()
	}
	if n.fo != nil {
		return ReplyFailingOver
	}
	if n.link != nil {
		if _, ok := n.link.r.Master(); !ok {
			return ReplyNoMasterLink
		}
	}
	sv := &served{id: req.ID, conn: req.Conn, ip: req.HS.IP, port: req.HS.Port, capa: req.HS.Capa,
		plain: req.PSYNC == nil, acked: make(chan struct{}), stop: make(chan struct{}), ackTime: time.Now().UnixMilli()}
	if sv.ip == "" {
		sv.ip = req.PeerIP
	}
	sv.name = ReplicaName(req.PeerIP, req.HS.IP, req.HS.Port)
	if sv.plain {
		n.h.Logf("Replica %s asks for synchronization", sv.name)
	} else {
		p, reply, logLine := ParsePSYNC(req.PSYNC, sv.name)
		if reply != "" {
			if logLine != "" {
				n.h.Logf("%s", logLine)
			}
			return reply
		}
		n.h.Logf("Replica %s asks for synchronization", sv.name)
		p.Capa = sv.capa
		var bl BacklogInfo
		if n.backlog != nil {
			bl = n.backlog.Info()
		}
		d := Decide(n.ids, bl, n.backlog != nil, p)
		for _, l := range d.Log {
			n.h.Logf("%s", l)
		}
		if d.PartialErr {
			n.partialErr.Add(1)
		}
		if d.Continue {
			n.partialOK.Add(1)
			sv.state, sv.ackOff = stOnline, d.From
			n.replicas[sv.id] = sv
			n.refreshOnlineLocked()
			if err := sv.write([]byte(d.Reply)); err != nil {
				sv.close()
				return ""
			}
			b := n.backlog
			n.h.Go(func() { n.stream(sv, b, d.From) })
			return ""
		}
	}
	n.fullSyncs.Add(1)
	n.ensureBacklog()
	sv.state = stWaitBgsave
	n.replicas[sv.id] = sv
	n.refreshOnlineLocked()
	n.joinFullSync(sv)
	return ""
}

// joinFullSync adds sv to the full resynchronization being prepared, or
// starts one (mu held).
func (n *Node) joinFullSync(sv *served) {
	if g := n.group; g != nil && !g.started {
		g.members = append(g.members, sv)
		if max, _ := strconv.Atoi(n.h.Config("repl-diskless-sync-max-replicas")); max > 0 && len(g.members) >= max {
			close(g.ready)
		}
		return
	}
	g := &syncGroup{members: []*served{sv}, ready: make(chan struct{})}
	n.group = g
	delay := time.Duration(0)
	if n.h.Config("repl-diskless-sync") == "yes" && sv.capa&CapaEOF != 0 {
		d, _ := strconv.Atoi(n.h.Config("repl-diskless-sync-delay"))
		delay = time.Duration(d) * time.Second
		if max, _ := strconv.Atoi(n.h.Config("repl-diskless-sync-max-replicas")); max == 1 {
			delay = 0
		}
	}
	n.h.Go(func() {
		if delay > 0 {
			n.h.Logf("Delay next BGSAVE for diskless SYNC")
			select {
			case <-time.After(delay):
			case <-g.ready:
			case <-n.h.Done():
				return
			}
		}
		n.fullSync(g)
	})
}

// fullSync takes one snapshot for the group's replicas and sends it to
// each, then their streams (startBgsaveForReplication).
func (n *Node) fullSync(g *syncGroup) {
	n.mu.Lock()
	g.started = true
	if n.group == g {
		n.group = nil
	}
	members := g.members
	b := n.backlog
	diskless := n.h.Config("repl-diskless-sync") == "yes"
	n.mu.Unlock()

	var off int64
	tails := make([]*tail, len(members))
	write, err := n.h.Snapshot(func() {
		off = b.MarkFullSync()
		for i := range members {
			tails[i] = newTail(b, off)
		}
	})
	if err != nil {
		n.h.Logf("# Can't BGSAVE for replication: %v", err)
		for _, sv := range members {
			sv.close()
		}
		return
	}
	n.mu.Lock()
	replid := n.ids.ID
	n.mu.Unlock()
	target := "disk"
	if diskless {
		target = "replicas sockets"
	}
	n.h.Logf("Starting BGSAVE for SYNC with target: %s", target)
	for _, sv := range members {
		if !sv.plain {
			sv.write([]byte(FullResyncReply(replid, off)))
		}
	}
	limit := outputLimit(n.h.Config("client-output-buffer-limit"))
	for _, t := range tails {
		n.h.Go(func() { t.run(limit) })
	}
	streamed := diskless
	for _, sv := range members {
		streamed = streamed && sv.capa&CapaEOF != 0 && !sv.plain
	}
	if streamed {
		n.streamImage(members, tails, b, write)
		return
	}
	// The image is encoded once into memory for every member ($<len>
	// framing needs its length first). A replica whose connection fails
	// meanwhile is dropped alone.
	var img bytes.Buffer
	start := time.Now()
	err = write(&img)
	for i, t := range tails {
		if err != nil {
			t.stop()
			members[i].close()
		}
	}
	if err != nil {
		n.h.Logf("# Background transfer error: %v", err)
		return
	}
	n.h.Logf("Background RDB transfer terminated with success (%d bytes in %.3f seconds)", img.Len(), time.Since(start).Seconds())
	for i, sv := range members {
		t := tails[i]
		n.h.Go(func() { n.sendPayload(sv, b, t, img.Bytes(), diskless && sv.capa&CapaEOF != 0) })
	}
}

// streamImage sends the snapshot to every member as it is encoded, framed
// $EOF:<mark> (rdbSaveToSlavesSockets): no copy of the image is kept and
// the replicas load while the master encodes. A member whose connection
// fails is dropped; the others go on.
func (n *Node) streamImage(members []*served, tails []*tail, b *Backlog, write func(io.Writer) error) {
	mark := NewID(rand.Reader)
	fw := &fanout{members: members, failed: make([]bool, len(members))}
	for i := range members {
		n.setState(members[i], stSendBulk)
	}
	fw.Write([]byte("$EOF:" + mark + "\r\n"))
	bw := bufio.NewWriterSize(fw, 256<<10)
	start := time.Now()
	err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		fw.Write([]byte(mark))
	}
	if err != nil {
		n.h.Logf("# Background transfer error: %v", err)
	}
	sent := 0
	for i, sv := range members {
		if err != nil || fw.failed[i] {
			tails[i].stop()
			sv.close()
			continue
		}
		sent++
		t := tails[i]
		n.h.Go(func() { n.afterPayload(sv, b, t, true) })
	}
	if err == nil {
		n.h.Logf("Background RDB transfer terminated with success (%d bytes in %.3f seconds, %d replicas)",
			fw.n, time.Since(start).Seconds(), sent)
	}
}

// fanout writes to every member still alive; Write fails only when none
// is left.
type fanout struct {
	members []*served
	failed  []bool
	n       int64
}

func (f *fanout) Write(p []byte) (int, error) {
	alive := 0
	for i, sv := range f.members {
		if f.failed[i] {
			continue
		}
		if err := sv.write(p); err != nil {
			f.failed[i] = true
			continue
		}
		alive++
	}
	if alive == 0 {
		return 0, errNoReplicaLeft
	}
	f.n += int64(len(p))
	return len(p), nil
}

var errNoReplicaLeft = errors.New("every replica of the transfer is gone")

// sendPayload sends the snapshot image framed as the replica reads it,
// then the stream that piled up meanwhile, then the live stream.
func (n *Node) sendPayload(sv *served, b *Backlog, t *tail, img []byte, eof bool) {
	n.setState(sv, stSendBulk)
	var head []byte
	mark := ""
	if eof {
		mark = NewID(rand.Reader)
		head = []byte("$EOF:" + mark + "\r\n")
	} else {
		head = []byte("$" + strconv.Itoa(len(img)) + "\r\n")
	}
	err := sv.write(head)
	for p := img; err == nil && len(p) > 0; {
		k := min(len(p), 1<<20)
		err = sv.write(p[:k])
		p = p[k:]
	}
	if err == nil && eof {
		err = sv.write([]byte(mark))
	}
	if err != nil {
		t.stop()
		n.h.Logf("# Failed sending the snapshot to replica %s: %v", sv.name, err)
		sv.close()
		return
	}
	n.afterPayload(sv, b, t, eof)
}

// afterPayload brings a replica whose snapshot was sent online: after
// an EOF-framed image it waits for the replica's first ACK (it looks for
// the mark at the end of its reads), then it sends the stream kept
// meanwhile and the live stream.
func (n *Node) afterPayload(sv *served, b *Backlog, t *tail, eof bool) {
	if eof && !sv.plain {
		// The replica looks for the mark at the end of a read: stream
		// only after its first ACK.
		timeout := n.timeout()
		select {
		case <-sv.acked:
		case <-sv.stop:
			t.stop()
			return
		case <-time.After(time.Duration(timeout) * time.Millisecond):
			t.stop()
			n.h.Logf("# Disconnecting timedout replica (full sync): %s", sv.name)
			sv.close()
			return
		}
	} else {
		n.mu.Lock()
		sv.state = stOnline
		sv.ackTime = time.Now().UnixMilli()
		n.refreshOnlineLocked()
		n.mu.Unlock()
		n.h.Logf("Synchronization with replica %s succeeded", sv.name)
	}
	next, err := t.drain(sv)
	if err != nil {
		n.h.Logf("# Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", sv.name)
		sv.close()
		return
	}
	n.stream(sv, b, next)
}

func (n *Node) setState(sv *served, st string) {
	n.mu.Lock()
	sv.state = st
	n.refreshOnlineLocked()
	n.mu.Unlock()
}

func (n *Node) timeout() int64 {
	v, _ := strconv.ParseInt(n.h.Config("repl-timeout"), 10, 64)
	return v * 1000
}

// stream feeds the replica the stream after from until the link ends.
//
// Replies wait until their writes were handed to the replicas' sockets
// (WaitDurable), and the first of them to find the link idle writes
// everything the backlog holds for it (lead): the writes of the clients
// that ran meanwhile leave together, as Redis writes a replica's buffer
// once per event-loop turn, instead of one socket write per command. This
// goroutine writes what no reply waits for (expired keys' DELs, writes of
// clients that went away), after streamDelay, and whatever a lead left
// when the socket was full.
func (n *Node) stream(sv *served, b *Backlog, from int64) {
	sv.wmu.Lock()
	sv.sent.Store(from)
	sv.buf = make([]byte, sendBuf)
	sv.wmu.Unlock()
	sv.streaming.Store(b)
	t := time.NewTimer(streamDelay)
	t.Stop()
	for {
		sv.wmu.Lock()
		k, err := sv.pumpLocked(b, false)
		sv.wmu.Unlock()
		if k > 0 {
			n.wakeSent()
		}
		if err != nil {
			if errors.Is(err, ErrTrimmed) {
				n.h.Logf("# Replica %s fell behind the replication backlog: disconnecting it", sv.name)
			}
			sv.close()
			return
		}
		if k > 0 {
			continue
		}
		select {
		case <-b.Wait(sv.sent.Load()):
		case <-sv.stop:
			return
		}
		// Leave the new bytes to the replies that wait for them.
		t.Reset(streamDelay)
		select {
		case <-t.C:
		case <-sv.stop:
			t.Stop()
			return
		}
	}
}

// streamDelay is how long the stream's goroutine leaves new bytes to the
// replies waiting for them before it writes them itself.
const streamDelay = time.Millisecond

// pumpLocked writes the next part of the stream after sv.sent (sv.wmu
// held) and returns how many bytes left. With try it writes only what the
// socket takes without waiting.
func (sv *served) pumpLocked(b *Backlog, try bool) (int, error) {
	from := sv.sent.Load()
	k, next, err := b.ReadFrom(from, sv.buf)
	if err != nil || k == 0 {
		return 0, err
	}
	if try {
		tw, ok := sv.conn.(netio.TryWriter)
		if !ok {
			return 0, nil
		}
		w, err := tw.TryWrite(sv.buf[:k])
		sv.sent.Add(int64(w))
		return w, err
	}
	if _, err := sv.conn.Write(sv.buf[:k]); err != nil {
		return 0, err
	}
	sv.sent.Store(next)
	return k, nil
}

// lead writes sv's stream up to seq on behalf of a waiting reply, unless
// another writer holds the link or the socket is full. It reports
// whether sv has everything up to seq.
func (n *Node) lead(sv *served, seq int64) bool {
	b := sv.streaming.Load()
	if b == nil || !sv.wmu.TryLock() {
		return false
	}
	wrote := false
	for sv.sent.Load() < seq {
		k, err := sv.pumpLocked(b, true)
		if k > 0 {
			wrote = true
		}
		if err != nil {
			sv.wmu.Unlock()
			sv.close() // the stream's goroutine sees it and ends
			return false
		}
		if k == 0 {
			break
		}
	}
	done := sv.sent.Load() >= seq
	sv.wmu.Unlock()
	if wrote {
		n.wakeSent()
	}
	return done
}

// ClientGone is called when a client's connection closed: a replica's
// link ends.
func (n *Node) ClientGone(id int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sv := n.replicas[id]
	if sv == nil {
		return
	}
	delete(n.replicas, id)
	n.refreshOnlineLocked()
	sv.close()
	n.h.Logf("Connection with replica %s lost.", sv.name)
	if len(n.replicas) == 0 {
		n.lastFree = time.Now().UnixMilli()
	}
	n.wakeWaitersLocked()
}

// disconnectReplicasLocked closes every replica link (they resync with
// our new history).
func (n *Node) disconnectReplicasLocked() {
	for _, sv := range n.replicas {
		sv.close()
	}
}

// primaryCron is replicationCron's master half (mu held).
func (n *Node) primaryCron(now int64) {
	timeout := n.timeout()
	for _, sv := range n.replicas {
		switch sv.state {
		case stWaitBgsave:
			go sv.write([]byte("\n")) // a newline keeps a waiting replica from timing out
		case stOnline:
			if !sv.plain && now-sv.ackTime > timeout {
				n.h.Logf("# Disconnecting timedout replica (streaming sync): %s", sv.name)
				sv.close()
			}
		}
	}
	if n.link == nil && n.backlog != nil && len(n.replicas) > 0 {
		period, _ := strconv.ParseInt(n.h.Config("repl-ping-replica-period"), 10, 64)
		if period > 0 && (now/1000)%period == 0 {
			n.backlog.FeedPing()
		}
	}
	if n.link == nil && n.backlog != nil && len(n.replicas) == 0 && n.lastFree != 0 {
		ttl, _ := strconv.ParseInt(n.h.Config("repl-backlog-ttl"), 10, 64)
		if ttl > 0 && now-n.lastFree > ttl*1000 {
			n.feedTo.Store(nil)
			n.backlog.Close()
			n.backlog = nil
			n.ids.Change(rand.Reader)
			n.ids.ClearID2()
			n.h.Logf("Replication backlog freed after %d seconds without connected replicas.", ttl)
		}
	}
}

// outputLimit is the hard limit of client-output-buffer-limit's replica
// class: how far the stream may pile up during a full sync.
func outputLimit(v string) int64 {
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		if c := strings.ToLower(f[i]); c == "slave" || c == "replica" {
			if n, err := strconv.ParseInt(f[i+1], 10, 64); err == nil {
				return n
			}
		}
	}
	return 256 << 20
}

// ReplicaInfo is one slaveN line of INFO replication.
type ReplicaInfo struct {
	IP     string
	Port   int64
	State  string
	Offset int64
	Lag    int64 // seconds since the last ACK
}

// Replicas lists the replicas we feed, in the order they connected.
func (n *Node) Replicas() []ReplicaInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now().UnixMilli()
	var out []ReplicaInfo
	var ids []int64
	for id := range n.replicas {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		sv := n.replicas[id]
		out = append(out, ReplicaInfo{IP: sv.ip, Port: sv.port, State: sv.state, Offset: sv.ackOff, Lag: (now - sv.ackTime) / 1000})
	}
	return out
}

// ResetStats zeroes sync_full, sync_partial_ok and sync_partial_err
// (CONFIG RESETSTAT).
func (n *Node) ResetStats() {
	n.fullSyncs.Store(0)
	n.partialOK.Store(0)
	n.partialErr.Store(0)
}

// Stats are sync_full, sync_partial_ok and sync_partial_err.
func (n *Node) Stats() (full, partialOK, partialErr int64) {
	return n.fullSyncs.Load(), n.partialOK.Load(), n.partialErr.Load()
}

// errOverflow: the stream piled up past the output buffer limit.
var errOverflow = fmt.Errorf("replica output buffer limit reached")

// tail keeps the stream that arrives during a full sync, from the
// snapshot's offset on, until the replica can take it (Redis keeps it in
// the replica's output buffer, bounded by client-output-buffer-limit).
type tail struct {
	b     *Backlog
	mu    sync.Mutex
	buf   []byte
	next  int64 // offset of the last byte kept
	err   error
	quit  chan struct{}
	done  chan struct{}
	qOnce sync.Once
}

func newTail(b *Backlog, from int64) *tail {
	return &tail{b: b, next: from, quit: make(chan struct{}), done: make(chan struct{})}
}

// run copies the backlog into buf until stopped or over limit.
func (t *tail) run(limit int64) {
	defer close(t.done)
	chunk := make([]byte, 64<<10)
	for {
		t.mu.Lock()
		from := t.next
		t.mu.Unlock()
		k, next, err := t.b.ReadFrom(from, chunk)
		if err != nil {
			t.mu.Lock()
			t.err = err
			t.mu.Unlock()
			return
		}
		if k == 0 {
			select {
			case <-t.b.Wait(from):
				continue
			case <-t.quit:
				return
			}
		}
		t.mu.Lock()
		t.buf = append(t.buf, chunk[:k]...)
		t.next = next
		over := int64(len(t.buf)) > limit && limit > 0
		if over {
			t.err = errOverflow
		}
		t.mu.Unlock()
		if over {
			return
		}
	}
}

func (t *tail) stop() {
	t.qOnce.Do(func() { close(t.quit) })
	<-t.done
}

// drain writes what the tail kept to sv and stops it: the live stream
// continues after the returned offset.
func (t *tail) drain(sv *served) (int64, error) {
	for {
		t.mu.Lock()
		buf, err := t.buf, t.err
		t.buf = nil
		t.mu.Unlock()
		if err != nil {
			t.stop()
			return 0, err
		}
		if len(buf) == 0 {
			break
		}
		if err := sv.write(buf); err != nil {
			t.stop()
			return 0, err
		}
	}
	t.stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return 0, t.err
	}
	if len(t.buf) > 0 {
		if err := sv.write(t.buf); err != nil {
			return 0, err
		}
		t.buf = nil
	}
	return t.next, nil
}
