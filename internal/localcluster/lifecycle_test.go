package localcluster_test

import (
	"bytes"
	"context"
	"errors"

	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/cli"
	"redgo/internal/localcluster"
	"redgo/internal/localcluster/lctest"
	"redgo/internal/slot"
)

// runCli runs redgo cli in-process.
func runCli(args ...string) (string, int) {
	var out bytes.Buffer
	code := cli.Run(args, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out})
	return out.String(), code
}

// keyIn finds a key whose slot is in [lo, hi].
func keyIn(lo, hi int) string {
	for i := 0; ; i++ {
		k := "key:" + strconv.Itoa(i)
		if s := slot.OfString(k); s >= lo && s <= hi {
			return k
		}
	}
}

// checkEveryMaster sets and gets a key on every master through the first
// node with redgo cli -c.
func checkEveryMaster(t *testing.T, l localcluster.Layout) {
	t.Helper()
	n := l.Masters()
	for i := 0; i < n; i++ {
		key := keyIn(i*slot.Count/n, (i+1)*slot.Count/n-1)
		p := strconv.Itoa(l.PortBase)
		if out, code := runCli("-c", "-p", p, "SET", key, "v"+key); code != 0 || out != "OK\n" {
			t.Fatalf("set %s: %q %d", key, out, code)
		}
		if out, _ := runCli("-c", "-p", p, "GET", key); out != "v"+key+"\n" {
			t.Fatalf("get %s: %q", key, out)
		}
		// Without -c the first node redirects keys it does not serve.
		if out, _ := runCli("-p", p, "GET", key); i > 0 && !strings.HasPrefix(out, "MOVED ") {
			t.Fatalf("get %s without -c: %q", key, out)
		}
	}
}

// cliPiped runs redgo cli's interactive mode on a pipe.
func cliPiped(stdin string, args ...string) string {
	var out bytes.Buffer
	cli.Run(args, cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out})
	return out.String()
}

// checkRedirections: redgo cli -c follows -MOVED and, for a slot in
// migration, -ASK (with ASKING); interactively it says where it went, as
// redis-cli does.
func checkRedirections(t *testing.T, l localcluster.Layout) {
	t.Helper()
	src, dst := strconv.Itoa(l.PortBase+1), strconv.Itoa(l.PortBase+2) // slots 5461-10921, 10922-16383
	p1 := strconv.Itoa(l.PortBase)
	// apple is in slot 7092, served by the second master.
	if out := cliPiped("set apple red\nget apple\n", "-c", "-p", p1); out !=
		"-> Redirected to slot [7092] located at 127.0.0.1:"+src+"\nOK\nred\n" {
		t.Fatalf("MOVED, interactive: %q", out)
	}
	srcID, _ := runCli("-p", src, "CLUSTER", "MYID")
	dstID, _ := runCli("-p", dst, "CLUSTER", "MYID")
	for _, c := range [][]string{
		{"-p", dst, "CLUSTER", "SETSLOT", "7092", "IMPORTING", strings.TrimSpace(srcID)},
		{"-p", src, "CLUSTER", "SETSLOT", "7092", "MIGRATING", strings.TrimSpace(dstID)},
		{"-p", src, "MIGRATE", "127.0.0.1", dst, "apple", "0", "5000"},
	} {
		if out, _ := runCli(c...); out != "OK\n" {
			t.Fatalf("%q: %q", c, out)
		}
	}
	if out, _ := runCli("-c", "-p", src, "GET", "apple"); out != "red\n" {
		t.Fatalf("ASK, one-shot: %q", out)
	}
	if out := cliPiped("get apple\n", "-c", "-p", src); out !=
		"-> Redirected to slot [7092] located at 127.0.0.1:"+dst+"\nred\n" {
		t.Fatalf("ASK, interactive: %q", out)
	}
	if out, _ := runCli("-p", src, "GET", "apple"); !strings.HasPrefix(out, "ASK 7092 ") {
		t.Fatalf("without -c: %q", out)
	}
	if bin, err := exec.LookPath("redis-cli"); err == nil {
		want, _ := exec.Command(bin, "-c", "-p", src, "GET", "apple").CombinedOutput()
		if got, _ := runCli("-c", "-p", src, "GET", "apple"); got != string(want) {
			t.Fatalf("redis-cli -c: %q, redgo cli -c: %q", want, got)
		}
	}
	for _, port := range []string{src, dst} {
		if out, _ := runCli("-p", port, "CLUSTER", "SETSLOT", "7092", "NODE", strings.TrimSpace(dstID)); out != "OK\n" {
			t.Fatalf("setslot node on %s: %q", port, out)
		}
	}
}

