// Package lctest starts local clusters of real redgo processes for
// tests: it builds cmd/redgo once per test binary, starts and creates a
// cluster in a temporary directory on the ports a test names (each test
// package uses its own range in 43000-43999, bus ports +10000), and
// stops every node when the test ends.
package lctest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"redgo/internal/localcluster"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/redgo once and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "redgo-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "redgo")
		out, err := exec.Command("go", "build", "-o", binPath, "redgo/cmd/redgo").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Layout is a 3+3 layout from port base in a fresh temporary directory,
// with a short node timeout so failovers are quick.
func Layout(t testing.TB, base int) localcluster.Layout {
	l := localcluster.DefaultLayout()
	l.Dir, l.PortBase, l.NodeTimeout = t.TempDir(), base, 2000
	return l
}

// Start starts and creates the cluster of l, and stops it when the test
// ends; the log of every node is shown if the test failed. Tests pick
// bases from 21000 to 22700, so that client and bus ports (+10000) lie
// below the kernel's ephemeral range (32768-60999) where connections
// come and go; still, Start moves the cluster to the next free ports
// after l.PortBase when one is held, so it returns the layout it used.
func Start(t testing.TB, l localcluster.Layout) localcluster.Layout {
	t.Helper()
	bin := Binary(t)
	for try := 1; ; try++ {
		l.PortBase = FreeBase(t, l)
		lc := l
		t.Cleanup(func() { Cleanup(t, lc) })
		err := localcluster.Start(l, bin, io.Discard)
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		t.Logf("try %d: %v", try, err)
		localcluster.Stop(l, io.Discard)
		for _, port := range l.Ports() {
			os.RemoveAll(l.NodeDir(port))
		}
		l.PortBase += l.Nodes
	}
	if err := localcluster.Create(l, io.Discard); err != nil {
		t.Fatal(err)
	}
	return l
}

// FreeBase is the first base from l.PortBase on (within 100 ports)
// whose client and bus ports can all be bound now.
func FreeBase(t testing.TB, l localcluster.Layout) int {
	for base := l.PortBase; base < l.PortBase+100; base++ {
		free := true
		for i := 0; i < l.Nodes && free; i++ {
			for _, p := range []int{base + i, base + i + 10000} {
				ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
				if err != nil {
					free = false
					break
				}
				ln.Close()
			}
		}
		if free {
			return base
		}
	}
	t.Fatalf("no free ports from %d", l.PortBase)
	return 0
}

// Cleanup stops every node of l that still runs (SIGKILL if it does
// not stop), and prints the logs' tails when the test failed.
func Cleanup(t testing.TB, l localcluster.Layout) {
	if t.Failed() {
		for _, port := range l.Ports() {
			b, _ := os.ReadFile(l.LogPath(port))
			lines := strings.Split(string(b), "\n")
			t.Logf("log of %d:\n%s", port, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	}
	localcluster.Stop(l, io.Discard)
	for _, port := range l.Ports() {
		if pid := Pid(l, port); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Pid is the pid of the node on port, 0 if it does not run.
func Pid(l localcluster.Layout, port int) int {
	b, err := os.ReadFile(l.PidPath(port))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

// Kill9 kills the node on port outright.
func Kill9(t testing.TB, l localcluster.Layout, port int) {
	t.Helper()
	pid := Pid(l, port)
	if pid == 0 {
		t.Fatalf("node %d is not running", port)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
}
