package commands

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// listDiff is diff with a choice of protocol: with proto 3 both sides
// speak RESP3 (HELLO 3 on the oracle connection).
func listDiff(t *testing.T, proto int, script string) {
	t.Helper()
	listDiffEnv(t, newEnv(t), proto, script)
}

// listDiffEnv is listDiff on e.
func listDiffEnv(t *testing.T, e *env, proto int, script string) {
	t.Helper()
	e.Proto = proto
	o := newOracle(t)
	// A script that goes wrong must not leave the oracle blocked forever.
	o.c.SetDeadline(time.Now().Add(10 * time.Second))
	if proto == 3 {
		o.do("HELLO", "3")
	}
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
		got, want := listShim(e, args), o.do(args...)
		if got.String() != want.String() || got.Type != want.Type {
			t.Errorf("%s\n  redgo: %c %s\n  redis: %c %s", line, got.Type, got, want.Type, want)
		}
	}
}

// listShim runs a command on redgo; EXISTS, DEL and SET, which belong to
// other families, are done on the keyspace directly when they are not
// registered.
func listShim(e *env, args []string) resp.Value {
	e.t.Helper()
	if Lookup([]byte(args[0])) == nil {
		if strings.EqualFold(args[0], "SET") && len(args) == 3 {
			e.ks.DB(e.db).Set([]byte(args[1]), keyspace.NewString([]byte(args[2])), false)
			return resp.Value{Type: '+', Str: "OK"}
		}
		n := 0
		for _, k := range args[1:] {
			switch strings.ToUpper(args[0]) {
			case "EXISTS":
				if e.ks.DB(e.db).Exists([]byte(k)) {
					n++
				}
			case "DEL":
				if e.ks.DB(e.db).Delete([]byte(k)) {
					n++
				}
			default:
				return e.do(args...)
			}
		}
		return resp.Value{Type: ':', Int: int64(n)}
	}
	return e.do(args...)
}

func TestListPushPopOracle(t *testing.T) {
	script := `
LPUSH l a b c
RPUSH l d e
LRANGE l 0 -1
LPUSHX l x
RPUSHX l y
LPUSHX nokey x
RPUSHX nokey x
EXISTS nokey
LLEN l
LLEN nokey
LPOP l
RPOP l
LPOP l 2
RPOP l 2
LPOP l 0
RPOP l 0
LRANGE l 0 -1
LPOP l 10
EXISTS l
LPOP l
RPOP l
LPOP l 0
RPOP l 3
LPOP l -1
LPOP l abc
LPOP l 1 2
RPOP l 1 2
SET s v
LPUSH s a
RPUSH s a
LPUSHX s a
RPUSHX s a
LPOP s
RPOP s 2
LPOP s -1
LLEN s
RPUSH n 1 2 3 -4 1.5 9223372036854775807 18446744073709551616 ""
LRANGE n 0 -1
RPOP n 100
EXISTS n
RPUSH one x
RPOP one
EXISTS one
LPUSH
LPUSH l
LPOP
`
	listDiff(t, 2, script)
	listDiff(t, 3, script)
}

func TestListReadOracle(t *testing.T) {
	script := `
RPUSH l a b c d e f g
LRANGE l 0 -1
LRANGE l 0 0
LRANGE l -1 -1
LRANGE l -3 -1
LRANGE l -100 100
LRANGE l 2 1
LRANGE l 5 2
LRANGE l 7 10
LRANGE l -100 -50
LRANGE l 3 -3
LRANGE l 0 -8
LRANGE l 0 -7
LRANGE l -9223372036854775808 9223372036854775807
LRANGE l x 1
LRANGE l 1 x
LRANGE l 1
LRANGE nokey 0 -1
LRANGE nokey x 1
LINDEX l 0
LINDEX l 6
LINDEX l 7
LINDEX l -1
LINDEX l -7
LINDEX l -8
LINDEX l x
LINDEX l 9223372036854775807
LINDEX l -9223372036854775808
LINDEX nokey 0
LINDEX nokey x
SET s v
LRANGE s 0 -1
LRANGE s x 0
LINDEX s 0
LINDEX s x
LLEN s
`
	listDiff(t, 2, script)
	listDiff(t, 3, script)
}

