package commands

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// zsess is a differential session that keeps both sides open, so tests
// can mix scripts, RESP3 and encoding checks.
type zsess struct {
	t *testing.T
	e *env
	o *oracle
}

func newZsess(t *testing.T, proto int) *zsess {
	t.Helper()
	d := &zsess{t: t, e: newEnv(t), o: newOracle(t)}
	d.e.Proto = proto
	d.o.do("HELLO", fmt.Sprint(proto))
	return d
}

// zSame compares two replies including nested types.
func zSame(a, b resp.Value) bool {
	if a.Type != b.Type || a.Str != b.Str || a.Int != b.Int || a.Null != b.Null || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !zSame(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

func zDump(v resp.Value) string {
	switch v.Type {
	case '*', '~', '%', '>':
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = zDump(e)
		}
		return string(v.Type) + "[" + strings.Join(parts, " ") + "]"
	}
	return string(v.Type) + v.String()
}

func (d *zsess) args(line string) []string {
	bargs, ok := resp.SplitArgs([]byte(line), nil)
	if !ok {
		d.t.Fatalf("bad script line %q", line)
	}
	args := make([]string, len(bargs))
	for i, a := range bargs {
		args[i] = string(a)
	}
	return args
}

// run runs a script on both sides and reports every differing reply.
func (d *zsess) run(script string) {
	d.t.Helper()
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		args := d.args(line)
		got, want := d.e.do(args...), d.o.do(args...)
		if !zSame(got, want) {
			d.t.Errorf("%s\n  redgo: %s\n  redis: %s", line, zDump(got), zDump(want))
		}
	}
}

// enc checks the sorted set at key has the encoding Redis reports.
func (d *zsess) enc(key string) {
	d.t.Helper()
	want := d.o.do("OBJECT", "ENCODING", key).Str
	got := ""
	if o := d.e.ks.DB(0).Peek([]byte(key)); o != nil && o.Type() == keyspace.TZSet {
		got = o.ZSet().Encoding()
	}
	if got != want {
		d.t.Errorf("encoding of %s: redgo %q, redis %q", key, got, want)
	}
}

func TestZsetZaddOracle(t *testing.T) {
	for _, proto := range []int{2, 3} {
		d := newZsess(t, proto)
		d.run(`
ZADD z 1 a 2 b 3 c
ZADD z NX 10 a 4 d
ZADD z XX 10 a 5 e
ZADD z CH 11 a 4 d 6 f
ZADD z GT 5 a
ZADD z GT CH 50 a
ZADD z LT CH 1 a
ZADD z LT 100 b
ZADD z XX GT CH 200 b 1 newmember
ZADD z gt lt 1 a
ZADD z NX XX 1 a
ZADD z NX GT 1 a
ZADD z NX LT 1 a
ZADD z XX NX LT 1 a
ZADD z INCR 1 a 2 b
ZADD z INCR 5 a
ZADD z INCR NX 5 a
ZADD z INCR XX 5 nonexist
ZADD z INCR GT -5 a
ZADD z INCR LT -5 a
ZADD z INCR LT 0 a
ZADD z 1
ZADD z
ZADD z 1 a 2
ZADD z abc a
ZADD z 1 a NX
ZADD z nan a
ZADD z 1 a nan b
ZADD z " 1" a
ZADD z "1 " a
ZADD z "" a
ZADD z 1e400 a
ZADD z 1e-400 a
ZADD z 0x10 hex
ZADD z 1e-310 tiny
ZADD z inf a -inf b +inf c
ZADD z INCR -inf a
ZADD z INCR 1 a
ZRANGE z 0 -1 WITHSCORES
ZADD newkey XX 1 a
ZCARD newkey
ZADD newkey XX INCR 1 a
ZADD newkey XX CH 1 a
ZINCRBY z 1.5 b
ZINCRBY z abc b
ZINCRBY z 1 newmem
ZINCRBY nokey 2 x
ZINCRBY z -inf c
ZRANGE nokey 0 -1 WITHSCORES
SET str x
ZADD str 1 a
ZADD str abc a
ZADD str XX NX 1 a
ZINCRBY str 1 a
ZADD z 0.1 f1 1e300 f2 -0 f3 1.5e-7 f4 123456789012345678 f5 3.0 f6 1e16 f7 1e17 f8 0x1p-1074 f9 -1.7976931348623157e308 f10 100 f11 0.30000000000000004 f12
ZRANGE z 0 -1 WITHSCORES
ZSCORE z f1
ZSCORE z f2
ZSCORE z f3
ZSCORE z a
ZSCORE z nomember
ZSCORE nokey a
ZSCORE str a
ZMSCORE z f1 nomember f2
ZMSCORE nokey a b
ZMSCORE str a
ZMSCORE z
`)
	}
}

