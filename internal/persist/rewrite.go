package persist

// AOF rewrites, as Redis's rewriteAppendOnlyFileBackground and
// rewriteAppendOnlyFileRio: BGREWRITEAOF, the automatic rewrite and the
// base written when the AOF is turned on at run time.
//
// With the AOF on, a rewrite does what Redis 7 does with a fork, without
// one: it opens a new incremental file and cuts the log there (every write
// fed before is in the old files, every later one in the new file). With
// aof-use-rdb-preamble yes the cut is made at the instant of a snapshot of
// the live keyspace (snapshot.go, as BGSAVE's), which becomes the new
// base; with no, the base is built by replaying the files before the cut
// into a private keyspace. Either way the base is exactly the state at the
// cut. Then the manifest is switched atomically and the old files deleted.
//
// With the AOF off (BGREWRITEAOF) or being turned on, there is no log to
// cut: an RDB base is a snapshot of the live keyspace, and when turning
// on, the writer starts feeding at its instant. (A RESP base,
// aof-use-rdb-preamble no, is serialized under every shard lock: a pause
// as long as the serialization.)

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/aof"
	"redgo/internal/commands"
	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
	"redgo/internal/vfs"
)

const itemsPerCmd = 64 // AOF_REWRITE_ITEMS_PER_CMD

// Rewrite is BGREWRITEAOF: it starts a rewrite in the background (from
// the log when the AOF is on, else from the live keyspace).
// ErrRewriteInProgress if one runs; other errors are logged here too.
func (p *Persist) Rewrite() error {
	st := p.aofOf()
	// The cut of a rewrite from the log needs every shard: they are taken
	// before st.mu, the lock order (INFO and CONFIG SET appendonly take
	// st.mu with every shard locked).
	unlockShards := lockAllOnce(p.h.Keyspace())
	st.mu.Lock()
	mode := rwLive
	if st.on {
		mode = rwReplay
	}
	err := st.startRewriteLocked(mode, unlockShards)
	unlockShards()
	st.mu.Unlock()
	if err != nil && err != ErrRewriteInProgress {
		p.h.Logf("# %v", err)
	}
	return err
}

type rwMode int

const (
	rwReplay rwMode = iota // AOF on: cut, then replay the old files into a new base
	rwLive                 // AOF off: base from the live keyspace
	rwEnable               // turning the AOF on: base from the live keyspace, feeding starts at the snapshot
)

// rewriteState is the rewrite in progress and the INFO counters.
type rewriteState struct {
	running   atomic.Bool
	abort     atomic.Bool
	startNano atomic.Int64
	lastTime  atomic.Int64 // aof_last_rewrite_time_sec (-1: none yet)
	lastOK    atomic.Bool
	count     atomic.Int64
	failures  atomic.Int64 // consecutive

	mu        sync.Mutex
	done      chan struct{} // closed when the running rewrite ends
	nextAuto  time.Time     // automatic rewrites wait until then after failures
	autoDelay time.Duration
}

// abortAndWait stops the running rewrite, if any, and waits for it.
func (rw *rewriteState) abortAndWait() {
	rw.mu.Lock()
	done := rw.done
	rw.mu.Unlock()
	if done == nil {
		return
	}
	rw.abort.Store(true)
	<-done
}

// startRewriteLocked begins a rewrite (st.mu held).
//
// For rwReplay the caller holds every shard lock too, and unlockShards
// releases them: the cut is made under them, the old file is completed
// after.
func (st *aofState) startRewriteLocked(mode rwMode, unlockShards func()) error {
	rw := &st.rw
	if !rw.running.CompareAndSwap(false, true) {
		return ErrRewriteInProgress
	}
	st.paths()
	if st.man == nil {
		if err := st.loadManifest(); err != nil {
			rw.running.Store(false)
			return err
		}
	}
	if err := st.fs.MkdirAll(st.dir); err != nil {
		rw.running.Store(false)
		return fmt.Errorf("Can't open or create append-only dir %s: %w", st.dir, err)
	}
	var sources []aof.Info
	var newIncr string
	var job *saveJob
	asRDB := st.p.h.Config().Bool("aof-use-rdb-preamble")
	rw.abort.Store(false)
	switch {
	case mode == rwReplay:
		var err error
		if sources, newIncr, job, err = st.cut(asRDB, unlockShards); err != nil {
			rw.running.Store(false)
			return err
		}
	}
	rw.startNano.Store(time.Now().UnixNano())
	st.p.bgJobs.Add(1)
	done := make(chan struct{})
	rw.mu.Lock()
	rw.done = done
	rw.mu.Unlock()
	st.p.h.Logf("Background append only file rewriting started")
	st.p.h.Go(func() {
		if mode != rwReplay && asRDB {
			// No log to cut: the base is a snapshot of the live keyspace
			// (no pause, no copy); when turning the AOF on, feeding starts
			// at its instant. Taken here, not by the caller: CONFIG SET
			// appendonly runs with every shard locked.
			job = st.snapshotJob(func() {
				if mode == rwEnable {
					st.w.Discard(nil) // anything buffered is older than the snapshot
					st.w.SetOn(true)
				}
			})
		}
		err := st.rewrite(mode, sources, newIncr, job, asRDB)
		st.finishRewrite(mode, err)
		rw.mu.Lock()
		rw.done = nil
		rw.mu.Unlock()
		rw.running.Store(false)
		close(done)
	})
	return nil
}

