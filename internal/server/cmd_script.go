package server

// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: the server's side of
// internal/scripting. A script runs inside its EVAL's commands.Run, under
// the locks Run took: every shard outside cluster mode (a script may touch
// any key), the shard of its declared keys' slot in cluster mode. The
// commands it calls run through commands.Run too (LocksHeld, Collect) with
// a scriptCall as their Host, which checks the cluster rules for scripts,
// collects the effects and serves blocked clients; at the end the effects
// reach the AOF and replicas wrapped in MULTI/EXEC (EXEC's own stream when
// the script runs in a transaction).

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"

	"redgo/internal/acl"
	"redgo/internal/cluster"
	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
	"redgo/internal/scripting"
	"redgo/internal/slot"
)

func init() {
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro"} {
		commands.Register(name, srvCmd(cmdEval), commands.KeysFunc(evalKeys), commands.LockAllWhen(scriptLocksAll),
			commands.LockSerialWhen(scriptSerial))
	}
	commands.Register("script|load", srvCmd(cmdScriptLoad))
	commands.Register("script|exists", srvCmd(cmdScriptExists))
	commands.Register("script|flush", srvCmd(cmdScriptFlush))
	commands.Register("script|kill", srvCmd(cmdScriptKill))
	commands.Register("script|help", srvCmd(cmdScriptHelp))
	commands.Register("script|debug", srvCmd(cmdScriptDebug))
}

// evalKeys returns the positions of EVAL's and FCALL's declared keys: the
// numkeys arguments after args[2] (none when numkeys is not valid: the
// handler replies the error).
func evalKeys(args [][]byte) []int {
	n, ok := commands.ParseInt(args[2])
	if !ok || n <= 0 || n > int64(len(args)-3) {
		return nil
	}
	if n <= int64(len(evalKeyPos)) {
		return evalKeyPos[:n:n] // read only, as every caller treats key positions
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = 3 + i
	}
	return pos
}

// evalKeyPos are the positions of the first declared keys, shared by the
// calls that declare few (no allocation per call).
var evalKeyPos = func() (p [16]int) {
	for i := range p {
		p[i] = 3 + i
	}
	return p
}()

// scriptLocksAll says whether a script call needs every shard: outside
// cluster mode a script may touch any key; in cluster mode a script
// without declared keys, or one allowed to cross slots (no shebang, or
// allow-cross-slot-keys), may touch any key served here.
func scriptLocksAll(srv any, args [][]byte) bool {
	s, _ := srv.(*Server)
	if s == nil || s.cluster == nil || len(evalKeys(args)) == 0 {
		return true
	}
	name := args[0]
	switch {
	case commands.EqualFold(name, "eval") || commands.EqualFold(name, "eval_ro"):
		line := args[1]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		return !bytes.HasPrefix(line, []byte("#!")) || bytes.Contains(line, []byte("allow-cross-slot-keys"))
	case commands.EqualFold(name, "evalsha") || commands.EqualFold(name, "evalsha_ro"):
		sc := s.scripts.Get(args[1])
		return sc == nil || sc.Flags&(scripting.FlagEvalCompat|scripting.FlagAllowCrossSlot) != 0
	}
	return s.functionLocksAll(args)
}

// scriptSerial says whether a script call run by itself takes only its
// declared keys' shards at first, and the shards of any other key it
// touches as it goes (commands.Held.Serial): outside cluster mode. Its
// commands lock what they need (scriptCall.lockFor) under the keyspace's
// serial lock, which the script holds until it ends: scripts run one at
// a time, as in Redis, while commands of other clients on shards the
// script has not taken go on (a script holds what it touched until it
// ends, so it stays atomic against them). In EXEC a script still takes
// every shard (scriptLocksAll).
func scriptSerial(srv any, _ [][]byte) bool {
	s, _ := srv.(*Server)
	return s == nil || s.cluster == nil
}

