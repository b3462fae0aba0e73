package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"redgo/internal/localcluster"
	"redgo/internal/localcluster/lctest"
)

// tutorialScript is every sh block of the README between the tutorial
// markers, with the ports 30001-30007 moved to base+0..6.
func tutorialScript(t *testing.T, base int) string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, "<!-- tutorial:begin -->"), strings.Index(text, "<!-- tutorial:end -->")
	if i < 0 || j < i {
		t.Fatal("README.md has no tutorial markers")
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text[i:j], -1)
	if len(blocks) < 6 {
		t.Fatalf("only %d sh blocks in the tutorial", len(blocks))
	}
	var script strings.Builder
	script.WriteString("set -ex\n")
	for _, m := range blocks {
		script.WriteString(m[1])
	}
	return regexp.MustCompile(`\b3000([1-7])\b`).ReplaceAllStringFunc(script.String(), func(p string) string {
		return strconv.Itoa(base + int(p[4]-'1'))
	})
}

// Every command of the README's tutorial, in order, in an empty
// directory, with the built binary on PATH: create, use, fail over with
// the consistency test running, restart, reshard, add and remove a node,
// stop, clean.
func TestReadmeTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster through the whole tutorial")
	}
	bin := redgoBinary(t)
	var out []byte
	var dir string
	var l localcluster.Layout
	for try := 1; ; try++ {
		// Another program may hold a port of ours for good: each try
		// moves to other ports.
		probe := localcluster.DefaultLayout()
		probe.PortBase, probe.Nodes = 21201+10*(try-1), 7 // the tutorial adds a seventh node
		base := lctest.FreeBase(t, probe)
		dir = t.TempDir()
		script := tutorialScript(t, base)
		l = localcluster.DefaultLayout()
		l.Dir, l.PortBase = filepath.Join(dir, "redgo-cluster"), base
		t.Cleanup(func() { cleanupTutorial(t, l) })
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "HOME="+dir,
			"REDGO_CLUSTER_PORT_BASE="+strconv.Itoa(base))
		var err error
		out, err = cmd.CombinedOutput()
		cancel()
		if err == nil {
			break
		}
		if try == 3 || !portTaken(out) {
			t.Fatalf("%v\n%s", err, out)
		}
		t.Logf("try %d: a port was taken by another program; again on other ports", try)
		cleanupTutorial(t, l)
	}
	ct, _ := os.ReadFile(filepath.Join(dir, "consistency.log"))
	if !strings.Contains(string(ct), "| 0 lost |") || !strings.Contains(string(ct), "no acknowledged write was lost") {
		t.Fatalf("consistency.log:\n%s", ct)
	}
	if _, err := os.Stat(l.Dir); !os.IsNotExist(err) {
		t.Errorf("redgo cluster clean left %s", l.Dir)
	}
	t.Logf("tutorial output:\n%s", out)
}

// cleanupTutorial stops the tutorial's nodes, the added seventh too.
func cleanupTutorial(t *testing.T, l localcluster.Layout) {
	lctest.Cleanup(t, l)
	if b, err := os.ReadFile(filepath.Join(l.Dir, strconv.Itoa(l.PortBase+6), "pid")); err == nil {
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// The README's first command: cluster up starts 3 masters + 3 replicas,
// every master takes keys through redgo cli -c, Ctrl-C stops every node.
func TestClusterUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster")
	}
	var cmd *exec.Cmd
	var stdout io.Reader
	var base int
	for try := 1; ; try++ {
		var errw bytes.Buffer
		var ready bool
		probe := localcluster.DefaultLayout()
		probe.PortBase = 21241 + 10*(try-1) // other ports at each try, as above
		base = lctest.FreeBase(t, probe)
		cmd, stdout, ready = startUp(t, base, &errw)
		if ready {
			break
		}
		cmd.Wait()
		if try == 3 || !portTaken(errw.Bytes()) {
			t.Fatalf("no ready line; stderr:\n%s", errw.String())
		}
		t.Logf("try %d: a port was taken by another program; again", try)
	}
	for _, key := range []string{"bar", "counter", "foo"} { // slots 5061, 6680, 12182: one per master
		set, _ := exec.Command(redgoBinary(t), "cli", "-c", "-p", strconv.Itoa(base), "set", key, "v").CombinedOutput()
		get, _ := exec.Command(redgoBinary(t), "cli", "-c", "-p", strconv.Itoa(base), "get", key).CombinedOutput()
		if string(set) != "OK\n" || string(get) != "v\n" {
			t.Fatalf("%s: set %q get %q", key, set, get)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	if err := cmd.Wait(); err != nil || !strings.Contains(string(rest), "All nodes stopped.") {
		t.Fatalf("exit %v, output %q", err, rest)
	}
}

// startUp runs redgo cluster up in a fresh directory and reads its
// output up to the ready line; ready is false if it exited first.
func startUp(t *testing.T, base int, errw *bytes.Buffer) (*exec.Cmd, io.Reader, bool) {
	dir := t.TempDir()
	cmd := exec.Command(redgoBinary(t), "cluster", "up", "--dir", dir, "--port-base", strconv.Itoa(base))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := localcluster.DefaultLayout()
	l.Dir, l.PortBase = dir, base
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); lctest.Cleanup(t, l) })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "Cluster ready: 3 masters, 3 replicas") {
			return cmd, stdout, true
		}
	}
	return cmd, stdout, false
}

// portTaken says whether a run failed because a port was in use: ports
// 43000-43999 and their bus ports lie in the kernel's ephemeral range,
// where other programs' connections come and go.
func portTaken(out []byte) bool { return bytes.Contains(out, []byte("address already in use")) }
