package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"redgo/internal/resp"
)

// keyspace notifications compared with redis-server: a subscriber on
// __key*__:* on each side, the same script on both, and the received
// message sequences must be equal.

// notifySub is a PSUBSCRIBEd raw connection.
type notifySub struct{ c *rawConn }

func subscribeNotify(t *testing.T, addr string) notifySub {
	c := dialRaw(t, addr)
	c.do("PSUBSCRIBE", "__key*__:*")
	return notifySub{c}
}

// until reads messages up to the marker PUBLISH __keyend__:<mark> and
// returns them as "channel message" lines.
func (s notifySub) until(t *testing.T, mark string) []string {
	t.Helper()
	var out []string
	for {
		v, _ := s.c.read()
		if len(v.Elems) != 4 {
			t.Fatalf("unexpected push %v", v)
		}
		ch, msg := v.Elems[2].Str, v.Elems[3].Str
		if ch == "__keyend__:"+mark {
			return out
		}
		if ch == "__keyend__:cmd" { // the command that fired what follows
			out = append(out, "> "+msg)
			continue
		}
		out = append(out, ch+" "+msg)
	}
}

// runNotify runs script on one side and returns the events it fired.
func runNotify(t *testing.T, addr, classes string, script [][]string) ([]string, []string) {
	t.Helper()
	cmd := dialRaw(t, addr)
	cmd.do("FLUSHALL")
	cmd.do("CONFIG", "SET", "notify-keyspace-events", classes)
	sub := subscribeNotify(t, addr)
	var replies []string
	for _, a := range script {
		switch a[0] {
		case "~sleep": // let a short TTL pass
			time.Sleep(5 * time.Millisecond)
			continue
		case "~gone": // wait until active expiry removed every key
			eventually(t, 5*time.Second, func() error {
				v, _ := cmd.do("DBSIZE")
				if v.Int != 0 {
					return fmt.Errorf("dbsize %d", v.Int)
				}
				return nil
			})
			continue
		}
		cmd.do("PUBLISH", "__keyend__:cmd", strings.Join(a, " "))
		if strings.HasPrefix(a[0], "~") { // random reply: not compared
			cmd.do(append([]string{a[0][1:]}, a[1:]...)...)
			replies = append(replies, "")
			continue
		}
		_, raw := cmd.do(a...)
		replies = append(replies, string(raw))
	}
	cmd.do("PUBLISH", "__keyend__:end", "x")
	ev := sub.until(t, "end")
	cmd.do("CONFIG", "SET", "notify-keyspace-events", "")
	return ev, replies
}

func compareNotify(t *testing.T, redgo, redis, classes string, script [][]string) {
	t.Helper()
	evA, repA := runNotify(t, redgo, classes, script)
	evB, repB := runNotify(t, redis, classes, script)
	for i := range repA {
		if i < len(repB) && repA[i] != repB[i] {
			t.Errorf("%s: reply to %q differs:\n redgo: %q\n redis: %q", classes, script[i], repA[i], repB[i])
		}
	}
	if strings.Join(evA, "\n") != strings.Join(evB, "\n") {
		i := 0
		for i < len(evA) && i < len(evB) && evA[i] == evB[i] {
			i++
		}
		from := max(i-4, 0)
		t.Errorf("%s: events differ at #%d\n redgo:\n  %s\n redis:\n  %s", classes, i,
			strings.Join(evA[from:min(i+8, len(evA))], "\n  "), strings.Join(evB[from:min(i+8, len(evB))], "\n  "))
	}
}

// cmds splits each line into arguments at spaces; "..." quotes an
// argument (no escapes).
func cmds(lines ...string) [][]string {
	var out [][]string
	for _, l := range lines {
		var args []string
		for l = strings.TrimSpace(l); l != ""; l = strings.TrimSpace(l) {
			if l[0] == '"' {
				end := strings.IndexByte(l[1:], '"') + 1
				args = append(args, l[1:end])
				l = l[end+1:]
				continue
			}
			end := strings.IndexByte(l, ' ')
			if end < 0 {
				end = len(l)
			}
			args = append(args, l[:end])
			l = l[end:]
		}
		out = append(out, args)
	}
	return out
}

