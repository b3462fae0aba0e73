package commands

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBitSetGet(t *testing.T) {
	newStrEnv(t).run(`
		SETBIT k 7 1
		GET k
		!enc k
		SETBIT k 7 0
		SETBIT k 7 0
		SETBIT k 100 1
		GET k
		STRLEN k
		GETBIT k 100
		GETBIT k 99
		GETBIT k 7
		GETBIT k 1000
		GETBIT nokey 5
		SET s 1
		!enc s
		GETBIT s 2
		GETBIT s 3
		SETBIT s 6 1
		GET s
		!enc s
		SET e foo
		SETBIT e 0 0
		!enc e
		SETBIT k 1 2
		SETBIT k 1 -1
		SETBIT k 1 a
		SETBIT k 1 ""
		SETBIT k 1 01
		SETBIT k -1 1
		SETBIT k a 1
		SETBIT k 4294967296 1
		SETBIT k 4294967296 a
		SETBIT k #8 1
		GETBIT k -1
		GETBIT k 4294967296
		GETBIT k 4294967295
		GETBIT k a
		GETBIT nokey a
		!type l
		SETBIT l 0 1
		SETBIT l 0 2
		SETBIT l a 1
		GETBIT l 0
		GETBIT l a
		SETBIT k 1
		GETBIT k
		SET t v EX 100
		SETBIT t 0 1
		!ttl t
	`)
}

func TestBitCount(t *testing.T) {
	newStrEnv(t).run(`
		SET k foobar
		BITCOUNT k
		BITCOUNT k 0 0
		BITCOUNT k 1 1
		BITCOUNT k 1 1 BYTE
		BITCOUNT k 5 30 BIT
		BITCOUNT k 5 30 bit
		BITCOUNT k 0 -1 BIT
		BITCOUNT k -5 -1 BIT
		BITCOUNT k -1 -5 BIT
		BITCOUNT k -1 -5
		BITCOUNT k -100 -50
		BITCOUNT k -100 2
		BITCOUNT k 2 100
		BITCOUNT k 100 200
		BITCOUNT k 3 2
		BITCOUNT k 0 0 BIT
		BITCOUNT k 7 7 BIT
		BITCOUNT k 1 6 BIT
		BITCOUNT k 9 14 BIT
		BITCOUNT k -9223372036854775808 9223372036854775807
		BITCOUNT k -9223372036854775808 9223372036854775807 BIT
		BITCOUNT k 0
		BITCOUNT k 0 1 foo
		BITCOUNT k 0 1 BIT x
		BITCOUNT k a 1
		BITCOUNT k 0 a
		BITCOUNT k a 1 foo
		BITCOUNT k 0 1 foo bar
		BITCOUNT k -1 -5 foo
		BITCOUNT k -1 -5 BIT
		BITCOUNT k -5 -1 foo
		BITCOUNT k -1 -5 a
		BITCOUNT nokey
		BITCOUNT nokey a b
		BITCOUNT nokey 0
		SET e ""
		BITCOUNT e
		BITCOUNT e 0 -1
		BITCOUNT e 0 -1 BIT
		SET n 12345
		BITCOUNT n
		BITCOUNT n 1 2
		!type l
		BITCOUNT l
		BITCOUNT l a b
		BITCOUNT l 0
		BITCOUNT
	`)
}

