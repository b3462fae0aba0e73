package server

// The append-only file, in Redis 7's multi-part layout (docs/design.md,
// "AOF"): appenddirname/ holds a base file, incremental files and the
// manifest that lists them. The aof.Writer is the server's propagator:
// every write reaches it in effect order, and under appendfsync always a
// client's replies wait for the fsync that covers its writes.
//
// This file: start-up (load, upgrade of the old single file, open for
// appending), CONFIG SET appendonly/appendfsync, shutdown and the INFO
// fields. cmd_aof.go: rewrites (BGREWRITEAOF, automatic) and BGREWRITEAOF.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/aof"
	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
	"redgo/internal/vfs"
)

func init() {
	loadAOF = func(s *Server) error { return aofOf(s).start() }
	persistSetup = append(persistSetup, func(s *Server) { aofOf(s) })
}

// aofFS is the file system the AOF uses (tests put a MemFS here).
var aofFS vfs.FS = vfs.OS

// loadRDBPreamble, when set by the RDB code, loads an RDB image (a base
// file in RDB format, or the preamble of an old-style AOF) from r into ks
// and returns the bytes it consumed.
var loadRDBPreamble func(ks *keyspace.Keyspace, r io.Reader) (int64, error)

// aofState is one server's AOF.
type aofState struct {
	s  *Server
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

	rw      rewriteState // cmd_aof.go
	lastCow atomic.Int64 // aof_last_cow_size: values captured before their first write by the last rewrite (peak)
}

// aofOf returns the server's AOF state, creating it (and registering its
// CONFIG SET hooks and background job) on first use.
func aofOf(s *Server) *aofState {
	if st := s.aofSt.Load(); st != nil {
		return st
	}
	st := &aofState{s: s, fs: aofFS}
	st.w = aof.NewWriter(aof.ParsePolicy(s.Cfg.Get("appendfsync")), s.Log.Printf)
	st.w.Timestamps.Store(s.Cfg.Bool("aof-timestamp-enabled"))
	st.rw.lastTime.Store(-1)
	st.rw.lastOK.Store(true)
	if !s.aofSt.CompareAndSwap(nil, st) {
		return s.aofSt.Load()
	}
	s.Cfg.OnSet("appendonly", func(v string) error {
		if v == "yes" {
			return st.enable()
		}
		st.disable()
		return nil
	})
	s.Cfg.OnSet("appendfsync", func(v string) error { st.w.SetPolicy(aof.ParsePolicy(v)); return nil })
	s.Cfg.OnSet("aof-timestamp-enabled", func(v string) error { st.w.Timestamps.Store(v == "yes"); return nil })
	prev := s.beforeShutdown
	s.beforeShutdown = func(save bool) error {
		st.shutdown()
		if prev != nil {
			return prev(save)
		}
		return nil
	}
	s.goTracked(st.cron)
	return st
}

// paths resolves appenddirname. The redgo binary chdirs into dir, so a
// relative dir means the working directory; in-process servers use an
// absolute dir.
func (st *aofState) paths() {
	dir := st.s.Cfg.Get("dir")
	if !filepath.IsAbs(dir) {
		dir = "."
	}
	st.dir = filepath.Join(dir, st.s.Cfg.Get("appenddirname"))
	st.prefix = st.s.Cfg.Get("appendfilename")
}

func (st *aofState) path(name string) string { return filepath.Join(st.dir, name) }

// cron checks for an automatic rewrite; when the server closes, it makes
// the AOF durable and stops the writer.
func (st *aofState) cron() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-st.s.quit:
			st.rw.abortAndWait()
			st.w.Stop()
			st.s.aofSt.Store(nil) // late WaitDurable calls hold the writer itself
			return
		case <-t.C:
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
			st.s.Log.Printf("# Error flushing the AOF at shutdown: %v", err)
		} else {
			st.s.Log.Printf("Calling fsync() on the AOF file.")
		}
	}
}

// register makes the writer the server's propagator (once).
func (st *aofState) register() {
	if !st.registered {
		st.registered = true
		st.w.Start()
		st.s.AddPropagator(aofFeeder{st.w})
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
		st.s.Log.Printf("DB loaded from append only file: %.3f seconds", time.Since(begin).Seconds())
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
		return fmt.Errorf("Fatal error: can't open the AOF manifest file %s for reading: %v", mpath, err)
	}
	m, err := aof.ParseManifest(data)
	if err != nil {
		return fmt.Errorf("*** FATAL AOF MANIFEST FILE ERROR *** %s: %v", mpath, err)
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
		return fmt.Errorf("Can't open or create append-only dir %s: %v", st.dir, err)
	}
	st.man = &aof.Manifest{Base: &aof.Info{Name: st.prefix, Seq: 1, Type: aof.TypeBase}, BaseSeq: 1}
	if err := st.persistManifest(st.man); err != nil {
		return err
	}
	if err := st.fs.Rename(old, st.path(st.prefix)); err != nil {
		return fmt.Errorf("Error trying to move the old AOF file %s into dir %s: %v", old, st.dir, err)
	}
	st.fs.SyncDir(st.dir)
	st.s.Log.Printf("Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", st.prefix, st.dir)
	return nil
}