// cut opens a new incremental file, lists it in the manifest and cuts
// the log there: every write fed before is in the old files, every later
// one in the new file. For an RDB base, the cut is made at the instant of
// a snapshot of the live keyspace (every shard locked for both, as for
// BGSAVE), which becomes the base: no fork, no copy of the dataset. It
// returns the snapshot, or, for a RESP base, the files to replay into it.
func (st *aofState) cut(asRDB bool, unlockShards func()) ([]aof.Info, string, *saveJob, error) {
	m := st.man.Clone()
	name := m.NewIncr(st.prefix)
	f, err := st.fs.Create(st.path(name))
	if err != nil {
		return nil, "", nil, fmt.Errorf("Can't open the append-only file %s: %w", name, err)
	}
	if err := st.persistManifest(m); err != nil {
		f.Close()
		st.fs.Remove(st.path(name))
		return nil, "", nil, err
	}
	var job *saveJob
	if asRDB {
		job = st.p.rdbOf().newJobHeld(false, func() { st.w.Cut(f, 0) })
		job.aofBase, job.stop = true, &st.rw.abort
	} else {
		st.w.Cut(f, 0)
	}
	unlockShards()
	st.man = m
	st.p.h.Logf("Creating AOF incr file %s on background rewrite", name)
	oldSize, err := st.w.CompleteCut()
	if err != nil {
		// The cut stands (the new file is in the manifest; the writer
		// completes it when the disk lets it): only this rewrite fails.
		if job != nil {
			st.p.rdbOf().removeHook(job)
		}
		return nil, "", nil, fmt.Errorf("Can't complete the AOF file before the rewrite: %w", err)
	}
	st.incrSizes += oldSize
	files := m.Files()
	return files[:len(files)-1], name, job, nil
}

// rewrite builds the new base and commits it.
func (st *aofState) rewrite(mode rwMode, sources []aof.Info, newIncr string, job *saveJob, asRDB bool) error {
	tmp := st.path(fmt.Sprintf("temp-rewriteaof-bg-%d.aof", os.Getpid()))
	var size int64
	var err error
	switch {
	case job != nil:
		size, err = st.baseFromSnapshot(job, tmp)
	case mode == rwReplay:
		size, err = st.baseFromLog(sources, tmp)
	default:
		size, err = st.baseFromLive(mode == rwEnable, tmp)
	}
	if err == nil && st.rw.abort.Load() {
		err = errRewriteAborted
	}
	if err != nil {
		st.fs.Remove(tmp)
		return err
	}
	return st.commit(mode, tmp, size, newIncr, asRDB)
}

// snapshotJob starts a snapshot of the live keyspace for an RDB base;
// atInstant runs at its instant, every shard locked.
func (st *aofState) snapshotJob(atInstant func()) *saveJob {
	j := st.p.rdbOf().newJobAt(false, atInstant)
	j.aofBase, j.stop = true, &st.rw.abort
	return j
}

