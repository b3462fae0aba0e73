package cli

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"redgo/internal/resp"
)

// Any reply the reader accepts formats in every mode; the terminal
// format always ends in a newline, and every element of an array gets
// its own numbered line.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n*1\r\n%1\r\n:1\r\n~0\r\n", "=7\r\ntxt:a\nb\r\n",
		"%2\r\n$1\r\nk\r\n*2\r\n:1\r\n:2\r\n$1\r\nj\r\n_\r\n", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n",
		"*-1\r\n", "$-1\r\n", ",inf\r\n", "#f\r\n", "-ERR x\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := resp.ReadValue(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		tty := FormatTTY(v)
		if !strings.HasSuffix(tty, "\n") {
			t.Fatalf("%q: terminal format %q lacks the final newline", data, tty)
		}
		if v.Type == '*' && !v.Null && len(v.Elems) > 0 && strings.Count(tty, ") ") < len(v.Elems) {
			t.Fatalf("%q: %d elements, output %q", data, len(v.Elems), tty)
		}
		FormatRaw(v, "\n")
		FormatCSV(v)
	})
}

// The hint of any line is a suffix of the command's argument syntax.
func FuzzHint(f *testing.F) {
	h := helpTable{{words: []string{"SET"}, params: "key value [NX|XX] [GET]"},
		{words: []string{"CONFIG", "GET"}, params: "parameter [parameter ...]"}, {words: []string{"CONFIG"}}}
	for _, s := range []string{"set", "set ", "set k v", "config get a b", "\"set\" 'k'", "set k v x y z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got := h.hint(line)
		argv, ok := resp.SplitArgs([]byte(line), nil)
		if !ok || len(argv) == 0 {
			if got != "" {
				t.Fatalf("%q: hint %q for no command", line, got)
			}
			return
		}
		if e := h.lookup(stringsOf(argv)); e != nil && !strings.HasSuffix(e.params, strings.TrimPrefix(got, " ")) {
			t.Fatalf("%q: hint %q is not a suffix of %q", line, got, e.params)
		}
	})
}

// Option parsing never panics, and whatever it accepts has a port.
func FuzzParseArgs(f *testing.F) {
	f.Add("-h\x00host\x00-p\x006380\x00-c\x00get\x00k")
	f.Add("-u\x00redis://u:p@h:1/2\x00--raw")
	f.Add("-p")
	f.Add("--cluster\x00create")
	f.Fuzz(func(t *testing.T, s string) {
		o, cmd, err := ParseArgs(strings.Split(s, "\x00"))
		if err != nil {
			return
		}
		if o == nil || (len(cmd) > 0 && strings.HasPrefix(cmd[0], "-") && !o.ClusterManager) {
			t.Fatalf("%q: options %+v, command %q", s, o, cmd)
		}
	})
}

func stringsOf(b [][]byte) []string {
	s := make([]string, len(b))
	for i := range b {
		s[i] = string(b[i])
	}
	return s
}