// persistManifest writes m atomically (temp file, fsync, rename, fsync of
// the directory).
func (st *aofState) persistManifest(m *aof.Manifest) error {
	err := vfs.WriteFileAtomic(st.fs, st.dir, aof.TempManifestName(st.prefix), aof.ManifestName(st.prefix), m.Format())
	if err != nil {
		st.s.Log.Printf("# Error trying to write the AOF manifest file %s: %v", aof.ManifestName(st.prefix), err)
	}
	return err
}

// loadFiles replays the base and incremental files into the keyspace.
func (st *aofState) loadFiles() error {
	files := st.man.Files()
	r := newReplayer(st.s, st.s.KS)
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
		st.s.Log.Printf("DB loaded from %s file %s: %.3f seconds", kind, info.Name, time.Since(begin).Seconds())
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
	if loadRDBPreamble == nil {
		return nil, 0, nil, errors.New("this build cannot load an RDB image")
	}
	onRDB()
	g, err := st.fs.Open(st.path(name))
	if err != nil {
		return nil, 0, nil, err
	}
	defer g.Close()
	used, err := loadRDBPreamble(ks, g)
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
		return 0, fmt.Errorf("Fatal error: can't open the append log file %s for reading: %v", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return 0, nil
	}
	in, base, done, err := st.afterPreamble(f, name, st.s.KS, func() { st.s.Log.Printf("Reading RDB base file on AOF loading...") })
	if err != nil {
		return 0, fmt.Errorf("Error reading the RDB base file %s, AOF loading aborted: %v", name, err)
	}
	defer done()
	valid, err := r.replay(in, base, size-base)
	if err == nil {
		return size, nil
	}
	e := aof.AsError(err)
	if e == nil {
		return 0, fmt.Errorf("%v reading the append only file %s", err, name)
	}
	if !e.Truncated {
		return 0, fmt.Errorf("Bad file format reading the append only file %s at offset %d (%s): "+
			"make a backup of your AOF file, then use `redgo check-aof --fix <filename.manifest>`", name, e.At, e.Msg)
	}
	if !last {
		return 0, fmt.Errorf("Fatal error: the truncated file %s is not the last file (unexpected end of file at offset %d)", name, e.At)
	}
	if !st.s.Cfg.Bool("aof-load-truncated") {
		return 0, fmt.Errorf("Unexpected end of file reading the append only file %s at offset %d (last whole command ends at %d). You can: "+
			"1) Make a backup of your AOF file, then use `redgo check-aof --fix <filename.manifest>`. "+
			"2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name, e.At, valid)
	}
	st.s.Log.Printf("# !!! Warning: short read while loading the AOF file %s!!!", name)
	st.s.Log.Printf("# !!! Truncating the AOF %s at offset %d !!!", name, valid)
	if err := st.fs.Truncate(st.path(name), valid); err != nil {
		return 0, fmt.Errorf("Error truncating the AOF file %s: %v", name, err)
	}
	st.s.Log.Printf("# AOF %s loaded anyway because aof-load-truncated is enabled", name)
	return valid, nil
}

// openOnStart creates the base (if there is no AOF yet) and opens the last
// incremental file for appending, as Redis's aofOpenIfNeededOnServerStart.
func (st *aofState) openOnStart() error {
	if err := st.fs.MkdirAll(st.dir); err != nil {
		return fmt.Errorf("Can't open or create append-only dir %s: %v", st.dir, err)
	}
	m := st.man.Clone()
	if m.Base == nil && len(m.Incr) == 0 {
		asRDB := st.s.Cfg.Bool("aof-use-rdb-preamble")
		name := m.NewBase(st.prefix, asRDB)
		var data bytes.Buffer
		st.s.KS.LockAll()
		err := st.baseImage(st.s.KS, asRDB, &data)
		st.s.KS.UnlockAll()
		if err != nil {
			return fmt.Errorf("Can't create the AOF base file %s: %v", name, err)
		}
		if err := vfs.WriteFileAtomic(st.fs, st.dir, "temp-"+name, name, data.Bytes()); err != nil {
			return fmt.Errorf("Can't create the AOF base file %s: %v", name, err)
		}
		st.baseSize, st.rwBaseSize = int64(data.Len()), int64(data.Len())
		st.s.Log.Printf("Creating AOF base file %s on server start", name)
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
		return fmt.Errorf("Can't open the append-only file %s: %v", name, err)
	}
	for _, h := range m.History {
		st.s.Log.Printf("Removing the history file %s in the background", h.Name)
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
		st.s.Log.Printf("Creating AOF incr file %s on server start", name)
	} else {
		st.s.Log.Printf("Opening AOF incr file %s on server start", name)
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
		st.s.Log.Printf("# Can't open or create append-only dir %s: %v", st.dir, err)
		return errors.New("Unable to turn on AOF. Check server logs.")
	}
	if st.man == nil {
		if err := st.loadManifest(); err != nil {
			st.s.Log.Printf("# %v", err)
			st.man = &aof.Manifest{}
		}
	}
	st.on = true
	st.register()
	if err := st.startRewriteLocked(rwEnable); err != nil {
		st.on = false
		st.s.Log.Printf("# %v", err)
		return errors.New("Unable to turn on AOF. Check server logs.")
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
		st.s.Log.Printf("# Error flushing the AOF while turning it off: %v", err)
	}
	if f != nil {
		f.Close()
	}
	st.on = false
}

// replayer applies AOF commands to a keyspace, as Redis's AOF client:
// SELECT switches the database, MULTI ... EXEC is applied at the EXEC, and
// replies (including errors) are dropped.
type replayer struct {
	ks      *keyspace.Keyspace
	srv     *Server // handed to handlers as Ctx.Srv (no Client: there is none)
	db      int
	inMulti bool
	queue   [][][]byte
	w       resp.Writer
}

func newReplayer(s *Server, ks *keyspace.Keyspace) *replayer { return &replayer{ks: ks, srv: s} }

// replay reads commands from r (size bytes, starting at file offset base)
// and applies them. It returns the offset up to which the file was whole:
// a transaction cut at the end is dropped and counts as truncated.
func (r *replayer) replay(in io.Reader, base, size int64) (int64, error) {
	sc := aof.NewScanner(in, base, size)
	valid, beforeMulti := base, base
	for {
		args, err := sc.Next()
		if err == io.EOF {
			if r.inMulti {
				r.inMulti, r.queue = false, nil
				return beforeMulti, &aof.Error{Truncated: true, ValidUpTo: beforeMulti, At: sc.Offset(),
					Msg: "Revert incomplete MULTI/EXEC transaction"}
			}
			return sc.Offset(), nil
		}
		if err == nil && len(args) == 0 {
			err = &aof.Error{ValidUpTo: sc.Start, At: sc.Start, Msg: "Invalid number of arguments"}
		}
		if err != nil {
			if e := aof.AsError(err); e != nil && r.inMulti {
				e.ValidUpTo = beforeMulti
				r.inMulti, r.queue = false, nil
				return beforeMulti, e
			}
			return valid, err
		}
		if commands.EqualFold(args[0], "multi") && !r.inMulti {
			beforeMulti = sc.Start
		}
		if err := r.apply(args); err != nil {
			return valid, fmt.Errorf("%v at offset %d", err, sc.Start)
		}
		if !r.inMulti {
			valid = sc.Offset()
		}
	}
}

// apply runs one command read from the log.
func (r *replayer) apply(args [][]byte) error {
	switch {
	case commands.EqualFold(args[0], "multi"):
		r.inMulti, r.queue = true, r.queue[:0]
		return nil
	case commands.EqualFold(args[0], "exec"):
		if !r.inMulti {
			return nil
		}
		r.inMulti = false
		for _, q := range r.queue {
			if err := r.run(q); err != nil {
				return err
			}
		}
		r.queue = r.queue[:0]
		return nil
	}
	cmd := commands.Lookup(args[0])
	if cmd == nil {
		return fmt.Errorf("Unknown command '%s'", args[0])
	}
	if sub, _ := commands.Resolve(cmd, args); sub != nil && sub.Handler == nil {
		return fmt.Errorf("Command '%s' is not supported by this server", args[0])
	}
	if r.inMulti {
		cp := make([][]byte, len(args))
		for i, a := range args {
			cp[i] = append([]byte(nil), a...)
		}
		r.queue = append(r.queue, cp)
		return nil
	}
	return r.run(args)
}

func (r *replayer) run(args [][]byte) (err error) {
	if commands.EqualFold(args[0], "select") {
		if len(args) == 2 {
			if n, e := strconv.Atoi(string(args[1])); e == nil && n >= 0 && n < r.ks.NumDB() {
				r.db = n
			}
		}
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Command '%s' cannot be replayed from the AOF (%v)", args[0], p)
		}
	}()
	r.w.Buf = r.w.Buf[:0]
	r.exec(args)
	return nil
}

