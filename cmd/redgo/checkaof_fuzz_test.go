package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCheckAOF: whatever a file holds (commands, an RDB preamble, both,
// garbage), `redgo check-aof` reports and exits 0 or 1; it never panics,
// and without --fix it never changes the file.
func FuzzCheckAOF(f *testing.F) {
	f.Add([]byte(cmdStr("SELECT", "0") + cmdStr("SET", "a", "b")))
	f.Add([]byte(rdbImage(3) + cmdStr("SET", "a", "b")))
	f.Add([]byte(rdbImage(2)))
	f.Add([]byte(rdbImage(2)[:20]))
	f.Add([]byte(rdbImage(1) + "*3\r\n$3\r\nSET"))
	f.Add([]byte(cmdStr("MULTI") + cmdStr("SET", "a", "b")))
	f.Add([]byte("#TS:1\r\n" + cmdStr("SET", "a", "b")))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "a.aof")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		code := runCheckAOF([]string{path}, strings.NewReader("n\n"), io.Discard)
		if code != 0 && code != 1 {
			t.Fatalf("exit %d", code)
		}
		if got, _ := os.ReadFile(path); string(got) != string(data) {
			t.Fatal("the file changed without --fix")
		}
	})
}
