package persist

// The append-only file, in Redis 7's multi-part layout (docs/design.md,
// "AOF"): appenddirname/ holds a base file, incremental files and the
// manifest that lists them. The aof.Writer is the server's propagator:
// every write reaches it in effect order, and under appendfsync always a
// client's replies wait for the fsync that covers its writes.
//
// This file: start-up (loadAppendOnlyFiles, the upgrade of an old single
// file, aofOpenIfNeededOnServerStart), CONFIG SET appendonly/appendfsync
// (startAppendOnly, stopAppendOnly) and the flush at shutdown. rewrite.go:
// rewrites (rewriteAppendOnlyFileBackground); replay.go: the replayer.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/aof"
	"redgo/internal/clock"
	"redgo/internal/keyspace"
	"redgo/internal/vfs"
)

// aofState is one server's AOF.
type aofState struct {
	p  *Persist
	fs vfs.FS
	w  *aof.Writer // registered as a propagator on first use; off while the AOF is off

	mu         sync.Mutex // transitions (start, enable, disable, rewrite commit) and the fields below
	on         bool       // aof_enabled
	registered bool
	dir        string // appenddirname, as a path
	prefix     string // appendfilename
	man        *aof.Manifest
	baseSize   int64 // size of the base file
	incrSizes  int64 // sizes of the incremental files before the current one
	rwBaseSize int64 // aof_rewrite_base_size: the size after the last rewrite (auto rewrite)

	rw      rewriteState // rewrite.go
	lastCow atomic.Int64 // aof_last_cow_size: values captured before their first write by the last rewrite (peak)
}

// aofOf returns the AOF state, creating it (and registering its CONFIG
// SET hooks and background job) on first use.
func (p *Persist) aofOf() *aofState {
	if st := p.aofSt.Load(); st != nil {
		return st
	}
	cfg := p.h.Config()
	st := &aofState{p: p, fs: p.fs}
	st.w = aof.NewWriter(aof.ParsePolicy(cfg.Get("appendfsync")), p.h.Logf)
	st.w.Timestamps.Store(cfg.Bool("aof-timestamp-enabled"))
	st.rw.lastTime.Store(-1)
	st.rw.lastOK.Store(true)
	if !p.aofSt.CompareAndSwap(nil, st) {
		return p.aofSt.Load()
	}
	cfg.OnSet("appendonly", func(v string) error {
		if v == "yes" {
			return st.enable()
		}
		st.disable()
		return nil
	})
	cfg.OnSet("appendfsync", func(v string) error { st.w.SetPolicy(aof.ParsePolicy(v)); return nil })
	cfg.OnSet("aof-timestamp-enabled", func(v string) error { st.w.Timestamps.Store(v == "yes"); return nil })
	p.h.Go(st.cron)
	return st
}

// paths resolves appenddirname. The redgo binary chdirs into dir, so a
// relative dir means the working directory; in-process servers use an
// absolute dir.
func (st *aofState) paths() {
	dir := st.p.h.Config().Get("dir")
	if !filepath.IsAbs(dir) {
		dir = "."
	}
	st.dir = filepath.Join(dir, st.p.h.Config().Get("appenddirname"))
	st.prefix = st.p.h.Config().Get("appendfilename")
}

func (st *aofState) path(name string) string { return filepath.Join(st.dir, name) }

// cron checks for an automatic rewrite; when the server closes, it makes
// the AOF durable and stops the writer.
func (st *aofState) cron() {
	t := clock.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-st.p.h.Done():
			st.rw.abortAndWait()
			st.w.Stop()
			st.p.aofSt.Store(nil) // late WaitDurable calls hold the writer itself
			return
		case <-t.C:
			t.Next()
			st.autoRewrite()
		}
	}
}

// shutdown is SHUTDOWN's (and SIGTERM's) step: write and fsync the AOF.
func (st *aofState) shutdown() {
	st.mu.Lock()
	on := st.on
	st.mu.Unlock()
	if on {
		if err := st.w.Flush(true); err != nil {
			st.p.h.Logf("# Error flushing the AOF at shutdown: %v", err)
		} else {
			st.p.h.Logf("Calling fsync() on the AOF file.")
		}
	}
}

// register makes the writer the server's propagator (once).
func (st *aofState) register() {
	if !st.registered {
		st.registered = true
		st.w.Start()
		st.p.h.AddPropagator(aofFeeder{st.w})
	}
}

// aofFeeder feeds the writer. (Commands propagate absolute expiry times
// themselves: SET EX and SETEX as SET ... PXAT, GETEX as PEXPIREAT,
// EXPIRE as PEXPIREAT, as Redis 7.)
type aofFeeder struct{ w *aof.Writer }