// start, create, watch, call, tail, stop and clean on a 3+3 redgo
// cluster, with the errors a person meets on the way.
func TestLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 6-node cluster")
	}
	l := lctest.Layout(t, 21001)
	l = lctest.Start(t, l)
	checkEveryMaster(t, l)
	checkRedirections(t, l)

	var out bytes.Buffer
	err := localcluster.Create(l, &out)
	if err == nil || !strings.Contains(err.Error(), "is not empty") || !strings.Contains(err.Error(), "redgo cluster clean") {
		t.Fatalf("create twice: %v", err)
	}
	err = localcluster.Start(l, lctest.Binary(t), &out)
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("start twice: %v", err)
	}
	if err := localcluster.Clean(l, &out); err == nil || !strings.Contains(err.Error(), "redgo cluster stop") {
		t.Fatalf("clean while running: %v", err)
	}

	view := localcluster.Snapshot(l, time.Now())
	if strings.Count(view, " master ") != 3 || strings.Count(view, " replica ") != 3 ||
		!strings.Contains(view, "cluster_state:ok") || !strings.Contains(view, "0-5460 (5461)") {
		t.Fatalf("watch:\n%s", view)
	}
	out.Reset()
	if err := localcluster.Watch(context.Background(), l, &out, localcluster.WatchOptions{Count: 2, Interval: 1, TTY: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "\x1b[H\x1b[2J") != 2 {
		t.Fatalf("watch on a terminal redraws in place:\n%q", out.String())
	}

	out.Reset()
	if err := localcluster.Tail(context.Background(), l, []int{l.PortBase}, 3, false, &out); err != nil ||
		strings.Count(out.String(), "\n") != 3 {
		t.Fatalf("tail: %v\n%s", err, out.String())
	}

	out.Reset()
	if err := localcluster.Stop(l, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "Stopping") != 6 {
		t.Fatalf("stop:\n%s", out.String())
	}
	err = localcluster.Create(l, &out)
	if !errors.Is(err, localcluster.ErrUnreachable) || !strings.Contains(err.Error(), "redgo cluster start") {
		t.Fatalf("create on stopped nodes: %v", err)
	}
	out.Reset()
	if err := localcluster.CleanLogs(l, &out); err != nil || strings.Count(out.String(), "Cleaning") != 6 {
		t.Fatalf("clean-logs: %v\n%s", err, out.String())
	}
	if err := localcluster.Clean(l, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.NodeDir(l.PortBase)); !os.IsNotExist(err) {
		t.Fatalf("node directory left: %v", err)
	}
}

// The same commands build a cluster of redis-server nodes: they speak
// the protocol, not a private dialect.
func TestCreateWithRedisServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 6-node cluster")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not installed but REDGO_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not installed: skipped")
	}
	l := lctest.Layout(t, 21011)
	l.ServerBin = bin
	l = lctest.Start(t, l)
	checkEveryMaster(t, l)
	view := localcluster.Snapshot(l, time.Now())
	if strings.Count(view, " master ") != 3 || strings.Count(view, " replica ") != 3 {
		t.Fatalf("watch:\n%s", view)
	}
}