func TestListWriteOracle(t *testing.T) {
	listDiff(t, 2, `
RPUSH l a b c d e
LSET l 0 A
LSET l -1 E
LSET l 2 a-much-longer-value-than-before-to-grow-the-entry
LSET l 5 x
LSET l -6 x
LSET l x y
LSET nokey 0 x
LSET nokey x x
LRANGE l 0 -1
LINSERT l BEFORE A first
LINSERT l after E last
LINSERT l After c-missing z
LINSERT l before b bb
LINSERT l middle b bb
LINSERT nokey before a b
LINSERT nokey middle a b
LRANGE l 0 -1
SET s v
LSET s 0 x
LSET s x x
LINSERT s before a b
LINSERT s bad a b
RPUSH r a b a c a d a
LREM r 2 a
LRANGE r 0 -1
LREM r -1 a
LRANGE r 0 -1
LREM r 0 a
LRANGE r 0 -1
LREM r 0 zz
LREM r x a
LREM nokey 1 a
LREM nokey x a
LREM s 1 a
LREM r 0 b
LREM r 0 c
LREM r -9223372036854775808 d
EXISTS r
RPUSH r2 x y x y x
LREM r2 -9223372036854775807 x
LREM r2 9223372036854775807 y
EXISTS r2
`)
}

func TestListTrimOracle(t *testing.T) {
	var b strings.Builder
	for _, r := range [][2]string{{"0", "-1"}, {"1", "-2"}, {"2", "2"}, {"-3", "-1"}, {"5", "2"},
		{"0", "100"}, {"-100", "2"}, {"7", "9"}, {"-1", "-2"}, {"0", "0"}, {"3", "-100"}} {
		fmt.Fprintf(&b, "DEL l\nRPUSH l a b c d e f g\nLTRIM l %s %s\nLRANGE l 0 -1\nEXISTS l\n", r[0], r[1])
	}
	b.WriteString("LTRIM nokey 0 1\nLTRIM l x 1\nLTRIM l 1 x\nLTRIM nokey x 1\nSET s v\nLTRIM s 0 1\nLTRIM s x 1\n")
	listDiff(t, 2, b.String())
}

func TestListPosOracle(t *testing.T) {
	script := `
RPUSH l a b c 1 2 3 c c a
LPOS l a
LPOS l c
LPOS l z
LPOS l c RANK 1
LPOS l c RANK 2
LPOS l c RANK 3
LPOS l c RANK 4
LPOS l c RANK -1
LPOS l c RANK -3
LPOS l c RANK -4
LPOS l c RANK 0
LPOS l c RANK -9223372036854775808
LPOS l c RANK -9223372036854775807
LPOS l c RANK -9223372036854775808 COUNT 2
LPOS l c RANK -9223372036854775808 COUNT 0 MAXLEN 8
LPOS l c RANK 9223372036854775807
LPOS l c RANK x
LPOS l c COUNT 0
LPOS l c COUNT 2
LPOS l c COUNT 2 RANK 2
LPOS l c COUNT 2 RANK -1
LPOS l c COUNT 0 RANK -2
LPOS l c COUNT 10 RANK 10
LPOS l z COUNT 0
LPOS l c COUNT -1
LPOS l c COUNT x
LPOS l c MAXLEN 3
LPOS l c MAXLEN 2
LPOS l c MAXLEN 0
LPOS l c COUNT 0 MAXLEN 7
LPOS l c COUNT 0 MAXLEN 7 RANK -1
LPOS l c RANK -1 MAXLEN 1
LPOS l c MAXLEN -1
LPOS l c MAXLEN x
LPOS l c RANK
LPOS l c COUNT
LPOS l c FOO 1
LPOS l c rank 2 count 1 maxlen 0
LPOS nokey a
LPOS nokey a COUNT 1
LPOS nokey a COUNT 0 RANK 0
SET s v
LPOS s a
LPOS s a COUNT 1
LPOS s a RANK 0
`
	listDiff(t, 2, script)
	listDiff(t, 3, script)
}

