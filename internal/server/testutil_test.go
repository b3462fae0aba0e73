package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"redgo/internal/config"
	"redgo/internal/rdb/rdbtest"
	"redgo/internal/resp"
)

// startServer runs a redgo server on 127.0.0.1 with a free port and
// returns it with a go-redis client (RESP3, as go-redis defaults to).
// Extra arguments are directives: "--enable-debug-command", "yes".
func startServer(t testing.TB, args ...string) (*Server, *redis.Client) {
	t.Helper()
	return startServerConf(t, "", args...)
}

// startServerConf is startServer with a config file (path; "" for none)
// read before the arguments, as redis-server <path> --name value.
func startServerConf(t testing.TB, path string, args ...string) (*Server, *redis.Client) {
	t.Helper()
	// Files (a replica's received snapshot, SAVE) go to a directory of
	// the test's own unless args name one.
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--dir", t.TempDir()}, args...)
	cfg, err := config.Load(path, all)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Log.SetOutput(io.Discard)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, goRedis(t, s.Addr().String())
}

func goRedis(t testing.TB, addr string) *redis.Client {
	rc := redis.NewClient(&redis.Options{
		Addr:                     addr,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { rc.Close() })
	return rc
}

var ctx = context.Background()

// quietLogger silences go-redis's pool messages (servers stop mid-test).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietLogger{}) }

// rawConn is a plain RESP connection that keeps the exact reply bytes.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	rec  recorder
	r    *bufio.Reader
}

type recorder struct {
	conn net.Conn
	buf  bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.conn.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawConn{t: t, conn: conn}
	rc.rec.conn = conn
	rc.r = bufio.NewReaderSize(&rc.rec, 1<<20)
	return rc
}

// send writes one command without reading its reply.
func (c *rawConn) send(args ...string) {
	c.t.Helper()
	if err := c.trySend(args...); err != nil {
		c.t.Fatal(err)
	}
}

// trySend is send for a connection the server may close (an evicted
// client): it returns the write's error.
func (c *rawConn) trySend(args ...string) error {
	var w resp.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	_, err := c.conn.Write(w.Buf)
	return err
}

// read reads one reply and returns it with its exact bytes.
func (c *rawConn) read() (resp.Value, []byte) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	before := c.rec.buf.Len() - c.r.Buffered()
	v, err := resp.ReadValue(c.r)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	end := c.rec.buf.Len() - c.r.Buffered()
	raw := append([]byte(nil), c.rec.buf.Bytes()[before:end]...)
	return v, raw
}

// do sends a command and returns its reply and exact bytes.
func (c *rawConn) do(args ...string) (resp.Value, []byte) {
	c.t.Helper()
	c.send(args...)
	return c.read()
}

// startRedis runs a real redis-server on a free port (the oracle) and
// returns its address; the test is skipped when redis-server is missing.
func startRedis(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping the comparison with Redis")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir(), "--enable-debug-command", "yes"}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// oracle runs each command on redgo and on redis-server over fresh raw
// connections (one per side, RESP proto 2 unless the script says HELLO 3)
// and reports every reply that differs. A command name starting with "~"
// is run on both without comparing the replies.
func oracle(t *testing.T, redgoAddr, redisAddr string, script [][]string) {
	t.Helper()
	a, b := dialRaw(t, redgoAddr), dialRaw(t, redisAddr)
	for _, cmd := range script {
		skip := strings.HasPrefix(cmd[0], "~") // run only: replies differ by nature
		if skip {
			cmd = append([]string{cmd[0][1:]}, cmd[1:]...)
		}
		va, _ := a.do(cmd...)
		vb, _ := b.do(cmd...)
		if len(cmd) > 1 && strings.EqualFold(cmd[0], "config") && strings.EqualFold(cmd[1], "get") {
			sortPairs(&va)
			sortPairs(&vb) // Redis lists them in hash table order
		}
		if !skip && !reflect.DeepEqual(va, vb) {
			t.Errorf("%q:\n redgo: %v\n redis: %v", cmd, va, vb)
		}
	}
}

// sortPairs orders a map reply (or its RESP2 flat array) by key.
func sortPairs(v *resp.Value) {
	type kv struct{ k, v resp.Value }
	var pairs []kv
	for i := 0; i+1 < len(v.Elems); i += 2 {
		pairs = append(pairs, kv{v.Elems[i], v.Elems[i+1]})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].k.Str < pairs[j].k.Str })
	for i, p := range pairs {
		v.Elems[2*i], v.Elems[2*i+1] = p.k, p.v
	}
}

// eventually polls fn until it returns nil or the time is up.
func eventually(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	rdbtest.Eventually(t, total, fn)
}

func hasRedisCli() bool {
	_, err := exec.LookPath("redis-cli")
	return err == nil
}

// redisCli runs the real redis-cli against addr with args.
func redisCli(t *testing.T, addr string, stdin string, args ...string) string {
	t.Helper()
	if !hasRedisCli() {
		t.Skip("redis-cli not installed: skipping the redis-cli part")
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Stdin = bytes.NewBufferString(stdin)
	cmd.Env = append(os.Environ(), "REDISCLI_HISTFILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %q: %v\n%s", args, err, out)
	}
	return string(out)
}
