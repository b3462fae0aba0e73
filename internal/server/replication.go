package server

// The server's side of replication (internal/replication): the Host it
// hands to replication.New, the master's pseudo-client that runs the
// replication stream through commands.Run, and the hooks the client loop
// and the dispatcher call (a connection taken over by SYNC/PSYNC, the
// read-only replica, min-replicas-to-write).

import (
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"redgo/internal/commands"
	"redgo/internal/persist"
	"redgo/internal/replication"
)

// replHost is the server as replication sees it.
type replHost struct{ s *Server }

func (h replHost) Logf(format string, args ...any) { h.s.Log.Printf(format, args...) }
func (h replHost) Go(fn func())                    { h.s.goTracked(fn) }
func (h replHost) Done() <-chan struct{}           { return h.s.quit }
func (h replHost) Config(name string) string       { return h.s.Cfg.Get(name) }

func (h replHost) ListenPort() int {
	return h.s.Port()
}

func (h replHost) Snapshot(atInstant func()) (func(io.Writer) error, error) {
	return h.s.persist.Snapshot(atInstant), nil
}

// LoadSnapshot loads our master's snapshot (persist.LoadReplicated says
// when clients are told with -LOADING).
func (h replHost) LoadSnapshot(r io.Reader, size int64, mode replication.LoadMode) error {
	switch mode {
	case replication.LoadInPlace:
		h.s.masterWriteEnd.Store(0) // a new history starts at the snapshot's offset
		return h.s.persist.LoadReplicated(r, size)
	case replication.LoadViaDisk:
		return h.s.persist.LoadReplicatedViaDisk(r, size, func() {
			h.s.repl.LoadStarting()
			h.s.masterWriteEnd.Store(0)
		})
	}
	err := h.s.persist.LoadReplicatedAside(r, size, mode == replication.LoadAsync)
	if err == nil {
		h.s.masterWriteEnd.Store(0)
	}
	return err
}
func (h replHost) Apply(args [][]byte, end int64) { h.s.applyFromMaster(args, end) }
func (h replHost) Prefetch(stream []byte) int {
	s := h.s
	return commands.PrefetchQueued(s.KS.DB(int(s.masterStreamDB.Load())), stream, &s.masterClient.pfKeys)
}

func (h replHost) PauseWrites(on bool) {
	if !on {
		h.s.pause.unpause(pauseFailover)
		return
	}
	h.s.pause.set(pauseFailover, time.Now().Add(24*time.Hour), false)
	h.s.KS.LockAll() // the writes already running have fed the stream
	h.s.KS.UnlockAll()
}

func (h replHost) StartPropagating() {
	h.s.replProp.Store(int32(h.s.AddPropagator(h.s.repl)) + 1)
}

func (h replHost) RoleChanged(replica bool) {
	h.s.KS.Replica.Store(replica)
	h.s.isReplica.Store(replica)
	h.s.oom.SetReplica(replica) // the replica class of oom-score-adj-values
	if replica {
		// Not here: the caller holds the replication lock, and a client
		// being served holds its block state's lock. The master's stream
		// starts only after the sync, well after this has run.
		h.s.goTracked(h.s.unblockAllForRole)
	}
}

// masterState is the master pseudo-client's transaction: the stream's
// MULTI ... EXEC runs as one unit once EXEC arrives.
type masterState struct {
	tx *multiState // commands queued since MULTI; nil outside a transaction
}

// applyFromMaster runs one command of our master's stream as the
// master's client (Redis's server.master): SELECT moves it, a
// transaction is queued until EXEC, and everything else runs through
// commands.Run with its effects propagated (to the AOF; our own replicas
// get the master's stream verbatim from the backlog).
func (s *Server) applyFromMaster(args [][]byte, end int64) {
	mc := s.masterClient
	s.masterApplyEnd = end
	s.masterApplied.Add(1)
	switch {
	case commands.EqualFold(args[0], "select") && len(args) == 2 && s.masterTx.tx == nil:
		// (Inside MULTI a SELECT is queued: it moves the commands after
		// it, as a script that selects propagates.)
		if db, err := strconv.Atoi(string(args[1])); err == nil && db >= 0 && db < s.KS.NumDB() {
			mc.db = db
			s.masterStreamDB.Store(int32(db))
		}
		return
	case commands.EqualFold(args[0], "multi"):
		s.masterTx.tx = &multiState{}
		return
	case commands.EqualFold(args[0], "exec") && s.masterTx.tx != nil:
		// Run as EXEC runs a client's transaction: every shard it
		// touches locked for its whole run, fed whole to our AOF.
		mc.multi, s.masterTx.tx = s.masterTx.tx, nil
	}
	cmd, errText := s.findCommand(args)
	if errText != "" || cmd.Handler == nil {
		s.Log.Printf("# Command from the master refused: %s", errText)
		return
	}
	if s.masterTx.tx != nil {
		s.masterTx.tx.queue(cmd, args, false)
		return
	}
	// The master client's own Ctx (the stream's goroutine is its only
	// user): one made per command escaped to the heap, and its garbage
	// was most of what the collector did on a replica under load.
	ctx := &mc.ctx
	*ctx = commands.Ctx{Args: args, Cmd: cmd, W: &mc.w, DB: s.KS.MasterDB(mc.db), KS: s.KS, Client: mc, Srv: s,
		NoBlock: true, Obey: true}
	commands.Run(ctx, commands.LockHere, commands.Propagate, mc, commands.Held{})
	if b := mc.w.Buf; len(b) > 0 && b[0] == '-' {
		s.Log.Printf("# Error from the master's command %q: %s", args[0], strings.TrimSpace(string(b[1:])))
	}
	mc.w.Buf = mc.w.Buf[:0]
	mc.durable = mc.durable[:0]
}

