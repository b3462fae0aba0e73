package server

// How the server runs a command: commands.Run (Redis's call()) with the
// connection's Client as its commands.Host. The Client admits the command
// under its locks (the cluster routing check repeated there), sends a
// write's effects to the AOF (or collects them for EXEC), touches watched
// keys, serves blocked clients, parks a blocking command and keeps the
// statistics. A blocked client served by another client's write runs
// through servingHost; the AOF loader and other clients without a
// connection are pseudo-clients (newPseudoClient).

import (
	"strconv"
	"time"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
)

// call runs cmd for the connection: its shards are locked, its effects
// propagated. A blocking command parks the client here until it is
// served, times out, is unblocked or the connection drops.
func (c *Client) call(cmd *commands.Command, args [][]byte) {
	s := c.srv
	ctx := &c.ctx
	*ctx = commands.Ctx{Args: args, Cmd: cmd, W: &c.w, DB: s.KS.DB(c.db), KS: s.KS, Client: c, Srv: s,
		Obey: c == s.masterClient, OutputLimit: c.outputHardLimit()}
	c.replyStart = len(c.w.Buf)
	c.inCall = true
	for {
		c.pausedRetry = false
		wait := commands.Run(ctx, commands.LockHere, commands.Propagate, c, commands.Held{})
		if !c.pausedRetry {
			if wait != nil {
				wait()
			}
			if cmd.LockAll && ctx.Dirty > 0 && cmd.Name == "flushall" {
				s.afterFlushAll()
			}
			c.trackEnd(cmd)
			c.inCall = false
			return
		}
		// Writes were paused between our pause check and our locks.
		s.pause.wait(cmd, c)
		if s.closing.Load() {
			c.kill() // the server stops while we waited: the command never runs
			c.inCall = false
			return
		}
		*ctx = commands.Ctx{Args: args, Cmd: cmd, W: &c.w, DB: s.KS.DB(c.db), KS: s.KS, Client: c, Srv: s}
	}
}

// runQueued runs one command of a transaction: EXEC holds the locks, the
// effects are collected in execProps and fed whole after the last one.
func (c *Client) runQueued(q queued, now int64, held commands.Held) {
	s := c.srv
	db := s.KS.DB(c.db)
	if c == s.masterClient {
		db = s.KS.MasterDB(c.db)
	}
	ctx := commands.Ctx{Args: q.args, Cmd: q.cmd, W: &c.w, DB: db, KS: s.KS,
		Client: c, Srv: s, NoBlock: true, Now: now, Obey: c == s.masterClient, OutputLimit: c.outputHardLimit()}
	if s.monitors.n.Load() > 0 && !q.cmd.Has(commands.FSkipMonitor) && !q.cmd.Has(commands.FAdmin) {
		s.monitors.feed(c, q.args)
	}
	commands.Run(&ctx, commands.LocksHeld, commands.Collect, c, held)
}

// newPseudoClient is a client with no connection, as Redis's fake
// clients: the AOF loader runs the log through one; a master link and
// scripts will too. It is authenticated and speaks RESP2.
func (s *Server) newPseudoClient() *Client {
	c := &Client{srv: s, id: s.nextID.Add(1), createdAt: time.Now(), authed: true}
	c.proto.Store(2)
	c.w.Proto = 2
	return c
}

// Admit repeats the cluster routing check with the command's shards
// locked (commands.Host): a key that left the node between the check in
// execute and the lock, or a slot that moved meanwhile, is redirected
// instead of served. Commands of a transaction were admitted with EXEC.
func (c *Client) Admit(ctx *commands.Ctx, pos []int) string {
	if s := c.srv; !c.inExec && c != s.masterClient && !c.replicaLink.Load() && s.pause.holds(ctx.Cmd) {
		// A pause that began after dispatch's check (a manual failover's
		// must stop every write that has not fed the stream yet).
		c.pausedRetry = true
		return commands.Retry
	}
	if c == c.srv.masterClient {
		return ""
	}
	msg := ""
	if c.srv.persist.Loading() && !ctx.Cmd.Has(commands.FLoading) {
		// A load that let go of the locks after dispatch looked: what
		// runs now must not see the half-loaded dataset.
		msg = errLoading
	} else if c.inExec {
		return ""
	}
	if msg == "" && c.srv.cluster != nil && len(pos) > 0 {
		keys := c.cl.keys[:0]
		for _, p := range pos {
			keys = append(keys, ctx.Args[p])
		}
		msg = c.rerouteLocked(keys)
		clear(keys)
		c.cl.keys = keys[:0]
	}
	if msg == "" {
		// The node may have become a replica since dispatch looked (a
		// write held by a failover's pause): it must not take the write.
		msg = c.srv.replicaRefusal(c, ctx.Cmd)
	}
	if msg != "" {
		ctx.Cmd.RejectedCalls.Add(1)
		c.srv.countError(msg)
	}
	return msg
}

const errLoading = "LOADING Redis is loading the dataset in memory"

// BeforeHandler lets a running snapshot capture the keys first
// (commands.Host).
func (c *Client) BeforeHandler(ctx *commands.Ctx, pos []int) {
	if c.srv.snapshotting() {
		c.srv.snapshotBeforeWrite(ctx, pos) // persist.go
	}
	c.srv.trackRead(c, ctx, pos)
}

