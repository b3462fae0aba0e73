package server

// nodes.conf through vfs (cluster.go's lockConfig and writeConf) on a
// crashable MemFS.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"redgo/internal/vfs"
)

// nodes.conf on a MemFS: a CLUSTER command's reply leaves only once its
// change is durable (it survives a crash), the lock keeps a second node
// off the file, and a failed save stops the node.
func TestClusterConfOnMemFS(t *testing.T) {
	mem := vfs.NewMemFS()
	mem.MkdirAll("/n")
	const conf = "/n/nodes.conf"
	s, addr := startClusterWith(t, conf, []Option{WithFS(mem)})
	c := dialRaw(t, addr)
	if got := c.str("CLUSTER", "ADDSLOTSRANGE", "1", "3"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.str("CLUSTER", "BUMPEPOCH"); got != "BUMPED 1" {
		t.Fatal(got)
	}
	data, err := mem.CrashClone().ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "myself,master - 0 0 1 connected 1-3\n") ||
		!strings.HasSuffix(string(data), "vars currentEpoch 1 lastVoteEpoch 0\n") {
		t.Fatalf("nodes.conf after a crash:\n%s", data)
	}
	if left := mem.List("/n"); len(left) != 1 {
		t.Fatalf("files left: %v", left)
	}
	if _, err := newClusterServerWith(t, conf, []Option{WithFS(mem)}); err == nil || !strings.Contains(err.Error(), "is already used by a different Redis Cluster node") {
		t.Fatalf("second node on a locked nodes.conf: %v", err)
	}

	// The disk fails: the node stops, and nothing of the change is on disk.
	mem.Fail = func(op, name string) error {
		if op == "sync" {
			return errors.New("input/output error")
		}
		return nil
	}
	c.str("CLUSTER", "ADDSLOTS", "9")
	eventually(t, 5*time.Second, func() error {
		if !s.closing.Load() {
			return errors.New("still running after a failed nodes.conf save")
		}
		return nil
	})
	mem.Fail = nil
	data, _ = mem.CrashClone().ReadFile(conf)
	if strings.Contains(string(data), "1-3 9") {
		t.Fatalf("the failed change reached the disk:\n%s", data)
	}
}