func TestListMoveOracle(t *testing.T) {
	script := `
RPUSH a 1 2 3
RPOPLPUSH a b
LMOVE a b LEFT RIGHT
LMOVE a b left left
LRANGE b 0 -1
EXISTS a
LMOVE a b LEFT LEFT
RPOPLPUSH a b
RPUSH c x y z
LMOVE c c LEFT RIGHT
LRANGE c 0 -1
LMOVE c c RIGHT LEFT
LRANGE c 0 -1
RPOPLPUSH c c
LRANGE c 0 -1
RPUSH d only
LMOVE d d LEFT LEFT
LRANGE d 0 -1
LMOVE d d RIGHT RIGHT
LMOVE c b UP LEFT
LMOVE c b LEFT DOWN
LMOVE nokey b UP LEFT
SET s v
LMOVE s b LEFT LEFT
LMOVE c s LEFT LEFT
LMOVE nokey s LEFT LEFT
RPOPLPUSH s b
RPOPLPUSH c s
RPOPLPUSH nokey s
LRANGE c 0 -1
BRPOPLPUSH c b 0
BRPOPLPUSH c b x
BRPOPLPUSH c b -1
BLMOVE c b RIGHT LEFT 0.01
BLMOVE c b RIGHT LEFT x
BLMOVE c b UP LEFT x
BLMOVE s b LEFT LEFT 0
BLMOVE c s LEFT LEFT 0
BRPOPLPUSH s b 0
LRANGE b 0 -1
EXISTS c
`
	listDiff(t, 2, script)
	listDiff(t, 3, script)
}

func TestListMpopOracle(t *testing.T) {
	script := `
RPUSH a 1 2 3 4 5
RPUSH b x y
LMPOP 1 a LEFT
LMPOP 1 a RIGHT
LMPOP 2 nokey a LEFT COUNT 2
LMPOP 2 nokey a RIGHT COUNT 10
EXISTS a
LMPOP 2 a b right count 1
LMPOP 2 a nokey LEFT
LMPOP 0 a LEFT
LMPOP -1 a LEFT
LMPOP x a LEFT
LMPOP 3 a b LEFT
LMPOP 2 a b
LMPOP 1 b MIDDLE
LMPOP 1 b LEFT COUNT 0
LMPOP 1 b LEFT COUNT -1
LMPOP 1 b LEFT COUNT x
LMPOP 1 b LEFT COUNT 1 COUNT 1
LMPOP 1 b LEFT COUNT
LMPOP 1 b LEFT FOO
LMPOP 9223372036854775807 b LEFT
SET s v
LMPOP 2 s b LEFT
LMPOP 2 b s LEFT
LMPOP 2 nokey2 s LEFT
RPUSH c 1 2 3
BLMPOP 0 1 c LEFT
BLMPOP 0 2 nokey c RIGHT COUNT 5
BLMPOP 0.01 1 c LEFT
BLMPOP x 1 c LEFT
BLMPOP -1 1 c LEFT
BLMPOP x 0 c LEFT
BLMPOP x 1 c LEFT COUNT 0
BLMPOP 0 2 s c LEFT
BLMPOP 0 1 c BAD
`
	listDiff(t, 2, script)
	listDiff(t, 3, script)
}

func TestListBpopOracle(t *testing.T) {
	script := `
RPUSH a 1 2 3
RPUSH b x
BLPOP a 0
BRPOP a 0
BLPOP nokey b a 0
BRPOP nokey b a 0
EXISTS b
BLPOP nokey a 0.01
EXISTS a
BLPOP nokey a 0.01
BLPOP a x
BLPOP a -1
BLPOP a nan
SET s v
BLPOP s 0
BLPOP nokey s 0
RPUSH c 1
BLPOP c s 0
BRPOP s c 0
BLPOP
BLPOP a
`
	listDiff(t, 2, script)
	listDiff(t, 3, script)
}

// TestListBigOracle drives lists past one node (8 KiB) with values of
// many sizes, so the node splitting and merging paths meet the oracle.
func TestListBigOracle(t *testing.T) {
	var b strings.Builder
	val := func(i int) string {
		switch {
		case i%50 == 5:
			return strings.Repeat("y", 9000)
		case i%7 == 0:
			return strings.Repeat("x", 200+i%50)
		case i%7 == 3:
			return fmt.Sprint(i)
		}
		return fmt.Sprintf("v%d", i%13)
	}
	for i := 0; i < 300; i++ {
		cmd := "RPUSH"
		if i%3 == 0 {
			cmd = "LPUSH"
		}
		fmt.Fprintf(&b, "%s l %s\n", cmd, val(i))
	}
	b.WriteString("LLEN l\nLRANGE l 0 -1\nLRANGE l 100 160\nLINDEX l 150\nLINDEX l -77\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "LINSERT l BEFORE %s ins%d\nLINSERT l AFTER v%d %s\n", val(i*11), i, i%13, val(i*5))
		fmt.Fprintf(&b, "LSET l %d %s\n", i*7-100, val(i*3))
	}
	b.WriteString("LRANGE l 0 -1\nLPOS l v3 COUNT 0\nLPOS l v3 RANK -2 COUNT 3\n")
	b.WriteString("LREM l 5 v1\nLREM l -5 v2\nLREM l 0 v4\nLRANGE l 0 -1\n")
	b.WriteString("LPOP l 33\nRPOP l 44\nLTRIM l 10 -10\nLRANGE l 0 -1\nLMPOP 1 l RIGHT COUNT 20\nLRANGE l 0 -1\n")
	listDiff(t, 2, b.String())
}