// exec runs one command as commands.Exec does (lookup, arity, locks,
// handler; a command that would block replies as if timed out), with the
// server in Ctx.Srv as the dispatcher gives it.
func (r *replayer) exec(args [][]byte) {
	cmd := commands.Lookup(args[0])
	if cmd == nil {
		return
	}
	cmd, errText := commands.Resolve(cmd, args)
	if errText != "" || cmd.Handler == nil {
		return
	}
	c := &commands.Ctx{Args: args, Cmd: cmd, W: &r.w, DB: r.ks.DB(r.db), KS: r.ks, Now: r.ks.Now(),
		NoBlock: true, Srv: r.srv}
	var posBuf, shardBuf [8]int
	if cmd.LockAll {
		r.ks.LockAll()
		defer r.ks.UnlockAll()
	} else {
		shards := commands.Shards(args, cmd.KeyPositions(args, posBuf[:0]), shardBuf[:0])
		r.ks.Lock(shards)
		defer r.ks.Unlock(shards)
	}
	cmd.Handler(c)
}

// aofInfo adds the aof_* fields of INFO persistence that Redis prints
// between rdb_last_load_keys_loaded and module_fork_in_progress.
func aofInfo(s *Server, add func(k, v string)) {
	st := s.aofSt.Load()
	if st == nil { // LoadData never ran (tests): nothing happened; report the setting
		add("aof_enabled", boolInt(s.Cfg.Bool("appendonly")))
		for _, k := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled"} {
			add(k, "0")
		}
		add("aof_last_rewrite_time_sec", "-1")
		add("aof_current_rewrite_time_sec", "-1")
		add("aof_last_bgrewrite_status", "ok")
		add("aof_rewrites", "0")
		add("aof_rewrites_consecutive_failures", "0")
		add("aof_last_write_status", "ok")
		add("aof_last_cow_size", "0")
		return
	}
	st.mu.Lock()
	on := st.on
	st.mu.Unlock()
	rw := &st.rw
	add("aof_enabled", boolInt(on))
	add("aof_rewrite_in_progress", boolInt(rw.running.Load()))
	add("aof_rewrite_scheduled", "0")
	add("aof_last_rewrite_time_sec", strconv.FormatInt(rw.lastTime.Load(), 10))
	cur := int64(-1)
	if rw.running.Load() {
		cur = int64(time.Since(time.Unix(0, rw.startNano.Load())).Seconds())
	}
	add("aof_current_rewrite_time_sec", strconv.FormatInt(cur, 10))
	add("aof_last_bgrewrite_status", okErr(rw.lastOK.Load()))
	add("aof_rewrites", strconv.FormatInt(rw.count.Load(), 10))
	add("aof_rewrites_consecutive_failures", strconv.FormatInt(rw.failures.Load(), 10))
	add("aof_last_write_status", okErr(st.w.WriteOK()))
	add("aof_last_cow_size", strconv.FormatInt(st.lastCow.Load(), 10))
}