// Written sends the effects of a write where eff says, then counts the
// change, touches watched keys and serves blocked clients
// (commands.Host).
func (c *Client) Written(ctx *commands.Ctx, pos []int, held commands.Held, eff commands.Effects) {
	s := c.srv
	if c == s.masterClient {
		// Under the write's locks: a snapshot's instant sees this write
		// and this offset together (host.ReplInfo).
		s.masterWriteEnd.Store(s.masterApplyEnd)
	} else if s.isReplica.Load() {
		s.noteReplicaWrite(c, ctx, pos) // a writable replica's own keys (replica_expire.go)
	}
	switch eff {
	case commands.Propagate:
		s.propagateCmd(c, ctx)
	case commands.Collect:
		c.collect(ctx)
	}
	if c.inExec {
		// Blocked clients see the transaction's result, not its steps,
		// and their effects reach the AOF and replicas after it.
		c.execReady = s.noteWrite(ctx, pos, c.execReady)
		return
	}
	s.afterWrite(ctx, pos, held)
}

// collect appends a write of a transaction to execProps, with a SELECT
// when the transaction changed database.
func (c *Client) collect(ctx *commands.Ctx) {
	if !c.srv.hasProps.Load() {
		return
	}
	if db := ctx.DB.Index(); len(c.execProps) == 0 {
		c.execDB = db
	} else if db != c.execDB {
		c.execProps = append(c.execProps, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))})
		c.execDB = db
	}
	if ctx.Props != nil {
		c.execProps = append(c.execProps, ctx.Props...)
	} else {
		c.execProps = append(c.execProps, ctx.Args)
	}
}

// Block parks the client on the keys the handler named; the wait runs
// after the locks are released (commands.Host).
func (c *Client) Block(ctx *commands.Ctx) func() {
	st := c.registerBlock(ctx)
	return func() { c.waitBlocked(st) }
}

// Finished keeps the command's statistics (commands.Host): calls, time,
// failures and error counts, the slow log.
func (c *Client) Finished(ctx *commands.Ctx, replyStart int, dur time.Duration) {
	cmd, s := ctx.Cmd, c.srv
	if ctx.Blocked && !ctx.Serving {
		// Counted when the wait ends (blockFinished), as Redis's
		// updateStatsOnUnblock: the call, its failure, the slow log.
		c.blockedDur = dur
		return
	}
	cmd.Calls.Add(1)
	cmd.Usec.Add(dur.Microseconds())
	if b := ctx.W.Buf; len(b) > replyStart && b[replyStart] == '-' {
		cmd.FailedCalls.Add(1)
		if !c.errCounted {
			s.countErrorFromReply(b[replyStart:])
		}
	}
	c.errCounted = false
	s.latency.command(cmd, dur)
	if !cmd.Has(commands.FSkipSlowlog) {
		s.slowlog.maybeAdd(c, ctx.Args, dur)
	}
}

// afterWrite runs after a command changed data: it counts the change,
// touches watched keys and serves clients blocked on the written keys.
// The written keys' shards are held.
func (s *Server) afterWrite(ctx *commands.Ctx, pos []int, held commands.Held) {
	s.serveRefs(s.noteWrite(ctx, pos, nil), held)
}

// noteWrite counts a write, touches its keys and appends to ready those
// that clients are blocked on.
func (s *Server) noteWrite(ctx *commands.Ctx, pos []int, ready []keyspace.KeyRef) []keyspace.KeyRef {
	s.dirty.Add(int64(ctx.Dirty))
	writer, _ := ctx.Client.(*Client)
	s.trackWrite(writer, ctx, pos)
	db, args := ctx.DB, ctx.Args
	anyBlocked := s.stats.BlockedClients.Load() > 0
	strs := ctx.Cmd.StringsOnly
	for _, p := range pos {
		db.Touch(args[p])
		if !strs {
			db.Resized(args[p]) // a collection changed in place: its accounted memory
		}
		if anyBlocked && db.HasWaiters(args[p]) {
			ready = append(ready, keyspace.KeyRef{DB: db.Index(), Key: string(args[p])})
		}
	}
	for _, ref := range ctx.OtherDB {
		if anyBlocked && s.KS.DB(ref.DB).HasWaiters([]byte(ref.Key)) {
			ready = append(ready, ref)
		}
	}
	return ready
}

// serveRefs serves the clients blocked on ready, keys of the held shards.
func (s *Server) serveRefs(ready []keyspace.KeyRef, held commands.Held) {
	for _, ref := range ready {
		s.serveReady(s.KS.DB(ref.DB), [][]byte{[]byte(ref.Key)}, held)
	}
}

// srvHandler is a server command's handler: it gets the server and the
// client it runs for (a pseudo-client for commands read from the AOF).
type srvHandler func(s *Server, cc *Client, c *commands.Ctx)

// srvCmd adapts a srvHandler to the command table.
func srvCmd(h srvHandler) commands.Handler {
	return func(c *commands.Ctx) {
		cc, _ := c.Client.(*Client)
		h(c.Srv.(*Server), cc, c)
	}
}