func TestBitPos(t *testing.T) {
	newStrEnv(t).run(`
		SET k "\xff\xf0\x00"
		BITPOS k 0
		BITPOS k 1
		BITPOS k 0 0
		BITPOS k 1 2
		BITPOS k 1 2 -1
		BITPOS k 0 2 -1
		BITPOS k 1 0 -1 BIT
		BITPOS k 0 7 15 BIT
		BITPOS k 0 7 11 BIT
		BITPOS k 1 12 -1 BIT
		BITPOS k 1 5 BIT
		BITPOS k 0 5 bit
		BITPOS k 0 5 byte
		SET f "\xff\xff\xff"
		BITPOS f 0
		BITPOS f 0 1
		BITPOS f 0 1 -1
		BITPOS f 0 3 BIT
		BITPOS f 0 3 9 BIT
		BITPOS f 1
		BITPOS f 0 100
		BITPOS f 0 -100
		BITPOS f 0 -1 -100
		BITPOS f 1 -1 -100
		SET z "\x00\x00"
		BITPOS z 1
		BITPOS z 0
		BITPOS z 1 1
		BITPOS z 0 1
		BITPOS z 0 1 1
		BITPOS z 0 3 5 BIT
		BITPOS nokey 0
		BITPOS nokey 1
		BITPOS nokey 0 5
		BITPOS nokey 1 a b
		BITPOS nokey 2
		BITPOS nokey a
		SET e ""
		BITPOS e 0
		BITPOS e 1
		BITPOS e 0 0
		BITPOS e 0 0 -1
		BITPOS e 0 0 -1 BIT
		BITPOS k 2
		BITPOS k -1
		BITPOS k a
		BITPOS k 1 a
		BITPOS k 1 0 a
		BITPOS k 1 0 1 foo
		BITPOS k 1 a 1 foo
		BITPOS k 1 0 a foo
		BITPOS k 1 0 1 BIT x
		SET n 12
		BITPOS n 1
		BITPOS n 0 1
		!type l
		BITPOS l 1
		BITPOS l 2
		BITPOS l 1 a
		BITPOS k
	`)
}

func TestBitOp(t *testing.T) {
	newStrEnv(t).run(`
		SET a foobar
		SET b abcdef
		SET c "\xff"
		BITOP AND d a b
		GET d
		!enc d
		BITOP OR d a b c
		GET d
		BITOP XOR d a b c
		GET d
		BITOP NOT d a
		GET d
		BITOP and d a c
		GET d
		BITOP AND d a nokey
		GET d
		BITOP OR d nokey c
		GET d
		BITOP XOR d c nokey
		GET d
		BITOP NOT d nokey
		GET d
		SET d x
		BITOP OR d nokey nokey2
		GET d
		BITOP OR d nokey
		SET e ""
		BITOP OR d e
		GET d
		BITOP NOT d a b
		BITOP NOT d
		BITOP FOO d a
		BITOP ANDX d a
		BITOP AND a a b
		GET a
		SET n 42
		BITOP OR d n c
		GET d
		!type l
		BITOP AND d a l
		BITOP NOT d l
		BITOP AND l a
		GET l
		BITOP FOO d l
		SET t v EX 100
		BITOP OR t a
		!ttl t
		BITOP
		BITOP AND d
	`)
}

