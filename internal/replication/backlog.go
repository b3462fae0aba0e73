package replication

// The replication backlog and the stream it holds. Mirrors Redis 7.0's
// createReplicationBacklog, resizeReplicationBacklog, feedReplicationBuffer,
// replicationFeedSlaves, replicationFeedStreamFromMasterStream and
// addReplyReplicationBacklog (replication.c). Redis keeps the stream in
// blocks shared by the backlog and every replica's output buffer; here the
// backlog is one ring and each replica reads it from its own offset, so a
// replica that falls more than the ring's size behind is cut off (ErrTrimmed)
// where Redis would cut it off at client-output-buffer-limit.

import (
	"bytes"
	"errors"
	"strconv"
	"sync"

	"redgo/internal/aof"
)

// MinBacklogSize is the smallest backlog (CONFIG_REPL_BACKLOG_MIN_SIZE).
const MinBacklogSize = 16 * 1024

// Errors of ReadFrom.
var (
	// ErrTrimmed: bytes after the offset asked for are no longer in the
	// backlog (overwritten, or dropped by Reset). The reader needs a full
	// resynchronization.
	ErrTrimmed = errors.New("replication: offset no longer in the backlog")
	// ErrAhead: the offset asked for is beyond the end of the stream.
	ErrAhead = errors.New("replication: offset beyond the end of the stream")
	// ErrClosed: the backlog was closed (the server stopped replicating).
	ErrClosed = errors.New("replication: backlog closed")
)

// BacklogInfo is the backlog's state at one instant.
type BacklogInfo struct {
	Offset    int64 // master_repl_offset: offset of the last byte of the stream
	FirstByte int64 // repl_backlog_first_byte_offset (Offset+1 when empty)
	HistLen   int64 // repl_backlog_histlen: bytes held
	Size      int   // repl_backlog_size: capacity
}

// Backlog is the replication stream's ring buffer. Offsets are Redis's:
// the stream's bytes are numbered from 1 and Offset is the number of the
// last one, so a replica that holds the stream up to offset n (its
// REPLCONF ACK) needs the bytes after n: ReadFrom(n, ...).
//
// It is safe for concurrent use: writers (Feed, Append) take one short
// mutex and only copy into the ring; readers copy out under the same
// mutex and wait on the channel Wait returns.
type Backlog struct {
	mu      sync.Mutex
	ring    []byte
	head    int   // index of the next byte to write
	off     int64 // master_repl_offset
	histlen int64
	db      int           // database the stream is in (slaveseldb); -1: the next write selects
	wake    chan struct{} // closed when bytes arrive; nil when nobody waits
	closed  bool
	enc     []byte // encoding scratch for Feed
}

// NewBacklog returns an empty backlog of size bytes (at least
// MinBacklogSize) whose stream continues after offset (0 for a new
// history; the master's offset on a replica after a full resync).
func NewBacklog(size int, offset int64) *Backlog {
	return &Backlog{ring: make([]byte, max(size, MinBacklogSize)), off: offset, db: -1}
}

// Info returns the backlog's offsets and size.
func (b *Backlog) Info() BacklogInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.info()
}

func (b *Backlog) info() BacklogInfo {
	return BacklogInfo{Offset: b.off, FirstByte: b.off - b.histlen + 1, HistLen: b.histlen, Size: len(b.ring)}
}

// Offset returns master_repl_offset.
func (b *Backlog) Offset() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.off
}

// Resize changes the capacity (repl-backlog-size, at least
// MinBacklogSize), keeping the most recent bytes that fit.
func (b *Backlog) Resize(size int) {
	size = max(size, MinBacklogSize)
	b.mu.Lock()
	defer b.mu.Unlock()
	if size == len(b.ring) {
		return
	}
	keep := min(b.histlen, int64(size))
	ring := make([]byte, size)
	b.copyOut(ring[:keep], b.off-keep)
	b.ring, b.head, b.histlen = ring, int(keep)%size, keep
}

// Reset drops the history: the stream continues after offset with no
// byte before it, and the next write selects its database. Readers get
// ErrTrimmed (or ErrAhead) and must resynchronize (a replica that did a
// full resync with a new master).
func (b *Backlog) Reset(offset int64) {
	b.mu.Lock()
	b.off, b.histlen, b.head, b.db = offset, 0, 0, -1
	b.wakeLocked()
	b.mu.Unlock()
}

// Close wakes every reader; ReadFrom returns ErrClosed from now on.
func (b *Backlog) Close() {
	b.mu.Lock()
	b.closed = true
	b.wakeLocked()
	b.mu.Unlock()
}

// SelectedDB is the database the stream is in; -1 when the next write
// selects one.
func (b *Backlog) SelectedDB() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.db
}

// ForceSelect makes the next write start with a SELECT. Call it where
// Redis sets slaveseldb to -1: a replica promoted to master.
func (b *Backlog) ForceSelect() {
	b.mu.Lock()
	b.db = -1
	b.mu.Unlock()
}

