package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"redgo/internal/resp"
)

// hsDiff is diff for the hash and set families: it runs script on redgo's
// handlers and on redis-server speaking RESP proto (2 or 3) and compares
// replies with their types at every level. A line may start with a mode:
//
//	sort   the reply's elements (a scan reply's element list) are sorted
//	pairs  the same, as field/value pairs
//	shape  only the reply's type and length count (random replies)
func hsDiff(t *testing.T, proto int, script string) {
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
		mode := ""
		for _, m := range []string{"sort ", "pairs ", "shape "} {
			if rest, ok := strings.CutPrefix(line, m); ok {
				mode, line = strings.TrimSpace(m), rest
			}
		}
		bargs, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			t.Fatalf("bad script line %q", line)
		}
		args := make([]string, len(bargs))
		for i, a := range bargs {
			args[i] = string(a)
		}
		got, want := hsNorm(e.do(args...), mode), hsNorm(o.do(args...), mode)
		if got != want {
			t.Errorf("%.200s\n  redgo: %.400s\n  redis: %.400s", line, got, want)
		}
	}
}

// hsTyped renders v with its RESP type at every level.
func hsTyped(v resp.Value) string {
	switch v.Type {
	case '*', '~', '>', '%':
		if v.Null {
			return string(v.Type) + "nil"
		}
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = hsTyped(e)
		}
		return string(v.Type) + "[" + strings.Join(parts, " ") + "]"
	}
	return string(v.Type) + v.String()
}

func hsNorm(v resp.Value, mode string) string {
	isAgg := func(v resp.Value) bool { return strings.IndexByte("*~%", v.Type) >= 0 }
	target := &v
	if len(v.Elems) == 2 && v.Elems[0].Type == '$' && isAgg(v.Elems[1]) {
		target = &v.Elems[1] // a scan reply
	}
	switch mode {
	case "sort", "pairs":
		step := 1
		if mode == "pairs" && len(target.Elems) > 0 && !isAgg(target.Elems[0]) {
			step = 2 // flat field/value pairs (RESP3 replies nest them)
		}
		var groups []string
		for i := 0; i+step <= len(target.Elems); i += step {
			var g []string
			for _, e := range target.Elems[i : i+step] {
				g = append(g, hsTyped(e))
			}
			groups = append(groups, strings.Join(g, " "))
		}
		slices.Sort(groups)
		head := string(v.Type)
		if target != &v {
			head = hsTyped(v.Elems[0])
		}
		if !isAgg(*target) {
			return head
		}
		return head + " sorted " + string(target.Type) + strings.Join(groups, " | ")
	case "shape":
		return fmt.Sprintf("%c len %d", v.Type, len(v.Elems))
	}
	return hsTyped(v)
}

// seq returns "prefix0 prefix1 ... prefix(n-1)" for building scripts.
func seq(prefix string, from, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = prefix + strconv.Itoa(from+i)
	}
	return strings.Join(parts, " ")
}

