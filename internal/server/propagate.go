package server

import (
	"sync"

	"redgo/internal/commands"
	"redgo/internal/persist"
	"redgo/internal/vfs"
)

// Propagator receives every write, in the order the writes took effect:
// the AOF and (later) the replication backlog.
type Propagator interface {
	// Feed is called with the written keys' shards still locked, so the
	// feeds of conflicting writes arrive in the order they took effect. It
	// must only append to a buffer. The commands run in database db; a
	// SELECT among them (a transaction that selects) changes the database
	// for the rest, and the propagator must track it. It returns a sequence
	// number for WaitDurable.
	Feed(db int, cmds [][][]byte) int64
	// WaitDurable blocks until the write with sequence seq is as durable as
	// the policy demands (appendfsync always: fsynced). An error means it
	// cannot be: the client gets an error instead of its reply.
	WaitDurable(seq int64) error
	// Pending returns the sequence of the last write fed if replies must
	// not show its effects yet (appendfsync always: not fsynced), else 0.
	// A reader that may have seen the write waits for it (waitDurable).
	Pending() int64
}

// A Deferrer is a propagator that can take a batch's replies instead of
// making the client's goroutine wait: replication, whose waiting costs a
// socket write per command when each reply writes the stream itself.
type Deferrer interface {
	// Defer runs write, from another goroutine, once write seq is as
	// durable as WaitDurable(seq) would have made it, and reports
	// whether it took write (false: the caller waits itself). client
	// names the connection.
	Defer(seq, client int64, write func()) bool
	// Ready reports whether write seq needs no waiting now.
	Ready(seq int64) bool
}

type propagators struct {
	mu   sync.RWMutex
	list []Propagator
}

// AddPropagator registers p to receive every write from now on and
// returns its index (a client's durable[i] is its last write's sequence).
func (s *Server) AddPropagator(p Propagator) int {
	s.props.mu.Lock()
	s.props.list = append(s.props.list, p)
	i := len(s.props.list) - 1
	s.props.mu.Unlock()
	s.hasProps.Store(true)
	return i
}

// feed sends a write to every propagator and remembers, for the client,
// the sequence to wait for before its replies go out.
func (s *Server) feed(c *Client, db int, cmds [][][]byte) { s.feedOnly(c, db, cmds, nil) }

// feedOnly is feed to the propagators keep accepts (all when nil): a
// script's redis.set_repl sends some writes to the AOF or to replicas only.
func (s *Server) feedOnly(c *Client, db int, cmds [][][]byte, keep func(i int) bool) {
	s.props.mu.RLock()
	defer s.props.mu.RUnlock()
	for i, p := range s.props.list {
		if keep != nil && !keep(i) {
			continue
		}
		seq := p.Feed(db, cmds)
		if c != nil && i < len(c.durable) {
			c.durable[i] = seq
		} else if c != nil {
			c.durable = append(c.durable, seq)
		}
	}
	if c != nil && !c.batchWrote {
		c.batchWrote = true
		c.batchWriteStart = c.replyStart
		c.batchCmdsSinceWrite = 0
	}
}

// propagateCmd feeds the effect of one executed write command.
func (s *Server) propagateCmd(c *Client, ctx *commands.Ctx) {
	if !s.hasProps.Load() {
		return
	}
	cmds := ctx.Props
	if cmds == nil && c != nil {
		// The client's own one-command list: the propagators encode what
		// they are fed before Feed returns, and a list made here escaped
		// to the heap on every write.
		c.propOne[0] = ctx.Args
		s.feed(c, ctx.DB.Index(), c.propOne[:])
		c.propOne[0] = nil
		return
	}
	if cmds == nil {
		cmds = [][][]byte{ctx.Args}
	}
	s.feed(c, ctx.DB.Index(), wrapMulti(cmds))
}

