package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clientLineRE is the CLIENT LIST line as Redis 7.0 formats it (the
// pattern of Redis's own introspection test, with every field).
var clientLineRE = regexp.MustCompile(`^id=[0-9]+ addr=127\.0\.0\.1:[0-9]+ laddr=127\.0\.0\.1:[0-9]+ fd=[0-9]+ ` +
	`name=\S* age=[0-9]+ idle=[0-9]+ flags=[A-Za-z]+ db=[0-9]+ sub=[0-9]+ psub=[0-9]+ ssub=[0-9]+ multi=-?[0-9]+ ` +
	`qbuf=[0-9]+ qbuf-free=[0-9]+ argv-mem=[0-9]+ multi-mem=[0-9]+ rbs=[0-9]+ rbp=[0-9]+ obl=[0-9]+ oll=[0-9]+ ` +
	`omem=[0-9]+ tot-mem=[0-9]+ events=rw? cmd=\S+ user=default redir=-1 resp=[23]$`)

func fieldNames(line string) string {
	var names []string
	for _, f := range strings.Fields(line) {
		k, _, _ := strings.Cut(f, "=")
		names = append(names, k)
	}
	return strings.Join(names, " ")
}

func clientField(line, name string) string {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == name {
			return v
		}
	}
	return "?"
}