func TestSetBasicsDiff(t *testing.T) {
	script := `
		sadd s 3 1 2 -5 1
		smembers s
		scard s
		object encoding s
		sadd s 70000 -70000 9223372036854775807 -9223372036854775808
		smembers s
		sismember s 70000
		sismember s 07
		sismember s x
		smismember s 1 2 x 4
		smismember nokey 1 2
		srem s 1 x 2 1
		smembers s
		object encoding s
		sadd s 01
		object encoding s
		sort smembers s
		sismember s 01
		sismember s 1
		srem s 01 3 -5 70000 -70000 9223372036854775807 -9223372036854775808
		exists s
		srem s x
		scard nokey
		smembers nokey
		sismember nokey a
		sadd a x
		sadd b 1
		object encoding a
		object encoding b
		sadd c -0 +1 " 1" 1.0 99999999999999999999
		object encoding c
		set str x
		sadd str a
		srem str a
		scard str
		sismember str a
		smismember str a
		smembers str
		sadd s
		srem s
		smismember s
		sadd e ""
		smembers e
		srem e ""
		exists e
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestSetEncodingThresholds(t *testing.T) {
	hsDiff(t, 2, `
		sadd s `+seq("", 0, 512)+`
		object encoding s
		scard s
		sadd s 511
		object encoding s
		sadd s 512
		object encoding s
		sort smembers s
		srem s `+seq("", 0, 510)+`
		object encoding s
		sort smembers s
		sadd t `+seq("", -300, 600)+`
		object encoding t
		sadd u `+seq("", 0, 100)+` x
		object encoding u
		sadd w 1 40000 5000000000 -3
		object encoding w
		smembers w
	`)
}

func TestSetPopRandDiff(t *testing.T) {
	script := `
		sadd s 5 3 1 4 2
		spop s 10
		exists s
		sadd s 5 3 1 4 2
		spop s 5
		spop s
		spop nokey
		spop nokey 3
		spop nokey 0
		sadd s 1 2 3
		spop s 0
		spop s -1
		spop s x
		spop s 1 2
		shape spop s 1
		scard s
		srandmember nokey
		srandmember nokey 3
		srandmember s 0
		srandmember s x
		srandmember s 1 2
		srandmember s -9223372036854775808
		sadd r 10 20 30
		srandmember r 3
		srandmember r 100
		shape srandmember r 2
		shape srandmember r -7
		shape srandmember r
		sadd h a b c d
		sort srandmember h 4
		sort srandmember h 9
		shape srandmember h 2
		shape srandmember h -5
		sort spop h 4
		sadd m a 1 2 3
		srem m a
		object encoding m
		spop m 3
		set str x
		spop str
		spop str 1
		spop str 0
		srandmember str
		srandmember str 0
		srandmember str 1
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestSetPopLarge(t *testing.T) {
	// SPOP of most of a set rebuilds it from the kept members: 600 ints
	// (a hashtable) that keep 10 become an intset again, as in Redis.
	hsDiff(t, 2, `
		sadd s `+seq("", 0, 600)+`
		object encoding s
		shape spop s 590
		scard s
		object encoding s
		shape spop s 3
		scard s
		sadd t `+seq("m", 0, 100)+`
		shape spop t 99
		scard t
		object encoding t
		sadd u `+seq("m", 0, 100)+`
		shape spop u 10
		scard u
		sadd p `+seq("", 0, 600)+`
		expire p 100
		shape spop p 595
		ttl p
		object encoding p
	`)
	// The popped and kept members together are the original set.
	e := newEnv(t)
	e.do("SADD", "s", "a")
	for i := range 300 {
		e.do("SADD", "s", strconv.Itoa(i))
	}
	e.do("SREM", "s", "a")
	seen := map[string]bool{}
	for _, n := range []string{"290", "3", "1", "6"} {
		for _, v := range e.do("SPOP", "s", n).Elems {
			if seen[v.Str] {
				t.Fatalf("%s popped twice", v.Str)
			}
			seen[v.Str] = true
		}
	}
	if len(seen) != 300 || e.do("EXISTS", "s").Int != 0 {
		t.Fatalf("popped %d members, key exists %d", len(seen), e.do("EXISTS", "s").Int)
	}
}

func TestSetRandDistinct(t *testing.T) {
	e := newEnv(t)
	for _, members := range []string{seq("", 0, 50), seq("m", 0, 50), seq("", 0, 2000)} {
		e.do("DEL", "s")
		e.do(append([]string{"SADD", "s"}, strings.Fields(members)...)...)
		n := len(strings.Fields(members))
		for _, count := range []int{1, 2, 10, n / 3, n/3 + 1, n - 1, n} {
			r := e.do("SRANDMEMBER", "s", strconv.Itoa(count))
			got := map[string]bool{}
			for _, v := range r.Elems {
				if got[v.Str] {
					t.Fatalf("SRANDMEMBER %d: %s twice", count, v.Str)
				}
				if e.do("SISMEMBER", "s", v.Str).Int != 1 {
					t.Fatalf("SRANDMEMBER %d: %s not a member", count, v.Str)
				}
				got[v.Str] = true
			}
			if len(got) != count {
				t.Fatalf("SRANDMEMBER %d returned %d", count, len(got))
			}
		}
		// Negative counts repeat members but cover a small set.
		hits := map[string]int{}
		for _, v := range e.do("SRANDMEMBER", "s", strconv.Itoa(-50*n)).Elems {
			hits[v.Str]++
		}
		if len(hits) != n {
			t.Fatalf("SRANDMEMBER -%d hit %d of %d members", 50*n, len(hits), n)
		}
	}
}

func TestSmoveDiff(t *testing.T) {
	script := `
		sadd a 1 2 x
		sadd b 3
		smove a b 1
		sort smembers a
		smembers b
		smove a b 9
		smove a c x
		smembers c
		object encoding c
		smove a a 2
		smove a a 9
		smove a b 2
		exists a
		smembers b
		smove nokey b 1
		set str v
		smove nokey str 1
		smove b str 3
		smove str b 3
		smove b b 3
		sadd d 3
		smove b d 3
		smembers d
		exists b
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestSetOpsDiff(t *testing.T) {
	script := `
		sadd a 1 2 3 4 5
		sadd b 4 5 6 7
		sadd c 5 7 9
		sadd x a b c 5
		sadd y b c d
		sinter a b
		sinter a b c
		sinter b a
		sinter a nokey
		sinter nokey
		sinter a
		sinter a a
		sort sinter x y
		sinter x a
		sunion a b
		sunion a nokey c
		sort sunion a x
		sunion nokey
		sdiff a b
		sdiff a b c
		sdiff a a
		sdiff a nokey
		sdiff nokey a
		sort sdiff x y
		sdiff b c a
		sinterstore d a b
		smembers d
		object encoding d
		sinterstore d a nokey
		exists d
		sunionstore d a c
		smembers d
		sunionstore d a x
		object encoding d
		sort smembers d
		sdiffstore d a a
		exists d
		sdiffstore d a c
		smembers d
		sunionstore a a b
		smembers a
		set str v
		sinter a str
		sinter nokey str
		sinter str nokey
		sunion a str
		sdiff str a
		sdiff a str
		sinterstore d str
		sunionstore str a
		type str
		smembers str
		sinterstore d2 nokey
		exists d2
		set d3 v
		expire d3 100
		sinterstore d3 b
		ttl d3
		type d3
		sdiffstore d3 nokey
		exists d3
		sinter
		sinterstore d
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestSintercardDiff(t *testing.T) {
	hsDiff(t, 2, `
		sadd a 1 2 3 4 5
		sadd b 4 5 6 7
		sadd x a b c
		sintercard 2 a b
		sintercard 1 a
		sintercard 2 a b limit 1
		sintercard 2 a b limit 0
		sintercard 2 a b limit 5
		sintercard 1 a limit 3
		sintercard 1 a LIMIT 2 limit 4
		sintercard 2 a nokey
		sintercard 1 x
		sintercard 2 x a
		sintercard 0 a
		sintercard -1 a
		sintercard x a
		sintercard 3 a b
		sintercard 99999999999999999999 a
		sintercard 5000000000 a
		sintercard 9223372036854775807 a
		sintercard 2 a b limit -1
		sintercard 2 a b limit x
		sintercard 2 a b limit
		sintercard 2 a b foo 1
		sintercard 1 a b
		set str v
		sintercard 2 a str
		sintercard 2 nokey str
		sintercard 1
	`)
	cmd := Lookup([]byte("sintercard"))
	for _, tc := range []struct {
		args string
		want []int
	}{
		{"sintercard 2 a b limit 1", []int{2, 3}},
		{"sintercard 1 a", []int{2}},
		{"sintercard 3 a b", nil},
		{"sintercard 0 a", nil},
		{"sintercard x a", nil},
	} {
		var args [][]byte
		for _, f := range strings.Fields(tc.args) {
			args = append(args, []byte(f))
		}
		if got := cmd.KeyPositions(args, nil); !slices.Equal(got, tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestSscanDiff(t *testing.T) {
	script := `
		sadd s 1 2 3 10 11
		sscan s 0
		sscan s 0 match 1*
		sscan s 0 MATCH 1* COUNT 1
		sscan s 0 count 1 match 1 count 5
		sscan s 0 match *
		sscan s -1
		sscan s 18446744073709551615
		sscan s 18446744073709551616
		sscan s x
		sscan s " 1"
		sscan s +
		sscan s 0 count 0
		sscan s 0 count -1
		sscan s 0 count x
		sscan s 0 match
		sscan s 0 type string
		sscan s 0 novalues
		sscan nokey 0
		sscan nokey 0 count 0
		sscan nokey x
		set str v
		sscan str 0
		sscan str x
		sadd h a b c ab
		sort sscan h 0 count 100
		sort sscan h 0 count 100 match a*
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

// TestSscanFullIteration checks that a whole SSCAN iteration returns
// every member, also when the set grows and shrinks between calls
// (members present throughout must all come back).
func TestSscanFullIteration(t *testing.T) {
	e := newEnv(t)
	const n = 3000
	for i := range n {
		e.do("SADD", "s", "m"+strconv.Itoa(i))
	}
	for _, count := range []string{"1", "7", "100", "10000"} {
		seen := map[string]bool{}
		cursor, calls := "0", 0
		for {
			r := e.do("SSCAN", "s", cursor, "COUNT", count)
			for _, v := range r.Elems[1].Elems {
				seen[v.Str] = true
			}
			calls++
			// Resize the table under the iteration: add then remove extras.
			switch calls {
			case 3:
				for i := range 5000 {
					e.do("SADD", "s", "x"+strconv.Itoa(i))
				}
			case 6:
				for i := range 5000 {
					e.do("SREM", "s", "x"+strconv.Itoa(i))
				}
			}
			cursor = r.Elems[0].Str
			if cursor == "0" {
				break
			}
		}
		for i := range n {
			if !seen["m"+strconv.Itoa(i)] {
				t.Fatalf("COUNT %s: m%d never returned", count, i)
			}
		}
	}
	// MATCH filters after sampling: every match still comes back.
	seen := 0
	for cursor := "0"; ; {
		r := e.do("SSCAN", "s", cursor, "MATCH", "m1?", "COUNT", "50")
		seen += len(r.Elems[1].Elems)
		if cursor = r.Elems[0].Str; cursor == "0" {
			break
		}
	}
	if seen != 10 {
		t.Fatalf("MATCH m1? returned %d, want 10", seen)
	}
}

func TestSetCopyRename(t *testing.T) {
	e := newEnv(t)
	e.do("SADD", "a", "1", "2", "3")
	e.do("SADD", "b", "x", "y")
	e.must("1", "COPY", "a", "a2")
	e.must("1", "COPY", "b", "b2")
	e.do("SADD", "a", "4")
	e.do("SREM", "b", "x")
	e.must(`["1" "2" "3"]`, "SMEMBERS", "a2")
	e.must("2", "SCARD", "b2")
	e.must("1", "SISMEMBER", "b2", "x")
	e.must(`"intset"`, "OBJECT", "ENCODING", "a2")
	e.must(`"hashtable"`, "OBJECT", "ENCODING", "b2")
}

// Arguments alias the read buffer: stored members must be copies.
func TestSetArgsCopied(t *testing.T) {
	e := newEnv(t)
	args := [][]byte{[]byte("SADD"), []byte("s"), []byte("hello"), []byte("123")}
	w := &resp.Writer{}
	Exec(e.ks, 0, w, args)
	copy(args[2], "XXXXX")
	copy(args[3], "999")
	e.must("1", "SISMEMBER", "s", "hello")
	e.must("1", "SISMEMBER", "s", "123")
}
