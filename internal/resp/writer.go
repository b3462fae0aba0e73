package resp

import (
	"math"
	"strconv"
)

// Writer builds replies into Buf for one connection's protocol version
// (2 or 3). The zero value speaks RESP2. Methods never fail.
type Writer struct {
	Buf   []byte
	Proto int // 2 or 3
}

// Resp3 reports whether the writer speaks RESP3.
func (w *Writer) Resp3() bool { return w.Proto == 3 }

func (w *Writer) Simple(s string) {
	w.Buf = append(w.Buf, '+')
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// OK writes +OK.
func (w *Writer) OK() { w.Buf = append(w.Buf, "+OK\r\n"...) }

// Error writes an error reply. msg must include the code, e.g.
// "ERR syntax error" or "WRONGTYPE ...". CR and LF are replaced by spaces.
func (w *Writer) Error(msg string) {
	w.Buf = append(w.Buf, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.Buf = append(w.Buf, c)
	}
	w.Buf = append(w.Buf, '\r', '\n')
}

func (w *Writer) Int(n int64) {
	w.Buf = append(w.Buf, ':')
	w.Buf = strconv.AppendInt(w.Buf, n, 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

func (w *Writer) Bulk(b []byte) { w.Buf = AppendBulk(w.Buf, b) }

func (w *Writer) BulkString(s string) { w.Buf = AppendBulkString(w.Buf, s) }

// AppendBulk appends a as a RESP bulk string to b.
func AppendBulk(b, a []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(a)), 10)
	b = append(b, '\r', '\n')
	b = append(b, a...)
	return append(b, '\r', '\n')
}

// AppendBulkString is AppendBulk of a string.
func AppendBulkString(b []byte, a string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(a)), 10)
	b = append(b, '\r', '\n')
	b = append(b, a...)
	return append(b, '\r', '\n')
}

// BulkInt writes n as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes a null bulk string ($-1, or _ in RESP3).
func (w *Writer) Null() {
	if w.Proto == 3 {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "$-1\r\n"...)
	}
}

// NullArray writes a null array (*-1, or _ in RESP3).
func (w *Writer) NullArray() {
	if w.Proto == 3 {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "*-1\r\n"...)
	}
}

func (w *Writer) header(c byte, n int) {
	w.Buf = append(w.Buf, c)
	w.Buf = strconv.AppendInt(w.Buf, int64(n), 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// Array starts an array of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map starts a map of n key/value pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.Proto == 3 {
		w.header('%', n)
	} else {
		w.header('*', 2*n)
	}
}

// Set starts a set of n elements (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Proto == 3 {
		w.header('~', n)
	} else {
		w.header('*', n)
	}
}

// Push starts an out-of-band push message of n elements (an array in RESP2).
func (w *Writer) Push(n int) {
	if w.Proto == 3 {
		w.header('>', n)
	} else {
		w.header('*', n)
	}
}

// Double writes a floating point reply: a bulk string in RESP2 formatted
// as Redis 7.0 does (%.17g, "inf", "-inf"), a RESP3 double otherwise.
func (w *Writer) Double(f float64) {
	if w.Proto == 3 {
		w.Buf = append(w.Buf, ',')
		w.Buf = AppendDouble(w.Buf, f)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	var tmp [32]byte
	w.Bulk(AppendDouble(tmp[:0], f))
}

// AppendDouble formats f as Redis 7.0's addReplyDouble: "inf", "-inf",
// "nan", or %.17g.
func AppendDouble(b []byte, f float64) []byte { return AppendG17(b, f) }

// AppendG17 formats f like C's printf("%.17g") (glibc: "inf", "-inf",
// "nan" for the non-finite values).
func AppendG17(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	// Rounding to 17 significant digits may bump the exponent; let strconv decide.
	s := strconv.FormatFloat(f, 'e', 16, 64)
	// s looks like d.dddde±XX
	epos := len(s) - 1
	for s[epos] != 'e' {
		epos--
	}
	e, _ := strconv.Atoi(s[epos+1:])
	if e < -4 || e >= 17 {
		// %e style with trailing zeros trimmed from the mantissa.
		mant := trimZeros(s[:epos])
		b = append(b, mant...)
		b = append(b, 'e')
		if e < 0 {
			b = append(b, '-')
			e = -e
		} else {
			b = append(b, '+')
		}
		if e < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(e), 10)
	}
	// %f style with 17-1-e decimals, trailing zeros trimmed.
	prec := 16 - e
	if prec < 0 {
		prec = 0
	}
	t := strconv.FormatFloat(f, 'f', prec, 64)
	return append(b, trimZeros(t)...)
}

func trimZeros(s string) string {
	dot := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return s
	}
	end := len(s)
	for end > dot+1 && s[end-1] == '0' {
		end--
	}
	if end == dot+1 {
		end = dot
	}
	return s[:end]
}

// Bool writes a RESP3 boolean, or the integer 1/0 in RESP2.
func (w *Writer) Bool(v bool) {
	if w.Proto == 3 {
		if v {
			w.Buf = append(w.Buf, "#t\r\n"...)
		} else {
			w.Buf = append(w.Buf, "#f\r\n"...)
		}
		return
	}
	if v {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Verbatim writes a RESP3 verbatim string with format (e.g. "txt"), or a
// bulk string in RESP2.
func (w *Writer) Verbatim(s string, format string) {
	if w.Proto != 3 {
		w.BulkString(s)
		return
	}
	w.Buf = append(w.Buf, '=')
	w.Buf = strconv.AppendInt(w.Buf, int64(len(s)+4), 10)
	w.Buf = append(w.Buf, '\r', '\n')
	w.Buf = append(w.Buf, format...)
	w.Buf = append(w.Buf, ':')
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// BulkStrings writes an array of bulk strings.
func (w *Writer) BulkStrings(items []string) {
	w.Array(len(items))
	for _, s := range items {
		w.BulkString(s)
	}
}

// Raw appends pre-encoded protocol bytes.
func (w *Writer) Raw(b []byte) { w.Buf = append(w.Buf, b...) }
