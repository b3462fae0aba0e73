// Package vfs is the file system every durable file of a node goes through:
// the AOF, RDB snapshots and nodes.conf. OS is the real one; MemFS keeps what
// was written apart from what was fsynced, so tests can crash it (CrashClone)
// and inject errors (after pebble's vfs and vfs/errorfs).
package vfs

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// File is an open file. Writes are positional (WriteAt) so a failed or
// short write can simply be written again at the same offset.
type File interface {
	io.Reader
	io.WriterAt
	io.Closer
	Sync() error
	Truncate(size int64) error
	Size() (int64, error)
}

// FS is a file system: the real one (OS) or, in tests, a MemFS that can
// crash and fail on demand.
type FS interface {
	// Create opens name for reading and writing, creating or truncating it.
	Create(name string) (File, error)
	// OpenRW opens an existing file for reading and writing.
	OpenRW(name string) (File, error)
	// Open opens name for reading.
	Open(name string) (File, error)
	Rename(from, to string) error
	Remove(name string) error
	// Exists reports whether name exists (file or directory).
	Exists(name string) bool
	MkdirAll(dir string) error
	// SyncDir makes the directory's entries (creates, renames, removes)
	// durable.
	SyncDir(dir string) error
	// Truncate cuts the file name to size bytes.
	Truncate(name string, size int64) error
}

// OS is the real file system.
var OS FS = osFS{}

type osFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenRW(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(from, to string) error { return os.Rename(from, to) }
func (osFS) Remove(name string) error     { return os.Remove(name) }
func (osFS) MkdirAll(dir string) error    { return os.MkdirAll(dir, 0o755) }
func (osFS) Truncate(name string, size int64) error {
	return os.Truncate(name, size)
}

func (osFS) Exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteFileAtomic writes data to dir/name through a temporary file:
// write, fsync, rename over name, fsync the directory (WriteAtomic). A
// crash leaves either the old content or the new one. The error is the
// failed step's cause.
func WriteFileAtomic(fs FS, dir, tmpName, name string, data []byte) error {
	err := WriteAtomic(fs, dir, tmpName, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if ae, ok := err.(*AtomicError); ok {
		return ae.Err
	}
	return err
}

// ErrText is an I/O error as Redis reports it (strerror): "No space left
// on device" for ENOSPC, whatever path the Go error carries; other errors
// as they are.
func ErrText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