func cmdEval(s *Server, cc *Client, c *commands.Ctx) {
	name := c.Cmd.Name
	bySHA := name == "evalsha" || name == "evalsha_ro"
	ro := name == "eval_ro" || name == "evalsha_ro"
	nk, ok := numKeys(c)
	if !ok {
		return
	}
	var sc *scripting.Script
	if bySHA {
		if len(c.Args[1]) == 40 && cc.luaDebug != 0 {
			c.Error("ERR Please use EVAL instead of EVALSHA for debugging")
			return
		}
		if sc = s.scripts.Get(c.Args[1]); sc == nil {
			c.Error(scripting.ErrNoScript)
			return
		}
	} else {
		var errText string
		if sc, errText = s.scripts.Load(c.Args[1]); sc == nil {
			c.Error(errText)
			return
		}
	}
	if msg := s.scriptRefusal(cc, sc.Flags, ro); msg != "" {
		c.Error(msg)
		return
	}
	readOnly := ro || sc.Flags&scripting.FlagEvalCompat == 0 && sc.Flags&scripting.FlagNoWrites != 0
	run := &scripting.Run{Script: sc, Name: sc.SHA, Keys: c.Args[3 : 3+nk], Args: c.Args[3+nk:],
		ReadOnly: readOnly, Eval: true}
	if cc.luaDebug != 0 && cc.conn != nil {
		s.debugScript(cc, c, run, sc.Flags)
		return
	}
	s.runScript(cc, c, run, sc.Flags)
}

// numKeys parses numkeys (args[2]) or replies the error.
func numKeys(c *commands.Ctx) (int, bool) {
	n, ok := commands.ParseInt(c.Args[2])
	switch {
	case !ok:
		c.Error(commands.ErrNotInt)
	case n > int64(len(c.Args)-3):
		c.Error(scripting.ErrNumkeysBig)
		ok = false
	case n < 0:
		c.Error(scripting.ErrNumkeysNeg)
		ok = false
	}
	return int(n), ok
}

// obeys reports whether cc is our master's stream or the AOF loader:
// their scripts are not refused and cannot be killed.
func (s *Server) obeys(cc *Client) bool { return cc == nil || cc == s.masterClient || cc.conn == nil }

// scriptRefusal is what Redis checks before a script with flags runs
// (scriptPrepareForRun): the error text, or "".
func (s *Server) scriptRefusal(cc *Client, flags scripting.Flags, ro bool) string {
	obey := s.obeys(cc)
	stale := s.staleReplica()
	if !obey && !cc.inExec {
		// What Redis checks before any command runs, with the script's
		// flags as EVAL's or FCALL's own: a write script on a read-only
		// replica, then a stale replica (the script's own texts below are
		// for the same checks inside MULTI/EXEC).
		if flags&(scripting.FlagEvalCompat|scripting.FlagNoWrites) == 0 && s.isReplica.Load() && s.Cfg.Bool("replica-read-only") {
			return "READONLY You can't write against a read only replica."
		}
		if stale && (flags&scripting.FlagEvalCompat != 0 || flags&scripting.FlagAllowStale == 0) {
			return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
		}
	}
	if flags&scripting.FlagEvalCompat != 0 {
		if stale && !obey {
			return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
		}
		return ""
	}
	if flags&scripting.FlagNoCluster != 0 && s.cluster != nil {
		return scripting.ErrNoCluster
	}
	if stale && flags&scripting.FlagAllowStale == 0 && !obey {
		return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."
	}
	if flags&scripting.FlagNoWrites == 0 {
		if s.isReplica.Load() && s.Cfg.Bool("replica-read-only") && !obey {
			return "READONLY Can not run script with write flag on readonly replica"
		}
		if msg := s.writesDenied(); msg != "" && !obey {
			if strings.Contains(msg, "RDB") {
				return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
			}
			return msg
		}
		if ro {
			return scripting.ErrROWriteFlag
		}
		if msg := s.minReplicasRefusal(); msg != "" {
			return msg
		}
	}
	if flags&(scripting.FlagAllowOOM|scripting.FlagNoWrites) == 0 && !obey && cc.oomAtStart && s.mem.max.Load() > 0 {
		if !cc.inExec {
			return errOOM // the script's flags make EVAL/FCALL a deny-oom command
		}
		return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
	}
	return ""
}

// staleReplica reports whether this is a replica whose link is down with
// replica-serve-stale-data no.
func (s *Server) staleReplica() bool {
	if s.isReplica.Load() && !s.Cfg.Bool("replica-serve-stale-data") {
		if mi, ok := s.repl.Following(); ok && !mi.Link.Up {
			return true
		}
	}
	return false
}