var notifyScript = cmds(
	// strings
	"SET s v", "SET s v2 EX 100", "SET s v3 GET", "SETNX s x", "SETNX s2 x",
	"SETEX s3 100 v", "PSETEX s4 100000 v", "GETSET s v4", "GETDEL s2", "GETDEL nokey",
	"GETEX s EX 200", "GETEX s PERSIST", "GETEX s PXAT 1", "GETEX nokey",
	"MSET m1 a m2 b", "MSETNX m1 a m3 c", "MSETNX m4 a m5 b",
	"INCR n", "INCRBY n 5", "DECR n", "DECRBY n 2", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 1",
	"APPEND ap a", "APPEND ap b", "SETRANGE sr 2 xy", "SETRANGE sr 0 z", "SETRANGE sr 0 \"\"",
	"SETRANGE nokey2 0 \"\"", "GET nokey", "STRLEN nokey", "GETRANGE nokey 0 1", "MGET nokey s",
	"SETBIT b 7 1", "BITFIELD b SET u8 0 255 GET u8 0", "BITFIELD b GET u8 0", "BITOP OR bo b s",
	"BITOP AND bo nokey nokey", "PFADD h a b", "PFADD h a", "PFMERGE h2 h", "PFCOUNT h",
	// generic
	"DEL s nokey m1", "UNLINK m2", "EXISTS nokey m3", "TYPE nokey", "TTL nokey", "PTTL m3",
	"EXPIRE m3 100", "PEXPIRE m3 100000", "EXPIREAT m3 1", "EXPIRE nokey 10", "PERSIST m4",
	"EXPIRE m4 100", "PERSIST m4", "RENAME m5 r1", "RENAMENX r1 n", "RENAMENX r1 r2", "RENAME r2 r2",
	"COPY r2 c1", "COPY r2 c1", "COPY r2 c1 REPLACE", "COPY r2 c2 DB 1", "COPY nokey c3",
	"MOVE c1 2", "MOVE nokey 2", "SELECT 2", "DEL c1", "SELECT 0",
	"DUMP nokey", "TOUCH r2 nokey", "OBJECT ENCODING nokey",
	// lists
	"LPUSH l a b c", "RPUSH l d", "LPUSHX nol a", "RPUSHX l e", "LPOP l", "RPOP l", "LPOP l 0",
	"LPOP l 2", "LPOP nol", "LSET l 0 z", "LSET l 9 z", "LINSERT l BEFORE z y", "LINSERT l BEFORE q y",
	"RPUSH l a a b a", "LREM l 2 a", "LREM l 0 nothing", "LTRIM l 0 1", "LTRIM l 5 1", "LTRIM nol 0 1",
	"RPUSH l2 a b", "LMOVE l2 l3 LEFT RIGHT", "LMOVE l2 l3 RIGHT LEFT", "LMOVE l3 l3 LEFT LEFT",
	"RPOPLPUSH l3 l4", "RPOPLPUSH nol l4", "LMPOP 2 nol l4 LEFT", "RPUSH l5 a b c", "LMPOP 1 l5 RIGHT COUNT 5",
	"RPUSH l6 a", "BLPOP l6 0", "BRPOP nol 0.01", "RPUSH l7 a b", "BLMOVE l7 l8 LEFT LEFT 0",
	"BLMPOP 0 1 l7 LEFT COUNT 3", "LRANGE nol 0 1", "LLEN nol", "LINDEX nol 0", "LPOS nol a",
	// sets
	"SADD st a b c", "SADD st a", "SREM st a x", "SREM st x", "SREM nos a", "~SPOP st", "SADD st2 1 2 3 4 5 6",
	"SPOP st2 0", "~SPOP st2 1", "~SPOP st2 4", "~SPOP st2 5", "SPOP nos", "SPOP nos 2",
	"SADD sa 1 2 3", "SADD sb 3 4", "SMOVE sa sb 1", "SMOVE sa sb 3", "SMOVE sa sa 2", "SMOVE sa sb x",
	"SMOVE sa sc 2", "SINTERSTORE si sa sb", "SINTERSTORE si sb sc", "SINTERSTORE si nos sb",
	"SUNIONSTORE su sa sb", "SDIFFSTORE sd sb sc", "SDIFFSTORE sd sb sb", "SISMEMBER nos a",
	"SMEMBERS nos", "SCARD nos", "SINTER nos sb", "SRANDMEMBER nos",
	// hashes
	"HSET hh a 1 b 2", "HSET hh a 1", "HMSET hh c 3", "HSETNX hh a 9", "HSETNX hh d 4", "HSETNX nh a 1",
	"HDEL hh a x", "HDEL hh x", "HINCRBY hh n 2", "HINCRBYFLOAT hh f 1.5", "HINCRBY nh2 n 1",
	"HDEL nh a", "HDEL nh2 n", "HGET noh a", "HGETALL noh", "HLEN noh", "HEXISTS noh a", "HMGET noh a",
	// sorted sets
	"ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZADD z CH 5 a", "ZADD z INCR 1 a", "ZADD z XX 1 q", "ZADD noz XX 1 q",
	"ZADD z NX 1 a", "ZADD z GT 1 a", "ZINCRBY z 2 b", "ZREM z q", "ZREM z b",
	"ZADD z2 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYRANK z2 0 0", "ZREMRANGEBYSCORE z2 2 2", "ZREMRANGEBYLEX z2 [d [d",
	"ZREMRANGEBYRANK z2 5 9", "ZREMRANGEBYSCORE z2 -inf +inf", "ZPOPMIN z", "ZPOPMAX z 0", "ZPOPMAX z 5",
	"ZPOPMIN noz", "ZADD z3 1 a 2 b", "ZADD z4 2 b 3 c", "ZUNIONSTORE zu 2 z3 z4", "ZINTERSTORE zi 2 z3 z4",
	"ZDIFFSTORE zd 2 z3 z4", "ZDIFFSTORE zd 2 z3 z3", "ZINTERSTORE zi 2 z3 noz", "ZRANGESTORE zr z3 0 0",
	"ZRANGESTORE zr z3 5 9", "ZMPOP 2 noz z3 MIN", "BZPOPMAX z4 0", "BZMPOP 0 1 z4 MAX COUNT 9",
	"ZSCORE noz a", "ZRANGE noz 0 1", "ZCARD noz", "ZRANK noz a", "ZUNION 2 noz z3",
	// streams
	"XADD x 1-1 f v", "XADD x 2-1 f v", "XADD x MAXLEN 1 3-1 f v", "XADD x MAXLEN 5 4-1 f v",
	"XADD nox NOMKSTREAM * f v", "XDEL x 1-1", "XDEL x 4-1", "XADD x 5-1 f v", "XTRIM x MAXLEN 1",
	"XTRIM x MAXLEN 5", "XTRIM nox MAXLEN 1", "XSETID x 9-9", "XGROUP CREATE x g 0", "XGROUP CREATE x g 0",
	"XGROUP CREATE xs g $ MKSTREAM", "XGROUP SETID x g 0", "XGROUP CREATECONSUMER x g c1",
	"XGROUP CREATECONSUMER x g c1", "XADD x 10-1 f v", "XREADGROUP GROUP g c2 COUNT 1 STREAMS x >",
	"XREADGROUP GROUP g c2 COUNT 1 STREAMS x >", "XCLAIM x g c3 0 10-1", "XAUTOCLAIM x g c4 0 0-0",
	"XACK x g 10-1", "XGROUP DELCONSUMER x g c1", "XGROUP DELCONSUMER x g nobody", "XGROUP DESTROY x g",
	"XGROUP DESTROY x g", "XLEN nox", "XRANGE nox - +", "XREAD STREAMS nox 0", "XINFO STREAM nox",
	// geo and sort (the STORE forms)
	"GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOADD g XX 1 1 Nowhere",
	"GEORADIUS g 15 37 200 km STORE gr", "GEORADIUS g 15 37 1 km STORE gr", "GEORADIUS nog 15 37 1 km STORE gr2",
	"GEORADIUSBYMEMBER g Palermo 300 km STOREDIST grd", "GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 200 km",
	"GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 1 km", "GEOSEARCH nog FROMLONLAT 15 37 BYRADIUS 1 km",
	"RPUSH sl 3 1 2", "SORT sl STORE so", "SORT nol STORE so", "SORT sl STORE so2 LIMIT 5 1", "SORT nol",
	"DEBUG RELOAD", // loads silently
	// transactions and scripts
	"MULTI", "SET t1 a", "LPUSH t2 a", "DEL t1", "EXEC",
	"EVAL \"redis.call('set','e1','a');redis.call('incr','e2');return redis.call('get','nokey')\" 2 e1 e2",
	// expiry found on access
	"DEBUG SET-ACTIVE-EXPIRE 0", "SET x1 a PX 1", "SET x2 a PX 1", "SET x3 a PX 1", "~sleep",
	"GET x1", "EXISTS x2", "SET x3 b", "DEBUG SET-ACTIVE-EXPIRE 1",
)

