package server

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/vfs"
)

// TestTwoServersIsolated runs two servers in one process with different
// settings, as a master and its replica would be in a test: A logs to an
// AOF on a MemFS, keeps hashes of one field as listpacks at most and
// expires keys actively; B persists nothing, keeps the default thresholds,
// has active expiry off and a small proto-max-bulk-len. Neither setting
// may leak into the other server (they were process-wide variables once).
func TestTwoServersIsolated(t *testing.T) {
	mem := vfs.NewMemFS()
	a, ra := mustStartAOFOn(t, mem, "/a", "--hash-max-listpack-entries", "1")
	dirB := t.TempDir()
	_, rb := startServer(t, "--dir", dirB, "--appendonly", "no", "--enable-debug-command", "yes")
	do(t, rb, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	do(t, rb, "CONFIG", "SET", "proto-max-bulk-len", "1mb")

	// Encoding thresholds.
	for _, rc := range []*redis.Client{ra, rb} {
		do(t, rc, "HSET", "h", "f1", "v", "f2", "v")
	}
	if enc := do(t, ra, "OBJECT", "ENCODING", "h"); enc != "hashtable" {
		t.Errorf("A (hash-max-listpack-entries 1): encoding %v", enc)
	}
	if enc := do(t, rb, "OBJECT", "ENCODING", "h"); enc != "listpack" {
		t.Errorf("B (default thresholds): encoding %v", enc)
	}

	// proto-max-bulk-len: 1 MB on B only.
	if err := rb.Do(ctx, "SETRANGE", "s", 2<<20, "x").Err(); err == nil || !strings.Contains(err.Error(), "maximum allowed size") {
		t.Errorf("B SETRANGE past its proto-max-bulk-len: %v", err)
	}
	do(t, ra, "SETRANGE", "s", fmt.Sprint(2<<20), "x")

	// Active expiry: on in A, off in B.
	for _, rc := range []*redis.Client{ra, rb} {
		do(t, rc, "SET", "gone", "x", "PX", "20")
	}
	eventually(t, 5*time.Second, func() error {
		if db0 := infoField(t, ra.Info(ctx, "keyspace").Val(), "db0"); !strings.HasPrefix(db0, "keys=2,expires=0") {
			return fmt.Errorf("A did not reclaim the expired key: db0:%s", db0)
		}
		return nil
	})
	if db0 := infoField(t, rb.Info(ctx, "keyspace").Val(), "db0"); !strings.HasPrefix(db0, "keys=2,expires=1") {
		t.Errorf("B reclaimed a key with active expiry off: db0:%s", db0)
	}

	// Persistence: A's writes are in A's AOF (on its MemFS), B's nowhere.
	if m := aofInfoMap(a); m["aof_enabled"] != "1" {
		t.Errorf("A aof_enabled %s", m["aof_enabled"])
	}
	if v := infoField(t, rb.Info(ctx, "persistence").Val(), "aof_enabled"); v != "0" {
		t.Errorf("B aof_enabled %s", v)
	}
	do(t, rb, "SET", "only-b", "1")
	do(t, ra, "SET", "only-a", "1")
	a.Close()
	_, ra2 := mustStartAOFOn(t, mem.CrashClone(), "/a", "--hash-max-listpack-entries", "1")
	if v := do(t, ra2, "GET", "only-a"); v != "1" {
		t.Errorf("A after restart: only-a = %v", v)
	}
	if n := do(t, ra2, "EXISTS", "only-b"); n != int64(0) {
		t.Errorf("B's write reached A's AOF")
	}
	if entries, _ := os.ReadDir(dirB); len(entries) != 0 {
		t.Errorf("B (appendonly no) wrote files: %v", entries)
	}
}