// scriptCall is the host of one script's run: it runs the commands the
// script calls (scripting.Host) and is their commands.Host.
type scriptCall struct {
	s        *Server
	cc       *Client // the caller
	pc       *Client // the script's own client: its database, server commands
	run      *scripting.Run
	held     commands.Held
	now      int64
	slot     int  // the slot the script's keys are in, -1 before the first
	cross    bool // keys of several slots allowed (no shebang, or allow-cross-slot-keys)
	obey     bool
	allowOOM bool // the script's allow-oom flag
	wrote    bool
	tracked  bool // the caller remembers the script's keys (trackRead)
	refused  string
	props    []scriptProp
	ready    []readyKey // written keys clients are blocked on: served when the script ends
	// The databases as the script sees them (its start time): the first
	// one used, then any other SELECTed.
	db      *keyspace.DB // &view
	view    keyspace.DB
	dbIndex int
	dbs     map[int]*keyspace.DB
	ctx     commands.Ctx // the running command's, reused
	// With held.Serial, held.Shards[:own] are the declared keys' shards
	// (commands.Run's), the rest were taken as the script went on and
	// are released when it ends (unlockMore).
	own      int
	shardBuf [8]int
	posBuf   [8]int
	// A SCRIPT DEBUG YES session: the engine undoes its writes at the
	// end (Quiet), so none of them is propagated.
	rollback bool
}

type scriptProp struct {
	db   int
	args [][]byte
	repl int // where it goes (redis.set_repl when it ran)
}

type readyKey struct {
	db  *keyspace.DB
	key []byte
}

// runScript runs run for cc under the locks of c's commands.Run and sends
// its effects to the AOF and replicas.
func (s *Server) runScript(cc *Client, c *commands.Ctx, run *scripting.Run, flags scripting.Flags) {
	sc := scriptCalls.Get().(*scriptCall)
	defer sc.release()
	*sc = scriptCall{s: s, cc: cc, run: run, now: c.Now, slot: -1, obey: s.obeys(cc),
		cross:    flags&(scripting.FlagEvalCompat|scripting.FlagAllowCrossSlot) != 0,
		allowOOM: flags&scripting.FlagAllowOOM != 0, props: sc.props[:0]}
	defer sc.unlockMore() // before release (deferred calls run last first)
	if c.Held.Serial {
		sc.held = commands.Held{Shards: append(sc.shardBuf[:0], c.Held.Shards...), Serial: true}
		sc.own = len(c.Held.Shards)
		if run.Debug != nil {
			sc.lockRest() // a debugging session's rollback may touch any key
		}
	} else if c.Cmd.NeedsAll(s, c.Args) {
		sc.held = commands.Held{All: true}
	} else {
		pos := c.Cmd.KeyPositions(c.Args, nil)
		sc.held = commands.Held{Shards: commands.Shards(c.Args, pos, nil)}
	}
	if s.cluster != nil && len(run.Keys) > 0 {
		sc.slot = slotOf(run.Keys[0])
	}
	sc.pc = cc.scriptClient()
	if cc != nil {
		sc.pc.user.Store(cc.user.Load()) // ACL WHOAMI inside the script
	}
	sc.pc.db = c.DB.Index()
	run.Host = sc
	run.FromMaster = sc.obey
	run.Start = c.Start // EVAL's own start: no new reading of the clock
	sc.rollback = run.Debug != nil && run.Debug.Rollback
	s.scripts.Run(run, c.W)
	cc.errCounted = run.ErrorCounted
	if sc.rollback { // its writes were undone: nothing leaves
		return
	}
	if run.Killed() && run.Wrote() { // by SHUTDOWN NOSAVE: its writes never leave
		return
	}
	sc.propagate()
	for _, r := range sc.ready {
		// Blocked clients see the script's result, not its steps.
		s.serveReady(r.db, [][]byte{r.key}, sc.held)
	}
}

// trackRead: a read-only command of the script makes a tracking caller
// remember the script's declared keys, not the keys the command reads
// (Redis 7.0's call() remembers the keys of server.script_caller's own
// command); a script that reads nothing remembers nothing.
func (sc *scriptCall) trackRead(ctx *commands.Ctx) {
	cc := sc.cc
	if sc.tracked || cc == nil || !cc.tracking.Load() || !ctx.Cmd.Has(commands.FReadonly) || ctx.Cmd.Has(commands.FPubSub) {
		return
	}
	sc.tracked = true
	sc.s.track.Remember(cc.id, sc.run.Keys)
}

