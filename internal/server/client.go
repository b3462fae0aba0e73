package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/acl"
	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/netio"
	"redgo/internal/obuf"
	"redgo/internal/replication"
	"redgo/internal/resp"
	"redgo/internal/tracking"
)

// Client is one connection's state. The connection's goroutine owns every
// field not marked otherwise.
type Client struct {
	srv  *Server
	conn net.Conn
	id   int64

	w    resp.Writer // replies of the running batch (conn goroutine only)
	qbuf []byte      // query buffer
	qr   int         // read position in qbuf
	args [][]byte
	ctx  commands.Ctx
	// propOne is the one-command list a write is fed to the propagators
	// as (propagateCmd).
	propOne [1][][]byte
	// prefetched: commands ahead in qbuf whose keys were read ahead
	// (prefetch); pfKeys is its scratch.
	prefetched int
	pfKeys     [][]byte
	db         int
	proto      atomic.Int32

	authed    bool
	user      atomic.Pointer[acl.User] // nil: an internal client that may run anything
	aclReq    acl.Request              // reused by dispatch's ACL check (acl_check.go)
	multi     *multiState
	luaClient *Client // the pseudo-client its scripts' commands run as (cmd_script.go)
	luaDebug  uint8   // SCRIPT DEBUG: 0 no, debugYes or debugSync (cmd_script.go)
	// errCounted: the script that just ran replies an error already counted
	// in the error statistics (cmd_script.go); Finished does not count it.
	errCounted bool
	watch      watchState

	// mu guards out, name, lastCmd and flag updates read by other goroutines.
	mu       sync.Mutex
	out      []byte // replies and pushes waiting to be written (pub/sub, monitor)
	wmu      sync.Mutex
	pushSig  chan struct{} // wakes the pusher goroutine
	pusherOn bool
	name     string
	libName  string
	libVer   string
	lastCmd  string

	subs     map[string]struct{} // channels (pubsub.mu guards writes)
	psubs    map[string]struct{}
	ssubs    map[string]struct{}
	nsubs    atomic.Int32
	monitor  atomic.Bool
	killed   atomic.Bool
	closeErr atomic.Bool
	blocked  atomic.Pointer[blockState]

	retryDeadline int64         // deadline kept when a blocked command is retried
	blockedDur    time.Duration // the first run of the command now blocked (blockFinished)
	inExec        bool          // EXEC is running the queued commands
	oomAtStart    bool          // used memory was past maxmemory when the command started (maxmemory.go)
	pausedRetry   bool          // Admit found writes paused: call runs the command again after the pause

	// What the connection's buffers hold, counted in used_memory as they
	// change (maxmemory.go): the query buffer's size, the shared output
	// and a big batch of replies while it is written. memGone (under mu)
	// stops the counting once the client is gone.
	qbufCap atomic.Int64
	memHeld atomic.Int64
	memGone bool

	// The query buffer's resizing (querybuf.go): the most input pending
	// since peakTick (the cron period it started in), and the cron's
	// request that an idle connection give its buffer back.
	qbufPeak    int
	peakTick    int64
	idleRelease atomic.Bool

	// Output limits (outputlimit.go), under mu: the soft limit's clock and
	// what the pusher is writing now.
	obuf     obuf.Tracker
	inflight int
	inRead   atomic.Bool // the goroutine waits in the serve loop's read

	// The serve loop (serve): inLoop while it reads inside
	// netio.ReadLoop, leaveLoop when a command must run outside it
	// (readsElsewhere), closing when the connection is done (linger: with
	// a lingering close).
	inLoop, leaveLoop, closing, linger bool

	// Durability of the batch's writes (propagate.go).
	durable             []int64 // per propagator: sequence of the last write
	spare               []byte  // the other reply buffer while one is handed over (flush; c.wmu)
	execProps           [][][]byte
	execDB              int
	execReady           []keyspace.KeyRef // keys EXEC wrote that clients wait on: served after it (multi.go)
	batchWrote          bool
	batchWriteStart     int  // offset in w.Buf of the first write's reply
	replyStart          int  // offset in w.Buf where the running command's reply starts
	batchCmdsSinceWrite int  // replies from that offset on
	batchCmds           int  // commands (replies) since the last flush
	batchRead           bool // one of them read the keyspace (may show others' writes)

	replyMode int // 0 on, 1 off, 2 skip next
	noEvict   bool
	noTouch   bool

	createdAt       time.Time
	lastInteraction atomic.Int64 // unix seconds
	addr, laddr     string

	// replicaLink: the connection is a replica's, fed by replication
	// after SYNC/PSYNC; replies to what it sends (REPLCONF ACK) are
	// dropped. replHS is what it said with REPLCONF before.
	replicaLink atomic.Bool
	replHS      replication.Handshake

	snap    clientSnap    // state published for CLIENT LIST (cmd_client.go)
	cl      clusterClient // READONLY, ASKING (cluster.go)
	flushes int           // flush count: lets CLIENT REPLY tell what was already sent

	tracking     atomic.Bool        // CLIENT TRACKING ON (the state is in Server.track)
	trackPending []byte             // own invalidations, sent after the reply (tracking.go)
	bcastPending []tracking.Message // BCAST invalidations of the running command, sent at its end
	inCall       bool               // a command of this connection runs (call): trackEnd follows
	prefixMem    int64              // what its BCAST prefixes cost, in its memory (setPrefixMem)
	script       bool               // a script's own client (MONITOR shows it as "lua")
}