func (f aofFeeder) WaitDurable(seq int64) error { return f.w.WaitDurable(seq) }

func (f aofFeeder) Pending() int64 {
	if f.w.Policy() != aof.Always {
		return 0
	}
	return f.w.Unsynced()
}

func (f aofFeeder) Feed(db int, cmds [][][]byte) int64 { return f.w.Feed(db, cmds) }

// start loads the AOF at start-up and opens it for appending (appendonly
// yes). Any error means the server must not start.
func (st *aofState) start() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.paths()
	if err := st.loadManifest(); err != nil {
		return err
	}
	if err := st.upgradeOldStyle(); err != nil {
		return err
	}
	if len(st.man.Files()) > 0 {
		begin := time.Now()
		if err := st.loadFiles(); err != nil {
			return err
		}
		st.p.h.Logf("DB loaded from append only file: %.3f seconds", time.Since(begin).Seconds())
	}
	return st.openOnStart()
}

// loadManifest reads appenddirname/<appendfilename>.manifest, if any.
func (st *aofState) loadManifest() error {
	st.man = &aof.Manifest{}
	mpath := st.path(aof.ManifestName(st.prefix))
	if !st.fs.Exists(mpath) {
		return nil
	}
	data, err := st.readAll(mpath)
	if err != nil {
		return fmt.Errorf("Fatal error: can't open the AOF manifest file %s for reading: %w", mpath, err)
	}
	m, err := aof.ParseManifest(data)
	if err != nil {
		return fmt.Errorf("*** FATAL AOF MANIFEST FILE ERROR *** %s: %w", mpath, corrupt(err))
	}
	st.man = m
	return nil
}

