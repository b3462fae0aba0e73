package slotmigration

import (
	"reflect"
	"strings"
	"testing"

	"redgo/internal/slot"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestParseRanges(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  string
	}{
		{"0 2", []int{0, 1, 2}, ""},
		{"5 5 1 2", []int{1, 2, 5}, ""},
		{"16383 16383", []int{16383}, ""},
		{"", nil, "ERR syntax error"},
		{"1", nil, "ERR syntax error"},
		{"3 1", nil, "ERR start slot number 3 is greater than end slot number 1"},
		{"0 16384", nil, "ERR Invalid or out of range slot"},
		{"x 1", nil, "ERR Invalid or out of range slot"},
		{"-1 1", nil, "ERR Invalid or out of range slot"},
		{"0 5 5 6", nil, "ERR Slot 5 specified multiple times"},
	} {
		got, err := ParseRanges(args(c.in))
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != c.err || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseRanges(%q) = %v, %q; want %v, %q", c.in, got, msg, c.want, c.err)
		}
	}
}

func TestRanges(t *testing.T) {
	got := Ranges([]int{0, 1, 2, 5, 7, 8})
	want := [][2]int{{0, 2}, {5, 5}, {7, 8}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Ranges = %v, want %v", got, want)
	}
	if a := rangeArgs([]int{3, 4, 9}); string(a[0])+string(a[1])+string(a[2])+string(a[3]) != "3499" {
		t.Fatalf("rangeArgs = %q", a)
	}
}

// keyOf returns a key of slot j.
func keyOf(j int) string {
	for i := 0; ; i++ {
		k := "k" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if slot.OfString(k) == j {
			return k
		}
	}
}

// The stream keeps the writes of captured slots only, drops MULTI, EXEC
// and SELECT, and fails on a flush.
func TestStreamFeed(t *testing.T) {
	st := newStream()
	in, out := keyOf(100), keyOf(200)
	st.captured[100].Store(true)
	var c Capture
	c.Feed(0, [][][]byte{args("SET " + in + " 1")}) // no transfer: ignored
	c.active.Store(st)
	c.Feed(0, [][][]byte{args("SET " + in + " 2"), args("SET " + out + " 2")})
	c.Feed(0, [][][]byte{args("MULTI"), args("INCR " + in), args("EXEC")})
	c.Feed(1, [][][]byte{args("SET " + in + " 3")}) // another database
	c.Feed(0, [][][]byte{args("SELECT 0"), args("DEL " + out + " " + in)})
	c.Feed(0, [][][]byte{args("DEL " + in)})
	want := string(appendCommand(appendCommand(appendCommand(nil, args("SET "+in+" 2")), args("INCR "+in)), args("DEL "+in)))
	got, err := st.take(nil)
	if err != nil || string(got) != want {
		t.Fatalf("stream %q (%v), want %q", got, err, want)
	}
	if n, _ := st.status(); n != 3 {
		t.Fatalf("%d commands queued, want 3", n)
	}
	c.Feed(0, [][][]byte{args("FLUSHALL")})
	if _, err := st.status(); err != errFlushed {
		t.Fatalf("after FLUSHALL: %v", err)
	}
}

func TestImports(t *testing.T) {
	var r Imports
	a, err := r.Start("src", []int{1, 2})
	if err != nil || !a.Has(1) || a.Has(3) {
		t.Fatalf("Start: %v", err)
	}
	if _, err := r.Start("src", []int{2, 3}); err == nil || err.Error() != "ERR Slot 2 is already being imported" {
		t.Fatalf("overlapping Start: %v", err)
	}
	r.End(a)
	if _, err := r.Start("src", []int{2, 3}); err != nil || r.Len() != 2 {
		t.Fatalf("Start after End: %v, %d slots", err, r.Len())
	}
}
