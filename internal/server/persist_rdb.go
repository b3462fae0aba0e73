package server

// RDB snapshots (docs/design.md, "Snapshots without fork"): SAVE, BGSAVE,
// the save rules, loading dbfilename at start, the final save at
// SHUTDOWN, DEBUG RELOAD, and the RDB image inside an AOF.
//
// A save captures one instant without fork: with every shard locked for a
// moment it starts a keyspace.Snapshot and notes the per-database sizes
// and the dirty counter; then a goroutine walks the databases slot by slot
// and writes the file. It holds a slot's shard lock only while it encodes
// 64 keys (long strings are LZF-compressed after the lock is released),
// then lets waiting writers in. Meanwhile the dispatcher calls
// snapshotBeforeWrite before every write: a key the walk has not reached
// is serialized first, as it was at the instant, into a per-shard buffer
// that the walk appends to the file when it next visits that shard. Those
// buffers and the set of keys handled early are the extra memory a save
// needs (INFO current_cow_size counts the buffers); a writer waits at most
// for one value's serialization or one 64-key chunk of the walk. The file
// holds the databases in order, with extra SELECTDB opcodes where
// early-captured keys of another database are appended (Redis's loader
// accepts SELECTDB anywhere).
//
// Files are written to temp-<pid>.rdb in dir, fsynced, renamed to
// dbfilename, and the directory is fsynced.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/rdb"
	"redgo/internal/slot"
)