// TestListEncodingOracle checks OBJECT ENCODING against the oracle's
// for lists small and large (the handler may not be registered yet, so
// the redgo side reads the value's Encoding directly).
func TestListEncodingOracle(t *testing.T) {
	e := newEnv(t)
	o := newOracle(t)
	for _, n := range []int{1, 10, 200, 2000} {
		key := fmt.Sprint("l", n)
		for i := 0; i < n; i++ {
			e.do("RPUSH", key, "value")
			o.do("RPUSH", key, "value")
		}
		want := o.do("OBJECT", "ENCODING", key).Str
		obj := e.ks.DB(0).Peek([]byte(key))
		if got := obj.List().Encoding(); got != want {
			t.Errorf("%d elements: encoding %q, redis %q", n, got, want)
		}
	}
}

// TestListKeys checks the movable key positions of LMPOP and BLMPOP.
func TestListKeys(t *testing.T) {
	for _, tc := range []struct {
		args string
		want string
	}{
		{"LMPOP 2 a b LEFT", "[2 3]"},
		{"LMPOP 1 a LEFT COUNT 2", "[2]"},
		{"LMPOP 0 a LEFT", "[]"},
		{"LMPOP 3 a b", "[]"},
		{"LMPOP x a", "[]"},
		{"BLMPOP 0 2 a b LEFT", "[3 4]"},
		{"BLMPOP 0 3 a b LEFT", "[3 4 5]"},
		{"BLMPOP 0 4 a b LEFT", "[]"},
	} {
		args, _ := resp.SplitArgs([]byte(tc.args), nil)
		if got := fmt.Sprint(Lookup(args[0]).KeyPositions(args, nil)); got != tc.want {
			t.Errorf("%s: keys %s, want %s", tc.args, got, tc.want)
		}
	}
}

// run calls a command's handler directly with the given blocking state,
// as the server does, and returns the context and the reply.
func (e *env) run(noBlock, serving bool, args ...string) (*Ctx, string) {
	e.t.Helper()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	cmd := Lookup(bargs[0])
	w := &resp.Writer{Proto: e.Proto}
	c := &Ctx{Args: bargs, Cmd: cmd, W: w, DB: e.ks.DB(e.db), KS: e.ks, Now: e.ks.Now(),
		NoBlock: noBlock, Serving: serving}
	cmd.Handler(c)
	return c, string(w.Buf)
}