// scriptCalls keeps scriptCalls between scripts: one script's host and
// the Ctx of its commands cost no allocation.
var scriptCalls = sync.Pool{New: func() any { return new(scriptCall) }}

// release returns sc to the pool once its script is over (nothing keeps
// it: the run's Host is cleared).
func (sc *scriptCall) release() {
	sc.run.Host = nil
	clear(sc.props)
	*sc = scriptCall{props: sc.props[:0]}
	scriptCalls.Put(sc)
}

// propagate sends the script's effects to the AOF and replicas: wrapped
// in MULTI/EXEC when more than one, into EXEC's stream inside a
// transaction; what redis.set_repl kept from one side goes to the other
// only.
func (sc *scriptCall) propagate() {
	s, cc := sc.s, sc.cc
	if len(sc.props) == 0 {
		return
	}
	all := true
	for _, p := range sc.props {
		all = all && p.repl == scripting.ReplAll
	}
	if all || cc != nil && cc.inExec {
		sc.feed(sc.props, nil)
		return
	}
	isRepl := func(i int) bool { return int(s.replProp.Load()) == i+1 }
	var aof, repl []scriptProp
	for _, p := range sc.props {
		if p.repl&scripting.ReplAOF != 0 {
			aof = append(aof, p)
		}
		if p.repl&scripting.ReplReplica != 0 {
			repl = append(repl, p)
		}
	}
	if len(aof) > 0 {
		sc.feed(aof, func(i int) bool { return !isRepl(i) })
	}
	if len(repl) > 0 {
		sc.feed(repl, isRepl)
	}
}

func (sc *scriptCall) feed(props []scriptProp, keep func(int) bool) {
	s, cc := sc.s, sc.cc
	if cc != nil && cc.inExec {
		for _, p := range props {
			if len(cc.execProps) == 0 {
				cc.execDB = p.db
			} else if p.db != cc.execDB {
				cc.execProps = append(cc.execProps, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(p.db))})
				cc.execDB = p.db
			}
			cc.execProps = append(cc.execProps, p.args)
		}
		return
	}
	db := props[0].db
	cmds := make([][][]byte, 0, len(props)+2)
	if len(props) > 1 {
		cmds = append(cmds, [][]byte{[]byte("MULTI")})
	}
	cur := db
	for _, p := range props {
		if p.db != cur {
			cmds = append(cmds, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(p.db))})
			cur = p.db
		}
		cmds = append(cmds, p.args)
	}
	if len(props) > 1 {
		cmds = append(cmds, [][]byte{[]byte("EXEC")})
	}
	s.feedOnly(cc, db, cmds, keep)
}

func slotOf(key []byte) int { return slot.Of(key) }

// scriptClient is the pseudo-client the commands of cc's scripts run as,
// made on first use.
func (cc *Client) scriptClient() *Client {
	if cc.luaClient == nil {
		cc.luaClient = cc.srv.newPseudoClient()
		cc.luaClient.authed = true
		cc.luaClient.script = true
	}
	return cc.luaClient
}

// refuse is what stops a script's command before it runs, by the
// server's state (scriptVerifyWriteCommandAllow, scriptVerifyOOM): the
// error text with its code, or "".
func (sc *scriptCall) refuse(cmd *commands.Command, args [][]byte) string {
	s := sc.s
	if msg := s.aclScriptRefusal(sc.cc, cmd, args); msg != "" {
		return msg
	}
	if cmd.Has(commands.FWrite) && !sc.wrote && !sc.obey {
		// Refused only before the script's first write: after it, failing
		// would leave half a script applied.
		if s.isReplica.Load() && s.Cfg.Bool("replica-read-only") {
			return "-READONLY You can't write against a read only replica."
		}
		if msg := s.writesDenied(); msg != "" {
			return "-" + msg
		}
		if msg := s.minReplicasRefusal(); msg != "" {
			return "-" + msg
		}
	}
	if cmd.Has(commands.FDenyOOM) && !sc.wrote && !sc.obey && !sc.allowOOM && sc.cc.oomAtStart && s.mem.max.Load() > 0 {
		// Out of memory when the script started, and nothing written yet.
		return "-" + errOOM
	}
	return ""
}

