package commands

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"redgo/internal/resp"
)

// streamDiff runs a script on redgo and redis-server (RESP proto) and
// compares the replies. A line starting with "loose " compares with
// times masked: integers that are unix ms times, IDs generated from the
// clock, the value after "idle", and the idle field of XPENDING's
// extended form.
func streamDiff(t *testing.T, proto int, script string) {
	t.Helper()
	e := newEnv(t)
	o := newOracle(t)
	if proto == 3 {
		e.Proto = 3
		o.do("HELLO", "3")
	}
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		loose := false
		if rest, ok := strings.CutPrefix(line, "loose "); ok {
			loose, line = true, rest
		}
		bargs, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			t.Fatalf("bad script line %q", line)
		}
		args := make([]string, len(bargs))
		for i, a := range bargs {
			args[i] = string(a)
		}
		got, want := e.do(args...), o.do(args...)
		if loose {
			got, want = maskTimes(got), maskTimes(want)
		}
		if g, w := hsTyped(got), hsTyped(want); g != w {
			t.Errorf("%.200s\n  redgo: %.600s\n  redis: %.600s", line, g, w)
		}
	}
}

var clockID = regexp.MustCompile(`^1\d{12}-\d+$`)

func maskTimes(v resp.Value) resp.Value {
	switch v.Type {
	case ':':
		if v.Int >= 1e12 {
			return resp.Value{Type: '+', Str: "TIME"}
		}
	case '$':
		if clockID.MatchString(v.Str) {
			return resp.Value{Type: '+', Str: "ID"}
		}
	case '*', '%':
		out := v
		out.Elems = make([]resp.Value, len(v.Elems))
		for i, e := range v.Elems {
			out.Elems[i] = maskTimes(e)
			if i > 0 && v.Elems[i-1].Type == '$' && v.Elems[i-1].Str == "idle" && e.Type == ':' {
				out.Elems[i] = resp.Value{Type: '+', Str: "IDLE"}
			}
		}
		if len(v.Elems) == 4 && v.Elems[0].Type == '$' && v.Elems[1].Type == '$' && v.Elems[2].Type == ':' && v.Elems[3].Type == ':' && v.Elems[2].Int < 1e12 {
			out.Elems[2] = resp.Value{Type: '+', Str: "IDLE"}
		}
		return out
	}
	return v
}

func bothProtos(t *testing.T, script string) {
	t.Helper()
	t.Run("resp2", func(t *testing.T) { streamDiff(t, 2, script) })
	t.Run("resp3", func(t *testing.T) { streamDiff(t, 3, script) })
}

func TestStreamAddRangeDiff(t *testing.T) {
	bothProtos(t, `
		xadd s 1-1 a 1 b 2
		xadd s 1-2 a 3 b 4
		xadd s 2 c 5
		xadd s 2-* d 6
		xadd s 3-* e 7
		xadd s 1-5 x y
		xadd s 3-1 x y
		xadd s 0-0 x y
		xadd s2 0-* x y
		xadd s2 0-0 x y
		xadd s x
		xadd s 10-1 x
		xadd s 10-1 x y z
		xadd s abc x y
		xadd s - x y
		xadd s + x y
		xadd s 18446744073709551616 x y
		xadd s 1-2-3 x y
		xadd s " 7" x y
		xlen s
		xlen nokey
		xrange s - +
		xrange s 1 1
		xrange s 1-2 +
		xrange s (1-1 (3-0
		xrange s - + count 2
		xrange s - + count 0
		xrange s - + count -1
		xrange s - + count x
		xrange s - + limit 1
		xrange s (- +
		xrange s ( +
		xrange s 18446744073709551615-18446744073709551615 +
		xrange s (18446744073709551615-18446744073709551615 +
		xrange s - (0-0
		xrange s + -
		xrevrange s + -
		xrevrange s + - count 1
		xrevrange s (3-0 (1-1
		xrevrange s 2 2
		xrange nokey - +
		xrevrange nokey + -
		xadd big 18446744073709551615-18446744073709551614 a 1
		xadd big 18446744073709551615-* a 1
		xadd big * a 1
		xadd big 18446744073709551615-* a 1
		xrange big - +
		xadd s nomkstream 9-0 f v
		xadd missing nomkstream * f v
		exists missing
		set str v
		xadd str * a 1
		xlen str
		xrange str - +
		xadd s 5-0 f1 v1 f2 v2 f3 v3
		xadd s 6-0 f1 v1 f2 v2 f3 v3
		xadd s 7-0 f2 v1 f1 v2
		xadd s 8-0 "" ""
		xrange s 5 +
		type s
		object encoding s
		loose xadd t * a 1
		loose xadd t * a 2
		xlen t
	`)
}

