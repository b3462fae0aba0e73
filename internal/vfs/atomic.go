package vfs

// Atomic file replacement, as Redis's rdbSave and its manifest writes: the
// content goes to a temporary file, which is fsynced and renamed over the
// final name, and the directory is fsynced. A crash leaves either the old
// content or the new one.

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
)

// AtomicError is a failed step of WriteAtomic: Op is "create", "write",
// "sync", "close", "rename" or "syncdir"; Err the cause.
type AtomicError struct {
	Op   string
	Path string
	Err  error
}

func (e *AtomicError) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err) }

// Unwrap returns the cause.
func (e *AtomicError) Unwrap() error { return e.Err }

// WriteAtomic writes dir/name through dir/tmpName: fill writes the
// content (buffered), then the file is fsynced, closed, renamed over name
// and the directory fsynced. On failure the temporary file is removed;
// the error is fill's own, or an *AtomicError (Op "syncdir" when only the
// directory fsync failed: the file is in place).
// An empty dir is the working directory.
func WriteAtomic(fs FS, dir, tmpName, name string, fill func(io.Writer) error) error {
	if dir == "" {
		dir = "." // a bare file name (aclfile user.acl): the directory to fsync is "."
	}
	tmp := filepath.Join(dir, tmpName)
	f, err := fs.Create(tmp)
	if err != nil {
		return &AtomicError{Op: "create", Path: tmp, Err: err}
	}
	fail := func(op string, err error) error {
		f.Close()
		fs.Remove(tmp)
		if op == "" {
			return err
		}
		return &AtomicError{Op: op, Path: tmp, Err: err}
	}
	ow := &OffsetWriter{F: f}
	bw := bufio.NewWriterSize(ow, 1<<20)
	if err := fill(bw); err != nil {
		if ow.Err != nil { // fill saw the write error
			return fail("write", ow.Err)
		}
		return fail("", err)
	}
	if err := bw.Flush(); err != nil {
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := f.Close(); err != nil {
		fs.Remove(tmp)
		return &AtomicError{Op: "close", Path: tmp, Err: err}
	}
	if err := fs.Rename(tmp, filepath.Join(dir, name)); err != nil {
		fs.Remove(tmp)
		return &AtomicError{Op: "rename", Path: tmp, Err: err}
	}
	if err := fs.SyncDir(dir); err != nil {
		return &AtomicError{Op: "syncdir", Path: dir, Err: err}
	}
	return nil
}

// OffsetWriter appends to a File (which writes at offsets): Off is the
// bytes written, Err the first write error.
type OffsetWriter struct {
	F   File
	Off int64
	Err error
}

func (w *OffsetWriter) Write(p []byte) (int, error) {
	n, err := w.F.WriteAt(p, w.Off)
	w.Off += int64(n)
	if err != nil && w.Err == nil {
		w.Err = err
	}
	return n, err
}