// wrapMulti wraps the effects of one execution unit (a command, an EXEC)
// in MULTI ... EXEC when there is more than one write among them, as
// Redis 7.0's propagatePendingCommands: a single write goes alone, so a
// transaction or an XREADGROUP that wrote once is sent as that write. A
// SELECT among cmds is not a write.
func wrapMulti(cmds [][][]byte) [][][]byte {
	n := 0
	for _, c := range cmds {
		if !(len(c) == 2 && commands.EqualFold(c[0], "select")) {
			n++
		}
	}
	if n <= 1 {
		return cmds
	}
	out := make([][][]byte, 0, len(cmds)+2)
	out = append(out, [][]byte{[]byte("MULTI")})
	out = append(out, cmds...)
	return append(out, [][]byte{[]byte("EXEC")})
}

// propagateDel feeds the DEL of a key that the server removed by itself:
// expired, or in a slot now served by another node (shard locked).
func (s *Server) propagateDel(db int, key []byte) {
	if !s.hasProps.Load() {
		return
	}
	s.feed(nil, db, [][][]byte{{delWord, key}})
}

// delWord is DEL's name in the commands propagateDel feeds (propagators
// only read them).
var delWord = []byte("DEL")

// waitDurable runs before a batch's replies are written: if the batch
// wrote, it waits until its writes are durable. When they cannot be, every
// reply from the first write on is replaced by an error: nothing that is
// not durable is acknowledged.
//
// A batch that did not write may still show other clients' writes (a
// read, a blocked pop served by another client's push): it waits for
// every write fed before its flush, as Redis sends no reply before the
// fsync of its event-loop iteration. Nothing a reader saw is lost in a
// crash.
//
// The wait for a Deferrer (replication) may be left to it: waitDurable
// then returns it and the sequence to hand the replies to (flush).
func (c *Client) waitDurable() (Deferrer, int64) {
	n, read := c.batchCmds, c.batchRead
	c.batchCmds, c.batchRead = 0, false
	if !c.batchWrote {
		if read && c.srv.hasProps.Load() {
			// Every write fed so far that is not durable yet.
			if err := c.waitFor(func(_ int, p Propagator) int64 { return p.Pending() }, nil); err != nil && n > 0 {
				c.refuse(0, n, err)
			}
		}
		return nil, 0
	}
	c.batchWrote = false
	var d Deferrer
	var dseq int64
	err := c.waitFor(func(i int, _ Propagator) int64 {
		if i < len(c.durable) {
			return c.durable[i]
		}
		return 0
	}, func(p Deferrer, seq int64) { d, dseq = p, seq })
	if err != nil {
		if d != nil {
			// The replies become errors: nothing is acknowledged, but
			// they still leave after the stream, as all replies.
			d.(Propagator).WaitDurable(dseq)
			d = nil
		}
		c.refuse(c.batchWriteStart, c.batchCmdsSinceWrite, err)
		c.srv.Log.Printf("# Write not acknowledged (%d replies replaced): %v", c.batchCmdsSinceWrite, err)
	}
	return d, dseq
}

// waitFor waits until, for every propagator, the write seq(i, p) returns
// (0: none) is durable, and returns the first error. With leave set, the
// wait for a Deferrer that is not ready is left to the caller: leave gets
// it (one at most).
func (c *Client) waitFor(seq func(i int, p Propagator) int64, leave func(Deferrer, int64)) error {
	var err error
	left := false
	c.srv.props.mu.RLock()
	for i, p := range c.srv.props.list {
		s := seq(i, p)
		if s <= 0 {
			continue
		}
		if d, ok := p.(Deferrer); ok && leave != nil && !left {
			if !d.Ready(s) {
				leave(d, s)
				left = true
			}
			continue
		}
		if e := p.WaitDurable(s); e != nil && err == nil {
			err = e
		}
	}
	c.srv.props.mu.RUnlock()
	return err
}

// refuse replaces the batch's replies from offset from on (n of them) with
// the error of a write that could not be made durable.
func (c *Client) refuse(from, n int, err error) {
	c.w.Buf = c.w.Buf[:from]
	msg := persist.MisconfAOF(vfs.ErrText(err))
	for i := 0; i < n; i++ {
		c.replyError(msg)
	}
}