func TestStreamTrimDiff(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 300; i++ {
		b.WriteString("xadd s " + strconv.Itoa(i) + "-0 f v" + strconv.Itoa(i) + "\n")
	}
	bothProtos(t, b.String()+`
		xinfo stream s
		xtrim s maxlen ~ 250
		xlen s
		xtrim s maxlen ~ 150
		xlen s
		xtrim s maxlen = 120
		xlen s
		xrange s - + count 2
		xtrim s minid 200
		xlen s
		xtrim s minid ~ 250
		xlen s
		xtrim s maxlen ~ 0 limit 10
		xtrim s maxlen ~ 0 limit 200
		xlen s
		xtrim s maxlen 10 limit 10
		xtrim s limit 10
		xtrim s
		xtrim s maxlen
		xtrim s maxlen -1
		xtrim s maxlen x
		xtrim s minid x
		xtrim s minid -
		xtrim s maxlen 1 minid 1
		xtrim s maxlen 1 limit -1
		xtrim s foo 1
		xtrim nokey maxlen 1
		xadd s maxlen 5 400-0 f v
		xlen s
		xadd s maxlen = 3 401-0 f v
		xadd s minid 401 402-0 f v
		xrange s - +
		xadd s limit 10 403-0 f v
		xadd s maxlen 2 limit 10 403-0 f v
		xadd s maxlen ~ 2 limit 10 403-0 f v
		xadd s maxlen ~ 2 limit -3 404-0 f v
		xadd s maxlen 1 minid 1 405-0 f v
		xadd s maxlen 0 406-0 f v
		xlen s
		xinfo stream s
		set str v
		xtrim str maxlen 1
	`)
}

func TestStreamDelDiff(t *testing.T) {
	bothProtos(t, `
		xadd s 1-0 a 1
		xadd s 2-0 b 2
		xadd s 3-0 c 3
		xadd s 4-0 d 4
		xdel s 2-0 2-0 9-0
		xdel s 1
		xdel s x
		xdel s 3-0 x
		xrange s - +
		xinfo stream s
		xdel s 3-0 4-0
		xlen s
		exists s
		xinfo stream s
		xadd s 3-0 x y
		xadd s 5-0 x y
		xinfo stream s
		xdel nokey 1-0
		set str v
		xdel str 1-0
		xsetid s 4-0
		xsetid s 5-0
		xsetid s 10-0 entriesadded 1
		xsetid s 10-0 entriesadded -1
		xsetid s 10-0 entriesadded 7 maxdeletedid 11-0
		xsetid s 10-0 entriesadded 7 maxdeletedid 9-0
		xsetid s 10-0 foo
		xsetid s + 
		xsetid nokey 1-0
		xsetid str 1-0
		xinfo stream s
		xadd s 10-0 x y
		xadd s 10-1 x y
		xadd e 1-0 a b
		xdel e 1-0
		xsetid e 0-1
		xinfo stream e
		loose xadd e * a b
	`)
}

func TestStreamGroupDiff(t *testing.T) {
	bothProtos(t, `
		xgroup create s g $
		xgroup create s g $ mkstream
		xgroup create s g $ mkstream
		xgroup create s g2 0 entriesread 5
		xgroup create s g3 0 entriesread -2
		xgroup create s g3 - 
		xgroup create s g3 0 foo
		xgroup create s g3 0 mkstream entriesread 1 mkstream mkstream
		xgroup setid s nog 0
		xgroup setid s g 0 entriesread 3
		xgroup setid s g - 
		xgroup setid s g + 
		xgroup setid nokey g 0
		xgroup destroy s nog
		xgroup createconsumer s g c1
		xgroup createconsumer s g c1
		xgroup createconsumer s nog c1
		xgroup delconsumer s g c1
		xgroup delconsumer s g c1
		xgroup foo s g
		xgroup help
		xgroup create
		set str v
		xgroup create str g $
		xadd s 1-0 a 1
		xadd s 2-0 b 2
		xadd s 3-0 c 3
		xinfo groups s
		xgroup setid s g 0
		loose xreadgroup group g c1 count 1 streams s >
		loose xreadgroup group g c1 streams s >
		loose xreadgroup group g c1 streams s >
		loose xreadgroup group g c1 streams s 0
		loose xreadgroup group g c1 count 1 streams s 1-0
		loose xreadgroup group g c2 streams s 0
		xinfo groups s
		loose xinfo consumers s g
		xpending s g
		loose xpending s g - + 10
		loose xpending s g - + 10 c1
		loose xpending s g - + 10 nobody
		loose xpending s g (1-0 + 1
		loose xpending s g idle 0 - + 10
		loose xpending s g idle 100000 - + 10
		xpending s g - + x
		xpending s g idle x - + 10
		xpending s g idle 1 - +
		xpending s g - +
		xpending s g x + 10
		xpending s nog
		xpending nokey g
		xpending str g
		xack s g 1-0 9-0
		xack s g 1-0
		xack s g x
		xack s nog 1-0
		xack nokey g 1-0
		xpending s g
		xdel s 2-0
		loose xreadgroup group g c1 streams s 0
		xadd s 4-0 d 4
		xinfo groups s
		loose xreadgroup group g c1 noack streams s >
		xpending s g
		xinfo groups s
		xgroup destroy s g2
		xgroup destroy s g2
		xinfo groups s
		xgroup delconsumer s g c1
		xpending s g
	`)
}

