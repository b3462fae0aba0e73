package commands

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"redgo/internal/resp"
)

// The oracle is a real redis-server started for this package's tests when
// the binary is installed. Differential tests send the same commands to it
// and to redgo's handlers and compare the replies.

var oracleAddr string

func TestMain(m *testing.M) {
	stop := startOracle()
	code := m.Run()
	stop()
	os.Exit(code)
}

func startOracle() func() {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return func() {}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return func() {}
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, _ := os.MkdirTemp("", "redgo-oracle")
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--enable-debug-command", "yes")
	if err := cmd.Start(); err != nil {
		return func() {}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			oracleAddr = addr
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
}

// oracle is a connection to the real redis-server.
type oracle struct {
	c net.Conn
	r *bufio.Reader
}

// newOracle connects to the oracle and flushes it; it skips the test when
// redis-server is not installed (fails under REDGO_REQUIRE_REDIS).
func newOracle(t *testing.T) *oracle {
	t.Helper()
	if oracleAddr == "" {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not found and REDGO_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not installed: differential test skipped")
	}
	c, err := net.Dial("tcp", oracleAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	o := &oracle{c: c, r: bufio.NewReader(c)}
	o.do("FLUSHALL")
	return o
}

func (o *oracle) do(args ...string) resp.Value {
	var w resp.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	o.c.Write(w.Buf)
	v, err := resp.ReadValue(o.r)
	if err != nil {
		panic(err)
	}
	return v
}

// diff runs each command (one per line, split like redis-cli input) on both
// redgo's handlers and redis-server, failing on the first different reply.
func diff(t *testing.T, script string) {
	t.Helper()
	e := newEnv(t)
	o := newOracle(t)
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bargs, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			t.Fatalf("bad script line %q", line)
		}
		args := make([]string, len(bargs))
		for i, a := range bargs {
			args[i] = string(a)
		}
		got, want := e.do(args...), o.do(args...)
		if got.String() != want.String() || got.Type != want.Type {
			t.Errorf("%s\n  redgo: %c %s\n  redis: %c %s", line, got.Type, got, want.Type, want)
		}
	}
}
