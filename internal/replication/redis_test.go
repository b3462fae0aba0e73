package replication

// Oracle tests against a real redis-server (7.0.15 when written): skipped
// when redis-server is not installed.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/aof"
)

// startRedis runs redis-server on a free port and returns its port.
func startRedis(t *testing.T, args ...string) int {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping the comparison with Redis")
	}
	port := freePort(t)
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir()}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 5*time.Second, func() error {
		c, err := net.Dial("tcp", addrOf(port))
		if err == nil {
			c.Close()
		}
		return err
	})
	return port
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func addrOf(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// waitFor polls fn until it returns nil or the time is up.
func waitFor(t *testing.T, total time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder keeps the bytes that went one way through the proxy.
type recorder struct {
	mu  sync.Mutex
	buf []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf = append(r.buf, p...)
	r.mu.Unlock()
	return len(p), nil
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf...)
}

// proxy forwards the first connection to its port to target and records
// both directions: what the replica sent (up) and what the master sent
// (down).
func proxy(t *testing.T, target int) (port int, up, down *recorder) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	up, down = &recorder{}, &recorder{}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		m, err := net.Dial("tcp", addrOf(target))
		if err != nil {
			c.Close()
			return
		}
		t.Cleanup(func() { c.Close(); m.Close() })
		go io.Copy(io.MultiWriter(m, up), c)
		io.Copy(io.MultiWriter(c, down), m)
	}()
	return ln.Addr().(*net.TCPAddr).Port, up, down
}

// redisCmd sends one command over a fresh connection and returns the
// first reply line (without CRLF); "" after a second without a reply.
func redisCmd(t *testing.T, port int, args ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.Write([]byte(b.String()))
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

// infoField returns one field of INFO replication.
func infoField(t *testing.T, port int, field string) string {
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("INFO replication\r\n"))
	r := bufio.NewReader(c)
	head, _ := r.ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	body := make([]byte, n+2)
	io.ReadFull(r, body)
	for _, l := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// TestREPLCONFRepliesMatchRedis sends each REPLCONF (as a client that is
// not a replica) to redis-server and compares its reply with ours; for
// ACK and GETACK, which get none, a PING follows and must be answered
// first.
func TestREPLCONFRepliesMatchRedis(t *testing.T) {
	port := startRedis(t)
	for _, args := range [][]string{
		{}, {"listening-port", "6380"}, {"listening-port", "abc"}, {"listening-port", "-5"},
		{"listening-port", "99999999999999999999"}, {"capa"}, {"capa", "eof", "capa", "psync2", "capa", "x"},
		{"foo", "bar"}, {"LISTENING-PORT", "1", "foo", "bar"}, {"rdb-only", "2"}, {"rdb-only", "x"},
		{"rdb-only", "0"}, {"rdb-filter-only", "bogus"}, {"rdb-filter-only", "functions"},
		{"rdb-filter-only", ""}, {"ip-address", strings.Repeat("a", 256)}, {"ip-address", strings.Repeat("a", 255)},
		{"ack", "5"}, {"ack", "x"}, {"getack", "*"}, {"ack", "5", "fack", "3"},
	} {
		_, want := ParseREPLCONF(cmd(args...), false)
		got := redisLines(t, port, 1, append([]string{"REPLCONF"}, args...), []string{"PING"})
		if want == "" {
			want = "+PONG"
		}
		if got[0] != want {
			t.Errorf("REPLCONF %.40q: redis %q, ours %q", args, got[0], want)
		}
	}
	// PSYNC's offset.
	_, want, _ := ParsePSYNC(cmd("abc", "x"), "")
	if got := redisLines(t, port, 1, []string{"PSYNC", "abc", "x"}); got[0] != want {
		t.Errorf("PSYNC abc x: redis %q, ours %q", got[0], want)
	}
}

// redisLines sends commands on one connection and reads n reply lines.
func redisLines(t *testing.T, port, n int, cmds ...[]string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b []byte
	for _, a := range cmds {
		b = aof.AppendCommandStrings(b, a...)
	}
	c.Write(b)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	var out []string
	for i := 0; i < n; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v", cmds, err)
		}
		out = append(out, strings.TrimRight(line, "\r\n"))
	}
	return out
}
