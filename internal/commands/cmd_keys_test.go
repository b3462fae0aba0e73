package commands

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// keysDiff is diff for commands whose replies are unordered: array
// replies are compared sorted, and a line "SCANALL <opts...>" runs a whole
// SCAN iteration (with the options) on both sides and compares the sorted
// union of the keys returned.
func keysDiff(t *testing.T, script string) {
	t.Helper()
	e := newEnv(t)
	o := newOracle(t)
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bargs, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			t.Fatalf("bad script line %q", line)
		}
		args := make([]string, len(bargs))
		for i, a := range bargs {
			args[i] = string(a)
		}
		var got, want string
		if strings.EqualFold(args[0], "SCANALL") {
			got = scanAll(t, e.do, args[1:])
			want = scanAll(t, o.do, args[1:])
		} else {
			got, want = sortedReply(e.do(args...)), sortedReply(o.do(args...))
		}
		if got != want {
			t.Errorf("%s\n  redgo: %s\n  redis: %s", line, got, want)
		}
	}
}

func sortedReply(v resp.Value) string {
	if v.Type == '*' && !v.Null {
		var s []string
		for _, e := range v.Elems {
			s = append(s, e.String())
		}
		sort.Strings(s)
		return "sorted[" + strings.Join(s, ",") + "]"
	}
	return string(v.Type) + v.String()
}

// scanAll iterates SCAN to the end and returns the sorted keys seen (a key
// may be returned twice by Redis across rehashing; duplicates are dropped).
func scanAll(t *testing.T, do func(...string) resp.Value, opts []string) string {
	t.Helper()
	seen := map[string]bool{}
	cursor := "0"
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatalf("SCAN does not terminate")
		}
		v := do(append([]string{"SCAN", cursor}, opts...)...)
		if v.Type != '*' || len(v.Elems) != 2 {
			return "reply " + v.String()
		}
		for _, k := range v.Elems[1].Elems {
			seen[k.Str] = true
		}
		cursor = v.Elems[0].Str
		if cursor == "0" {
			break
		}
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func TestKeysDelExistsType(t *testing.T) {
	diff(t, `
		DEL a
		SET a 1
		SET b 2
		EXISTS a b c a a
		EXISTS nokey
		DEL a a c
		EXISTS a b
		UNLINK b nokey
		UNLINK b
		DBSIZE
		TYPE nokey
		SET s v
		TYPE s
		DEL s l
		DBSIZE
		DEL
		EXISTS
		TYPE
		TYPE a b
	`)
}

func TestKeysRename(t *testing.T) {
	diff(t, `
		RENAME nokey b
		RENAMENX nokey b
		RENAME nokey nokey
		RENAMENX nokey nokey
		SET a 1
		RENAME a a
		RENAMENX a a
		RENAME a b
		EXISTS a
		GET b
		SET c 3
		RENAMENX b c
		GET b
		GET c
		RENAME b c
		GET c
		EXISTS b
		PEXPIREAT c 4102444800123
		RENAME c d
		PEXPIRETIME d
		SET e 5
		RENAME e d
		PEXPIRETIME d
		PEXPIREAT d 4102444800456
		RENAMENX d f
		PEXPIRETIME f
		RENAME a
		RENAME a b c
		RENAMENX a
	`)
}

func TestKeysCopy(t *testing.T) {
	diff(t, `
		COPY nokey b
		COPY a a
		COPY nokey nokey
		SET a hello
		COPY a a
		COPY a a DB 0
		COPY a a db 1
		COPY a b
		GET b
		COPY a b
		SET a world
		COPY a b REPLACE
		GET b
		COPY a b replace REPLACE
		COPY a b DB
		COPY a b DB abc
		COPY a b DB -1
		COPY a b DB 16
		COPY a b DB 99999999999
		COPY a b DB 1.5
		COPY a b foo
		COPY nokey b foo
		COPY nokey b DB 16
		COPY a b REPLACE DB 16
		COPY a x DB 2
		COPY a x DB 2
		COPY a x DB 2 REPLACE
		SWAPDB 0 2
		GET x
		GET a
		SWAPDB 0 2
		GET x
		COPY
		COPY a
		PEXPIREAT a 4102444800999
		COPY a t
		PEXPIRETIME t
		COPY b a REPLACE
		PEXPIRETIME a
		SET n 12345
		COPY n n2
		OBJECT ENCODING n2
		GET n2
		APPEND a xyz
		COPY a araw
		GET araw
	`)
}

