package netio

import (
	"syscall"
	"unsafe"
)

const rawSupported = true

// rawRead and rawWrite are read(2) and write(2) without the scheduler's
// syscall bookkeeping: the socket is non-blocking, so they return at once.
func rawRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}

func rawWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}

// rawPeek looks for one byte of input without taking it (recv with
// MSG_PEEK): 0 when there is input or the peer closed, EAGAIN when none.
func rawPeek(fd uintptr) syscall.Errno {
	var b [1]byte
	_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return e
}
