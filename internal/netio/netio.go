// Package netio makes a server connection's reads and writes cheaper in
// CPU than net.Conn's.
//
// A read or write on a net.Conn is a blocking-capable system call to the
// Go runtime: it enters and leaves the scheduler's syscall state, and
// each entry may wake the runtime's monitor thread. A socket in
// non-blocking mode never blocks, so Conn issues the read(2) and
// write(2) as raw system calls and only parks the goroutine on the
// runtime's poller when the kernel says EAGAIN, as net.Conn does. On a
// request-reply workload (redis-benchmark -c 50) this cuts the server's
// CPU per request by about a quarter (docs/benchmarks.md).
//
// Deadlines and every other method behave as the wrapped connection's:
// Conn replaces Read and Write, adds ReadLoop, and makes Close return
// without waiting (Close).
package netio

import (
	"io"
	"net"
	"runtime"
	"syscall"
)

// Conn is a connection whose Read and Write use raw system calls.
type Conn struct {
	net.Conn
	rc syscall.RawConn
}

// Wrap returns c with cheaper reads and writes when the platform and the
// connection allow it, and c itself otherwise.
func Wrap(c net.Conn) net.Conn {
	if !rawSupported {
		return c
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &Conn{Conn: c, rc: rc}
}

// Unwrap returns the connection Wrap was given (c itself if not wrapped).
func Unwrap(c net.Conn) net.Conn {
	if w, ok := c.(*Conn); ok {
		return w.Conn
	}
	return c
}

// SyscallConn gives the wrapped connection's raw access (CLIENT LIST's fd).
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// Read reads into b as net.Conn's Read: at least one byte, or an error;
// io.EOF when the peer closed.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, errno = rawRead(fd, b)
			switch errno {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait for the poller, then call again
			}
			return true
		}
	})
	if err != nil {
		return 0, err // closed, or the deadline passed
	}
	if errno != 0 {
		return 0, opError("read", c.Conn, errno)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// ReadLoop reads c until got returns false or a read fails: each read
// goes into the buffer space returns (not empty), and got is given how
// many bytes it read (at least one). It returns nil when got ended it,
// io.EOF when the peer closed, and the read's error otherwise (c closed,
// its read deadline passed).
//
// The reads and got's calls all run inside one RawConn.Read, whose
// function waits for the poller only after a read found nothing
// (EAGAIN). Waiting after any short read instead, which would save that
// read, misses a close of the peer that arrived together with its last
// data: the edge-triggered poller reports both at once, and the short
// read returns the data without the end.
//
// got runs with c's read side held: nothing else may read c until
// ReadLoop returns (got returns false first).
func ReadLoop(c net.Conn, space func() []byte, got func(n int) bool) error {
	w, ok := c.(*Conn)
	if !ok {
		for {
			n, err := c.Read(space())
			if n > 0 && !got(n) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	var errno syscall.Errno
	eof, stop := false, false
	err := w.rc.Read(func(fd uintptr) bool {
		for {
			b := space()
			n, e := rawRead(fd, b)
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return false // wait for the poller, then come back
			case e != 0:
				errno = e
				return true
			case n == 0:
				eof = true
				return true
			}
			if !got(n) {
				stop = true
				return true
			}
			// Read on until EAGAIN, even after a short read: the peer's
			// close may have come with the last data, and the poller
			// reports it only once (edge-triggered), with that data.
		}
	})
	switch {
	case stop:
		return nil
	case err != nil:
		return err
	case errno != 0:
		return opError("read", w.Conn, errno)
	case eof:
		return io.EOF
	}
	return nil
}

// Close ends the connection without waiting for a ReadLoop running on it.
// A net.Conn's Close waits until no call uses the descriptor, and a
// ReadLoop's got may run for long (a command, maybe waiting on a lock the
// closing goroutine holds). Close returns once the connection counts as
// closed (every later call fails as after a net.Conn's Close, and a wait
// on the poller ends); the descriptor itself is closed in the background
// once the loop let go of it.
func (c *Conn) Close() error {
	if c.rc.Control(func(uintptr) {}) != nil {
		return c.Conn.Close() // closed already: its error
	}
	go c.Conn.Close()
	for c.rc.Control(func(uintptr) {}) == nil {
		runtime.Gosched() // until that Close marked it closed
	}
	return nil
}

// Write writes all of b, as net.Conn's Write.
func (c *Conn) Write(b []byte) (int, error) { return c.write(b, true) }

// write writes b, parking on the poller while the socket is full when
// wait is set, and returning what it wrote otherwise.
func (c *Conn) write(b []byte, wait bool) (int, error) {
	done := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(b) {
			n, e := rawWrite(fd, b[done:])
			switch e {
			case 0:
				done += n
			case syscall.EINTR:
			case syscall.EAGAIN:
				return !wait // false: wait for room, then call again
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err != nil {
		return done, err
	}
	if errno != 0 {
		return done, opError("write", c.Conn, errno)
	}
	return done, nil
}

func opError(op string, c net.Conn, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errno}
}

// TryWriter is a connection that can write without waiting.
type TryWriter interface {
	// TryWrite writes what the socket takes now, without waiting for
	// room: it may write less than len(b), even nothing (n == 0, no
	// error).
	TryWrite(b []byte) (n int, err error)
}

// TryWrite implements TryWriter. Like Write, it waits for a write another
// goroutine is making on c to end first: callers keep one writer at a time.
func (c *Conn) TryWrite(b []byte) (int, error) { return c.write(b, false) }