func TestZsetSimpleOracle(t *testing.T) {
	d := newZsess(t, 2)
	d.run(`
ZADD z 1 a 2 b 3 c 3 d 4 e
ZCARD z
ZCARD nokey
ZRANK z a
ZRANK z d
ZREVRANK z a
ZREVRANK z e
ZRANK z nope
ZRANK nokey a
ZREM z a nope b
ZREM z nope
ZREM nokey a
ZREM z c d e
ZCARD z
ZRANGE z 0 -1
SET str x
ZCARD str
ZRANK str a
ZREM str a
ZRANK z
ZRANK z a b
ZREM z
`)
}

// fill returns ZADD lines for n members of key with scores from score(i).
func zfill(key string, n int, score func(i int) string, member func(i int) string) string {
	var b strings.Builder
	for i := 0; i < n; i += 50 {
		b.WriteString("ZADD " + key)
		for j := i; j < min(i+50, n); j++ {
			b.WriteString(" " + score(j) + " " + member(j))
		}
		b.WriteString("\n")
	}
	return b.String()
}

var zRangeQueries = `
ZRANGE %[1]s 0 -1
ZRANGE %[1]s 0 -1 WITHSCORES
ZRANGE %[1]s 2 5 WITHSCORES
ZRANGE %[1]s -3 -1
ZRANGE %[1]s -1000 2
ZRANGE %[1]s 5 2
ZRANGE %[1]s 1000 2000
ZRANGE %[1]s 0 1000 REV
ZRANGE %[1]s 1 3 REV WITHSCORES
ZREVRANGE %[1]s 0 3 WITHSCORES
ZREVRANGE %[1]s -2 -1
ZRANGE %[1]s 2 8 BYSCORE
ZRANGE %[1]s (2 (8 BYSCORE WITHSCORES
ZRANGE %[1]s -inf +inf BYSCORE LIMIT 3 4
ZRANGE %[1]s -inf +inf BYSCORE LIMIT 3 -1
ZRANGE %[1]s -inf +inf BYSCORE LIMIT -1 4
ZRANGE %[1]s -inf +inf BYSCORE LIMIT 0 0
ZRANGE %[1]s -inf +inf BYSCORE LIMIT 1000 5
ZRANGE %[1]s 8 2 BYSCORE REV WITHSCORES
ZRANGE %[1]s (8 2 BYSCORE REV LIMIT 1 3
ZRANGE %[1]s 2 8 BYSCORE REV
ZRANGE %[1]s 5 5 BYSCORE
ZRANGE %[1]s (5 5 BYSCORE
ZRANGE %[1]s 5 (5 BYSCORE
ZRANGE %[1]s 1000 2000 BYSCORE
ZRANGE %[1]s -2000 -1000 BYSCORE
ZRANGEBYSCORE %[1]s 3 7 WITHSCORES
ZRANGEBYSCORE %[1]s 3 7 LIMIT 2 3 WITHSCORES
ZRANGEBYSCORE %[1]s "" ""
ZRANGEBYSCORE %[1]s ( (3
ZRANGEBYSCORE %[1]s 0x3 inf
ZRANGEBYSCORE %[1]s " 3" "7"
ZREVRANGEBYSCORE %[1]s 7 3 WITHSCORES
ZREVRANGEBYSCORE %[1]s +inf -inf LIMIT 5 5
ZREVRANGEBYSCORE %[1]s 3 7
ZCOUNT %[1]s -inf +inf
ZCOUNT %[1]s 3 7
ZCOUNT %[1]s (3 (7
ZCOUNT %[1]s 7 3
ZCOUNT %[1]s 100 200
`

var zLexQueries = `
ZRANGE %[1]s - + BYLEX
ZRANGE %[1]s [b [m BYLEX
ZRANGE %[1]s (b (m BYLEX LIMIT 1 3
ZRANGE %[1]s [m [b BYLEX REV
ZRANGE %[1]s + - BYLEX REV LIMIT 2 2
ZRANGE %[1]s - + BYLEX LIMIT -1 2
ZRANGE %[1]s + - BYLEX
ZRANGE %[1]s - - BYLEX
ZRANGE %[1]s [zzz + BYLEX
ZRANGE %[1]s [c [c BYLEX
ZRANGE %[1]s (c [c BYLEX
ZRANGEBYLEX %[1]s - [e
ZRANGEBYLEX %[1]s (e + LIMIT 0 4
ZREVRANGEBYLEX %[1]s [e -
ZREVRANGEBYLEX %[1]s + (e LIMIT 1 2
ZLEXCOUNT %[1]s - +
ZLEXCOUNT %[1]s [b (f
ZLEXCOUNT %[1]s (f [b
ZLEXCOUNT %[1]s [zz +
`

