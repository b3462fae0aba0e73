package netio

import (
	"errors"
	"net"
	"syscall"
)

// CanWaitReadable reports whether WaitReadable works on c: c came from
// Wrap on a platform with raw reads.
func CanWaitReadable(c net.Conn) bool {
	_, ok := c.(*Conn)
	return ok
}

// WaitReadable waits, with no buffer, until c has input to read or the
// peer closed it. It fails when c is closed or its read deadline passes,
// and at once when c cannot wait this way (CanWaitReadable). An idle
// connection's goroutine waits here after giving its buffer back.
func WaitReadable(c net.Conn) error {
	w, ok := c.(*Conn)
	if !ok {
		return errors.ErrUnsupported
	}
	var errno syscall.Errno
	err := w.rc.Read(func(fd uintptr) bool {
		for {
			errno = rawPeek(fd)
			switch errno {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // nothing yet: wait for the poller
			}
			return true
		}
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return opError("read", w.Conn, errno)
	}
	return nil
}
