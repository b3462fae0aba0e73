package server

import (
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
	// write: a script or function that may write (scriptWrites), which
	// makes EXEC a write as a command flagged write does.
	write bool
}

// has reports whether a queued command has flag f (nil: no transaction;
// a transaction that will abort has none).
func (m *multiState) has(f commands.Flags) bool {
	if m == nil || m.err {
		return false
	}
	for _, q := range m.cmds {
		if q.cmd.Has(f) || f == commands.FWrite && q.write {
			return true
		}
	}
	return false
}

// lacks reports whether a queued command lacks flag f (an EXEC of reads
// on a stale replica is refused as its reads would be: Redis's
// cmd_inv_flags).
func (m *multiState) lacks(f commands.Flags) bool {
	if m == nil || m.err {
		return false
	}
	for _, q := range m.cmds {
		if !q.cmd.Has(f) {
			return true
		}
	}
	return false
}

func (m *multiState) queue(cmd *commands.Command, args [][]byte, write bool) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	m.cmds = append(m.cmds, queued{cmd, cp, write})
}

func init() {
	commands.Register("multi", srvCmd(cmdMulti))
	commands.Register("exec", srvCmd(cmdExec))
	commands.Register("discard", srvCmd(cmdDiscard))
	commands.Register("watch", srvCmd(cmdWatch))
	commands.Register("unwatch", srvCmd(cmdUnwatch))
}

func cl(c *commands.Ctx) *Client { return c.Client.(*Client) }

func cmdMulti(s *Server, cc *Client, c *commands.Ctx) {
	if cc.multi != nil {
		c.Error("ERR MULTI calls can not be nested")
		return
	}
	cc.multi = &multiState{}
	c.W.OK()
}

func cmdDiscard(s *Server, cc *Client, c *commands.Ctx) {
	if cc.multi == nil {
		c.Error("ERR DISCARD without MULTI")
		return
	}
	cc.multi = nil
	cc.unwatchAll()
	c.W.OK()
}

func cmdWatch(s *Server, cc *Client, c *commands.Ctx) {
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
		// A key already expired at WATCH time (still stored: no active
		// expiry reached it) must not fail EXEC when it is reclaimed later;
		// Watch peeks without expiring it.
		live := c.DB.Watch(k, &cc.watch.dirty)
		cc.watch.keys = append(cc.watch.keys, watchedKey{ref: ref, expiredAtSet: !live})
		m := watchedKeyMem(ref.Key)
		cc.watch.mem += m
		cc.addMem(m)
	}
	c.W.OK()
}

func cmdUnwatch(s *Server, cc *Client, c *commands.Ctx) {
	cc.unwatchAll()
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

func cmdExec(s *Server, cc *Client, c *commands.Ctx) {
	if s.monitors.n.Load() > 0 && cc != s.masterClient {
		// After the commands it ran (or its refusal), as Redis's call()
		// feeds EXEC once it returns.
		defer s.monitors.feed(cc, c.Args)
	}
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
	// Lock every shard the transaction touches, in order, for its whole run.
	held := m.shards(s, cc.watch.keys)
	if held.All {
		s.KS.LockAll()
	} else {
		s.KS.Lock(held.Shards)
	}
	if msg := cc.rerouteExec(m); msg != "" {
		// The slot moved between the routing check and the lock.
		unlockHeld(s, held)
		cc.unwatchAll()
		cc.replyError(msg)
		return
	}
	if cc.watch.dirty.Load() || cc.watchedExpired() {
		unlockHeld(s, held)
		cc.unwatchAll()
		c.W.NullArray()
		return
	}
	c.W.Array(len(m.cmds))
	cc.execProps = cc.execProps[:0]
	startDB := -1 // database of the first write: the stream starts there
	cc.inExec = true
	for _, q := range m.cmds {
		if msg := cc.aclExecRefusal(q.cmd, q.args); msg != "" {
			cc.replyError(msg)
			continue
		}
		cc.runQueued(q, c.Now, held)
		if startDB < 0 && len(cc.execProps) > 0 {
			startDB = cc.execDB
		}
	}
	cc.inExec = false
	if len(cc.execProps) > 0 {
		// The transaction reaches the AOF and replicas whole, wrapped in
		// MULTI/EXEC when it wrote more than once (a lone write is atomic
		// by itself: Redis 7.0's propagatePendingCommands).
		s.feed(cc, startDB, wrapMulti(cc.execProps))
		cc.execProps = nil
	}
	// Clients blocked on keys the transaction wrote are served now, after
	// it, so they see its result and their effects follow it in the AOF
	// and the replication stream (Redis serves them after EXEC too).
	ready := cc.execReady
	cc.execReady = nil
	s.serveRefs(ready, held)
	unlockHeld(s, held)
	cc.unwatchAll()
	// EXEC itself changes nothing; the queued commands counted their own.
}

// shards returns the locks a transaction needs: the shards of every key
// of its commands and of the watched keys, or all of them.
func (m *multiState) shards(s *Server, watched []watchedKey) commands.Held {
	var shards []int
	for _, q := range m.cmds {
		if q.cmd.NeedsAll(s, q.args) {
			return commands.Held{All: true}
		}
		for _, p := range q.cmd.KeyPositions(q.args, nil) {
			shards = append(shards, keyspace.ShardOf(q.args[p]))
		}
	}
	for _, w := range watched {
		shards = append(shards, keyspace.ShardOf([]byte(w.ref.Key)))
	}
	return commands.Held{Shards: keyspace.SortShards(shards)}
}

func unlockHeld(s *Server, held commands.Held) {
	if held.All {
		s.KS.UnlockAll()
	} else {
		s.KS.Unlock(held.Shards)
	}
}
