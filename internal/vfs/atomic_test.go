package vfs

import (
	"io"
	"os"
	"testing"
)

// TestWriteAtomicBareName: a file named without a directory (ACL SAVE of
// "aclfile user.acl") is written in the working directory; the directory
// fsync must not fail on the empty directory name.
func TestWriteAtomicBareName(t *testing.T) {
	t.Chdir(t.TempDir())
	err := WriteAtomic(OS, "", "user.acl.tmp", "user.acl", func(w io.Writer) error {
		_, err := io.WriteString(w, "user default on nopass ~* &* +@all\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("user.acl"); err != nil || string(b) != "user default on nopass ~* &* +@all\n" {
		t.Fatalf("user.acl = %q, %v", b, err)
	}
	if _, err := os.Stat("user.acl.tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
}
