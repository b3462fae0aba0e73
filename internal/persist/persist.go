// Package persist is a node's persistence lifecycle, as Redis's rdb.c and
// aof.c around their file formats: loading the dataset at start
// (loadDataFromDisk: the AOF's files, else dbfilename), the save rules
// (serverCron's "save" check), SAVE/BGSAVE without fork (rdbSaveBackground),
// the AOF turned on and off at run time (startAppendOnly, stopAppendOnly),
// its rewrite (rewriteAppendOnlyFileBackground), the final save at
// shutdown (prepareForShutdown) and the INFO persistence fields.
//
// The formats are elsewhere: internal/rdb encodes and decodes RDB images,
// internal/aof appends, scans and lists (manifest) AOF files. Every file
// goes through the vfs.FS given in Options.
//
// A Persist belongs to one server, which hands it a Host. It keeps no
// process-wide state: two servers in one process persist independently.
// The host's duties:
//
//  1. Build it with New before serving, and call Load once, before the
//     listener serves clients; a Load error means the server must not
//     start.
//  2. Call BeforeWrite (when Snapshotting reports true) just before a
//     write command's handler runs, with the command's shards held, so a
//     snapshot in progress captures the keys first.
//  3. Refuse writes for which WritesDenied returns a reply text.
//  4. Count changes (Host.Dirty, Host.Saved) and register what AddPropagator
//     is given, feeding it every write in effect order.
//  5. Call Shutdown before closing for SHUTDOWN (and SIGTERM); close the
//     Host.Done channel and wait for the goroutines started by Host.Go
//     when the server closes.
//  6. Run the commands the AOF replays (Host.ExecLoaded) as the
//     dispatcher would, with no client.
package persist

import (
	"sync/atomic"
	"time"

	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
	"redgo/internal/vfs"
)

// Host is what persistence needs from the server that owns it.
type Host interface {
	// Config holds the settings (dir, dbfilename, appendonly, save...).
	Config() *config.Config
	// Keyspace is the live dataset.
	Keyspace() *keyspace.Keyspace
	// Logf writes one line to the server's log.
	Logf(format string, args ...any)
	// Go runs fn in a goroutine the server waits for when it closes.
	Go(fn func())
	// Done is closed when the server closes.
	Done() <-chan struct{}
	// Dirty is the number of changes since the last save.
	Dirty() int64
	// Saved subtracts n changes (those a save covered) from Dirty.
	Saved(n int64)
	// AddPropagator registers p to be fed every write from now on (the AOF).
	AddPropagator(p Propagator)
	// PauseWrites holds write commands before they run (on), or lets them
	// run again (off): no write is acknowledged after the final save.
	PauseWrites(on bool)
	// ReplInfo is what an RDB file records of replication (the aux
	// fields repl-stream-db, repl-id, repl-offset); ok false for none.
	// It is called with every shard locked, at a snapshot's instant.
	ReplInfo() (ReplInfo, bool)
	// ExecLoaded runs one command read from the AOF against database db
	// of ks, with no client, its reply going to w; a command that would
	// block replies as if it timed out.
	ExecLoaded(ks *keyspace.Keyspace, db int, args [][]byte, w *resp.Writer)
}

// FunctionHost is implemented by a Host that has functions (FUNCTION
// LOAD): RDB files carry their libraries (the FUNCTION2 opcode, as Redis
// 7.0) and loading one gives them back.
type FunctionHost interface {
	// FunctionCodes returns the code of every library.
	FunctionCodes() [][]byte
	// LoadFunction loads a library read from an RDB file; one of the
	// same name is replaced when replace, else it is an error.
	LoadFunction(code []byte, replace bool) error
	// FlushFunctions removes every library (the dataset is replaced).
	FlushFunctions()
}

// functionCodes returns the libraries to write in an RDB file.
func (p *Persist) functionCodes() [][]byte {
	if fh, ok := p.h.(FunctionHost); ok {
		return fh.FunctionCodes()
	}
	return nil
}

// loadFunction is the RDB loader's handler of a library.
func (p *Persist) loadFunction(code []byte) error { return p.loadFunctionAs(code, true) }

func (p *Persist) loadFunctionAs(code []byte, replace bool) error {
	if fh, ok := p.h.(FunctionHost); ok {
		return fh.LoadFunction(code, replace)
	}
	return nil
}

// flushFunctions removes the libraries before a new dataset arrives.
func (p *Persist) flushFunctions() {
	if fh, ok := p.h.(FunctionHost); ok {
		fh.FlushFunctions()
	}
}

// Propagator receives every write in effect order (server.Propagator).
type Propagator interface {
	Feed(db int, cmds [][][]byte) int64
	WaitDurable(seq int64) error
	Pending() int64
}

// Options are the parts of a Persist that are not settings.
type Options struct {
	// FS is the file system of the AOF and the RDB files (nil: vfs.OS).
	FS vfs.FS
	// WalkChunk is how many keys a snapshot's walk encodes per hold of a
	// shard lock (0: 64).
	WalkChunk int
	// WalkHook, when set, runs before the walk takes each slot (tests).
	WalkHook func(db, slot int)
}

