package persist

// What replication needs from persistence: a master's full sync sends a
// point-in-time snapshot of the live keyspace (the fork-free snapshot of
// snapshot.go, as Redis forks for rdbSaveToSlavesSockets or a BGSAVE for
// replication), and a replica loads what its master sent in place of its
// dataset (readSyncBulkPayload's emptyData + rdbLoadRio).

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

// Snapshot starts a point-in-time snapshot of the keyspace: atInstant
// runs at its instant, with every shard locked (the replication stream's
// offset is taken there). The function returned writes the snapshot as an
// RDB image to w; it must be called exactly once. Snapshots run alongside
// BGSAVE and each other.
func (p *Persist) Snapshot(atInstant func()) func(w io.Writer) error {
	st := p.rdbOf()
	j := st.newJobAt(true, atInstant)
	return func(w io.Writer) error {
		defer st.removeHook(j)
		return j.run(w)
	}
}

// loadState is a load in progress, as INFO and the dispatcher see it.
type loadState struct {
	visible atomic.Bool  // clients are told (-LOADING, INFO loading:1)
	async   atomic.Bool  // a load aside while the old dataset is served (INFO async_loading:1)
	start   atomic.Int64 // unix seconds
	total   atomic.Int64 // bytes of the image, 0 when not known (an EOF-framed stream)
	loaded  atomic.Int64 // bytes read so far
}

// loadProgress returns a load's per-key hook (loadOpts.yield): it
// sleeps key-load-delay microseconds per key (CONFIG SET applies to a
// load under way) and, every loading-process-events-interval-bytes,
// records the bytes loaded and calls every (Redis processes events
// there).
func (p *Persist) loadProgress(every func()) func(off int64) {
	cfg := p.h.Config()
	interval := cfg.Int("loading-process-events-interval-bytes")
	if interval <= 0 {
		interval = 2 << 20
	}
	var last, keys int64
	delay := cfg.Int("key-load-delay")
	return func(off int64) {
		if keys++; keys%256 == 0 {
			delay = cfg.Int("key-load-delay")
		}
		if delay > 0 {
			time.Sleep(time.Duration(delay) * time.Microsecond)
		}
		if off-last >= interval {
			last = off
			p.load.loaded.Store(off)
			every()
		}
	}
}

// loadVisibleAfter is how long a load may run before clients are told
// of it even if it has not reached loading-process-events-interval-bytes.
const loadVisibleAfter = time.Second

// Loading reports whether a load is under way that clients must be told
// about: commands without the loading flag get -LOADING.
func (p *Persist) Loading() bool { return p.load.visible.Load() }

// LoadReplicated empties every database and loads the RDB image read
// from r (total bytes long, 0 if not known), with every shard locked:
// clients wait rather than see a half-loaded dataset. As Redis serves
// events while it loads (every loading-process-events-interval-bytes),
// the loader lets go of the locks at that interval; from the first such
// moment on the load is visible (Loading), so that what runs then is
// only what may run during a load. key-load-delay (microseconds) slows
// each key down, as in Redis, for tests. After an error the keyspace is
// left empty. An AOF that is on is rewritten from the new dataset
// afterwards. A load that runs longer than loadVisibleAfter is visible
// from then on.
func (p *Persist) LoadReplicated(r io.Reader, total int64) error {
	ks := p.h.Keyspace()
	cfg := p.h.Config()
	ld := &p.load
	ld.start.Store(time.Now().Unix())
	ld.total.Store(total)
	ld.loaded.Store(0)
	yield := p.loadProgress(func() {
		ld.visible.Store(true)
		ks.UnlockAll()
		runtime.Gosched()
		ks.LockAll()
	})
	// A load that takes long is told to clients even between two yields
	// (a master that stalls mid-stream): they get -LOADING rather than
	// wait on the locks.
	tell := time.AfterFunc(loadVisibleAfter, func() { ld.visible.Store(true) })
	defer func() {
		tell.Stop()
		ld.visible.Store(false)
	}()

	ks.LockAll()
	start := time.Now()
	for i := 0; i < ks.NumDB(); i++ {
		ks.DB(i).Flush()
	}
	p.flushFunctions()
	_, info, err := loadRDBInto(ks, r, loadOpts{locked: true, keepExpired: true, logf: p.h.Logf, yield: yield,
		function: p.loadFunction})
	if err != nil {
		for i := 0; i < ks.NumDB(); i++ {
			ks.DB(i).Flush()
		}
	}
	tell.Stop()
	ld.visible.Store(false)
	ks.UnlockAll()
	if err != nil {
		return err
	}
	p.h.Logf("Done loading RDB, keys loaded: %d, keys expired: %d.", info.loaded, info.expired)
	p.h.Logf("MASTER <-> REPLICA sync: Loaded in %.3f seconds", time.Since(start).Seconds())
	if cfg.Bool("appendonly") {
		if err := p.Rewrite(); err != nil && err != ErrRewriteInProgress {
			p.h.Logf("# Failed restarting the AOF after the sync with the master: %v", err)
		}
	}
	return nil
}