// needCommands skips the test unless every command is registered (the
// data type families land independently).
func needCommands(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if Lookup([]byte(n)) == nil {
			t.Skipf("%s not implemented yet", n)
		}
	}
}

// typeCmds are the commands each data type's tests below need.
var typeCmds = map[string][]string{
	"list": {"rpush", "lrange", "lpop", "llen"},
	"hash": {"hset", "hget", "hdel", "hlen"},
	"set":  {"sadd", "srem", "scard", "sismember"},
	"zset": {"zadd", "zrange", "zincrby", "zcard"},
}

func TestKeysTypeCollections(t *testing.T) {
	for _, tc := range []struct{ typ, script string }{
		{"list", "RPUSH k a b\nTYPE k\nDEL k k\nEXISTS k"},
		{"hash", "HSET k f v\nTYPE k\nDEL k\nEXISTS k"},
		{"set", "SADD k m\nTYPE k\nUNLINK k\nEXISTS k"},
		{"zset", "ZADD k 1 m\nTYPE k\nDEL k\nEXISTS k"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			needCommands(t, typeCmds[tc.typ]...)
			diff(t, tc.script)
		})
	}
}

// TestKeysCopyDeep checks COPY makes an independent value of every type,
// in both encodings, and that RENAME and MOVE carry it.
func TestKeysCopyDeep(t *testing.T) {
	big := func(format string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, format, i, i)
		}
		return b.String()
	}
	long := strings.Repeat("x", 70)
	for _, tc := range []struct{ typ, script string }{
		{"list", `
			RPUSH l a b c
			COPY l l2
			RPUSH l2 d
			LPOP l
			LRANGE l 0 -1
			LRANGE l2 0 -1
			OBJECT ENCODING l2
			COPY l2 h REPLACE
			RENAME h h3
			LRANGE h3 0 -1
			MOVE h3 4
			COPY l l5 DB 5
			SWAPDB 0 5
			LRANGE l5 0 -1
			SWAPDB 0 5
			` + big("RPUSH big %d"+long+"\nRPUSH big x%d\n", 300) + `
			COPY big big2
			RPUSH big2 new
			LPOP big
			LLEN big
			LLEN big2
			LRANGE big2 595 -1
			LRANGE big 0 2
			OBJECT ENCODING big2`},
		{"hash", `
			HSET h f1 v1 f2 v2
			COPY h h2
			HSET h2 f3 v3
			HDEL h f1
			HGET h f1
			HGET h2 f1
			HLEN h
			HLEN h2
			OBJECT ENCODING h2
			HSET hl f ` + long + `
			COPY hl hl2
			OBJECT ENCODING hl2
			HSET hl2 f x
			HGET hl f
			` + big("HSET big f%d v%d\n", 300) + `
			COPY big big2
			HSET big2 new 1
			HDEL big f0
			HLEN big
			HLEN big2
			HGET big2 f0
			OBJECT ENCODING big2`},
		{"set", `
			SADD s 1 2 3
			COPY s s2
			OBJECT ENCODING s2
			SADD s2 4
			SREM s 1
			SCARD s
			SCARD s2
			SISMEMBER s 1
			SISMEMBER s2 1
			SADD sx a b c
			COPY sx sx2
			OBJECT ENCODING sx2
			SREM sx2 a
			SCARD sx
			SCARD sx2
			` + big("SADD big m%d\nSADD big %d\n", 300) + `
			COPY big big2
			SADD big2 new
			SREM big m0
			SCARD big
			SCARD big2
			SISMEMBER big2 m0
			OBJECT ENCODING big2`},
		{"zset", `
			ZADD z 1 a 2 b
			COPY z z2
			ZADD z2 3 c
			ZINCRBY z 10 a
			ZRANGE z 0 -1 WITHSCORES
			ZRANGE z2 0 -1 WITHSCORES
			OBJECT ENCODING z2
			` + big("ZADD big %d m%d\n", 300) + `
			COPY big big2
			ZADD big2 1000 new
			ZINCRBY big 5000 m0
			ZCARD big
			ZCARD big2
			ZRANGE big2 -3 -1 WITHSCORES
			ZRANGE big -2 -1 WITHSCORES
			OBJECT ENCODING big2
			COPY big2 z DB 3
			SWAPDB 0 3
			ZCARD z`},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			needCommands(t, typeCmds[tc.typ]...)
			diff(t, tc.script)
		})
	}
}

