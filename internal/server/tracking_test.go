package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Client-side caching compared with redis-server: the same steps on
// named connections of each server, and every byte each connection
// received (replies and pushes, in order) must be equal. "$ID:name" in a
// command is the client id of connection name; ids in the bytes read
// are replaced by ID.

type trackStep struct{ conn, cmd string }

func runTracking(t *testing.T, addr string, steps []trackStep) map[string]string {
	t.Helper()
	conns := map[string]*rawConn{}
	ids := map[string]string{}
	out := map[string]*strings.Builder{}
	get := func(name string) *rawConn {
		if c := conns[name]; c != nil {
			return c
		}
		c := dialRaw(t, addr)
		v, _ := c.do("CLIENT", "ID")
		conns[name], ids[name], out[name] = c, strconv.FormatInt(v.Int, 10), &strings.Builder{}
		return c
	}
	norm := func(b []byte) string {
		s := string(b)
		for _, id := range ids {
			s = strings.ReplaceAll(s, ":"+id+"\r\n", ":ID\r\n")
		}
		return s
	}
	// drain reads what a connection got up to a PING's answer.
	drain := func(name string) {
		c := get(name)
		c.send("PING")
		for {
			v, raw := c.read()
			if v.Str == "PONG" || len(v.Elems) == 2 && v.Elems[0].Str == "pong" {
				return
			}
			out[name].WriteString(norm(raw))
		}
	}
	inMulti := map[string]bool{}
	get("w").do("FLUSHALL")
	for _, st := range steps {
		if ms, ok := strings.CutPrefix(st.cmd, "~sleep "); ok {
			n, _ := strconv.Atoi(ms)
			time.Sleep(time.Duration(n) * time.Millisecond)
			continue
		}
		args := cmds(st.cmd)[0]
		for i, a := range args {
			if strings.HasPrefix(a, "$ID:") {
				get(a[4:])
				args[i] = ids[a[4:]]
			}
		}
		c := get(st.conn)
		if !inMulti[st.conn] {
			drain(st.conn) // pushes that arrived before this command
		}
		switch strings.ToUpper(args[0]) {
		case "MULTI":
			inMulti[st.conn] = true
		case "EXEC", "DISCARD":
			inMulti[st.conn] = false
		}
		c.send(args...)
		if args[0] == "HELLO" { // the server's own description: not compared
			c.read()
			continue
		}
		for {
			_, raw := c.read()
			s := norm(raw)
			out[st.conn].WriteString(s)
			if raw[0] != '>' && !strings.HasPrefix(s, "*3\r\n$7\r\nmessage\r\n") {
				break
			}
		}
	}
	res := map[string]string{}
	for name := range conns {
		drain(name)
		res[name] = out[name].String()
	}
	return res
}

func steps(lines ...string) []trackStep {
	var out []trackStep
	for _, l := range lines {
		name, cmd, _ := strings.Cut(l, " ")
		out = append(out, trackStep{name, cmd})
	}
	return out
}

func TestTrackingVsRedis(t *testing.T) {
	redis := startRedis(t)
	srv, _ := startServer(t, "--enable-debug-command", "yes")
	script := steps(
		"t HELLO 3", "b HELLO 3", "o HELLO 3", "n HELLO 3",
		// default mode
		"t CLIENT TRACKING ON", "t GET a", "w SET a 1", "t GET a", "t SET a 2", "w SET b 0", "t MGET a b",
		"w DEL a b", "w SET x 1", "t GET a", "w MSET a 1 x 2", "t CLIENT GETREDIR",
		"t CLIENT TRACKINGINFO", "t HGET h f", "w HSET h f v", "t EXISTS h", "w HDEL h f",
		"t MULTI", "t GET m1", "t GET m2", "t EXEC", "w MSET m1 a m2 b",
		"t EVAL \"return redis.call('get','s1')\" 1 s1", "w SET s1 x",
		// expiry, seen by a lookup
		// (a TTL long enough for the read to come first, whatever the load)
		"w DEBUG SET-ACTIVE-EXPIRE 0", "w SET e v PX 1000", "t GET e", "w ~sleep 1100",
		"w GET e", "t GET e", "w SET e v2", "w SET e2 v PX 1", "w ~sleep 5", "t GET e2", "w SET e2 v",
		"w DEBUG SET-ACTIVE-EXPIRE 1",
		// flush
		"t GET f", "w FLUSHALL", "t GET f", "w FLUSHDB",
		// BCAST
		"b CLIENT TRACKING ON BCAST PREFIX p: PREFIX q:", "w SET p:1 v", "w SET z v", "w DEL q:2 p:3",
		"b CLIENT TRACKINGINFO", "b CLIENT TRACKING ON BCAST PREFIX p", "b CLIENT TRACKING ON BCAST PREFIX r: PREFIX r",
		"b CLIENT TRACKING ON", "b CLIENT TRACKING OFF", "b CLIENT TRACKINGINFO",
		// NOLOOP and OPTIN/OPTOUT
		"n CLIENT TRACKING ON NOLOOP", "n GET nl", "n SET nl 1", "w SET nl 2",
		"o CLIENT TRACKING ON OPTIN", "o GET o1", "w SET o1 x", "o CLIENT CACHING YES", "o CLIENT TRACKINGINFO",
		"o GET o2", "w SET o2 x", "o CLIENT CACHING NO", "o CLIENT TRACKING ON OPTOUT",
		"u CLIENT TRACKING ON OPTOUT", "u HELLO 3", "u GET u1", "u CLIENT CACHING NO", "u GET u2",
		"w MSET u1 a u2 b",
		// RESP2 redirect to a subscriber
		"r SUBSCRIBE __redis__:invalidate", "d CLIENT TRACKING ON REDIRECT $ID:r", "d GET rd", "w SET rd 1",
		"d CLIENT GETREDIR", "w FLUSHALL", "d CLIENT TRACKING ON REDIRECT 999999",
		// errors
		"e CLIENT TRACKING ON PREFIX a", "e CLIENT TRACKING ON BCAST OPTIN", "e CLIENT TRACKING ON OPTIN OPTOUT",
		"e CLIENT TRACKING MAYBE", "e CLIENT TRACKING ON FOO", "e CLIENT CACHING YES", "e CLIENT GETREDIR",
		"e CLIENT TRACKING ON REDIRECT x", "e CLIENT TRACKING ON REDIRECT $ID:r REDIRECT $ID:r",
		"e CLIENT TRACKING ON BCAST PREFIX a PREFIX ab", "e CLIENT TRACKINGINFO",
		"k CLIENT TRACKING ON NOLOOP", "k RESET", "k CLIENT TRACKINGINFO", "k GET kk", "w SET kk 1",
	)
	sameTracking(t, srv.Addr().String(), redis, script)
}

