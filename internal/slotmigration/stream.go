package slotmigration

import (
	"strconv"
	"sync"
	"sync/atomic"

	"redgo/internal/commands"
	"redgo/internal/resp"
	"redgo/internal/slot"
)

// maxBuffered bounds the bytes the stream holds for the target: a target
// that cannot keep up with the writes fails the transfer rather than
// exhaust the source's memory.
const maxBuffered = 1 << 30

// stream is what travels to the target: the snapshot's batches of keys and the
// writes to captured slots, in the order they took effect here. Appends
// come from the snapshot (under a slot's shard lock) and from Capture.Feed
// (under the written keys' shard locks); the sender takes the bytes.
type stream struct {
	// captured[j]: slot j's keys are in the stream, so its writes follow
	// them. Set and read under slot j's shard lock.
	captured [slot.Count]atomic.Bool

	mu      sync.Mutex
	buf     []byte // encoded commands not yet taken by the sender
	queued  int64  // commands appended in total
	err     error  // set once: the transfer must fail
	ready   chan struct{}
	drained *sync.Cond // signalled when the sender takes buf
}

func newStream() *stream {
	st := &stream{ready: make(chan struct{}, 1), buf: make([]byte, 0, snapshotAhead+snapshotAhead/4)}
	st.drained = sync.NewCond(&st.mu)
	return st
}

// add appends one command and wakes the sender. It never blocks on the
// network: it runs under shard locks.
func (st *stream) add(args ...[]byte) {
	st.mu.Lock()
	if st.err == nil {
		st.buf = appendCommand(st.buf, args)
		st.queued++
		if len(st.buf) > maxBuffered {
			st.err = errTooFarBehind
		}
	}
	st.mu.Unlock()
	st.wake()
}

// fail records the first reason the transfer must stop.
func (st *stream) fail(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	st.drained.Broadcast()
	st.mu.Unlock()
	st.wake()
}

// snapshotAhead is how far the snapshot may run ahead of the sender;
// both buffers are made that large (and a bit) at once, so the snapshot's
// appends never grow, and copy, a buffer of megabytes step by step.
const snapshotAhead = 4 << 20

// take hands the buffered bytes to the sender.
func (st *stream) take(spare []byte) ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buf
	if cap(spare) < snapshotAhead+snapshotAhead/4 {
		spare = make([]byte, 0, snapshotAhead+snapshotAhead/4)
	}
	st.buf = spare[:0]
	st.drained.Broadcast()
	return b, st.err
}

// waitBelow blocks while more than n bytes wait for the sender.
func (st *stream) waitBelow(n int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.buf) > n && st.err == nil {
		st.drained.Wait()
	}
	return st.err
}

// status returns the commands queued so far and the failure, if any.
func (st *stream) status() (int64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.queued, st.err
}

// feed filters one propagated write: the commands on captured slots go
// into the stream. A flush of the dataset cannot be followed key by key:
// it fails the transfer.
func (st *stream) feed(cmds [][][]byte) {
	var buf [8]int
	for _, args := range cmds {
		cmd := commands.Lookup(args[0])
		if cmd == nil {
			continue
		}
		cmd, _ = commands.Resolve(cmd, args)
		pos := cmd.KeyPositions(args, buf[:0])
		if len(pos) == 0 {
			switch cmd.Name {
			case "flushall", "flushdb":
				st.fail(errFlushed)
			}
			continue
		}
		if pos[0] < len(args) && st.captured[slot.Of(args[pos[0]])].Load() {
			st.add(args...)
		}
	}
}

// addBatch appends one CLUSTER SYNCSLOTS KEYS command of slot j (the
// keys encoded in b) straight into the buffer. It wakes the sender every
// 64 KB only: the snapshot calls wake at the end of each slot.
func (st *stream) addBatch(j int, b *batch) {
	if b.n == 0 {
		return
	}
	st.mu.Lock()
	if st.err != nil {
		st.mu.Unlock()
		b.reset()
		return
	}
	before := len(st.buf)
	st.buf = b.appendTo(st.buf, j)
	st.queued++
	if len(st.buf) > maxBuffered {
		st.err = errTooFarBehind
	}
	wake := before>>16 != len(st.buf)>>16
	st.mu.Unlock()
	b.reset()
	if wake {
		st.wake()
	}
}

// wake tells the sender there is something to send.
func (st *stream) wake() {
	select {
	case st.ready <- struct{}{}:
	default:
	}
}

// batch collects keys of one slot for a CLUSTER SYNCSLOTS KEYS command:
// KEYS <slot> followed by <key> <abs-expiry-ms> <DUMP payload> per key.
// The target applies a batch under one lock of the slot's shard, with one
// reply, where a RESTORE per key cost a command each.
type batch struct {
	body []byte // the keys' arguments, encoded
	n    int    // keys in body
}

// Keys and bytes past which a slot's batch goes out before the slot ends:
// a large slot does not make one huge command.
const (
	batchKeys  = 1024
	batchBytes = 1 << 20
)

// add appends one key.
func (b *batch) add(key string, payload []byte, expireAt int64) {
	b.body = resp.AppendBulkString(b.body, key)
	var num [20]byte
	b.body = resp.AppendBulk(b.body, strconv.AppendInt(num[:0], expireAt, 10))
	b.body = resp.AppendBulk(b.body, payload)
	b.n++
}

// full reports whether the batch should go out now.
func (b *batch) full() bool { return b.n >= batchKeys || len(b.body) >= batchBytes }

func (b *batch) reset() { b.body, b.n = b.body[:0], 0 }

// appendTo encodes the whole command of slot j.
func (b *batch) appendTo(dst []byte, j int) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(4+3*b.n), 10)
	dst = append(dst, "\r\n$7\r\nCLUSTER\r\n$9\r\nSYNCSLOTS\r\n$4\r\nKEYS\r\n"...)
	var num [20]byte
	dst = resp.AppendBulk(dst, strconv.AppendInt(num[:0], int64(j), 10))
	return append(dst, b.body...)
}

// Capture is the propagator (the server's Propagator interface) through
// which a running transfer sees every write of the source; it costs one
// atomic load per write when no transfer runs.
type Capture struct {
	active atomic.Pointer[stream]
}

// Feed passes database 0's writes to the running transfer, if any.
func (c *Capture) Feed(db int, cmds [][][]byte) int64 {
	if st := c.active.Load(); st != nil && db == 0 {
		st.feed(cmds)
	}
	return 0
}

// WaitDurable: replies never wait for the target.
func (c *Capture) WaitDurable(int64) error { return nil }

// Pending: nothing to wait for.
func (c *Capture) Pending() int64 { return 0 }

// appendCommand encodes args as a RESP array of bulk strings.
func appendCommand(b []byte, args [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = resp.AppendBulk(b, a)
	}
	return b
}

// command is appendCommand of strings.
func command(args ...string) []byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return appendCommand(nil, bs)
}