func TestNotifyVsRedis(t *testing.T) {
	redis := startRedis(t)
	_, _ = startServer(t, "--enable-debug-command", "yes")
	srv, _ := startServer(t, "--enable-debug-command", "yes")
	redgo := srv.Addr().String()
	for _, classes := range []string{"KEA", "KEAnm", "Kg", "E$x", "Kl", "Em", "En", "AKE", "Kt"} {
		compareNotify(t, redgo, redis, classes, notifyScript)
	}
	_ = resp.Value{}
}

// TestNotifyExpireEvictVsRedis: expired events from the active expire
// cycle, evicted from maxmemory, and CONFIG GET's rendering.
func TestNotifyExpireEvictVsRedis(t *testing.T) {
	redis := startRedis(t)
	srv, _ := startServer(t, "--enable-debug-command", "yes")
	redgo := srv.Addr().String()
	compareNotify(t, redgo, redis, "KEA", cmds(
		"SET a 1 PX 1", "~gone", "HSET h f v", "PEXPIRE h 1", "~gone",
		"SET e 1", "CONFIG SET maxmemory-policy allkeys-lru", "CONFIG SET maxmemory 1", "~gone",
		"CONFIG SET maxmemory 0", "CONFIG SET maxmemory-policy noeviction",
	))
	oracle(t, redgo, redis, cmds(
		"CONFIG SET notify-keyspace-events KEA", "CONFIG GET notify-keyspace-events",
		"CONFIG SET notify-keyspace-events AnmKE", "CONFIG GET notify-keyspace-events",
		"CONFIG SET notify-keyspace-events g$lshzxetd", "CONFIG GET notify-keyspace-events",
		"CONFIG SET notify-keyspace-events lzxn", "CONFIG GET notify-keyspace-events",
		"CONFIG SET notify-keyspace-events Kq", "CONFIG GET notify-keyspace-events",
		"CONFIG SET notify-keyspace-events \"\"", "CONFIG GET notify-keyspace-events",
	))
}