func TestClientListFormat(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	va, _ := a.do("CLIENT", "INFO")
	vb, _ := b.do("CLIENT", "INFO")
	if fieldNames(va.Str) != fieldNames(vb.Str) {
		t.Errorf("CLIENT INFO fields:\n redgo %s\n redis %s", fieldNames(va.Str), fieldNames(vb.Str))
	}
	line := strings.TrimSuffix(va.Str, "\n")
	if !clientLineRE.MatchString(line) || !strings.HasSuffix(va.Str, "\n") {
		t.Fatalf("CLIENT INFO = %q", va.Str)
	}
	// As Redis's introspection test checks it.
	for k, want := range map[string]string{"flags": "N", "db": "0", "sub": "0", "psub": "0", "multi": "-1",
		"qbuf": "26", "argv-mem": "10", "obl": "0", "oll": "0", "omem": "0", "cmd": "client|info", "resp": "2"} {
		if got := clientField(line, k); got != want {
			t.Errorf("CLIENT INFO %s=%s, want %s (redis: %s)", k, got, want, clientField(vb.Str, k))
		}
	}

	// Another connection's state as seen from here.
	other := dialRaw(t, s.Addr().String())
	other.do("CLIENT", "SETNAME", "worker")
	other.do("SELECT", "5")
	other.do("MULTI")
	other.do("SET", "k", "v")
	other.do("HELLO", "3") // queued too
	sub := dialRaw(t, s.Addr().String())
	sub.do("SUBSCRIBE", "c1", "c2")
	sub.read()
	sub.do("CLIENT", "NO-EVICT", "on") // rejected in pub/sub context, still a command
	idOther := strings.TrimPrefix(strings.Fields(clientLine(t, a, "worker"))[0], "id=")
	lst, _ := a.do("CLIENT", "LIST")
	lines := strings.Split(strings.TrimSuffix(lst.Str, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("CLIENT LIST has %d lines:\n%s", len(lines), lst.Str)
	}
	for _, l := range lines {
		if !clientLineRE.MatchString(l) {
			t.Errorf("bad line %q", l)
		}
	}
	w := clientLine(t, a, "worker")
	for k, want := range map[string]string{"flags": "x", "db": "5", "multi": "2", "cmd": "hello", "name": "worker"} {
		if got := clientField(w, k); got != want {
			t.Errorf("worker %s=%s, want %s", k, got, want)
		}
	}
	ps, _ := a.do("CLIENT", "LIST", "TYPE", "pubsub")
	if clientField(ps.Str, "flags") != "P" || clientField(ps.Str, "sub") != "2" ||
		strings.Count(ps.Str, "\n") != 1 {
		t.Errorf("CLIENT LIST TYPE pubsub = %q", ps.Str)
	}
	byID, _ := a.do("CLIENT", "LIST", "ID", idOther, "99999")
	if clientField(byID.Str, "name") != "worker" || strings.Count(byID.Str, "\n") != 1 {
		t.Errorf("CLIENT LIST ID = %q", byID.Str)
	}
	n, _ := a.do("CLIENT", "LIST", "TYPE", "master")
	if n.Str != "" {
		t.Errorf("CLIENT LIST TYPE master = %q", n.Str)
	}
	other.do("EXEC")
	// A connection that sent nothing yet.
	dialRaw(t, s.Addr().String())
	eventually(t, 5*time.Second, func() error {
		v, _ := a.do("CLIENT", "LIST")
		for _, l := range strings.Split(strings.TrimSuffix(v.Str, "\n"), "\n") {
			if clientField(l, "cmd") == "NULL" {
				if clientField(l, "multi") != "-1" || clientField(l, "flags") != "N" || !clientLineRE.MatchString(l) {
					t.Errorf("fresh client line %q", l)
				}
				return nil
			}
		}
		return errorf("fresh client not listed")
	})
	a.do("CLIENT", "NO-EVICT", "on")
	if v, _ := a.do("CLIENT", "INFO"); clientField(v.Str, "flags") != "e" {
		t.Errorf("no-evict flags = %q", v.Str)
	}
}

// clientLine returns the CLIENT LIST line of the client named name.
func clientLine(t *testing.T, c *rawConn, name string) string {
	t.Helper()
	v, _ := c.do("CLIENT", "LIST")
	for _, l := range strings.Split(v.Str, "\n") {
		if clientField(l, "name") == name {
			return l
		}
	}
	t.Fatalf("no client %q in\n%s", name, v.Str)
	return ""
}

func TestClientErrorsMatchRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	oracle(t, s.Addr().String(), ra, [][]string{
		{"CLIENT", "KILL", "1.2.3.4:5"},
		{"CLIENT", "KILL", "ID", "abc"},
		{"CLIENT", "KILL", "ID", "0"},
		{"CLIENT", "KILL", "ID", "99999"},
		{"CLIENT", "KILL", "TYPE", "foo"},
		{"CLIENT", "KILL", "USER", "foo"},
		{"CLIENT", "KILL", "USER", "default", "SKIPME", "maybe"},
		{"CLIENT", "KILL", "ADDR", "1.2.3.4:5"},
		{"CLIENT", "KILL", "foo", "bar"},
		{"CLIENT", "KILL", "ID"},
		{"CLIENT", "KILL", "ID", "1", "TYPE"},
		{"CLIENT", "KILL", "LADDR", "1.1.1.1:1", "ID", "99999", "TYPE", "normal"},
		{"CLIENT", "KILL", "TYPE", "master"},
		{"CLIENT", "KILL", "TYPE", "slave"},
		{"CLIENT", "LIST", "TYPE", "foo"},
		{"CLIENT", "LIST", "ID", "abc"},
		{"CLIENT", "LIST", "ID", "1", "x"},
		{"CLIENT", "LIST", "ID"},
		{"CLIENT", "LIST", "foo"},
		{"CLIENT", "LIST", "TYPE", "normal", "ID", "9999"},
		{"CLIENT", "LIST", "ID", "9999"},
		{"CLIENT", "PAUSE", "abc"},
		{"CLIENT", "PAUSE", "-1"},
		{"CLIENT", "PAUSE", "10", "foo"},
		{"CLIENT", "PAUSE", "0"},
		{"CLIENT", "PAUSE", "1", "2", "3"},
		{"CLIENT", "UNPAUSE"},
		{"CLIENT", "REPLY", "foo"},
		{"CLIENT", "NO-EVICT", "foo"},
		{"CLIENT", "NO-EVICT", "off"},
		{"CLIENT", "UNBLOCK", "abc"},
		{"CLIENT", "UNBLOCK", "1", "foo"},
		{"CLIENT", "UNBLOCK", "99999"},
		{"CLIENT", "UNBLOCK", "99999", "error"},
		{"CLIENT", "UNBLOCK", "1", "2", "3"},
		{"CLIENT", "SETNAME", "a b"},
		{"CLIENT", "SETNAME", "a\nb"},
		{"CLIENT", "GETNAME"},
		{"CLIENT", "SETNAME", "foo"},
		{"CLIENT", "GETNAME"},
		{"CLIENT", "SETNAME", ""},
		{"CLIENT", "GETNAME"},
		{"CLIENT", "SETNAME"},
		{"CLIENT", "TRACKING", "off"},
		{"CLIENT", "TRACKING", "foo"},
		{"CLIENT", "CACHING", "yes"},
		{"CLIENT", "GETREDIR"},
		{"CLIENT", "TRACKINGINFO"},
		{"CLIENT", "HELP"},
		{"CLIENT", "foo"},
		{"CLIENT"},
		{"~HELLO", "3"},
		{"CLIENT", "TRACKINGINFO"},
		{"CLIENT", "GETNAME"},
		{"CLIENT", "LIST", "ID", "9999"},
	})
}