func TestZsetRangeOracle(t *testing.T) {
	for _, proto := range []int{2, 3} {
		d := newZsess(t, proto)
		d.run(zfill("small", 20, func(i int) string { return fmt.Sprint(i % 10) }, func(i int) string { return fmt.Sprintf("m%02d", i) }))
		d.run(zfill("big", 400, func(i int) string { return fmt.Sprint(i % 10) }, func(i int) string { return fmt.Sprintf("m%03d", i) }))
		d.enc("small")
		d.enc("big")
		for _, k := range []string{"small", "big", "nokey"} {
			d.run(fmt.Sprintf(zRangeQueries, k))
		}
		letters := func(i int) string {
			return string(rune('a'+i%26)) + strings.Repeat(string(rune('a'+i/26)), i/26)
		}
		d.run(zfill("lsmall", 26, func(int) string { return "0" }, letters))
		d.run(zfill("lbig", 300, func(int) string { return "0" }, letters))
		for _, k := range []string{"lsmall", "lbig", "nokey"} {
			d.run(fmt.Sprintf(zLexQueries, k))
		}
	}
}

func TestZsetRangeErrorsOracle(t *testing.T) {
	d := newZsess(t, 2)
	d.run(`
ZADD z 1 a 2 b 3 c
SET str x
ZRANGE str 0 -1
ZRANGE z 0 -1 LIMIT 0 1
ZRANGE z a b BYLEX WITHSCORES
ZRANGE z - + BYLEX WITHSCORES
ZRANGE z 0 1 BYSCORE BYLEX
ZRANGE z 0 1 REV REV
ZRANGE z 0 1 FOO
ZRANGE z a 1
ZRANGE z 0 b
ZRANGE z 0 1 LIMIT a 1 BYSCORE
ZRANGE z 0 1 BYSCORE LIMIT 1
ZRANGE z 0 1 BYSCORE LIMIT 1 x
ZRANGE z x 1 BYSCORE
ZRANGE z (x 1 BYSCORE
ZRANGE z nan 1 BYSCORE
ZRANGE z 1 (nan BYSCORE
ZRANGE z a b BYLEX
ZRANGE z [a b BYLEX
ZRANGE z -a + BYLEX
ZRANGE z - ++ BYLEX
ZRANGE nokey a b BYLEX
ZRANGE nokey x 1 BYSCORE
ZRANGEBYSCORE z 0 1 REV
ZRANGEBYSCORE z 0 1 BYLEX
ZRANGEBYSCORE z 0 1 WITHSCORES WITHSCORES
ZRANGEBYLEX z - + WITHSCORES
ZREVRANGE z 0 1 REV
ZREVRANGE z 0 1 BYSCORE
ZREVRANGE z 0 1 LIMIT 0 1
ZRANGEBYSCORE z 0 1 LIMIT
ZCOUNT z a b
ZCOUNT str 0 1
ZCOUNT nokey a 1
ZLEXCOUNT z a b
ZLEXCOUNT str - +
ZRANGESTORE dst z 0 -1 WITHSCORES
ZRANGESTORE dst str 0 -1
ZRANGESTORE dst z 0 -1 LIMIT 0 1
ZRANGESTORE dst z x 1 BYSCORE
`)
}

func TestZsetRangestoreOracle(t *testing.T) {
	d := newZsess(t, 2)
	d.run(zfill("big", 300, func(i int) string { return fmt.Sprint(i % 7) }, func(i int) string { return fmt.Sprintf("m%03d", i) }))
	d.run(`
ZADD z 1 a 2 b 3 c 4 d 5 e
ZRANGESTORE d1 z 0 -1
ZRANGE d1 0 -1 WITHSCORES
ZRANGESTORE d1 z 1 2 REV
ZRANGE d1 0 -1 WITHSCORES
ZRANGESTORE d2 z 2 4 BYSCORE LIMIT 1 5
ZRANGE d2 0 -1 WITHSCORES
ZRANGESTORE d3 z [b [d BYLEX REV
ZRANGE d3 0 -1 WITHSCORES
ZRANGESTORE d3 z 10 20 BYSCORE
ZCARD d3
ZRANGESTORE d3 nokey 0 -1
SET str x
ZRANGESTORE str z 0 1
ZRANGE str 0 -1
ZRANGESTORE str nokey 0 1
GET str
ZRANGESTORE z z 0 1
ZRANGE z 0 -1 WITHSCORES
ZRANGESTORE b1 big 0 -1
ZRANGESTORE b2 big 0 127
ZRANGESTORE b3 big 0 128
ZRANGESTORE b4 big 0 6 BYSCORE
ZRANGESTORE b5 big 0 2 BYSCORE
`)
	for _, k := range []string{"d1", "d2", "big", "b1", "b2", "b3", "b4", "b5"} {
		d.enc(k)
	}
}

