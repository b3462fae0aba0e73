package server

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestOutputLimitConfigMatchesRedis: CONFIG SET client-output-buffer-limit
// refuses what Redis refuses with its errors, replaces only the classes
// it names and shows every class in bytes.
func TestOutputLimitConfigMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	redisAddr := startRedis(t)
	set := func(v string) []string { return []string{"CONFIG", "SET", "client-output-buffer-limit", v} }
	get := []string{"CONFIG", "GET", "client-output-buffer-limit"}
	oracle(t, s.Addr().String(), redisAddr, [][]string{
		get,
		set("wrong number"), set("invalid_class 10mb 10mb 60"), set("master 10mb 10mb 60"),
		set("normal 10mbs 10mb 60"), set("replica 10mb 10mbs 60"), set("pubsub 10mb 10mb 60s"),
		get,
		set("normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80"), get,
		set("pubsub 1k 2kb 3"), get,
		set(""), get,
	})
}

// readsNothing reports whether the connection closes without sending a
// byte.
func readsNothing(t *testing.T, c *rawConn) {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := c.conn.Read(buf)
	if n != 0 || err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("expected a close with nothing sent, read %q, %v", buf[:n], err)
	}
}

// TestOutputLimitsCloseUnsent runs unit/obuf-limits's cases on redgo and
// on redis-server: a reply past the normal hard limit is never sent and
// the client closed (the command still ran, even a whole transaction);
// HRANDFIELD with a huge count stops instead of building its reply; a
// subscriber whose unsent messages pass the pubsub hard limit is closed.
func TestOutputLimitsCloseUnsent(t *testing.T) {
	s, _ := startServer(t)
	for name, addr := range map[string]string{"redgo": s.Addr().String(), "redis": startRedis(t)} {
		admin := dialRaw(t, addr)
		admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0 pubsub 100000 0 0")
		item := strings.Repeat("x", 1000)
		for i := 0; i < 150; i++ {
			admin.do("RPUSH", "mylist", item)
		}
		big := dialRaw(t, addr)
		big.send("LRANGE", "mylist", "0", "-1")
		readsNothing(t, big)

		tx := dialRaw(t, addr)
		for _, cmd := range [][]string{{"MULTI"}, {"SET", "k2", "v2"}, {"LRANGE", "mylist", "0", "-1"}, {"SET", "k3", "v3"}} {
			tx.send(cmd...)
		}
		for i := 0; i < 4; i++ {
			tx.read()
		}
		tx.send("EXEC")
		readsNothing(t, tx)
		if v, _ := admin.do("MGET", "k2", "k3"); len(v.Elems) != 2 || v.Elems[0].Str != "v2" || v.Elems[1].Str != "v3" {
			t.Fatalf("%s: the transaction did not run in full: %v", name, v)
		}

		admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 1000000 0 0")
		admin.do("HSET", "myhash", "a", "b")
		rnd := dialRaw(t, addr)
		start := time.Now()
		rnd.send("HRANDFIELD", "myhash", "-999999999")
		readsNothing(t, rnd)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%s: HRANDFIELD ran %v before the close", name, d)
		}

		sub := dialRaw(t, addr)
		sub.do("SUBSCRIBE", "foo")
		closed := false
		msg := strings.Repeat("m", 1000)
		for i := 0; i < 100000 && !closed; i++ {
			admin.do("PUBLISH", "foo", msg)
			if i%100 == 99 {
				v, _ := admin.do("PUBSUB", "NUMSUB", "foo")
				closed = len(v.Elems) == 2 && v.Elems[1].Int == 0
			}
		}
		if !closed {
			t.Fatalf("%s: a subscriber that reads nothing was never closed", name)
		}
		sub.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, sub.conn); err != nil && strings.Contains(err.Error(), "timeout") {
			t.Fatalf("%s: the subscriber's connection stays open", name)
		}
		admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60")
	}
}
