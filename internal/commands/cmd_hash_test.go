package commands

import (
	"strconv"
	"strings"
	"testing"

	"redgo/internal/resp"
)

// pairsSeq returns "f0 v0 f1 v1 ..." for building scripts.
func pairsSeq(n int) string {
	parts := make([]string, 0, 2*n)
	for i := range n {
		parts = append(parts, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	return strings.Join(parts, " ")
}

func TestHashBasicsDiff(t *testing.T) {
	script := `
		hset h a 1 b 2 c 3
		hset h b 20 d 4
		hgetall h
		hkeys h
		hvals h
		hlen h
		hget h b
		hget h zz
		hmget h a zz c
		hexists h a
		hexists h zz
		hstrlen h b
		hstrlen h zz
		hdel h b zz b
		hgetall h
		hmset h e 5 a 10
		hgetall h
		hsetnx h a 99
		hsetnx h z 26
		hgetall h
		hdel h a c d e z
		exists h
		hset h "" ""
		hget h ""
		hgetall h
		object encoding h
		hget nokey a
		hmget nokey a b
		hlen nokey
		hstrlen nokey a
		hexists nokey a
		hkeys nokey
		hvals nokey
		hgetall nokey
		hdel nokey a
		set str v
		hset str a 1
		hmset str a 1
		hsetnx str a 1
		hget str a
		hmget str a
		hdel str a
		hlen str
		hstrlen str a
		hexists str a
		hkeys str
		hvals str
		hgetall str
		hset h a
		hset h a 1 b
		hmset h a 1 b
		hset h
		hget h
		hdel h
		hmget h
		hsetnx h a
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestHashEncodingThresholds(t *testing.T) {
	v64, v65 := strings.Repeat("v", 64), strings.Repeat("v", 65)
	hsDiff(t, 2, `
		hset h `+pairsSeq(512)+`
		object encoding h
		hset h f0 x
		object encoding h
		hset h f512 x
		object encoding h
		hlen h
		hdel h `+seq("f", 0, 511)+`
		object encoding h
		pairs hgetall h
		hset a f `+v64+`
		object encoding a
		hset a g `+v65+`
		object encoding a
		pairs hgetall a
		hset b `+v65+` 1
		object encoding b
		hset c x 1 y `+v65+`
		object encoding c
		hset d x 1
		hsetnx d x `+v65+`
		object encoding d
		hget d x
		hset e x 1
		hsetnx e `+v65+` 1
		object encoding e
		hset f x 1
		hincrby f `+v65+` 1
		object encoding f
		hset g x 1
		hincrbyfloat g `+v65+` 1.5
		object encoding g
		hset i x 1
		hincrbyfloat i x 1e60
		object encoding i
		hget i x
		hmset j `+pairsSeq(513)+`
		object encoding j
		hmset k `+pairsSeq(512)+`
		object encoding k
	`)
}

func TestHashIncrDiff(t *testing.T) {
	script := `
		hincrby h a 5
		hincrby h a -7
		hget h a
		hincrby h a x
		hincrby h a 1.5
		hincrby h a 99999999999999999999
		hincrby h a -0
		hset h big 9223372036854775807 small -9223372036854775808
		hincrby h big 1
		hincrby h big 0
		hincrby h big -1
		hincrby h small -1
		hincrby h small 1
		hset h s abc sp " 1" z 00 neg -0
		hincrby h s 1
		hincrby h sp 1
		hincrby h z 1
		hincrby h neg 1
		hincrbyfloat h s 1
		hincrbyfloat h sp 1
		hincrbyfloat h z 1
		hincrbyfloat h neg 1
		hset h f 1.5 i 10 e 1e5 hex 0x10
		hincrbyfloat h f 0.1
		hincrbyfloat h i 0.1
		hincrbyfloat h e 1
		hincrby h e 1
		hincrby h f 1
		hincrbyfloat h hex 1
		hincrbyfloat h new 3
		hincrbyfloat h new2 3.0
		hincrbyfloat h new3 -0
		hincrbyfloat h new4 1e-5
		hincrbyfloat h new5 .5
		hincrbyfloat h new5 5.
		hincrbyfloat h new6 0.1
		hincrbyfloat h new6 0.2
		hincrbyfloat h n7 1.7976931348623157e308
		hincrbyfloat h n7 1.7976931348623157e308
		hincrbyfloat h a x
		hincrbyfloat h a nan
		hincrbyfloat h a inf
		hincrbyfloat h a -inf
		hincrbyfloat h a " 1"
		hincrbyfloat h a ""
		hset h inf inf
		hincrbyfloat h inf 1
		pairs hgetall h
		set str v
		hincrby str a 1
		hincrby str a x
		hincrbyfloat str a 1
		hincrbyfloat str a inf
		hincrbyfloat str a x
		hincrby nokey a x
		exists nokey
		hincrbyfloat nokey a inf
		exists nokey
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestHrandfieldDiff(t *testing.T) {
	script := `
		hset h a 1 b 2 c 3 d 4 e 5
		hrandfield h 5
		hrandfield h 100
		hrandfield h 5 withvalues
		hrandfield h 100 WITHVALUES
		hrandfield h 0
		hrandfield h 0 withvalues
		shape hrandfield h
		shape hrandfield h 1
		shape hrandfield h 3
		shape hrandfield h 3 withvalues
		shape hrandfield h -3
		shape hrandfield h -12 withvalues
		hrandfield h 1 2
		hrandfield h 1 withvalue
		hrandfield h 1 withvalues x
		hrandfield h x
		hrandfield h 1.5
		hrandfield h -9223372036854775808
		hrandfield h 4611686018427387904 withvalues
		hrandfield h -4611686018427387904 withvalues
		hrandfield nokey
		hrandfield nokey 3
		hrandfield nokey -3 withvalues
		hrandfield nokey 0
		set str v
		hrandfield str
		hrandfield str 0
		hrandfield str 1 withvalues
		hrandfield str x
		hset big ` + pairsSeq(600) + `
		object encoding big
		pairs hrandfield big 600 withvalues
		pairs hrandfield big 700 withvalues
		shape hrandfield big 450
		shape hrandfield big 10 withvalues
		shape hrandfield big -10 withvalues
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestHrandfieldDistinct(t *testing.T) {
	e := newEnv(t)
	for _, n := range []int{30, 1000} {
		e.do("DEL", "h")
		e.do(append([]string{"HSET", "h"}, strings.Fields(pairsSeq(n))...)...)
		for _, count := range []int{1, 2, 9, n / 3, n/3 + 1, n - 1} {
			r := e.do("HRANDFIELD", "h", strconv.Itoa(count), "WITHVALUES")
			got := map[string]bool{}
			for i := 0; i < len(r.Elems); i += 2 {
				f, v := r.Elems[i].Str, r.Elems[i+1].Str
				if got[f] || "v"+f[1:] != v {
					t.Fatalf("HRANDFIELD %d: bad pair %s %s", count, f, v)
				}
				got[f] = true
			}
			if len(got) != count {
				t.Fatalf("HRANDFIELD %d returned %d", count, len(got))
			}
		}
		hits := map[string]int{}
		for _, v := range e.do("HRANDFIELD", "h", strconv.Itoa(-50*n)).Elems {
			hits[v.Str]++
		}
		if len(hits) != n {
			t.Fatalf("HRANDFIELD -%d hit %d of %d fields", 50*n, len(hits), n)
		}
	}
}

func TestHscanDiff(t *testing.T) {
	script := `
		hset h a 1 b 2 ab 3 c 4
		hscan h 0
		hscan h 0 match a*
		hscan h 0 MATCH a* COUNT 1
		hscan h 0 match 1
		hscan h -1
		hscan h 18446744073709551616
		hscan h x
		hscan h 0 count 0
		hscan h 0 count x
		hscan h 0 match
		hscan h 0 type hash
		hscan nokey 0
		hscan nokey 0 count 0
		hscan nokey x
		set str v
		hscan str 0
		hscan str x
		hset big ` + pairsSeq(600) + `
		pairs hscan big 0 count 10000
		pairs hscan big 0 count 10000 match f1?
	`
	hsDiff(t, 2, script)
	hsDiff(t, 3, script)
}

func TestHscanFullIteration(t *testing.T) {
	e := newEnv(t)
	const n = 2000
	e.do(append([]string{"HSET", "h"}, strings.Fields(pairsSeq(n))...)...)
	for _, count := range []string{"1", "10", "5000"} {
		seen := map[string]string{}
		cursor, calls := "0", 0
		for {
			r := e.do("HSCAN", "h", cursor, "COUNT", count)
			items := r.Elems[1].Elems
			for i := 0; i < len(items); i += 2 {
				seen[items[i].Str] = items[i+1].Str
			}
			calls++
			switch calls {
			case 2:
				for i := range 3000 {
					e.do("HSET", "h", "x"+strconv.Itoa(i), "y")
				}
			case 4:
				for i := range 3000 {
					e.do("HDEL", "h", "x"+strconv.Itoa(i))
				}
			}
			if cursor = r.Elems[0].Str; cursor == "0" {
				break
			}
		}
		for i := range n {
			f := "f" + strconv.Itoa(i)
			if seen[f] != "v"+strconv.Itoa(i) {
				t.Fatalf("COUNT %s: %s = %q", count, f, seen[f])
			}
		}
	}
}

func TestHashCopyRename(t *testing.T) {
	e := newEnv(t)
	e.do("HSET", "a", "f", "1", "g", "2")
	e.do("HSET", "b", strings.Repeat("x", 100), "1")
	e.must("1", "COPY", "a", "a2")
	e.must("1", "COPY", "b", "b2")
	e.do("HSET", "a", "f", "changed")
	e.do("HDEL", "b", strings.Repeat("x", 100))
	e.must(`["f" "1" "g" "2"]`, "HGETALL", "a2")
	e.must("1", "HLEN", "b2")
	e.must(`"listpack"`, "OBJECT", "ENCODING", "a2")
	e.must(`"hashtable"`, "OBJECT", "ENCODING", "b2")
	e.must(`"OK"`, "RENAME", "a2", "a3")
	e.must(`"1"`, "HGET", "a3", "f")
}

// Arguments alias the read buffer: stored fields and values are copies.
func TestHashArgsCopied(t *testing.T) {
	e := newEnv(t)
	for _, big := range []bool{false, true} {
		e.do("DEL", "h")
		val := "value"
		if big {
			val = strings.Repeat("v", 100)
		}
		args := [][]byte{[]byte("HSET"), []byte("h"), []byte("field"), []byte(val)}
		Exec(e.ks, 0, &resp.Writer{}, args)
		for _, a := range args[2:] {
			for i := range a {
				a[i] = 'X'
			}
		}
		e.must(strconv.Quote(val), "HGET", "h", "field")
	}
}

// Every write bumps Dirty (it drives WATCH and propagation).
func TestHashSetDirty(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		cmd   string
		dirty bool
	}{
		{"HSET h a 1", true},
		{"HSETNX h a 2", false},
		{"HDEL h zz", false},
		{"HINCRBY h a 1", true},
		{"HINCRBYFLOAT h a 1", true},
		{"HDEL h a", true},
		{"SADD s a", true},
		{"SADD s a", false},
		{"SREM s zz", false},
		{"SMOVE s t a", true},
		{"SPOP t", true},
		{"SINTERSTORE d nokey", false},
		{"SADD s a b", true},
		{"SUNIONSTORE d s", true},
		{"SPOP s 5", true},
	} {
		var args [][]byte
		for _, f := range strings.Fields(tc.cmd) {
			args = append(args, []byte(f))
		}
		cmd := Lookup(args[0])
		c := &Ctx{Args: args, Cmd: cmd, W: &resp.Writer{}, DB: e.ks.DB(0), KS: e.ks, Now: e.ks.Now()}
		cmd.Handler(c)
		if (c.Dirty > 0) != tc.dirty {
			t.Errorf("%s: Dirty = %d", tc.cmd, c.Dirty)
		}
	}
}
