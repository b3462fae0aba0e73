package resp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

func parseAll(t *testing.T, in string) [][]string {
	t.Helper()
	buf := []byte(in)
	var out [][]string
	for len(buf) > 0 {
		args, n, _, err := Parse(buf, nil, Limits{MaxBulkLen: DefaultMaxBulkLen})
		if err != nil {
			t.Fatalf("Parse(%q): %v", buf, err)
		}
		var s []string
		for _, a := range args {
			s = append(s, string(a))
		}
		out = append(out, s)
		buf = buf[n:]
	}
	return out
}

func TestParseMultibulk(t *testing.T) {
	got := parseAll(t, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n")
	if len(got) != 2 || strings.Join(got[0], ",") != "SET,k," || got[1][0] != "PING" {
		t.Fatalf("got %q", got)
	}
}

func TestParseInline(t *testing.T) {
	got := parseAll(t, "SET k \"a b\\x41\\n\" 'c\\'d'\r\nPING\n\r\n")
	want := [][]string{{"SET", "k", "a bA\n", "c'd"}, {"PING"}, nil}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("cmd %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestParseIncomplete(t *testing.T) {
	full := "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n"
	for i := 0; i < len(full); i++ {
		_, _, need, err := Parse([]byte(full[:i]), nil, Limits{})
		if err != ErrIncomplete {
			t.Fatalf("prefix %d: err %v", i, err)
		}
		if need > len(full) {
			t.Fatalf("prefix %d: need %d > %d", i, need, len(full))
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"*abc\r\n":                             "Protocol error: invalid multibulk length",
		"*1073741825\r\n":                      "Protocol error: invalid multibulk length",
		"*1\r\nfoo\r\n":                        "Protocol error: expected '$', got 'f'",
		"*1\r\n$-5\r\n":                        "Protocol error: invalid bulk length",
		"*1\r\n$2000\r\n":                      "Protocol error: invalid bulk length",
		"SET \"abc\r\n":                        "Protocol error: unbalanced quotes in request",
		"*1\r\n$" + strings.Repeat("1", 70000): "Protocol error: too big bulk count string",
		strings.Repeat("a", 70000):             "Protocol error: too big inline request",
		"*" + strings.Repeat("1", 70000):       "Protocol error: too big mbulk count string",
	}
	for in, want := range cases {
		_, _, _, err := Parse([]byte(in), nil, Limits{MaxBulkLen: 1024})
		var pe *ProtocolError
		if !errors.As(err, &pe) || err.Error() != want {
			t.Errorf("Parse(%.20q) = %v, want %q", in, err, want)
		}
	}
}

// TestParseRandomRoundTrip encodes random commands, concatenates them and
// checks they parse back identically from any split point.
func TestParseRandomRoundTrip(t *testing.T) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	for iter := 0; iter < 200; iter++ {
		var cmds [][][]byte
		var wire []byte
		for n := r.Intn(5) + 1; n > 0; n-- {
			var args [][]byte
			for k := r.Intn(4) + 1; k > 0; k-- {
				a := make([]byte, r.Intn(40))
				r.Read(a)
				args = append(args, a)
			}
			cmds = append(cmds, args)
			wire = append(wire, encode(args)...)
		}
		buf := wire
		for i, want := range cmds {
			got, n, _, err := Parse(buf, nil, Limits{})
			if err != nil {
				t.Fatalf("seed %d cmd %d: %v", seed, i, err)
			}
			if len(got) != len(want) {
				t.Fatalf("seed %d cmd %d: %d args, want %d", seed, i, len(got), len(want))
			}
			for j := range want {
				if !bytes.Equal(got[j], want[j]) {
					t.Fatalf("seed %d cmd %d arg %d differs", seed, i, j)
				}
			}
			buf = buf[n:]
		}
		if len(buf) != 0 {
			t.Fatalf("seed %d: %d bytes left", seed, len(buf))
		}
	}
}

func encode(args [][]byte) []byte {
	var w Writer
	w.Array(len(args))
	for _, a := range args {
		w.Bulk(a)
	}
	return w.Buf
}

// FuzzParse feeds arbitrary bytes, whole and split in two as a network
// would deliver them, and checks the parser never panics, never consumes
// more than it has, and gives the same result either way.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"PING\r\n", "SET a \"b c\"\n", "*0\r\n", "*-1\r\n", "*1\r\n$-1\r\n",
		"*2\r\n$3\r\nGET\r\n$999999999999\r\n", "'unbalanced\n", "\"\\x4", "*1\r\n$3\r\nabc\r",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxBulkLen: 1 << 20}
		args, n, _, err := Parse(data, nil, lim)
		if n > len(data) {
			t.Fatalf("consumed %d of %d", n, len(data))
		}
		if err == nil {
			// Re-encoding the parsed command must parse back the same.
			if len(args) > 0 && data[0] == '*' {
				again, _, _, err2 := Parse(encode(args), nil, lim)
				if err2 != nil || len(again) != len(args) {
					t.Fatalf("round trip failed: %v", err2)
				}
			}
			// Parsing with more data behind must give the same command.
			more := append(append([]byte(nil), data[:n]...), "*1\r\n$4\r\nPING\r\n"...)
			args2, n2, _, err2 := Parse(more, nil, lim)
			if err2 != nil || n2 != n || len(args2) != len(args) {
				t.Fatalf("prefix parse differs: %v %d %d", err2, n2, n)
			}
		}
		if err == ErrIncomplete && len(data) > 1 {
			// Any prefix of an incomplete input is incomplete too (or an error
			// already visible in the prefix).
			_, _, _, err2 := Parse(data[:len(data)/2], nil, lim)
			if err2 == nil && data[0] == '*' {
				// the prefix may be a complete shorter command only if it is *0 / *-1 forms
				if !bytes.HasPrefix(data, []byte("*0")) && !bytes.HasPrefix(data, []byte("*-")) {
					t.Fatalf("prefix of incomplete input parsed: %q", data[:len(data)/2])
				}
			}
		}
	})
}