func TestKeysMove(t *testing.T) {
	diff(t, `
		MOVE a 1
		SET a 1
		MOVE a 0
		MOVE a -1
		MOVE a 16
		MOVE a abc
		MOVE a 99999999999
		MOVE nokey 0
		MOVE nokey 1
		PEXPIREAT a 4102444800777
		MOVE a 1
		EXISTS a
		SET a 2
		SWAPDB 0 1
		GET a
		PEXPIRETIME a
		SWAPDB 0 1
		MOVE a 1
		GET a
		MOVE
		MOVE a
		MOVE a 1 2
	`)
}

func TestKeysKeysScan(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "SET key:%d v\n", i)
	}
	// Keys of every type whose family is implemented.
	for typ, add := range map[string]string{"list": "RPUSH list:%d v", "hash": "HSET hash:%d f v",
		"set": "SADD set:%d m", "zset": "ZADD zset:%d 1 m"} {
		if Lookup([]byte(typeCmds[typ][0])) == nil {
			continue
		}
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&b, add+"\n", i)
		}
	}
	b.WriteString(`
		KEYS *
		KEYS key:1*
		KEYS *:2?
		KEYS list:[12]
		KEYS h[a-b]sh:1
		KEYS nomatch*
		KEYS
		KEYS a b
		SCANALL
		SCANALL COUNT 1
		SCANALL COUNT 1000
		SCANALL MATCH key:1*
		SCANALL MATCH * COUNT 3
		SCANALL TYPE string
		SCANALL TYPE LIST
		SCANALL TYPE hash MATCH hash:1*
		SCANALL TYPE zset
		SCANALL TYPE set COUNT 7
		SCANALL TYPE nosuchtype
		SCANALL match key:? count 5 type STRING
		SCAN abc
		SCAN -
		SCAN " 1"
		SCAN 1x
		SCAN 18446744073709551616
		SCAN 0 COUNT 0
		SCAN 0 COUNT -1
		SCAN 0 COUNT abc
		SCAN 0 COUNT
		SCAN 0 MATCH
		SCAN 0 TYPE
		SCAN 0 FOO bar
		SCAN abc COUNT 0
		SCAN
	`)
	keysDiff(t, b.String())
}

func TestKeysScanEdgeCursors(t *testing.T) {
	keysDiff(t, `
		SCAN 0
		SCAN ""
		SCAN +0
		SCAN -1
		SCAN 18446744073709551615
		SET a 1
		SCAN 0
		SCAN ""
		SCAN +0
	`)
}

func TestKeysRandomKey(t *testing.T) {
	diff(t, `
		RANDOMKEY
		SET a 1
		RANDOMKEY
		RANDOMKEY x
	`)
	e := newEnv(t)
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		e.do("SET", "k"+strconv.Itoa(i), "v")
	}
	for i := 0; i < 500; i++ {
		v := e.do("RANDOMKEY")
		if v.Type != '$' || !strings.HasPrefix(v.Str, "k") {
			t.Fatalf("RANDOMKEY = %s", v)
		}
		seen[v.Str] = true
	}
	if len(seen) < 10 {
		t.Errorf("RANDOMKEY returned only %d distinct keys of 50", len(seen))
	}
}

func TestKeysTouch(t *testing.T) {
	diff(t, `
		TOUCH a
		SET a 1
		SET b 1
		TOUCH a b c a
		TOUCH
	`)
}