func newClient(s *Server, conn net.Conn) *Client {
	c := &Client{srv: s, conn: netio.Wrap(conn), id: s.nextID.Add(1), createdAt: time.Now()}
	c.proto.Store(2)
	c.w.Proto = 2
	c.qbuf = make([]byte, 0, qbufReadLen)
	c.qbufResized()
	c.lastInteraction.Store(time.Now().Unix())
	c.addr = conn.RemoteAddr().String()
	c.laddr = conn.LocalAddr().String()
	if _, ok := conn.(*net.UnixConn); ok {
		c.addr, c.laddr = unixPeer, unixPeer
	}
	s.newClientAuth(c)
	return c
}

func (c *Client) isIdleExempt() bool {
	return c.blocked.Load() != nil || c.nsubs.Load() > 0 || c.monitor.Load() || c.replicaLink.Load()
}

// kill closes the connection from any goroutine; the read loop ends.
func (c *Client) kill() {
	if c.killed.CompareAndSwap(false, true) {
		c.conn.Close()
		if st := c.blocked.Load(); st != nil {
			st.cancel(wakeKilled)
		}
	}
}

// serve is the connection's read-execute-flush loop: every complete
// command in the buffer runs, then the replies go out in one write.
func (c *Client) serve() {
	defer c.cleanup()
	for {
		c.inLoop = false
		if !c.turn() {
			c.finish()
			return
		}
		// Read, run and reply inside one wait on the poller (netio.ReadLoop)
		// until a command must read the connection from elsewhere
		// (readsElsewhere), which then runs out here.
		c.inLoop = true
		c.inRead.Store(true)
		err := netio.ReadLoop(c.conn, c.readSpace, func(n int) bool {
			c.inRead.Store(false)
			c.gotInput(n)
			if !c.turn() || c.leaveLoop {
				return false
			}
			c.inRead.Store(true)
			return true
		})
		c.inRead.Store(false)
		switch {
		case c.closing:
			c.finish()
			return
		case c.leaveLoop:
			c.leaveLoop = false
		case err != nil && !c.idleReleased(err):
			return
		}
	}
}

// turn runs the commands in the query buffer and writes their replies.
// It returns false when the connection is done (c.closing; then finish).
func (c *Client) turn() bool {
	if !c.processBuffer() {
		// Gone for the other clients before its last reply leaves
		// (QUIT, a protocol error): a CLIENT TRACKING REDIRECT to it is
		// broken from now on, not after the lingering close, as Redis
		// frees the client right after writing that reply.
		c.closing, c.linger = true, true
		c.srv.removeClient(c)
		c.flush()
		return false
	}
	if !c.flush() {
		c.closing = true
		return false
	}
	return true
}

// finish ends a connection that turn found done: a lingering close after
// a final reply (it reads the connection, so it runs outside the read
// loop).
func (c *Client) finish() {
	if c.linger {
		c.lingerClose()
	}
}

