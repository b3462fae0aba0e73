package server

import (
	"strconv"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
)

// multiState is an open MULTI: the queued commands and whether a queued
// command was rejected (EXEC then aborts).
type multiState struct {
	cmds []queued
	err  bool
}

type queued struct {
	cmd  *commands.Command
	args [][]byte
}

// has reports whether a queued command has flag f (nil: no transaction;
// a transaction that will abort has none).
func (m *multiState) has(f commands.Flags) bool {
	if m == nil || m.err {
		return false
	}
	for _, q := range m.cmds {
		if q.cmd.Has(f) {
			return true
		}
	}
	return false
}

func (m *multiState) queue(cmd *commands.Command, args [][]byte) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	m.cmds = append(m.cmds, queued{cmd, cp})
}

func init() {
	commands.Register("multi", cmdMulti)
	commands.Register("exec", cmdExec)
	commands.Register("discard", cmdDiscard)
	commands.Register("watch", cmdWatch)
	commands.Register("unwatch", cmdUnwatch)
}

func cl(c *commands.Ctx) *Client { return c.Client.(*Client) }

func cmdMulti(c *commands.Ctx) {
	cc := cl(c)
	if cc.multi != nil {
		c.Error("ERR MULTI calls can not be nested")
		return
	}
	cc.multi = &multiState{}
	c.W.OK()
}

func cmdDiscard(c *commands.Ctx) {
	cc := cl(c)
	if cc.multi == nil {
		c.Error("ERR DISCARD without MULTI")
		return
	}
	cc.multi = nil
	cc.unwatchAll()
	c.W.OK()
}

func cmdWatch(c *commands.Ctx) {
	cc := cl(c)
	if cc.multi != nil {
		c.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	if len(cc.watch.keys) == 0 {
		cc.srv.stats.WatchingClients.Add(1)
	}
	for _, k := range c.Args[1:] {
		ref := keyspace.KeyRef{DB: cc.db, Key: string(k)}
		dup := false
		for _, w := range cc.watch.keys {
			if w.ref == ref {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		// Peek without expiring: a key already expired at WATCH time must
		// not fail EXEC when it is reclaimed later.
		c.DB.Watch(k, &cc.watch.dirty)
		cc.watch.keys = append(cc.watch.keys, watchedKey{ref: ref, expiredAtSet: !c.DB.Exists(k)})
	}
	c.W.OK()
}

func cmdUnwatch(c *commands.Ctx) {
	cl(c).unwatchAll()
	c.W.OK()
}

// watchedExpired reports whether a key that was live at WATCH time has
// logically expired since (it still sits in the keyspace).
func (cc *Client) watchedExpired() bool {
	for _, w := range cc.watch.keys {
		if w.expiredAtSet {
			continue
		}
		k := []byte(w.ref.Key)
		if !cc.srv.KS.DB(w.ref.DB).Exists(k) {
			return true
		}
	}
	return false
}

func cmdExec(c *commands.Ctx) {
	cc := cl(c)
	m := cc.multi
	if m == nil {
		c.Error("ERR EXEC without MULTI")
		return
	}
	cc.multi = nil
	if m.err {
		cc.unwatchAll()
		c.Error(commands.ErrExecAbort)
		return
	}
	s := cc.srv
	// Lock every shard the transaction touches, in order, for its whole run.
	var shards []int
	all := false
	for _, q := range m.cmds {
		if q.cmd.LockAll {
			all = true
			break
		}
		for _, p := range q.cmd.KeyPositions(q.args, nil) {
			shards = append(shards, keyspace.ShardOf(q.args[p]))
		}
	}
	for _, w := range cc.watch.keys {
		shards = append(shards, keyspace.ShardOf([]byte(w.ref.Key)))
	}
	if all {
		s.KS.LockAll()
	} else {
		shards = keyspace.SortShards(shards)
		s.KS.Lock(shards)
	}
	aborted := cc.watch.dirty.Load() || cc.watchedExpired()
	if aborted {
		unlockFor(s, shards, all)
		cc.unwatchAll()
		c.W.NullArray()
		return
	}
	c.W.Array(len(m.cmds))
	cc.execProps = cc.execProps[:0]
	startDB := -1 // database of the first write: the stream starts there
	for _, q := range m.cmds {
		cc.runQueued(q, shards, all)
		if startDB < 0 && len(cc.execProps) > 0 {
			startDB = cc.execDB
		}
	}
	if len(cc.execProps) > 0 {
		// The transaction reaches the AOF and replicas whole, as Redis.
		cmds := append([][][]byte{{[]byte("MULTI")}}, cc.execProps...)
		cmds = append(cmds, [][]byte{[]byte("EXEC")})
		s.feed(cc, startDB, cmds)
		cc.execProps = nil
	}
	unlockFor(s, shards, all)
	cc.unwatchAll()
	// EXEC itself changes nothing; the queued commands counted their own.
}

func unlockFor(s *Server, shards []int, all bool) {
	if all {
		s.KS.UnlockAll()
	} else {
		s.KS.Unlock(shards)
	}
}

// runQueued runs one command of a transaction with the locks held.
func (cc *Client) runQueued(q queued, shards []int, all bool) {
	s := cc.srv
	ctx := commands.Ctx{Args: q.args, Cmd: q.cmd, W: &cc.w, DB: s.KS.DB(cc.db), KS: s.KS,
		Client: cc, Srv: s, NoBlock: true}
	ctx.Now = s.KS.Now()
	if s.monitors.n.Load() > 0 && !q.cmd.Has(commands.FSkipMonitor) && !q.cmd.Has(commands.FAdmin) {
		s.monitors.feed(cc, q.args)
	}
	before := len(cc.w.Buf)
	if s.snapshotting() {
		s.snapshotBeforeWrite(&ctx, q.cmd.KeyPositions(q.args, nil)) // persist.go
	}
	q.cmd.Handler(&ctx)
	q.cmd.Calls.Add(1)
	if len(cc.w.Buf) > before && cc.w.Buf[before] == '-' {
		q.cmd.FailedCalls.Add(1)
		s.countErrorFromReply(cc.w.Buf[before:])
	}
	if ctx.Blocked { // cannot happen with NoBlock, but never leave a hole
		cc.w.NullArray()
	}
	if ctx.Dirty > 0 && s.hasProps.Load() {
		if len(cc.execProps) == 0 {
			cc.execDB = ctx.DB.Index()
		} else if ctx.DB.Index() != cc.execDB {
			// SELECT inside the transaction: carry it into the stream.
			cc.execProps = append(cc.execProps, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(ctx.DB.Index()))})
			cc.execDB = ctx.DB.Index()
		}
		if ctx.Props != nil {
			cc.execProps = append(cc.execProps, ctx.Props...)
		} else {
			cc.execProps = append(cc.execProps, q.args)
		}
	}
	if ctx.Dirty > 0 {
		pos := q.cmd.KeyPositions(q.args, nil)
		s.afterWrite(&ctx, q.args, pos, shards, all)
	}
}
