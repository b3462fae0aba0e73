// Package resp implements the Redis serialization protocol: a bounded
// request parser (multibulk and inline commands, pipelining) and
// allocation-free reply builders for RESP2 and RESP3.
package resp

import (
	"bytes"
	"errors"
	"strconv"
)

// Default limits, as Redis.
const (
	DefaultMaxBulkLen     = 512 << 20 // proto-max-bulk-len
	DefaultMaxQueryBuffer = 1 << 30   // client-query-buffer-limit
	MaxMultibulkLen       = 1024 * 1024 * 1024
	MaxInlineLen          = 64 * 1024 // PROTO_INLINE_MAX_SIZE
	bigArgThreshold       = 32 * 1024
)

// ProtocolError is a malformed request. The server replies
// "-ERR Protocol error: <Msg>" and closes the connection.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// ErrIncomplete means the buffer does not yet hold a whole command.
var ErrIncomplete = errors.New("resp: incomplete command")

// Limits bound what a client may send.
type Limits struct {
	MaxBulkLen int64 // largest bulk string
	// Unauthenticated: the client has not authenticated on a server that
	// requires it, so a request may have at most 10 arguments of at most
	// 16 KB each, as Redis (an anonymous peer cannot make the server
	// buffer big requests).
	Unauthenticated bool
}

// Parse parses one command from the front of buf. It returns the arguments
// (slices of buf, valid until buf changes), the number of bytes consumed,
// and need: when err is ErrIncomplete, the total buffer length known to be
// required before parsing can make progress (0 if unknown).
// args is reused to hold the result.
// An empty inline line yields zero args and n > 0.
func Parse(buf []byte, args [][]byte, lim Limits) (out [][]byte, n int, need int, err error) {
	if len(buf) == 0 {
		return args[:0], 0, 0, ErrIncomplete
	}
	if buf[0] != '*' {
		return parseInline(buf, args)
	}
	count, pos, ok := shortHeader(buf)
	if !ok {
		var err error
		count, pos, err = longHeader(buf, "too big mbulk count string", "invalid multibulk length")
		if err == nil && count > MaxMultibulkLen {
			err = &ProtocolError{"invalid multibulk length"}
		}
		if err != nil {
			return args[:0], 0, 0, err
		}
	}
	if lim.Unauthenticated && count > 10 {
		return args[:0], 0, 0, &ProtocolError{"unauthenticated multibulk length"}
	}
	args = args[:0]
	if count <= 0 {
		return args, pos, 0, nil
	}
	for i := int64(0); i < count; i++ {
		if pos >= len(buf) {
			return args[:0], 0, 0, ErrIncomplete
		}
		if buf[pos] != '$' {
			return args[:0], 0, 0, &ProtocolError{"expected '$', got '" + string(buf[pos]) + "'"}
		}
		rest := buf[pos:]
		blen, hdr, ok := shortHeader(rest)
		if !ok {
			var err error
			blen, hdr, err = longHeader(rest, "too big bulk count string", "invalid bulk length")
			if err == nil && blen < 0 {
				err = &ProtocolError{"invalid bulk length"}
			}
			if err != nil {
				return args[:0], 0, 0, err
			}
		}
		if lim.MaxBulkLen > 0 && blen > lim.MaxBulkLen {
			return args[:0], 0, 0, &ProtocolError{"invalid bulk length"}
		}
		if lim.Unauthenticated && blen > 16384 {
			return args[:0], 0, 0, &ProtocolError{"unauthenticated bulk length"}
		}
		start := pos + hdr
		end := start + int(blen)
		if end+2 > len(buf) {
			return args[:0], 0, end + 2, ErrIncomplete
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			// Redis does not check the trailing CRLF's content; it skips two
			// bytes. Do the same so clients that send anything there behave alike.
		}
		args = append(args, buf[start:end:end])
		pos = end + 2
	}
	return args, pos, 0, nil
}

