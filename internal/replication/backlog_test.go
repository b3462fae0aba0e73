package replication

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"redgo/internal/aof"
	"redgo/internal/netio"
)

func cmd(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// resp renders commands as RESP, for expected streams.
func respOf(cmds ...[]string) string {
	var b []byte
	for _, c := range cmds {
		b = aof.AppendCommandStrings(b, c...)
	}
	return string(b)
}

func readAllFrom(t *testing.T, b *Backlog, off int64) string {
	t.Helper()
	buf := make([]byte, 1<<20)
	n, next, err := b.ReadFrom(off, buf)
	if err != nil {
		t.Fatalf("ReadFrom(%d): %v", off, err)
	}
	if next != b.Offset() {
		t.Fatalf("ReadFrom(%d): next %d, offset %d", off, next, b.Offset())
	}
	return string(buf[:n])
}

func TestFeedEncodesAsRedis(t *testing.T) {
	sel := func(db string) []string { return []string{"SELECT", db} }
	cases := []struct {
		name  string
		feeds func(b *Backlog)
		want  string
	}{
		{"first write selects", func(b *Backlog) {
			b.Feed(0, [][][]byte{cmd("SET", "k", "v")})
			b.Feed(0, [][][]byte{cmd("DEL", "k")})
		}, respOf(sel("0"), []string{"SET", "k", "v"}, []string{"DEL", "k"})},
		{"db change selects", func(b *Backlog) {
			b.Feed(0, [][][]byte{cmd("SET", "a", "1")})
			b.Feed(12, [][][]byte{cmd("SET", "b", "2")})
		}, respOf(sel("0"), []string{"SET", "a", "1"}, sel("12"), []string{"SET", "b", "2"})},
		{"transaction: MULTI takes the first command's db, SELECT is not copied, EXEC never selects", func(b *Backlog) {
			b.Feed(0, [][][]byte{cmd("SET", "x", "0")})
			b.Feed(0, [][][]byte{cmd("MULTI"), cmd("SELECT", "3"), cmd("SET", "a", "1"),
				cmd("SELECT", "4"), cmd("INCR", "n"), cmd("SELECT", "5"), cmd("EXEC")})
			b.Feed(5, [][][]byte{cmd("DEL", "z")})
		}, respOf(sel("0"), []string{"SET", "x", "0"}, sel("3"), []string{"MULTI"}, []string{"SET", "a", "1"},
			sel("4"), []string{"INCR", "n"}, []string{"EXEC"}, sel("5"), []string{"DEL", "z"})},
		{"ping keeps the stream's db", func(b *Backlog) {
			b.FeedPing()
			b.Feed(1, [][][]byte{cmd("SET", "k", "v")})
			b.FeedPing()
		}, respOf([]string{"PING"}, sel("1"), []string{"SET", "k", "v"}, []string{"PING"})},
		{"full sync mark re-selects", func(b *Backlog) {
			b.Feed(2, [][][]byte{cmd("SET", "k", "v")})
			b.MarkFullSync()
			b.Feed(2, [][][]byte{cmd("SET", "k", "w")})
		}, respOf(sel("2"), []string{"SET", "k", "v"}, sel("2"), []string{"SET", "k", "w"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBacklog(MinBacklogSize, 0)
			c.feeds(b)
			if got := readAllFrom(t, b, 0); got != c.want {
				t.Errorf("stream\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// The stream a real redis-server 7.0.15 sent its replica after
// `SET k v` (captured by TestRedisHandshakeTranscripts' proxy): our
// encoding is byte for byte the same, and the offset after it is the one
// the replica acknowledged (REPLCONF ACK 50).
func TestFeedMatchesRedisStream(t *testing.T) {
	b := NewBacklog(MinBacklogSize, 0)
	seq := b.Feed(0, [][][]byte{cmd("SET", "k", "v")})
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	if got := readAllFrom(t, b, 0); got != want || seq != 50 {
		t.Fatalf("got %q seq %d", got, seq)
	}
	if b.WaitDurable(seq) != nil || b.Pending() != 0 {
		t.Fatal("replication must not delay replies")
	}
}

func TestBacklogOffsets(t *testing.T) {
	b := NewBacklog(1, 100) // clamped to the minimum
	if got := b.Info(); got != (BacklogInfo{Offset: 100, FirstByte: 101, HistLen: 0, Size: MinBacklogSize}) {
		t.Fatalf("new: %+v", got)
	}
	b.Append(bytes.Repeat([]byte("a"), 10))
	if got := b.Info(); got.Offset != 110 || got.FirstByte != 101 || got.HistLen != 10 {
		t.Fatalf("after 10: %+v", got)
	}
	b.Append(bytes.Repeat([]byte("b"), MinBacklogSize))
	if got := b.Info(); got.Offset != 110+MinBacklogSize || got.FirstByte != 111 || got.HistLen != MinBacklogSize {
		t.Fatalf("full: %+v", got)
	}
	buf := make([]byte, 8)
	if _, _, err := b.ReadFrom(109, buf); !errors.Is(err, ErrTrimmed) {
		t.Fatalf("trimmed: %v", err)
	}
	if n, next, err := b.ReadFrom(110, buf); err != nil || n != 8 || next != 118 || string(buf) != "bbbbbbbb" {
		t.Fatalf("first byte: %d %d %v %q", n, next, err, buf)
	}
	if n, _, err := b.ReadFrom(b.Offset(), buf); err != nil || n != 0 {
		t.Fatalf("at the end: %d %v", n, err)
	}
	if _, _, err := b.ReadFrom(b.Offset()+1, buf); !errors.Is(err, ErrAhead) {
		t.Fatalf("ahead: %v", err)
	}
	b.Reset(5000)
	if got := b.Info(); got != (BacklogInfo{Offset: 5000, FirstByte: 5001, Size: MinBacklogSize}) {
		t.Fatalf("reset: %+v", got)
	}
	if _, _, err := b.ReadFrom(4999, buf); !errors.Is(err, ErrTrimmed) {
		t.Fatalf("after reset: %v", err)
	}
	b.Close()
	if _, _, err := b.ReadFrom(5000, buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

// TestBacklogAgainstModel appends, resizes and reads at random and checks
// every read against the whole stream kept in a plain slice.
func TestBacklogAgainstModel(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	start := int64(rng.Intn(1000))
	b := NewBacklog(MinBacklogSize, start)
	var stream []byte // bytes start+1 ...
	size := MinBacklogSize
	buf := make([]byte, 3*MinBacklogSize)
	for i := 0; i < 3000; i++ {
		switch r := rng.Intn(20); {
		case r == 0:
			size = MinBacklogSize + rng.Intn(2*MinBacklogSize)
			b.Resize(size)
		default:
			p := make([]byte, rng.Intn(3000)+1)
			if rng.Intn(50) == 0 {
				p = make([]byte, size+rng.Intn(100))
			}
			rng.Read(p)
			b.Append(p)
			stream = append(stream, p...)
		}
		end := start + int64(len(stream))
		held := min(int64(size), int64(len(stream)))
		info := b.Info()
		if info.Offset != end || info.HistLen > held || info.FirstByte != end-info.HistLen+1 {
			t.Fatalf("step %d: %+v, end %d held %d", i, info, end, held)
		}
		off := end - int64(rng.Intn(int(info.HistLen)+1))
		n, next, err := b.ReadFrom(off, buf[:rng.Intn(len(buf))+1])
		if err != nil || next != off+int64(n) {
			t.Fatalf("step %d: ReadFrom(%d): %d %d %v", i, off, n, next, err)
		}
		if want := stream[off-start : off-start+int64(n)]; !bytes.Equal(buf[:n], want) {
			t.Fatalf("step %d: ReadFrom(%d) returned other bytes", i, off)
		}
		if _, _, err := b.ReadFrom(end-info.HistLen-1, buf); info.HistLen < int64(len(stream)) && !errors.Is(err, ErrTrimmed) {
			t.Fatalf("step %d: before the first byte: %v", i, err)
		}
	}
}

// follow reads the stream after off until it holds want bytes, waiting
// on Wait between reads.
func follow(b *Backlog, off int64, want int) ([]byte, error) {
	var got []byte
	buf := make([]byte, 777)
	for len(got) < want {
		n, next, err := b.ReadFrom(off, buf)
		if err != nil {
			return got, err
		}
		if n == 0 {
			select {
			case <-b.Wait(off):
			case <-time.After(10 * time.Second):
				return got, fmt.Errorf("no data after %d", off)
			}
			continue
		}
		got, off = append(got, buf[:n]...), next
	}
	return got, nil
}

// TestConcurrentFeedersAndReaders: writers feed from several goroutines
// (as connections do under their shard locks) while replicas follow the
// stream. Every reader sees the same bytes, each write whole, each
// writer's writes in order, and the last Feed's sequence is the offset.
func TestConcurrentFeedersAndReaders(t *testing.T) {
	const feeders, per, readers = 4, 300, 3
	b := NewBacklog(4<<20, 0)
	var wg sync.WaitGroup
	results := make([][]byte, readers)
	errs := make([]error, readers)
	total := 0
	for f := 0; f < feeders; f++ {
		for i := 0; i < per; i++ {
			total += len(aof.AppendCommandStrings(nil, "SET", "k"+strconv.Itoa(f), strconv.Itoa(i)))
		}
	}
	total += len(aof.AppendCommandStrings(nil, "SELECT", "0"))
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			results[r], errs[r] = follow(b, 0, total)
		}(r)
	}
	var fw sync.WaitGroup
	var maxSeq sync.Map
	for f := 0; f < feeders; f++ {
		fw.Add(1)
		go func(f int) {
			defer fw.Done()
			var last int64
			for i := 0; i < per; i++ {
				seq := b.Feed(0, [][][]byte{cmd("SET", "k"+strconv.Itoa(f), strconv.Itoa(i))})
				if seq <= last {
					t.Errorf("feeder %d: sequence %d after %d", f, seq, last)
				}
				last = seq
			}
			maxSeq.Store(f, last)
		}(f)
	}
	fw.Wait()
	wg.Wait()
	if b.Offset() != int64(total) {
		t.Fatalf("offset %d, want %d", b.Offset(), total)
	}
	for r := 0; r < readers; r++ {
		if errs[r] != nil {
			t.Fatalf("reader %d: %v", r, errs[r])
		}
		if !bytes.Equal(results[r], results[0]) {
			t.Fatalf("reader %d saw other bytes", r)
		}
	}
	checkWrites(t, results[0], feeders, per)
}

// checkWrites parses the stream: one SELECT 0 then each feeder's SETs in
// order.
func checkWrites(t *testing.T, stream []byte, feeders, per int) {
	sc := aof.NewScanner(bytes.NewReader(stream), 0, int64(len(stream)))
	next := make([]int, feeders)
	for i := 0; ; i++ {
		c, err := sc.Next()
		if err != nil {
			break
		}
		if i == 0 {
			if string(c[0]) != "SELECT" {
				t.Fatalf("stream starts with %q", c)
			}
			continue
		}
		f, _ := strconv.Atoi(strings.TrimPrefix(string(c[1]), "k"))
		if v, _ := strconv.Atoi(string(c[2])); v != next[f] {
			t.Fatalf("feeder %d: value %d, want %d", f, v, next[f])
		}
		next[f]++
	}
	for f, n := range next {
		if n != per {
			t.Fatalf("feeder %d: %d writes in the stream", f, n)
		}
	}
}

// A reader left behind by more than the ring holds gets ErrTrimmed; a
// waiting reader is woken by Close.
func TestSlowReaderTrimmedAndCloseWakes(t *testing.T) {
	b := NewBacklog(MinBacklogSize, 0)
	b.Append(make([]byte, 10))
	b.Append(make([]byte, MinBacklogSize))
	if _, _, err := b.ReadFrom(5, make([]byte, 10)); !errors.Is(err, ErrTrimmed) {
		t.Fatalf("slow reader: %v", err)
	}
	done := make(chan error)
	go func() {
		<-b.Wait(b.Offset())
		_, _, err := b.ReadFrom(b.Offset(), make([]byte, 1))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// The server's Propagator, as declared in package server.
var _ interface {
	Feed(db int, cmds [][][]byte) int64
	WaitDurable(seq int64) error
	Pending() int64
} = (*Backlog)(nil)

// streamHost is the part of a Host that the stream uses (its log).
type streamHost struct {
	Host
	mu   sync.Mutex
	logs []string
}

func (h *streamHost) Logf(format string, args ...any) {
	h.mu.Lock()
	h.logs = append(h.logs, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

// TestStreamAndLead feeds a replica's socket from the backlog while
// writers append and, as waiting replies do, write the stream themselves
// (lead): the replica receives the stream exactly once, in order, and a
// replica too far behind is dropped.
func TestStreamAndLead(t *testing.T) {
	cl, srvConn := tcpPair(t)
	h := &streamHost{}
	n := New(h)
	b := NewBacklog(1<<20, 0)
	b.Feed(0, [][][]byte{cmd("SET", "a", "1")})
	sv := &served{conn: netio.Wrap(srvConn), name: "replica", stop: make(chan struct{})}
	ended := make(chan struct{})
	go func() { n.stream(sv, b, 0); close(ended) }()
	var wg sync.WaitGroup
	led := atomic.Int64{}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				off := b.Feed(0, [][][]byte{cmd("INCR", "n")})
				if n.lead(sv, off) {
					led.Add(1)
					continue
				}
				for sv.sent.Load() < off { // the stream's goroutine writes it
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	want := readAllFrom(t, b, 0)
	got := make([]byte, len(want))
	cl.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(cl, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("the replica received other bytes than the stream")
	}
	if led.Load() == 0 {
		t.Fatalf("no write was led by a waiting writer")
	}
	close(sv.stop)
	<-ended

	// Behind what the backlog holds: the link is closed, with a log line.
	small := NewBacklog(MinBacklogSize, 0)
	small.Append(make([]byte, MinBacklogSize+1))
	sv2 := &served{conn: netio.Wrap(srvConn), name: "slow", stop: make(chan struct{})}
	n.stream(sv2, small, 0)
	select {
	case <-sv2.stop:
	default:
		t.Fatal("a replica behind the backlog was not dropped")
	}
	if !strings.Contains(strings.Join(h.logs, "\n"), "fell behind the replication backlog") {
		t.Fatalf("log: %q", h.logs)
	}
}

// tcpPair returns both ends of a loopback TCP connection, closed when the
// test ends.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		cl.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); srv.Close() })
	return cl, srv
}

// goHost runs the node's goroutines and stops them when done closes.
type goHost struct {
	streamHost
	done chan struct{}
}

func (h *goHost) Go(f func())           { go f() }
func (h *goHost) Done() <-chan struct{} { return h.done }

// TestDeferredRepliesAfterStream: replies handed over by many clients at
// once (Defer) run only after the stream up to their write was handed to
// the replica's socket, each exactly once; with few clients writing, Defer
// refuses and the client waits itself; the replica receives the whole
// stream in order; the replies still queued when the server stops run.
func TestDeferredRepliesAfterStream(t *testing.T) {
	cl, srvConn := tcpPair(t)
	h := &goHost{done: make(chan struct{})}
	n := New(h)
	b := NewBacklog(8<<20, 0)
	sv := &served{conn: netio.Wrap(srvConn), name: "replica", state: stOnline, stop: make(chan struct{})}
	n.mu.Lock()
	n.replicas[1] = sv
	n.refreshOnlineLocked()
	n.mu.Unlock()
	go n.stream(sv, b, 0)
	n.startReplyWriter()
	go io.Copy(io.Discard, cl)

	if n.Defer(b.Feed(0, [][][]byte{cmd("SET", "a", "1")}), 1, func() {}) {
		t.Fatal("one client writing: Defer took its replies")
	}
	const clients = 2 * handOverFrom
	var handed, early, ran atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(10 * time.Second)
	for c := int64(0); c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for handed.Load() < 2000 && time.Now().Before(deadline) {
				off := b.Feed(0, [][][]byte{cmd("INCR", "n")})
				done := make(chan struct{})
				write := func() {
					if sv.sent.Load() < off {
						early.Add(1)
					}
					ran.Add(1)
					close(done)
				}
				if n.Defer(off, c, write) {
					handed.Add(1)
					<-done // as a client waits for its reply before the next request
				} else {
					n.WaitDurable(off)
					write()
				}
			}
		}()
	}
	wg.Wait()
	if handed.Load() == 0 {
		t.Fatalf("%d clients writing: no reply was handed over", clients)
	}
	if early.Load() > 0 {
		t.Fatalf("%d replies ran before the stream holding their write left", early.Load())
	}
	// Queued at the stop: run then.
	n.dmu.Lock()
	n.dq = append(n.dq, deferred{b.Offset(), func() { ran.Add(1) }})
	n.dmu.Unlock()
	before := ran.Load()
	close(h.done)
	for i := 0; ran.Load() == before; i++ {
		if i > 500 {
			t.Fatal("a reply queued at the stop never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(sv.stop)
}