func TestKeysExpire(t *testing.T) {
	diff(t, `
		EXPIRE nokey 100
		PEXPIRE nokey 100
		EXPIREAT nokey 100
		PEXPIREAT nokey 100
		TTL nokey
		PTTL nokey
		EXPIRETIME nokey
		PEXPIRETIME nokey
		PERSIST nokey
		SET a 1
		TTL a
		PTTL a
		EXPIRETIME a
		PEXPIRETIME a
		PERSIST a
		EXPIRE a 100
		TTL a
		EXPIREAT a 4102444800
		EXPIRETIME a
		PEXPIRETIME a
		TTL a
		PEXPIREAT a 4102444800499
		EXPIRETIME a
		PEXPIREAT a 4102444800500
		EXPIRETIME a
		PERSIST a
		PERSIST a
		TTL a
		EXPIRE a abc
		EXPIRE a 1.5
		EXPIRE a ""
		EXPIRE a 100 foo
		EXPIRE a abc foo
		EXPIRE a 100 NX XX
		EXPIRE a 100 nx gt
		EXPIRE a 100 NX LT
		EXPIRE a 100 gt lt
		EXPIRE a 100 xx gt lt
		EXPIRE a 100 XX XX
		EXPIRE nokey 100 nx xx
		EXPIRE nokey abc nx xx
		EXPIRE a 9223372036854775807
		EXPIRE a 9223372036854775
		EXPIRE a 9223372036854776
		EXPIRE a -9223372036854775
		EXPIRE a -9223372036854776
		PEXPIRE a 9223372036854775807
		PEXPIRE a 9223372036854775806
		EXPIREAT a 9223372036854775
		EXPIRETIME a
		EXPIREAT a 9223372036854776
		PEXPIREAT a 9223372036854775807
		PEXPIRETIME a
		PEXPIREAT a -9223372036854775808
		EXISTS a
		SET a 1
		EXPIREAT a -9223372036854775
		EXISTS a
		EXPIRE nokey 9223372036854775807
		SET a 1
		EXPIRE a 9223372036854775808
		EXPIRE
		EXPIRE a
		TTL
		TTL a b
		PERSIST
		EXPIRETIME
	`)
}

func TestKeysExpireOptions(t *testing.T) {
	diff(t, `
		SET a 1
		EXPIREAT a 4102444800 XX
		EXPIRETIME a
		EXPIREAT a 4102444800 GT
		EXPIREAT a 4102444800 LT
		EXPIRETIME a
		EXPIREAT a 4102444800 NX
		EXPIRETIME a
		EXPIREAT a 4102444900 lt
		EXPIREAT a 4102444700 gt
		EXPIRETIME a
		EXPIREAT a 4102444800 Xx
		EXPIRETIME a
		EXPIREAT a 4102444600 LT
		EXPIRETIME a
		EXPIREAT a 4102444600 LT
		EXPIREAT a 4102444600 GT
		EXPIREAT a 4102444601 GT
		EXPIRETIME a
		EXPIREAT a 4102444601 NX
		EXPIREAT a 4102444900 XX GT
		EXPIRETIME a
		EXPIREAT a 4102444800 XX LT
		EXPIRETIME a
		PERSIST a
		EXPIREAT a 4102444800 XX
		EXPIREAT a 4102444800 GT
		EXPIREAT a 4102444800 XX LT
		EXPIREAT a 4102444800 LT
		EXPIRETIME a
		PERSIST a
		PEXPIREAT a 4102444800100 NX
		PEXPIRETIME a
		PEXPIREAT a 4102444800100 NX
		PEXPIRE a 100000 GT
		PEXPIRE a 100000 LT
		EXPIRE a 100 LT
		TTL a
		PERSIST a
		EXPIRE a -5 LT
		EXISTS a
		SET a 1
		EXPIRE a -5 GT
		EXISTS a
		EXPIRE a -5 XX
		EXISTS a
		EXPIRE a -5 NX
		EXISTS a
	`)
}

