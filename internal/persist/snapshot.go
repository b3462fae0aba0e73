package persist

// The fork-free snapshot (docs/design.md, "Snapshots without fork"), what
// Redis's rdbSaveBackground gets from fork: one instant of the keyspace,
// written while the server keeps serving writes.
//
// A save captures one instant without fork: with every shard locked for a
// moment it starts a keyspace.Snapshot and notes the per-database sizes
// and the dirty counter; then a goroutine walks the databases slot by slot
// and writes the file. It holds a slot's shard lock only while it encodes
// Options.WalkChunk (64) keys (long strings are LZF-compressed after the lock is released),
// then lets waiting writers in. Meanwhile the host calls BeforeWrite
// before every write: a key the walk has not reached is serialized first, as it was at the instant, into a per-shard buffer
// that the walk appends to the file when it next visits that shard. Those
// buffers and the set of keys handled early are the extra memory a save
// needs (INFO current_cow_size counts the buffers); a writer waits at most
// for one value's serialization or one 64-key chunk of the walk. The file
// holds the databases in order, with extra SELECTDB opcodes where
// early-captured keys of another database are appended (Redis's loader
// accepts SELECTDB anywhere).

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/procs"
	"redgo/internal/rdb"
	"redgo/internal/slot"
)

// saveJob is one snapshot being written.
type saveJob struct {
	st    *rdbState
	p     *Persist
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
	repl       *ReplInfo     // replication history at the instant, if any (not in an AOF base)
	holds      holdStats     // how long the walk held each shard lock
	beginPause time.Duration // every shard locked to start the snapshot
	release    func()        // gives back the Ps held while the job runs (procs.Hold)

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
	ks := st.p.h.Keyspace()
	ks.LockAll()
	locked := time.Now()
	j := st.newJobHeld(bg, atInstant)
	ks.UnlockAll()
	j.beginPause = time.Since(locked)
	return j
}

// newJobHeld is newJobAt for a caller that holds every shard lock.
func (st *rdbState) newJobHeld(bg bool, atInstant func()) *saveJob {
	p := st.p
	cfg := p.h.Config()
	j := &saveJob{st: st, bg: bg, start: time.Now(), done: make(chan struct{})}
	j.opt = rdb.EntryOptions{Compress: cfg.Bool("rdbcompression"), Idle: -1, Freq: -1}
	j.lru = strings.Contains(cfg.Get("maxmemory-policy"), "lru")
	ks := p.h.Keyspace()
	j.snap = ks.BeginSnapshot(j.capture)
	if atInstant != nil {
		atInstant()
	}
	if ri, ok := p.h.ReplInfo(); ok {
		j.repl = &ri
	}
	j.dirtyAt = p.h.Dirty()
	j.sizes = make([][2]int, ks.NumDB())
	for i := range j.sizes {
		db := ks.DB(i)
		j.sizes[i] = [2]int{db.Len(), db.Expires()}
		j.total += int64(j.sizes[i][0])
	}
	st.addHook(j)
	return j
}

func (st *rdbState) addHook(j *saveJob) {
	j.release = procs.Hold() // the walk beside the requests: every P
	for {
		old := st.jobs.Load()
		var list []*saveJob
		if old != nil {
			list = append(list, *old...)
		}
		list = append(list, j)
		if st.jobs.CompareAndSwap(old, &list) {
			st.p.snapshots.Add(1)
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
			st.p.snapshots.Add(-1)
			j.release()
			return
		}
	}
}

// run walks the snapshot and writes it to f.
func (j *saveJob) run(f io.Writer) error {
	p := j.st.p
	w := rdb.NewWriter(f)
	w.Checksum = p.h.Config().Bool("rdbchecksum")
	ri := j.repl
	if j.aofBase {
		ri = nil
	}
	if err := w.Header(rdbAux(j.aofBase, ri), j.opt.Compress); err != nil {
		return err
	}
	if err := writeFunctions(w, p.functionCodes(), j.opt.Compress); err != nil {
		return err
	}
	jw := &jobWriter{j: j, dw: newDBWriter(w, j.sizes)}
	cfg := p.h.Config()
	for db := range j.sizes {
		if j.sizes[db][0] == 0 {
			continue
		}
		for sl := 0; sl < slot.Count; sl++ {
			if j.abort.Load() || j.stop != nil && j.stop.Load() {
				return errSaveAborted
			}
			if p.opt.WalkHook != nil {
				p.opt.WalkHook(db, sl)
			}
			n, err := jw.slot(db, sl)
			if err != nil {
				return err
			}
			if d := cfg.Int("rdb-key-save-delay"); d > 0 && n > 0 {
				// Redis's per-key delay (microseconds), for tests: slept
				// here, with no lock held, until the server closes.
				select {
				case <-time.After(time.Duration(int64(n)*d) * time.Microsecond):
				case <-p.h.Done():
					return errSaveAborted
				}
			}
		}
	}
	// Every slot is taken now: nothing more can be captured. Write the
	// captures made since the walk last visited each shard.
	ks := p.h.Keyspace()
	for sh := 0; sh < keyspace.NShards; sh++ {
		ks.ShardLock(sh)
		segs := j.bufs[sh]
		j.bufs[sh] = nil
		ks.ShardUnlock(sh)
		if err := jw.drain(segs); err != nil {
			return err
		}
	}
	if err := j.firstErr(); err != nil {
		return err
	}
	return w.Finish()
}