func TestBitfield(t *testing.T) {
	newStrEnv(t).run(`
		BITFIELD k SET i8 0 100 GET i8 0
		GET k
		!enc k
		BITFIELD k INCRBY i5 100 1 GET u4 0
		BITFIELD k SET u8 #1 255 GET u8 8 GET u8 #1 GET i8 #1
		BITFIELD k INCRBY u2 100 1 OVERFLOW SAT incrby u2 102 1
		BITFIELD k OVERFLOW SAT INCRBY i8 0 200 INCRBY i8 0 -300
		BITFIELD k OVERFLOW FAIL INCRBY i8 0 200 GET i8 0 SET u4 0 16 SET u4 0 15
		BITFIELD k OVERFLOW WRAP INCRBY i8 0 200 SET u4 0 17 SET i4 0 -9
		BITFIELD k SET i64 0 -9223372036854775808 INCRBY i64 0 -1 GET i64 0
		BITFIELD k OVERFLOW SAT SET i64 0 9223372036854775807 INCRBY i64 0 1 INCRBY i64 0 -9223372036854775808
		BITFIELD k OVERFLOW FAIL INCRBY i64 0 1 INCRBY i64 0 -1
		BITFIELD k SET u63 0 9223372036854775807 INCRBY u63 0 1 GET u63 0
		BITFIELD k OVERFLOW SAT SET u63 0 -1 INCRBY u63 0 -1 INCRBY u63 0 9223372036854775807
		BITFIELD k OVERFLOW FAIL SET u8 0 256 SET u8 0 -1 SET i8 0 128 SET i8 0 -129
		BITFIELD k OVERFLOW SAT SET u8 0 256 SET u8 0 -1 SET i8 0 128 SET i8 0 -129
		BITFIELD k OVERFLOW WRAP SET u8 0 256 SET u8 0 -1 SET i8 0 128 SET i8 0 -129
		BITFIELD k GET i1 0 GET u1 0 GET i64 3 GET u63 5
		BITFIELD k GET u8 1000
		BITFIELD k
		BITFIELD nokey GET u8 0
		BITFIELD nokey
		GET nokey
		BITFIELD fail OVERFLOW FAIL INCRBY u8 100 1000
		GET fail
		BITFIELD k GET i8
		BITFIELD k GET i8 0 SET
		BITFIELD k SET i8 0
		BITFIELD k INCRBY i8 0
		BITFIELD k FOO
		BITFIELD k GET i65 0
		BITFIELD k GET u64 0
		BITFIELD k GET i0 0
		BITFIELD k GET u0 0
		BITFIELD k GET I8 0
		BITFIELD k GET U8 0
		BITFIELD k GET x8 0
		BITFIELD k GET i 0
		BITFIELD k GET "" 0
		BITFIELD k GET i08 0
		BITFIELD k GET i-1 0
		BITFIELD k GET i8 -1
		BITFIELD k GET i8 a
		BITFIELD k GET i8 #-1
		BITFIELD k GET i8 ##1
		BITFIELD k GET i8 #
		BITFIELD k GET i8 4294967296
		BITFIELD k GET i8 4294967295
		BITFIELD k GET i8 #536870911
		BITFIELD k GET i8 #536870912
		BITFIELD k GET u1 #4294967295
		BITFIELD k GET u1 #4294967296
		BITFIELD k SET i8 0 a
		BITFIELD k SET i8 0 1.5
		BITFIELD k INCRBY i8 0 9223372036854775808
		BITFIELD k OVERFLOW foo
		BITFIELD k OVERFLOW
		BITFIELD k OVERFLOW fail
		BITFIELD k overflow sat get i8 0 overflow wrap
		BITFIELD k get i8 0 foo
		BITFIELD k SET i8 0 1 OVERFLOW foo
		!type l
		BITFIELD l GET i8 0
		BITFIELD l SET i8 0 1
		BITFIELD l
		BITFIELD l GET i8 a
		BITFIELD_RO k GET i8 0 GET u4 4
		BITFIELD_RO k SET i8 0 1
		BITFIELD_RO k GET i8 0 INCRBY i8 0 1
		BITFIELD_RO k GET i8 0 SET i8 0 a
		BITFIELD_RO k OVERFLOW SAT
		BITFIELD_RO k
		BITFIELD_RO nokey GET i8 0
		BITFIELD_RO l GET i8 0
		BITFIELD_RO l SET i8 0 1
		SET n 12345
		BITFIELD_RO n GET u8 0 GET u16 8
		BITFIELD n INCRBY u8 0 1
		!enc n
		SET t v EX 100
		BITFIELD t SET u8 0 65
		!ttl t
		BITFIELD
		BITFIELD_RO
		!resp3
		BITFIELD k OVERFLOW FAIL INCRBY u8 0 1000 GET u8 0
	`)
}

