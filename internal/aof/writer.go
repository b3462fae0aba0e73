package aof

import (
	"errors"
	"redgo/internal/clock"
	"redgo/internal/vfs"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Policy is appendfsync.
type Policy int32

const (
	EverySec Policy = iota // fsync once a second in the background
	Always                 // a write is acknowledged after the fsync covering it
	No                     // never fsync; the OS flushes when it likes
)

// ParsePolicy maps an appendfsync value to a Policy (everysec if unknown).
func ParsePolicy(s string) Policy {
	switch s {
	case "always":
		return Always
	case "no":
		return No
	}
	return EverySec
}

// ErrClosed is returned by WaitDurable when the writer has no file left to
// make a write durable in.
var ErrClosed = errors.New("the AOF is closed")

// Writer is the AOF's append path. Feed appends encoded commands to an
// in-memory buffer under one short mutex and returns a sequence number; a
// flusher goroutine writes the buffer to the current file and fsyncs it as
// the policy says. Under Always, WaitDurable(seq) returns once an fsync
// covered seq: every write appended while one fsync runs is covered by the
// next, so one fsync acknowledges many clients (group commit).
//
// A failed write or fsync keeps the data and is retried (rewriting from the
// last durable offset, since after a failed fsync the kernel may have
// dropped the pages); the waiters of the failed attempt get the error.
type Writer struct {
	log func(format string, args ...any)

	mu      sync.Mutex
	on      bool   // Feed appends; off, Feed returns 0
	buf     []byte // fed, not yet taken by the flusher
	db      int    // database the stream is in; -1: the next write selects
	seq     int64  // sequence of the last write fed
	failed  int64  // writes <= failed were in an attempt that failed
	wakeAt  int64  // Feed wakes the flusher once this many writes wait (1, or gather's target)
	lastErr error
	done    chan struct{} // closed (and replaced) after each flush attempt
	stopped bool          // no flusher: waiters flush themselves
	lastTS  int64         // last #TS annotation (seconds)
	cut     *cutState     // a cut not completed yet (Cut)

	wake       chan struct{}
	quit       chan struct{}
	exited     chan struct{}
	policy     atomic.Int32
	Timestamps atomic.Bool // write "#TS:<unix>" annotations (aof-timestamp-enabled)

	// Owned by whoever holds fileMu (the flusher, Switch, Flush).
	fileMu   sync.Mutex
	f        vfs.File
	off      int64  // file offset where pending starts (everything before is durable)
	pending  []byte // taken from buf, not yet durable
	written  int    // bytes of pending already written at off
	lastSync time.Time
	lastLog  time.Time
	// Group commit tuning (Always), see gather: the sequence at the last
	// take, the clients waiting when the last fsync ended, its duration.
	taken   int64
	target  int64
	reached int // targets reached in a row
	syncDur time.Duration
	timer   *time.Timer
	cutOld  int64 // size of the file the last completed cut closed

	synced  atomic.Int64 // every write <= synced is durable as the policy demands (set under mu)
	fed     atomic.Int64 // seq, for readers without mu
	settled atomic.Int64 // every write <= settled is durable or was given up (Discard with an error)
	waiters atomic.Int64 // clients blocked in WaitDurable
	syncs   atomic.Int64 // fsyncs done
	size    atomic.Int64 // bytes in the current file, durable or not
	writeOK atomic.Bool
	errText atomic.Pointer[string]
	started atomic.Bool
}

// NewWriter returns a writer that is off and has no file.
func NewWriter(p Policy, logf func(format string, args ...any)) *Writer {
	w := &Writer{log: logf, db: -1, wakeAt: 1, done: make(chan struct{}), wake: make(chan struct{}, 1),
		quit: make(chan struct{}), exited: make(chan struct{})}
	w.policy.Store(int32(p))
	w.writeOK.Store(true)
	if w.log == nil {
		w.log = func(string, ...any) {}
	}
	return w
}

// SetPolicy changes appendfsync.
func (w *Writer) SetPolicy(p Policy) { w.policy.Store(int32(p)); w.kick() }

// Policy returns appendfsync.
func (w *Writer) Policy() Policy { return Policy(w.policy.Load()) }

// SetOn turns feeding on or off. Turning it on forces a SELECT before the
// next write.
func (w *Writer) SetOn(on bool) {
	w.mu.Lock()
	w.on = on
	w.db = -1
	w.mu.Unlock()
}

// On reports whether Feed appends.
func (w *Writer) On() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.on
}