func TestKeysExpirePast(t *testing.T) {
	diff(t, `
		SET a 1
		EXPIRE a 0
		EXISTS a
		SET a 1
		PEXPIRE a -1
		EXISTS a
		SET a 1
		EXPIREAT a 1
		EXISTS a
		SET a 1
		PEXPIREAT a 0
		GET a
		DBSIZE
		SET l 1
		PEXPIREAT l 4102444800000
		EXPIRE l -100
		TYPE l
	`)
}

// TestKeysTTLRanges checks relative expiries against the fixed clock of
// the keyspace and with real time.
func TestKeysTTLRanges(t *testing.T) {
	e := newEnv(t)
	now := int64(1_700_000_000_000)
	e.ks.Now = func() int64 { return now }
	e.do("SET", "a", "v")
	e.must("1", "EXPIRE", "a", "100")
	e.must("100000", "PTTL", "a")
	e.must("100", "TTL", "a")
	e.must(fmt.Sprintf("%d", now+100000), "PEXPIRETIME", "a")
	e.must(fmt.Sprintf("%d", now/1000+100), "EXPIRETIME", "a")
	now += 99_400
	e.must("600", "PTTL", "a")
	e.must("1", "TTL", "a") // rounded
	now += 101
	e.must("0", "TTL", "a")
	now += 498
	e.must("1", "PTTL", "a")
	now++
	e.must("-2", "PTTL", "a")
	e.must("0", "EXISTS", "a")
	e.must("0", "DBSIZE")

	e.do("SET", "b", "v")
	e.must("1", "PEXPIRE", "b", "1500")
	e.must("1500", "PTTL", "b")
	e.must("2", "TTL", "b")
	e.must("1", "PEXPIRE", "b", "1")
	now++
	e.must("-2", "TTL", "b")

	// A past EXPIRE on a replica keeps the key (the master's DEL removes it).
	e.do("SET", "c", "v")
	e.ks.Replica.Store(true)
	e.must("1", "PEXPIREAT", "c", "5")
	e.must("-2", "PEXPIRETIME", "c") // logically expired
	e.must("1", "DBSIZE")
	e.ks.Replica.Store(false)
	e.must("-2", "PEXPIRETIME", "c")
	e.must("0", "DBSIZE")
}

func TestKeysTTLRealClock(t *testing.T) {
	o := newOracle(t)
	e := newEnv(t)
	for _, do := range []func(...string) resp.Value{e.do, o.do} {
		do("SET", "a", "v")
		do("PEXPIRE", "a", "100000")
		if v := do("PTTL", "a"); v.Int <= 99000 || v.Int > 100000 {
			t.Errorf("PTTL = %d", v.Int)
		}
		if v := do("TTL", "a"); v.Int != 100 {
			t.Errorf("TTL = %d", v.Int)
		}
	}
}

func TestKeysObject(t *testing.T) {
	diff(t, `
		OBJECT ENCODING nokey
		OBJECT FREQ nokey
		OBJECT IDLETIME nokey
		OBJECT REFCOUNT nokey
		SET a 100
		OBJECT REFCOUNT a
		SET a 9999
		OBJECT REFCOUNT a
		SET a 10000
		OBJECT REFCOUNT a
		SET a -1
		OBJECT REFCOUNT a
		SET a hello
		OBJECT REFCOUNT a
		OBJECT ENCODING a
		OBJECT FREQ a
		OBJECT IDLETIME a
		SET a 12345678901234567890
		OBJECT ENCODING a
		SET a 1234567890123456789
		OBJECT ENCODING a
		SET a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
		OBJECT ENCODING a
		SET a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
		OBJECT ENCODING a
		OBJECT HELP
		OBJECT help
		OBJECT
		OBJECT FOO
		OBJECT FOO a
		OBJECT ENCODING
		OBJECT ENCODING a b
		OBJECT HELP x
	`)
}

