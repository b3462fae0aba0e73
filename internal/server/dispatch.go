package server

import (
	"strings"
	"time"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
)

// Reply texts of the dispatcher.
const (
	errNoAuth       = "NOAUTH Authentication required."
	errNotInMulti   = "ERR Command not allowed inside a transaction"
	errPubsubCtxFmt = "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
)

// execute handles one parsed request from the client: lookup, checks,
// MULTI queueing, then call.
func (c *Client) execute(args [][]byte) {
	s := c.srv
	if c.replyMode != replyOn {
		defer c.silence(args, len(c.w.Buf), c.flushes)()
	}
	s.stats.Commands.Add(1)
	cmd := commands.Lookup(args[0])
	if cmd == nil {
		c.replyError(commands.UnknownCommand(args))
		if c.multi != nil {
			c.multi.err = true
		}
		return
	}
	cmd, errText := commands.Resolve(cmd, args)
	if !c.authed && !cmd.Has(commands.FNoAuth) {
		c.replyError(errNoAuth)
		cmd.RejectedCalls.Add(1)
		if c.multi != nil {
			c.multi.err = true
		}
		return
	}
	if errText != "" {
		c.replyError(errText)
		cmd.RejectedCalls.Add(1)
		if c.multi != nil {
			c.multi.err = true
		}
		return
	}
	c.setLastCmd(cmd)
	if s.cluster != nil && !c.clusterRoute(cmd, args) {
		return // redirected (cluster.go)
	}
	if cmd.Has(commands.FWrite) || cmd.Name == "ping" || cmd.Name == "exec" && c.multi.has(commands.FWrite) {
		// Refused while the last BGSAVE failed (stop-writes-on-bgsave-error)
		// or the last AOF write or fsync failed; in MULTI, at queue time
		// (the transaction then aborts), as Redis's processCommand.
		if msg := s.writesDenied(); msg != "" {
			cmd.RejectedCalls.Add(1)
			switch {
			case cmd.Name == "exec": // execCommandAbort
				c.multi = nil
				c.unwatchAll()
				c.replyError("EXECABORT Transaction discarded because of: " + msg)
			case c.multi != nil:
				c.multi.err = true
				c.replyError(msg)
			default:
				c.replyError(msg)
			}
			return
		}
	}
	if c.multi != nil && !isMultiControl(cmd) {
		if cmd.Has(commands.FNoMulti) {
			c.replyError(errNotInMulti)
			c.multi.err = true
			return
		}
		c.multi.queue(cmd, args)
		c.w.Simple("QUEUED")
		return
	}
	if c.nsubs.Load() > 0 && c.proto.Load() == 2 && !allowedInPubsub(cmd) {
		c.replyError(strings.Replace(errPubsubCtxFmt, "%s", cmd.Name, 1))
		cmd.RejectedCalls.Add(1)
		return
	}
	if s.pause.active() {
		s.pause.wait(cmd, c)
	}
	if s.monitors.n.Load() > 0 && !cmd.Has(commands.FSkipMonitor) && !cmd.Has(commands.FAdmin) {
		s.monitors.feed(c, args)
	}
	if cmd.Has(commands.FReadonly) || cmd.Name == "exec" && c.multi.has(commands.FReadonly) {
		c.batchRead = true // may show other clients' writes: see waitDurable
	}
	c.call(cmd, args, false)
	if c.nsubs.Load() > 0 || c.monitor.Load() {
		c.mu.Lock()
		c.mergeOutLocked()
		c.mu.Unlock()
	}
}

func (c *Client) setLastCmd(cmd *commands.Command) {
	if c.lastCmd != cmd.Name {
		c.mu.Lock()
		c.lastCmd = cmd.Name
		c.mu.Unlock()
	}
}

