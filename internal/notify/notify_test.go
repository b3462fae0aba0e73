package notify

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseString(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"", ""},
		{"KEA", "AKE"},
		{"A", "A"},
		{"Ag", "A"},
		{"g$lshzxetd", "A"},
		{"g$lshzxet", "g$lshzxet"},
		{"Kx", "xK"},
		{"Em", "Em"},
		{"mKEn", "nKEm"},
		{"AnmKE", "AKEm"}, // A hides n, as Redis renders it
		{"lll", "l"},
		{"Kd", "dK"},
	} {
		f, ok := Parse(tc.in)
		if !ok {
			t.Fatalf("Parse(%q) failed", tc.in)
		}
		if got := f.String(); got != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.out)
		}
	}
	for _, bad := range []string{"a", "KEA ", "k", "G", "KE\x00", "é"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestFire(t *testing.T) {
	var got []string
	n := New(func(ch, msg []byte) { got = append(got, string(ch)+" "+string(msg)) })
	n.Fire(Generic, "del", 0, []byte("k")) // nothing enabled
	f, _ := Parse("Kg")
	n.SetClasses(f)
	n.Fire(String, "set", 0, []byte("k")) // class off
	n.Fire(Generic, "del", 3, []byte("k"))
	f, _ = Parse("KEA")
	n.SetClasses(f)
	n.Fire(List, "lpush", 12, []byte("a b"))
	want := "__keyspace@3__:k del|__keyspace@12__:a b lpush|__keyevent@12__:lpush a b"
	if s := strings.Join(got, "|"); s != want {
		t.Fatalf("got %q, want %q", s, want)
	}
	var nilN *Notifier
	nilN.Fire(All, "x", 0, nil)
	if nilN.Enabled(All) {
		t.Fatal("nil notifier enabled")
	}
}

// FuzzParse checks the parser against a naive version and that rendering
// round-trips to the same classes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "KEA", "Ag$lshzxeKEtmdn", "xyz", "KEnm", "g$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := Parse(s)
		if want := strings.Trim(s, "Ag$lshzxeKEtmdn") == "" && !strings.ContainsFunc(s, func(r rune) bool {
			return !strings.ContainsRune("Ag$lshzxeKEtmdn", r)
		}); ok != want {
			t.Fatalf("Parse(%q) ok=%v, want %v", s, ok, want)
		}
		if !ok {
			return
		}
		r := c.String()
		c2, ok2 := Parse(r)
		want := c
		if c&All == All {
			want &^= NewKey // Redis renders A without n
		}
		if !ok2 || c2 != want {
			t.Fatalf("round trip %q -> %q -> %v, want %v", s, r, c2, c)
		}
		if r2 := c2.String(); r2 != r {
			t.Fatalf("render not stable: %q then %q", r, r2)
		}
		_ = fmt.Sprint(c)
	})
}

func TestLossless(t *testing.T) {
	for _, in := range []string{"AnKE", "KEA", "n", "", "Ag$m"} {
		f, _ := Parse(in)
		c, _ := Canonical(in)
		if g, _ := Parse(c); g != f {
			t.Errorf("Canonical(%q) = %q loses classes", in, c)
		}
		if Show(c) != f.String() {
			t.Errorf("Show(%q) = %q, want %q", c, Show(c), f.String())
		}
	}
}
