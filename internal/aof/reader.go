package aof

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// AppendCommand appends args as a RESP multibulk, the AOF's record format.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// AppendCommandStrings is AppendCommand for string arguments.
func AppendCommandStrings(dst []byte, args ...string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// Error is a problem found while reading an AOF: either the file ends in
// the middle of a command (Truncated: a crash mid-write, repairable by
// cutting the tail) or a byte that cannot be there (corruption).
type Error struct {
	Truncated bool
	// ValidUpTo is the offset just after the last whole command (for a
	// truncated transaction, the offset of its MULTI): the file is sound up
	// to there.
	ValidUpTo int64
	// At is the offset of the problem.
	At  int64
	Msg string // what was expected, in redis-check-aof's words
}

func (e *Error) Error() string {
	if e.Truncated {
		return fmt.Sprintf("unexpected end of file at offset %d (%s)", e.At, e.Msg)
	}
	return fmt.Sprintf("bad file format at offset %d: %s", e.At, e.Msg)
}

// Scanner reads the commands of one AOF file (RESP multibulks, with
// "#..." annotation lines skipped) and tracks offsets and lines so a
// problem can be located. Arguments returned by Next are valid until the
// next call.
type Scanner struct {
	r    *bufio.Reader
	size int64 // total bytes the reader holds (bounds allocations)
	off  int64 // offset of the next unread byte
	// Start is the offset where the last returned command began.
	Start int64
	// Line counts lines consumed, as redis-check-aof does (starts at 1,
	// one per header line and one per argument).
	Line int64
	// LastRead is where the last header or argument read began (the
	// position redis-check-aof reports); Arg0 is where the first
	// argument's bytes of the last command are.
	LastRead, Arg0 int64

	args  [][]byte
	arena []byte
	hdr   []byte
}

// NewScanner reads r, which holds size bytes from offset base.
func NewScanner(r io.Reader, base, size int64) *Scanner {
	return &Scanner{r: bufio.NewReaderSize(r, 64<<10), size: base + size, off: base, Line: 1}
}

// Offset returns the offset of the next unread byte.
func (s *Scanner) Offset() int64 { return s.off }

// Buffered returns how many bytes were read from the input but not yet
// scanned: while it is not 0, Next can return without waiting for input.
func (s *Scanner) Buffered() int { return s.r.Buffered() }

// errEOFClean marks a clean end of input.
var errEOFClean = io.EOF

// Next returns the next command, io.EOF at a clean end, or an *Error.
func (s *Scanner) Next() ([][]byte, error) {
	for {
		s.Start = s.off
		c, err := s.r.ReadByte()
		if err != nil {
			return nil, errEOFClean
		}
		s.off++
		switch c {
		case '#':
			// Annotation: skip to the end of the line (a partial last line
			// is ignored, as Redis does).
			for {
				line, err := s.r.ReadSlice('\n')
				s.off += int64(len(line))
				if err != bufio.ErrBufferFull {
					break
				}
			}
			continue
		case '*':
			s.LastRead = s.Start
		default:
			return nil, s.fmtErr(s.Start, fmt.Sprintf("Expected prefix '*', got: '%c'", c))
		}
		argc, err := s.number(s.Start, '*')
		if err != nil {
			return nil, err
		}
		s.args = s.args[:0]
		s.arena = s.arena[:0]
		for i := int64(0); i < argc; i++ {
			if err := s.arg(); err != nil {
				return nil, err
			}
		}
		return s.args, nil
	}
}

// number reads the rest of a "*N\r\n" or "$N\r\n" line (the prefix at
// offset at is consumed) as redis-check-aof does: the line up to its
// '\n', a number as strtol reads it, then "\r\n" where the number ends.
// End of file before the '\n' is a truncation.
func (s *Scanner) number(at int64, prefix byte) (int64, error) {
	s.hdr = s.hdr[:0]
	eof := false
	for len(s.hdr) < 126 {
		c, err := s.r.ReadByte()
		if err != nil {
			eof = true
			break
		}
		s.off++
		s.hdr = append(s.hdr, c)
		if c == '\n' {
			break
		}
	}
	h := s.hdr
	i := 0
	for i < len(h) && (h[i] == ' ' || h[i] >= '\t' && h[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(h) && (h[i] == '-' || h[i] == '+') {
		neg = h[i] == '-'
		i++
	}
	digits := i
	var n int64
	for ; i < len(h) && h[i] >= '0' && h[i] <= '9'; i++ {
		d := int64(h[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64 // strtol clamps
		} else if n != math.MaxInt64 {
			n = n*10 + d
		}
	}
	end := i
	if end == digits { // no digits: strtol leaves the pointer at the start
		end, n = 0, 0
	}
	if neg {
		n = -n
	}
	if end+1 < len(h) && h[end] == '\r' && h[end+1] == '\n' {
		s.Line++
		return n, nil
	}
	if eof {
		return 0, s.truncErr(at, "Expected \\r\\n, got: "+hex2(h, end))
	}
	return 0, s.fmtErr(at, "Expected \\r\\n, got: "+hex2(h, end))
}

// hex2 prints the two bytes at i as %02x%02x (zero past the end).
func hex2(h []byte, i int) string {
	b := [2]byte{}
	for k := 0; k < 2; k++ {
		if i+k < len(h) {
			b[k] = h[i+k]
		}
	}
	return fmt.Sprintf("%02x%02x", b[0], b[1])
}

// arg reads one "$len\r\n<bytes>\r\n" argument.
func (s *Scanner) arg() error {
	at := s.off
	s.LastRead = at
	c, err := s.r.ReadByte()
	if err != nil {
		return s.truncErr(at, "Expected prefix '$', got end of file")
	}
	s.off++
	if c != '$' {
		return s.fmtErr(at, fmt.Sprintf("Expected prefix '$', got: '%c'", c))
	}
	n, err := s.number(at, '$')
	if err != nil {
		return err
	}
	if n < 0 || n > math.MaxInt64-2 {
		return s.fmtErr(at, fmt.Sprintf("Expected to read string of %d bytes, which is not in the suitable range", n))
	}
	at = s.off
	s.LastRead = at
	if len(s.args) == 0 {
		s.Arg0 = at
	}
	if rest := s.size - s.off; n+2 > rest {
		// Never allocate more than the file holds: this is a cut tail.
		if rest < 0 {
			rest = 0
		}
		return s.truncErr(at, fmt.Sprintf("Expected to read %d bytes, got %d bytes", n+2, rest))
	}
	if len(s.arena)+int(n) > cap(s.arena) {
		size := 2 * cap(s.arena)
		if size < int(n) {
			size = int(n)
		}
		if size < 4096 {
			size = 4096
		}
		s.arena = make([]byte, 0, size)
	}
	start := len(s.arena)
	s.arena = s.arena[:start+int(n)]
	buf := s.arena[start : start+int(n) : start+int(n)]
	k, err := io.ReadFull(s.r, buf)
	s.off += int64(k)
	if err != nil {
		return s.truncErr(at, fmt.Sprintf("Expected to read %d bytes, got %d bytes", n+2, k))
	}
	var crlf [2]byte
	k, err = io.ReadFull(s.r, crlf[:])
	s.off += int64(k)
	if err != nil {
		return s.truncErr(at, fmt.Sprintf("Expected to read %d bytes, got %d bytes", n+2, int(n)+k))
	}
	if crlf != [2]byte{'\r', '\n'} {
		return s.fmtErr(at, fmt.Sprintf("Expected \\r\\n, got: %02x%02x", crlf[0], crlf[1]))
	}
	s.Line++
	s.args = append(s.args, buf)
	return nil
}

func (s *Scanner) truncErr(at int64, msg string) error {
	return &Error{Truncated: true, ValidUpTo: s.Start, At: at, Msg: msg}
}

func (s *Scanner) fmtErr(at int64, msg string) error {
	return &Error{ValidUpTo: s.Start, At: at, Msg: msg}
}

// AsError returns err as an *Error, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