// Persist is one server's persistence.
type Persist struct {
	h   Host
	fs  vfs.FS
	opt Options

	aofSt     atomic.Pointer[aofState] // aof.go, nil until first used
	rdbSt     atomic.Pointer[rdbState] // rdb.go, nil until first used
	snapshots atomic.Int32             // snapshots receiving BeforeWrite
	lastSave  atomic.Int64             // unix seconds of the last successful save (LASTSAVE)
	bgJobs    atomic.Int64             // background saves and AOF rewrites started (INFO total_forks)
	asReplica atomic.Bool              // LoadAsReplica
	load      loadState                // a replica's load of its master's snapshot (replica.go)
	restored  *ReplInfo                // what the RDB file loaded at start recorded of replication
	// expiredAtLoad: the keys the RDB file loaded at start had that had
	// expired, kept when the file recorded a history (Restored).
	expiredAtLoad []ExpiredKey
}

// ExpiredKey is a key a load skipped because it had expired.
type ExpiredKey struct {
	DB  int
	Key string
}

// ReplInfo is a replication history as an RDB file records it (Redis's
// rdbSaveInfo): the ID, the offset the dataset corresponds to and the
// database the stream had selected.
type ReplInfo struct {
	ID     string
	Offset int64
	DB     int
}

// Restored returns the replication history the RDB file loaded at start
// recorded, if any (not after loading an AOF: Redis 7.0 restores it from
// a plain RDB file only).
func (p *Persist) Restored() (ReplInfo, bool) {
	if p.restored == nil {
		return ReplInfo{}, false
	}
	return *p.restored, true
}

// ExpiredAtLoad returns, once, the keys the RDB file loaded at start
// held past their expiry and the load skipped, when the file recorded a
// history (Restored): a restarted master tells its replicas to delete
// them, as Redis feeds their DELs to its backlog while loading.
func (p *Persist) ExpiredAtLoad() []ExpiredKey {
	k := p.expiredAtLoad
	p.expiredAtLoad = nil
	return k
}

// New returns the persistence of the server h. Nothing starts until Load
// or the first command that saves.
func New(h Host, opt Options) *Persist {
	if opt.FS == nil {
		opt.FS = vfs.OS
	}
	if opt.WalkChunk <= 0 {
		opt.WalkChunk = 64
	}
	p := &Persist{h: h, fs: opt.FS, opt: opt}
	p.lastSave.Store(time.Now().Unix())
	return p
}

// Load loads the dataset at start, before clients are served: the AOF
// when appendonly is on, else the RDB file (dbfilename in dir), as Redis's
// loadDataFromDisk. It also starts the save rules and the AOF's cron.
func (p *Persist) Load() error {
	a, r := p.aofOf(), p.rdbOf()
	if p.h.Config().Bool("appendonly") {
		return a.start()
	}
	return r.loadAtStart()
}

// LoadAsReplica says the node starts as a replica (a replicaof directive,
// or a replica in nodes.conf): the RDB loaded at start keeps the keys that
// already expired, as Redis's rdbLoad when !iAmMaster(), since the
// master's stream may still refer to them.
func (p *Persist) LoadAsReplica(on bool) { p.asReplica.Store(on) }

// LastSave is the unix time of the last successful save (LASTSAVE).
func (p *Persist) LastSave() int64 { return p.lastSave.Load() }

// markSaved records a save that covered dirtyAt changes.
// BackgroundJobs is the number of background saves and AOF rewrites
// started: what Redis forks a child for, so INFO's total_forks.
func (p *Persist) BackgroundJobs() int64 { return p.bgJobs.Load() }

func (p *Persist) markSaved(dirtyAt int64) {
	p.h.Saved(dirtyAt)
	p.lastSave.Store(time.Now().Unix())
}

// Shutdown is SHUTDOWN's persistence step (prepareForShutdown): the final
// RDB save when save is set, then the AOF written and fsynced. An error
// means the server must not exit.
func (p *Persist) Shutdown(save bool) error {
	if st := p.rdbSt.Load(); st != nil {
		if err := st.shutdown(save); err != nil {
			return err
		}
	}
	if st := p.aofSt.Load(); st != nil {
		st.shutdown()
	}
	return nil
}

// Snapshotting reports whether a snapshot is being written: only then
// must the host call BeforeWrite. One atomic load.
func (p *Persist) Snapshotting() bool { return p.snapshots.Load() > 0 }

// WritesDenied is Redis's writeCommandsDeniedByDiskError: the error a
// write command (and PING) gets instead of running, or "". A failed BGSAVE
// (stop-writes-on-bgsave-error), or a failed AOF write or fsync under any
// appendfsync policy: until the flusher's retry (once a second) succeeds,
// nothing is accepted that could not be logged.
func (p *Persist) WritesDenied() string {
	if st := p.aofSt.Load(); st != nil && !st.w.WriteOK() && st.w.On() {
		return MisconfAOF(st.w.LastError())
	}
	return p.rdbWritesDenied()
}

// MisconfAOF is Redis's reply to writes refused after an AOF write error.
func MisconfAOF(errText string) string { return "MISCONF Errors writing to the AOF file: " + errText }