// Attach makes f (holding size bytes) the file the writer appends to.
func (w *Writer) Attach(f vfs.File, size int64) {
	w.fileMu.Lock()
	w.f, w.off, w.written = f, size, 0
	w.size.Store(size)
	w.fileMu.Unlock()
	w.kick()
}

// Detach writes and fsyncs what was fed, then returns the file (the caller
// closes it); the writer keeps buffering without a file. Without a file,
// what was fed is dropped and its waiters released (see Discard).
func (w *Writer) Detach() (vfs.File, error) {
	w.fileMu.Lock()
	if w.f == nil {
		w.fileMu.Unlock()
		w.Discard(nil)
		return nil, nil
	}
	defer w.fileMu.Unlock()
	_, err := w.flushLocked(true)
	f := w.f
	if err == nil {
		w.f = nil
	}
	return f, err
}

// Feed appends a write (its commands, run in database db; a SELECT among
// them changes the database for the rest) and returns its sequence, or 0
// when the writer is off. It implements server.Propagator.
func (w *Writer) Feed(db int, cmds [][][]byte) int64 {
	w.mu.Lock()
	if !w.on {
		w.mu.Unlock()
		return 0
	}
	if w.Timestamps.Load() {
		if now := time.Now().Unix(); now > w.lastTS {
			w.lastTS = now
			w.buf = append(w.buf, "#TS:"...)
			w.buf = strconv.AppendInt(w.buf, now, 10)
			w.buf = append(w.buf, '\r', '\n')
		}
	}
	if db != w.db {
		w.buf = appendSelect(w.buf, db)
		w.db = db
	}
	for _, c := range cmds {
		w.buf = AppendCommand(w.buf, c...)
		if len(c) == 2 && isSelect(c[0]) {
			if n, err := strconv.Atoi(string(c[1])); err == nil {
				w.db = n
			}
		}
	}
	w.seq++
	seq := w.seq
	w.fed.Store(seq)
	wake := seq-w.taken >= w.wakeAt
	w.mu.Unlock()
	if wake {
		w.kick()
	}
	return seq
}