// readsElsewhere reports whether running cmd may read the connection
// other than through the serve loop's read: a blocking command that
// blocks watches for a disconnect with a read of its own, and the script
// debugger talks to the client. Inside netio.ReadLoop such a read would
// wait for the loop's own, so the loop is left first.
func (c *Client) readsElsewhere(cmd *commands.Command) bool {
	return cmd.Has(commands.FBlocking) && c.multi == nil || c.luaDebug != 0
}

// processBuffer runs every complete command in the query buffer. It
// returns false when the connection must close.
func (c *Client) processBuffer() bool {
	s := c.srv
	for c.qr < len(c.qbuf) {
		args, n, need, err := resp.Parse(c.qbuf[c.qr:], c.args, resp.Limits{MaxBulkLen: s.maxBulk.Load(), Unauthenticated: !c.authed && s.authRequired()})
		if err == resp.ErrIncomplete {
			if need > 0 && c.qr+need > cap(c.qbuf) {
				c.grow(need)
			}
			if int64(len(c.qbuf)-c.qr) > s.maxQuery.Load() {
				c.w.Error("ERR Protocol error: query buffer limit exceeded")
				s.Log.Printf("Closing client that reached max query buffer length: id=%d addr=%s", c.id, c.addr)
				return false
			}
			return true
		}
		if err != nil {
			c.w.Error("ERR " + err.Error())
			s.Log.Printf("Protocol error (%s) from client: id=%d addr=%s", err.Error(), c.id, c.addr)
			return false
		}
		if c.prefetched == 0 && c.qr+n < len(c.qbuf) {
			// More than this command came (a pipeline): read ahead the
			// keys of the commands from this one on. A lone request, the
			// common case without a pipeline, does not pay for the look.
			c.prefetch()
		}
		c.args = args
		c.qr += n
		if len(args) == 0 {
			continue
		}
		c.execute(args)
		if c.prefetched > 0 {
			c.prefetched--
		}
		if c.leaveLoop {
			c.qr -= n // it runs again outside the loop
			return true
		}
		c.batchCmds++
		if c.batchWrote {
			c.batchCmdsSinceWrite++
		}
		c.publishSnap()
		if c.killed.Load() || c.closeErr.Load() {
			return false
		}
	}
	c.resizeQbuf() // all consumed
	return true
}

// lingerClose half-closes the connection after a final reply (protocol
// error, QUIT) and drains input briefly, so the peer reads the reply
// instead of a reset caused by unread input.
func (c *Client) lingerClose() {
	tc, ok := netio.Unwrap(c.conn).(*net.TCPConn)
	if !ok || c.killed.Load() {
		return
	}
	tc.CloseWrite()
	tc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var buf [4096]byte
	for total := 0; total < 1<<20; {
		n, err := tc.Read(buf[:])
		total += n
		if err != nil {
			return
		}
	}
}

// grow makes room for a request of need bytes from the read position.
func (c *Client) grow(need int) {
	size := cap(c.qbuf) * 2
	for size < need {
		size *= 2
	}
	nb := make([]byte, len(c.qbuf)-c.qr, size)
	copy(nb, c.qbuf[c.qr:])
	c.qbuf, c.qr = nb, 0
	c.qbufResized()
}

// readSpace returns the query buffer's free room for the next read,
// making some when it is full.
func (c *Client) readSpace() []byte {
	if c.qr > 0 && c.qr == len(c.qbuf) {
		c.qbuf, c.qr = c.qbuf[:0], 0
	}
	if len(c.qbuf) == cap(c.qbuf) {
		if c.qr > 0 {
			n := copy(c.qbuf, c.qbuf[c.qr:])
			c.qbuf, c.qr = c.qbuf[:n], 0
		} else {
			c.grow(cap(c.qbuf) + 1)
		}
	}
	return c.qbuf[len(c.qbuf):cap(c.qbuf)]
}

// gotInput adds n bytes read into readSpace's room to the query buffer.
func (c *Client) gotInput(n int) {
	c.qbuf = c.qbuf[:len(c.qbuf)+n]
	c.notePeak()
	c.srv.stats.NetIn.Add(int64(n))
	c.srv.stats.IOReadsProcessed.Add(1)
	if now := c.srv.clockSec.Load(); c.lastInteraction.Load() != now {
		c.lastInteraction.Store(now)
	}
}