// aofInfoSizes adds the fields Redis prints after module_fork_last_cow_size
// when appendonly is on.
func aofInfoSizes(s *Server, add func(k, v string)) {
	st := s.aofSt.Load()
	if st == nil {
		return
	}
	st.mu.Lock()
	on := st.on
	cur := st.baseSize + st.incrSizes + st.w.Size()
	base := st.rwBaseSize
	st.mu.Unlock()
	if !on {
		return
	}
	add("aof_current_size", strconv.FormatInt(cur, 10))
	add("aof_base_size", strconv.FormatInt(base, 10))
	add("aof_pending_rewrite", "0")
	add("aof_buffer_length", strconv.Itoa(st.w.Buffered()))
	add("aof_pending_bio_fsync", "0")
	add("aof_delayed_fsync", "0")
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

// writesDenied is Redis's writeCommandsDeniedByDiskError: the error a
// write command (and PING) gets instead of running, or "". A failed BGSAVE
// (stop-writes-on-bgsave-error), or a failed AOF write or fsync under any
// appendfsync policy: until the flusher's retry (once a second) succeeds,
// nothing is accepted that could not be logged. (Under always, a write
// whose own fsync failed is also answered with the error: propagate.go.)
func (s *Server) writesDenied() string {
	if st := s.aofSt.Load(); st != nil && !st.w.WriteOK() && st.w.On() {
		return misconfAOF(st.w.LastError())
	}
	return s.rdbWritesDenied()
}
