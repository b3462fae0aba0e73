package server

// The server's side of persistence (internal/persist): the persist.Host it
// hands to persist.New, the options that choose the file system, and the
// hooks the dispatcher calls (Redis's loadDataFromDisk at start, the
// snapshot's write hook, writeCommandsDeniedByDiskError).

import (
	"errors"
	"time"

	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/persist"
	"redgo/internal/resp"
	"redgo/internal/vfs"
)

// Option is a choice made when a server is built that is not a setting of
// the config file.
type Option func(*persist.Options)

// WithFS makes the server keep its AOF and RDB files in fs (a vfs.MemFS in
// tests) instead of the operating system's file system.
func WithFS(fs vfs.FS) Option { return func(o *persist.Options) { o.FS = fs } }

// WithSnapshotWalk sets how many keys a snapshot encodes per hold of a
// shard lock, and a hook run before it takes each slot (tests).
func WithSnapshotWalk(chunk int, hook func(db, slot int)) Option {
	return func(o *persist.Options) { o.WalkChunk, o.WalkHook = chunk, hook }
}

// LoadData loads the dataset at start-up, before the listener serves
// clients: the AOF when appendonly is on, else the RDB file (dbfilename in
// dir).
func (s *Server) LoadData() error {
	replica := s.cluster == nil && s.Cfg.Get("replicaof") != ""
	if cm := s.cluster; cm != nil {
		cm.mu.Lock()
		replica = cm.st.IsReplica()
		cm.mu.Unlock()
	}
	s.persist.LoadAsReplica(replica)
	if replica {
		// No active expiry until replication says otherwise (activeExpireCycle
		// runs only when iAmMaster()).
		s.KS.Replica.Store(true)
	}
	if err := s.persist.Load(); err != nil {
		return err
	}
	s.restoreReplication(replica)
	return nil
}

// snapshotting reports whether a snapshot is being written: only then do
// writes call snapshotBeforeWrite.
func (s *Server) snapshotting() bool { return s.persist.Snapshotting() }

// snapshotBeforeWrite runs just before a write command's handler, with the
// command's shards held, while a snapshot is being written: the keys the
// command may write are captured first.
func (s *Server) snapshotBeforeWrite(ctx *commands.Ctx, pos []int) { s.persist.BeforeWrite(ctx, pos) }

// writesDenied is the error a write command (and PING) gets instead of
// running after a failed save or AOF write, or "".
func (s *Server) writesDenied() string { return s.persist.WritesDenied() }

// host is the server as persistence sees it.
type host struct {
	s      *Server
	loader *Client // the pseudo-client commands read from the AOF run as
}

func (h host) Config() *config.Config             { return h.s.Cfg }
func (h host) Keyspace() *keyspace.Keyspace       { return h.s.KS }
func (h host) Logf(format string, args ...any)    { h.s.Log.Printf(format, args...) }
func (h host) Go(fn func())                       { h.s.goTracked(fn) }
func (h host) Done() <-chan struct{}              { return h.s.quit }
func (h host) Dirty() int64                       { return h.s.dirty.Load() }
func (h host) Saved(n int64)                      { h.s.dirty.Add(-n) }
func (h host) AddPropagator(p persist.Propagator) { h.s.AddPropagator(p) }

func (h host) PauseWrites(on bool) {
	if on {
		h.s.pause.set(pauseShutdown, time.Now().Add(time.Hour), false)
	} else {
		h.s.pause.unpause(pauseShutdown)
	}
}

// ExecLoaded runs one command read from the AOF through commands.Run, as
// the AOF pseudo-client (Redis's fake client): it takes its locks, its
// effects go nowhere, and a command that would block replies as if it
// timed out. Loading at start and a rewrite's replay never overlap, so one
// pseudo-client serves both.
func (h host) ReplInfo() (persist.ReplInfo, bool) { return h.s.replInfo() }

func (h host) ExecLoaded(ks *keyspace.Keyspace, db int, args [][]byte, w *resp.Writer) {
	cmd, errText := h.s.findCommand(args)
	if errText != "" || cmd.Handler == nil {
		return
	}
	c := &commands.Ctx{Args: args, Cmd: cmd, W: w, DB: ks.DB(db), KS: ks, Now: ks.Now(), NoBlock: true,
		Client: h.loader, Srv: h.s, Obey: true}
	h.loader.db = db
	commands.Run(c, commands.LockHere, commands.Drop, nil, commands.Held{})
}

// FunctionCodes gives persistence the function libraries to save
// (persist.FunctionHost).
func (h host) FunctionCodes() [][]byte {
	var out [][]byte
	for _, l := range h.s.scripts.Libraries() {
		out = append(out, []byte(l.Code))
	}
	return out
}

// LoadFunction loads a library read from an RDB file (persist.FunctionHost).
func (h host) LoadFunction(code []byte, replace bool) error {
	if _, errText := h.s.scripts.LoadLibrary(string(code), replace); errText != "" {
		return errors.New(errText)
	}
	return nil
}

// FlushFunctions removes every library (persist.FunctionHost).
func (h host) FlushFunctions() { h.s.scripts.FlushFunctions() }