// flush writes the batch's replies (after anything queued by pushes),
// once the batch's writes are durable.
//
// When the batch's writes still have to leave for the replicas, the
// replies are handed to replication's writer (Deferrer.Defer), which
// writes them right after the stream that holds those writes: the
// goroutine goes back to reading meanwhile, and one stream write serves
// the replies of the clients handed over in the same moment, as Redis
// writes a replica's buffer once per event-loop turn. c.wmu stays locked
// until the handed-over replies are written, so the next flush and the
// pusher come after them.
func (c *Client) flush() bool {
	d, seq := c.waitDurable()
	c.wmu.Lock()
	if c.replicaLink.Load() {
		// Replication writes to a replica's connection; nothing else may.
		c.mu.Lock()
		c.setOutLocked(nil)
		c.mu.Unlock()
		c.w.Buf = c.w.Buf[:0]
		c.wmu.Unlock()
		return true
	}
	c.mu.Lock()
	var buf []byte
	own := false // buf is c.w.Buf itself
	if len(c.out) > 0 {
		buf = append(c.out, c.w.Buf...)
		c.setOutLocked(nil)
	} else {
		buf, own = c.w.Buf, true
	}
	over := len(buf) > 0 && c.outputOverLocked(int64(len(buf)))
	c.mu.Unlock()
	if len(buf) == 0 {
		c.wmu.Unlock()
		return true
	}
	if over {
		c.w.Buf = c.w.Buf[:0]
		c.wmu.Unlock()
		c.closeForOutput()
		return false
	}
	c.flushes++
	if d != nil {
		if own {
			c.w.Buf, c.spare = c.spare[:0], nil
		} else {
			c.w.Buf = c.w.Buf[:0]
		}
		if d.Defer(seq, c.id, func() { c.handedWrite(buf, own) }) {
			return true
		}
		if own {
			c.spare, c.w.Buf = c.w.Buf, buf[:0]
		}
		d.(Propagator).WaitDurable(seq)
	}
	err := c.writeReplies(buf)
	if cap(c.w.Buf) > 1<<20 {
		c.w.Buf = nil
	} else {
		c.w.Buf = c.w.Buf[:0]
	}
	c.wmu.Unlock()
	return err == nil
}

// writeReplies writes a batch's replies (c.wmu held).
func (c *Client) writeReplies(buf []byte) error {
	big := int64(0) // only a big batch is worth counting while it is written
	if len(buf) > 64<<10 {
		big = int64(cap(buf))
		c.addMem(big)
	}
	_, err := c.conn.Write(buf)
	c.addMem(-big)
	c.wroteReplies(buf)
	return err
}

// wroteReplies is what follows a batch's replies on the wire: a CLUSTER
// command's bus messages, and the output statistics.
func (c *Client) wroteReplies(buf []byte) {
	if cm := c.srv.cluster; cm != nil {
		cm.sendDeferred() // a CLUSTER command's messages, after its reply
	}
	c.srv.stats.NetOut.Add(int64(len(buf)))
	c.srv.stats.IOWritesProcessed.Add(1)
}

// handedWrite writes replies handed over to replication's writer (flush)
// and releases c.wmu. What a full socket does not take at once is written
// by a goroutine of its own, so that a client that does not read holds
// up no other client's replies.
func (c *Client) handedWrite(buf []byte, own bool) {
	tw, ok := c.conn.(netio.TryWriter)
	if !ok || len(buf) > 64<<10 {
		go func() { c.handedDone(buf, own, c.writeReplies(buf)) }()
		return
	}
	n, err := tw.TryWrite(buf)
	if err != nil || n == len(buf) {
		c.wroteReplies(buf)
		c.handedDone(buf, own, err)
		return
	}
	go func() {
		_, err := c.conn.Write(buf[n:])
		c.wroteReplies(buf)
		c.handedDone(buf, own, err)
	}()
}

