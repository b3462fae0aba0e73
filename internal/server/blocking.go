package server

import (
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// How a blocked client was woken.
type wakeReason int

const (
	wakeServed         wakeReason = iota // reply is ready
	wakeRetry                            // run the command again (its shards were not held by the writer)
	wakeKilled                           // connection closed
	wakeUnblockTimeout                   // CLIENT UNBLOCK [TIMEOUT]
	wakeUnblockError                     // CLIENT UNBLOCK ERROR
	wakeRedirect                         // cluster: the slot moved or the cluster is down (cluster.go)
	wakeRoleChanged                      // the server became a replica: error, then close
)

// errRoleChanged is what a blocked client gets when its server becomes a
// replica (disconnectAllBlockedClients).
const errRoleChanged = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"

// unblockAllForRole ends the wait of every blocked client with
// errRoleChanged and closes its connection after the reply: once a
// replica, the server must not serve them with data its master's stream
// brings (disconnectAllBlockedClients, called by replicationSetMaster).
func (s *Server) unblockAllForRole() {
	for _, c := range s.clientList() {
		if st := c.blocked.Load(); st != nil && st.cancel(wakeRoleChanged) {
			c.closeErr.Store(true)
		}
	}
}

// blockState is a client parked by a blocking command (BLPOP...). The
// waiter is registered on each key in its shard; a writer that holds the
// shard serves it by re-running the command on its behalf.
type blockState struct {
	mu       sync.Mutex // held while serving or cancelling; guards reply
	w        keyspace.Waiter
	client   *Client
	cmd      *commands.Command
	args     [][]byte // private copy
	db       int
	deadline int64
	nullBulk bool
	reply    []byte
	redirect string // wakeRedirect's error reply
	ch       chan wakeReason
}

// cancel finishes the wait for reason unless it already finished.
func (st *blockState) cancel(reason wakeReason) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.w.Done.Load() {
		return false
	}
	st.w.Done.Store(true)
	st.ch <- reason
	return true
}

// registerBlock parks the client on ctx.BlockKeys. The keys' shards are
// locked by the caller.
func (c *Client) registerBlock(ctx *commands.Ctx) *blockState {
	args := make([][]byte, len(ctx.Args))
	for i, a := range ctx.Args {
		args[i] = append([]byte(nil), a...)
	}
	st := &blockState{client: c, cmd: ctx.Cmd, args: args, db: c.db, deadline: ctx.BlockTimeout,
		nullBulk: ctx.BlockNullBulk, ch: make(chan wakeReason, 1)}
	if c.retryDeadline != 0 {
		st.deadline = c.retryDeadline // a retried command keeps its first deadline
	}
	st.w.Client = st
	for _, k := range ctx.BlockKeys {
		st.w.Keys = append(st.w.Keys, keyspace.KeyRef{DB: c.db, Key: string(k)})
		ctx.DB.Block(k, &st.w)
	}
	c.blocked.Store(st)
	c.srv.stats.BlockedClients.Add(1)
	return st
}

// waitBlocked waits until st is served, times out, is unblocked or the
// connection drops, then writes the outcome.
func (c *Client) waitBlocked(st *blockState) {
	c.flush()
	stopWatch := c.watchDisconnect(st)
	var timer <-chan time.Time
	if st.deadline > 0 {
		d := time.Until(time.UnixMilli(st.deadline))
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	var reason wakeReason
	select {
	case reason = <-st.ch:
	case <-timer:
		if st.cancel(wakeUnblockTimeout) {
			reason = <-st.ch
		} else {
			reason = <-st.ch // served or cancelled meanwhile
		}
	}
	stopWatch()
	c.blocked.Store(nil)
	c.srv.stats.BlockedClients.Add(-1)
	for _, ref := range st.w.Keys {
		c.srv.KS.Unblock(ref, &st.w)
	}
	switch reason {
	case wakeServed:
		c.w.Buf = append(c.w.Buf, st.reply...)
		c.batchRead = true // served by another client's write: wait for its fsync
	case wakeRetry:
		c.retryDeadline = st.deadline
		if st.deadline == 0 {
			c.retryDeadline = 0
		}
		c.call(st.cmd, st.args)
		c.retryDeadline = 0
	case wakeUnblockTimeout:
		if st.nullBulk {
			c.w.Null()
		} else {
			c.w.NullArray()
		}
	case wakeUnblockError:
		c.replyError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	case wakeRedirect:
		c.replyError(st.redirect)
	case wakeRoleChanged:
		c.replyError(errRoleChanged)
	case wakeKilled:
		return
	}
	if reason != wakeRetry { // a retry is counted by its own call
		c.blockFinished(st, reason != wakeServed && reason != wakeUnblockTimeout)
	}
}

// blockFinished counts a blocked command once its wait ended with a
// reply: one call (its time is the first run's), a failure when the reply
// was an error, and its slow log entry, as Redis counts a blocked command
// when it is unblocked.
func (c *Client) blockFinished(st *blockState, failed bool) {
	cmd, s := st.cmd, c.srv
	cmd.Calls.Add(1)
	cmd.Usec.Add(c.blockedDur.Microseconds())
	if failed {
		cmd.FailedCalls.Add(1)
	}
	s.latency.command(cmd, c.blockedDur)
	if !cmd.Has(commands.FSkipSlowlog) {
		s.slowlog.maybeAdd(c, st.args, c.blockedDur)
	}
}

// watchDisconnect reads ahead on the connection while the client is
// blocked, so a client that goes away is noticed (and its wait cancelled
// before it could be served data it would never receive). Pipelined input
// is kept in the query buffer. The returned func stops the reader.
func (c *Client) watchDisconnect(st *blockState) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if len(c.qbuf) == cap(c.qbuf) {
				if int64(cap(c.qbuf)) > c.srv.maxQuery.Load() {
					return
				}
				c.grow(cap(c.qbuf) + 1)
			}
			n, err := c.conn.Read(c.qbuf[len(c.qbuf):cap(c.qbuf)])
			if n > 0 {
				c.qbuf = c.qbuf[:len(c.qbuf)+n]
				c.srv.stats.NetIn.Add(int64(n))
			}
			if err != nil {
				var ne net.Error
				if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
					return
				}
				c.closeErr.Store(true)
				st.cancel(wakeKilled)
				return
			}
		}
	}()
	return func() {
		c.conn.SetReadDeadline(time.Now())
		<-done
		c.conn.SetReadDeadline(time.Time{})
	}
}