func TestListBlocking(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args     []string
		keys     string
		nullBulk bool
	}{
		{[]string{"BLPOP", "a", "b", "0"}, "[a b]", false},
		{[]string{"BRPOP", "a", "1.5"}, "[a]", false},
		{[]string{"BLMPOP", "0", "2", "a", "b", "LEFT"}, "[a b]", false},
		{[]string{"BLMOVE", "a", "d", "LEFT", "RIGHT", "0"}, "[a]", false},
		{[]string{"BRPOPLPUSH", "a", "d", "0"}, "[a]", false},
	} {
		c, out := e.run(false, false, tc.args...)
		if out != "" || !c.Blocked || fmt.Sprintf("%s", c.BlockKeys) != tc.keys || c.BlockNullBulk != tc.nullBulk {
			t.Errorf("%v: reply %q, blocked %v on %s", tc.args, out, c.Blocked, c.BlockKeys)
		}
		if tc.args[len(tc.args)-1] == "1.5" && c.BlockTimeout != c.Now+1500 {
			t.Errorf("%v: deadline %d, now %d", tc.args, c.BlockTimeout, c.Now)
		}
		if tc.args[len(tc.args)-1] == "0" && c.BlockTimeout != 0 {
			t.Errorf("%v: deadline %d, want 0", tc.args, c.BlockTimeout)
		}
		// In MULTI: the timeout reply at once.
		c, out = e.run(true, false, tc.args...)
		want := "*-1\r\n"
		if tc.args[0] == "BLMOVE" || tc.args[0] == "BRPOPLPUSH" {
			want = "$-1\r\n"
		}
		if c.Blocked || out != want {
			t.Errorf("%v in MULTI: %q, want %q", tc.args, out, want)
		}
		// Woken but still nothing: block again.
		c, out = e.run(true, true, tc.args...)
		if out != "" || !c.Blocked {
			t.Errorf("%v serving an empty key: reply %q, blocked %v", tc.args, out, c.Blocked)
		}
	}

	// Woken after a push: served from the key that has data.
	e.must("2", "RPUSH", "b", "x", "y")
	c, out := e.run(true, true, "BLPOP", "a", "b", "0")
	if c.Blocked || out != "*2\r\n$1\r\nb\r\n$1\r\nx\r\n" || c.Dirty != 1 {
		t.Errorf("BLPOP served: %q dirty %d", out, c.Dirty)
	}
	c, out = e.run(true, true, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "5")
	if c.Blocked || out != "*2\r\n$1\r\nb\r\n*1\r\n$1\r\ny\r\n" {
		t.Errorf("BLMPOP served: %q", out)
	}
	if e.ks.DB(0).Exists([]byte("b")) {
		t.Error("b still exists")
	}

	// A key that became another type leaves a woken client blocked, as
	// Redis 7.0 serves blocked clients from lists only; a fresh call
	// replies WRONGTYPE.
	e.ks.DB(0).Set([]byte("a"), keyspace.NewString([]byte("str")), false)
	e.must("1", "RPUSH", "b", "z")
	c, out = e.run(true, true, "BLPOP", "a", "b", "0")
	if c.Blocked || out != "*2\r\n$1\r\nb\r\n$1\r\nz\r\n" {
		t.Errorf("BLPOP over a string key: %q blocked %v", out, c.Blocked)
	}
	c, out = e.run(true, true, "BLMOVE", "a", "d", "LEFT", "LEFT", "0")
	if !c.Blocked || out != "" {
		t.Errorf("BLMOVE from a string key while serving: %q blocked %v", out, c.Blocked)
	}
	_, out = e.run(false, false, "BLPOP", "a", "b", "0")
	if !strings.HasPrefix(out, "-WRONGTYPE") {
		t.Errorf("BLPOP on a string key: %q", out)
	}

	// BLMOVE served; a destination of the wrong type is an error.
	e.must("2", "RPUSH", "src", "1", "2")
	c, out = e.run(true, true, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
	if c.Blocked || out != "$1\r\n2\r\n" || c.Dirty == 0 {
		t.Errorf("BLMOVE served: %q", out)
	}
	e.ks.DB(0).Set([]byte("str"), keyspace.NewString([]byte("x")), false)
	_, out = e.run(true, true, "BRPOPLPUSH", "src", "str", "0")
	if !strings.HasPrefix(out, "-WRONGTYPE") {
		t.Errorf("BRPOPLPUSH to a string: %q", out)
	}
	e.must(`["2"]`, "LRANGE", "dst", "0", "-1")
}

// TestListArgsCopied checks pushed values do not alias the request.
func TestListArgsCopied(t *testing.T) {
	e := newEnv(t)
	buf := []byte("hello")
	w := &resp.Writer{}
	Exec(e.ks, 0, w, [][]byte{[]byte("RPUSH"), []byte("l"), buf})
	Exec(e.ks, 0, w, [][]byte{[]byte("LINSERT"), []byte("l"), []byte("AFTER"), []byte("hello"), buf})
	Exec(e.ks, 0, w, [][]byte{[]byte("LSET"), []byte("l"), []byte("0"), buf})
	copy(buf, "XXXXX")
	o := e.ks.DB(0).Peek([]byte("l"))
	for v := range o.List().All() {
		if string(v) != "hello" {
			t.Fatalf("stored value changed with the request buffer: %q", v)
		}
	}
}

