package persist

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"redgo/internal/aof"
	"redgo/internal/keyspace"
	"redgo/internal/vfs"
)

// failReads is a file system whose files fail to read (EIO) after their
// first n bytes: a disk that goes bad under a loader.
type failReads struct {
	*vfs.MemFS
	n    int
	only string // the files whose name ends so
}

func (f failReads) Open(name string) (vfs.File, error) {
	file, err := f.MemFS.Open(name)
	if err != nil || !strings.HasSuffix(name, f.only) {
		return file, err
	}
	return &failFile{File: file, left: f.n}, nil
}

type failFile struct {
	vfs.File
	left int
}

func (f *failFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, &vfsPathError{syscall.EIO}
	}
	if len(p) > f.left {
		p = p[:f.left]
	}
	n, err := f.File.Read(p)
	f.left -= n
	return n, err
}

// vfsPathError is an I/O error as the OS reports it (wrapping an errno).
type vfsPathError struct{ errno syscall.Errno }

func (e *vfsPathError) Error() string { return "read /d/file: " + e.errno.Error() }
func (e *vfsPathError) Unwrap() error { return e.errno }

// loadWith loads, with h's settings, the files in fs.
func loadWith(t *testing.T, fs vfs.FS, args ...string) error {
	t.Helper()
	h := newTestHost(t, append([]string{"--dir", "/d"}, args...)...)
	defer h.close()
	return New(h, Options{FS: fs}).Load()
}

// savedRDB returns a MemFS holding /d/dump.rdb with a few keys.
func savedRDB(t *testing.T) (*vfs.MemFS, []byte) {
	t.Helper()
	mem := vfs.NewMemFS()
	mem.MkdirAll("/d")
	h := newTestHost(t, "--dir", "/d")
	defer h.close()
	for i, k := range []string{"a", "b", "c", "d"} {
		h.ks.DB(0).Set([]byte(k), keyspace.NewString([]byte(strings.Repeat("v", 10*i+1))), false)
	}
	if err := New(h, Options{FS: mem}).Save(); err != nil {
		t.Fatal(err)
	}
	data, err := mem.ReadFile("/d/dump.rdb")
	if err != nil {
		t.Fatal(err)
	}
	return mem, data
}

// TestLoadErrorsRDB: a damaged dump.rdb is ErrCorrupt; a disk that fails
// to read it is not, and the read error is reachable.
func TestLoadErrorsRDB(t *testing.T) {
	mem, data := savedRDB(t)
	if err := loadWith(t, mem); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-12] ^= 0xff // inside the last value or the EOF opcode; the checksum catches it anyway
	mem.WriteFile("/d/dump.rdb", bad)
	err := loadWith(t, mem)
	if !errors.Is(err, ErrCorrupt) || errors.Is(err, syscall.EIO) {
		t.Fatalf("damaged file: %v (corrupt %v)", err, errors.Is(err, ErrCorrupt))
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "Fatal error loading the DB /d/dump.rdb: ") {
		t.Fatalf("damaged file: %v", err)
	}
	mem.WriteFile("/d/dump.rdb", data)
	err = loadWith(t, failReads{mem, 20, "dump.rdb"})
	if err == nil || errors.Is(err, ErrCorrupt) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("read failure: %v (corrupt %v)", err, errors.Is(err, ErrCorrupt))
	}
}

// TestLoadErrorsAOF: a log with a bad byte is ErrCorrupt; a disk that
// fails to read it is not.
func TestLoadErrorsAOF(t *testing.T) {
	mem := vfs.NewMemFS()
	mem.MkdirAll("/d/appendonlydir")
	m := &aof.Manifest{}
	name := m.NewIncr("appendonly.aof")
	mem.WriteFile("/d/appendonlydir/appendonly.aof.manifest", m.Format())
	good := aof.AppendCommandStrings(nil, "SET", "a", "1")
	good = aof.AppendCommandStrings(good, "SET", "b", "2")
	write := func(data []byte) { mem.WriteFile("/d/appendonlydir/"+name, data) }

	write(append(append([]byte(nil), good...), "*1\r\n+PING\r\n"...))
	err := loadWith(t, mem, "--appendonly", "yes")
	if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "Bad file format reading the append only file") {
		t.Fatalf("bad byte: %v (corrupt %v)", err, errors.Is(err, ErrCorrupt))
	}
	var ae *aof.Error
	if !errors.As(err, &ae) || ae.At != int64(len(good)+4) {
		t.Fatalf("bad byte: the *aof.Error is not reachable or at the wrong offset: %v", ae)
	}

	write(good[:len(good)-3])
	err = loadWith(t, mem, "--appendonly", "yes", "--aof-load-truncated", "no")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("torn tail refused: %v (corrupt %v)", err, errors.Is(err, ErrCorrupt))
	}

	// A read that fails mid-command, or between two commands, is neither
	// a torn tail nor the end: the load fails and nothing is cut.
	for _, n := range []int{10, len(good) / 2} {
		write(good)
		err = loadWith(t, failReads{mem, n, ".incr.aof"}, "--appendonly", "yes")
		if err == nil || errors.Is(err, ErrCorrupt) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("read failure after %d bytes: %v (corrupt %v)", n, err, errors.Is(err, ErrCorrupt))
		}
		if got, _ := mem.ReadFile("/d/appendonlydir/" + name); string(got) != string(good) {
			t.Fatalf("read failure after %d bytes: the file was changed to %q", n, got)
		}
	}
	write(good)
	if err := loadWith(t, mem, "--appendonly", "yes"); err != nil {
		t.Fatalf("intact log: %v", err)
	}
}

// TestSaveSurvivesCrash: SAVE goes through the FS it was given and makes
// dump.rdb durable (file and directory entry fsynced): a crash clone
// loads every key.
func TestSaveSurvivesCrash(t *testing.T) {
	mem, _ := savedRDB(t)
	h := newTestHost(t, "--dir", "/d")
	defer h.close()
	if err := New(h, Options{FS: mem.CrashClone()}).Load(); err != nil {
		t.Fatal(err)
	}
	h.ks.LockAll()
	defer h.ks.UnlockAll()
	if n := h.ks.DB(0).Len(); n != 4 {
		t.Fatalf("%d keys after a crash, want 4", n)
	}
	if names := mem.List("/d"); len(names) != 1 || names[0] != "dump.rdb" {
		t.Fatalf("files left in dir: %v", names)
	}
}

// A node that starts as a replica keeps the keys of its RDB that already
// expired (rdbLoad when !iAmMaster()); a master skips them.
func TestLoadAsReplicaKeepsExpired(t *testing.T) {
	mem := vfs.NewMemFS()
	mem.MkdirAll("/d")
	h := newTestHost(t, "--dir", "/d")
	o := keyspace.NewString([]byte("v"))
	o.SetExpire(time.Now().UnixMilli() + 50)
	h.ks.DB(0).Set([]byte("soon"), o, false)
	h.ks.DB(0).Set([]byte("kept"), keyspace.NewString([]byte("v")), false)
	if err := New(h, Options{FS: mem}).Save(); err != nil {
		t.Fatal(err)
	}
	h.close()
	time.Sleep(100 * time.Millisecond)
	for _, replica := range []bool{false, true} {
		h := newTestHost(t, "--dir", "/d")
		p := New(h, Options{FS: mem})
		p.LoadAsReplica(replica)
		if err := p.Load(); err != nil {
			t.Fatal(err)
		}
		want := 1
		if replica {
			want = 2
		}
		if n := h.ks.DB(0).Len(); n != want {
			t.Errorf("replica %v: %d keys loaded, want %d", replica, n, want)
		}
		h.close()
	}
}