func TestKeysObjectIdletime(t *testing.T) {
	e := newEnv(t)
	now := int64(1_700_000_000_000)
	e.ks.Now = func() int64 { return now }
	e.do("SET", "a", "v")
	now += 5000
	e.must("5", "OBJECT", "IDLETIME", "a")
	e.must("5", "OBJECT", "IDLETIME", "a") // OBJECT does not touch
	e.must("-1", "TTL", "a")               // nor does TTL
	e.must("5", "OBJECT", "IDLETIME", "a")
	e.do("GET", "a")
	e.must("0", "OBJECT", "IDLETIME", "a")
	now += 3000
	e.must("3", "OBJECT", "IDLETIME", "a")
	e.do("TOUCH", "a")
	e.must("0", "OBJECT", "IDLETIME", "a")
}

func TestKeysMemoryUsage(t *testing.T) {
	// The figures are redgo's own (see TestKeysMemoryUsageVsRedis); the
	// replies' types and errors match.
	diff(t, `
		MEMORY USAGE nokey
		MEMORY USAGE nokey SAMPLES 5
		SET i 123
		MEMORY USAGE i samples -1
		MEMORY USAGE i samples abc
		MEMORY USAGE i samples
		MEMORY USAGE i samples 1 samples
		MEMORY USAGE i foo
		MEMORY USAGE nokey foo
		MEMORY USAGE nokey samples -1
		MEMORY USAGE
		MEMORY HELP
		MEMORY help
		MEMORY HELP x
		MEMORY
		MEMORY FOO
		MEMORY PURGE
		MEMORY PURGE x
		MEMORY MALLOC-STATS x
	`)
	e := newEnv(t)
	e.must(`"Stats not supported for the current allocator"`, "MEMORY", "MALLOC-STATS")
	usage := func(args ...string) int64 {
		t.Helper()
		v := e.do(append([]string{"MEMORY", "USAGE"}, args...)...)
		if v.Type != ':' {
			t.Fatalf("MEMORY USAGE %v = %s", args, v)
		}
		return v.Int
	}
	e.do("SET", "k", "v")
	small := usage("k")
	e.do("SET", "k", strings.Repeat("x", 10000))
	big := usage("k")
	if big-small < 10000 || big-small > 11000 {
		t.Errorf("MEMORY USAGE grew by %d for 10000 more bytes", big-small)
	}
	e.do("SET", "k", "v")
	e.do("SET", strings.Repeat("k", 1000), "v")
	if long := usage(strings.Repeat("k", 1000)); long-small < 999 {
		t.Errorf("a 1000-byte key adds only %d", long-small)
	}
	e.do("PEXPIRE", "k", "100000")
	if v := usage("k", "SAMPLES", "0"); v <= small {
		t.Errorf("an expiry costs nothing: %d <= %d", v, small)
	}
}

// TestKeysMemoryUsageVsRedis checks redgo's estimate of its own memory is
// within a factor of three of Redis's figure for the same value.
func TestKeysMemoryUsageVsRedis(t *testing.T) {
	e := newEnv(t)
	o := newOracle(t)
	type load struct {
		name string
		cmds [][]string
	}
	var loads []load
	for _, n := range []int{0, 1, 10, 30, 44, 45, 100, 1000, 100000} {
		loads = append(loads, load{fmt.Sprintf("string%d", n), [][]string{{"SET", "k", strings.Repeat("s", n)}}})
	}
	loads = append(loads, load{"int", [][]string{{"SET", "k", "12345"}}})
	for _, n := range []int{1, 10, 100, 1000} {
		var l, h, s, is, z load
		l.name, h.name, s.name, is.name, z.name = "list", "hash", "set", "intset", "zset"
		for i := 0; i < n; i++ {
			v := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%40))
			l.cmds = append(l.cmds, []string{"RPUSH", "k", v})
			h.cmds = append(h.cmds, []string{"HSET", "k", "f" + strconv.Itoa(i), v})
			s.cmds = append(s.cmds, []string{"SADD", "k", v})
			is.cmds = append(is.cmds, []string{"SADD", "k", strconv.Itoa(i * 7)})
			z.cmds = append(z.cmds, []string{"ZADD", "k", strconv.Itoa(i), v})
		}
		loads = append(loads, l, h, s, is, z)
	}
	for _, ld := range loads {
		if Lookup([]byte(ld.cmds[0][0])) == nil {
			continue // family not implemented yet
		}
		for _, do := range []func(...string) resp.Value{e.do, o.do} {
			do("DEL", "k")
			for _, c := range ld.cmds {
				do(c...)
			}
		}
		for _, samples := range []string{"5", "0"} {
			got := e.do("MEMORY", "USAGE", "k", "SAMPLES", samples).Int
			want := o.do("MEMORY", "USAGE", "k", "SAMPLES", samples).Int
			enc := o.do("OBJECT", "ENCODING", "k").Str
			if got*3 < want || got > want*3 {
				t.Errorf("%s (%s) of %d: MEMORY USAGE = %d, redis %d", ld.name, enc, len(ld.cmds), got, want)
			}
		}
	}
}

