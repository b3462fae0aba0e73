package vfs

import (
	"errors"
	"path/filepath"
	"testing"
)

// A lock is held by one open file until it is closed, on both file
// systems, and moves with the file's content across a rename.
func TestLocks(t *testing.T) {
	mem := NewMemFS()
	mem.MkdirAll("/d")
	for name, fs := range map[string]FS{"os": OS, "mem": mem} {
		t.Run(name, func(t *testing.T) {
			dir := "/d"
			if fs == OS {
				dir = t.TempDir()
			}
			conf, tmp := filepath.Join(dir, "nodes.conf"), filepath.Join(dir, "nodes.conf.tmp")
			a, err := OpenLocked(fs, conf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := OpenLocked(fs, conf); !errors.Is(err, ErrLocked) {
				t.Fatalf("second lock: %v", err)
			}
			// A new file, locked, renamed over the locked one: the lock
			// goes with the new content; the old file's is gone with it.
			b, err := fs.Create(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if err := TryLock(b); err != nil {
				t.Fatal(err)
			}
			if err := fs.Rename(tmp, conf); err != nil {
				t.Fatal(err)
			}
			a.Close()
			if _, err := OpenLocked(fs, conf); !errors.Is(err, ErrLocked) {
				t.Fatalf("lock did not move with the rename: %v", err)
			}
			b.Close()
			c, err := OpenLocked(fs, conf)
			if err != nil {
				t.Fatalf("lock kept after close: %v", err)
			}
			c.Close()
		})
	}
	if _, err := OpenLocked(struct{ FS }{mem}, "/d/x"); err == nil {
		t.Fatal("a file system without locks locked")
	}
}
