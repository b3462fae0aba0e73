package aof

import (
	"bytes"
	"io"
	"testing"
)

// FuzzScanner: any input either parses, or stops with an *Error whose
// ValidUpTo prefix parses cleanly into the same commands; never a panic.
func FuzzScanner(f *testing.F) {
	good := AppendCommandStrings(nil, "SET", "key", "value")
	f.Add(good)
	f.Add(append(append([]byte("#TS:1\r\n"), good...), good[:9]...))
	f.Add(append(AppendCommandStrings(nil, "MULTI"), good...))
	f.Add([]byte("*1\r\n$999999999999\r\n"))
	f.Add([]byte("*-1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cmds [][]byte
		s := NewScanner(bytes.NewReader(data), 0, int64(len(data)))
		var err error
		for {
			var args [][]byte
			args, err = s.Next()
			if err != nil {
				break
			}
			cmds = append(cmds, AppendCommand(nil, args...))
		}
		valid := int64(len(data))
		if err != io.EOF {
			e := AsError(err)
			if e == nil {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if e.ValidUpTo < 0 || e.ValidUpTo > int64(len(data)) || e.At < e.ValidUpTo {
				t.Fatalf("bad offsets %+v (len %d)", e, len(data))
			}
			valid = e.ValidUpTo
		}
		// The valid prefix reads back as the same commands.
		s2 := NewScanner(bytes.NewReader(data[:valid]), 0, valid)
		for i := 0; ; i++ {
			args, err := s2.Next()
			if err == io.EOF {
				if i != len(cmds) {
					t.Fatalf("prefix has %d commands, want %d", i, len(cmds))
				}
				break
			}
			if err != nil {
				t.Fatalf("valid prefix fails: %v", err)
			}
			if i >= len(cmds) || !bytes.Equal(AppendCommand(nil, args...), cmds[i]) {
				t.Fatalf("command %d differs", i)
			}
		}
		Check(bytes.NewReader(data), int64(len(data)), 1, "fuzz")
		ParseManifest(data)
	})
}