func isMultiControl(cmd *commands.Command) bool {
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

func allowedInPubsub(cmd *commands.Command) bool {
	switch cmd.Name {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ping", "quit", "reset",
		"ssubscribe", "sunsubscribe":
		return true
	}
	return false
}

// replyError writes an error reply and counts it for INFO errorstats.
func (c *Client) replyError(msg string) {
	c.srv.countError(msg)
	c.w.Error(msg)
}

func (s *Server) countError(msg string) {
	s.stats.ErrorReplies.Add(1)
	code := msg
	if i := strings.IndexByte(msg, ' '); i > 0 {
		code = msg[:i]
	}
	s.stats.errMu.Lock()
	if len(s.stats.errCounts) < 128 || s.stats.errCounts[code] > 0 {
		s.stats.errCounts[code]++
	}
	s.stats.errMu.Unlock()
}

// call runs cmd with its shards locked. inExec is set for commands run by
// EXEC (the caller holds the locks then). Blocking commands park the
// client here until served, timed out or unblocked.
func (c *Client) call(cmd *commands.Command, args [][]byte, inExec bool) {
	s := c.srv
	if cmd.Handler == nil {
		c.replyError("ERR unknown subcommand '" + string(args[1]) + "'")
		return
	}
	ctx := &c.ctx
	*ctx = commands.Ctx{Args: args, Cmd: cmd, W: &c.w, DB: s.KS.DB(c.db), KS: s.KS,
		Client: c, Srv: s, NoBlock: inExec}
	var posBuf, shardBuf [16]int
	var pos, shards []int
	if !inExec {
		pos = cmd.KeyPositions(args, posBuf[:0])
		if cmd.LockAll {
			s.KS.LockAll()
		} else {
			shards = commands.Shards(args, pos, shardBuf[:0])
			s.KS.Lock(shards)
		}
	} else {
		pos = cmd.KeyPositions(args, posBuf[:0])
	}
	start := time.Now()
	ctx.Now = start.UnixMilli()
	before := len(c.w.Buf)
	if !inExec {
		c.replyStart = before
	}
	if s.snapshotting() {
		s.snapshotBeforeWrite(ctx, pos) // persist.go: capture keys before a BGSAVE reaches them
	}
	cmd.Handler(ctx)
	if ctx.Dirty > 0 {
		if !inExec {
			s.propagateCmd(c, ctx)
		}
		s.afterWrite(ctx, args, pos, shards, cmd.LockAll || inExec)
	}
	var st *blockState
	if ctx.Blocked {
		st = c.registerBlock(ctx)
	}
	if !inExec {
		if cmd.LockAll {
			s.KS.UnlockAll()
		} else {
			s.KS.Unlock(shards)
		}
	}
	dur := time.Since(start)
	cmd.Calls.Add(1)
	cmd.Usec.Add(dur.Microseconds())
	if len(c.w.Buf) > before && c.w.Buf[before] == '-' {
		cmd.FailedCalls.Add(1)
		s.countErrorFromReply(c.w.Buf[before:])
	}
	if !cmd.Has(commands.FSkipSlowlog) {
		s.slowlog.maybeAdd(c, args, dur)
	}
	if st != nil {
		c.waitBlocked(st)
	}
}

func (s *Server) countErrorFromReply(b []byte) {
	end := len(b)
	for i, ch := range b {
		if ch == '\r' {
			end = i
			break
		}
	}
	s.countError(string(b[1:end]))
}

// afterWrite runs after a command changed data: it counts the change,
// touches watched keys and serves clients blocked on the written keys.
// The written keys' shards are held (all of them when allLocked).
func (s *Server) afterWrite(ctx *commands.Ctx, args [][]byte, pos []int, shards []int, allLocked bool) {
	s.dirty.Add(int64(ctx.Dirty))
	db := ctx.DB
	var ready [][]byte
	anyBlocked := s.stats.BlockedClients.Load() > 0
	for _, p := range pos {
		db.Touch(args[p])
		if anyBlocked && db.HasWaiters(args[p]) {
			ready = append(ready, args[p])
		}
	}
	if len(ready) > 0 {
		s.serveReady(db, ready, shards, allLocked)
	}
	for _, ref := range ctx.OtherDB {
		other := s.KS.DB(ref.DB)
		if k := []byte(ref.Key); anyBlocked && other.HasWaiters(k) {
			s.serveReady(other, [][]byte{k}, shards, allLocked)
		}
	}
}

// held reports whether every shard of keys is among the locked shards.
func held(keys [][]byte, shards []int, all bool) bool {
	if all {
		return true
	}
	for _, k := range keys {
		sh := keyspace.ShardOf(k)
		found := false
		for _, x := range shards {
			if x == sh {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