func appendSelect(b []byte, db int) []byte {
	s := strconv.Itoa(db)
	b = append(b, "*2\r\n$6\r\nSELECT\r\n$"...)
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func isSelect(b []byte) bool {
	return len(b) == 6 && (b[0]|0x20) == 's' && (b[1]|0x20) == 'e' && (b[2]|0x20) == 'l' &&
		(b[3]|0x20) == 'e' && (b[4]|0x20) == 'c' && (b[5]|0x20) == 't'
}

func (w *Writer) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// WaitDurable blocks, under Always, until write seq is fsynced, and
// returns the error of the attempt that failed to make it so. Under the
// other policies it returns at once. It implements server.Propagator.
func (w *Writer) WaitDurable(seq int64) error {
	if seq <= 0 {
		return nil
	}
	if w.Policy() != Always {
		w.mu.Lock()
		stopped := w.stopped
		w.mu.Unlock()
		if stopped { // shutting down: what is acknowledged now must reach the disk
			return w.Flush(true)
		}
		return nil
	}
	if w.synced.Load() >= seq {
		return nil
	}
	w.waiters.Add(1)
	defer w.waiters.Add(-1)
	for {
		w.mu.Lock()
		if w.synced.Load() >= seq {
			w.mu.Unlock()
			return nil
		}
		if w.failed >= seq {
			err := w.lastErr
			w.mu.Unlock()
			return err
		}
		if w.stopped {
			w.mu.Unlock()
			if err := w.Flush(true); err != nil {
				return err
			}
			continue
		}
		ch := w.done
		w.mu.Unlock()
		<-ch
		if w.synced.Load() >= seq { // the common case: no lock (Feed needs it)
			return nil
		}
	}
}

// Start runs the flusher goroutine until Stop.
func (w *Writer) Start() {
	if w.started.Swap(true) {
		return
	}
	go w.run()
}

// Stop ends the flusher after a last write and fsync. Writes fed later are
// flushed by their own WaitDurable.
func (w *Writer) Stop() {
	if !w.started.Load() {
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		return
	}
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.exited
}

func (w *Writer) run() {
	defer close(w.exited)
	t := clock.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-w.wake:
		case <-t.C:
			t.Next()
		case <-w.quit:
			w.fileMu.Lock()
			w.flushLocked(true)
			w.mu.Lock()
			w.stopped = true
			w.mu.Unlock()
			w.fileMu.Unlock()
			return
		}
		if w.Policy() == Always {
			w.gather()
		}
		w.fileMu.Lock()
		w.flushLocked(false)
		w.fileMu.Unlock()
	}
}

// gather waits, before an fsync, until there are target new writes, but
// never longer than half the last fsync (at most 300µs). The target follows the load: it
// grows while it is reached in time and falls to what arrived when not,
// and is at least the number of clients waiting when an fsync ends. The clients that an fsync releases send their next
// writes within a round trip; an fsync started at once would cover only
// the first few and leave the others for the next one, so with many
// clients most fsyncs would be small and their cost would cap
// throughput. This is the commit delay of databases with group commit
// (MySQL's binlog_group_commit_sync_delay), sized by measurement.
func (w *Writer) gather() {
	target := w.target
	if target <= 1 {
		return
	}
	delay := w.syncDur / 2
	if delay > 300*time.Microsecond {
		delay = 300 * time.Microsecond
	}
	if delay < 20*time.Microsecond {
		return
	}
	// Feed wakes us only when the target is reached.
	w.mu.Lock()
	n := w.seq - w.taken
	if n < target {
		w.wakeAt = target
	}
	w.mu.Unlock()
	if n < target {
		select { // drop a wake-up from before the target was set
		case <-w.wake:
		default:
		}
		if w.timer == nil {
			w.timer = time.NewTimer(delay)
		} else {
			w.timer.Reset(delay)
		}
		w.mu.Lock()
		n = w.seq - w.taken
		w.mu.Unlock()
		if n < target {
			select {
			case <-w.wake:
			case <-w.timer.C:
			case <-w.quit:
			}
		}
		w.timer.Stop()
		w.mu.Lock()
		w.wakeAt = 1
		n = w.seq - w.taken
		w.mu.Unlock()
	}
	if n >= target {
		// Reached: after a few in a row, probe whether more would come.
		if w.reached++; w.reached >= 4 {
			w.target += 1 + target/8
			w.reached = 0
		}
	} else {
		w.target = n // that is what one wait brings
		w.reached = 0
	}
}

// Flush writes everything fed so far and, if sync (or the policy says
// so), fsyncs it.
func (w *Writer) Flush(sync bool) error {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	_, err := w.flushLocked(sync)
	return err
}