// Random ranges over random strings, the same on both sides.
func TestBitRandom(t *testing.T) {
	s := newStrEnv(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 11))
	t.Logf("seed %d", seed)
	num := func(n int) string { return strconv.Itoa(rng.IntN(2*n+1) - n) }
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	for i := 0; i < 3000 && !t.Failed(); i++ {
		if i%20 == 0 {
			b := make([]byte, rng.IntN(24))
			for j := range b {
				b[j] = []byte{0, 0xff, 0x0f, 0xf0, 0x80, 0x01, 0x55, byte(rng.IntN(256))}[rng.IntN(8)]
			}
			s.cmd("SET", "SET", "k", string(b))
			s.cmd("SET", "SET", "j", string(b[:rng.IntN(len(b)+1)]))
		}
		var args []string
		switch rng.IntN(8) {
		case 0:
			args = []string{"BITCOUNT", "k", num(30), num(30)}
		case 1:
			args = []string{"BITCOUNT", "k", num(200), num(200), pick("BIT", "BYTE", "bit", "FOO")}
		case 2:
			args = []string{"BITPOS", "k", pick("0", "1")}
			switch rng.IntN(4) {
			case 1:
				args = append(args, num(30))
			case 2:
				args = append(args, num(30), num(30))
			case 3:
				args = append(args, num(200), num(200), pick("BIT", "BYTE"))
			}
		case 3:
			args = []string{"SETBIT", "k", strconv.Itoa(rng.IntN(200)), pick("0", "1")}
		case 4:
			args = []string{"GETBIT", "k", strconv.Itoa(rng.IntN(200))}
		case 5:
			args = []string{"BITOP", pick("AND", "OR", "XOR"), "d", "k", "j"}
			if rng.IntN(2) == 0 {
				args = []string{"BITOP", "NOT", "d", pick("k", "j")}
			}
			s.cmd(strings.Join(args, " "), args...)
			args = []string{"GET", "d"}
		case 6:
			args = []string{"BITFIELD", "k"}
			for n := 1 + rng.IntN(4); n > 0; n-- {
				typ := "u" + strconv.Itoa(1+rng.IntN(63))
				if rng.IntN(2) == 0 {
					typ = "i" + strconv.Itoa(1+rng.IntN(64))
				}
				off := strconv.Itoa(rng.IntN(150))
				if rng.IntN(4) == 0 {
					off = "#" + strconv.Itoa(rng.IntN(4))
				}
				switch rng.IntN(4) {
				case 0:
					args = append(args, "GET", typ, off)
				case 1:
					args = append(args, "SET", typ, off, strconv.FormatInt(rng.Int64()>>rng.IntN(64)-rng.Int64()>>rng.IntN(64), 10))
				case 2:
					args = append(args, "INCRBY", typ, off, strconv.FormatInt(rng.Int64()>>rng.IntN(64)-rng.Int64()>>rng.IntN(64), 10))
				case 3:
					args = append(args, "OVERFLOW", pick("WRAP", "SAT", "FAIL"))
				}
			}
		case 7:
			args = []string{"GETRANGE", "k", num(30), num(30)}
		}
		s.cmd(strings.Join(args, " "), args...)
		if i%10 == 0 {
			s.cmd("GET k", "GET", "k")
		}
	}
	t.Logf("reply types: %v", s.replies)
}

// The core behaviour, checked without redis-server.
func TestBitUnit(t *testing.T) {
	e := newEnv(t)
	e.must("0", "SETBIT", "k", "7", "1")
	e.must("1", "SETBIT", "k", "7", "0")
	e.must("0", "GETBIT", "k", "100")
	e.mustErr(ErrBitValue, "SETBIT", "k", "1", "2")
	e.mustErr(ErrBitOffset, "SETBIT", "k", "4294967296", "1")
	e.must(`"OK"`, "SET", "k", "foobar")
	e.must("26", "BITCOUNT", "k")
	e.must("4", "BITCOUNT", "k", "0", "0")
	e.must("17", "BITCOUNT", "k", "5", "30", "BIT")
	e.must("0", "BITCOUNT", "k", "-1", "-5", "FOO")
	e.mustErr(ErrSyntax, "BITCOUNT", "k", "0", "1", "FOO")
	e.must(`"OK"`, "SET", "p", "\xff\xf0\x00")
	e.must(`"OK"`, "SET", "f", "\xff\xff\xff")
	e.must("12", "BITPOS", "p", "0")
	e.must("-1", "BITPOS", "p", "0", "0", "0")
	e.must("8", "BITPOS", "p", "1", "1")
	e.must("12", "BITPOS", "p", "0", "3", "-1", "BIT")
	e.must("-1", "BITPOS", "p", "0", "3", "11", "BIT")
	e.must("24", "BITPOS", "f", "0")
	e.mustErr("ERR The bit argument must be 1 or 0.", "BITPOS", "p", "2")
	e.must("6", "BITOP", "AND", "d", "k", "k")
	e.must(`"foobar"`, "GET", "d")
	e.mustErr("ERR BITOP NOT must be called with a single source key.", "BITOP", "NOT", "d", "k", "k")
	e.must("[0 100]", "BITFIELD", "b", "SET", "i8", "0", "100", "GET", "i8", "0")
	e.must("[127 (nil)]", "BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1")
	e.must("[-128]", "BITFIELD", "b", "INCRBY", "i8", "0", "1")
	e.must("[128]", "BITFIELD_RO", "b", "GET", "u8", "0")
	e.mustErr("ERR BITFIELD_RO only supports the GET subcommand", "BITFIELD_RO", "b", "SET", "u8", "0", "1")
	e.mustErr(errBitfieldType, "BITFIELD", "b", "GET", "u64", "0")
}