func TestClientIDNameSetinfo(t *testing.T) {
	s, rc := startServer(t)
	id, err := rc.ClientID(ctx).Result()
	if err != nil || id <= 0 {
		t.Fatalf("CLIENT ID = %d %v", id, err)
	}
	c := dialRaw(t, s.Addr().String())
	v, _ := c.do("CLIENT", "ID")
	if v.Int != id+1 {
		t.Errorf("second CLIENT ID = %d, want %d", v.Int, id+1)
	}
	if err := rc.Do(ctx, "CLIENT", "SETNAME", "myname").Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := rc.ClientGetName(ctx).Result(); n != "myname" {
		t.Errorf("GETNAME = %q", n)
	}
	// go-redis sent CLIENT SETINFO on connect; it must have succeeded.
	if e := infoField(t, rc.Info(ctx, "errorstats", "stats").Val(), "total_error_replies"); e != "0" {
		t.Errorf("connection setup produced %s error replies", e)
	}
	cc := c
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}, "OK"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "1.0"}, "OK"},
		{[]string{"CLIENT", "SETINFO", "lib-name", "a b"}, "ERR lib-name cannot contain spaces, newlines or special characters."},
		{[]string{"CLIENT", "SETINFO", "foo", "x"}, "ERR Unrecognized option 'foo'"},
		{[]string{"CLIENT", "NO-TOUCH", "on"}, "OK"},
	} {
		v, _ := cc.do(tc.args...)
		if v.Str != tc.want {
			t.Errorf("%q = %v, want %s", tc.args, v, tc.want)
		}
	}
	if v, _ := cc.do("CLIENT", "INFO"); clientField(v.Str, "flags") != "T" {
		t.Errorf("no-touch flags: %q", v.Str)
	}
	if v, _ := cc.do("COMMAND", "INFO", "client|setinfo"); len(v.Elems) != 1 || v.Elems[0].Elems[1].Int != -4 {
		t.Errorf("COMMAND INFO client|setinfo = %v", v)
	}
}

func TestClientReply(t *testing.T) {
	s, _ := startServer(t)
	c := dialRaw(t, s.Addr().String())
	c.send("CLIENT", "REPLY", "OFF")
	c.send("SET", "a", "1")
	c.send("GET", "a")
	c.send("NOSUCH")
	c.send("CLIENT", "REPLY", "ON")
	if v, _ := c.read(); v.Str != "OK" {
		t.Fatalf("after OFF..ON got %v, want OK", v)
	}
	c.send("CLIENT", "REPLY", "SKIP")
	c.send("INCR", "a") // reply dropped
	c.send("GET", "a")
	if v, _ := c.read(); v.Str != "2" {
		t.Fatalf("after SKIP got %v, want 2", v)
	}
	// SKIP then OFF then ON: only ON's OK.
	c.send("CLIENT", "REPLY", "SKIP")
	c.send("CLIENT", "REPLY", "OFF")
	c.send("PING")
	c.send("CLIENT", "REPLY", "ON")
	c.send("ECHO", "x")
	if v, _ := c.read(); v.Str != "OK" {
		t.Fatalf("got %v, want OK", v)
	}
	if v, _ := c.read(); v.Str != "x" {
		t.Fatalf("got %v, want x", v)
	}
}

