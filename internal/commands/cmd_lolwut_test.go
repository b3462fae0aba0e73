package commands

import (
	"strings"
	"testing"
)

// LOLWUT's drawings are random below the second row; these calls draw
// only the first two rows, so redgo's must equal Redis's to the pixel.
func TestLolwutMatchesRedis(t *testing.T) {
	diff(t, `
LOLWUT
LOLWUT VERSION 7
LOLWUT VERSION 1 2 3
LOLWUT VERSION x
LOLWUT VERSION 5 10 1 2
LOLWUT VERSION 5 40 3 1
LOLWUT VERSION 5 1 1 1
LOLWUT VERSION 5 2000 0 -5
LOLWUT VERSION 5 x
`)
}

func TestLolwutSchotter(t *testing.T) {
	e := newEnv(t)
	v := e.do("LOLWUT", "VERSION", "5")
	lines := strings.Split(v.Str, "\n")
	if !strings.HasSuffix(v.Str, "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n") || len(lines) < 10 {
		t.Fatalf("LOLWUT VERSION 5:\n%s", v.Str)
	}
	if w := len([]rune(lines[0])); w != 66 {
		t.Fatalf("width %d, want 66 columns", w)
	}
}