// baseFromSnapshot writes the snapshot taken at the cut to tmp, fsynced,
// in RDB format (as BGSAVE writes dump.rdb).
func (st *aofState) baseFromSnapshot(j *saveJob, tmp string) (int64, error) {
	defer func() {
		st.p.rdbOf().removeHook(j)
		st.lastCow.Store(j.peakBytes.Load())
	}()
	f, err := st.fs.Create(tmp)
	if err != nil {
		return 0, err
	}
	ow := &vfs.OffsetWriter{F: f}
	bw := bufio.NewWriterSize(ow, 1<<20)
	err = j.run(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return ow.Off, err
}

// baseFromLog replays the files before the cut into a private keyspace
// and writes its serialization to tmp (a RESP base: aof-use-rdb-preamble
// no).
func (st *aofState) baseFromLog(sources []aof.Info, tmp string) (int64, error) {
	live := st.p.h.Keyspace()
	ks := keyspace.New(live.NumDB())
	ks.Limits = live.Limits
	ks.MaxBulkLen.Store(live.MaxBulkLen.Load())
	r := newReplayer(st.p.h, ks)
	for _, info := range sources {
		if st.rw.abort.Load() {
			return 0, errRewriteAborted
		}
		if err := st.replayFile(r, ks, info.Name); err != nil {
			return 0, err
		}
	}
	ks.LockAll()
	defer ks.UnlockAll()
	return st.writeBase(ks, tmp)
}

// replayFile applies one whole file to ks.
func (st *aofState) replayFile(r *replayer, ks *keyspace.Keyspace, name string) error {
	f, err := st.fs.Open(st.path(name))
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil || size == 0 {
		return err
	}
	in, base, done, err := st.afterPreamble(f, name, ks, func() {})
	if err != nil {
		return fmt.Errorf("the RDB base %s: %w", name, err)
	}
	defer done()
	_, err, ioErr := r.replayFrom(in, base, size-base)
	if ioErr != nil {
		err = ioErr
	}
	if err != nil {
		return fmt.Errorf("replaying %s: %w", name, err)
	}
	return nil
}

// baseFromLive serializes the live keyspace under every shard lock (a
// RESP base; an RDB base comes from a snapshot); when enabling, the writer
// starts feeding at that instant.
func (st *aofState) baseFromLive(enable bool, tmp string) (int64, error) {
	ks := st.p.h.Keyspace()
	ks.LockAll()
	var chunks [][]byte
	err := st.baseImage(ks, false, writerFunc(func(b []byte) error {
		chunks = append(chunks, append([]byte(nil), b...))
		return nil
	}))
	if enable {
		st.w.Discard(nil) // anything buffered is older than the snapshot
		st.w.SetOn(true)
	}
	ks.UnlockAll()
	if err != nil {
		return 0, err
	}
	f, err := st.fs.Create(tmp)
	if err != nil {
		return 0, err
	}
	var off int64
	for _, c := range chunks {
		if _, err := f.WriteAt(c, off); err != nil {
			f.Close()
			return 0, err
		}
		off += int64(len(c))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	return off, f.Close()
}

// writeBase serializes ks (locked) into tmp as a RESP base, fsynced.
func (st *aofState) writeBase(ks *keyspace.Keyspace, tmp string) (int64, error) {
	f, err := st.fs.Create(tmp)
	if err != nil {
		return 0, err
	}
	ow := &vfs.OffsetWriter{F: f}
	err = st.baseImage(ks, false, writerFunc(func(b []byte) error {
		if st.rw.abort.Load() {
			return errRewriteAborted
		}
		_, err := ow.Write(b)
		return err
	}))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return ow.Off, err
}

// commit installs the new base: rename it into place, switch the manifest
// (the covered files become history), then delete the history.
func (st *aofState) commit(mode rwMode, tmp string, size int64, newIncr string, asRDB bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.rw.abort.Load() {
		st.fs.Remove(tmp)
		return errRewriteAborted
	}
	m := st.man.Clone()
	baseName := m.NewBase(st.prefix, asRDB)
	var f vfs.File
	switch mode {
	case rwReplay:
		keep := 0
		for i, info := range m.Incr {
			if info.Name == newIncr {
				keep = len(m.Incr) - i
			}
		}
		m.IncrsToHistory(keep)
	case rwEnable:
		name := m.NewIncr(st.prefix)
		var err error
		if f, err = st.fs.Create(st.path(name)); err != nil {
			st.fs.Remove(tmp)
			return err
		}
		m.IncrsToHistory(1)
	case rwLive:
		m.IncrsToHistory(0)
	}
	fail := func(err error) error {
		if f != nil {
			f.Close()
		}
		st.fs.Remove(tmp)
		return err
	}
	if err := st.fs.Rename(tmp, st.path(baseName)); err != nil {
		return fail(err)
	}
	if err := st.persistManifest(m); err != nil {
		st.fs.Remove(st.path(baseName))
		return fail(err)
	}
	st.p.h.Logf("Successfully renamed the temporary AOF base file %s into %s", tmp, baseName)
	st.man = m
	st.baseSize, st.incrSizes = size, 0
	if f != nil {
		st.w.Attach(f, 0)
	}
	st.rwBaseSize = st.baseSize + st.w.Size()
	if len(m.History) > 0 {
		for _, h := range m.History {
			st.p.h.Logf("Removing the history file %s in the background", h.Name)
			st.fs.Remove(st.path(h.Name))
		}
		clean := m.Clone()
		clean.History = nil
		if st.persistManifest(clean) == nil {
			st.man = clean
		}
	}
	return nil
}

// finishRewrite records the outcome.
func (st *aofState) finishRewrite(mode rwMode, err error) {
	rw := &st.rw
	rw.lastTime.Store(int64(time.Since(time.Unix(0, rw.startNano.Load())).Seconds()))
	if err == nil {
		rw.lastOK.Store(true)
		rw.count.Add(1)
		rw.failures.Store(0)
		rw.mu.Lock()
		rw.autoDelay = 0
		rw.mu.Unlock()
		st.p.h.Logf("Background AOF rewrite finished successfully")
		return
	}
	rw.lastOK.Store(false)
	rw.failures.Add(1)
	rw.mu.Lock()
	if rw.failures.Load() >= 3 { // as Redis's aofRewriteLimited: 1, 2, 4... 60 minutes
		if rw.autoDelay == 0 {
			rw.autoDelay = time.Minute
		} else if rw.autoDelay < time.Hour {
			rw.autoDelay *= 2
		}
		rw.nextAuto = time.Now().Add(rw.autoDelay)
	}
	rw.mu.Unlock()
	st.p.h.Logf("# Background AOF rewrite failed: %v", err)
	if mode == rwEnable {
		// The AOF could not be turned on: writes fed since the snapshot
		// were never made durable.
		st.mu.Lock()
		if st.on && !st.w.HasFile() {
			st.w.SetOn(false)
			st.w.Discard(fmt.Errorf("AOF could not be turned on: %w", err))
			st.on = false
		}
		st.mu.Unlock()
	}
}

// autoRewrite starts a rewrite when the AOF grew by
// auto-aof-rewrite-percentage over its size after the last rewrite.
func (st *aofState) autoRewrite() {
	cfg := st.p.h.Config()
	perc, min := cfg.Int("auto-aof-rewrite-percentage"), cfg.Int("auto-aof-rewrite-min-size")
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.on || perc == 0 || st.rw.running.Load() || !st.w.HasFile() {
		return
	}
	cur := st.baseSize + st.incrSizes + st.w.Size()
	if cur <= min {
		return
	}
	base := st.rwBaseSize
	if base == 0 {
		base = 1
	}
	growth := cur*100/base - 100
	if growth < perc {
		return
	}
	st.rw.mu.Lock()
	limited := time.Now().Before(st.rw.nextAuto)
	st.rw.mu.Unlock()
	if limited {
		return
	}
	// Every shard, then st.mu again (the lock order): the cut needs them.
	st.mu.Unlock()
	unlockShards := lockAllOnce(st.p.h.Keyspace())
	st.mu.Lock()
	defer unlockShards()
	if !st.on || st.rw.running.Load() || !st.w.HasFile() {
		return
	}
	st.p.h.Logf("Starting automatic rewriting of AOF on %d%% growth", growth)
	if err := st.startRewriteLocked(rwReplay, unlockShards); err != nil && err != ErrRewriteInProgress {
		st.p.h.Logf("# %v", err)
	}
}

// baseImage writes ks (every shard locked, or private) as an AOF base: an
// RDB image with aof-use-rdb-preamble yes (Redis 7's default: smaller and
// faster to load), commands otherwise.
func (st *aofState) baseImage(ks *keyspace.Keyspace, asRDB bool, w io.Writer) error {
	if asRDB {
		return st.p.WriteRDB(ks, w, true)
	}
	// The function libraries first, as Redis's rewriteFunctions.
	var fb []byte
	for _, code := range st.p.functionCodes() {
		fb = aof.AppendCommandStrings(fb, "FUNCTION", "LOAD", string(code))
	}
	if len(fb) > 0 {
		if _, err := w.Write(fb); err != nil {
			return err
		}
	}
	return serializeKeyspace(ks, st.p.h.Config().Bool("aof-timestamp-enabled"), func(b []byte) error {
		_, err := w.Write(b)
		return err
	})
}

// writerFunc adapts a function to io.Writer (it must not keep p).
type writerFunc func(p []byte) error

func (f writerFunc) Write(p []byte) (int, error) {
	if err := f(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serializeKeyspace emits, database by database, the commands that
// rebuild every live key (ks fully locked), in chunks of about 1 MB.
func serializeKeyspace(ks *keyspace.Keyspace, timestamp bool, emit func([]byte) error) error {
	var b []byte
	if timestamp {
		b = append(b, "#TS:"...)
		b = strconv.AppendInt(b, time.Now().Unix(), 10)
		b = append(b, '\r', '\n')
	}
	var err error
	for i := 0; i < ks.NumDB() && err == nil; i++ {
		db := ks.DB(i)
		first := true
		db.ForEach(func(key string, o *keyspace.Object) bool {
			if first {
				b = aof.AppendCommandStrings(b, "SELECT", strconv.Itoa(i))
				first = false
			}
			b = appendKeyCommands(b, key, o)
			if len(b) >= 1<<20 {
				if err = emit(b); err != nil {
					return false
				}
				b = b[:0]
			}
			return true
		})
	}
	if err == nil && len(b) > 0 {
		err = emit(b)
	}
	return err
}

// appendKeyCommands appends the commands that rebuild one key, as Redis's
// rewriteAppendOnlyFileRio: SET, RPUSH, SADD, ZADD or HMSET (64 items per
// command), a stream's XADD/XSETID/XGROUP/XCLAIM (rewrite_stream.go), then
// PEXPIREAT if the key has a TTL.
func appendKeyCommands(b []byte, key string, o *keyspace.Object) []byte {
	k := []byte(key)
	switch o.Type() {
	case keyspace.TString:
		b = aof.AppendCommand(b, []byte("SET"), k, o.Bytes())
	case keyspace.TList:
		b = appendBatched(b, "RPUSH", k, o.List().Len(), 1, func(yield func(...[]byte)) {
			for v := range o.List().All() {
				yield(v)
			}
		})
	case keyspace.TSet:
		b = appendBatched(b, "SADD", k, o.Set().Len(), 1, func(yield func(...[]byte)) {
			o.Set().ForEach(func(m []byte) bool { yield(m); return true })
		})
	case keyspace.TZSet:
		b = appendBatched(b, "ZADD", k, o.ZSet().Len(), 2, func(yield func(...[]byte)) {
			o.ZSet().ForEach(func(e datatype.ZEntry) bool {
				yield([]byte(commands.FormatFloat(e.Score)), []byte(e.Member))
				return true
			})
		})
	case keyspace.THash:
		b = appendBatched(b, "HMSET", k, o.Hash().Len(), 2, func(yield func(...[]byte)) {
			o.Hash().ForEach(func(f, v []byte) bool { yield(f, v); return true })
		})
	case keyspace.TStream:
		b = appendStreamCommands(b, k, o.Stream())
	default:
		return b
	}
	if at := o.Expire(); at != 0 {
		b = aof.AppendCommand(b, []byte("PEXPIREAT"), k, strconv.AppendInt(nil, at, 10))
	}
	return b
}

// appendBatched writes name key item... commands of at most itemsPerCmd
// items (each item is width arguments).
func appendBatched(b []byte, name string, key []byte, n, width int, each func(yield func(...[]byte))) []byte {
	left, inCmd := n, 0
	each(func(item ...[]byte) {
		if inCmd == 0 {
			cnt := min(left, itemsPerCmd)
			b = append(b, '*')
			b = strconv.AppendInt(b, int64(2+cnt*width), 10)
			b = append(b, '\r', '\n')
			b = resp.AppendBulk(b, []byte(name))
			b = resp.AppendBulk(b, key)
		}
		for _, a := range item {
			b = resp.AppendBulk(b, a)
		}
		left--
		if inCmd++; inCmd == itemsPerCmd {
			inCmd = 0
		}
	})
	return b
}

// lockAllOnce locks every shard of ks and returns the func that unlocks
// them; calls after the first do nothing (a rewrite's cut releases the
// shards early, its caller releases them in any case).
func lockAllOnce(ks *keyspace.Keyspace) func() {
	ks.LockAll()
	held := true
	return func() {
		if held {
			held = false
			ks.UnlockAll()
		}
	}
}