func TestKeysDirty(t *testing.T) {
	ks := keyspace.New(16)
	run := func(args ...string) (*Ctx, string) {
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		w := &resp.Writer{Proto: 2}
		cmd, _ := Resolve(Lookup(bargs[0]), bargs)
		c := &Ctx{Args: bargs, Cmd: cmd, W: w, DB: ks.DB(0), KS: ks, Now: ks.Now()}
		cmd.Handler(c)
		return c, string(w.Buf)
	}
	cases := []struct {
		args  []string
		dirty int
	}{
		{[]string{"SET", "a", "1"}, 1},
		{[]string{"SET", "b", "1"}, 1},
		{[]string{"DEL", "a", "b", "c"}, 2},
		{[]string{"DEL", "a"}, 0},
		{[]string{"SET", "a", "1"}, 1},
		{[]string{"EXPIRE", "a", "100"}, 1},
		{[]string{"EXPIRE", "a", "100", "NX"}, 0},
		{[]string{"PERSIST", "a"}, 1},
		{[]string{"PERSIST", "a"}, 0},
		{[]string{"RENAME", "a", "b"}, 1},
		{[]string{"RENAME", "b", "b"}, 0},
		{[]string{"RENAMENX", "b", "b"}, 0},
		{[]string{"COPY", "b", "c"}, 1},
		{[]string{"COPY", "b", "c"}, 0},
		{[]string{"MOVE", "c", "1"}, 1},
		{[]string{"MOVE", "c", "1"}, 0},
		{[]string{"TOUCH", "b"}, 0},
		{[]string{"SWAPDB", "0", "1"}, 1},
		{[]string{"FLUSHDB"}, 1},
		{[]string{"FLUSHDB"}, 1},
		{[]string{"EXPIRE", "nokey", "1"}, 0},
		{[]string{"FLUSHALL"}, 2},
	}
	for _, tc := range cases {
		c, reply := run(tc.args...)
		if c.Dirty != tc.dirty {
			t.Errorf("%v: Dirty = %d, want %d (reply %q)", tc.args, c.Dirty, tc.dirty, reply)
		}
	}
}

// TestKeysCopyIndependentBytes checks COPY and the stored values never
// alias the request's argument buffers.
func TestKeysCopyIndependentBytes(t *testing.T) {
	e := newEnv(t)
	e.do("SET", "a", "hello")
	e.do("COPY", "a", "b")
	o := e.ks.DB(0).Peek([]byte("a"))
	o.Bytes()[0] = 'J'
	e.must(`"hello"`, "GET", "b")
	e.must(`"Jello"`, "GET", "a")
}

func TestKeysWatchTouchedAcrossDB(t *testing.T) {
	ks := keyspace.New(16)
	e := &env{t: t, ks: ks, Proto: 2}
	e.do("SET", "a", "1")
	var flag atomic.Bool
	db1 := ks.DB(1)
	sh := []int{keyspace.ShardOf([]byte("a"))}
	ks.Lock(sh)
	db1.Watch([]byte("a"), &flag)
	ks.Unlock(sh)
	e.must("1", "MOVE", "a", "1")
	if !flag.Load() {
		t.Errorf("MOVE did not touch the watched destination key")
	}
}