// flushLocked is one attempt: take the buffer, write it, fsync as needed.
// fileMu is held.
func (w *Writer) flushLocked(forceSync bool) (int64, error) {
	w.mu.Lock()
	if w.cut != nil {
		// The old file's tail first: nothing fed after the cut may reach it.
		w.mu.Unlock()
		if _, err := w.completeCutLocked(); err != nil {
			return 0, err
		}
		w.mu.Lock()
	}
	if len(w.buf) > 0 {
		if len(w.pending) == 0 {
			w.pending, w.buf = w.buf, w.pending[:0]
		} else {
			w.pending = append(w.pending, w.buf...)
			w.buf = w.buf[:0]
		}
	}
	upto := w.seq
	w.taken = upto
	stopped := w.stopped
	w.mu.Unlock()
	if w.f == nil {
		if stopped && len(w.pending) > 0 {
			w.fail(upto, ErrClosed, "")
			return upto, ErrClosed
		}
		return upto, nil
	}
	if w.written < len(w.pending) {
		if _, err := w.f.WriteAt(w.pending[w.written:], w.off+int64(w.written)); err != nil {
			// Cut a short write off so the file never ends in a torn record
			// if we crash before the retry.
			w.f.Truncate(w.off + int64(w.written))
			w.fail(upto, err, "Error writing to the AOF file")
			return upto, err
		}
		w.written = len(w.pending)
		w.size.Store(w.off + int64(w.written))
	}
	p := w.Policy()
	sync := forceSync || p == Always || p == EverySec && time.Since(w.lastSync) >= time.Second
	if p == No && !forceSync {
		w.off += int64(w.written)
		w.pending, w.written = w.pending[:0], 0
		w.markSynced(upto)
		return upto, nil
	}
	if !sync {
		return upto, nil
	}
	if w.written > 0 {
		begin := time.Now()
		if err := w.f.Sync(); err != nil {
			w.written = 0 // the pages may be gone: write it all again
			w.fail(upto, err, "Can't persist AOF for fsync error")
			return upto, err
		}
		w.lastSync = time.Now()
		w.syncDur = w.lastSync.Sub(begin)
		w.syncs.Add(1)
		w.target = max(w.target, w.waiters.Load())
		w.off += int64(w.written)
		w.pending, w.written = w.pending[:0], 0
	}
	w.markSynced(upto)
	return upto, nil
}

func (w *Writer) markSynced(upto int64) {
	// As in fail: the status first, then the waiters.
	if !w.writeOK.Load() {
		w.writeOK.Store(true)
		w.log("AOF write error looks solved, Redis can write again.")
	}
	w.mu.Lock()
	if upto > w.synced.Load() {
		w.synced.Store(upto)
	}
	if upto > w.settled.Load() {
		w.settled.Store(upto)
	}
	close(w.done)
	w.done = make(chan struct{})
	w.mu.Unlock()
}

func (w *Writer) fail(upto int64, err error, what string) {
	// The status changes before the waiters wake: one that got the error
	// must see WriteOK false (writes are refused from then on).
	msg := vfs.ErrText(err)
	w.errText.Store(&msg)
	w.writeOK.Store(false)
	w.mu.Lock()
	if upto > w.failed {
		w.failed = upto
	}
	w.lastErr = err
	close(w.done)
	w.done = make(chan struct{})
	w.mu.Unlock()
	if what != "" && time.Since(w.lastLog) > 30*time.Second {
		w.lastLog = time.Now()
		w.log("# %s: %v", what, err)
	}
}

// cutState is a cut requested by Cut and not completed yet.
type cutState struct {
	buf  []byte   // fed before the cut, not yet taken: the old file's
	seq  int64    // the last write before the cut
	file vfs.File // the file writes after the cut go to
	size int64    // bytes already in it
}

// Cut is the instant of a rewrite: every write fed so far belongs to the
// current file, every later one to nf (which holds size bytes), starting
// with a SELECT. Cut only marks the boundary: one short lock and no I/O,
// so the caller may hold every shard lock to make it coincide with a
// snapshot. The old file's tail is written and fsynced, and the file
// closed, by CompleteCut or by the flusher, whichever comes first; until
// then nothing fed after the cut is written anywhere. If that fails, the
// cut stays pending and is retried like any failed write. The caller
// serializes cuts (one rewrite at a time).
func (w *Writer) Cut(nf vfs.File, size int64) {
	w.mu.Lock()
	w.cut = &cutState{buf: w.buf, seq: w.seq, file: nf, size: size}
	w.buf = nil
	w.db = -1
	w.mu.Unlock()
	w.kick()
}