// longHeader parses a "*<count>\r\n" or "$<len>\r\n" header that
// shortHeader did not take, with the error texts Redis gives for it: big
// for a header line without its end past MaxInlineLen, invalid for one
// whose number does not parse. It returns the number and the header's size.
func longHeader(b []byte, big, invalid string) (int64, int, error) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		if len(b) > MaxInlineLen {
			return 0, 0, &ProtocolError{big}
		}
		return 0, 0, ErrIncomplete
	}
	if nl < 2 || b[nl-1] != '\r' {
		// Redis looks for "\r\n"; a lone "\n" leaves the number unparsable.
		return 0, 0, &ProtocolError{invalid}
	}
	v, ok := parseInt(b[1 : nl-1])
	if !ok {
		return 0, 0, &ProtocolError{invalid}
	}
	return v, nl + 1, nil
}

// shortHeader reads the common form of a multibulk or bulk header, a
// type byte, 1 to 9 digits and "\r\n", without searching for the line's
// end: its value and the header's length. Anything else (a sign, a
// longer number, a missing "\r\n", an incomplete line) is false, for
// the full parse and its errors.
func shortHeader(b []byte) (n int64, size int, ok bool) {
	i := 1
	for ; i < len(b) && i <= 9; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if i == 1 || i+1 >= len(b) || b[i] != '\r' || b[i+1] != '\n' {
		return 0, 0, false
	}
	return n, i + 2, true
}

func parseInline(buf []byte, args [][]byte) ([][]byte, int, int, error) {
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		if len(buf) > MaxInlineLen {
			return args[:0], 0, 0, &ProtocolError{"too big inline request"}
		}
		return args[:0], 0, 0, ErrIncomplete
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	out, ok := SplitArgs(line, args[:0])
	if !ok {
		return args[:0], 0, 0, &ProtocolError{"unbalanced quotes in request"}
	}
	return out, nl + 1, 0, nil
}

// SplitArgs splits an inline command line the way redis-cli and Redis's
// sdssplitargs do: whitespace separates, "double quotes" allow \n \r \t \b
// \a \\ \" and \xHH escapes, 'single quotes' allow \'. A closing quote must
// be followed by a space or the end. Returned args are fresh copies.
func SplitArgs(line []byte, args [][]byte) ([][]byte, bool) {
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, true
		}
		var cur []byte
		inDq, inSq := false, false
		done := false
		for !done {
			if inDq {
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				if c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]) {
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				} else if c == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				} else if c == '"' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			} else if inSq {
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					i++
					cur = append(cur, '\'')
				} else if c == '\'' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			} else {
				if i >= len(line) {
					done = true
					break
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDq = true
				case '\'':
					inSq = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// parseInt parses a decimal int64 with optional sign, no spaces.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	} else if b[0] == '+' {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<62)/5 {
			v, err := strconv.ParseInt(string(b), 10, 64)
			if err != nil {
				return 0, false
			}
			if neg {
				return -v, true
			}
			return v, true
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// SecondArgs appends to keys the second argument of each whole command
// at the front of buf (for most commands, its first key), up to cap(keys)
// of them; a command with one argument adds nothing. It stops at the
// first command that is incomplete or not in the plain multibulk form
// (Parse deals with those). The slices alias buf.
func SecondArgs(buf []byte, keys [][]byte) [][]byte {
	for len(buf) > 0 && len(keys) < cap(keys) && buf[0] == '*' {
		count, pos, ok := shortHeader(buf)
		if !ok {
			break
		}
		var key []byte
		for i := int64(0); i < count; i++ {
			if pos >= len(buf) || buf[pos] != '$' {
				return keys
			}
			blen, hdr, ok := shortHeader(buf[pos:])
			if !ok {
				return keys
			}
			start := pos + hdr
			end := start + int(blen)
			if end+2 > len(buf) {
				return keys
			}
			if i == 1 {
				key = buf[start:end:end]
			}
			pos = end + 2
		}
		if key != nil {
			keys = append(keys, key)
		}
		buf = buf[pos:]
	}
	return keys
}
