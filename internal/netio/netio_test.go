package netio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// pair returns a wrapped server side and a plain client side.
func pair(t *testing.T, network string) (net.Conn, net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	w := Wrap(sv)
	t.Cleanup(func() { w.Close(); cl.Close() })
	return w, cl
}

func TestWrapKeepsTheConnection(t *testing.T) {
	w, _ := pair(t, "tcp")
	if _, ok := w.(*Conn); !ok && rawSupported {
		t.Fatalf("Wrap gave %T", w)
	}
	if _, ok := Unwrap(w).(*net.TCPConn); !ok {
		t.Fatalf("Unwrap gave %T", Unwrap(w))
	}
	if c := new(net.TCPConn); Unwrap(c) != net.Conn(c) {
		t.Fatal("Unwrap of a plain connection changed it")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		w, cl := pair(t, network)
		// A write bigger than the socket buffers: Write parks on EAGAIN
		// until the reader drains, and returns every byte.
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
		done := make(chan error, 1)
		go func() {
			n, err := w.Write(big)
			if err == nil && n != len(big) {
				err = io.ErrShortWrite
			}
			done <- err
		}()
		got := make([]byte, len(big))
		if _, err := io.ReadFull(cl, got); err != nil {
			t.Fatal(network, err)
		}
		if err := <-done; err != nil || !bytes.Equal(got, big) {
			t.Fatalf("%s: write err %v, equal %v", network, err, bytes.Equal(got, big))
		}
		// Reads return what is there, at least one byte, and io.EOF once
		// the peer has closed.
		cl.Write([]byte("hello"))
		buf := make([]byte, 64)
		n, err := w.Read(buf)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("%s: read %q %v", network, buf[:n], err)
		}
		if n, err := w.Read(nil); n != 0 || err != nil {
			t.Fatalf("%s: empty read gave %d %v", network, n, err)
		}
		cl.Close()
		if _, err := w.Read(buf); err != io.EOF {
			t.Fatalf("%s: read after peer close: %v, want EOF", network, err)
		}
	}
}

func TestDeadlineAndClose(t *testing.T) {
	w, _ := pair(t, "tcp")
	w.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := w.Read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("deadline error %v is not a timeout", err)
	}
	w.SetReadDeadline(time.Time{})
	res := make(chan error, 1)
	go func() {
		_, err := w.Read(make([]byte, 8))
		res <- err
	}()
	time.Sleep(10 * time.Millisecond)
	w.Close() // from another goroutine: the blocked read ends
	if err := <-res; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

func TestWriteToResetPeer(t *testing.T) {
	w, cl := pair(t, "tcp")
	cl.(*net.TCPConn).SetLinger(0) // close with RST
	cl.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = w.Write([]byte("data"))
		time.Sleep(time.Millisecond)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "write" {
		t.Fatalf("write to a reset peer: %v", err)
	}
}

func TestTryWrite(t *testing.T) {
	if !rawSupported {
		t.Skip("no raw writes here")
	}
	w, cl := pair(t, "tcp")
	tw := w.(TryWriter)
	// With nobody reading, the socket fills: TryWrite then writes less
	// than asked, then nothing, and never waits.
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	total := 0
	for i := 0; i < 64; i++ {
		n, err := tw.TryWrite(chunk)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < len(chunk) {
			break
		}
	}
	n, err := tw.TryWrite(chunk)
	if err != nil || n != 0 {
		t.Fatalf("TryWrite on a full socket: %d %v", n, err)
	}
	got, err := io.ReadAll(io.LimitReader(cl, int64(total)))
	if err != nil || len(got) != total {
		t.Fatalf("read back %d of %d: %v", len(got), total, err)
	}
}

// TestReadLoopRoundTrips answers each request inside the loop and sends
// the next request only after the reply: a loop that missed input
// arriving while got ran (between its read and its wait on the poller)
// would wait forever.
func TestReadLoopRoundTrips(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		w, cl := pair(t, network)
		const rounds = 3000
		done := make(chan error, 1)
		go func() {
			buf := make([]byte, 64)
			seen := 0
			done <- ReadLoop(w, func() []byte { return buf }, func(n int) bool {
				seen += n
				w.Write(buf[:n]) // echo
				return seen < rounds*4
			})
		}()
		reply := make([]byte, 4)
		for i := 0; i < rounds; i++ {
			if _, err := cl.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			cl.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(cl, reply); err != nil {
				t.Fatalf("%s: round %d: %v", network, i, err)
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("%s: got ended the loop, ReadLoop returned %v", network, err)
		}
	}
}