func init() {
	loadRDB = func(s *Server) error { return rdbOf(s).loadAtStart() }
	loadRDBPreamble = func(ks *keyspace.Keyspace, r io.Reader) (int64, error) {
		n, _, err := loadRDBInto(ks, r, loadOpts{keepExpired: true})
		return n, err
	}
	persistSetup = append(persistSetup, func(s *Server) { rdbOf(s) })
	debugReload = func(s *Server, opts [][]byte) error {
		var merge, noflush, nosave bool
		for _, o := range opts {
			switch {
			case commands.EqualFold(o, "merge"):
				merge = true
			case commands.EqualFold(o, "noflush"):
				noflush = true
			case commands.EqualFold(o, "nosave"):
				nosave = true
			default:
				return errors.New("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			}
		}
		return s.DebugReload(merge, noflush, nosave)
	}
}

// walkChunk is how many keys the walk encodes per hold of a shard lock
// (tests lower it).
var walkChunk = 64

// testWalkHook, set by tests, runs before the walk takes each slot.
var testWalkHook func(db, slot int)

// snapshotsActive counts the snapshots being written in this process: the
// dispatcher calls snapshotBeforeWrite only while it is non-zero.
var snapshotsActive atomic.Int32

// rdbState is one server's RDB persistence.
type rdbState struct {
	s *Server

	mu        sync.Mutex // job start/stop and the fields below
	job       *saveJob   // the save in progress
	scheduled bool       // BGSAVE asked for inside a transaction

	jobs atomic.Pointer[[]*saveJob] // snapshots receiving the write hook

	lastOK         atomic.Bool
	lastBgsaveSecs atomic.Int64 // rdb_last_bgsave_time_sec, -1 before the first
	lastTry        atomic.Int64 // unix s of the last BGSAVE attempt (retry delay)
	saves          atomic.Int64
	lastCow        atomic.Int64 // peak early-capture bytes of the last save
	loadedKeys     atomic.Int64
	loadedExpired  atomic.Int64
}

// rdbOf returns the server's RDB state, creating it (and starting the save
// rules job and the shutdown hook) on first use.
func rdbOf(s *Server) *rdbState {
	if st := s.rdbSt.Load(); st != nil {
		return st
	}
	st := &rdbState{s: s}
	st.lastOK.Store(true)
	st.lastBgsaveSecs.Store(-1)
	if !s.rdbSt.CompareAndSwap(nil, st) {
		return s.rdbSt.Load()
	}
	prev := s.beforeShutdown
	s.beforeShutdown = func(save bool) error {
		if err := st.shutdown(save); err != nil {
			return err
		}
		if prev != nil {
			return prev(save)
		}
		return nil
	}
	s.goTracked(st.cron)
	return st
}

// rdbLookup returns the state if the server has one.
func rdbLookup(s *Server) *rdbState { return s.rdbSt.Load() }

// path is dbfilename in dir. The redgo binary chdirs into dir, so a
// relative dir means the working directory; in-process servers use an
// absolute dir.
func (st *rdbState) dir() string {
	dir := st.s.Cfg.Get("dir")
	if !filepath.IsAbs(dir) {
		dir = "."
	}
	return dir
}

func (st *rdbState) path() string { return filepath.Join(st.dir(), st.s.Cfg.Get("dbfilename")) }

// ---- saving ----

var (
	errSaveInProgress = errors.New("Background save already in progress")
	errSaveAborted    = errors.New("save aborted")
)

// saveJob is one snapshot being written.
type saveJob struct {
	st    *rdbState
	snap  *keyspace.Snapshot
	bg    bool
	start time.Time
	opt   rdb.EntryOptions
	lru   bool // write IDLE (LRU eviction policies)

	dirtyAt int64                      // dirty counter at the instant
	sizes   [][2]int                   // per database: keys, keys with an expiry, at the instant
	bufs    [keyspace.NShards][]capSeg // early captures, each guarded by its shard's lock

	capBytes   atomic.Int64 // bytes in bufs (current_cow_size)
	peakBytes  atomic.Int64
	processed  atomic.Int64
	total      int64
	abort      atomic.Bool
	stop       *atomic.Bool  // also aborts when set (an AOF rewrite's abort flag)
	aofBase    bool          // an AOF base: aux aof-base 1
	holds      holdStats     // how long the walk held each shard lock
	beginPause time.Duration // every shard locked to start the snapshot

	errMu sync.Mutex
	err   error // first encoding failure in a capture

	done   chan struct{}
	result error
}

// holdStats is a log2 histogram of lock hold times (microseconds).
type holdStats struct {
	n    int64
	max  time.Duration
	hist [32]int64
}

func (h *holdStats) add(d time.Duration) {
	h.n++
	h.max = max(h.max, d)
	us := d.Microseconds()
	b := 0
	for us > 0 && b < len(h.hist)-1 {
		us >>= 1
		b++
	}
	h.hist[b]++
}

// quantile returns an upper bound of the q-quantile.
func (h *holdStats) quantile(q float64) time.Duration {
	want := int64(float64(h.n) * q)
	var seen int64
	for b, c := range h.hist {
		seen += c
		if seen > want {
			return time.Duration(1<<b) * time.Microsecond
		}
	}
	return h.max
}

func (h *holdStats) String() string {
	return fmt.Sprintf("p50<=%v p99<=%v p99.9<=%v max %v", h.quantile(0.5), h.quantile(0.99), h.quantile(0.999),
		h.max.Round(time.Microsecond))
}

// capSeg is encoded entries of one database, their long strings not
// compressed yet (spans).
type capSeg struct {
	db    int
	b     []byte
	spans []rdb.Span
}

func (j *saveJob) setErr(err error) {
	j.errMu.Lock()
	if j.err == nil {
		j.err = err
	}
	j.errMu.Unlock()
}

func (j *saveJob) firstErr() error {
	j.errMu.Lock()
	defer j.errMu.Unlock()
	return j.err
}

// capture is the snapshot's capture function: it serializes a value about
// to be written into its shard's buffer (the shard is locked).
func (j *saveJob) capture(shard, db int, key string, o *keyspace.Object) {
	segs := j.bufs[shard]
	if n := len(segs); n == 0 || segs[n-1].db != db {
		segs = append(segs, capSeg{db: db})
		j.bufs[shard] = segs
	}
	sg := &segs[len(segs)-1]
	before := len(sg.b)
	opt := j.entryOpts(o)
	opt.Deferred = &sg.spans // compressed by the walk, outside the lock
	b, err := rdb.AppendEntry(sg.b, key, o, opt)
	if err != nil {
		j.setErr(fmt.Errorf("key %q: %w", key, err))
		return
	}
	sg.b = b
	if n := j.capBytes.Add(int64(len(b) - before)); n > j.peakBytes.Load() {
		j.peakBytes.Store(n)
	}
}

func (j *saveJob) entryOpts(o *keyspace.Object) rdb.EntryOptions {
	opt := j.opt
	if j.lru {
		if idle := j.snap.At()/1000 - int64(o.LRU()); idle >= 0 {
			opt.Idle = idle
		}
	}
	return opt
}

// newJob starts a snapshot: every shard is locked for the moment it takes
// to note the instant.
func (st *rdbState) newJob(bg bool) *saveJob { return st.newJobAt(bg, nil) }

// newJobAt is newJob; atInstant, when set, runs at the instant with every
// shard locked (an AOF rewrite cuts its log there).
func (st *rdbState) newJobAt(bg bool, atInstant func()) *saveJob {
	s := st.s
	j := &saveJob{st: st, bg: bg, start: time.Now(), done: make(chan struct{})}
	j.opt = rdb.EntryOptions{Compress: s.Cfg.Bool("rdbcompression"), Idle: -1, Freq: -1}
	j.lru = strings.Contains(s.Cfg.Get("maxmemory-policy"), "lru")
	ks := s.KS
	ks.LockAll()
	locked := time.Now()
	j.snap = ks.BeginSnapshot(j.capture)
	if atInstant != nil {
		atInstant()
	}
	j.dirtyAt = s.dirty.Load()
	j.sizes = make([][2]int, ks.NumDB())
	for i := range j.sizes {
		db := ks.DB(i)
		j.sizes[i] = [2]int{db.Len(), db.Expires()}
		j.total += int64(j.sizes[i][0])
	}
	st.addHook(j)
	ks.UnlockAll()
	j.beginPause = time.Since(locked)
	return j
}

func (st *rdbState) addHook(j *saveJob) {
	for {
		old := st.jobs.Load()
		var list []*saveJob
		if old != nil {
			list = append(list, *old...)
		}
		list = append(list, j)
		if st.jobs.CompareAndSwap(old, &list) {
			snapshotsActive.Add(1)
			return
		}
	}
}

func (st *rdbState) removeHook(j *saveJob) {
	for {
		old := st.jobs.Load()
		var list []*saveJob
		for _, x := range *old {
			if x != j {
				list = append(list, x)
			}
		}
		if st.jobs.CompareAndSwap(old, &list) {
			snapshotsActive.Add(-1)
			return
		}
	}
}

// header returns the aux fields Redis 7.0 writes.
func (s *Server) rdbAux(aofBase bool) []rdb.Aux {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := "0"
	if aofBase {
		base = "1"
	}
	return []rdb.Aux{
		{Key: "redis-ver", Val: config.Version},
		{Key: "redis-bits", Val: strconv.Itoa(strconv.IntSize)},
		{Key: "ctime", Val: strconv.FormatInt(time.Now().Unix(), 10)},
		{Key: "used-mem", Val: strconv.FormatUint(ms.HeapAlloc, 10)},
		{Key: "aof-base", Val: base},
	}
}

// dbWriter writes entries to an rdb.Writer, opening each database with
// SELECTDB (and, the first time, RESIZEDB).
type dbWriter struct {
	w       *rdb.Writer
	cur     int
	opened  []bool
	sizes   [][2]int
	scratch []byte
}

func newDBWriter(w *rdb.Writer, sizes [][2]int) *dbWriter {
	return &dbWriter{w: w, cur: -1, opened: make([]bool, len(sizes)), sizes: sizes}
}

func (dw *dbWriter) write(db int, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if db != dw.cur {
		h := rdb.AppendSelectDB(dw.scratch[:0], db)
		if !dw.opened[db] {
			dw.opened[db] = true
			h = rdb.AppendResizeDB(h, dw.sizes[db][0], dw.sizes[db][1])
		}
		dw.scratch = h
		if _, err := dw.w.Write(h); err != nil {
			return err
		}
		dw.cur = db
	}
	_, err := dw.w.Write(b)
	return err
}

// run walks the snapshot and writes it to f.
func (j *saveJob) run(f io.Writer) error {
	s := j.st.s
	ks := s.KS
	w := rdb.NewWriter(f)
	w.Checksum = s.Cfg.Bool("rdbchecksum")
	if err := w.Header(s.rdbAux(j.aofBase), j.opt.Compress); err != nil {
		return err
	}
	dw := newDBWriter(w, j.sizes)
	var buf, out []byte
	var spans []rdb.Span
	var encErr error
	// finish compresses what was encoded under a lock (spans), then writes.
	finish := func(db int, b []byte, spans []rdb.Span) error {
		if len(spans) > 0 {
			out = rdb.CompressDeferred(out[:0], b, spans)
			b = out
		}
		return dw.write(db, b)
	}
	drain := func(segs []capSeg) error {
		for _, sg := range segs {
			j.capBytes.Add(-int64(len(sg.b)))
			if err := finish(sg.db, sg.b, sg.spans); err != nil {
				return err
			}
		}
		return nil
	}
	for db := range j.sizes {
		if j.sizes[db][0] == 0 {
			continue
		}
		for sl := 0; sl < slot.Count; sl++ {
			if j.abort.Load() || j.stop != nil && j.stop.Load() {
				return errSaveAborted
			}
			if testWalkHook != nil {
				testWalkHook(db, sl)
			}
			sh := sl % keyspace.NShards
			ks.ShardLock(sh)
			held := time.Now()
			segs := j.bufs[sh]
			j.bufs[sh] = nil
			buf, spans = buf[:0], spans[:0]
			n := j.snap.TakeSlot(db, sl, func(k string, o *keyspace.Object) {
				if encErr != nil {
					return
				}
				opt := j.entryOpts(o)
				opt.Deferred = &spans
				buf, encErr = rdb.AppendEntry(buf, k, o, opt)
			}, walkChunk, func() {
				// Let the writers waiting for this shard in.
				ks.ShardUnlock(sh)
				j.holds.add(time.Since(held))
				runtime.Gosched()
				ks.ShardLock(sh)
				held = time.Now()
			})
			ks.ShardUnlock(sh)
			j.holds.add(time.Since(held))
			if encErr != nil {
				return encErr
			}
			j.processed.Add(int64(n))
			if err := drain(segs); err != nil {
				return err
			}
			if err := finish(db, buf, spans); err != nil {
				return err
			}
			if cap(buf) > 4<<20 {
				buf, out = nil, nil
			}
		}
	}
	// Every slot is taken now: nothing more can be captured. Write the
	// captures made since the walk last visited each shard.
	for sh := 0; sh < keyspace.NShards; sh++ {
		ks.ShardLock(sh)
		segs := j.bufs[sh]
		j.bufs[sh] = nil
		ks.ShardUnlock(sh)
		if err := drain(segs); err != nil {
			return err
		}
	}
	if err := j.firstErr(); err != nil {
		return err
	}
	return w.Finish()
}

// writeFile writes a file through a temporary name, fsyncs it, renames it
// into place and fsyncs the directory.
func writeFileAtomic(dir, tmpName, final string, fill func(w io.Writer) error) error {
	tmp := filepath.Join(dir, tmpName)
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("Failed opening the temp RDB file %s (in server root dir %s) for saving: %v", tmpName, dir, err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("Write error saving DB on disk: %v", err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("Write error saving DB on disk (fsync): %v", err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("Write error saving DB on disk: %v", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("Error moving temp DB file %s on the final destination %s (in server root dir %s): %v", tmpName, final, dir, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// startSave starts a snapshot save in the background. The returned job's
// done channel closes when the file is in place (or the save failed).
func (st *rdbState) startSave(bg bool) (*saveJob, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.job != nil {
		return nil, errSaveInProgress
	}
	if bg {
		st.lastTry.Store(time.Now().Unix())
	}
	j := st.newJob(bg)
	st.job = j
	st.scheduled = false
	if bg {
		st.s.Log.Printf("Background saving started")
	}
	st.s.goTracked(func() { st.finish(j, st.writeJob(j)) })
	return j, nil
}

func (st *rdbState) writeJob(j *saveJob) error {
	return writeFileAtomic(st.dir(), fmt.Sprintf("temp-%d.rdb", os.Getpid()), st.path(), j.run)
}

// finish records the outcome of a save.
func (st *rdbState) finish(j *saveJob, err error) {
	st.removeHook(j)
	s := st.s
	st.lastCow.Store(j.peakBytes.Load())
	if err == nil {
		s.dirty.Add(-j.dirtyAt)
		s.lastSave.Store(time.Now().Unix())
		st.saves.Add(1)
		st.lastOK.Store(true)
		marked, captured := j.snap.EarlyKeys()
		s.Log.Printf("RDB: %d KB of memory used by values captured before their first write (peak; %d keys captured, %d remembered) in %.3f seconds; all shards locked %v to start; shard lock held per %d keys: %s",
			j.peakBytes.Load()>>10, captured, marked, time.Since(j.start).Seconds(), j.beginPause.Round(time.Microsecond),
			walkChunk, j.holds.String())
		if j.bg {
			st.lastBgsaveSecs.Store(int64(time.Since(j.start).Seconds()))
			s.Log.Printf("Background saving terminated with success")
		} else {
			s.Log.Printf("DB saved on disk")
		}
	} else if err != errSaveAborted {
		if j.bg {
			st.lastOK.Store(false)
			st.lastBgsaveSecs.Store(int64(time.Since(j.start).Seconds()))
			s.Log.Printf("# Background saving error: %v", err)
		} else {
			s.Log.Printf("# %v", err)
		}
	}
	j.result = err
	st.mu.Lock()
	st.job = nil
	st.mu.Unlock()
	close(j.done)
}

// Save is SAVE: a snapshot written while the server keeps serving,
// returning when the file is in place.
func (st *rdbState) save() error {
	j, err := st.startSave(false)
	if err != nil {
		return err
	}
	<-j.done
	return j.result
}

// abortRunning stops the save in progress, if any, and waits for it.
func (st *rdbState) abortRunning() {
	st.mu.Lock()
	j := st.job
	st.mu.Unlock()
	if j != nil {
		j.abort.Store(true)
		<-j.done
	}
}

// cron applies the save rules ("save <seconds> <changes>"...) and starts
// a BGSAVE scheduled inside a transaction.
func (st *rdbState) cron() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-st.s.quit:
			st.abortRunning()
			return
		case <-t.C:
		}
		st.mu.Lock()
		busy, sched := st.job != nil, st.scheduled
		st.mu.Unlock()
		if busy {
			continue
		}
		if sched {
			st.startSave(true)
			continue
		}
		now := time.Now().Unix()
		dirty := st.s.dirty.Load()
		since := now - st.s.lastSave.Load()
		retryOK := st.lastOK.Load() || now-st.lastTry.Load() > 5
		for _, rule := range parseSaveRules(st.s.Cfg.Get("save")) {
			if dirty >= rule[1] && since > rule[0] && retryOK {
				st.s.Log.Printf("%d changes in %d seconds. Saving...", rule[1], rule[0])
				st.startSave(true)
				break
			}
		}
	}
}

// parseSaveRules reads the save directive: pairs of seconds and changes.
func parseSaveRules(v string) [][2]int64 {
	f := strings.Fields(v)
	var out [][2]int64
	for i := 0; i+1 < len(f); i += 2 {
		a, err1 := strconv.ParseInt(f[i], 10, 64)
		b, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 == nil && err2 == nil {
			out = append(out, [2]int64{a, b})
		}
	}
	return out
}

// shutdown is the final save (SHUTDOWN [SAVE], or with save rules). A
// BGSAVE in progress is abandoned. Writes are paused from here on so none
// is acknowledged after the instant saved.
func (st *rdbState) shutdown(save bool) error {
	st.abortRunning()
	if !save {
		return nil
	}
	st.s.Log.Printf("Saving the final RDB snapshot before exiting.")
	st.s.pause.set(time.Now().Add(time.Hour), false)
	if err := st.save(); err != nil {
		st.s.pause.unpause()
		st.s.Log.Printf("# Error trying to save the DB, can't exit.")
		return err
	}
	return nil
}

// writeRDBLocked writes the whole keyspace as an RDB file to out while
// the caller holds every shard lock (DEBUG RELOAD).
func (s *Server) writeRDBLocked(out io.Writer, aofBase bool) error {
	return s.writeRDBOf(s.KS, out, aofBase)
}

// writeRDBOf writes ks (every shard locked, or private) as an RDB file to
// out: DEBUG RELOAD, and the AOF base with aof-use-rdb-preamble.
func (s *Server) writeRDBOf(ks *keyspace.Keyspace, out io.Writer, aofBase bool) error {
	opt := rdb.EntryOptions{Compress: s.Cfg.Bool("rdbcompression"), Idle: -1, Freq: -1}
	w := rdb.NewWriter(out)
	w.Checksum = s.Cfg.Bool("rdbchecksum")
	if err := w.Header(s.rdbAux(aofBase), opt.Compress); err != nil {
		return err
	}
	sizes := make([][2]int, ks.NumDB())
	for i := range sizes {
		sizes[i] = [2]int{ks.DB(i).Len(), ks.DB(i).Expires()}
	}
	dw := newDBWriter(w, sizes)
	var buf []byte
	var err error
	for i := range sizes {
		if sizes[i][0] == 0 {
			continue
		}
		ks.DB(i).ForEach(func(k string, o *keyspace.Object) bool {
			buf, err = rdb.AppendEntry(buf, k, o, opt)
			if err == nil && len(buf) > 256<<10 {
				err = dw.write(i, buf)
				buf = buf[:0]
			}
			return err == nil
		})
		if err == nil {
			err = dw.write(i, buf)
			buf = buf[:0]
		}
		if err != nil {
			return err
		}
	}
	return w.Finish()
}

// ---- loading ----

// loadAtStart loads dbfilename if it exists.
func (st *rdbState) loadAtStart() error {
	s := st.s
	f, err := os.Open(st.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("Fatal error loading the DB: %v. Exiting.", err)
	}
	defer f.Close()
	start := time.Now()
	_, info, err := loadRDBInto(s.KS, f, loadOpts{log: s})
	if err != nil {
		return fmt.Errorf("Fatal error loading the DB %s: %v. Exiting.", st.path(), err)
	}
	st.loadedKeys.Store(info.loaded)
	st.loadedExpired.Store(info.expired)
	s.Log.Printf("Done loading RDB, keys loaded: %d, keys expired: %d.", info.loaded, info.expired)
	s.Log.Printf("DB loaded from disk: %.3f seconds", time.Since(start).Seconds())
	return nil
}

type loadInfo struct{ loaded, expired, empty int64 }

// loadOpts qualify a load.
type loadOpts struct {
	locked      bool    // the caller holds every shard lock
	merge       bool    // a key already present is replaced (DEBUG RELOAD MERGE) instead of failing the load
	keepExpired bool    // keep keys already expired (an AOF's RDB part: the log that follows may refer to them)
	log         *Server // gets the log lines
}

// loadRDBInto reads an RDB image from r into ks and returns the bytes it
// used. Keys already expired are skipped unless opt.keepExpired.
func loadRDBInto(ks *keyspace.Keyspace, r io.Reader, opt loadOpts) (int64, loadInfo, error) {
	s, merge := opt.log, opt.merge
	if !opt.locked {
		ks.LockAll()
		defer ks.UnlockAll()
	}
	var info loadInfo
	d := rdb.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	now := ks.Now()
	nowS := now / 1000
	var ctime int64
	_, err := d.Load(rdb.Handler{
		Aux: func(k, v []byte) error {
			if s == nil {
				return nil
			}
			switch string(k) {
			case "redis-ver":
				s.Log.Printf("Loading RDB produced by version %s", v)
			case "ctime":
				ctime, _ = strconv.ParseInt(string(v), 10, 64)
				if age := time.Now().Unix() - ctime; age >= 0 {
					s.Log.Printf("RDB age %d seconds", age)
				}
			case "used-mem":
				n, _ := strconv.ParseInt(string(v), 10, 64)
				s.Log.Printf("RDB memory usage when created %.2f Mb", float64(n)/(1024*1024))
			}
			return nil
		},
		SelectDB: func(db int) error {
			if db >= ks.NumDB() {
				return fmt.Errorf("FATAL: Data file was created with a Redis server configured to handle more than %d databases", ks.NumDB())
			}
			return nil
		},
		Entry: func(e *rdb.Entry) error {
			if e.DB >= ks.NumDB() {
				return fmt.Errorf("database %d out of range", e.DB)
			}
			if e.Expire != 0 && e.Expire < now && !opt.keepExpired {
				info.expired++
				return nil
			}
			db := ks.DB(e.DB)
			if db.RawGet(e.Key) != nil {
				if !merge {
					return fmt.Errorf("RDB has duplicated key '%s' in DB %d", e.Key, e.DB)
				}
				db.Delete(e.Key)
			}
			db.Set(e.Key, e.Obj, false)
			if e.Idle >= 0 && e.Idle <= nowS {
				e.Obj.SetLRU(uint32(nowS - e.Idle))
			}
			info.loaded++
			return nil
		},
		Function: func(code []byte) error {
			if s != nil {
				s.Log.Printf("# Skipping a function library in the RDB file (functions are not supported)")
			}
			return nil
		},
		EmptyKey: func(key []byte) { info.empty++ },
	})
	if info.empty > 0 && s != nil {
		s.Log.Printf("Done loading RDB, empty keys skipped: %d.", info.empty)
	}
	return d.Offset(), info, err
}

// DebugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset,
// empty it and load the file back. The caller holds every shard lock
// (DEBUG is LockAll). The error texts are Redis's replies.
func (s *Server) DebugReload(merge, noflush, nosave bool) error {
	st := rdbOf(s)
	if !nosave {
		err := writeFileAtomic(st.dir(), fmt.Sprintf("temp-%d-reload.rdb", os.Getpid()), st.path(),
			func(w io.Writer) error { return s.writeRDBLocked(w, false) })
		if err != nil {
			s.Log.Printf("# %v", err)
			return errors.New("ERR Error trying to save the DB")
		}
		s.dirty.Store(0)
		s.lastSave.Store(time.Now().Unix())
	}
	if !noflush {
		for i := 0; i < s.KS.NumDB(); i++ {
			s.KS.DB(i).Flush()
		}
	}
	f, err := os.Open(st.path())
	if err != nil {
		s.Log.Printf("# %v", err)
		return errors.New("ERR Error trying to load the RDB dump, check server logs.")
	}
	defer f.Close()
	if _, _, err := loadRDBInto(s.KS, f, loadOpts{locked: true, merge: merge}); err != nil {
		s.Log.Printf("# Error loading the RDB dump: %v", err)
		return errors.New("ERR Error trying to load the RDB dump, check server logs.")
	}
	s.Log.Printf("DB reloaded by DEBUG RELOAD")
	return nil
}

// ---- the dispatcher's hook ----

// snapshotBeforeWrite runs in the dispatcher just before a command's
// handler, with the command's shards held, while a snapshot is being
// written: the keys the command may write are captured first.
func (s *Server) snapshotBeforeWrite(ctx *commands.Ctx, pos []int) {
	st := rdbLookup(s)
	if st == nil {
		return
	}
	jobs := st.jobs.Load()
	if jobs == nil || len(*jobs) == 0 {
		return
	}
	cmd := ctx.Cmd
	write := cmd.Has(commands.FWrite)
	if cmd.LockAll {
		switch {
		case cmd.Name == "flushdb":
			for _, j := range *jobs {
				j.snap.BeforeFlush(ctx.DB.Index())
			}
		case cmd.Name == "flushall":
			for _, j := range *jobs {
				j.snap.BeforeFlush(-1)
			}
		case write || (cmd.Name == "debug" && len(ctx.Args) > 1 && debugWrites(ctx.Args[1])):
			// SWAPDB, DEBUG POPULATE/RELOAD...: hand out everything left.
			for _, j := range *jobs {
				j.snap.CaptureDB(-1)
			}
		}
		return
	}
	if !write {
		return
	}
	db := ctx.DB.Index()
	for _, j := range *jobs {
		for _, p := range pos {
			j.snap.BeforeWrite(db, ctx.Args[p])
		}
		// Writes into another database.
		switch cmd.Name {
		case "move":
			if n, ok := commands.ParseInt(ctx.Args[2]); ok && len(pos) > 0 {
				j.snap.BeforeWrite(int(n), ctx.Args[1])
			}
		case "copy":
			for i := 3; i+1 < len(ctx.Args); i++ {
				if commands.EqualFold(ctx.Args[i], "db") {
					if n, ok := commands.ParseInt(ctx.Args[i+1]); ok {
						j.snap.BeforeWrite(int(n), ctx.Args[2])
					}
				}
			}
		}
	}
}

func debugWrites(sub []byte) bool {
	for _, w := range []string{"populate", "reload", "loadaof"} {
		if commands.EqualFold(sub, w) {
			return true
		}
	}
	return false
}

// ---- INFO ----

// rdbStatus is what INFO persistence reports about RDB saving and loading.
type rdbStatus struct {
	BgsaveInProgress bool
	CowSize          int64 // bytes captured early by the running save, not yet written
	CowPeak          int64
	ForkPerc         float64 // progress of the running save, percent
	KeysProcessed    int64
	KeysTotal        int64
	CurrentSecs      int64 // -1 when no save runs
	LastOK           bool
	LastBgsaveSecs   int64
	Saves            int64
	LastCow          int64
	LoadedKeys       int64
	LoadedExpired    int64
}

func (s *Server) rdbStatus() rdbStatus {
	st := rdbLookup(s)
	if st == nil { // no save or load ever ran
		return rdbStatus{CurrentSecs: -1, LastOK: true, LastBgsaveSecs: -1}
	}
	out := rdbStatus{CurrentSecs: -1, LastOK: st.lastOK.Load(), LastBgsaveSecs: st.lastBgsaveSecs.Load(),
		Saves: st.saves.Load(), LastCow: st.lastCow.Load(), LoadedKeys: st.loadedKeys.Load(),
		LoadedExpired: st.loadedExpired.Load()}
	st.mu.Lock()
	j := st.job
	st.mu.Unlock()
	if j != nil {
		out.BgsaveInProgress = j.bg
		out.CowSize, out.CowPeak = j.capBytes.Load(), j.peakBytes.Load()
		out.KeysProcessed, out.KeysTotal = j.processed.Load(), j.total
		if j.total > 0 {
			out.ForkPerc = float64(out.KeysProcessed) * 100 / float64(j.total)
		}
		out.CurrentSecs = int64(time.Since(j.start).Seconds())
	}
	return out
}

// rdbInfo adds the fields of INFO persistence from "loading" to
// "rdb_last_load_keys_loaded", in Redis 7.0's order (the aof_* fields
// follow them).
func rdbInfo(s *Server, add func(k, v string)) {
	r := s.rdbStatus()
	add("loading", "0")
	add("async_loading", "0")
	add("current_cow_peak", itoa(r.CowPeak))
	add("current_cow_size", itoa(r.CowSize))
	add("current_cow_size_age", "0")
	add("current_fork_perc", strconv.FormatFloat(r.ForkPerc, 'f', 2, 64))
	add("current_save_keys_processed", itoa(r.KeysProcessed))
	add("current_save_keys_total", itoa(r.KeysTotal))
	add("rdb_changes_since_last_save", itoa(s.dirty.Load()))
	add("rdb_bgsave_in_progress", boolInt(r.BgsaveInProgress))
	add("rdb_last_save_time", itoa(s.lastSave.Load()))
	status := "ok"
	if !r.LastOK {
		status = "err"
	}
	add("rdb_last_bgsave_status", status)
	add("rdb_last_bgsave_time_sec", itoa(r.LastBgsaveSecs))
	add("rdb_current_bgsave_time_sec", itoa(r.CurrentSecs))
	add("rdb_saves", itoa(r.Saves))
	add("rdb_last_cow_size", itoa(r.LastCow))
	add("rdb_last_load_keys_expired", itoa(r.LoadedExpired))
	add("rdb_last_load_keys_loaded", itoa(r.LoadedKeys))
}

// errMisconfRDB is Redis's reply to writes refused after a failed BGSAVE.
const errMisconfRDB = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
	"Commands that may modify the data set are disabled, because this instance is configured to report errors " +
	"during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs " +
	"for details about the RDB error."

// rdbWritesDenied returns the error a write command (and PING) must get
// instead of running when the last BGSAVE failed, save rules are set and
// stop-writes-on-bgsave-error is yes (Redis's writeCommandsDeniedByDiskError),
// or "" when writes are allowed. For the dispatcher.
func (s *Server) rdbWritesDenied() string {
	st := rdbLookup(s)
	if st == nil || st.lastOK.Load() || !s.Cfg.Bool("stop-writes-on-bgsave-error") ||
		len(parseSaveRules(s.Cfg.Get("save"))) == 0 {
		return ""
	}
	return errMisconfRDB
}
