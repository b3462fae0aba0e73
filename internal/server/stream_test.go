package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/resp"
)

// fillStreams writes streams with every command that changes one, so the
// AOF, its rewrite and replication carry each propagated form: XADD with
// generated IDs and approximate trims, XDEL, XTRIM, XSETID, groups read
// with and without NOACK, acknowledged, claimed and auto-claimed.
func fillStreams(t *testing.T, rc *redis.Client) {
	t.Helper()
	for i := 0; i < 300; i++ {
		do(t, rc, "XADD", "st", "*", "f", fmt.Sprint(i), "g", "x")
	}
	do(t, rc, "XADD", "st", "MAXLEN", "~", "150", "*", "other", "1")
	do(t, rc, "XADD", "st2", "1-1", "a", "1")
	do(t, rc, "XADD", "st2", "1-*", "b", "2")
	do(t, rc, "XADD", "st2", "5-0", "c", "3")
	do(t, rc, "XADD", "st2", "6-0", "d", "4")
	do(t, rc, "XDEL", "st2", "1-2")
	do(t, rc, "XGROUP", "CREATE", "st2", "g", "0")
	do(t, rc, "XGROUP", "CREATE", "st2", "g2", "$", "ENTRIESREAD", "3")
	do(t, rc, "XGROUP", "CREATECONSUMER", "st2", "g2", "idle")
	do(t, rc, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "st2", ">")
	do(t, rc, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "1", "STREAMS", "st2", ">")
	do(t, rc, "XREADGROUP", "GROUP", "g", "carol", "STREAMS", "st2", ">")
	do(t, rc, "XACK", "st2", "g", "1-1")
	do(t, rc, "XCLAIM", "st2", "g", "dave", "0", "6-0", "RETRYCOUNT", "5")
	do(t, rc, "XAUTOCLAIM", "st2", "g", "erin", "0", "0", "COUNT", "1")
	// (A history read, XREADGROUP ... 0, counts one more delivery and may
	// create its consumer, which Redis 7.0 does not propagate: left out
	// so that replicas compare equal.)
	do(t, rc, "XGROUP", "CREATE", "st3", "g", "$", "MKSTREAM")
	do(t, rc, "XSETID", "st3", "10-10", "ENTRIESADDED", "4", "MAXDELETEDID", "9-9")
	do(t, rc, "XTRIM", "st", "MINID", "~", "0-1")
	do(t, rc, "XTRIM", "st", "MAXLEN", "100")
}

// streamState renders what DEBUG DIGEST leaves out of every stream of db
// 0: XINFO STREAM FULL without the consumers' seen times (a replica or a
// reload sets them when it creates the consumer), and without the node
// layout unless layout is set (a rewrite as commands repacks the nodes,
// in Redis too).
func streamState(t *testing.T, addr string, layout bool) string {
	t.Helper()
	c := dialRaw(t, addr)
	keys, _ := c.do("KEYS", "st*")
	var out []string
	for _, k := range keys.Elems {
		if c.str("TYPE", k.Str) != "stream" {
			continue
		}
		v, _ := c.do("XINFO", "STREAM", k.Str, "FULL", "COUNT", "0")
		out = append(out, k.Str+" "+renderNoSeen(v, layout))
	}
	sortStrings(out)
	return strings.Join(out, "\n")
}

