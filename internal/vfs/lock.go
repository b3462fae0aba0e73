package vfs

// Advisory file locks (flock(2) LOCK_EX|LOCK_NB), as Redis 7.0's
// clusterLockConfig takes on nodes.conf so that two nodes never share
// one. On OS they are real flocks, seen by other processes (redis-server
// included); on MemFS a lock belongs to the open file that took it,
// lasts until that file is closed, and stays with the file's content
// across a rename. A crash (CrashClone) drops every lock.

import (
	"errors"
	"os"
	"syscall"
)

// ErrLocked is the error of a lock held by another open file
// (EWOULDBLOCK).
var ErrLocked error = syscall.EWOULDBLOCK

// errNoLocks: the file system or file cannot lock.
var errNoLocks = errors.New("vfs: locks not supported")

type lockingFS interface {
	openLocked(name string) (File, error)
}

type lockingFile interface {
	tryLock() error
}

// OpenLocked opens name for reading and writing, creating it empty when
// missing (never truncating it), and locks it. The error wraps ErrLocked
// when another open file holds the lock.
func OpenLocked(fs FS, name string) (File, error) {
	l, ok := fs.(lockingFS)
	if !ok {
		return nil, errNoLocks
	}
	return l.openLocked(name)
}

// TryLock locks f, an open file, without waiting; ErrLocked when another
// open file holds the lock. The lock lasts until f is closed.
func TryLock(f File) error {
	l, ok := f.(lockingFile)
	if !ok {
		return errNoLocks
	}
	return l.tryLock()
}

func (osFS) openLocked(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	of := osFile{f}
	if err := of.tryLock(); err != nil {
		f.Close()
		return nil, err
	}
	return of, nil
}

func (f osFile) tryLock() error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

func (m *MemFS) openLocked(name string) (File, error) {
	if !m.Exists(name) {
		f, err := m.Create(name)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	f, err := m.OpenRW(name)
	if err != nil {
		return nil, err
	}
	if err := TryLock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (f *memFile) tryLock() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if h := f.n.lock; h != nil && h != f && !h.closed {
		return ErrLocked
	}
	f.n.lock = f
	return nil
}