// MarkFullSync returns the offset a full resynchronization starts after
// (the +FULLRESYNC offset) and makes the next write start with a SELECT,
// as replicationSetupSlaveForFullResync does. Call it at the instant of
// the snapshot sent to the replica, writes excluded.
func (b *Backlog) MarkFullSync() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.db = -1
	return b.off
}

// Append adds raw stream bytes (replicationFeedStreamFromMasterStream: a
// replica keeps its master's stream verbatim) and returns the new offset.
func (b *Backlog) Append(p []byte) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.appendLocked(p)
	return b.off
}

// Feed encodes a write (its commands, run in database db) as Redis
// propagates it and appends it; it returns the offset after the write.
// It implements the server's Propagator. A SELECT among the commands is
// not copied: it changes the database of the commands after it, and a
// SELECT is emitted before the first command whose database differs from
// the stream's (replicationFeedSlaves). A transaction comes wrapped in
// MULTI ... EXEC: MULTI takes the database of the first command after it
// and EXEC never selects (propagatePendingCommands).
func (b *Backlog) Feed(db int, cmds [][][]byte) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	enc := b.enc[:0]
	for i, c := range cmds {
		if len(c) == 2 && isCommand(c[0], "SELECT") {
			if n, err := strconv.Atoi(string(c[1])); err == nil {
				db = n
			}
			continue
		}
		cdb := db
		if len(c) == 1 && isCommand(c[0], "MULTI") {
			cdb = firstDB(db, cmds[i+1:])
		}
		if cdb != b.db && !(len(c) == 1 && isCommand(c[0], "EXEC")) {
			enc = aof.AppendCommandStrings(enc, "SELECT", strconv.Itoa(cdb))
			b.db = cdb
		}
		enc = aof.AppendCommand(enc, c...)
	}
	b.appendLocked(enc)
	b.enc = enc[:0]
	return b.off
}

// FeedPing appends a PING in whatever database the stream is in, as
// replicationCron pings the replicas (repl-ping-replica-period).
func (b *Backlog) FeedPing() int64 { return b.Append([]byte(pingCommand)) }

// pingCommand is PING in RESP, as propagated.
const pingCommand = "*1\r\n$4\r\nPING\r\n"

// firstDB returns the database the first command of cmds that is not a
// SELECT runs in, given that they start in db.
func firstDB(db int, cmds [][][]byte) int {
	for _, c := range cmds {
		if len(c) != 2 || !isCommand(c[0], "SELECT") {
			return db
		}
		if n, err := strconv.Atoi(string(c[1])); err == nil {
			db = n
		}
	}
	return db
}

func isCommand(arg []byte, name string) bool { return bytes.EqualFold(arg, []byte(name)) }

// WaitDurable returns nil at once: replication is asynchronous (WAIT is
// how a client waits for replicas). It implements the server's Propagator.
func (b *Backlog) WaitDurable(seq int64) error { return nil }

// Pending returns 0: no reply waits for the replicas. It implements the
// server's Propagator.
func (b *Backlog) Pending() int64 { return 0 }

// appendLocked copies p into the ring, keeping its last len(ring) bytes.
func (b *Backlog) appendLocked(p []byte) {
	if len(p) == 0 {
		return
	}
	b.off += int64(len(p))
	size := len(b.ring)
	if len(p) >= size {
		copy(b.ring, p[len(p)-size:])
		b.head, b.histlen = 0, int64(size)
	} else {
		n := copy(b.ring[b.head:], p)
		copy(b.ring, p[n:])
		b.head = (b.head + len(p)) % size
		b.histlen = min(b.histlen+int64(len(p)), int64(size))
	}
	b.wakeLocked()
}

func (b *Backlog) wakeLocked() {
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
}

// ReadFrom copies into buf the bytes that follow offset off (a replica's
// offset: the bytes off+1, off+2, ...) and returns how many it copied and
// the offset after them. It returns n == 0 and a nil error when there is
// nothing after off yet: wait on Wait(off) and call again. Errors:
// ErrTrimmed, ErrAhead, ErrClosed.
func (b *Backlog) ReadFrom(off int64, buf []byte) (n int, next int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return 0, off, ErrClosed
	case off > b.off:
		return 0, off, ErrAhead
	case off < b.off-b.histlen:
		return 0, off, ErrTrimmed
	}
	n = int(min(int64(len(buf)), b.off-off))
	b.copyOut(buf[:n], off)
	return n, off + int64(n), nil
}

// copyOut copies the bytes after offset off into dst, which the held
// history must cover.
func (b *Backlog) copyOut(dst []byte, off int64) {
	if len(dst) == 0 {
		return
	}
	size := len(b.ring)
	// The byte numbered b.off sits at head-1.
	start := ((b.head-int(b.off-off))%size + size) % size
	n := copy(dst, b.ring[start:])
	copy(dst[n:], b.ring)
}

// Wait returns a channel that is closed once there are bytes after off,
// or the backlog is reset or closed. It is closed already when there are.
func (b *Backlog) Wait(off int64) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || off != b.off {
		return closedChan
	}
	if b.wake == nil {
		b.wake = make(chan struct{})
	}
	return b.wake
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