// TestReadLoopFullBuffers reads input larger than the buffer in several
// reads without waiting in between, and reports the peer's close as EOF.
func TestReadLoopFullBuffers(t *testing.T) {
	w, cl := pair(t, "tcp")
	want := bytes.Repeat([]byte("0123456789"), 10000)
	go func() {
		cl.Write(want)
		cl.Close()
	}()
	var got []byte
	buf := make([]byte, 1000)
	err := ReadLoop(w, func() []byte { return buf }, func(n int) bool {
		got = append(got, buf[:n]...)
		return true
	})
	if err != io.EOF || !bytes.Equal(got, want) {
		t.Fatalf("ReadLoop: %v, %d bytes (want EOF, %d bytes)", err, len(got), len(want))
	}
}

// TestReadLoopDeadline ends a waiting loop with the deadline's error.
func TestReadLoopDeadline(t *testing.T) {
	w, _ := pair(t, "tcp")
	w.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 10)
	err := ReadLoop(w, func() []byte { return buf }, func(int) bool { return true })
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadLoop after the deadline: %v", err)
	}
}

// TestCloseDuringReadLoop closes the connection while the loop's got is
// busy (waiting for the closing goroutine here): Close must not wait for
// the loop, and the loop ends once got returns.
func TestCloseDuringReadLoop(t *testing.T) {
	w, cl := pair(t, "tcp")
	inGot, release := make(chan struct{}), make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		buf := make([]byte, 16)
		ended <- ReadLoop(w, func() []byte { return buf }, func(int) bool {
			close(inGot)
			<-release
			return true
		})
	}()
	cl.Write([]byte("x"))
	<-inGot
	closed := make(chan struct{})
	go func() {
		w.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the read loop")
	}
	close(release)
	select {
	case err := <-ended:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("loop ended with %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not end after Close")
	}
}

// TestReadLoopCloseWithData: the peer's close arriving with its last
// data (one report of the poller for both) still ends the loop.
func TestReadLoopCloseWithData(t *testing.T) {
	for i := 0; i < 200; i++ {
		w, cl := pair(t, "tcp")
		cl.Write([]byte("partial request"))
		cl.Close()
		time.Sleep(time.Millisecond) // data and FIN queued before the first read
		buf := make([]byte, 64)
		done := make(chan error, 1)
		go func() { done <- ReadLoop(w, func() []byte { return buf }, func(int) bool { return true }) }()
		select {
		case err := <-done:
			if err != io.EOF {
				t.Fatalf("ReadLoop: %v, want EOF", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the peer's close was missed")
		}
		w.Close()
	}
}

// TestReadLoopHangupWhileWaiting: a peer that sends its last data and
// closes while ReadLoop waits on the poller: the data and the close
// often arrive before the reader runs, and the short read that takes the
// data leaves the close, which a loop that waited for the poller after a
// short read would never see (the poller reported both at once).
func TestReadLoopHangupWhileWaiting(t *testing.T) {
	for i := 0; i < 300; i++ {
		w, cl := pair(t, "tcp")
		buf := make([]byte, 64)
		done := make(chan error, 1)
		var got atomic.Int64
		go func() {
			done <- ReadLoop(w, func() []byte { return buf }, func(n int) bool { got.Add(int64(n)); return true })
		}()
		time.Sleep(200 * time.Microsecond) // waiting on the poller, mostly
		cl.Write([]byte("partial request"))
		cl.Close()
		select {
		case err := <-done:
			if err != io.EOF || got.Load() != int64(len("partial request")) {
				t.Fatalf("ReadLoop: %v after %d bytes, want EOF after 15", err, got.Load())
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the peer's close was missed", i)
		}
		w.Close()
	}
}
