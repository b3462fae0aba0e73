package commands

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s   string
		nocase bool
		want   bool
	}{
		{"*", "", false, true},
		{"a*", "abc", false, true},
		{"a*c", "abc", false, true},
		{"a*d", "abc", false, false},
		{"h?llo", "hello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"H*", "hello", true, true},
		{"\\*", "*", false, true},
		{"a*b*c", "aXbYc", false, true},
		{"*b*", "abc", false, true},
		// Redis's regression test: pathological nesting must answer fast.
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 40), false, false},
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 40) + "b", false, true},
	} {
		if got := GlobMatch([]byte(tc.p), []byte(tc.s), tc.nocase); got != tc.want {
			t.Errorf("GlobMatch(%q, %q, %v) = %v, want %v", tc.p, tc.s, tc.nocase, got, tc.want)
		}
	}
}

// The early stop never changes an answer: compared with plain
// backtracking on random patterns of '*', '?' and two letters.
func TestGlobSkipLongerAgrees(t *testing.T) {
	var naive func(p, s string) bool
	naive = func(p, s string) bool {
		if p == "" {
			return s == ""
		}
		switch p[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if naive(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			return s != "" && naive(p[1:], s[1:])
		}
		return s != "" && s[0] == p[0] && naive(p[1:], s[1:])
	}
	r := rand.New(rand.NewPCG(3, 4))
	alpha := "ab*?"
	for range 20000 {
		p := make([]byte, r.IntN(8))
		for i := range p {
			p[i] = alpha[r.IntN(len(alpha))]
		}
		s := make([]byte, r.IntN(8))
		for i := range s {
			s[i] = "ab"[r.IntN(2)]
		}
		if got, want := GlobMatch(p, s, false), naive(string(p), string(s)); got != want {
			t.Fatalf("GlobMatch(%q, %q) = %v, want %v", p, s, got, want)
		}
	}
}
