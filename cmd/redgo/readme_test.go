package main

import (
	"bufio"
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
	const base = 43201
	bin := redgoBinary(t)
	dir := t.TempDir()
	script := tutorialScript(t, base)
	l := localcluster.DefaultLayout()
	l.Dir, l.PortBase = filepath.Join(dir, "redgo-cluster"), base
	t.Cleanup(func() {
		lctest.Cleanup(t, l)
		if b, err := os.ReadFile(filepath.Join(l.Dir, strconv.Itoa(base+6), "pid")); err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "HOME="+dir,
		"REDGO_CLUSTER_PORT_BASE="+strconv.Itoa(base))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
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

// The README's first command: cluster up starts 3 masters + 3 replicas,
// every master takes keys through redgo cli -c, Ctrl-C stops every node.
func TestClusterUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster")
	}
	const base = 43221
	dir := t.TempDir()
	cmd := exec.Command(redgoBinary(t), "cluster", "up", "--dir", dir, "--port-base", strconv.Itoa(base))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := localcluster.DefaultLayout()
	l.Dir, l.PortBase = dir, base
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); lctest.Cleanup(t, l) })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "Cluster ready") {
	}
	if !strings.HasPrefix(lines.Text(), "Cluster ready: 3 masters, 3 replicas") {
		t.Fatalf("no ready line: %q", lines.Text())
	}
	for _, key := range []string{"bar", "counter", "foo"} { // slots 5061, 6680, 12182: one per master
		set, _ := exec.Command(redgoBinary(t), "cli", "-c", "-p", strconv.Itoa(base), "set", key, "v").CombinedOutput()
		get, _ := exec.Command(redgoBinary(t), "cli", "-c", "-p", strconv.Itoa(base), "get", key).CombinedOutput()
		if string(set) != "OK\n" || string(get) != "v\n" {
			t.Fatalf("%s: set %q get %q", key, set, get)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(stdout)
	if err := cmd.Wait(); err != nil || !strings.Contains(string(rest), "All nodes stopped.") {
		t.Fatalf("exit %v, output %q", err, rest)
	}
}