func TestZsetRemrangeOracle(t *testing.T) {
	for _, n := range []int{20, 300} {
		d := newZsess(t, 2)
		score := func(i int) string { return fmt.Sprint(i % 10) }
		member := func(i int) string { return fmt.Sprintf("m%03d", i) }
		d.run(zfill("z", n, score, member))
		d.run(`
ZREMRANGEBYRANK z 0 1
ZREMRANGEBYRANK z -2 -1
ZREMRANGEBYRANK z 5 2
ZREMRANGEBYRANK z 1000 2000
ZREMRANGEBYRANK z -1000 0
ZRANGE z 0 -1 WITHSCORES
ZREMRANGEBYSCORE z 2 3
ZREMRANGEBYSCORE z (8 +inf
ZREMRANGEBYSCORE z 100 200
ZREMRANGEBYSCORE z 5 (5
ZRANGE z 0 -1 WITHSCORES
ZREMRANGEBYRANK z a 1
ZREMRANGEBYSCORE z a 1
ZREMRANGEBYLEX z a b
ZREMRANGEBYRANK nokey 0 1
ZREMRANGEBYSCORE nokey 0 1
ZREMRANGEBYLEX nokey - +
SET str x
ZREMRANGEBYRANK str 0 1
ZREMRANGEBYSCORE str a 1
ZREMRANGEBYSCORE z -inf +inf
ZCARD z
`)
		d.enc("z")
		letters := func(i int) string { return fmt.Sprintf("%c%03d", 'a'+i%26, i) }
		d.run(zfill("l", n, func(int) string { return "0" }, letters))
		d.run(`
ZREMRANGEBYLEX l [b (d
ZREMRANGEBYLEX l (x +
ZREMRANGEBYLEX l [m [c
ZREMRANGEBYLEX l - [a
ZRANGE l 0 -1
ZLEXCOUNT l - +
ZREMRANGEBYLEX l - +
ZCARD l
`)
	}
}

func TestZsetSetOpsOracle(t *testing.T) {
	for _, proto := range []int{2, 3} {
		d := newZsess(t, proto)
		d.run(zfill("big", 200, func(i int) string { return fmt.Sprint(i % 13) }, func(i int) string { return fmt.Sprintf("m%03d", i) }))
		d.run(zfill("big2", 150, func(i int) string { return fmt.Sprint(i) }, func(i int) string { return fmt.Sprintf("m%03d", 2*i) }))
		d.run(`
ZADD a 1 x 2 y 3 z
ZADD b 10 y 20 z 30 w
ZADD c 5 z 6 q
ZADD infs inf x -inf y
SADD s1 x y w extra
SADD s2 1 2 3 x
ZUNION 3 a s1 s2 WITHSCORES
ZUNION 2 s1 b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES
ZINTER 2 s1 b WITHSCORES
ZINTER 2 a s1 WEIGHTS 1 5 WITHSCORES
ZDIFF 2 s1 a WITHSCORES
ZDIFF 2 a s1 WITHSCORES
ZINTERCARD 2 s1 s2
ZINTERCARD 2 s1 a
ZUNIONSTORE fromset 1 s2
ZRANGE fromset 0 -1 WITHSCORES
ZUNION 2 a b
ZUNION 2 a b WITHSCORES
ZUNION 3 a b c WITHSCORES
ZUNION 2 a b WEIGHTS 2 3 WITHSCORES
ZUNION 2 a b WEIGHTS 2 3 AGGREGATE MIN WITHSCORES
ZUNION 2 a b AGGREGATE max WITHSCORES
ZUNION 2 a infs WITHSCORES
ZUNION 2 infs infs WEIGHTS 1 -1 WITHSCORES
ZUNION 2 infs a WEIGHTS 0 1 WITHSCORES
ZUNION 2 a nokey WITHSCORES
ZUNION 1 nokey
ZINTER 2 a b WITHSCORES
ZINTER 3 a b c WITHSCORES
ZINTER 2 a b WEIGHTS 1 0.5 AGGREGATE MAX WITHSCORES
ZINTER 2 a b AGGREGATE MIN
ZINTER 2 infs infs WEIGHTS 1 -1 WITHSCORES
ZINTER 2 infs a WEIGHTS 0 1 WITHSCORES
ZINTER 2 infs a WEIGHTS 0 1 AGGREGATE MAX WITHSCORES
ZINTER 2 a nokey
ZDIFF 2 a b WITHSCORES
ZDIFF 3 b a c WITHSCORES
ZDIFF 1 b
ZDIFF 2 nokey a
ZINTERCARD 2 a b
ZINTERCARD 2 a b LIMIT 1
ZINTERCARD 2 a b LIMIT 0
ZINTERCARD 3 a b c
ZINTERCARD 2 big big2
ZINTERCARD 2 big big2 LIMIT 10
ZUNION 2 big big2 WITHSCORES
ZINTER 2 big big2 WEIGHTS 2 -1 WITHSCORES
ZDIFF 2 big big2 WITHSCORES
ZUNIONSTORE u 3 a b c WEIGHTS 1 2 3
ZRANGE u 0 -1 WITHSCORES
ZINTERSTORE i 2 a b AGGREGATE MAX
ZRANGE i 0 -1 WITHSCORES
ZDIFFSTORE df 2 b a
ZRANGE df 0 -1 WITHSCORES
ZINTERSTORE i 2 a c2
ZRANGE i 0 -1
ZUNIONSTORE ub 2 big big2
ZINTERSTORE ib 2 big big2
ZDIFFSTORE db 2 big big2
ZUNIONSTORE a 2 a b
ZRANGE a 0 -1 WITHSCORES
SET str x
ZUNIONSTORE str 1 b
ZRANGE str 0 -1
ZDIFFSTORE str 1 nokey
GET str
`)
		for _, k := range []string{"u", "i", "df", "ub", "ib", "db", "str"} {
			d.enc(k)
		}
		d.run(`
SET str x
ZUNION 0 a
ZUNION -1 a
ZUNION x a
ZUNION 3 a b
ZUNION 2 a str
ZUNION 2 a b WEIGHTS 1
ZUNION 2 a b WEIGHTS 1 x
ZUNION 2 a b AGGREGATE avg
ZUNION 2 a b AGGREGATE
ZUNION 2 a b FOO
ZUNIONSTORE d 2 a b WITHSCORES
ZINTER 0 a
ZINTERSTORE d 0 a
ZDIFF 2 a b WEIGHTS 1 2
ZDIFF 2 a b AGGREGATE SUM
ZDIFFSTORE d 0 a
ZINTERCARD 0 a
ZINTERCARD x a
ZINTERCARD 2 a
ZINTERCARD 1 a LIMIT -1
ZINTERCARD 1 a LIMIT x
ZINTERCARD 1 a WITHSCORES
ZINTERCARD 1 a WEIGHTS 1
ZINTERCARD 1 str
ZUNION 2 str nokey WEIGHTS x 1
`)
	}
}