// readOnlyRefusal is the error a write gets on a replica, or "".
func (s *Server) replicaRefusal(c *Client, cmd *commands.Command) string {
	if !s.isReplica.Load() || c == s.masterClient {
		return ""
	}
	if s.Cfg.Bool("replica-read-only") && (cmd.Has(commands.FWrite) || cmd.Name == "exec" && c.multi.has(commands.FWrite)) {
		return "READONLY You can't write against a read only replica."
	}
	if !s.Cfg.Bool("replica-serve-stale-data") && (!cmd.Has(commands.FStale) || cmd.Name == "exec" && c.multi.lacks(commands.FStale)) {
		if mi, ok := s.repl.Following(); ok && !mi.Link.Up {
			return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
		}
	}
	return ""
}

// minReplicasRefusal is min-replicas-to-write's error for a write on a
// master without enough good replicas, or "".
func (s *Server) minReplicasRefusal() string {
	need := s.minReplicas.Load()
	if need == 0 || s.isReplica.Load() {
		return ""
	}
	if s.repl.GoodReplicas(s.Cfg.Int("min-replicas-max-lag")) < need {
		return "NOREPLICAS Not enough good replicas to write."
	}
	return ""
}

// peerIP is the IP part of a client's address.
func peerIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// replInfo is what an RDB file made now records of replication
// (persist.Host.ReplInfo; every shard is locked). On a replica the
// offset is the one of the last write applied if the stream's goroutine
// has not recorded it yet: no write is counted twice after a restart.
func (s *Server) replInfo() (persist.ReplInfo, bool) {
	si, ok := s.repl.SaveInfo()
	if !ok {
		return persist.ReplInfo{}, false
	}
	if si.DB < 0 {
		si.DB = int(s.masterStreamDB.Load())
		si.Offset = max(si.Offset, s.masterWriteEnd.Load())
	}
	return persist.ReplInfo{ID: si.ID, Offset: si.Offset, DB: si.DB}, true
}

// restoreReplication continues the history the RDB file loaded at start
// recorded (loadDataFromDisk).
func (s *Server) restoreReplication(replica bool) {
	ri, ok := s.persist.Restored()
	if !ok {
		return
	}
	s.repl.Restore(replication.SaveInfo{ID: ri.ID, Offset: ri.Offset, DB: ri.DB}, replica)
	if replica {
		s.masterClient.db = ri.DB
		s.masterStreamDB.Store(int32(ri.DB))
		return
	}
	del := []byte("DEL")
	if s.Cfg.Bool("lazyfree-lazy-expire") {
		del = []byte("UNLINK")
	}
	for _, k := range s.persist.ExpiredAtLoad() {
		s.repl.FeedAtStart(k.DB, del, []byte(k.Key))
	}
}

// recordReplicaof makes the replicaof directive the master we follow now
// (REPLICAOF, FAILOVER and NO ONE change it), for CONFIG GET and CONFIG
// REWRITE, as Redis's rewrite writes its current masterhost. In cluster
// mode replication follows nodes.conf instead.
func (s *Server) recordReplicaof() {
	if s.cluster != nil {
		return
	}
	v := ""
	if mi, ok := s.repl.Following(); ok {
		v = mi.Host + " " + strconv.Itoa(mi.Port)
	}
	s.Cfg.Record("replicaof", v)
}

// startReplication follows replicaof from the config file, if set.
func (s *Server) startReplication() {
	s.repl.Start()
	if v := s.Cfg.Get("replicaof"); v != "" && s.cluster == nil {
		f := strings.Fields(v)
		if len(f) == 2 {
			if port, err := strconv.Atoi(f[1]); err == nil {
				s.repl.ReplicaOf(f[0], port, s.Cfg.Get("masterauth"), s.Cfg.Get("masteruser"))
			}
		}
	}
}

var _ replication.Host = replHost{}
