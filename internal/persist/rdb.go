package persist

// RDB persistence, as Redis's rdb.c around the format: SAVE and BGSAVE
// (rdbSave, rdbSaveBackground), the save rules (serverCron), the final
// save at shutdown and the image an AOF base holds (rdbSaveRio). The
// snapshot a save writes is in snapshot.go, loading in rdbload.go.
//
// Files are written to temp-<pid>.rdb in dir, fsynced, renamed to
// dbfilename, and the directory is fsynced (vfs.WriteAtomic).

import (
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

	"redgo/internal/clock"
	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/rdb"
	"redgo/internal/vfs"
)

// rdbState is one server's RDB persistence.
type rdbState struct {
	p *Persist

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

// rdbOf returns the RDB state, creating it (and starting the save rules
// job) on first use.
func (p *Persist) rdbOf() *rdbState {
	if st := p.rdbSt.Load(); st != nil {
		return st
	}
	st := &rdbState{p: p}
	st.lastOK.Store(true)
	st.lastBgsaveSecs.Store(-1)
	if !p.rdbSt.CompareAndSwap(nil, st) {
		return p.rdbSt.Load()
	}
	p.h.Go(st.cron)
	return st
}

// path is dbfilename in dir. The redgo binary chdirs into dir, so a
// relative dir means the working directory; in-process servers use an
// absolute dir.
func (st *rdbState) dir() string {
	dir := st.p.h.Config().Get("dir")
	if !filepath.IsAbs(dir) {
		dir = "."
	}
	return dir
}

func (st *rdbState) path() string { return filepath.Join(st.dir(), st.p.h.Config().Get("dbfilename")) }

// ---- saving ----

// writeAtomic writes dbfilename through the temporary file tmpName (in
// dir) with fill, as Redis's rdbSave: fsync, rename, fsync of the dir.
// Errors carry Redis's log texts and wrap the cause.
func (st *rdbState) writeAtomic(tmpName string, fill func(io.Writer) error) error {
	dir := st.dir()
	err := vfs.WriteAtomic(st.p.fs, dir, tmpName, st.p.h.Config().Get("dbfilename"), fill)
	var ae *vfs.AtomicError
	if !errors.As(err, &ae) {
		return err // nil, or fill's own error
	}
	switch ae.Op {
	case "syncdir":
		return nil // the file is in place; Redis ignores this fsync's result too
	case "create":
		return fmt.Errorf("Failed opening the temp RDB file %s (in server root dir %s) for saving: %w", tmpName, dir, ae.Err)
	case "rename":
		return fmt.Errorf("Error moving temp DB file %s on the final destination %s (in server root dir %s): %w",
			tmpName, st.path(), dir, ae.Err)
	case "sync":
		return fmt.Errorf("Write error saving DB on disk (fsync): %w", ae.Err)
	}
	return fmt.Errorf("Write error saving DB on disk: %w", ae.Err)
}

// Save is SAVE: a snapshot written while the server keeps serving; it
// returns when the file is in place. ErrSaveInProgress if a save runs.
func (p *Persist) Save() error { return p.rdbOf().save() }

// SaveAfterFlush is FLUSHALL's save (flushAllDataAndResetRDB): a BGSAVE
// in progress is stopped (its snapshot is of the flushed data), then the
// dataset is saved in the foreground.
func (p *Persist) SaveAfterFlush() error {
	p.AbortBGSave()
	return p.rdbOf().save()
}

// AbortBGSave stops a BGSAVE in progress, if any, and waits for it: its
// snapshot is of data FLUSHALL removed (Redis kills the RDB child). The
// save counts as failed.
func (p *Persist) AbortBGSave() {
	st := p.rdbSt.Load()
	if st == nil {
		return
	}
	st.mu.Lock()
	j := st.job
	st.mu.Unlock()
	if j != nil && j.bg && !j.aofBase {
		j.abort.Store(true)
		<-j.done
	}
}

// BGSave is BGSAVE [SCHEDULE]: it starts a background save, or, when one
// runs already (an AOF rewrite's, a SAVE) or the caller cannot start one
// now (inside a transaction: schedule), schedules one for right after.
// ErrSaveInProgress when a BGSAVE runs.
func (p *Persist) BGSave(schedule bool) (scheduled bool, err error) {
	st := p.rdbOf()
	st.mu.Lock()
	running := st.job != nil && st.job.bg
	busy := st.job != nil
	if !running && (busy || schedule) {
		st.scheduled = true
	}
	st.mu.Unlock()
	switch {
	case running:
		return false, ErrSaveInProgress
	case busy || schedule:
		return true, nil
	}
	_, err = st.startSave(true)
	return false, err
}

// Saving reports whether a save runs or is scheduled.
func (p *Persist) Saving() bool {
	st := p.rdbSt.Load()
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.job != nil || st.scheduled
}

// startSave starts a snapshot save in the background. The returned job's
// done channel closes when the file is in place (or the save failed).
func (st *rdbState) startSave(bg bool) (*saveJob, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.job != nil {
		return nil, ErrSaveInProgress
	}
	if bg {
		st.lastTry.Store(time.Now().Unix())
	}
	j := st.newJob(bg)
	st.job = j
	st.scheduled = false
	if bg {
		st.p.bgJobs.Add(1)
		st.p.h.Logf("Background saving started")
	}
	st.p.h.Go(func() { st.finish(j, st.writeJob(j)) })
	return j, nil
}

func (st *rdbState) writeJob(j *saveJob) error {
	return st.writeAtomic(fmt.Sprintf("temp-%d.rdb", os.Getpid()), j.run)
}

// finish records the outcome of a save.
func (st *rdbState) finish(j *saveJob, err error) {
	st.removeHook(j)
	p := st.p
	st.lastCow.Store(j.peakBytes.Load())
	if err == nil {
		p.markSaved(j.dirtyAt)
		st.saves.Add(1)
		st.lastOK.Store(true)
		marked, captured := j.snap.EarlyKeys()
		p.h.Logf("RDB: %d KB of memory used by values captured before their first write (peak; %d keys captured, %d remembered) in %.3f seconds; all shards locked %v to start; shard lock held per %d keys: %s",
			j.peakBytes.Load()>>10, captured, marked, time.Since(j.start).Seconds(), j.beginPause.Round(time.Microsecond),
			p.opt.WalkChunk, j.holds.String())
		if j.bg {
			st.lastBgsaveSecs.Store(int64(time.Since(j.start).Seconds()))
			p.h.Logf("Background saving terminated with success")
		} else {
			p.h.Logf("DB saved on disk")
		}
	} else if err != errSaveAborted {
		if j.bg {
			st.lastOK.Store(false)
			st.lastBgsaveSecs.Store(int64(time.Since(j.start).Seconds()))
			p.h.Logf("# Background saving error: %v", err)
		} else {
			p.h.Logf("# %v", err)
		}
	}
	j.result = err
	st.mu.Lock()
	st.job = nil
	st.mu.Unlock()
	close(j.done)
}

// save is SAVE: a snapshot written while the server keeps serving,
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
	t := clock.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-st.p.h.Done():
			st.abortRunning()
			return
		case <-t.C:
			t.Next()
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
		dirty := st.p.h.Dirty()
		since := now - st.p.lastSave.Load()
		retryOK := st.lastOK.Load() || now-st.lastTry.Load() > 5
		for _, rule := range parseSaveRules(st.p.h.Config().Get("save")) {
			if dirty >= rule[1] && since > rule[0] && retryOK {
				st.p.h.Logf("%d changes in %d seconds. Saving...", rule[1], rule[0])
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
	st.p.h.Logf("Saving the final RDB snapshot before exiting.")
	st.p.h.PauseWrites(true)
	if err := st.save(); err != nil {
		st.p.h.PauseWrites(false)
		st.p.h.Logf("# Error trying to save the DB, can't exit.")
		return err
	}
	return nil
}

// WriteRDB writes ks (every shard locked, or private) as an RDB file to
// out, as Redis's rdbSaveRio: DEBUG RELOAD, and the AOF base with
// aof-use-rdb-preamble (aofBase: aux field aof-base 1).
func (p *Persist) WriteRDB(ks *keyspace.Keyspace, out io.Writer, aofBase bool) error {
	opt := rdb.EntryOptions{Compress: p.h.Config().Bool("rdbcompression"), Idle: -1, Freq: -1}
	w := rdb.NewWriter(out)
	w.Checksum = p.h.Config().Bool("rdbchecksum")
	var ri *ReplInfo
	if !aofBase {
		if r, ok := p.h.ReplInfo(); ok {
			ri = &r
		}
	}
	if err := w.Header(rdbAux(aofBase, ri), opt.Compress); err != nil {
		return err
	}
	if err := writeFunctions(w, p.functionCodes(), opt.Compress); err != nil {
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

// rdbAux returns the aux fields Redis 7.0 writes; ri, if set, adds the
// replication history (rdbSaveInfoAuxFields).
func rdbAux(aofBase bool, ri *ReplInfo) []rdb.Aux {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := "0"
	if aofBase {
		base = "1"
	}
	aux := []rdb.Aux{
		{Key: "redis-ver", Val: config.Version},
		{Key: "redis-bits", Val: strconv.Itoa(strconv.IntSize)},
		{Key: "ctime", Val: strconv.FormatInt(time.Now().Unix(), 10)},
		{Key: "used-mem", Val: strconv.FormatUint(ms.HeapAlloc, 10)},
	}
	if ri != nil {
		aux = append(aux,
			rdb.Aux{Key: "repl-stream-db", Val: strconv.Itoa(ri.DB)},
			rdb.Aux{Key: "repl-id", Val: ri.ID},
			rdb.Aux{Key: "repl-offset", Val: strconv.FormatInt(ri.Offset, 10)})
	}
	return append(aux, rdb.Aux{Key: "aof-base", Val: base})
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

// writeFunctions writes the function libraries after the header, as
// Redis 7.0 does (FUNCTION2 opcodes before the first database).
func writeFunctions(w *rdb.Writer, codes [][]byte, compress bool) error {
	for _, code := range codes {
		if _, err := w.Write(rdb.AppendFunction(nil, code, compress)); err != nil {
			return err
		}
	}
	return nil
}