func TestZsetPopOracle(t *testing.T) {
	for _, proto := range []int{2, 3} {
		d := newZsess(t, proto)
		d.run(`
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
ZPOPMIN z
ZPOPMAX z
ZPOPMIN z 2
ZPOPMAX z 1
ZPOPMIN z 0
ZPOPMIN z -1
ZPOPMIN z x
ZPOPMIN z 1 2
ZPOPMIN z 100
ZCARD z
ZPOPMIN z
ZPOPMIN nokey 0
ZPOPMAX nokey 5
SET str x
ZPOPMIN str
ZPOPMIN str 0
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
ZADD y 7 g
BZPOPMIN nokey z 0
BZPOPMAX z y 0
BZPOPMIN y 0.01
BZPOPMIN nokey 0.01
BZPOPMIN str z 0
BZPOPMIN z x
BZPOPMIN z -1
ZMPOP 1 z MIN
ZMPOP 2 nokey z MAX COUNT 2
ZMPOP 1 z min count 100
ZMPOP 1 z MIN
ZMPOP 1 nokey MIN
ZADD z 1 a 2 b 3 c
ZMPOP 0 z MIN
ZMPOP x z MIN
ZMPOP 2 z MIN
ZMPOP 1 z FOO
ZMPOP 1 z MIN COUNT 0
ZMPOP 1 z MIN COUNT x
ZMPOP 1 z MIN COUNT 1 COUNT 1
ZMPOP 1 z MIN COUNT
ZMPOP 1 z MIN FOO
ZMPOP 1 str MIN
ZMPOP 2 nokey str MIN
BZMPOP 0 1 z MAX COUNT 2
BZMPOP 0.01 1 nokey MAX
BZMPOP x 1 z MAX
BZMPOP 0 0 z MAX
BZMPOP -1 1 z MAX
BZMPOP 0 1 z FOO
BZMPOP 0 1 str MIN
BZMPOP 0 2 z nokey MIN COUNT 10
ZCARD z
`)
	}
}