// TestNotifySelfResp3: a RESP3 client subscribed to its own keys' events
// gets them on the connection it writes on. The pushes and the replies
// are compared as two sequences: redgo puts a command's pushes before
// its reply, Redis 7.0 where the handler fires them (after the reply for
// LPUSH), a known difference (docs/compat.md).
func TestNotifySelfResp3(t *testing.T) {
	redis := startRedis(t)
	srv, _ := startServer(t)
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		c.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
		c.do("HELLO", "3")
		c.do("PSUBSCRIBE", "__key*__:*")
		var out []string
		for _, cmd := range cmds("SET k v", "GET k", "LPUSH l a", "DEL k l") {
			c.send(cmd...)
		}
		c.send("PING")
		var replies []string
		for {
			v, raw := c.read()
			if raw[0] == '>' {
				out = append(out, string(raw))
			} else {
				replies = append(replies, string(raw))
			}
			if v.Str == "PONG" {
				return append(out, replies...)
			}
		}
	}
	a, b := run(srv.Addr().String()), run(redis)
	if strings.Join(a, "") != strings.Join(b, "") {
		t.Fatalf("redgo:\n%q\nredis:\n%q", a, b)
	}
}

// TestNotifyServedBlockedVsRedis: a blocked BLPOP served by another
// client's push fires its pop after the push, as Redis.
func TestNotifyServedBlockedVsRedis(t *testing.T) {
	redis := startRedis(t)
	srv, _ := startServer(t)
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		c.do("FLUSHALL")
		c.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
		sub := subscribeNotify(t, addr)
		b := dialRaw(t, addr)
		b.send("BLPOP", "bl", "0")
		eventually(t, 5*time.Second, func() error {
			v, _ := c.do("INFO", "clients")
			if !strings.Contains(v.Str, "blocked_clients:1") {
				return fmt.Errorf("not blocked yet")
			}
			return nil
		})
		c.do("RPUSH", "bl", "x", "y")
		b.read()
		b.send("BLMOVE", "bm", "bl", "LEFT", "RIGHT", "0")
		eventually(t, 5*time.Second, func() error {
			v, _ := c.do("INFO", "clients")
			if !strings.Contains(v.Str, "blocked_clients:1") {
				return fmt.Errorf("not blocked yet")
			}
			return nil
		})
		c.do("LPUSH", "bm", "z")
		b.read()
		c.do("PUBLISH", "__keyend__:end", "x")
		return sub.until(t, "end")
	}
	a, b := run(srv.Addr().String()), run(redis)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("redgo:\n%s\nredis:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// TestNotifyClusterLocal: in a cluster each node fires the events of its
// own keys to its own subscribers; nothing goes over the bus (a PUBLISH
// does, and marks the end on both nodes).
func TestNotifyClusterLocal(t *testing.T) {
	a, addrA := startCluster(t, "")
	_, addrB := startCluster(t, "")
	ca, cb := dialRaw(t, addrA), dialRaw(t, addrB)
	if got := cb.str("CLUSTER", "MEET", "127.0.0.1", addrA[strings.LastIndexByte(addrA, ':')+1:], busPort(a)); got != "OK" {
		t.Fatal(got)
	}
	ca.str("CLUSTER", "ADDSLOTSRANGE", "0", "8191")
	cb.str("CLUSTER", "ADDSLOTSRANGE", "8192", "16383")
	for _, c := range []*rawConn{ca, cb} { // slow under -race on a loaded machine: 60 s
		eventually(t, 60*time.Second, func() error {
			if info := c.str("CLUSTER", "INFO"); !strings.HasPrefix(info, "cluster_state:ok\r\n") {
				return fmt.Errorf("cluster not ok: %.40q", info)
			}
			return nil
		})
	}
	for _, c := range []*rawConn{ca, cb} {
		c.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
	}
	subA, subB := subscribeNotify(t, addrA), subscribeNotify(t, addrB)
	key := keyIn(100, "k") // a slot of node A
	if got := ca.str("SET", key, "v"); got != "OK" {
		t.Fatal(got)
	}
	ca.do("PUBLISH", "__keyend__:end", "x")
	want := "__keyspace@0__:" + key + " set|__keyevent@0__:set " + key
	if got := strings.Join(subA.until(t, "end"), "|"); got != want {
		t.Errorf("node A: %q, want %q", got, want)
	}
	if got := subB.until(t, "end"); len(got) != 0 {
		t.Errorf("node B got %q", got)
	}
}