func TestWriterDouble(t *testing.T) {
	cases := map[float64]string{
		1.5: "1.5", 0.1: "0.10000000000000001", 100: "100", 1e300: "1.0000000000000001e+300",
		-2.5e-5: "-2.5000000000000001e-05", 3: "3", 1e17: "1e+17", 123456789012345678: "1.2345678901234568e+17",
	}
	for f, want := range cases {
		if got := string(AppendDouble(nil, f)); got != want {
			t.Errorf("AppendDouble(%v) = %s, want %s", f, got, want)
		}
	}
}

// A client that has not authenticated (on a server that requires it) may
// send at most 10 arguments of at most 16 KB, as Redis.
func TestParseUnauthenticatedLimits(t *testing.T) {
	lim := Limits{Unauthenticated: true}
	for _, tc := range []struct{ in, err string }{
		{"*100\r\n", "Protocol error: unauthenticated multibulk length"},
		{"*1\r\n$100000000\r\n", "Protocol error: unauthenticated bulk length"},
		{"*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"},
	} {
		if _, _, _, err := Parse([]byte(tc.in), nil, lim); err == nil || err.Error() != tc.err {
			t.Errorf("%q: %v, want %s", tc.in, err, tc.err)
		}
	}
	if _, _, _, err := Parse([]byte("*10\r\n$16384\r\n"), nil, lim); err != ErrIncomplete {
		t.Errorf("10 arguments of 16384 bytes: %v", err)
	}
	if _, _, _, err := Parse([]byte("*100\r\n"), nil, Limits{}); err != ErrIncomplete {
		t.Errorf("authenticated: %v", err)
	}
}

func TestSecondArgs(t *testing.T) {
	buf := []byte("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$2\r\nbb\r\n$1\r\nv\r\n*0\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nc")
	got := SecondArgs(buf, make([][]byte, 0, 8))
	if want := []string{"a", "bb", ""}; fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("SecondArgs = %q, want %q (the incomplete last command adds nothing)", got, want)
	}
	if got := SecondArgs(buf, make([][]byte, 0, 1)); len(got) != 1 || string(got[0]) != "a" {
		t.Fatalf("capacity 1: %q", got)
	}
	// It stops where the plain form ends: an inline command, a header
	// with a sign.
	for _, b := range []string{"GET a\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "*-1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "*2\r\n$+3\r\nGET\r\n$1\r\na\r\n"} {
		if got := SecondArgs([]byte(b), make([][]byte, 0, 8)); len(got) != 0 {
			t.Errorf("%q: %q", b, got)
		}
	}
}

// FuzzSecondArgs: the keys SecondArgs finds are the second arguments of
// the commands Parse reads from the same bytes, in order (those of at
// least two arguments), up to where it stops.
func FuzzSecondArgs(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nv\r\n",
		"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na", "*0\r\n*2\r\n$1\r\nx\r\n$0\r\n\r\n",
		"*2\r\n$3\r\nGET\r\n$99\r\nab\r\n", "*2\r\n$3\r\nGET\r\n$1\r\nab\r\n", "*1\r\n$1\r\n\r\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys := SecondArgs(data, make([][]byte, 0, 8))
		var want [][]byte
		for rest := data; len(rest) > 0 && len(want) < len(keys); {
			args, n, _, err := Parse(rest, nil, Limits{})
			if err != nil || rest[0] != '*' {
				t.Fatalf("SecondArgs found %q where Parse fails (%v) on %q", keys, err, data)
			}
			if len(args) >= 2 {
				want = append(want, args[1])
			}
			rest = rest[n:]
		}
		if fmt.Sprintf("%q", keys) != fmt.Sprintf("%q", want) {
			t.Fatalf("SecondArgs %q, Parse %q, input %q", keys, want, data)
		}
	})
}