func TestZsetRandmemberOracle(t *testing.T) {
	for _, proto := range []int{2, 3} {
		d := newZsess(t, proto)
		d.run(`
ZADD one 5 a
ZRANDMEMBER one
ZRANDMEMBER one 1
ZRANDMEMBER one 1 WITHSCORES
ZRANDMEMBER one -3 WITHSCORES
ZRANDMEMBER one 0
ZRANDMEMBER one 0 WITHSCORES
ZRANDMEMBER nokey
ZRANDMEMBER nokey 5
ZRANDMEMBER nokey -5 WITHSCORES
ZRANDMEMBER one x
ZRANDMEMBER one 1 FOO
ZRANDMEMBER one 1 WITHSCORES x
ZRANDMEMBER one -9223372036854775808
ZRANDMEMBER one 9223372036854775807 WITHSCORES
ZRANDMEMBER one -4611686018427387904 WITHSCORES
ZRANDMEMBER one 4611686018427387904 WITHSCORES
SET str x
ZRANDMEMBER str
ZRANDMEMBER str 1
`)
	}
	// Random answers: check their shape and membership.
	e := newEnv(t)
	var args []string
	for i := 0; i < 300; i++ {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("m%d", i))
	}
	for _, n := range []int{5, 300} {
		key := fmt.Sprintf("z%d", n)
		e.do(append([]string{"ZADD", key}, args[:2*n]...)...)
		for _, count := range []int{1, 3, n / 2, n - 1, n, n + 10, -7, -2 * n} {
			v := e.do("ZRANDMEMBER", key, fmt.Sprint(count), "WITHSCORES")
			want := min(count, n)
			if count < 0 {
				want = -count
			}
			if len(v.Elems) != 2*want {
				t.Fatalf("ZRANDMEMBER %s %d: %d elements", key, count, len(v.Elems))
			}
			seen := map[string]bool{}
			for i := 0; i < len(v.Elems); i += 2 {
				m, s := v.Elems[i].Str, v.Elems[i+1].Str
				if "m"+s != m {
					t.Fatalf("ZRANDMEMBER %s %d: %s has score %s", key, count, m, s)
				}
				if count > 0 && seen[m] {
					t.Fatalf("ZRANDMEMBER %s %d: %s repeated", key, count, m)
				}
				seen[m] = true
			}
		}
	}
}

func TestZsetScanOracle(t *testing.T) {
	d := newZsess(t, 3)
	d.run(`
ZADD z 1 a 2 b 3.5 c 1e300 d inf e -0 f 0.1 g
ZSCAN z 0
ZSCAN z 0 COUNT 1
ZSCAN z 0 MATCH [a-c]
ZSCAN z 0 MATCH * COUNT 100
ZSCAN z "" MATCH x*
ZSCAN z -1
ZSCAN z +0
ZSCAN z x
ZSCAN z " 1"
ZSCAN z 18446744073709551616
ZSCAN z 0 COUNT 0
ZSCAN z 0 COUNT x
ZSCAN z 0 MATCH
ZSCAN z 0 TYPE zset
ZSCAN z 0 FOO bar
ZSCAN nokey 0
ZSCAN nokey 0 COUNT 0
SET str x
ZSCAN str 0
`)
	// A skiplist-encoded set: a full scan returns every member.
	e := newEnv(t)
	var args []string
	for i := 0; i < 1000; i++ {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("m%d", i))
	}
	e.do(append([]string{"ZADD", "big"}, args...)...)
	seen := map[string]int{}
	cursor := "0"
	for rounds := 0; ; rounds++ {
		v := e.do("ZSCAN", "big", cursor, "COUNT", "20")
		cursor = v.Elems[0].Str
		for i := 0; i < len(v.Elems[1].Elems); i += 2 {
			m := v.Elems[1].Elems[i].Str
			if strings.HasPrefix(m, "m") && "m"+v.Elems[1].Elems[i+1].Str != m {
				t.Fatalf("bad pair %s", m)
			}
			seen[m]++
		}
		// Remove and add members while scanning: members present the whole
		// time must still be returned.
		if rounds == 5 {
			for i := 0; i < 900; i++ {
				e.do("ZADD", "big", "1", fmt.Sprintf("tmp%d", i))
			}
		}
		if rounds == 10 {
			for i := 0; i < 900; i++ {
				e.do("ZREM", "big", fmt.Sprintf("tmp%d", i))
			}
		}
		if cursor == "0" {
			break
		}
		if rounds > 10000 {
			t.Fatal("scan does not end")
		}
	}
	for i := 0; i < 1000; i++ {
		if seen[fmt.Sprintf("m%d", i)] == 0 {
			t.Fatalf("m%d not returned", i)
		}
	}
}

func TestZsetEncodingOracle(t *testing.T) {
	d := newZsess(t, 2)
	long := strings.Repeat("x", 65)
	d.run(zfill("z128", 128, func(i int) string { return "1" }, func(i int) string { return fmt.Sprint(i) }))
	d.run(zfill("z129", 129, func(i int) string { return "1" }, func(i int) string { return fmt.Sprint(i) }))
	d.run("ZADD long 1 " + long + "\nZADD long2 1 a 2 " + long + "\nZADD l64 1 " + long[:64] + "\nZADD shrink 1 " + long + " 2 a\nZREM shrink " + long)
	d.run("ZADD inc 1 a\nZINCRBY inc 1 " + long)
	for _, k := range []string{"z128", "z129", "long", "long2", "l64", "shrink", "inc"} {
		d.enc(k)
	}
}