// handedDone ends a handed-over write: the buffer becomes the spare one
// again and c.wmu is released.
func (c *Client) handedDone(buf []byte, own bool, err error) {
	if err != nil {
		c.kill()
	}
	if own && cap(buf) <= 1<<20 {
		c.spare = buf[:0]
	}
	c.wmu.Unlock()
}

// mergeOut moves the batch's pending replies into the shared output so
// that pushes appended later by other goroutines come after them.
// Callers hold c.mu.
func (c *Client) mergeOutLocked() {
	if len(c.w.Buf) > 0 {
		c.setOutLocked(append(c.out, c.w.Buf...))
		c.w.Buf = c.w.Buf[:0]
	}
}

// push appends an out-of-band message (pub/sub, monitor) from any
// goroutine and schedules its write.
func (c *Client) push(msg []byte) {
	c.mu.Lock()
	if c.killed.Load() {
		c.mu.Unlock()
		return
	}
	c.setOutLocked(append(c.out, msg...))
	over := c.outputOverLocked(int64(len(c.out) + c.inflight))
	if !c.pusherOn {
		c.pusherOn = true
		c.pushSig = make(chan struct{}, 1)
		c.srv.goTracked(c.pusher)
	}
	sig := c.pushSig
	c.mu.Unlock()
	if over {
		c.closeForOutput()
		return
	}
	select {
	case sig <- struct{}{}:
	default:
	}
}

// pusher writes pushed messages while the connection goroutine may be
// waiting for input.
func (c *Client) pusher() {
	for {
		select {
		case <-c.pushSig:
		case <-c.srv.quit:
			return
		}
		if c.killed.Load() {
			return
		}
		c.wmu.Lock()
		c.mu.Lock()
		buf := c.out
		c.setOutLocked(nil)
		c.inflight = len(buf) // still unsent output for the limits and CLIENT LIST
		c.mu.Unlock()
		if len(buf) > 0 {
			_, err := c.conn.Write(buf)
			c.mu.Lock()
			c.inflight = 0
			c.mu.Unlock()
			if err != nil {
				c.wmu.Unlock()
				c.kill()
				return
			}
			c.srv.stats.NetOut.Add(int64(len(buf)))
		}
		c.wmu.Unlock()
	}
}

func (c *Client) cleanup() {
	c.kill()
	defer c.memRelease()
	if c.nsubs.Load() > 0 {
		c.srv.pubsub.unsubscribeAll(c)
	}
	if c.monitor.Load() {
		c.srv.monitors.remove(c)
	}
	c.unwatchAll()
	if c.replicaLink.Load() {
		c.srv.repl.ClientGone(c.id)
	}
	if c.cl.importing != nil {
		c.srv.endImport(c) // an import link closed before its end
	}
	c.srv.removeClient(c)
	if c.tracking.Load() {
		c.srv.track.Off(c.id)
	}
	if c.pusherOn {
		c.mu.Lock()
		sig := c.pushSig
		c.mu.Unlock()
		select {
		case sig <- struct{}{}:
		default:
		}
	}
}

// watchState is the client's WATCHed keys.
type watchState struct {
	keys  []watchedKey
	dirty atomic.Bool
	mem   int64 // what the watched keys cost, in the client's memory (client eviction)
}

// watchedKeyMem is what one watched key costs a client, as Redis counts
// a watched-key list node.
func watchedKeyMem(key string) int64 { return int64(len(key)) + 56 }

type watchedKey struct {
	ref          keyspace.KeyRef
	expiredAtSet bool
}

func (c *Client) unwatchAll() {
	for _, k := range c.watch.keys {
		c.srv.KS.Unwatch(k.ref, &c.watch.dirty)
	}
	if len(c.watch.keys) > 0 {
		c.srv.stats.WatchingClients.Add(-1)
	}
	c.watch.keys = nil
	c.watch.dirty.Store(false)
	c.addMem(-c.watch.mem)
	c.watch.mem = 0
}

// prefetch reads ahead the keys of the whole commands waiting in the
// query buffer (a pipeline): see commands.PrefetchQueued.
func (c *Client) prefetch() {
	c.prefetched = commands.PrefetchQueued(c.srv.KS.DB(c.db), c.qbuf[c.qr:], &c.pfKeys)
}
