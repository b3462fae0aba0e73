//go:build !linux

package netio

import "syscall"

const rawSupported = false

func rawRead(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func rawWrite(uintptr, []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
func rawPeek(uintptr) syscall.Errno                 { return syscall.ENOSYS }
