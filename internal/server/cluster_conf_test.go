package server

// nodes.conf through vfs (cluster.go's lockConfig and writeConf) on a
// crashable MemFS.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"redgo/internal/resp"
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

	// The disk fails once, half-way through a write: the node stops, and
	// the file it leaves is the last good one, not a mix of old and new.
	before, err := mem.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	var failed atomic.Bool
	mem.SetFail(func(op, name string) error {
		if op == "write" && failed.CompareAndSwap(false, true) {
			return errors.New("no space left on device")
		}
		return nil
	})
	// The node stops before it answers: the connection closes (EOF) or,
	// if the reply raced the stop, it must not be +OK.
	// Many single slots make the new file much longer than the old, so
	// the half that lands overwrites the old file's last line.
	add := []string{"CLUSTER", "ADDSLOTS"}
	for sl := 9; sl < 400; sl += 2 {
		add = append(add, strconv.Itoa(sl))
	}
	c.send(add...)
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if v, err := resp.ReadValue(c.r); err == nil && v.Str == "OK" {
		t.Fatalf("a change whose save failed was acknowledged: %+v", v)
	}
	eventually(t, 5*time.Second, func() error {
		if !s.closing.Load() {
			return errors.New("still running after a failed nodes.conf save")
		}
		return nil
	})
	mem.SetFail(nil)
	if after, _ := mem.ReadFile(conf); !bytes.Equal(after, before) {
		t.Fatalf("nodes.conf after a failed in-place save:\n%s\nwant:\n%s", after, before)
	}
	data, _ = mem.CrashClone().ReadFile(conf)
	if strings.Contains(string(data), "1-3 9") {
		t.Fatalf("the failed change reached the disk:\n%s", data)
	}
}

// A replica restarted on its nodes.conf writes nothing to stderr before
// its log is open (the test frameworks count any stderr output as a
// failure): the state change found while loading (a replica has no rejoin
// delay) is logged with the start-up notes.
func TestClusterLoadLogsNothingToStderr(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nodes.conf")
	me, other := strings.Repeat("a", 40), strings.Repeat("b", 40)
	text := me + " 127.0.0.1:30001@40001 myself,slave " + other + " 0 0 1 connected\n" +
		other + " 127.0.0.1:30002@40002 master - 0 0 1 connected 0-16383\n" +
		"vars currentEpoch 1 lastVoteEpoch 0\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	s, err := newClusterServerWith(t, conf, nil)
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	s.Log.SetOutput(&log)
	if len(out) > 0 {
		t.Errorf("written to stderr while loading: %q", out)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	s.Close()
	if !strings.Contains(log.String(), "Cluster state changed: ok") {
		t.Errorf("log:\n%s", log.String())
	}
}

// CONFIG SET cluster-replica-no-failover (or its alias) sets the node's
// nofailover flag for good: the cron, which keeps the flag in step with
// the option, must not take it back.
func TestClusterNoFailoverConfigSet(t *testing.T) {
	_, addr := startCluster(t, "")
	c := dialRaw(t, addr)
	if got := c.str("CONFIG", "SET", "cluster-slave-no-failover", "yes"); got != "OK" {
		t.Fatal(got)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(150 * time.Millisecond)
		if got := c.str("CLUSTER", "NODES"); !strings.Contains(got, "myself,master,nofailover") {
			t.Fatalf("after %d ms: %s", (i+1)*150, got)
		}
	}
	if got := c.str("CONFIG", "SET", "cluster-replica-no-failover", "no"); got != "OK" {
		t.Fatal(got)
	}
	time.Sleep(150 * time.Millisecond)
	if got := c.str("CLUSTER", "NODES"); strings.Contains(got, "nofailover") {
		t.Fatalf("flag kept after no: %s", got)
	}
}

// A save that must be fsynced (BUMPEPOCH, SAVECONFIG) writes nodes.conf in
// place and fsyncs it, as Redis 7.0: the file keeps its inode (so the
// lock taken at start stays on it) and no other file is made.
func TestClusterConfFsyncInPlace(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nodes.conf")
	_, addr := startClusterWith(t, conf, nil)
	ino := func() uint64 {
		t.Helper()
		fi, err := os.Stat(conf)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	before := ino()
	c := dialRaw(t, addr)
	if got := c.str("CLUSTER", "ADDSLOTSRANGE", "0", "99"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.str("CLUSTER", "BUMPEPOCH"); got != "BUMPED 1" {
		t.Fatal(got)
	}
	if got := c.str("CLUSTER", "SAVECONFIG"); got != "OK" {
		t.Fatal(got)
	}
	if after := ino(); after != before {
		t.Fatalf("nodes.conf replaced by a new file (inode %d -> %d)", before, after)
	}
	data, _ := os.ReadFile(conf)
	if !strings.Contains(string(data), "myself,master - 0 0 1 connected 0-99\n") ||
		!strings.HasSuffix(string(data), "vars currentEpoch 1 lastVoteEpoch 0\n") {
		t.Fatalf("nodes.conf:\n%s", data)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("files in the node's directory: %v", ents)
	}
}