// TestZsetRandomOracle runs random commands on a few keys against Redis.
func TestZsetRandomOracle(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("ZSET_ORACLE_SEED"), 10, 64); err == nil {
		seed = v // repeat a failed run
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	d := newZsess(t, 2)
	keys := []string{"k1", "k2", "k3"}
	member := func() string { return fmt.Sprintf("m%d", rng.IntN(200)) }
	score := func() string {
		switch rng.IntN(6) {
		case 0:
			return fmt.Sprint(rng.IntN(10))
		case 1:
			return fmt.Sprintf("%g", rng.NormFloat64()*100)
		case 2:
			return []string{"inf", "-inf", "0", "-0", "1e300", "0.1"}[rng.IntN(6)]
		}
		return fmt.Sprint(rng.IntN(50))
	}
	bound := func() string {
		p := ""
		if rng.IntN(3) == 0 {
			p = "("
		}
		return p + score()
	}
	lex := func() string {
		switch rng.IntN(8) {
		case 0:
			return "-"
		case 1:
			return "+"
		}
		return []string{"[", "("}[rng.IntN(2)] + member()
	}
	var script strings.Builder
	for i := 0; i < 3000; i++ {
		k := keys[rng.IntN(len(keys))]
		var cmd string
		switch rng.IntN(16) {
		case 0, 1, 2:
			var b strings.Builder
			for j := rng.IntN(30) + 1; j > 0; j-- {
				fmt.Fprintf(&b, " %s %s", score(), member())
			}
			opt := []string{"", "NX", "XX", "GT", "LT", "CH", "XX CH", "GT CH"}[rng.IntN(8)]
			cmd = fmt.Sprintf("ZADD %s %s%s", k, opt, b.String())
		case 3:
			cmd = fmt.Sprintf("ZINCRBY %s %s %s", k, score(), member())
		case 4:
			cmd = fmt.Sprintf("ZREM %s %s %s", k, member(), member())
		case 5:
			cmd = fmt.Sprintf("ZRANGE %s %d %d WITHSCORES", k, rng.IntN(300)-150, rng.IntN(300)-150)
		case 6:
			cmd = fmt.Sprintf("ZRANGEBYSCORE %s %s %s WITHSCORES LIMIT %d %d", k, bound(), bound(), rng.IntN(5), rng.IntN(20)-1)
		case 7:
			cmd = fmt.Sprintf("ZREVRANGEBYSCORE %s %s %s WITHSCORES", k, bound(), bound())
		case 8:
			cmd = fmt.Sprintf("ZCOUNT %s %s %s", k, bound(), bound())
		case 9:
			cmd = fmt.Sprintf("ZRANK %s %s", k, member())
		case 10:
			cmd = fmt.Sprintf("ZREMRANGEBYSCORE %s %s %s", k, bound(), bound())
		case 11:
			cmd = fmt.Sprintf("ZREMRANGEBYRANK %s %d %d", k, rng.IntN(40)-20, rng.IntN(40)-20)
		case 12:
			cmd = fmt.Sprintf("ZUNIONSTORE %s 2 %s %s WEIGHTS %s %s AGGREGATE %s", k, keys[rng.IntN(3)], keys[rng.IntN(3)],
				fmt.Sprint(rng.IntN(5)-2), fmt.Sprint(rng.IntN(5)), []string{"SUM", "MIN", "MAX"}[rng.IntN(3)])
		case 13:
			cmd = fmt.Sprintf("ZINTER 2 %s %s WITHSCORES", keys[rng.IntN(3)], keys[rng.IntN(3)])
		case 14:
			cmd = fmt.Sprintf("ZPOP%s %s %d", []string{"MIN", "MAX"}[rng.IntN(2)], k, rng.IntN(4))
		case 15:
			// Lex ranges are only defined when all scores are equal.
			switch rng.IntN(5) {
			case 0:
				cmd = fmt.Sprintf("ZADD lx 0 %s 0 %s", member(), member())
			case 1:
				cmd = fmt.Sprintf("ZRANGEBYLEX lx %s %s LIMIT %d %d", lex(), lex(), rng.IntN(3), rng.IntN(10)-1)
			case 2:
				cmd = fmt.Sprintf("ZREVRANGEBYLEX lx %s %s", lex(), lex())
			case 3:
				cmd = fmt.Sprintf("ZLEXCOUNT lx %s %s", lex(), lex())
			case 4:
				cmd = fmt.Sprintf("ZREMRANGEBYLEX lx %s %s", lex(), lex())
			}
		}
		script.WriteString(cmd + "\n")
		if i%50 == 0 {
			for _, k := range keys {
				script.WriteString("ZRANGE " + k + " 0 -1 WITHSCORES\n")
			}
		}
	}
	d.run(script.String())
	for _, k := range append(keys, "lx") {
		d.enc(k)
	}
}

