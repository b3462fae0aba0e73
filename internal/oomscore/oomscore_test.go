package oomscore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeProc(t *testing.T, v string) (string, func() string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "oom_score_adj")
	if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, func() string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
}

func nolog(string, ...any) {}

// The sequence of Redis's unit/oom-score-adj on a fake proc file.
func TestAdjuster(t *testing.T) {
	p, read := fakeProc(t, "0")
	a := New(p, nolog)
	step := func(err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if got := read(); got != want {
			t.Fatalf("oom_score_adj = %s, want %s", got, want)
		}
	}
	step(a.SetValues("10 20 30"), "0") // off: untouched
	step(a.SetMode("yes"), "10")
	step(a.SetValues("15 20 30"), "15")
	step(a.SetReplica(true), "20")
	step(a.SetReplica(false), "15")
	step(a.SetMode("no"), "0") // the value before: restored

	os.WriteFile(p, []byte("2\n"), 0o644)
	step(a.SetValues("3 3 3"), "2") // off: untouched
	os.WriteFile(p, []byte("22\n"), 0o644)
	step(a.SetValues("9 9 9"), "22")
	step(a.SetMode("yes"), "31") // relative to what the file held then
	step(a.SetMode("absolute"), "9")
	step(a.SetMode("relative"), "31")
	step(a.SetValues("2000 2000 2000"), "1000") // clamped
	step(a.SetMode("no"), "22")
}

func TestCheck(t *testing.T) {
	for v, want := range map[string]string{
		"0 200 800":         "",
		"-2000 0 2000":      "",
		"-2001 -2001 -2001": ErrValues,
		"2001 2001 2001":    ErrValues,
		"1 2 x":             ErrValues,
		"1 2":               "wrong number of arguments",
		"1 2 3 4":           "wrong number of arguments",
	} {
		err := Check(v)
		if got := ""; err != nil {
			got = err.Error()
			if got != want {
				t.Errorf("Check(%q) = %q, want %q", v, got, want)
			}
		} else if want != "" {
			t.Errorf("Check(%q) = nil, want %q", v, want)
		}
	}
}

// A file that cannot be read: the mode stays as it was.
func TestAdjusterError(t *testing.T) {
	a := New(filepath.Join(t.TempDir(), "missing", "oom_score_adj"), nolog)
	if err := a.SetMode("yes"); err == nil || err.Error() != ErrApply {
		t.Fatalf("SetMode on a missing file: %v", err)
	}
	if a.mode != "no" {
		t.Fatalf("mode after a failure = %q", a.mode)
	}
}