func renderNoSeen(v resp.Value, layout bool) string {
	if len(v.Elems) == 0 {
		return v.String()
	}
	parts := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		if i > 0 && v.Elems[i-1].Type == '$' {
			switch prev := v.Elems[i-1].Str; {
			case prev == "seen-time":
				parts[i] = "SEEN"
				continue
			case !layout && (prev == "radix-tree-keys" || prev == "radix-tree-nodes"):
				parts[i] = "LAYOUT"
				continue
			}
		}
		parts[i] = renderNoSeen(e, layout)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestStreamsSurviveAOF: the streams fillStreams writes come back whole
// (groups, PELs with their delivery times and counts, counters) from the
// AOF, from its rewrite as commands and as RDB.
func TestStreamsSurviveAOF(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			s, rc := mustStartAOF(t, dir, "--aof-use-rdb-preamble", preamble)
			fillStreams(t, rc)
			want := streamState(t, s.Addr().String(), false)
			s.Close()
			s2, rc2 := mustStartAOF(t, dir, "--aof-use-rdb-preamble", preamble)
			if got := streamState(t, s2.Addr().String(), false); got != want {
				t.Fatalf("after replaying the AOF:\n%s\nwant\n%s", got, want)
			}
			do(t, rc2, "BGREWRITEAOF")
			waitRewrite(t, s2)
			s2.Close()
			s3, _ := mustStartAOF(t, dir, "--aof-use-rdb-preamble", preamble)
			if got := streamState(t, s3.Addr().String(), false); got != want {
				t.Fatalf("after the rewrite:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestStreamsReplicateToRedis: a redis-server replica of redgo gets the
// streams through the full sync (RDB) and then through the stream of
// commands, ending with the same groups and PELs.
func TestStreamsReplicateToRedis(t *testing.T) {
	ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	do(t, master, "XADD", "before", "1-1", "a", "b")
	do(t, master, "XGROUP", "CREATE", "before", "g", "0")
	do(t, master, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "before", ">")
	host, port := hostPort(t, ms.Addr().String())
	raddr := startRedis(t, "--replicaof", host, port)
	replica := goRedis(t, raddr)
	inSync(t, master, replica)
	fillStreams(t, master)
	inSync(t, master, replica)
	sameDigest(t, master, replica)
	if got, want := streamState(t, raddr, true), streamState(t, ms.Addr().String(), true); got != want {
		t.Fatalf("redis replica:\n%s\nredgo master:\n%s", got, want)
	}
}

// TestStreamsReplicateFromRedis: a redgo replica of redis-server applies
// Redis's own propagation of stream commands.
func TestStreamsReplicateFromRedis(t *testing.T) {
	maddr := startRedis(t, "--repl-diskless-sync-delay", "0")
	master := goRedis(t, maddr)
	do(t, master, "XADD", "before", "1-1", "a", "b")
	do(t, master, "XGROUP", "CREATE", "before", "g", "0")
	do(t, master, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "before", ">")
	rs, replica := startServer(t, "--enable-debug-command", "yes")
	host, port := hostPort(t, maddr)
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	inSync(t, master, replica)
	fillStreams(t, master)
	inSync(t, master, replica)
	sameDigest(t, master, replica)
	if got, want := streamState(t, rs.Addr().String(), true), streamState(t, maddr, true); got != want {
		t.Fatalf("redgo replica:\n%s\nredis master:\n%s", got, want)
	}
}

// TestStreamBlockingReads: XREAD BLOCK with "$" gets only what is added
// after it blocked; XREADGROUP BLOCK ">" is served by an XADD (and the
// entry lands in its PEL); destroying the group wakes a blocked reader
// with NOGROUP; a timeout replies a null array.
func TestStreamBlockingReads(t *testing.T) {
	s, rc := startServer(t)
	addr := s.Addr().String()
	do(t, rc, "XADD", "s", "1-0", "old", "1")
	r := dialRaw(t, addr)
	r.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	waitBlocked(t, rc, 1)
	do(t, rc, "XADD", "s", "2-0", "new", "2")
	if v, _ := r.read(); v.String() != `[["s" [["2-0" ["new" "2"]]]]]` {
		t.Fatalf("XREAD BLOCK $ = %s", v)
	}

	do(t, rc, "XGROUP", "CREATE", "s", "g", "$")
	r.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
	waitBlocked(t, rc, 1)
	do(t, rc, "XADD", "s", "3-0", "k", "v")
	if v, _ := r.read(); v.String() != `[["s" [["3-0" ["k" "v"]]]]]` {
		t.Fatalf("XREADGROUP BLOCK > = %s", v)
	}
	if v, _ := dialRaw(t, addr).do("XPENDING", "s", "g"); v.String() != `[1 "3-0" "3-0" [["alice" "1"]]]` {
		t.Fatalf("XPENDING = %s", v)
	}

	r.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
	waitBlocked(t, rc, 1)
	do(t, rc, "XGROUP", "DESTROY", "s", "g")
	if v, _ := r.read(); v.Type != '-' || v.Str != "NOGROUP the consumer group this client was blocked on no longer exists" {
		t.Fatalf("after XGROUP DESTROY: %c %s", v.Type, v)
	}

	r.send("XREAD", "BLOCK", "20", "STREAMS", "s", "$")
	if v, _ := r.read(); !v.Null {
		t.Fatalf("XREAD BLOCK timeout = %s", v)
	}
	// Inside MULTI a blocking read does not block.
	r.send("MULTI")
	r.read()
	r.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	r.read()
	r.send("EXEC")
	if v, _ := r.read(); len(v.Elems) != 1 || !v.Elems[0].Null {
		t.Fatalf("XREAD BLOCK in MULTI = %s", v)
	}
}

// waitBlocked polls INFO clients until n clients are blocked.
func waitBlocked(t *testing.T, rc *redis.Client, n int) {
	t.Helper()
	eventually(t, 5*time.Second, func() error {
		if v := infoOf(t, rc, "clients", "blocked_clients"); v != fmt.Sprint(n) {
			return fmt.Errorf("blocked_clients = %s", v)
		}
		return nil
	})
}

// TestStreamBlockedKeyGone: a blocked XREADGROUP fails when its key is
// deleted or becomes another type (Redis 7.0's "UNBLOCKED the stream key
// no longer exists"); a blocked XREAD keeps waiting and is served by the
// next XADD.
func TestStreamBlockedKeyGone(t *testing.T) {
	s, rc := startServer(t)
	addr := s.Addr().String()
	for _, kill := range [][]any{{"DEL", "s"}, {"SET", "s", "v"}} {
		rc.Del(ctx, "s")
		do(t, rc, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		r := dialRaw(t, addr)
		r.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		x := dialRaw(t, addr)
		x.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		waitBlocked(t, rc, 2)
		do(t, rc, kill...)
		if v, _ := r.read(); v.Type != '-' || v.Str != "UNBLOCKED the stream key no longer exists" {
			t.Fatalf("after %v: XREADGROUP got %c %s", kill, v.Type, v)
		}
		waitBlocked(t, rc, 1)
		rc.Del(ctx, "s")
		do(t, rc, "XADD", "s", "5-0", "f", "v")
		if v, _ := x.read(); v.String() != `[["s" [["5-0" ["f" "v"]]]]]` {
			t.Fatalf("after %v: XREAD got %s", kill, v)
		}
	}
}

// TestStreamServedAfterExec: a client blocked on a stream is served after
// the transaction that wrote it, with all of its entries (stream.tcl
// "XREAD + multiple XADD inside transaction"), once for a key named
// several times.
func TestStreamServedAfterExec(t *testing.T) {
	s, rc := startServer(t)
	addr := s.Addr().String()
	do(t, rc, "XADD", "s2", "1-0", "old", "x")
	r := dialRaw(t, addr)
	r.send("XREAD", "BLOCK", "0", "STREAMS", "s2", "s2", "s2", "$", "$", "$")
	waitBlocked(t, rc, 1)
	w := dialRaw(t, addr)
	for _, c := range [][]string{{"MULTI"}, {"XADD", "s2", "2-0", "field", "one"}, {"XADD", "s2", "3-0", "field", "two"}, {"EXEC"}} {
		w.do(c...)
	}
	if v, _ := r.read(); v.String() != `[["s2" [["2-0" ["field" "one"]] ["3-0" ["field" "two"]]]]]` {
		t.Fatalf("XREAD after EXEC = %s", v)
	}
}

// TestWholeDBChangesServeBlocked: FLUSHALL fails a blocked XREADGROUP
// whose stream is gone, and SWAPDB serves a blocked pop whose list now
// exists, as Redis.
func TestWholeDBChangesServeBlocked(t *testing.T) {
	s, rc := startServer(t)
	addr := s.Addr().String()
	rc.Do(ctx, "XADD", "s", "666", "f", "v")
	rc.Do(ctx, "XGROUP", "CREATE", "s", "g", "$")
	reader := dialRaw(t, addr)
	reader.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
	waitBlocked(t, rc, 1)
	rc.Do(ctx, "FLUSHALL")
	if v, _ := reader.read(); v.Str != "UNBLOCKED the stream key no longer exists" {
		t.Errorf("blocked XREADGROUP after FLUSHALL: %v", v)
	}

	rc.RPush(ctx, "x", "a") // in db 0
	popper := dialRaw(t, addr)
	popper.do("SELECT", "4")
	popper.send("BLPOP", "x", "0")
	waitBlocked(t, rc, 1)
	rc.Do(ctx, "SWAPDB", "0", "4")
	if v, _ := popper.read(); len(v.Elems) != 2 || v.Elems[1].Str != "a" {
		t.Errorf("blocked BLPOP after SWAPDB: %v", v)
	}
}