// TestZsetLexMixedScores: with unequal scores lex ranges are undefined,
// but a listpack answers deterministically (a linear walk): match it.
func TestZsetLexMixedScores(t *testing.T) {
	d := newZsess(t, 2)
	d.run(`
ZADD z 1 d 2 b 3 a 4 e 5 c 6 f
ZRANGEBYLEX z - +
ZRANGEBYLEX z [b [d
ZRANGEBYLEX z (a +
ZRANGEBYLEX z [c [e
ZREVRANGEBYLEX z [e [b
ZREVRANGEBYLEX z + (c
ZLEXCOUNT z [b [e
ZLEXCOUNT z [a [f
ZLEXCOUNT z (d +
ZRANGE z [a [c BYLEX
ZRANGE z [c [a BYLEX REV
ZREMRANGEBYLEX z [c [e
ZRANGE z 0 -1
`)
}

// TestZsetBlocking drives the blocking protocol: block when empty, serve
// when re-run with Serving, reply null when blocking is not allowed.
func TestZsetBlocking(t *testing.T) {
	ks := keyspace.New(16)
	run := func(noBlock, serving bool, args ...string) (*Ctx, string) {
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		cmd := Lookup(bargs[0])
		w := &resp.Writer{Proto: 2}
		c := &Ctx{Args: bargs, Cmd: cmd, W: w, DB: ks.DB(0), KS: ks, Now: ks.Now(), NoBlock: noBlock, Serving: serving}
		cmd.Handler(c)
		return c, string(w.Buf)
	}
	for _, args := range [][]string{
		{"BZPOPMIN", "a", "b", "1.5"},
		{"BZPOPMAX", "a", "b", "0"},
		{"BZMPOP", "1.5", "2", "a", "b", "MIN", "COUNT", "2"},
	} {
		c, out := run(false, false, args...)
		if !c.Blocked || out != "" || len(c.BlockKeys) != 2 || string(c.BlockKeys[1]) != "b" {
			t.Fatalf("%v: blocked=%v out=%q keys=%q", args, c.Blocked, out, c.BlockKeys)
		}
		if args[len(args)-1] == "1.5" || args[1] == "1.5" {
			if c.BlockTimeout != c.Now+1500 {
				t.Fatalf("%v: deadline %d, now %d", args, c.BlockTimeout, c.Now)
			}
		} else if c.BlockTimeout != 0 {
			t.Fatalf("%v: deadline %d", args, c.BlockTimeout)
		}
		if _, out := run(true, false, args...); out != "*-1\r\n" {
			t.Fatalf("%v in MULTI: %q", args, out)
		}
		// Served with nothing there: blocks again.
		if c, _ := run(true, true, args...); !c.Blocked {
			t.Fatalf("%v: not re-blocked", args)
		}
		// A wrong-type key is skipped while serving.
		Exec(ks, 0, &resp.Writer{}, [][]byte{[]byte("SET"), []byte("a"), []byte("x")})
		Exec(ks, 0, &resp.Writer{}, [][]byte{[]byte("ZADD"), []byte("b"), []byte("1"), []byte("m1"), []byte("2"), []byte("m2")})
		c, out = run(true, true, args...)
		if c.Blocked || c.Dirty == 0 || !strings.Contains(out, "m") {
			t.Fatalf("%v: served %q blocked=%v dirty=%d", args, out, c.Blocked, c.Dirty)
		}
		Exec(ks, 0, &resp.Writer{}, [][]byte{[]byte("DEL"), []byte("a"), []byte("b")})
		ks.DB(0).Delete([]byte("a"))
		ks.DB(0).Delete([]byte("b"))
	}
}

func TestZsetKeysFunc(t *testing.T) {
	cases := []struct {
		args string
		want []int
	}{
		{"ZUNION 2 a b WITHSCORES", []int{2, 3}},
		{"ZUNION 5 a b", []int{2, 3}},
		{"ZUNION x a b", nil},
		{"ZUNIONSTORE d 2 a b", []int{1, 3, 4}},
		{"ZUNIONSTORE d 0 a b", []int{1}},
		{"ZINTERCARD 1 a LIMIT 1", []int{2}},
		{"ZMPOP 2 a b MIN", []int{2, 3}},
		{"BZMPOP 0 2 a b MIN", []int{3, 4}},
	}
	for _, tc := range cases {
		args := zBytesArgs(strings.Fields(tc.args))
		got := Lookup(args[0]).KeyPositions(args, nil)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.args, got, tc.want)
		}
	}
}

func zBytesArgs(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}