func TestStreamReadDiff(t *testing.T) {
	bothProtos(t, `
		xadd a 1-0 f 1
		xadd a 2-0 f 2
		xadd b 1-0 g 1
		xread streams a b 0 0
		xread count 1 streams a b 0 0
		xread streams a b 1 $
		xread streams a b $ $
		xread streams a nokey 0 0
		xread streams nokey $
		xread streams a
		xread streams a b 0
		xread streams
		xread count x streams a 0
		xread count -5 streams a 0
		xread block x streams a 0
		xread block -1 streams a 0
		xread block 0 streams a 0
		xread group g c streams a 0
		xread noack streams a 0
		xread streams a >
		xread streams a x
		xread foo streams a 0
		xreadgroup streams a 0
		xreadgroup group g c streams a >
		xgroup create a g 0
		xreadgroup group g c streams a $
		xreadgroup group g c streams a x
		xreadgroup group g c streams a b > >
		set str v
		xread streams str 0
		xreadgroup group g c streams str >
		loose xreadgroup group g c count 1 streams a >
		loose xreadgroup group g c block 0 streams a >
		loose xreadgroup group g c block 10 streams a >
		xread block 10 streams a $
	`)
}

func TestStreamClaimDiff(t *testing.T) {
	bothProtos(t, `
		xadd s 1-0 a 1
		xadd s 2-0 b 2
		xadd s 3-0 c 3
		xadd s 4-0 d 4
		xgroup create s g 0
		loose xreadgroup group g c1 streams s >
		loose xclaim s g c2 0 1-0 2-0
		loose xclaim s g c2 0 3-0 justid
		loose xclaim s g c2 1000000 4-0
		loose xpending s g - + 10
		loose xclaim s g c3 0 1-0 retrycount 7 idle 5000
		loose xpending s g - + 10
		loose xclaim s g c3 0 1-0 time 1000 justid
		xclaim s g c3 x 1-0
		xclaim s g c3 0 1-0 idle x
		xclaim s g c3 0 1-0 time x
		xclaim s g c3 0 1-0 retrycount x
		xclaim s g c3 0 1-0 lastid x
		xclaim s g c3 0 1-0 foo
		xclaim s nog c3 0 1-0
		xclaim nokey g c3 0 1-0
		xclaim s g c3 0 9-0
		xclaim s g c3 0 9-0 force
		xadd s 5-0 e 5
		loose xclaim s g c3 0 5-0 force
		loose xclaim s g c3 0 5-0 force justid lastid 5-0
		xinfo groups s
		xdel s 2-0
		loose xclaim s g c3 0 2-0
		xpending s g
		loose xautoclaim s g c4 0 0
		loose xautoclaim s g c4 0 0 count 1
		loose xautoclaim s g c4 0 0 count 2 justid
		loose xautoclaim s g c4 1000000 0
		xdel s 4-0
		loose xautoclaim s g c5 0 (1-0 justid
		xautoclaim s g c5 x 0
		xautoclaim s g c5 0 x
		xautoclaim s g c5 0 0 count 0
		xautoclaim s g c5 0 0 count x
		xautoclaim s g c5 0 0 foo
		xautoclaim s nog c5 0 0
		xautoclaim nokey g c5 0 0
		loose xinfo consumers s g
		xpending s g
	`)
}

func TestStreamInfoDiff(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 250; i++ {
		b.WriteString("xadd s " + strconv.Itoa(i) + "-" + strconv.Itoa(i%3) + " field value" + strconv.Itoa(i) + "\n")
	}
	bothProtos(t, b.String()+`
		xinfo stream s
		xgroup create s g 0
		xgroup create s g2 100
		loose xreadgroup group g alice count 3 streams s >
		loose xreadgroup group g bob count 2 streams s >
		loose xinfo stream s full
		loose xinfo stream s full count 2
		loose xinfo stream s full count 0
		loose xinfo stream s full count -1
		xinfo stream s full count x
		xinfo stream s full foo
		xinfo stream s foo
		xinfo stream s full count 1 x
		xinfo groups s
		loose xinfo consumers s g
		xinfo consumers s nog
		xinfo stream nokey
		xinfo groups nokey
		xinfo consumers nokey g
		set str v
		xinfo stream str
		xinfo help
		xinfo foo s
		xdel s 120-0
		xinfo groups s
		xtrim s maxlen 10
		xinfo groups s
		xinfo stream s
		xadd e 1-0 a b
		xdel e 1-0
		xinfo stream e
		xinfo stream e full
	`)
}
