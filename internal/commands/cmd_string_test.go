package commands

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// strEnv runs the same commands on redgo's handlers and on redis-server
// and compares replies, like diff, with directives for what the string
// family cannot observe through its own commands:
//
//	!enc KEY    OBJECT ENCODING on redis vs StringEncoding on redgo
//	!ttl KEY    TTL on redis vs the stored expiry on redgo
//	!type KEY   make KEY a list on both sides (for WRONGTYPE)
//	!resp3      switch both sides to RESP3
type strEnv struct {
	t *testing.T
	e *env
	o *oracle

	replies map[string]int // reply types seen, by RESP type byte
}

func newStrEnv(t *testing.T) *strEnv {
	t.Helper()
	return &strEnv{t: t, e: newEnv(t), o: newOracle(t), replies: map[string]int{}}
}

func (s *strEnv) run(script string) {
	s.t.Helper()
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bargs, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			s.t.Fatalf("bad script line %q", line)
		}
		args := make([]string, len(bargs))
		for i, a := range bargs {
			args[i] = string(a)
		}
		s.cmd(line, args...)
	}
}

func (s *strEnv) cmd(line string, args ...string) {
	s.t.Helper()
	switch args[0] {
	case "!enc":
		want := s.o.do("OBJECT", "ENCODING", args[1])
		got := "<nil>"
		if o := s.e.ks.DB(s.e.db).Peek([]byte(args[1])); o != nil {
			got = StringEncoding(o)
		}
		if want.Str != got && !(want.Null && got == "<nil>") {
			s.t.Errorf("%s: redgo %s, redis %s", line, got, want)
		}
		return
	case "!ttl":
		want := s.o.do("TTL", args[1]).Int
		got := int64(-2)
		if o := s.e.ks.DB(s.e.db).Peek([]byte(args[1])); o != nil {
			got = -1
			if o.Expire() != 0 {
				got = (o.Expire() - s.e.ks.Now() + 500) / 1000
			}
		}
		if got != want {
			s.t.Errorf("%s: redgo %d, redis %d", line, got, want)
		}
		return
	case "!type":
		s.o.do("DEL", args[1])
		s.o.do("RPUSH", args[1], "x")
		s.e.ks.DB(s.e.db).Set([]byte(args[1]), keyspace.NewOther(keyspace.TList, nil), false)
		return
	case "!resp3":
		s.o.do("HELLO", "3")
		s.e.Proto = 3
		return
	case "!sleep":
		ms, _ := strconv.Atoi(args[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return
	case "!maxbulk":
		// The oracle is shared by the package's tests: restore it (ours
		// is this env's keyspace).
		old := s.o.do("CONFIG", "GET", "proto-max-bulk-len").Elems[1].Str
		s.t.Cleanup(func() { s.o.do("CONFIG", "SET", "proto-max-bulk-len", old) })
		s.o.do("CONFIG", "SET", "proto-max-bulk-len", args[1])
		n, _ := strconv.ParseInt(args[1], 10, 64)
		s.e.ks.MaxBulkLen.Store(n)
		return
	}
	got, want := s.e.do(args...), s.o.do(args...)
	s.replies[string(want.Type)]++
	if got.String() != want.String() || got.Type != want.Type {
		s.t.Errorf("%s\n  redgo: %c %s\n  redis: %c %s", line, got.Type, got, want.Type, want)
	}
}

func TestStringGetSet(t *testing.T) {
	newStrEnv(t).run(`
		GET k
		SET k v
		GET k
		!enc k
		SET k ""
		GET k
		!enc k
		SET k 12345
		!enc k
		SET k -12345
		!enc k
		SET k 9223372036854775807
		!enc k
		SET k 9223372036854775808
		!enc k
		SET k -9223372036854775808
		!enc k
		SET k 007
		!enc k
		SET k -0
		!enc k
		SET k 0
		!enc k
		SET k +1
		!enc k
		SET k "1 "
		!enc k
		SET k 12345678901234567890123456789012345678901234
		!enc k
		SET k 123456789012345678901234567890123456789012345
		!enc k
		SET k "\x00\xff binary \r\n"
		GET k
		STRLEN k
		!type l
		GET l
		SET l v
		GET l
		!type l
		SET
		SET k
		GET
		GET a b
	`)
}

func TestStringSetOptions(t *testing.T) {
	newStrEnv(t).run(`
		SET k v NX
		SET k v2 NX
		GET k
		SET k v3 XX
		GET k
		SET k2 v XX
		GET k2
		SET k v nx xx
		SET k v xx nx
		SET k v Nx nX
		SET k v XX XX
		SET k v4 GET
		SET k v5 get
		SET nokey v GET
		SET k v6 NX GET
		SET k v6 GET NX
		SET new v6 NX GET
		GET new
		SET k v7 XX GET
		SET missing v7 XX GET
		GET missing
		!type l
		SET l v GET
		GET l
		SET l v NX GET
		SET l v XX GET
		SET l v NX
		SET l v XX
		GET l

		SET k v EX 100
		!ttl k
		SET k v PX 100000
		!ttl k
		SET k v EXAT 4102444800
		!ttl k
		SET k v PXAT 4102444800000
		!ttl k
		SET k v KEEPTTL
		!ttl k
		SET k v
		!ttl k
		SET k v EX 100
		SET k v KEEPTTL GET
		!ttl k
		SET k v XX KEEPTTL
		!ttl k
		SET k v EX 200 GET
		!ttl k
		SET k v EX 10 EX 20
		!ttl k
		SET k v PX 5000 PX 20000
		!ttl k
		SET k v EXAT 4102444800 EXAT 4102444801
		SET k v PXAT 4102444800000 PXAT 4102444800001
		SET k v EX 10 PX 10
		SET k v PX 10 EX 10
		SET k v EX 10 EXAT 10
		SET k v EX 10 PXAT 10
		SET k v EXAT 10 PXAT 10
		SET k v PXAT 10 EXAT 10
		SET k v PX 10 PXAT 10
		SET k v EX 10 KEEPTTL
		SET k v KEEPTTL EX 10
		SET k v KEEPTTL PX 10
		SET k v KEEPTTL EXAT 10
		SET k v KEEPTTL PXAT 10
		SET k v KEEPTTL KEEPTTL
		SET k v EX
		SET k v PX
		SET k v EXAT
		SET k v PXAT
		SET k v NX EX
		SET k v PERSIST
		SET k v foo
		SET k v EX 10 foo
		SET k v nxx
		SET k v n
		SET k v EX 0
		SET k v EX -1
		SET k v EX abc
		SET k v EX 1.5
		SET k v EX ""
		SET k v EX 01
		SET k v PX 0
		SET k v PX -100
		SET k v EXAT 0
		SET k v PXAT -5
		SET k v EX 9223372036854775
		SET k v EX 9223372036854774
		SET k v EX 9223372036854775807
		SET k v EX 9223372036854775808
		SET k v PX 9223372036854775807
		SET k v EXAT 9223372036854775
		SET k v EXAT 9223372036854774
		!ttl k
		SET k v PXAT 9223372036854775807
		!ttl k
		SET k v ex 100 nx
		SET k v ex abc nx
		SET k v ex abc get
		SET l v ex abc get
		SET l v ex 10 get
		GET k
		# an expiry in the past stores a key that is already gone
		SET k v EXAT 1
		GET k
		SET k v PXAT 1 GET
		GET k
	`)
}

// Random SET and GETEX option lists, valid and not, on keys in every
// state: every reply, value and TTL must match.
func TestStringSetOptionsRandom(t *testing.T) {
	s := newStrEnv(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	t.Logf("seed %d", seed)
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	future := strconv.FormatInt(time.Now().Unix()+1000, 10)
	expVal := func(opt string) string {
		switch rng.IntN(8) {
		case 0:
			return pick("0", "-1", "abc", "", "1.5", "9223372036854775807", "9223372036854775")
		case 1:
			if strings.HasSuffix(opt, "AT") {
				return "1" // in the past
			}
		}
		switch strings.ToUpper(opt) {
		case "EX":
			return strconv.Itoa(100 + rng.IntN(1000))
		case "PX":
			return strconv.Itoa(100000 + 1000*rng.IntN(1000))
		case "EXAT":
			return future
		}
		return future + "000"
	}
	for i := 0; i < 1500 && !t.Failed(); i++ {
		key := pick("k", "m", "l")
		switch rng.IntN(6) {
		case 0:
			s.cmd("SET k", "SET", key, "old", "EX", "500")
		case 1:
			s.cmd("DEL", "DEL", key)
		case 2:
			s.cmd("!type", "!type", key)
		}
		cmd := "SET"
		if rng.IntN(3) == 0 {
			cmd = "GETEX"
		}
		args := []string{cmd, key}
		if cmd == "SET" {
			args = append(args, "v"+strconv.Itoa(i))
		}
		for n := rng.IntN(4); n > 0; n-- {
			opt := pick("NX", "XX", "GET", "KEEPTTL", "PERSIST", "EX", "PX", "EXAT", "PXAT", "ex", "get", "nx", "FOO")
			args = append(args, opt)
			if o := strings.ToUpper(opt); strings.HasSuffix(o, "X") && o != "NX" && o != "XX" || strings.HasSuffix(o, "AT") {
				if rng.IntN(10) > 0 {
					args = append(args, expVal(o))
				}
			}
		}
		s.cmd(strings.Join(args, " "), args...)
		s.cmd("GET "+key, "GET", key)
		s.cmd("!ttl "+key, "!ttl", key)
	}
	t.Logf("reply types: %v", s.replies)
}

func TestStringSetVariants(t *testing.T) {
	newStrEnv(t).run(`
		SETNX k v
		SETNX k v2
		GET k
		!enc k
		SETNX n 42
		!enc n
		!type l
		SETNX l v
		SETEX k 100 v
		!ttl k
		GET k
		!enc k
		SETEX k 0 v
		SETEX k -1 v
		SETEX k abc v
		SETEX k 9223372036854775 v
		SETEX k 9223372036854774 v
		SETEX l 100 v
		GET l
		PSETEX k 100000 v
		!ttl k
		PSETEX k 0 v
		PSETEX k -1 v
		PSETEX k 9223372036854775807 v
		PSETEX k 1.5 v
		SETEX k 10
		PSETEX k 10
		SETNX k

		GETSET k new
		!ttl k
		GETSET nokey v
		GET nokey
		GETSET l v
		SETEX k 100 v
		GETSET k 123
		!ttl k
		!enc k

		GETDEL k
		GETDEL k
		GET k
		GETDEL l
		GET l

		MSET a 1 b 2 c 3
		MGET a b c d
		MGET a l b
		MSET a
		MSET a 1 b
		MSET a 1 a 2
		GET a
		!enc a
		MSET l v
		GET l
		MSETNX x 1 y 2
		MGET x y
		MSETNX x 1 z 2
		GET z
		MSETNX z 1 z 2
		GET z
		MSETNX q
		MSETNX q 1 r
		!type l
		MSETNX l 1 w 2
		GET w
		MGET
	`)
}

func TestStringGetex(t *testing.T) {
	newStrEnv(t).run(`
		SET k v
		GETEX k
		!ttl k
		GETEX k EX 100
		!ttl k
		GETEX k PX 50000
		!ttl k
		GETEX k PERSIST
		!ttl k
		GETEX k PERSIST
		GETEX k EXAT 4102444800
		!ttl k
		GETEX k PXAT 4102444800000
		!ttl k
		GETEX k
		!ttl k
		GETEX k EX 10 PX 10
		GETEX k PERSIST EX 10
		GETEX k EX 10 PERSIST
		GETEX k PXAT 10 PERSIST
		GETEX k PERSIST PERSIST
		!ttl k
		GETEX k EX 10 EX 100
		!ttl k
		GETEX k KEEPTTL
		GETEX k NX
		GETEX k XX
		GETEX k GET
		GETEX k EX
		GETEX k PERSIST EX
		GETEX k EX 0
		GETEX k PX -1
		GETEX k EXAT 0
		GETEX k EX abc
		GETEX k EX 9223372036854775
		GETEX k PX 9223372036854775807
		GETEX k PXAT 9223372036854775807
		!ttl k
		GETEX nokey EX abc
		GETEX nokey EX 0
		GETEX nokey FOO
		GETEX nokey
		!type l
		GETEX l
		GETEX l EX 10
		GETEX l EX abc
		GETEX l FOO
		SET k v
		GETEX k EXAT 1
		GET k
		SET k v
		GETEX k PXAT 1000
		GET k
		SET k v
		GETEX k PXAT 4102444800000
		GETEX k EX 1
		GET k
		GETEX
	`)
}

func TestStringIncrDecr(t *testing.T) {
	newStrEnv(t).run(`
		INCR n
		!enc n
		INCRBY n 10
		DECR n
		DECRBY n 5
		DECRBY n -5
		INCRBY n -100
		GET n
		INCRBY n abc
		INCRBY n 1.5
		INCRBY n ""
		INCRBY n 9223372036854775807
		INCRBY n 9223372036854775808
		SET n 9223372036854775807
		INCR n
		INCRBY n 0
		DECR n
		SET n -9223372036854775808
		DECR n
		INCRBY n -1
		DECRBY n 1
		INCR n
		SET n 0
		DECRBY n -9223372036854775808
		DECRBY n 9223372036854775807
		DECRBY n 9223372036854775807
		DECRBY nokey -9223372036854775808
		INCRBY n -9223372036854775808
		INCRBY n -9223372036854775808
		SET n " 1"
		INCR n
		SET n "1 "
		INCR n
		SET n 01
		INCR n
		SET n -0
		INCR n
		SET n +1
		INCR n
		SET n 1.0
		INCR n
		SET n 123456789012345678901
		INCR n
		SET n ""
		INCR n
		SET n abc
		DECR n
		!type l
		INCR l
		DECR l
		INCRBY l 1
		INCRBY l abc
		DECRBY l abc
		SET n 10 EX 100
		INCR n
		!ttl n
		!enc n
		SET n 99
		APPEND n 9
		!enc n
		INCR n
		!enc n
		GET n
		SET n 100
		DECR n
		GET n
		STRLEN n
		SETRANGE r 0 12
		!enc r
		INCR r
		!enc r
		INCR
		INCRBY n
		INCRBY n 1 2
	`)
}

func TestStringIncrbyfloat(t *testing.T) {
	newStrEnv(t).run(`
		INCRBYFLOAT f 1
		!enc f
		GET f
		INCRBYFLOAT f 0.1
		INCRBYFLOAT f -1.1
		INCRBYFLOAT f 0.3
		INCRBYFLOAT f 1e300
		!enc f
		INCRBYFLOAT g 1.5e-10
		INCRBYFLOAT g 3.0e3
		INCRBYFLOAT g 1e-20
		INCRBYFLOAT g -3000
		GET g
		INCRBYFLOAT h 0x10
		INCRBYFLOAT h 0x1.8p1
		INCRBYFLOAT h 0X.8P-1
		INCRBYFLOAT h 0x1p
		INCRBYFLOAT h 0x
		INCRBYFLOAT h 0xg
		INCRBYFLOAT h 0x1.
		INCRBYFLOAT h -0x1.fffp+10
		INCRBYFLOAT h inf
		INCRBYFLOAT h -inf
		INCRBYFLOAT h +INF
		INCRBYFLOAT h Infinity
		INCRBYFLOAT h infinit
		INCRBYFLOAT h infx
		INCRBYFLOAT h nan
		INCRBYFLOAT h NaN
		INCRBYFLOAT h -nan
		INCRBYFLOAT h abc
		INCRBYFLOAT h " 1"
		INCRBYFLOAT h "1 "
		INCRBYFLOAT h ""
		INCRBYFLOAT h 1e5000
		INCRBYFLOAT h -1e5000
		INCRBYFLOAT h 1e-5000
		INCRBYFLOAT h 0e-5000
		INCRBYFLOAT h 0e99999999999999999999
		INCRBYFLOAT h 1e-4940
		INCRBYFLOAT h 1e-4950
		INCRBYFLOAT h 3e-4951
		INCRBYFLOAT h 1e-4951
		INCRBYFLOAT h 1e-99999999999999999999
		INCRBYFLOAT h 1e99999999999999999999
		INCRBYFLOAT h 1.18e4932
		INCRBYFLOAT h 1.19e4932
		INCRBYFLOAT h 1.18973149535723176502e+4932
		INCRBYFLOAT h 1.18973149535723176508e+4932
		GET h
		INCRBYFLOAT big 1e4932
		INCRBYFLOAT big 1e4932
		INCRBYFLOAT big -1e4932
		SET s inf
		INCRBYFLOAT s 1
		INCRBYFLOAT s -inf
		SET s -inf
		INCRBYFLOAT s 1
		SET s 1.5
		INCRBYFLOAT s 1
		SET s 5
		INCRBYFLOAT s 0
		!enc s
		SET s 5.0e3
		INCRBYFLOAT s 0
		SET s abc
		INCRBYFLOAT s 1
		SET s "1.5 "
		INCRBYFLOAT s 1
		!type l
		INCRBYFLOAT l 1
		INCRBYFLOAT l abc
		INCRBYFLOAT z -0
		INCRBYFLOAT z -0.0
		INCRBYFLOAT z 1.
		INCRBYFLOAT z .5
		INCRBYFLOAT z .
		INCRBYFLOAT z -.
		INCRBYFLOAT z -
		INCRBYFLOAT z +
		INCRBYFLOAT z 5e
		INCRBYFLOAT z 5e+
		INCRBYFLOAT z 5e+1
		INCRBYFLOAT z 5E-1
		INCRBYFLOAT z +1
		INCRBYFLOAT z 1_000
		INCRBYFLOAT z 1,5
		INCRBYFLOAT z --1
		INCRBYFLOAT z 1e1.5
		INCRBYFLOAT z 00000.000001
		INCRBYFLOAT z 1..2
		INCRBYFLOAT y 3.14159265358979323846264338327950288
		INCRBYFLOAT y 0.1
		INCRBYFLOAT y -0.2
		INCRBYFLOAT y 123456789012345678901234567890
		INCRBYFLOAT y -123456789012345678901234567890
		INCRBYFLOAT y 0.000000000000000001
		INCRBYFLOAT y 0.000000000000000006
		INCRBYFLOAT y -0.000000000000000005
		INCRBYFLOAT t 10.5
		SET t 1 EX 100
		INCRBYFLOAT t 1.5
		!ttl t
		!enc t
		INCRBYFLOAT t 1e30
		!enc t
		APPEND t 1
		!enc t
		INCRBYFLOAT
		INCRBYFLOAT t
		INCRBYFLOAT t 1 2
	`)
}

// Random numbers in every notation strtold accepts, summed by both.
func TestStringIncrbyfloatRandom(t *testing.T) {
	s := newStrEnv(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)
	for i := 0; i < 1000; i++ {
		key := "k" + strconv.Itoa(i%7)
		if i%50 == 0 {
			s.cmd("set", "SET", key, randFloatString(rng))
		}
		arg := randFloatString(rng)
		s.cmd("INCRBYFLOAT "+key+" "+arg, "INCRBYFLOAT", key, arg)
		if t.Failed() {
			break
		}
	}
	t.Logf("reply types: %v", s.replies)
}

func randFloatString(rng *rand.Rand) string {
	var b strings.Builder
	switch rng.IntN(10) {
	case 0:
		b.WriteByte('-')
	case 1:
		b.WriteByte('+')
	}
	if rng.IntN(12) == 0 {
		b.WriteString("0x")
		for n := rng.IntN(20); n >= 0; n-- {
			b.WriteByte("0123456789abcdefABCDEF"[rng.IntN(22)])
		}
		if rng.IntN(2) == 0 {
			b.WriteString(".")
			for n := rng.IntN(20); n > 0; n-- {
				b.WriteByte("0123456789abcdef"[rng.IntN(16)])
			}
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "p%d", rng.IntN(200)-100)
		}
		return b.String()
	}
	digits := func(n int) {
		for ; n > 0; n-- {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
	}
	switch rng.IntN(4) {
	case 0: // small integers and decimals
		digits(1 + rng.IntN(5))
		if rng.IntN(2) == 0 {
			b.WriteByte('.')
			digits(1 + rng.IntN(5))
		}
	case 1: // many digits
		digits(1 + rng.IntN(40))
		b.WriteByte('.')
		digits(rng.IntN(40))
	case 2: // exponents from tiny to huge
		digits(1 + rng.IntN(20))
		fmt.Fprintf(&b, "e%d", rng.IntN(9900)-4950)
	case 3: // near the edges of 17 decimals
		b.WriteString("0.")
		digits(15 + rng.IntN(6))
	}
	return b.String()
}

func TestStringAppendStrlen(t *testing.T) {
	newStrEnv(t).run(`
		APPEND k hello
		!enc k
		APPEND k " world"
		!enc k
		GET k
		STRLEN k
		APPEND n 123
		!enc n
		APPEND n ""
		!enc n
		GET n
		APPEND big 123456789012345678901234567890123456789012345
		!enc big
		SET e ""
		APPEND e ""
		!enc e
		STRLEN nokey
		STRLEN e
		!type l
		APPEND l x
		STRLEN l
		SET x 12
		APPEND x 3
		GET x
		STRLEN x
		APPEND
		STRLEN
	`)
}

func TestStringRanges(t *testing.T) {
	newStrEnv(t).run(`
		SET k "This is a string"
		GETRANGE k 0 3
		GETRANGE k -3 -1
		GETRANGE k 0 -1
		GETRANGE k 10 100
		GETRANGE k 100 200
		GETRANGE k -100 -200
		GETRANGE k -200 -100
		GETRANGE k -100 2
		GETRANGE k 5 3
		GETRANGE k -1 -5
		GETRANGE k -9223372036854775808 9223372036854775807
		GETRANGE k a 1
		GETRANGE k 1 a
		GETRANGE k 1.5 2
		GETRANGE nokey 0 -1
		GETRANGE nokey a 1
		SUBSTR k 0 3
		SUBSTR k -3 -1
		SUBSTR nokey 0 1
		SET e ""
		GETRANGE e 0 -1
		GETRANGE e 0 0
		GETRANGE e -1 0
		SET n 12345
		GETRANGE n 1 2
		!type l
		GETRANGE l 0 1
		GETRANGE l a 1
		SUBSTR l 0 1
		GETRANGE k 0
		SUBSTR k 0

		SETRANGE k 0 that
		GET k
		!enc k
		SETRANGE k 20 tail
		GET k
		SETRANGE s 5 x
		GET s
		!enc s
		SETRANGE s2 0 x
		!enc s2
		SETRANGE n 1 9
		GET n
		!enc n
		SETRANGE e2 0 ""
		GET e2
		SETRANGE e2 10 ""
		SETRANGE k 2 ""
		SETRANGE k 100000 ""
		SETRANGE k -1 x
		SETRANGE k -1 ""
		SETRANGE k a x
		SETRANGE k 536870912 x
		SETRANGE k 536870911 xx
		SETRANGE k 9223372036854775807 x
		SETRANGE nokey 536870912 x
		SETRANGE nokey 536870912 ""
		SETRANGE l 0 x
		SETRANGE l -1 x
		SETRANGE l 0 ""
		SETRANGE l 536870912 x
		SETRANGE k 0
	`)
}

func TestStringLcs(t *testing.T) {
	newStrEnv(t).run(`
		MSET key1 ohmytext key2 mynewtext
		LCS key1 key2
		LCS key1 key2 LEN
		LCS key1 key2 IDX
		LCS key1 key2 idx minmatchlen 4
		LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN
		LCS key1 key2 IDX WITHMATCHLEN
		LCS key1 key2 WITHMATCHLEN
		LCS key1 key2 LEN WITHMATCHLEN
		LCS key1 key2 MINMATCHLEN 2
		LCS key1 key2 LEN IDX
		LCS key1 key2 IDX LEN
		LCS key1 key2 foo
		LCS key1 key2 MINMATCHLEN
		LCS key1 key2 MINMATCHLEN x
		LCS key1 key2 MINMATCHLEN -5 IDX
		LCS key1 key2 IDX MINMATCHLEN 9223372036854775807
		LCS key1 nokey
		LCS key1 nokey IDX
		LCS nokey key1 LEN
		LCS nokey nokey2 IDX
		LCS nokey nokey2 foo
		!type l
		LCS l key1
		LCS key1 l IDX
		LCS l key1 foo
		LCS key1 key1 IDX WITHMATCHLEN
		MSET a abcabc b cbacba
		LCS a b IDX WITHMATCHLEN
		MSET a 1234 b 1234
		LCS a b IDX
		!resp3
		LCS key1 key2 IDX WITHMATCHLEN
		LCS a b
	`)
}

func TestStringLcsRandom(t *testing.T) {
	s := newStrEnv(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	t.Logf("seed %d", seed)
	for i := 0; i < 200 && !t.Failed(); i++ {
		alpha := "abcdefgh"[:2+rng.IntN(6)]
		mk := func() string {
			b := make([]byte, rng.IntN(30))
			for j := range b {
				b[j] = alpha[rng.IntN(len(alpha))]
			}
			return string(b)
		}
		a, b := mk(), mk()
		s.cmd("MSET", "MSET", "a", a, "b", b)
		s.cmd("LCS a b "+a+" "+b, "LCS", "a", "b")
		s.cmd("LCS IDX "+a+" "+b, "LCS", "a", "b", "IDX", "WITHMATCHLEN")
		mm := strconv.Itoa(rng.IntN(4))
		s.cmd("LCS IDX MINMATCHLEN "+mm+" "+a+" "+b, "LCS", "a", "b", "IDX", "MINMATCHLEN", mm)
		s.cmd("LCS LEN", "LCS", "a", "b", "LEN")
	}
	t.Logf("reply types: %v", s.replies)
}

// Option names are matched on the C string, up to the first NUL byte.
func TestStringCStringOptions(t *testing.T) {
	newStrEnv(t).run(`
		SET k v
		SET k v2 "NX\x00junk"
		GET k
		SET k v3 "xx\x00" "GET\x00x"
		SET k v "keepttl\x00q"
		SET k v "EX\x00" 100
		!ttl k
		GETEX k "persist\x00"
		!ttl k
		GETEX k "PX\x00zz" 100000
		!ttl k
		SET k v "\x00NX"
		SET k v "N\x00X"
		MSET a ohmytext b mynewtext
		LCS a b "len\x00"
		LCS a b "IDX\x00" "MINMATCHLEN\x00" 4
		SET k foobar
		BITCOUNT k 0 -1 "bit\x00x"
		BITPOS k 1 0 -1 "BIT\x00"
		BITOP "and\x00" d k
		BITFIELD k "GET\x00" "i8\x00zz" 0 "OVERFLOW\x00" "sat\x00" INCRBY u8 0 300
		BITFIELD k GET "\x008" 0
		BITFIELD k GET "i\x00" 0
	`)
}

// Limits that follow proto-max-bulk-len.
func TestStringMaxBulkLen(t *testing.T) {
	newStrEnv(t).run(`
		!maxbulk 1048576
		SETRANGE k 1048575 x
		STRLEN k
		SETRANGE k 1048576 x
		SETRANGE k 1048575 xy
		APPEND k x
		APPEND k ""
		SETRANGE n 1048576 x
		SETRANGE n 1048576 ""
		SETBIT b 8388607 1
		STRLEN b
		SETBIT b 8388608 1
		GETBIT b 8388608
		BITFIELD b GET u8 8388608
		BITFIELD b SET u8 8388600 1
		BITFIELD b SET u8 8388601 1
		BITFIELD b GET u8 #1048575
		BITFIELD b GET u8 #1048576
		LCS k b LEN
		SETRANGE s1 499 x
		SETRANGE s2 499 y
		LCS s1 s2 LEN
		SETRANGE s1 600 x
		LCS s1 s2 LEN
		LCS s1 nokey
	`)
}

// Keys that expire between commands are gone for every string command.
func TestStringExpired(t *testing.T) {
	newStrEnv(t).run(`
		SET k v PX 1
		SET x 5 PX 1
		SET f 1.5 PX 1
		SET b "\xff" PX 1
		MSET k2 v k3 v
		PEXPIRE k2 1
		PEXPIRE k3 1
		!sleep 20
		GET k
		SET k v2 XX
		GET k
		SET k v3 KEEPTTL
		!ttl k
		INCR x
		!ttl x
		INCRBYFLOAT f 1
		GETEX k2 PERSIST
		GETDEL k2
		SET k3 v NX GET
		!ttl k3
		SETBIT b 0 0
		GET b
		MGET k k2 k3 x
		STRLEN nokey
	`)
}

func TestStringResp3(t *testing.T) {
	newStrEnv(t).run(`
		!resp3
		GET nokey
		SET k v
		SET k v NX
		SET k v2 NX GET
		SET nokey2 v XX GET
		MGET k nokey
		GETEX nokey
		GETDEL nokey
		GETSET nokey3 v
		INCRBYFLOAT f 1.5
		GETRANGE nokey 0 1
		SETNX k v
		MSETNX k 1
		BITFIELD k OVERFLOW FAIL INCRBY u2 0 8
		LCS k k IDX
	`)
}

func TestStringBinaryFloats(t *testing.T) {
	newStrEnv(t).run(`
		SET s "1\x00"
		INCRBYFLOAT s 1
		INCR s
		INCRBYFLOAT k "1\x00"
		INCRBY k "1\x00"
		SETRANGE s 1 5
		INCRBYFLOAT s 0.5
		!enc s
		INCR s
		!enc s
	`)
}

// The core behaviour, checked without redis-server (the differential
// tests above skip when it is not installed).
func TestStringUnit(t *testing.T) {
	e := newEnv(t)
	e.must("(nil)", "GET", "k")
	e.must(`"OK"`, "SET", "k", "v")
	e.must(`"v"`, "GET", "k")
	e.must("(nil)", "SET", "k", "w", "NX")
	e.must(`"v"`, "SET", "k", "w", "XX", "GET")
	e.mustErr(ErrSyntax, "SET", "k", "v", "NX", "XX")
	e.mustErr(ErrSyntax, "SET", "k", "v", "EX", "10", "PX", "10")
	e.mustErr("ERR invalid expire time in 'set' command", "SET", "k", "v", "EX", "0")
	e.mustErr("ERR invalid expire time in 'setex' command", "SETEX", "k", "-1", "v")
	e.mustErr(ErrNotInt, "SET", "k", "v", "PX", "x")
	e.must("1", "INCR", "n")
	e.must("-9", "DECRBY", "n", "10")
	e.mustErr(ErrNotInt, "INCR", "k")
	e.must(`"OK"`, "SET", "n", "9223372036854775807")
	e.mustErr(ErrOverflow, "INCR", "n")
	e.mustErr("ERR decrement would overflow", "DECRBY", "n", "-9223372036854775808")
	e.must(`"10.5"`, "INCRBYFLOAT", "f", "10.5")
	e.must(`"10.6"`, "INCRBYFLOAT", "f", "0.1")
	if v := e.do("INCRBYFLOAT", "huge", "1.1e4932"); v.Type != '$' || len(v.Str) != 4933 {
		t.Errorf("INCRBYFLOAT huge 1.1e4932 = %c %.20s... (%d bytes)", v.Type, v.Str, len(v.Str))
	}
	e.mustErr("ERR increment would produce NaN or Infinity", "INCRBYFLOAT", "huge", "1.1e4932")
	e.mustErr(ErrNotFloat, "INCRBYFLOAT", "huge", "1.2e4932")
	e.mustErr(ErrNotFloat, "INCRBYFLOAT", "f", "nan")
	e.must(`"100000000000000000000"`, "INCRBYFLOAT", "big", "1e20")
	e.must(`"0.00000000015"`, "INCRBYFLOAT", "small", "1.5e-10")
	e.must("11", "APPEND", "k", "1234567890")
	e.must(`"w12"`, "GETRANGE", "k", "0", "2")
	e.must(`"890"`, "SUBSTR", "k", "-3", "-1")
	e.must("13", "SETRANGE", "k", "11", "ab")
	e.must("13", "STRLEN", "k")
	e.mustErr("ERR offset is out of range", "SETRANGE", "k", "-1", "x")
	e.must(`"OK"`, "MSET", "a", "ohmytext", "b", "mynewtext")
	e.must(`"mytext"`, "LCS", "a", "b")
	e.must("6", "LCS", "a", "b", "LEN")
	e.must(`["matches" [[[4 7] [5 8] 4] [[2 3] [0 1] 2]] "len" 6]`, "LCS", "a", "b", "IDX", "WITHMATCHLEN")
	e.must(`["ohmytext" (nil) "mynewtext"]`, "MGET", "a", "nokey", "b")
	e.must("0", "MSETNX", "a", "1", "c", "2")
	e.must(`"ohmytext"`, "GETDEL", "a")
	e.must("(nil)", "GETEX", "a")
	e.must(`"mynewtext"`, "GETEX", "b", "PERSIST")
	e.ks.DB(0).Set([]byte("l"), keyspace.NewOther(keyspace.TList, nil), false)
	for _, cmd := range [][]string{
		{"GET", "l"}, {"GETSET", "l", "v"}, {"GETDEL", "l"}, {"GETEX", "l"}, {"INCR", "l"},
		{"INCRBYFLOAT", "l", "1"}, {"APPEND", "l", "x"}, {"STRLEN", "l"}, {"GETRANGE", "l", "0", "1"},
		{"SETRANGE", "l", "0", "x"}, {"SET", "l", "v", "GET"},
	} {
		e.mustErr(ErrWrongType, cmd...)
	}
	e.mustErr("ERR The specified keys must contain string values", "LCS", "l", "b")
	e.must(`"OK"`, "SET", "l", "v")
}

func TestStringEncodingUnit(t *testing.T) {
	cases := []struct {
		v     string
		flags uint8
		want  string
	}{
		{"1", 0, "int"},
		{"-1", 0, "int"},
		{"01", 0, "embstr"},
		{"", 0, "embstr"},
		{"1", keyspace.StrRaw, "raw"},
		{"1", strFloat, "embstr"},
		{strings.Repeat("x", 44), 0, "embstr"},
		{strings.Repeat("x", 45), 0, "raw"},
		{strings.Repeat("1", 45), strFloat, "raw"},
	}
	for _, c := range cases {
		o := keyspace.NewString([]byte(c.v))
		o.Flags = c.flags
		if got := StringEncoding(o); got != c.want {
			t.Errorf("StringEncoding(%q, %d) = %s, want %s", c.v, c.flags, got, c.want)
		}
	}
}

// The stored value must not alias the request: the connection reuses its
// read buffer.
func TestStringCopiesArguments(t *testing.T) {
	ks := keyspace.New(1)
	for _, cmd := range [][]string{
		{"SET", "k", "value"}, {"SET", "k", "value", "EX", "100"}, {"SETNX", "k", "value"},
		{"SETEX", "k", "100", "value"}, {"GETSET", "k", "value"}, {"MSET", "k", "value"},
		{"MSETNX", "k", "value"}, {"APPEND", "k", "value"},
	} {
		ks.DB(0).Delete([]byte("k"))
		args := make([][]byte, len(cmd))
		for i, a := range cmd {
			args[i] = []byte(a)
		}
		var w resp.Writer
		Exec(ks, 0, &w, args)
		for _, a := range args {
			for i := range a {
				a[i] = 'X'
			}
		}
		w.Buf = w.Buf[:0]
		Exec(ks, 0, &w, [][]byte{[]byte("GET"), []byte("k")})
		if string(w.Buf) != "$5\r\nvalue\r\n" {
			t.Errorf("%v: stored value changed with the request buffer: %q", cmd, w.Buf)
		}
	}
}

func TestStringDirty(t *testing.T) {
	ks := keyspace.New(1)
	run := func(args ...string) int {
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		cmd := Lookup(bargs[0])
		c := &Ctx{Args: bargs, Cmd: cmd, W: &resp.Writer{}, DB: ks.DB(0), KS: ks, Now: ks.Now()}
		cmd.Handler(c)
		return c.Dirty
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"SET", "k", "v"}, 1},
		{[]string{"SET", "k", "v", "NX"}, 0},
		{[]string{"SET", "k", "v", "XX", "GET"}, 1},
		{[]string{"GET", "k"}, 0},
		{[]string{"MSET", "a", "1", "b", "2"}, 2},
		{[]string{"MSETNX", "a", "1", "c", "2"}, 0},
		{[]string{"INCR", "a"}, 1},
		{[]string{"INCRBYFLOAT", "a", "1.5"}, 1},
		{[]string{"INCR", "a"}, 0},
		{[]string{"APPEND", "k", "x"}, 1},
		{[]string{"SETRANGE", "k", "0", ""}, 0},
		{[]string{"SETRANGE", "k", "0", "y"}, 1},
		{[]string{"GETEX", "k"}, 0},
		{[]string{"GETEX", "k", "EX", "100"}, 1},
		{[]string{"GETEX", "k", "PERSIST"}, 1},
		{[]string{"GETEX", "k", "PERSIST"}, 0},
		{[]string{"GETDEL", "k"}, 1},
		{[]string{"GETDEL", "k"}, 0},
		{[]string{"GETSET", "k", "v"}, 1},
	} {
		if got := run(tc.args...); got != tc.want {
			t.Errorf("%v: dirty %d, want %d", tc.args, got, tc.want)
		}
	}
}

func TestLongDoubleFormat(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0.1", "0.1"},
		{"1", "1"},
		{"-0", "0"},
		{"-0.000000000000000001", "0"},
		{"1e20", "100000000000000000000"},
		{"3.0e3", "3000"},
		{"0x1p-1", "0.5"},
		{"1.5e-10", "0.00000000015"},
	} {
		v, ok := ldParse([]byte(tc.in))
		if !ok {
			t.Errorf("parse %q failed", tc.in)
			continue
		}
		if got := string(v.appendHuman(nil)); got != tc.want {
			t.Errorf("%q formats as %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", " 1", "1 ", "nan", "1e", "0x", "1e5000", "1e-5000", "--1", "1_0"} {
		if _, ok := ldParse([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func BenchmarkStringSetGet(b *testing.B) {
	ks := keyspace.New(1)
	set := [][]byte{[]byte("SET"), []byte("key:1234"), []byte("some value of moderate size")}
	get := [][]byte{[]byte("GET"), []byte("key:1234")}
	incr := [][]byte{[]byte("INCR"), []byte("counter")}
	w := &resp.Writer{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Buf = w.Buf[:0]
		Exec(ks, 0, w, set)
		Exec(ks, 0, w, get)
		Exec(ks, 0, w, incr)
	}
}