// jobWriter is the walk's output: the database writer and the buffers it
// reuses from slot to slot.
type jobWriter struct {
	j     *saveJob
	dw    *dbWriter
	buf   []byte     // one slot's entries, encoded under the shard lock
	spans []rdb.Span // their long strings, compressed after the lock
	out   []byte     // buf compressed
}

// slot encodes the keys of one slot not captured yet, holding its shard
// lock per WalkChunk keys, then writes them after the captures the shard
// holds. It returns how many keys it took.
func (jw *jobWriter) slot(db, sl int) (int, error) {
	j := jw.j
	ks := j.st.p.h.Keyspace()
	sh := sl % keyspace.NShards
	ks.ShardLock(sh)
	held := time.Now()
	segs := j.bufs[sh]
	j.bufs[sh] = nil
	jw.buf, jw.spans = jw.buf[:0], jw.spans[:0]
	var encErr error
	n := j.snap.TakeSlot(db, sl, func(k string, o *keyspace.Object) {
		if encErr != nil {
			return
		}
		opt := j.entryOpts(o)
		opt.Deferred = &jw.spans
		jw.buf, encErr = rdb.AppendEntry(jw.buf, k, o, opt)
	}, j.st.p.opt.WalkChunk, func() {
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
		return 0, encErr
	}
	j.processed.Add(int64(n))
	if err := jw.drain(segs); err != nil {
		return 0, err
	}
	if err := jw.finish(db, jw.buf, jw.spans); err != nil {
		return 0, err
	}
	if cap(jw.buf) > 4<<20 {
		jw.buf, jw.out = nil, nil
	}
	return n, nil
}

// finish compresses what was encoded under a lock (spans), then writes.
func (jw *jobWriter) finish(db int, b []byte, spans []rdb.Span) error {
	if len(spans) > 0 {
		jw.out = rdb.CompressDeferred(jw.out[:0], b, spans)
		b = jw.out
	}
	return jw.dw.write(db, b)
}

// drain writes early captures.
func (jw *jobWriter) drain(segs []capSeg) error {
	for _, sg := range segs {
		jw.j.capBytes.Add(-int64(len(sg.b)))
		if err := jw.finish(sg.db, sg.b, sg.spans); err != nil {
			return err
		}
	}
	return nil
}

// BeforeExpire lets running snapshots capture a key about to be deleted
// because it expired (keyspace.Keyspace.BeforeExpire; its shard is
// locked): a snapshot holds the keys past their expiry too.
func (p *Persist) BeforeExpire(db int, key string) {
	st := p.rdbSt.Load()
	if st == nil {
		return
	}
	if jobs := st.jobs.Load(); jobs != nil {
		for _, j := range *jobs {
			j.snap.BeforeWrite(db, []byte(key))
		}
	}
}

// BeforeWrite is the "serialize before first write" hook: the host calls
// it just before a command's handler, with the command's shards held,
// while Snapshotting: the keys the command may write (pos: their
// positions in ctx.Args) are captured first for every snapshot running.
func (p *Persist) BeforeWrite(ctx *commands.Ctx, pos []int) {
	st := p.rdbSt.Load()
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

// BeforeWriteKey is BeforeWrite for one key of database db that a
// server-internal write (a slot migration's batch) is about to change,
// with its shard held.
func (p *Persist) BeforeWriteKey(db int, key []byte) {
	st := p.rdbSt.Load()
	if st == nil {
		return
	}
	jobs := st.jobs.Load()
	if jobs == nil {
		return
	}
	for _, j := range *jobs {
		j.snap.BeforeWrite(db, key)
	}
}

// debugWrites reports whether DEBUG sub writes the whole keyspace.
func debugWrites(sub []byte) bool {
	for _, w := range []string{"populate", "reload", "loadaof"} {
		if commands.EqualFold(sub, w) {
			return true
		}
	}
	return false
}