func (st *aofState) readAll(name string) ([]byte, error) {
	f, err := st.fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// upgradeOldStyle moves a single-file AOF (appendfilename in dir, as
// Redis < 7 writes it) into appenddirname as the base, as Redis 7 does.
func (st *aofState) upgradeOldStyle() error {
	old := filepath.Join(filepath.Dir(st.dir), st.prefix)
	if !st.fs.Exists(old) {
		return nil
	}
	m := st.man
	onlyOld := m.Base != nil && len(m.Incr) == 0 && m.Base.Name == st.prefix && !st.fs.Exists(st.path(st.prefix))
	if st.fs.Exists(st.dir) && !(m.Base == nil && len(m.Incr) == 0) && !onlyOld {
		return nil
	}
	if err := st.fs.MkdirAll(st.dir); err != nil {
		return fmt.Errorf("Can't open or create append-only dir %s: %w", st.dir, err)
	}
	st.man = &aof.Manifest{Base: &aof.Info{Name: st.prefix, Seq: 1, Type: aof.TypeBase}, BaseSeq: 1}
	if err := st.persistManifest(st.man); err != nil {
		return err
	}
	if err := st.fs.Rename(old, st.path(st.prefix)); err != nil {
		return fmt.Errorf("Error trying to move the old AOF file %s into dir %s: %w", old, st.dir, err)
	}
	st.fs.SyncDir(st.dir)
	st.p.h.Logf("Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", st.prefix, st.dir)
	return nil
}

// persistManifest writes m atomically (temp file, fsync, rename, fsync of
// the directory).
func (st *aofState) persistManifest(m *aof.Manifest) error {
	err := vfs.WriteFileAtomic(st.fs, st.dir, aof.TempManifestName(st.prefix), aof.ManifestName(st.prefix), m.Format())
	if err != nil {
		st.p.h.Logf("# Error trying to write the AOF manifest file %s: %v", aof.ManifestName(st.prefix), err)
	}
	return err
}

// loadFiles replays the base and incremental files into the keyspace.
func (st *aofState) loadFiles() error { return st.loadFilesInto(st.p.h.Keyspace()) }

// loadFilesInto replays the files of the manifest into ks.
func (st *aofState) loadFilesInto(ks *keyspace.Keyspace) error {
	files := st.man.Files()
	r := newReplayer(st.p.h, ks)
	st.baseSize, st.incrSizes = 0, 0
	for i, info := range files {
		last := i == len(files)-1
		begin := time.Now()
		size, err := st.loadFile(r, info.Name, last)
		if err != nil {
			return err
		}
		kind := "incr"
		if info.Type == aof.TypeBase {
			kind = "base"
			st.baseSize = size
		} else if !last {
			st.incrSizes += size
		}
		st.p.h.Logf("DB loaded from %s file %s: %.3f seconds", kind, info.Name, time.Since(begin).Seconds())
	}
	st.rwBaseSize = st.baseSize
	return nil
}

// afterPreamble loads the RDB image that starts file name (open as f), if
// any (an RDB-format base, or an old AOF written with aof-use-rdb-preamble),
// into ks, calling onRDB first. It returns a reader of the commands after
// it, their offset in the file, and what closes the extra handles.
func (st *aofState) afterPreamble(f vfs.File, name string, ks *keyspace.Keyspace, onRDB func()) (io.Reader, int64, func(), error) {
	head := make([]byte, 5)
	n, _ := io.ReadFull(f, head)
	if n < 5 || string(head) != "REDIS" {
		return io.MultiReader(bytes.NewReader(head[:n]), f), 0, func() {}, nil
	}
	onRDB()
	g, err := st.fs.Open(st.path(name))
	if err != nil {
		return nil, 0, nil, err
	}
	defer g.Close()
	used, err := loadPreamble(ks, g, st.p.loadFunction)
	if err != nil {
		return nil, 0, nil, err
	}
	h, err := st.fs.Open(st.path(name)) // the commands after the image
	if err != nil {
		return nil, 0, nil, err
	}
	if _, err := io.CopyN(io.Discard, h, used); err != nil {
		h.Close()
		return nil, 0, nil, err
	}
	return h, used, func() { h.Close() }, nil
}

// loadFile replays one file and returns its size (after a repair).
func (st *aofState) loadFile(r *replayer, name string, last bool) (int64, error) {
	f, err := st.fs.Open(st.path(name))
	if err != nil {
		if !st.fs.Exists(st.path(name)) {
			return 0, fmt.Errorf("The append log file %s doesn't exist (listed in the manifest)", name)
		}
		return 0, fmt.Errorf("Fatal error: can't open the append log file %s for reading: %w", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return 0, nil
	}
	in, base, done, err := st.afterPreamble(f, name, r.ks, func() { st.p.h.Logf("Reading RDB base file on AOF loading...") })
	if err != nil {
		return 0, fmt.Errorf("Error reading the RDB base file %s, AOF loading aborted: %w", name, err)
	}
	defer done()
	valid, err, ioErr := r.replayFrom(in, base, size-base)
	if ioErr != nil { // never taken for a torn tail: nothing is cut
		return 0, fmt.Errorf("Unrecoverable error reading the append only file %s: %w", name, ioErr)
	}
	if err == nil {
		return size, nil
	}
	e := aof.AsError(err)
	if e == nil {
		return 0, fmt.Errorf("%w reading the append only file %s", err, name)
	}
	if !e.Truncated {
		return 0, &CorruptError{Err: e, Msg: fmt.Sprintf("Bad file format reading the append only file %s at offset %d (%s): "+
			"make a backup of your AOF file, then use `redgo check-aof --fix <filename.manifest>`", name, e.At, e.Msg)}
	}
	if !last {
		return 0, &CorruptError{Err: e, Msg: fmt.Sprintf("Fatal error: the truncated file %s is not the last file (unexpected end of file at offset %d)", name, e.At)}
	}
	if !st.p.h.Config().Bool("aof-load-truncated") {
		return 0, &CorruptError{Err: e, Msg: fmt.Sprintf("Unexpected end of file reading the append only file %s at offset %d (last whole command ends at %d). You can: "+
			"1) Make a backup of your AOF file, then use `redgo check-aof --fix <filename.manifest>`. "+
			"2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name, e.At, valid)}
	}
	st.p.h.Logf("# !!! Warning: short read while loading the AOF file %s!!!", name)
	st.p.h.Logf("# !!! Truncating the AOF %s at offset %d !!!", name, valid)
	if err := st.fs.Truncate(st.path(name), valid); err != nil {
		return 0, fmt.Errorf("Error truncating the AOF file %s: %w", name, err)
	}
	st.p.h.Logf("# AOF %s loaded anyway because aof-load-truncated is enabled", name)
	return valid, nil
}

// openOnStart creates the base (if there is no AOF yet) and opens the last
// incremental file for appending, as Redis's aofOpenIfNeededOnServerStart.
func (st *aofState) openOnStart() error {
	if err := st.fs.MkdirAll(st.dir); err != nil {
		return fmt.Errorf("Can't open or create append-only dir %s: %w", st.dir, err)
	}
	m := st.man.Clone()
	if m.Base == nil && len(m.Incr) == 0 {
		asRDB := st.p.h.Config().Bool("aof-use-rdb-preamble")
		name := m.NewBase(st.prefix, asRDB)
		var data bytes.Buffer
		st.p.h.Keyspace().LockAll()
		err := st.baseImage(st.p.h.Keyspace(), asRDB, &data)
		st.p.h.Keyspace().UnlockAll()
		if err != nil {
			return fmt.Errorf("Can't create the AOF base file %s: %w", name, err)
		}
		if err := vfs.WriteFileAtomic(st.fs, st.dir, "temp-"+name, name, data.Bytes()); err != nil {
			return fmt.Errorf("Can't create the AOF base file %s: %w", name, err)
		}
		st.baseSize, st.rwBaseSize = int64(data.Len()), int64(data.Len())
		st.p.h.Logf("Creating AOF base file %s on server start", name)
	}
	created := len(m.Incr) == 0
	if created {
		m.NewIncr(st.prefix)
	}
	name := m.Incr[len(m.Incr)-1].Name
	var f vfs.File
	var err error
	if created || !st.fs.Exists(st.path(name)) {
		f, err = st.fs.Create(st.path(name))
	} else {
		f, err = st.fs.OpenRW(st.path(name))
	}
	if err != nil {
		return fmt.Errorf("Can't open the append-only file %s: %w", name, err)
	}
	for _, h := range m.History {
		st.p.h.Logf("Removing the history file %s in the background", h.Name)
		st.fs.Remove(st.path(h.Name))
	}
	m.History = nil
	if err := st.persistManifest(m); err != nil {
		f.Close()
		return err
	}
	st.man = m
	size, _ := f.Size()
	if created {
		st.p.h.Logf("Creating AOF incr file %s on server start", name)
	} else {
		st.p.h.Logf("Opening AOF incr file %s on server start", name)
	}
	st.w.Attach(f, size)
	st.w.SetOn(true)
	st.on = true
	st.register()
	return nil
}

// enable is CONFIG SET appendonly yes at run time: the base is written
// from the live keyspace in the background (a rewrite) and the AOF is on
// from the instant of that snapshot.
func (st *aofState) enable() error {
	st.mu.Lock()
	if st.on {
		st.mu.Unlock()
		return nil
	}
	st.mu.Unlock()
	st.rw.abortAndWait()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.paths()
	if err := st.fs.MkdirAll(st.dir); err != nil {
		st.p.h.Logf("# Can't open or create append-only dir %s: %v", st.dir, err)
		return errors.New(errAOFTurnOn)
	}
	if st.man == nil {
		if err := st.loadManifest(); err != nil {
			st.p.h.Logf("# %v", err)
			st.man = &aof.Manifest{}
		}
	}
	st.on = true
	st.register()
	if err := st.startRewriteLocked(rwEnable, nil); err != nil {
		st.on = false
		st.p.h.Logf("# %v", err)
		return errors.New(errAOFTurnOn)
	}
	return nil
}

// disable is CONFIG SET appendonly no: stop feeding, make what was fed
// durable, close the file.
func (st *aofState) disable() {
	st.rw.abortAndWait()
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.on {
		return
	}
	st.w.SetOn(false)
	f, err := st.w.Detach()
	if err != nil {
		st.p.h.Logf("# Error flushing the AOF while turning it off: %v", err)
	}
	if f != nil {
		f.Close()
	}
	st.on = false
}

// DebugLoadAOF is DEBUG LOADAOF: the AOF is written out and synced, then
// the dataset and the function libraries are replaced by what its files
// hold. The files are replayed into a keyspace aside (their commands lock
// its shards, not the live ones), which then takes the live one's place.
// The caller holds every shard lock (DEBUG is LockAll).
//
// With the AOF off the files on disk are loaded all the same (those a
// BGREWRITEAOF wrote, as Redis's DEBUG LOADAOF reads the manifest on
// disk); with no AOF there the dataset is kept and an error returned
// (Redis exits).
func (p *Persist) DebugLoadAOF() error {
	st := p.aofOf()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.on {
		if err := st.w.Flush(true); err != nil {
			return fmt.Errorf("ERR flushing the AOF: %w", err)
		}
	} else {
		if st.rw.running.Load() { // it is about to switch the files
			return errors.New("ERR Background append only file rewriting already in progress")
		}
		st.paths()
		if err := st.loadManifest(); err != nil {
			return fmt.Errorf("ERR %v", err)
		}
		if len(st.man.Files()) == 0 {
			return errors.New("ERR no append only file to load")
		}
	}
	ks := p.h.Keyspace()
	aside := ks.NewLike()
	p.flushFunctions()
	if err := st.loadFilesInto(aside); err != nil {
		p.h.Logf("# DEBUG LOADAOF: %v", err)
		return fmt.Errorf("ERR loading the AOF: %v", err)
	}
	ks.ReplaceWith(aside)
	p.h.Logf("Append Only File loaded by DEBUG LOADAOF")
	return nil
}
