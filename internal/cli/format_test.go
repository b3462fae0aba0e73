package cli

import (
	"bufio"
	"strings"
	"testing"

	"redgo/internal/resp"
)

func parse(s string) resp.Value {
	v, err := resp.ReadValue(bufio.NewReader(strings.NewReader(s)))
	if err != nil {
		panic(err)
	}
	return v
}

// Cases taken from redis-cli 7.0's output (the differential test checks
// the same against the real binary where it is installed).
func TestFormatTTY(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+OK\r\n", "OK\n"},
		{"-ERR wrong\r\n", "(error) ERR wrong\n"},
		{":-5\r\n", "(integer) -5\n"},
		{"$3\r\na\"\n\r\n", "\"a\\\"\\n\"\n"},
		{"$-1\r\n", "(nil)\n"},
		{"*0\r\n", "(empty array)\n"},
		{"%0\r\n", "(empty hash)\n"},
		{"~0\r\n", "(empty set)\n"},
		{",1.5\r\n", "(double) 1.5\n"},
		{"#t\r\n", "(true)\n"},
		{"_\r\n", "(nil)\n"},
		{"=9\r\ntxt:a\nb c\r\n", "a\nb c\n"},
		{"%1\r\n$1\r\nk\r\n*2\r\n:1\r\n:2\r\n", "1# \"k\" => \n   1) (integer) 1\n   2) (integer) 2\n"},
		{"~1\r\n$1\r\nx\r\n", "1~ \"x\"\n"},
		{"*1\r\n*1\r\n*0\r\n", "1) 1) (empty array)\n"},
	}
	for _, c := range cases {
		if got := FormatTTY(parse(c.in)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	// Eleven elements: indexes take two columns, nested ones indent by four.
	in := "*11\r\n" + strings.Repeat(":1\r\n", 10) + "*2\r\n:2\r\n:3\r\n"
	want := " 1) (integer) 1\n" + " 2) (integer) 1\n" + " 3) (integer) 1\n" + " 4) (integer) 1\n" +
		" 5) (integer) 1\n" + " 6) (integer) 1\n" + " 7) (integer) 1\n" + " 8) (integer) 1\n" +
		" 9) (integer) 1\n" + "10) (integer) 1\n" + "11) 1) (integer) 2\n" + "    2) (integer) 3\n"
	if got := FormatTTY(parse(in)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFormatRawAndCSV(t *testing.T) {
	v := parse("*3\r\n$1\r\na\r\n$-1\r\n%1\r\n$1\r\nk\r\n:1\r\n")
	if got := FormatRaw(v, "\n"); got != "a\n\nk 1" {
		t.Errorf("raw: %q", got)
	}
	if got := FormatCSV(v); got != `"a",NULL,"k",1` {
		t.Errorf("csv: %q", got)
	}
	if got := FormatCSV(parse("-ERR x\r\n")); got != `ERROR,"ERR x"` {
		t.Errorf("csv error: %q", got)
	}
}

func TestRepr(t *testing.T) {
	if got := resp.Repr("a\x00\xff\\\"\t€"); got != `"a\x00\xff\\\"\t\xe2\x82\xac"` {
		t.Errorf("%s", got)
	}
}
