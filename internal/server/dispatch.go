package server

import (
	"runtime"
	"strings"

	"redgo/internal/commands"
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
	cmd := s.lookupCommand(args[0])
	if c.inLoop && cmd != nil && c.readsElsewhere(cmd) {
		c.leaveLoop = true // not run: serve runs it outside its read loop
		return
	}
	silenced := c.replyMode != replyOn
	if silenced {
		defer c.silence(args, len(c.w.Buf), c.flushes)()
	}
	s.stats.Commands.Add(1)
	if cmd == nil {
		c.replyError(commands.UnknownCommand(args))
		if c.multi != nil {
			c.multi.err = true
		}
		return
	}
	cmd, errText := commands.Resolve(cmd, args)
	if !c.authed && !cmd.Has(commands.FNoAuth) && s.authRequired() {
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
	if c.multi == nil || !cmd.Has(commands.FNoMulti) || isMultiControl(cmd) {
		if msg := c.aclRefusal(cmd, args); msg != "" {
			cmd.RejectedCalls.Add(1)
			c.refuseQueued(cmd, msg)
			return
		}
	}
	if s.cluster != nil {
		if !c.clusterRoute(cmd, args) {
			return // redirected (cluster.go)
		}
		if h := s.testAfterRoute.Load(); h != nil {
			(*h)(cmd, args)
		}
	}
	if s.persist.Loading() && !cmd.Has(commands.FLoading) {
		cmd.RejectedCalls.Add(1)
		c.refuseQueued(cmd, errLoading)
		return
	}
	if msg := s.oomRefusal(c, cmd); msg != "" {
		cmd.RejectedCalls.Add(1)
		c.refuseQueued(cmd, msg)
		return
	}
	if msg := s.replicaRefusal(c, cmd); msg != "" {
		cmd.RejectedCalls.Add(1)
		c.refuseQueued(cmd, msg)
		return
	}
	if cmd.Has(commands.FWrite) || cmd.Name == "exec" && c.multi.has(commands.FWrite) {
		if msg := s.minReplicasRefusal(); msg != "" {
			cmd.RejectedCalls.Add(1)
			c.refuseQueued(cmd, msg)
			return
		}
	}
	if cmd.Has(commands.FWrite) || cmd.Name == "ping" || cmd.Name == "exec" && c.multi.has(commands.FWrite) {
		// Refused while the last BGSAVE failed (stop-writes-on-bgsave-error)
		// or the last AOF write or fsync failed; in MULTI, at queue time
		// (the transaction then aborts), as Redis's processCommand.
		if msg := s.writesDenied(); msg != "" {
			cmd.RejectedCalls.Add(1)
			c.refuseQueued(cmd, msg)
			return
		}
	}
	if msg := s.busyRefusal(cmd); msg != "" {
		cmd.RejectedCalls.Add(1)
		c.refuseQueued(cmd, msg)
		return
	}
	if c.multi != nil && !isMultiControl(cmd) {
		if cmd.Has(commands.FNoMulti) {
			c.replyError(errNotInMulti)
			c.multi.err = true
			return
		}
		c.multi.queue(cmd, args, s.scriptWrites(cmd, args))
		c.w.Simple("QUEUED")
		return
	}
	if c.nsubs.Load() > 0 && c.proto.Load() == 2 && !allowedInPubsub(cmd) {
		c.replyError(strings.Replace(errPubsubCtxFmt, "%s", cmd.Name, 1))
		cmd.RejectedCalls.Add(1)
		return
	}
	if s.pause.active() && !c.replicaLink.Load() {
		// A replica's REPLCONF ACKs are never paused (Redis exempts
		// CLIENT_SLAVE): a paused master, and one waiting for its
		// replicas before it shuts down, must still hear them.
		s.pause.wait(cmd, c)
	}
	if s.monitors.n.Load() > 0 && monitored(cmd) {
		s.monitors.feed(c, args)
	}
	if cmd.Has(commands.FReadonly) || cmd.Name == "exec" && c.multi.has(commands.FReadonly) {
		c.batchRead = true // may show other clients' writes: see waitDurable
	}
	if observesOthers(cmd) {
		// Requests that reached other connections just before this one
		// (a SUBSCRIBE sent on one connection, then PUBSUB NUMSUB on
		// another without waiting) are served first in Redis, whose event
		// loop takes ready connections in arrival order. Go's scheduler
		// runs the goroutines the poller wakes together in reverse order;
		// yielding once lets those already runnable on this processor run
		// first (measured: 288 of 500 such pairs ordered as Redis before,
		// 470-496 after; Redis 497-500).
		runtime.Gosched()
	}
	c.call(cmd, args)
	// A silenced reply stays in the batch for silence to drop (pushes
	// already went to the shared output).
	if !silenced && (c.nsubs.Load() > 0 || c.monitor.Load()) {
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

// observesOthers reports whether cmd's reply depends on other clients'
// subscriptions.
func observesOthers(cmd *commands.Command) bool {
	switch cmd.Name {
	case "publish", "spublish", "pubsub|numsub", "pubsub|channels", "pubsub|numpat", "pubsub|shardchannels", "pubsub|shardnumsub":
		return true
	}
	return false
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

// refuseQueued replies msg to a command refused before it runs: inside
// MULTI the transaction is flagged, and EXEC aborts it (execCommandAbort).
func (c *Client) refuseQueued(cmd *commands.Command, msg string) {
	switch {
	case cmd.Name == "exec":
		c.multi = nil
		c.unwatchAll()
		c.replyError("EXECABORT Transaction discarded because of: " + msg)
	case c.multi != nil:
		c.multi.err = true
		c.replyError(msg)
	default:
		c.replyError(msg)
	}
}

// monitored reports whether MONITOR shows cmd when a client sends it:
// not admin commands, nor those Redis flags skip-monitor, except the
// script calls, which Redis feeds itself before the script's commands
// (evalCommand, fcallCommand); EXEC is fed when it ends (cmdExec), after
// the commands it ran.
func monitored(cmd *commands.Command) bool {
	switch cmd.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	case "exec":
		return false
	}
	return !cmd.Has(commands.FSkipMonitor) && !cmd.Has(commands.FAdmin)
}
