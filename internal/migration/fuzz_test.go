package migration

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzOptions: wherever ParseOptions accepts the options, its keys are
// the arguments KeyPositions names (the routing and locking see the keys
// MIGRATE moves).
func FuzzOptions(f *testing.F) {
	for _, s := range []string{"h p k 0 10", "h p  0 10 keys a b", "h p  0 10 auth keys keys a",
		"h p  0 10 auth2 u keys keys b", "h p k 0 10 copy replace", "h p  0 10 replace keys"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := append([][]byte{[]byte("migrate")}, bytes.Split([]byte(s), []byte(" "))...)
		if len(args) < 6 {
			return
		}
		o, err := ParseOptions(args)
		pos := KeyPositions(args)
		if err != "" {
			return
		}
		if len(pos) != len(o.Keys) {
			t.Fatalf("%q: keys %q, positions %v", s, o.Keys, pos)
		}
		for i, p := range pos {
			if !bytes.Equal(args[p], o.Keys[i]) {
				t.Fatalf("%q: key %d is %q, position %d holds %q", s, i, o.Keys[i], p, args[p])
			}
		}
	})
}

// FuzzReadLine: a reply line comes back without its line ending, and
// reading never fails on content, only at the end of the input.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("+OK\r\n-ERR x\r\n"))
	f.Add([]byte("-BUSYKEY Target key name already exists.\r\n+OK\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		rest := in
		for {
			l, err := readLine(br)
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				if err == nil {
					t.Fatalf("a line %q without a newline", l)
				}
				return
			}
			want := rest[:i]
			if len(want) > 0 && want[len(want)-1] == '\r' {
				want = want[:len(want)-1]
			}
			if err != nil || l != string(want) {
				t.Fatalf("got %q %v, want %q", l, err, want)
			}
			rest = rest[i+1:]
		}
	})
}
