package vfs

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// MemFS is an in-memory FS for crash tests, after pebble's vfs.MemFS: it
// keeps, for every file, what was written and what was fsynced, and for
// the directory, which entries were made durable by SyncDir. CrashClone
// returns what a machine would find after losing power: only synced data
// under durable names. Fail, when set, injects errors.
type MemFS struct {
	mu      sync.Mutex
	files   map[string]*memNode // current names
	durable map[string]*memNode // names that survive a crash
	dirs    map[string]bool

	failFn atomic.Pointer[func(op, name string) error] // SetFail
}

// SetFail makes f, when not nil, be asked before each operation
// ("create", "write", "sync", "rename", "remove", "syncdir", "truncate")
// on a path; an error fails the operation. A failed write still writes
// the first half of the data (a short write, as a full disk does). It may
// be called while the file system is in use.
func (m *MemFS) SetFail(f func(op, name string) error) {
	if f == nil {
		m.failFn.Store(nil)
		return
	}
	m.failFn.Store(&f)
}

type memNode struct {
	data   []byte
	synced []byte
	lock   *memFile // the open file holding the lock (lock.go); free once closed
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS {
	return &MemFS{files: map[string]*memNode{}, durable: map[string]*memNode{}, dirs: map[string]bool{}}
}

func (m *MemFS) fail(op, name string) error {
	f := m.failFn.Load()
	if f == nil {
		return nil
	}
	return (*f)(op, name)
}

func clean(name string) string { return filepath.Clean(name) }

// CrashClone returns a new MemFS with the durable state of m: synced file
// contents under names whose directory entry was synced.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemFS()
	for d := range m.dirs {
		c.dirs[d] = true
	}
	for name, n := range m.durable {
		nn := &memNode{data: append([]byte(nil), n.synced...)}
		nn.synced = append([]byte(nil), nn.data...)
		c.files[name] = nn
		c.durable[name] = nn
	}
	return c
}

// ReadFile returns the current content of name.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[clean(name)]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return append([]byte(nil), n.data...), nil
}

// WriteFile creates name with data, synced and durable.
func (m *MemFS) WriteFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := &memNode{data: append([]byte(nil), data...), synced: append([]byte(nil), data...)}
	m.files[clean(name)] = n
	m.durable[clean(name)] = n
}

// List returns the current file names under dir.
func (m *MemFS) List(dir string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for name := range m.files {
		if filepath.Dir(name) == clean(dir) {
			out = append(out, filepath.Base(name))
		}
	}
	return out
}

func (m *MemFS) Create(name string) (File, error) {
	if err := m.fail("create", name); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Dir(clean(name))] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	n, ok := m.files[clean(name)]
	if ok {
		n.data = n.data[:0:0]
	} else {
		n = &memNode{}
		m.files[clean(name)] = n
	}
	return &memFile{fs: m, n: n, name: clean(name)}, nil
}

func (m *MemFS) OpenRW(name string) (File, error) { return m.Open(name) }

func (m *MemFS) Open(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{fs: m, n: n, name: clean(name)}, nil
}

func (m *MemFS) Rename(from, to string) error {
	if err := m.fail("rename", to); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[clean(from)]
	if !ok {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrNotExist}
	}
	delete(m.files, clean(from))
	m.files[clean(to)] = n
	return nil
}

func (m *MemFS) Remove(name string) error {
	if err := m.fail("remove", name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[clean(name)]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, clean(name))
	return nil
}

func (m *MemFS) Exists(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.files[clean(name)]
	return ok || m.dirs[clean(name)]
}

func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := clean(dir); ; d = filepath.Dir(d) {
		m.dirs[d] = true
		if d == "." || d == "/" || !strings.Contains(d, string(filepath.Separator)) {
			break
		}
	}
	m.dirs["."] = true
	return nil
}

func (m *MemFS) SyncDir(dir string) error {
	if err := m.fail("syncdir", dir); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := clean(dir)
	for name := range m.durable {
		if filepath.Dir(name) == d {
			if _, ok := m.files[name]; !ok {
				delete(m.durable, name)
			}
		}
	}
	for name, n := range m.files {
		if filepath.Dir(name) == d {
			m.durable[name] = n
		}
	}
	return nil
}

func (m *MemFS) Truncate(name string, size int64) error {
	if err := m.fail("truncate", name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[clean(name)]
	if !ok {
		return &fs.PathError{Op: "truncate", Path: name, Err: fs.ErrNotExist}
	}
	n.truncate(size)
	return nil
}

func (n *memNode) truncate(size int64) {
	if size < int64(len(n.data)) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, int(size)-len(n.data))...)
	}
}

type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	pos    int64
	closed bool
}

var errClosed = errors.New("file already closed")

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.pos >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[f.pos:])
	f.pos += int64(k)
	return k, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, errClosed
	}
	err := f.fs.fail("write", f.name)
	if err != nil {
		p = p[:len(p)/2]
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		f.n.truncate(end)
	}
	copy(f.n.data[off:], p)
	return len(p), err
}

func (f *memFile) Sync() error {
	if f.closed {
		return errClosed
	}
	if err := f.fs.fail("sync", f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.n.synced = append(f.n.synced[:0:0], f.n.data...)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.fs.fail("truncate", f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.n.truncate(size)
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.n.data)), nil
}

func (f *memFile) Close() error {
	f.closed = true
	return nil
}
