// Package test drives a redgo server from the outside, through its TCP
// port, with the real redis-cli, redis-benchmark and go-redis, and compares
// against a real redis-server where one is installed. Set
// REDGO_REQUIRE_REDIS=1 (CI does) to fail instead of skipping when the
// Redis tools are missing.
package test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/config"
	"redgo/internal/rdb/rdbtest"
	"redgo/internal/server"
)

// startRedgo runs an in-process redgo server on a free port.
func startRedgo(t testing.TB, args ...string) *server.Server {
	t.Helper()
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--enable-debug-command", "yes"}, args...)
	cfg, err := config.Load("", all)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Log.SetOutput(io.Discard)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s
}

// need skips (or fails under REDGO_REQUIRE_REDIS) when a tool is missing.
func need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatalf("%s not installed but REDGO_REQUIRE_REDIS is set", tool)
		}
		t.Skipf("%s not installed (apt-get install redis-server redis-tools): skipped", tool)
	}
	return p
}

// startRedis runs a real redis-server on a free port.
func startRedis(t testing.TB, args ...string) int {
	t.Helper()
	bin := need(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir,
		"--enable-debug-command", "yes"}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, 5*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err
	})
	return port
}

// eventually polls fn until it returns nil or the time is up.
func eventually(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	rdbtest.Eventually(t, total, fn)
}

// cli runs redis-cli against port with the script on stdin (one command
// per line) and returns its output.
func cli(t testing.TB, port int, script string, extra ...string) string {
	t.Helper()
	bin := need(t, "redis-cli")
	args := append([]string{"-p", strconv.Itoa(port)}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("redis-cli hung on script:\n%s", script)
	}
	return out.String()
}

func portOf(s *server.Server) int { return s.Port() }