// LoadReplicatedAside loads the RDB image read from r (total bytes long,
// 0 if not known) into an empty keyspace and, once it is whole, swaps it
// in for the live one (repl-diskless-load swapdb): a failed load leaves
// the dataset as it was. With async the live dataset is served
// meanwhile (INFO async_loading:1); otherwise clients are told of the
// load as LoadReplicated tells them. key-load-delay applies.
func (p *Persist) LoadReplicatedAside(r io.Reader, total int64, async bool) error {
	ks := p.h.Keyspace()
	cfg := p.h.Config()
	ld := &p.load
	ld.start.Store(time.Now().Unix())
	ld.total.Store(total)
	ld.loaded.Store(0)
	var tell *time.Timer
	if async {
		ld.async.Store(true)
	} else {
		tell = time.AfterFunc(loadVisibleAfter, func() { ld.visible.Store(true) })
	}
	defer func() {
		if tell != nil {
			tell.Stop()
		}
		ld.visible.Store(false)
		ld.async.Store(false)
	}()
	yield := p.loadProgress(func() {
		if !async {
			ld.visible.Store(true)
		}
	})
	start := time.Now()
	aside := ks.NewLike()
	// Nobody else sees aside: no lock to take while it fills.
	_, info, err := loadRDBInto(aside, r, loadOpts{locked: true, keepExpired: true, logf: p.h.Logf, yield: yield})
	if err != nil {
		p.h.Logf("# Discarding the half-loaded data: the dataset stays as it was")
		return err
	}
	ks.LockAll()
	ks.ReplaceWith(aside)
	ks.UnlockAll()
	p.h.Logf("Done loading RDB, keys loaded: %d, keys expired: %d.", info.loaded, info.expired)
	p.h.Logf("MASTER <-> REPLICA sync: Swapping the loaded dataset in (loaded in %.3f seconds)", time.Since(start).Seconds())
	if cfg.Bool("appendonly") {
		if err := p.Rewrite(); err != nil && err != ErrRewriteInProgress {
			p.h.Logf("# Failed restarting the AOF after the sync with the master: %v", err)
		}
	}
	return nil
}

// transferSeq tells apart the temporary files of replicas in one process.
var transferSeq atomic.Int64

// LoadReplicatedViaDisk is repl-diskless-load disabled: the image read
// from r (total bytes long, 0 if not known) goes to a temporary file in
// dir first, while the dataset is served as it was; the file then
// becomes dbfilename (as Redis renames it) and is loaded in place as
// LoadReplicated loads. before runs between the two. A failed transfer
// leaves the dataset and dbfilename as they were.
func (p *Persist) LoadReplicatedViaDisk(r io.Reader, total int64, before func()) error {
	st := p.rdbOf()
	tmp := fmt.Sprintf("temp-%d.%d.%d.rdb", time.Now().Unix(), os.Getpid(), transferSeq.Add(1))
	err := st.writeAtomic(tmp, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
	if err != nil {
		return err
	}
	p.h.Logf("MASTER <-> REPLICA sync: Flushing old data")
	p.h.Logf("MASTER <-> REPLICA sync: Loading DB in memory")
	f, err := p.fs.Open(st.path())
	if err != nil {
		return fmt.Errorf("Failed opening the DB %s the master sent: %w", st.path(), err)
	}
	defer f.Close()
	if before != nil {
		before()
	}
	return p.LoadReplicated(f, total)
}

// InfoLoading adds the loading_* fields of INFO persistence while a load
// is visible (Redis adds them last in the section).
func (p *Persist) InfoLoading(add func(k, v string)) {
	ld := &p.load
	if !ld.visible.Load() {
		return
	}
	start, total, loaded := ld.start.Load(), ld.total.Load(), ld.loaded.Load()
	elapsed := time.Now().Unix() - start
	perc, eta := 0.0, int64(1)
	if total > 0 {
		perc = float64(loaded) * 100 / float64(total)
		if loaded > 0 && elapsed > 0 {
			eta = (total - loaded) * elapsed / loaded
		}
	}
	add("loading_start_time", itoa(start))
	add("loading_total_bytes", itoa(total))
	add("loading_rdb_used_mem", "0")
	add("loading_loaded_bytes", itoa(loaded))
	add("loading_loaded_perc", strconv.FormatFloat(perc, 'f', 2, 64))
	add("loading_eta_seconds", itoa(eta))
}
