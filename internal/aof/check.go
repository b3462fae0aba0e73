package aof

import (
	"fmt"
	"io"
	"strings"
)

// CheckResult is what redis-check-aof finds in one file.
type CheckResult struct {
	Size   int64
	OKUpTo int64 // the file is valid up to this offset (a cut there repairs it)
	Line   int64 // line counter after the file (carried across the files of a manifest)
	// Problem is the located error ("0x<offset>: message"), empty if none
	// or if the problem is a bad first byte (FormatError).
	Problem     string
	FormatError bool // a command did not start with '*'
}

// Valid reports whether the whole file is sound.
func (r CheckResult) Valid() bool { return r.OKUpTo == r.Size }

// Check analyses one AOF file as redis-check-aof does: commands must be
// whole, and MULTI ... EXEC must pair up; a transaction without its EXEC
// at the end makes the file valid only up to its MULTI. line is the line
// counter to start from (1 for a single file); path names the file in
// messages.
func Check(r io.Reader, size, line int64, path string) CheckResult {
	return CheckFrom(r, 0, size, line, path)
}

// CheckFrom is Check of a file whose first base bytes (an RDB preamble)
// were checked already; r reads from offset base, size is the whole
// file's.
func CheckFrom(r io.Reader, base, size, line int64, path string) CheckResult {
	s := NewScanner(r, base, size-base)
	s.Line = line
	res := CheckResult{Size: size}
	multi := false
	pos := base
	at := func(off int64, msg string) string { return fmt.Sprintf("0x%16x: %s", off, msg) }
	for {
		if !multi {
			pos = s.Offset()
		}
		args, err := s.Next()
		if err == io.EOF {
			if multi {
				res.Problem = at(s.LastRead, "Reached EOF before reading EXEC for MULTI")
			}
			break
		}
		if err != nil {
			e := AsError(err)
			if strings.HasPrefix(e.Msg, "Expected prefix '*'") {
				res.FormatError = true
			} else {
				res.Problem = at(e.At, e.Msg)
			}
			break
		}
		if len(args) == 0 {
			continue
		}
		name := strings.ToLower(string(args[0]))
		if name == "multi" {
			if multi {
				res.Problem = at(s.Arg0, "Unexpected MULTI in AOF "+path)
				break
			}
			multi = true
		} else if name == "exec" {
			if !multi {
				res.Problem = at(s.Arg0, "Unexpected EXEC in AOF "+path)
				pos = s.Start
				break
			}
			multi = false
		}
	}
	res.OKUpTo = pos
	res.Line = s.Line
	return res
}