// Call runs one command of the script (scripting.Host). A command
// refused before it runs counts as a rejected call of it, as Redis.
func (sc *scriptCall) Call(r *scripting.Run, cmd *commands.Command, args [][]byte, w *resp.Writer) string {
	s := sc.s
	if msg := sc.refuse(cmd, args); msg != "" {
		cmd.RejectedCalls.Add(1)
		return msg
	}
	if cmd.Has(commands.FWrite) {
		sc.wrote = true
	}
	if sc.held.Serial {
		sc.lockFor(cmd, args)
	} else if !sc.held.All && cmd.NeedsAll(s, args) {
		cmd.RejectedCalls.Add(1)
		return "This Redis command is not allowed from script"
	}
	db := sc.db
	if db == nil || sc.dbIndex != sc.pc.db {
		db = sc.dbs[sc.pc.db]
	}
	if db == nil {
		if sc.cc == s.masterClient {
			db = s.KS.MasterDB(sc.pc.db)
		} else {
			db = s.KS.DB(sc.pc.db)
		}
		// Time stands still while a script runs: every command judges
		// expiry at the script's start, as Redis.
		if sc.db == nil {
			db = db.AtIn(&sc.view, sc.now)
			sc.db, sc.dbIndex = db, sc.pc.db
		} else {
			db = db.At(sc.now)
			if sc.dbs == nil {
				sc.dbs = map[int]*keyspace.DB{}
			}
			sc.dbs[sc.pc.db] = db
		}
	}
	sc.ctx = commands.Ctx{Args: args, Cmd: cmd, W: w, DB: db, KS: s.KS, Client: sc.pc, Srv: s,
		NoBlock: true, Script: true, Now: sc.now, Obey: sc.obey}
	ctx := &sc.ctx
	if s.monitors.n.Load() > 0 && !cmd.Has(commands.FSkipMonitor) && !cmd.Has(commands.FAdmin) {
		s.monitors.feed(sc.pc, args)
	}
	sc.refused = ""
	commands.Run(ctx, commands.LocksHeld, commands.Collect, sc, sc.held)
	if sc.refused != "" {
		w.Buf = w.Buf[:0]
		return sc.refused
	}
	return ""
}

// lockFor takes, for a serial script (held.Serial), the shards of cmd's
// keys that it does not hold yet, or every shard for a command that
// needs them all. Waiting for them cannot deadlock: the script holds the
// keyspace's serial lock, so no other thread waits for a shard while
// holding another out of order or in the middle of taking several.
func (sc *scriptCall) lockFor(cmd *commands.Command, args [][]byte) {
	if sc.held.All {
		return
	}
	if cmd.NeedsAll(sc.s, args) {
		sc.lockRest()
		return
	}
	for _, p := range cmd.KeyPositions(args, sc.posBuf[:0]) {
		if sh := keyspace.ShardOf(args[p]); !heldShard(sc.held, sh) {
			sc.s.KS.LockMore(sh)
			sc.held.Shards = append(sc.held.Shards, sh)
		}
	}
}

// lockRest takes every shard a serial script does not hold yet.
func (sc *scriptCall) lockRest() {
	for sh := 0; sh < keyspace.NShards; sh++ {
		if !heldShard(sc.held, sh) {
			sc.s.KS.LockMore(sh)
			sc.held.Shards = append(sc.held.Shards, sh)
		}
	}
	sc.held.All = true
}

// unlockMore releases the shards a serial script took as it went, once
// its effects are fed (commands.Run releases the declared keys' ones).
func (sc *scriptCall) unlockMore() {
	if sc.held.Serial {
		sc.s.KS.Unlock(sc.held.Shards[sc.own:])
		sc.held.Shards = sc.held.Shards[:sc.own]
	}
}

// ACLCheck is redis.acl_check_cmd (scripting.ACLChecker).
func (sc *scriptCall) ACLCheck(r *scripting.Run, cmd *commands.Command, args [][]byte) bool {
	if sc.cc == nil {
		return true
	}
	res, _ := aclCheck(sc.cc.user.Load(), cmd, args, nil)
	return res == acl.OK
}

