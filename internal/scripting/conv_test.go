package scripting

import (
	"bytes"
	"math"
	"math/rand"
	"strconv"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/resp"
)

// genReply writes a random RESP3 reply of the kinds a command may give
// and returns, when the value survives RESP -> Lua -> RESP unchanged,
// true (map and set of one element keep their order; errors and statuses
// convert to tables that convert back to themselves).
func genReply(r *rand.Rand, w *resp.Writer, depth int) {
	k := r.Intn(12)
	if depth > 3 && k >= 9 {
		k = r.Intn(9)
	}
	switch k {
	case 0:
		w.Int(r.Int63n(1<<53) - 1<<52)
	case 1:
		b := make([]byte, r.Intn(20))
		r.Read(b)
		w.Bulk(b)
	case 2:
		w.Simple("OK" + strconv.Itoa(r.Intn(100)))
	case 3:
		w.Error("ERR thing " + strconv.Itoa(r.Intn(100)))
	case 4:
		w.Bool(r.Intn(2) == 0)
	case 5:
		w.Double(float64(r.Intn(1000)) / 8)
	case 6:
		w.Buf = append(w.Buf, "(12345678901234567890\r\n"...)
	case 7:
		w.Verbatim("text"+strconv.Itoa(r.Intn(9)), "txt")
	case 8:
		w.Null()
	case 9:
		n := r.Intn(4)
		w.Array(n)
		for i := 0; i < n; i++ {
			genReply(r, w, depth+1)
		}
	case 10:
		w.Map(1)
		w.BulkString("k")
		genReply(r, w, depth+1)
	case 11:
		w.Set(1)
		w.BulkString("m")
	}
}

// TestConversionRoundTrip: a RESP3 reply converted to Lua (as
// redis.call gives it with setresp(3)) and returned by a script converts
// back to the same RESP3 bytes, except a null inside an array (a nil
// ends a Lua array).
func TestConversionRoundTrip(t *testing.T) {
	seed := int64(1)
	r := rand.New(rand.NewSource(seed))
	L := lua.NewState()
	defer L.Close()
	for i := 0; i < 5000; i++ {
		w := resp.Writer{Proto: 3}
		genReply(r, &w, 0)
		v, n := respToLua(L, w.Buf)
		if n != len(w.Buf) {
			t.Fatalf("seed %d case %d: consumed %d of %q", seed, i, n, w.Buf)
		}
		out := resp.Writer{Proto: 3}
		writeReply(&out, v, true, 0)
		if bytes.Contains(w.Buf[1:], []byte("_\r\n")) && bytes.IndexByte([]byte("*%~"), w.Buf[0]) >= 0 {
			continue
		}
		if !bytes.Equal(out.Buf, w.Buf) {
			t.Fatalf("seed %d case %d: %q -> %q", seed, i, w.Buf, out.Buf)
		}
	}
}

// FuzzRespToLua: any reply a command could write converts without
// panicking and consumes exactly the reply.
func FuzzRespToLua(f *testing.F) {
	for _, s := range []string{":1\r\n", "$3\r\nabc\r\n", "*2\r\n:1\r\n$-1\r\n", "%1\r\n+a\r\n,1.5\r\n",
		"~1\r\n#t\r\n", "|1\r\n+a\r\n+b\r\n:3\r\n", "=7\r\ntxt:abc\r\n", "(123\r\n", "-ERR x\r\n", "_\r\n"} {
		f.Add([]byte(s))
	}
	L := lua.NewState()
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := wellFormed(b, 0)
		if !ok || n != len(b) {
			return
		}
		_, used := respToLua(L, b)
		if used != len(b) {
			t.Fatalf("%q: consumed %d", b, used)
		}
		L.SetTop(0)
	})
}

// wellFormed checks one RESP value at b[pos:] and returns its end.
func wellFormed(b []byte, pos int) (int, bool) {
	if pos >= len(b) {
		return 0, false
	}
	i := bytes.Index(b[pos:], []byte("\r\n"))
	if i < 1 {
		return 0, false
	}
	line := string(b[pos+1 : pos+i])
	next := pos + i + 2
	switch b[pos] {
	case '+', '-', '_', '#', ',', '(':
		if bytes.ContainsAny([]byte(line), "\r\n") {
			return 0, false
		}
		if b[pos] == ':' || b[pos] == ',' {
			if _, err := strconv.ParseFloat(line, 64); err != nil {
				return 0, false
			}
		}
		return next, true
	case ':':
		if _, err := strconv.ParseInt(line, 10, 64); err != nil {
			return 0, false
		}
		return next, true
	case '$', '=':
		n, err := strconv.Atoi(line)
		if err != nil || n < -1 || n > len(b) {
			return 0, false
		}
		if n == -1 {
			return next, b[pos] == '$'
		}
		if next+n+2 > len(b) || string(b[next+n:next+n+2]) != "\r\n" || b[pos] == '=' && n < 4 {
			return 0, false
		}
		return next + n + 2, true
	case '*', '~', '%', '|', '>':
		n, err := strconv.Atoi(line)
		if err != nil || n < -1 || n > len(b) {
			return 0, false
		}
		if b[pos] == '%' || b[pos] == '|' {
			n *= 2
		}
		if b[pos] == '|' {
			n++
		}
		for j := 0; j < n; j++ {
			var ok bool
			if next, ok = wellFormed(b, next); !ok {
				return 0, false
			}
		}
		return next, true
	}
	return 0, false
}

var _ = math.Inf

func TestAppendNumberArg(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 100, 1e15 - 1, -1e15 + 1, 1e15, 1e17, 1.5, -2.25, 123456789012345, 0.1, math.Inf(1), math.NaN()} {
		if got, want := string(appendNumberArg(nil, f)), string(resp.AppendG17(nil, f)); got != want {
			t.Errorf("%v: %q, want %q", f, got, want)
		}
	}
}
