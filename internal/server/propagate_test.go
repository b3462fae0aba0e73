package server

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// propRecorder is a Propagator that keeps what it is fed.
type propRecorder struct {
	mu   sync.Mutex
	log  []string
	fail error
}

func (r *propRecorder) Feed(db int, cmds [][][]byte) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		var parts []string
		for _, a := range c {
			parts = append(parts, string(a))
		}
		r.log = append(r.log, fmt.Sprintf("%d %s", db, strings.Join(parts, " ")))
	}
	return int64(len(r.log))
}

func (r *propRecorder) Pending() int64 { return 0 }

func (r *propRecorder) WaitDurable(seq int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fail
}

func (r *propRecorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func TestPropagation(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	rc.Set(ctx, "a", "1", 0)
	rc.Get(ctx, "a")      // read: not propagated
	rc.Del(ctx, "nosuch") // no change: not propagated
	pipe := rc.TxPipeline()
	pipe.Incr(ctx, "a")
	pipe.Get(ctx, "a")
	pipe.Exec(ctx)
	rc.Do(ctx, "SET", "e", "v", "PX", "1")
	time.Sleep(20 * time.Millisecond)
	rc.Get(ctx, "e") // lazily expired: DEL propagated
	got := strings.Join(rec.lines(), "\n")
	want := "0 set a 1\n0 incr a\n0 SET e v PX 1\n0 DEL e"
	if !strings.EqualFold(got, want) {
		// Handlers may rewrite (e.g. relative expiry to absolute): compare loosely on the first lines.
		if !strings.HasPrefix(strings.ToLower(got), strings.ToLower("0 set a 1\n0 incr a\n")) || !strings.HasSuffix(got, "0 DEL e") {
			t.Fatalf("propagated:\n%s\nwant:\n%s", got, want)
		}
	}
}

// TestPropagationMultiShape: as Redis 7.0 (unit/multi), a transaction or
// a command whose effects are more than one write reaches the AOF and
// replicas in MULTI/EXEC, a single write alone, and SELECTs inside do not
// count as writes.
func TestPropagationMultiShape(t *testing.T) {
	s, _ := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	c := dialRaw(t, s.Addr().String())
	for _, cmd := range [][]string{
		{"MULTI"}, {"SET", "foo", "bar"}, {"GET", "foo"}, {"EXEC"}, // one write: alone
		{"MULTI"}, {"EXEC"}, // nothing
		{"MULTI"}, {"SELECT", "1"}, {"SET", "x", "1"}, {"EXEC"}, // one write after a SELECT: alone
		{"MULTI"}, {"SET", "a", "1"}, {"SELECT", "2"}, {"SET", "b", "2"}, {"EXEC"}, // two: wrapped
		{"SELECT", "0"},
		{"XADD", "s", "1-1", "f", "v"}, {"XADD", "s", "2-1", "f", "v"}, {"XGROUP", "CREATE", "s", "g", "0"},
		{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"}, // one XCLAIM: alone
		{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"},               // (the second)
	} {
		c.do(cmd...)
	}
	c.do("XGROUP", "SETID", "s", "g", "0")
	c.do("XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">") // two XCLAIMs: wrapped
	var got []string
	for _, l := range rec.lines() {
		f := strings.Fields(l)
		if len(f) > 3 && strings.EqualFold(f[1], "XCLAIM") {
			l = strings.Join(f[:7], " ") // the rest has times
		}
		got = append(got, l)
	}
	want := []string{"0 SET foo bar", "1 SET x 1",
		"1 MULTI", "1 SET a 1", "1 SELECT 2", "1 SET b 2", "1 EXEC",
		"0 XADD s 1-1 f v", "0 XADD s 2-1 f v", "0 XGROUP CREATE s g 0",
		"0 XCLAIM s g c 0 1-1", "0 XCLAIM s g c 0 2-1", "0 XGROUP SETID s g 0",
		"0 MULTI", "0 XCLAIM s g d 0 1-1", "0 XCLAIM s g d 0 2-1", "0 EXEC"}
	if !strings.EqualFold(strings.Join(got, "|"), strings.Join(want, "|")) {
		t.Fatalf("propagated\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWriteNotDurableIsRefused(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{fail: errors.New("disk full")}
	s.AddPropagator(rec)
	err := rc.Set(ctx, "a", "1", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF Errors writing to the AOF file: disk full") {
		t.Fatalf("SET err = %v", err)
	}
	if v, err := rc.Ping(ctx).Result(); err != nil || v != "PONG" {
		t.Fatalf("read after failure: %v %v", v, err)
	}
}

// SPOP picks at random: it must reach the AOF and replicas as the SREM
// (or DEL) it amounts to, so a replay gives the same set.
func TestSpopPropagatesSrem(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	rc.SAdd(ctx, "s", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
	one := rc.SPop(ctx, "s").Val()
	many := rc.SPopN(ctx, "s", 3).Val()
	rc.SPopN(ctx, "s", 100)
	lines := rec.lines()
	if len(lines) != 4 {
		t.Fatalf("propagated %q", lines)
	}
	if lines[1] != "0 SREM s "+one {
		t.Fatalf("single SPOP propagated %q, popped %q", lines[1], one)
	}
	if want := "0 SREM s " + strings.Join(many, " "); lines[2] != want {
		t.Fatalf("SPOP 3 propagated %q, want %q", lines[2], want)
	}
	if lines[3] != "0 DEL s" {
		t.Fatalf("SPOP all propagated %q", lines[3])
	}
}

// Commands Redis 7.0 rewrites before propagating them: GETSET as SET, SET
// ... GET without GET, BRPOPLPUSH as RPOPLPUSH and BLMOVE as LMOVE, both
// when they find an element and when a blocked one is served.
func TestPropagationRewrites(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	rc.Do(ctx, "GETSET", "g", "1")
	rc.Do(ctx, "SET", "g", "2", "GET")
	rc.Do(ctx, "RPUSH", "l", "a", "b")
	rc.Do(ctx, "BRPOPLPUSH", "l", "m", "0")
	rc.Do(ctx, "BLMOVE", "l", "m", "left", "right", "0")
	other := goRedis(t, s.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		other.Do(ctx, "BLMOVE", "x", "y", "right", "left", "5")
	}()
	eventually(t, 5*time.Second, func() error {
		if !strings.Contains(rc.Do(ctx, "CLIENT", "LIST").String(), "cmd=blmove") {
			return errors.New("not blocked yet")
		}
		return nil
	})
	rc.Do(ctx, "RPUSH", "x", "c")
	<-done
	rc.Do(ctx, "INCRBYFLOAT", "f", "1.5")
	rc.Do(ctx, "INCRBYFLOAT", "f", "0.25")
	want := []string{"0 SET g 1", "0 SET g 2", "0 RPUSH l a b", "0 RPOPLPUSH l m", "0 LMOVE l m left right",
		"0 RPUSH x c", "0 LMOVE x y RIGHT LEFT", "0 SET f 1.5 KEEPTTL", "0 SET f 1.75 KEEPTTL"}
	got := rec.lines()
	if len(got) != len(want) {
		t.Fatalf("propagated %q, want %q", got, want)
	}
	for i := range want {
		if !strings.EqualFold(got[i], want[i]) {
			t.Errorf("propagated %q, want %q", got[i], want[i])
		}
	}
}

// GETDEL, ZMPOP, BZMPOP and BZPOPMIN reach the AOF and replicas as the
// commands Redis sends for them.
func TestPropagationPopsAndGetdel(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	rc.Do(ctx, "SET", "g", "v")
	rc.Do(ctx, "GETDEL", "g")
	rc.Do(ctx, "GETDEL", "g") // nothing deleted: nothing sent
	rc.Do(ctx, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
	rc.Do(ctx, "ZMPOP", "1", "z", "MIN")
	rc.Do(ctx, "ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "10")
	rc.Do(ctx, "ZADD", "z", "1", "a")
	rc.Do(ctx, "BZPOPMIN", "z", "0")
	rc.Do(ctx, "ZADD", "z", "1", "a")
	rc.Do(ctx, "BZMPOP", "0", "1", "z", "MAX", "COUNT", "2")
	want := []string{"0 SET g v", "0 DEL g", "0 ZADD z 1 a 2 b 3 c 4 d", "0 ZPOPMIN z 1", "0 ZPOPMAX z 3",
		"0 ZADD z 1 a", "0 ZPOPMIN z", "0 ZADD z 1 a", "0 ZPOPMAX z 1"}
	got := rec.lines()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("propagated %q, want %q", got, want)
	}
}

// BLPOP/BRPOP reach the AOF and replicas as LPOP/RPOP key and [B]LMPOP as
// LPOP/RPOP key n, n what they popped (unit/type/list "LMPOP propagate
// as pop with count command to replica").
func TestPropagationListPops(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	rc.Do(ctx, "RPUSH", "l", "a", "b", "c", "d", "e")
	rc.Do(ctx, "BLPOP", "l", "0")
	rc.Do(ctx, "BRPOP", "l", "0")
	rc.Do(ctx, "LMPOP", "1", "l", "LEFT")
	rc.Do(ctx, "LMPOP", "2", "nosuch", "l", "RIGHT", "COUNT", "10")
	rc.Do(ctx, "LMPOP", "1", "l", "LEFT") // empty: nothing sent
	want := []string{"0 RPUSH l a b c d e", "0 LPOP l", "0 RPOP l", "0 LPOP l 1", "0 RPOP l 2"}
	got := rec.lines()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("propagated %q, want %q", got, want)
	}
}

// HINCRBYFLOAT reaches the AOF and replicas as HSET of its result, as
// Redis sends it: a replica must not redo the float arithmetic.
func TestPropagationHincrbyfloat(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	rc.Do(ctx, "HSET", "h", "f", "1")
	rc.Do(ctx, "HINCRBYFLOAT", "h", "f", "1.5")
	rc.Do(ctx, "HINCRBYFLOAT", "h", "g", "0.1")
	want := []string{"0 HSET h f 1", "0 HSET h f 2.5", "0 HSET h g 0.1"}
	if got := rec.lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("propagated %q, want %q", got, want)
	}
}