// CompleteCut completes the pending cut, if any, and returns the size of
// the file it closed (of the last cut's, when the flusher completed it).
func (w *Writer) CompleteCut() (oldSize int64, err error) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	return w.completeCutLocked()
}

// completeCutLocked is CompleteCut with fileMu held.
func (w *Writer) completeCutLocked() (int64, error) {
	w.mu.Lock()
	c := w.cut
	w.mu.Unlock()
	if c == nil {
		return w.cutOld, nil
	}
	if len(c.buf) > 0 {
		w.pending = append(w.pending, c.buf...)
		c.buf = nil
	}
	var oldSize int64
	if w.f != nil {
		if w.written < len(w.pending) {
			if _, err := w.f.WriteAt(w.pending[w.written:], w.off+int64(w.written)); err != nil {
				w.f.Truncate(w.off + int64(w.written))
				w.fail(c.seq, err, "Error writing to the AOF file")
				return 0, err
			}
			w.written = len(w.pending)
		}
		if err := w.f.Sync(); err != nil {
			w.written = 0 // the pages may be gone: write it all again
			w.fail(c.seq, err, "Can't persist AOF for fsync error")
			return 0, err
		}
		oldSize = w.off + int64(w.written)
		w.f.Close()
		w.lastSync = time.Now()
		w.syncs.Add(1)
		w.markSynced(c.seq)
		w.pending, w.written = w.pending[:0], 0
	}
	// Without a file, what is pending simply goes to the new one.
	w.f, w.off = c.file, c.size
	w.size.Store(c.size)
	w.mu.Lock()
	w.cut = nil
	w.mu.Unlock()
	w.cutOld = oldSize
	return oldSize, nil
}

// Discard drops everything fed and not yet durable and releases its
// waiters: as durable when err is nil (the AOF is going off, or a snapshot
// being written covers those writes), else with err.
func (w *Writer) Discard(err error) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	w.mu.Lock()
	w.buf = w.buf[:0]
	upto := w.seq
	c := w.cut
	w.cut = nil
	w.mu.Unlock()
	w.pending, w.written = w.pending[:0], 0
	if c != nil { // what the old file would have got is dropped too
		if w.f != nil {
			w.f.Close()
		}
		w.f, w.off = c.file, c.size
		w.size.Store(c.size)
	}
	if err != nil {
		w.fail(upto, err, "")
		if upto > w.settled.Load() {
			w.settled.Store(upto)
		}
	} else {
		w.markSynced(upto)
	}
}

// Size returns the bytes in the current file, durable or not.
func (w *Writer) Size() int64 { return w.size.Load() }

// WriteOK reports whether the last write and fsync succeeded
// (aof_last_write_status).
func (w *Writer) WriteOK() bool { return w.writeOK.Load() }

// LastError returns the text of the last write or fsync error.
func (w *Writer) LastError() string {
	if p := w.errText.Load(); p != nil {
		return *p
	}
	return ""
}

// Buffered returns the bytes fed and not yet taken by the flusher
// (aof_buffer_length).
func (w *Writer) Buffered() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf)
}

// Seq returns the sequence of the last write fed.
func (w *Writer) Seq() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

// Unsynced returns the sequence of the last write fed if it is not yet
// durable as the policy demands (nor given up by Discard), else 0. Two
// atomic loads: callers use it on every batch.
func (w *Writer) Unsynced() int64 {
	if seq := w.fed.Load(); seq > w.settled.Load() {
		return seq
	}
	return 0
}

// HasFile reports whether the writer has a file to append to.
func (w *Writer) HasFile() bool {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	return w.f != nil
}

// Syncs returns the number of fsyncs done.
func (w *Writer) Syncs() int64 { return w.syncs.Load() }
