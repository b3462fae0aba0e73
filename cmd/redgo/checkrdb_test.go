package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRDB: a sound file is reported OK; damaged copies are reported
// with an offset, and redis-check-rdb (when installed) agrees on every
// verdict.
func TestCheckRDB(t *testing.T) {
	good, err := os.ReadFile("../../internal/rdb/testdata/redis-7.0.15.rdb")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.rdb")
	check := func(b []byte) (int, string) {
		os.WriteFile(path, b, 0o644)
		var out bytes.Buffer
		code := runCheckRDB([]string{path}, &out)
		return code, out.String()
	}
	code, out := check(good)
	if code != 0 || !strings.Contains(out, "RDB looks OK!") || !strings.Contains(out, "[info] 15 keys read") {
		t.Fatalf("good file: %d\n%s", code, out)
	}
	redisCheck, _ := exec.LookPath("redis-check-rdb")
	r := rand.New(rand.NewPCG(2, 3))
	for i := 0; i < 30; i++ {
		b := append([]byte(nil), good...)
		if i%2 == 0 {
			b = b[:r.IntN(len(b))]
		} else {
			b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		}
		code, out := check(b)
		if code == 0 || !strings.Contains(out, "RDB ERROR DETECTED") || !strings.Contains(out, "offset") {
			t.Fatalf("case %d: damaged file: %d\n%s", i, code, out)
		}
		if redisCheck != "" {
			if err := exec.Command(redisCheck, path).Run(); err == nil {
				t.Fatalf("case %d: redis-check-rdb accepts what we refuse:\n%s", i, out)
			}
		}
	}
	if code, _ := check(nil); code == 0 {
		t.Fatal("empty file accepted")
	}
}
