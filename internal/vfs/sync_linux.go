//go:build linux

package vfs

import "syscall"

// Sync flushes the file's data with fdatasync(2), as Redis's redis_fsync
// does on Linux: the size is flushed too, the modification time is not.
func (f osFile) Sync() error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