func TestListDirty(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args  string
		dirty int
	}{
		{"RPUSH l a b c a", 4},
		{"LPUSHX nokey a", 0},
		{"LPOP l", 1},
		{"RPOP l 2", 2},
		{"LPOP nokey", 0},
		{"RPUSH l a b a", 3},
		{"LREM l 0 a", 2},
		{"LREM l 0 zz", 0},
		{"LSET l 0 x", 1},
		{"LINSERT l BEFORE x y", 1},
		{"LINSERT l BEFORE zz y", 0},
		{"LTRIM l 0 -1", 0},
		{"LTRIM l 1 1", 2},
		{"LMOVE l l LEFT RIGHT", 1},
		{"LRANGE l 0 -1", 0},
	} {
		args, _ := resp.SplitArgs([]byte(tc.args), nil)
		sargs := make([]string, len(args))
		for i, a := range args {
			sargs[i] = string(a)
		}
		c, _ := e.run(true, false, sargs...)
		if c.Dirty != tc.dirty {
			t.Errorf("%s: dirty %d, want %d", tc.args, c.Dirty, tc.dirty)
		}
	}
	if e.ks.DB(0).Peek([]byte("l")).Type() != keyspace.TList {
		t.Fatal("l is gone")
	}
}

// TestListRandomOracle sends seeded random list commands to both sides,
// with tiny nodes (list-max-listpack-size 3) and default ones.
func TestListRandomOracle(t *testing.T) {
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("REDGO_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	vals := []string{"a", "b", "c", "1", "-2", strings.Repeat("z", 300)}
	v := func() string { return vals[rng.Intn(len(vals))] }
	k := func() string { return []string{"k1", "k2", "k3"}[rng.Intn(3)] }
	idx := func() int { return rng.Intn(30) - 15 }
	side := func() string { return []string{"LEFT", "RIGHT"}[rng.Intn(2)] }
	var b strings.Builder
	for i := 0; i < 1500; i++ {
		switch rng.Intn(16) {
		case 0, 1:
			fmt.Fprintf(&b, "RPUSH %s %s %s %s\n", k(), v(), v(), v())
		case 2, 3:
			fmt.Fprintf(&b, "LPUSH %s %s %s\n", k(), v(), v())
		case 4:
			fmt.Fprintf(&b, "LPOP %s %d\n", k(), rng.Intn(4))
		case 5:
			fmt.Fprintf(&b, "RPOP %s\n", k())
		case 6:
			fmt.Fprintf(&b, "LSET %s %d %s\n", k(), idx(), v())
		case 7:
			fmt.Fprintf(&b, "LINSERT %s %s %s %s\n", k(), []string{"BEFORE", "AFTER"}[rng.Intn(2)], v(), v())
		case 8:
			fmt.Fprintf(&b, "LREM %s %d %s\n", k(), rng.Intn(7)-3, v())
		case 9:
			fmt.Fprintf(&b, "LTRIM %s %d %d\n", k(), idx(), idx()+10)
		case 10:
			fmt.Fprintf(&b, "LMOVE %s %s %s %s\n", k(), k(), side(), side())
		case 11:
			fmt.Fprintf(&b, "LMPOP 2 %s %s %s COUNT %d\n", k(), k(), side(), 1+rng.Intn(3))
		case 12:
			fmt.Fprintf(&b, "LPOS %s %s RANK %d COUNT %d MAXLEN %d\n", k(), v(), []int{1, 2, -1, -3}[rng.Intn(4)], rng.Intn(3), rng.Intn(12))
		case 13:
			fmt.Fprintf(&b, "LINDEX %s %d\n", k(), idx())
		case 14:
			// The second key is never empty: the oracle must not block.
			k2 := k()
			fmt.Fprintf(&b, "RPUSH %s %s %s\nBLPOP %s %s 0\nBRPOP %s %s 0\n", k2, v(), v(), k(), k2, k(), k2)
		case 15:
			fmt.Fprintf(&b, "LRANGE %s %d %d\n", k(), idx(), idx())
		}
		if i%50 == 49 {
			b.WriteString("LRANGE k1 0 -1\nLRANGE k2 0 -1\nLRANGE k3 0 -1\n")
		}
	}
	script := b.String()
	for _, fill := range []int{3, -2} {
		t.Run(fmt.Sprint("fill", fill), func(t *testing.T) {
			e := newEnv(t)
			e.ks.Limits.Set("list-max-listpack-size", int64(fill))
			o := newOracle(t)
			o.do("CONFIG", "SET", "list-max-listpack-size", fmt.Sprint(fill))
			defer o.do("CONFIG", "SET", "list-max-listpack-size", "-2")
			listDiffEnv(t, e, 2, script)
		})
	}
}
