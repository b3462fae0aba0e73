package test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func dial(t *testing.T, port int) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// expectClosed reads the reply line, checks it, then checks the server
// closed the connection.
func expectErrorThenClose(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	if strings.TrimRight(line, "\r\n") != want {
		t.Fatalf("reply %q, want %q", line, want)
	}
	if _, err := r.ReadByte(); err != io.EOF && !strings.Contains(fmt.Sprint(err), "reset by peer") {
		t.Fatalf("connection not closed after protocol error (err %v)", err)
	}
}

// TestProtocolErrors sends malformed requests: each gets Redis's error and
// its connection is closed, while another client is served throughout.
func TestProtocolErrors(t *testing.T) {
	s := startRedgo(t, "--proto-max-bulk-len", "1mb", "--client-query-buffer-limit", "1mb")
	port := s.Port()
	other, otherR := dial(t, port)
	cases := []struct{ in, want string }{
		{"*abc\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"*1073741825\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'"},
		{"*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length"},
		{"*1\r\n$2000000\r\n", "-ERR Protocol error: invalid bulk length"},
		{"SET \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request"},
		{strings.Repeat("x", 70000), "-ERR Protocol error: too big inline request"},
	}
	for _, tc := range cases {
		c, r := dial(t, port)
		c.Write([]byte(tc.in))
		expectErrorThenClose(t, r, tc.want)
		// The rest of the server is unaffected.
		other.Write([]byte("PING\r\n"))
		if l, _ := otherR.ReadString('\n'); l != "+PONG\r\n" {
			t.Fatalf("other client got %q", l)
		}
	}
	// A query buffer over the limit: a command with a huge argument count
	// whose arguments keep coming.
	c2, r2 := dial(t, port)
	go func() {
		c2.Write([]byte("*1000000\r\n"))
		chunk := []byte("$1000\r\n" + strings.Repeat("a", 1000) + "\r\n")
		for i := 0; i < 3000; i++ {
			if _, err := c2.Write(chunk); err != nil {
				return
			}
		}
	}()
	expectErrorThenClose(t, r2, "-ERR Protocol error: query buffer limit exceeded")
	other.Write([]byte("PING\r\n"))
	if l, _ := otherR.ReadString('\n'); l != "+PONG\r\n" {
		t.Fatalf("other client got %q", l)
	}
}

// TestPipelineOrder sends many commands in one write and checks every reply
// arrives in order.
func TestPipelineOrder(t *testing.T) {
	s := startRedgo(t)
	c, r := dial(t, s.Port())
	var b strings.Builder
	const n = 10000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n", len(strconv.Itoa(i)), i)
	}
	go c.Write([]byte(b.String()))
	for i := 0; i < n; i++ {
		if l, _ := r.ReadString('\n'); l != fmt.Sprintf("$%d\r\n", len(strconv.Itoa(i))) {
			t.Fatalf("reply %d header %q", i, l)
		}
		if l, _ := r.ReadString('\n'); l != strconv.Itoa(i)+"\r\n" {
			t.Fatalf("reply %d = %q", i, l)
		}
	}
}

// TestBigArgument sends a 5 MB value in small pieces.
func TestBigArgument(t *testing.T) {
	s := startRedgo(t)
	c, r := dial(t, s.Port())
	val := strings.Repeat("v", 5<<20)
	req := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n", len(val), val)
	go func() {
		for i := 0; i < len(req); i += 7000 {
			end := min(i+7000, len(req))
			c.Write([]byte(req[i:end]))
		}
	}()
	if l, _ := r.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("SET reply %q", l)
	}
	if l, _ := r.ReadString('\n'); l != fmt.Sprintf(":%d\r\n", len(val)) {
		t.Fatalf("STRLEN reply %q", l)
	}
}

// TestRedisBenchmark runs redis-benchmark's standard tests against redgo to
// the end: any error reply makes redis-benchmark print it.
func TestRedisBenchmark(t *testing.T) {
	bin := need(t, "redis-benchmark")
	s := startRedgo(t)
	cmd := exec.Command(bin, "-p", strconv.Itoa(s.Port()), "-n", "2000", "-c", "10", "-q",
		"-t", "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange,mset")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	text := string(out)
	for _, test := range []string{"SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET", "SPOP",
		"ZADD", "ZPOPMIN", "LRANGE_100", "LRANGE_600", "MSET"} {
		if !strings.Contains(text, test+": ") && !strings.Contains(text, test+" (") {
			t.Errorf("no result for %s", test)
		}
	}
	if strings.Contains(text, "ERR") || strings.Contains(text, "WRONGTYPE") {
		t.Errorf("errors in output:\n%s", text)
	}
}