// CountError counts the error of a command the script called that was
// refused before it ran (scripting.ErrorCounter).
func (sc *scriptCall) CountError(text string) { sc.s.countError(text) }

// Stale refuses a command not flagged stale on a stale replica
// (scripting.StaleHost).
func (sc *scriptCall) Stale(cmd *commands.Command) string {
	if !cmd.Has(commands.FStale) && sc.s.staleReplica() {
		cmd.RejectedCalls.Add(1)
		return "Can not execute the command on a stale replica"
	}
	return ""
}

// Admit applies the cluster rules for a script's keys (commands.Host):
// served here, and all in one slot unless the script may cross slots.
func (sc *scriptCall) Admit(ctx *commands.Ctx, pos []int) string {
	s := sc.s
	if s.cluster == nil || sc.obey || len(pos) == 0 {
		return ""
	}
	q := cluster.Query{Write: ctx.Cmd.Has(commands.FWrite), ReadOnly: sc.cc.cl.readonly.Load(),
		Asking: sc.cc.cl.routedQ.Asking, Missing: s.cluster.missingLocked}
	for _, p := range pos {
		q.Keys = append(q.Keys, ctx.Args[p])
	}
	red, _, sl := s.cluster.routes.Load().Route(&q)
	switch red {
	case cluster.RouteHere:
	case cluster.RouteDownRO:
		sc.refused = "Script attempted to execute a write command while the cluster is down and readonly"
	case cluster.RouteDown:
		sc.refused = "Script attempted to execute a command while the cluster is down"
	default:
		sc.refused = "Script attempted to access a non local key in a cluster node"
	}
	if sc.refused == "" && !sc.cross {
		if sc.slot == -1 {
			sc.slot = sl
		} else if sc.slot != sl {
			sc.refused = "Script attempted to access keys that do not hash to the same slot"
		}
	}
	if sc.refused == "" && !sc.held.All {
		// Keys outside the locked shards cannot be touched safely.
		for _, p := range pos {
			if !heldShard(sc.held, keyspace.ShardOf(ctx.Args[p])) {
				sc.refused = "Script attempted to access keys that do not hash to the same slot"
				break
			}
		}
	}
	if sc.refused != "" {
		ctx.Cmd.RejectedCalls.Add(1)
		return commands.Retry // no reply: Call returns the refusal to the script
	}
	return ""
}

func heldShard(h commands.Held, i int) bool {
	for _, x := range h.Shards {
		if x == i {
			return true
		}
	}
	return false
}

// BeforeHandler lets a running snapshot capture the keys first.
func (sc *scriptCall) BeforeHandler(ctx *commands.Ctx, pos []int) {
	if sc.s.snapshotting() {
		sc.s.snapshotBeforeWrite(ctx, pos)
	}
	sc.trackRead(ctx)
}

// Written collects the command's effects for the end of the script and
// does what follows any write (commands.Host).
func (sc *scriptCall) Written(ctx *commands.Ctx, pos []int, held commands.Held, _ commands.Effects) {
	s := sc.s
	if sc.rollback { // undone at the end: nothing leaves
		return
	}
	if repl := sc.run.Repl; repl != scripting.ReplNone && s.hasProps.Load() {
		db := ctx.DB.Index()
		if ctx.Props != nil {
			for _, p := range ctx.Props {
				sc.props = append(sc.props, scriptProp{db, p, repl})
			}
		} else {
			sc.props = append(sc.props, scriptProp{db, ctx.Args, repl})
		}
	}
	// afterWrite, with blocked clients served when the script ends.
	s.dirty.Add(int64(ctx.Dirty))
	s.trackWrite(sc.cc, ctx, pos)
	anyBlocked := s.stats.BlockedClients.Load() > 0
	for _, p := range pos {
		ctx.DB.Touch(ctx.Args[p])
		ctx.DB.Resized(ctx.Args[p]) // a collection changed in place: its accounted memory
		if anyBlocked && ctx.DB.HasWaiters(ctx.Args[p]) {
			sc.ready = append(sc.ready, readyKey{ctx.DB, ctx.Args[p]})
		}
	}
	for _, ref := range ctx.OtherDB {
		if other := s.KS.DB(ref.DB); anyBlocked && other.HasWaiters([]byte(ref.Key)) {
			sc.ready = append(sc.ready, readyKey{other, []byte(ref.Key)})
		}
	}
}