// TestTrackingBcastGathered: BCAST invalidations of one command, one
// transaction or one script reach a client as one message per prefix
// (keys sorted, no repeats), as Redis sends them once per event-loop turn
// (unit/tracking "The connection gets invalidation messages about all the
// keys" and the tests after it).
func TestTrackingBcastGathered(t *testing.T) {
	redis := startRedis(t)
	srv, _ := startServer(t)
	script := steps(
		"b HELLO 3", "n HELLO 3",
		"b CLIENT TRACKING ON BCAST", "w MSET c 3 a 1 b 2", "w DEL b a",
		"b CLIENT TRACKING OFF", "b CLIENT TRACKING ON BCAST PREFIX a: PREFIX b:",
		"w MULTI", "w INCR b:1", "w INCR a:2", "w INCR a:1", "w INCR c:1", "w INCR a:1", "w EXEC",
		"w EVAL \"redis.call('set','b:9','x') redis.call('set','a:9','y') return 1\" 0",
		"r SUBSCRIBE __redis__:invalidate", "d CLIENT TRACKING ON BCAST REDIRECT $ID:r", "w MSET x 1 y 2",
		"n CLIENT TRACKING ON BCAST NOLOOP", "n MSET p 1 q 2", "w MSET q 1 r 2",
	)
	sameTracking(t, srv.Addr().String(), redis, script)
}

// TestTrackingScriptKeys: a script that calls a read-only command makes
// its caller track the script's declared keys (not the keys its commands
// read), and a script that reads nothing tracks nothing, as Redis
// (unit/tracking "Tracking only occurs for scripts when a command calls a
// read-only command").
func TestTrackingScriptKeys(t *testing.T) {
	redis := startRedis(t)
	srv, _ := startServer(t)
	script := steps(
		"t HELLO 3", "t CLIENT TRACKING ON",
		"t EVAL \"redis.call('set', 'key3', 'bar')\" 2 key1 key2", "w MSET key2 1 key1 1",
		"t EVAL \"redis.call('get', 'key3')\" 2 key1 key2", "w MSET key2 2 key1 2 key3 2",
		"t EVAL_RO \"redis.call('ping')\" 2 key1 key2", "w MSET key2 2 key1 2",
		"t EVAL_RO \"redis.call('get', 'key1')\" 2 key1 key2", "w MSET key2 3 key1 3 key3 3",
		"t FUNCTION LOAD \"#!lua name=lib\nredis.register_function('rd', function(k) return redis.call('get', 'key3') end)\"",
		"t FCALL rd 1 key4", "w MSET key4 1 key3 4",
	)
	sameTracking(t, srv.Addr().String(), redis, script)
}

// TestTrackingRedirectQuit: once the redirect client has read the reply
// to its QUIT, it is gone: the next invalidation gives the tracking
// client a tracking-redir-broken push at once (Redis frees a client right
// after its QUIT reply; unit/tracking "RESP3 Client gets
// tracking-redir-broken push message ...").
func TestTrackingRedirectQuit(t *testing.T) {
	srv, _ := startServer(t)
	addr := srv.Addr().String()
	for i := 0; i < 20; i++ {
		tr, r, w := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
		id, _ := r.do("CLIENT", "ID")
		tr.do("HELLO", "3")
		tr.do("CLIENT", "TRACKING", "ON", "REDIRECT", strconv.FormatInt(id.Int, 10))
		w.do("SET", "k", "1")
		tr.do("GET", "k")
		if v, _ := r.do("QUIT"); v.Str != "OK" {
			t.Fatalf("QUIT: %+v", v)
		}
		w.do("SET", "k", "2")
		v, raw := tr.do("PING")
		if len(v.Elems) != 2 || v.Elems[0].Str != "tracking-redir-broken" {
			t.Fatalf("round %d: PING after the redirect quit read %q, want the tracking-redir-broken push first", i, raw)
		}
		tr.read() // PONG
	}
}

// sameTracking runs script on redgo and on redis-server and compares what
// each connection received.
func sameTracking(t *testing.T, redgo, redis string, script []trackStep) {
	t.Helper()
	a := runTracking(t, redgo, script)
	b := runTracking(t, redis, script)
	for name, want := range b {
		if a[name] != want {
			t.Errorf("connection %s:\n redgo: %q\n redis: %q", name, a[name], want)
		}
	}
}