// serveReady serves clients blocked on keys that a write just changed.
// The writer holds the shards in held. Waiters whose command needs a
// shard that is not held are told to retry on their own.
func (s *Server) serveReady(db *keyspace.DB, ready [][]byte, held commands.Held) {
	for len(ready) > 0 {
		key := ready[0]
		ready = ready[1:]
		waiters := append([]*keyspace.Waiter(nil), db.Waiters(key)...)
		for _, w := range waiters {
			st := w.Client.(*blockState)
			if !db.Exists(key) && !st.cmd.WakeOnDelete {
				continue // XREADGROUP is told its key is gone; the others wait
			}
			more := s.serveOne(st, held)
			ready = append(ready, more...)
		}
	}
}

// serveOne tries to serve one blocked client by running its command on
// its behalf under the writer's locks; it returns keys that the command
// wrote and that have waiters of their own.
func (s *Server) serveOne(st *blockState, held commands.Held) [][]byte {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.w.Done.Load() {
		return nil
	}
	// Keys of the command in shards the writer does not hold are taken
	// if they are free, so that the client is served here, in its turn
	// (BRPOPLPUSH to a key of another shard); otherwise it runs the
	// command again itself, and a client blocked after it may be served
	// first.
	extra, ok := s.tryLockMissing(held, st.cmd, st.args)
	if !ok {
		st.w.Done.Store(true)
		st.ch <- wakeRetry
		return nil
	}
	if len(extra) > 0 {
		defer s.KS.Unlock(extra)
		held = commands.Held{Shards: append(append([]int(nil), held.Shards...), extra...)}
	}
	w := resp.Writer{Proto: int(st.client.proto.Load())}
	ctx := commands.Ctx{Args: st.args, Cmd: st.cmd, W: &w, DB: s.KS.DB(st.db), KS: s.KS,
		NoBlock: true, Serving: true, Client: st.client, Srv: s}
	h := &servingHost{s: s}
	commands.Run(&ctx, commands.LocksHeld, commands.Propagate, h, held)
	if ctx.Blocked {
		return nil // nothing for it after all: keep waiting
	}
	st.w.Done.Store(true)
	st.reply = w.Buf
	st.ch <- wakeServed
	return h.more
}

// tryLockMissing locks, without waiting, the shards of cmd's keys that
// held lacks; it reports false (and holds none of them) when one is taken.
func (s *Server) tryLockMissing(held commands.Held, cmd *commands.Command, args [][]byte) ([]int, bool) {
	if held.All {
		return nil, true
	}
	var posBuf [8]int
	var extra []int
	for _, p := range cmd.KeyPositions(args, posBuf[:0]) {
		sh := keyspace.ShardOf(args[p])
		if slices.Contains(held.Shards, sh) || slices.Contains(extra, sh) {
			continue
		}
		if !s.KS.TryLock(sh) {
			s.KS.Unlock(extra)
			return nil, false
		}
		extra = append(extra, sh)
	}
	return extra, true
}

// servingHost is the commands.Host of a blocked client's command run by
// the writer that changed one of its keys. Its write is fed before the
// client is woken, so the client's flush waits for that write's fsync
// (waitDurable) before the reply goes out. Keys it writes that have
// waiters of their own are returned to serveReady rather than served
// from inside (more).
type servingHost struct {
	s    *Server
	more [][]byte
}

func (h *servingHost) Admit(*commands.Ctx, []int) string { return "" } // served where its keys are

func (h *servingHost) BeforeHandler(ctx *commands.Ctx, pos []int) {
	if h.s.snapshotting() {
		h.s.snapshotBeforeWrite(ctx, pos) // persist.go
	}
}

func (h *servingHost) Written(ctx *commands.Ctx, pos []int, _ commands.Held, _ commands.Effects) {
	s := h.s
	s.propagateCmd(nil, ctx)
	s.dirty.Add(int64(ctx.Dirty))
	s.trackWrite(nil, ctx, pos)
	for _, p := range pos {
		k := ctx.Args[p]
		ctx.DB.Touch(k)
		if ctx.DB.HasWaiters(k) {
			h.more = append(h.more, k)
		}
	}
}

func (h *servingHost) Block(*commands.Ctx) func() { return nil } // Serving: never called

func (h *servingHost) Finished(ctx *commands.Ctx, _ int, dur time.Duration) {
	if !ctx.Blocked {
		ctx.Cmd.Calls.Add(1)
		ctx.Cmd.Usec.Add(dur.Microseconds())
	}
}
