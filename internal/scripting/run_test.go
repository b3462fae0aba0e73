package scripting

import (
	"testing"

	"redgo/internal/resp"
)

// TestArgTablesDoNotLeak: a state's KEYS and ARGV are refilled for each
// EVAL, so whatever a script did to them must not show in the next run.
func TestArgTablesDoNotLeak(t *testing.T) {
	e := New()
	run := func(body string, keys, args []string) string {
		t.Helper()
		sc, msg := e.Load([]byte(body))
		if sc == nil {
			t.Fatal(msg)
		}
		r := &Run{Script: sc, Name: sc.SHA, Keys: bulkArgs(keys), Args: bulkArgs(args), Eval: true, Host: cannedHost{}}
		var w resp.Writer
		e.Run(r, &w)
		return string(w.Buf)
	}
	const look = "return {#KEYS, tostring(KEYS[1]), tostring(KEYS[2]), tostring(KEYS[3]), tostring(KEYS.x), " +
		"#ARGV, tostring(ARGV[1]), tostring(ARGV[5]), tostring(getmetatable(ARGV))}"
	for _, tc := range []struct {
		name, body string
	}{
		{"untouched", "return 1"},
		{"more elements", "KEYS[3] = 'c' ARGV[2] = 'y' return 1"},
		{"hash key", "KEYS.x = 1 return 1"},
		{"removed then hash key", "table.remove(KEYS) KEYS.x = 1 return 1"},
		{"element cleared", "KEYS[2] = nil return 1"},
		{"metatable", "setmetatable(ARGV, {__index = function() return 'm' end}) return 1"},
		{"replaced elements", "KEYS[1] = 5 KEYS[2] = {} ARGV[1] = false return 1"},
	} {
		if got := run(tc.body, []string{"a", "b"}, []string{"x"}); got != ":1\r\n" {
			t.Fatalf("%s: %q", tc.name, got)
		}
		// Fewer keys, no argument: nothing of the last run shows.
		want := "*9\r\n:1\r\n$1\r\nk\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n:0\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n"
		if got := run(look, []string{"k"}, nil); got != want {
			t.Errorf("after %s: %q", tc.name, got)
		}
		want = "*9\r\n:2\r\n$1\r\na\r\n$1\r\nb\r\n$3\r\nnil\r\n$3\r\nnil\r\n:1\r\n$1\r\nz\r\n$3\r\nnil\r\n$3\r\nnil\r\n"
		if got := run(look, []string{"a", "b"}, []string{"z"}); got != want {
			t.Errorf("after %s, then again: %q", tc.name, got)
		}
	}
}

func bulkArgs(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}