// Block is never called: a script's commands do not block.
func (sc *scriptCall) Block(*commands.Ctx) func() { return nil }

// Finished keeps the command's statistics.
func (sc *scriptCall) Finished(ctx *commands.Ctx, replyStart int, dur time.Duration) {
	sc.pc.Finished(ctx, replyStart, dur)
}

func cmdScriptLoad(s *Server, cc *Client, c *commands.Ctx) {
	sc, errText := s.scripts.Load(c.Args[2])
	if sc == nil {
		c.Error(errText)
		return
	}
	c.W.BulkString(sc.SHA)
}

func cmdScriptExists(s *Server, cc *Client, c *commands.Ctx) {
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if s.scripts.Exists(a) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func cmdScriptFlush(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 || len(c.Args) == 3 && !c.ArgIs(2, "sync") && !c.ArgIs(2, "async") {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	s.scripts.Flush()
	c.W.OK()
}

func cmdScriptKill(s *Server, cc *Client, c *commands.Ctx) {
	if msg := s.scripts.Kill(true); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

func cmdScriptHelp(s *Server, cc *Client, c *commands.Ctx) {
	c.W.BulkStrings(scriptHelp)
}

var scriptHelp = []string{
	"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
	"HELP",
	"    Prints this help.",
}

// busyRefusal is the error a command gets while a script is past
// busy-reply-threshold, or "" (commands flagged allow-busy still run).
func (s *Server) busyRefusal(cmd *commands.Command) string {
	if cmd.Has(commands.FAllowBusy) {
		return ""
	}
	return s.busyText()
}

// busyText is the -BUSY error while a script is past the threshold, or "".
func (s *Server) busyText() string {
	r := s.scripts.Busy()
	if r == nil {
		return ""
	}
	if r.Eval {
		return scripting.ErrBusyEval
	}
	return scripting.ErrBusyFunction
}

// newScripting makes the server's script engine, logging to its log.
func (s *Server) newScripting() *scripting.Engine {
	e := scripting.New()
	e.Log = func(level int, msg string) {
		switch level {
		case scripting.LogWarning:
			s.Log.Printf("# %s", msg)
		case scripting.LogNotice:
			s.Log.Printf("%s", msg)
		default:
			s.Log.Printf(". %s", msg)
		}
	}
	e.Verbosity = func() int {
		switch s.Cfg.Get("loglevel") {
		case "debug":
			return scripting.LogDebug
		case "verbose":
			return scripting.LogVerbose
		case "warning":
			return scripting.LogWarning
		}
		return scripting.LogNotice
	}
	return e
}

// busyThreshold is busy-reply-threshold (lua-time-limit).
func (s *Server) busyThreshold() time.Duration {
	return time.Duration(s.Cfg.Int("busy-reply-threshold")) * time.Millisecond
}

// scriptWrites reports whether a call of EVAL, EVALSHA or FCALL (not
// their _RO forms) counts as a write before it runs: a script or function
// whose flags lack no-writes, as Redis's evalGetCommandFlags and
// fcallGetCommandFlags make such a call CMD_WRITE (a script without a
// shebang is judged by the commands it runs, as in Redis).
func (s *Server) scriptWrites(cmd *commands.Command, args [][]byte) bool {
	var flags scripting.Flags
	switch cmd.Name {
	case "eval":
		flags, _, _ = scripting.ParseShebang(string(args[1]))
	case "evalsha":
		sc := s.scripts.Get(args[1])
		if sc == nil {
			return false
		}
		flags = sc.Flags
	case "fcall":
		fn := s.scripts.Function(args[1])
		if fn == nil {
			return false
		}
		flags = fn.Flags
	default:
		return false
	}
	return flags&(scripting.FlagEvalCompat|scripting.FlagNoWrites) == 0
}

// functionLocksAll: FCALL of a function allowed to cross slots locks
// every shard.
func (s *Server) functionLocksAll(args [][]byte) bool {
	fn := s.scripts.Function(args[1])
	return fn != nil && fn.Flags&scripting.FlagAllowCrossSlot != 0
}