// TestKeysResp3 compares replies under RESP3, where nulls are '_'.
func TestKeysResp3(t *testing.T) {
	e := newEnv(t)
	e.Proto = 3
	o := newOracle(t)
	o.do("HELLO", "3")
	for _, args := range [][]string{
		{"RANDOMKEY"},
		{"OBJECT", "ENCODING", "nokey"},
		{"OBJECT", "FREQ", "nokey"},
		{"MEMORY", "USAGE", "nokey"},
		{"TYPE", "nokey"},
		{"SET", "a", "1"},
		{"TYPE", "a"},
		{"SCAN", "0"},
		{"KEYS", "*"},
		{"OBJECT", "HELP"},
		{"TTL", "a"},
		{"COPY", "a", "b"},
		{"RENAME", "b", "c"},
		{"DEL", "a"},
		{"RANDOMKEY"},
		{"DBSIZE"},
		{"FLUSHALL"},
	} {
		got, want := e.do(args...), o.do(args...)
		if got.Type != want.Type || got.String() != want.String() {
			t.Errorf("%v\n  redgo: %c %s\n  redis: %c %s", args, got.Type, got, want.Type, want)
		}
	}
}

func TestKeysScanCursorParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"+0", 0, true}, {"123", 123, true},
		{"-1", 1<<64 - 1, true}, {"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, {"-", 0, false}, {"+", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"1x", 0, false}, {"0x10", 0, false},
	} {
		got, ok := scanCursor([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("scanCursor(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKeysAllocSize(t *testing.T) {
	for _, tc := range [][2]int{{0, 0}, {1, 8}, {8, 8}, {9, 16}, {17, 24}, {25, 32},
		{33, 48}, {1000, 1024}, {32768, 32768}, {32769, 40960}, {100000, 106496}} {
		if got := allocSize(tc[0]); got != tc[1] {
			t.Errorf("allocSize(%d) = %d, want %d", tc[0], got, tc[1])
		}
	}
}

// TestKeysPropagate checks what the expire commands send to the AOF and
// replicas: absolute PEXPIREAT times (options kept), DEL for a past time.
func TestKeysPropagate(t *testing.T) {
	ks := keyspace.New(16)
	now := int64(1_700_000_000_000)
	ks.Now = func() int64 { return now }
	run := func(args ...string) string {
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		cmd, _ := Resolve(Lookup(bargs[0]), bargs)
		c := &Ctx{Args: bargs, Cmd: cmd, W: &resp.Writer{Proto: 2}, DB: ks.DB(0), KS: ks, Now: now}
		cmd.Handler(c)
		if c.Props == nil {
			if c.Dirty == 0 {
				return "none"
			}
			return "as is"
		}
		var out []string
		for _, p := range c.Props {
			out = append(out, string(bytes.Join(p, []byte(" "))))
		}
		return strings.Join(out, "; ")
	}
	for _, tc := range [][2]string{
		{"SET a 1", "as is"},
		{"EXPIRE a 100", "PEXPIREAT a 1700000100000"},
		{"PEXPIRE a 100 LT", "PEXPIREAT a 1700000000100 LT"},
		{"EXPIREAT a 1800000000 xx", "PEXPIREAT a 1800000000000 xx"},
		{"PEXPIREAT a 1800000000001", "as is"},
		{"EXPIRE a 100 NX", "none"},
		{"EXPIRE nokey 100", "none"},
		{"PERSIST a", "as is"},
		{"EXPIRE a -1", "DEL a"},
		{"SET a 1", "as is"},
		{"PEXPIREAT a 5", "DEL a"},
		{"DEL a", "none"},
	} {
		if got := run(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s propagates %q, want %q", tc[0], got, tc[1])
		}
	}
	// A DEL of an expired key reclaims it through the lookup (which
	// propagates its own DEL) and is not a change itself.
	var expired []string
	ks.OnExpire = func(db int, key string) { expired = append(expired, key) }
	run("SET", "b", "1")
	run("PEXPIRE", "b", "10")
	now += 10
	if got := run("DEL", "b"); got != "none" || len(expired) != 1 || expired[0] != "b" {
		t.Errorf("DEL of an expired key: propagates %q, expired %v", got, expired)
	}
}
