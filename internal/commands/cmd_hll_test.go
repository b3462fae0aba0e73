package commands

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"redgo/internal/datatype"
)

func TestHLLBasic(t *testing.T) {
	e := newEnv(t)
	e.must("1", "PFADD", "h")
	e.must("0", "PFADD", "h")
	e.must("1", "PFADD", "h", "a", "b", "c")
	e.must("0", "PFADD", "h", "a")
	e.must("3", "PFCOUNT", "h")
	e.must("0", "PFCOUNT", "nope")
	e.must("3", "PFCOUNT", "h", "nope")
	e.must(`"OK"`, "PFMERGE", "m", "h", "nope")
	e.must("3", "PFCOUNT", "m")
	e.do("SET", "s", "hello")
	e.mustErr(ErrHLLWrongType, "PFADD", "s", "x")
	e.mustErr(ErrHLLWrongType, "PFCOUNT", "s")
	e.mustErr(ErrHLLWrongType, "PFCOUNT", "h", "s")
	e.mustErr(ErrHLLWrongType, "PFMERGE", "h", "s")
	e.do("RPUSH", "l", "x")
	e.mustErr(ErrWrongType, "PFADD", "l", "x")
	e.must(`"sparse"`, "PFDEBUG", "ENCODING", "h")
	e.must("1", "PFDEBUG", "TODENSE", "h")
	e.must(`"dense"`, "PFDEBUG", "ENCODING", "h")
	e.must("3", "PFCOUNT", "h")
}

func TestHLLMurmur(t *testing.T) {
	// Reference values of MurmurHash64A (seed 0), as Redis computes them.
	if h := datatype.MurmurHash64A(nil, 0); h != 0 {
		t.Errorf("empty: %x", h)
	}
	// Every tail length goes through the switch.
	seen := map[uint64]bool{}
	for n := 0; n < 17; n++ {
		h := datatype.MurmurHash64A([]byte(strings.Repeat("x", n)), 0xadc83b19)
		if seen[h] {
			t.Errorf("collision at %d", n)
		}
		seen[h] = true
	}
}

// hllScript builds PFADD batches of elements, reading the value and the
// count after each batch so the encodings are compared byte for byte.
func hllScript(key string, elems []string, batch int) string {
	var b strings.Builder
	for i := 0; i < len(elems); i += batch {
		j := min(i+batch, len(elems))
		fmt.Fprintf(&b, "PFADD %s %s\nGET %s\nPFCOUNT %s\nGET %s\n", key, strings.Join(elems[i:j], " "), key, key, key)
	}
	return b.String()
}

func TestHLLOracleSparseToDense(t *testing.T) {
	var elems []string
	for i := 0; i < 3000; i++ {
		elems = append(elems, fmt.Sprintf("e%d", i))
	}
	diff(t, hllScript("h", elems, 37)+"PFDEBUG ENCODING h\n")
}

func TestHLLOracleSingleAdds(t *testing.T) {
	// One element at a time: every sparse edit (split, merge) is compared.
	var b strings.Builder
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&b, "PFADD h x%d\nGET h\n", i)
	}
	b.WriteString("PFCOUNT h\nPFDEBUG DECODE h\n")
	diff(t, b.String())
}

func TestHLLOracleCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	n := 0
	for _, size := range []int{1, 10, 100, 1000, 5000, 20000, 60000} {
		key := fmt.Sprintf("c%d", size)
		for n < size {
			var el []string
			for k := 0; k < 500 && n < size; k++ {
				el = append(el, fmt.Sprintf("%x", rng.Uint64()))
				n++
			}
			fmt.Fprintf(&b, "PFADD %s %s\n", key, strings.Join(el, " "))
		}
		n = 0
		fmt.Fprintf(&b, "PFCOUNT %s\nGET %s\n", key, key)
	}
	b.WriteString("PFCOUNT c1 c10 c100 c1000\nPFCOUNT c5000 c20000 c60000 nokey\n")
	b.WriteString("PFMERGE m1 c10 c100\nGET m1\nPFCOUNT m1\n")
	b.WriteString("PFMERGE m2 c1000 c20000\nGET m2\nPFCOUNT m2\n")
	b.WriteString("PFMERGE c100 c10 nokey\nGET c100\nPFCOUNT c100\n")
	b.WriteString("PFMERGE empty\nGET empty\nPFMERGE empty2 nokey\nGET empty2\nPFCOUNT empty2\n")
	b.WriteString("PFMERGE c60000 c1\nGET c60000\nPFCOUNT c60000\n")
	diff(t, b.String())
}

func TestHLLOracleErrors(t *testing.T) {
	diff(t, `
SET s hello
PFADD s a
PFCOUNT s
PFCOUNT s nokey
PFMERGE d s
PFMERGE s
SET i 12345
PFADD i a
LPUSH l a
PFADD l a
PFCOUNT l
PFCOUNT nokey l
PFMERGE l
PFMERGE d nokey l
SET bad "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
PFADD bad a
SET short "HYLL\x00"
PFCOUNT short
SET dense "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
PFCOUNT dense
SET corrupt "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe"
PFCOUNT corrupt
PFCOUNT corrupt nokey
PFMERGE d corrupt
PFADD corrupt a b c
SET over "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x80"
PFCOUNT over
SET cached "HYLL\x01\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
PFCOUNT cached
PFADD cached
PFADD cached z
PFCOUNT cached
GET cached
PFDEBUG ENCODING nokey
PFDEBUG FOO cached
PFDEBUG ENCODING s
PFDEBUG ENCODING cached
PFDEBUG DECODE cached
PFDEBUG TODENSE cached
PFDEBUG TODENSE cached
PFDEBUG DECODE cached
GET cached
`)
}

func TestHLLOracleGetreg(t *testing.T) {
	diff(t, `
PFADD h a b c d e f g
PFDEBUG GETREG h
GET h
PFCOUNT h
`)
}

func TestHLLOracleMergeSparse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for k := 0; k < 6; k++ {
		var el []string
		for i := 0; i < 250; i++ {
			el = append(el, fmt.Sprintf("%x", rng.Uint64()))
		}
		fmt.Fprintf(&b, "PFADD h%d %s\nGET h%d\n", k, strings.Join(el, " "), k)
	}
	b.WriteString("PFMERGE m h0 h1\nGET m\nPFDEBUG ENCODING m\nPFCOUNT m\n")
	b.WriteString("PFMERGE m h2 h3 h4 h5\nGET m\nPFDEBUG ENCODING m\nPFCOUNT m\n")
	b.WriteString("PFMERGE h0 h1 h2 h3\nGET h0\nPFCOUNT h0 h1 h2 h3 h4 h5\n")
	b.WriteString("PFADD sp a\nPFMERGE sp m\nGET sp\nPFCOUNT sp\n")
	diff(t, b.String())
}

func TestPfselftest(t *testing.T) {
	if testing.Short() {
		t.Skip("10 million additions")
	}
	diff(t, `
PFSELFTEST
PFSELFTEST extra
`)
}