func TestClientKill(t *testing.T) {
	s, rc := startServer(t)
	victim := dialRaw(t, s.Addr().String())
	victim.do("CLIENT", "SETNAME", "victim")
	me := dialRaw(t, s.Addr().String())
	line := clientLine(t, me, "victim")
	addr, id := clientField(line, "addr"), clientField(line, "id")

	// Old form.
	if v, _ := me.do("CLIENT", "KILL", addr); v.Str != "OK" {
		t.Fatalf("CLIENT KILL addr = %v", v)
	}
	victim.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := victim.r.ReadByte(); err == nil {
		t.Fatal("killed connection still open")
	}
	// New form by ID, then by TYPE with SKIPME.
	v2 := dialRaw(t, s.Addr().String())
	v2.do("CLIENT", "SETNAME", "v2")
	id = clientField(clientLine(t, me, "v2"), "id")
	if v, _ := me.do("CLIENT", "KILL", "ID", id); v.Int != 1 {
		t.Fatalf("CLIENT KILL ID = %v", v)
	}
	eventually(t, 5*time.Second, func() error {
		if n := rc.ClientList(ctx).Val(); strings.Contains(n, "name=v2 ") {
			return errorf("v2 still listed")
		}
		return nil
	})
	dialRaw(t, s.Addr().String()).do("PING")
	v, _ := me.do("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
	if v.Int < 2 { // go-redis's pooled connection and the PING one
		t.Errorf("CLIENT KILL TYPE normal = %v", v)
	}
	if v, _ := me.do("PING"); v.Str != "PONG" {
		t.Errorf("SKIPME yes killed the caller: %v", v)
	}
	// SKIPME no: the caller gets its reply, then the connection closes.
	if v, _ := me.do("CLIENT", "KILL", "USER", "default", "SKIPME", "no"); v.Int < 1 {
		t.Errorf("CLIENT KILL SKIPME no = %v", v)
	}
	me.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := me.r.ReadByte(); err == nil {
		t.Error("caller not closed after SKIPME no")
	}
}

func TestClientPauseUnpause(t *testing.T) {
	s, rc := startServer(t)
	c := dialRaw(t, s.Addr().String())
	if v, _ := c.do("CLIENT", "PAUSE", "100000", "WRITE"); v.Str != "OK" {
		t.Fatalf("PAUSE = %v", v)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- rc.Set(ctx, "k", "v", 0).Err() }()
	if err := rc.Get(ctx, "nokey").Err(); err != redis.Nil {
		t.Fatalf("reads must go on during PAUSE WRITE: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("write ran during pause: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if v, _ := c.do("CLIENT", "UNPAUSE"); v.Str != "OK" {
		t.Fatalf("UNPAUSE = %v", v)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("unpause did not release the write")
	}
	// A short pause ends by itself.
	c.do("CLIENT", "PAUSE", "50")
	t0 := time.Now()
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 20*time.Millisecond {
		t.Errorf("PAUSE ALL did not delay PING (%v)", d)
	}
}

func TestClientUnblock(t *testing.T) {
	s, _ := startServer(t)
	me := dialRaw(t, s.Addr().String())
	if v, _ := me.do("COMMAND", "INFO", "blpop"); v.Elems[0].Null {
		t.Skip("BLPOP is not registered yet")
	}
	for _, tc := range []struct {
		reason []string
		want   string
	}{
		{nil, "*-1\r\n"},
		{[]string{"TIMEOUT"}, "*-1\r\n"},
		{[]string{"ERROR"}, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"},
	} {
		b := dialRaw(t, s.Addr().String())
		idv, _ := b.do("CLIENT", "ID")
		b.send("BLPOP", "nolist", "0")
		id := strconv.FormatInt(idv.Int, 10)
		eventually(t, 5*time.Second, func() error {
			if v, _ := me.do("CLIENT", "LIST", "ID", id); clientField(v.Str, "flags") != "b" {
				return errorf("not blocked yet: " + v.Str)
			}
			return nil
		})
		args := append([]string{"CLIENT", "UNBLOCK", id}, tc.reason...)
		if v, _ := me.do(args...); v.Int != 1 {
			t.Fatalf("%q = %v", args, v)
		}
		if _, raw := b.read(); string(raw) != tc.want {
			t.Errorf("%q: blocked client got %q, want %q", args, raw, tc.want)
		}
		if v, _ := me.do(args...); v.Int != 0 {
			t.Errorf("second %q = %v", args, v)
		}
	}
}

// CLIENT KILL on a replica finds the master's client by its address (old
// form and ADDR, as the cluster tests do with "client kill 127.0.0.1:port"),
// by LADDR and with no filter; TYPE normal spares it. Each kill drops the
// link, which resumes with a partial resynchronization.
func TestClientKillMasterLink(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t, "--appendonly", "no")
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(host, port)
	inSync(t, master, replica)
	if n, _ := replica.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Int(); n != 0 {
		t.Errorf("CLIENT KILL TYPE normal killed %d", n)
	}
	kills := [][]any{
		{"CLIENT", "KILL", addr},
		{"CLIENT", "KILL", "ADDR", addr},
		{"CLIENT", "KILL", "TYPE", "master", "ADDR", addr},
	}
	for i, k := range kills {
		v, err := replica.Do(ctx, k...).Result()
		if err != nil || (i == 0 && v != "OK") || (i > 0 && v != int64(1)) {
			t.Fatalf("%v = %v, %v", k, v, err)
		}
		master.Set(ctx, "after", i, 0)
		inSync(t, master, replica)
	}
	if v := infoOf(t, master, "stats", "sync_partial_ok"); v != "3" {
		t.Errorf("sync_partial_ok = %s", v)
	}
	if err := replica.Do(ctx, "CLIENT", "KILL", "127.0.0.1:1").Err(); err == nil || err.Error() != "ERR No such client" {
		t.Errorf("CLIENT KILL of an unknown address: %v", err)
	}
}

// unixsocket: the server also listens there (unixsocketperm applied); its
// clients show as /unixsocket:0, as Redis.
func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "redgo.sock")
	s, rc := startServer(t, "--unixsocket", path, "--unixsocketperm", "700")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket file: %v, %v", fi, err)
	}
	uc := redis.NewClient(&redis.Options{Network: "unix", Addr: path})
	defer uc.Close()
	if err := uc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("k = %q through TCP", v)
	}
	if line := uc.Do(ctx, "CLIENT", "INFO").String(); !strings.Contains(line, "addr=/unixsocket:0 laddr=/unixsocket:0 ") {
		t.Fatalf("CLIENT INFO: %s", line)
	}
	s.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file left after Close: %v", err)
	}
}

// TestPausedClientIsBlocked: a write held back by CLIENT PAUSE WRITE
// counts in INFO's blocked_clients until the pause ends (unit/pause waits
// for it).
func TestPausedClientIsBlocked(t *testing.T) {
	s, _ := startServer(t)
	r, w := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	r.do("CLIENT", "PAUSE", "60000", "WRITE")
	w.send("SET", "foo", "bar")
	eventually(t, 5*time.Second, func() error {
		if _, raw := r.do("INFO", "clients"); !strings.Contains(string(raw), "blocked_clients:1\r\n") {
			return fmt.Errorf("not counted as blocked")
		}
		return nil
	})
	r.do("CLIENT", "UNPAUSE")
	if v, _ := w.read(); v.Str != "OK" {
		t.Fatalf("SET after UNPAUSE: %+v", v)
	}
	if _, raw := r.do("INFO", "clients"); !strings.Contains(string(raw), "blocked_clients:0\r\n") {
		t.Fatalf("still counted: %q", raw)
	}
}
