package scripting

import (
	"bytes"
	"strings"
	"testing"
)

func TestDebuggerParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		args []string
		err  string
	}{
		{"*1\r\n$1\r\ns\r\n", []string{"s"}, ""},
		{"*2\r\n$1\r\np\r\n$3\r\nabc\r\n", []string{"p", "abc"}, ""},
		{"*2\r\n$1\r\np\r\n", nil, ""}, // incomplete: read more
		{"*1\r\n$1\r\n", nil, ""},
		{"junk", nil, "protocol error"},
		{"*0\r\n", nil, "protocol error"},
		{"*1\r\n$0\r\n\r\n", nil, "protocol error"},
		{"*1\r\n+s\r\n", nil, "protocol error"},
		{"*1\r\n$1\r\nsXX", nil, "protocol error"},
	} {
		d := &Debugger{cbuf: []byte(c.in)}
		args, err := d.parse()
		if strings.Join(args, "|") != strings.Join(c.args, "|") || err != c.err {
			t.Errorf("%q: got %q %q, want %q %q", c.in, args, err, c.args, c.err)
		}
	}
}

// FuzzDebuggerParse: any bytes from the client give a command, "read
// more" or a protocol error; never a panic.
func FuzzDebuggerParse(f *testing.F) {
	for _, s := range []string{"*1\r\n$1\r\ns\r\n", "*2\r\n$1\r\np\r\n$3\r\nabc\r\n", "*1025\r\n", "*1\r\n$-1\r\n", "*1\r\n$5\r\nab\r\n", "x*1\r\n$1\r\nc\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &Debugger{cbuf: b}
		args, err := d.parse()
		if args != nil && err != "" {
			t.Fatalf("both a command and an error")
		}
		for _, a := range args {
			if len(a) == 0 || len(a) > 1024 {
				t.Fatalf("argument of %d bytes", len(a))
			}
		}
	})
}

// FuzzReplyToHuman: any reply, even truncated or malformed, is shown
// without a panic.
func FuzzReplyToHuman(f *testing.F) {
	for _, s := range []string{":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n+OK\r\n-ERR x\r\n", "%1\r\n$1\r\na\r\n#t\r\n", "~1\r\n,1.5\r\n", "_\r\n", "*3\r\n:1\r\n", "$10\r\nab\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var sb strings.Builder
		n := replyToHuman(&sb, b)
		if n < 0 || n > len(b)+2 {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
	})
}

func TestReplyToHuman(t *testing.T) {
	for in, want := range map[string]string{
		":5\r\n":                         "5",
		"$3\r\na\"b\r\n":                 `"a\"b"`,
		"$-1\r\n":                        "NULL",
		"*-1\r\n":                        "NULL",
		"+OK\r\n":                        `"+OK"`,
		"-ERR bad\r\n":                   `"-ERR bad"`,
		"*2\r\n:1\r\n$1\r\nx\r\n":        `[1,"x"]`,
		"~1\r\n$1\r\nm\r\n":              `~("m")`,
		"%1\r\n$1\r\nk\r\n:2\r\n":        `{"k" => 2}`,
		"_\r\n":                          "(null)",
		"#f\r\n":                         "#false",
		",3.5\r\n":                       "(double) 3.5",
		"*1\r\n$2\r\n\x01\n\r\n":         `["\x01\n"]`,
		"*2\r\n*1\r\n:1\r\n*0\r\n":       "[[1],[]]",
		"%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n": "{1 => 2,3 => 4}",
		"*3\r\n#t\r\n_\r\n,inf\r\n":      "[#true,(null),(double) inf]",
		"*1\r\n-WRONGTYPE Operation\r\n": `["-WRONGTYPE Operation"]`,
		"$5\r\nhello\r\n":                `"hello"`,
		"*2\r\n$1\r\na\r\n$-1\r\n":       `["a",NULL]`,
		"~0\r\n":                         "~()",
		"%0\r\n":                         "{}",
		"*0\r\n":                         "[]",
		":-12\r\n":                       "-12",
		"$0\r\n\r\n":                     `""`,
		"*1\r\n*1\r\n*1\r\n$1\r\nz\r\n":  `[[["z"]]]`,
		"*2\r\n%1\r\n:1\r\n:1\r\n~0\r\n": "[{1 => 1},~()]",
	} {
		var sb strings.Builder
		replyToHuman(&sb, []byte(in))
		if sb.String() != want {
			t.Errorf("%q: %s, want %s", in, sb.String(), want)
		}
	}
	_ = bytes.MinRead
}
