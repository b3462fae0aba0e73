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
// Deadlines, Close from another goroutine and every other method behave
// as the wrapped connection's: Conn only replaces Read and Write.
package netio

import (
	"io"
	"net"
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
