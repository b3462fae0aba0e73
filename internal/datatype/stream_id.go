package datatype

import (
	"math"
	"strconv"
)

// StreamID is a stream entry ID: milliseconds and a sequence number,
// ordered as the 128-bit number ms<<64 | seq (Redis's streamID).
type StreamID struct {
	Ms, Seq uint64
}

// MaxStreamID is the largest ID ("+").
var MaxStreamID = StreamID{math.MaxUint64, math.MaxUint64}

// Cmp returns -1, 0 or 1 as a is less than, equal to or greater than b.
func (a StreamID) Cmp(b StreamID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports whether a < b.
func (a StreamID) Less(b StreamID) bool { return a.Cmp(b) < 0 }

// IsZero reports whether the ID is 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Next returns the ID right after a; false when a is the largest ID.
func (a StreamID) Next() (StreamID, bool) {
	if a.Seq == math.MaxUint64 {
		if a.Ms == math.MaxUint64 {
			return a, false
		}
		return StreamID{a.Ms + 1, 0}, true
	}
	return StreamID{a.Ms, a.Seq + 1}, true
}

// Prev returns the ID right before a; false when a is 0-0.
func (a StreamID) Prev() (StreamID, bool) {
	if a.Seq == 0 {
		if a.Ms == 0 {
			return a, false
		}
		return StreamID{a.Ms - 1, math.MaxUint64}, true
	}
	return StreamID{a.Ms, a.Seq - 1}, true
}

// Append appends "ms-seq" to b.
func (a StreamID) Append(b []byte) []byte {
	b = strconv.AppendUint(b, a.Ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, a.Seq, 10)
}

func (a StreamID) String() string { return string(a.Append(nil)) }

// ParseStreamID parses an ID argument as Redis 7.0's
// streamGenericParseIDOrReply: "ms-seq", or "ms" alone (the sequence is
// then missingSeq); "-" and "+" are the smallest and largest IDs unless
// strict. When seqAuto is true, "ms-*" is accepted and reported with
// auto set (the sequence is left 0). Each number is read as string2ull
// reads it: a strict integer, or failing that what strtoull accepts whole
// (leading spaces, a sign, leading zeros; "-5" is refused but "-05"
// wraps around, as in Redis).
func ParseStreamID(b []byte, missingSeq uint64, strict, seqAuto bool) (id StreamID, auto, ok bool) {
	if len(b) > 127 {
		return id, false, false
	}
	for i, ch := range b { // a C string ends at its first NUL
		if ch == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return id, false, false
		}
		if b[0] == '-' {
			return StreamID{}, false, true
		}
		return MaxStreamID, false, true
	}
	msPart, seqPart, hasSeq := cutByte(b, '-')
	ms, ok := parseULL(msPart)
	if !ok {
		return id, false, false
	}
	seq := missingSeq
	if hasSeq {
		if seqAuto && len(seqPart) == 1 && seqPart[0] == '*' {
			return StreamID{Ms: ms}, true, true
		}
		if seq, ok = parseULL(seqPart); !ok {
			return id, false, false
		}
	}
	return StreamID{ms, seq}, false, true
}

func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, ch := range b {
		if ch == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// parseULL is Redis's string2ull: string2ll (refusing negatives), or
// else strtoull over the whole string.
func parseULL(b []byte) (uint64, bool) {
	if v, ok := parseLL(b); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	return strtoull(b)
}

// parseLL is Redis's string2ll: optional '-', no '+', no spaces, no
// leading zeros, fits in int64.
func parseLL(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' || v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// strtoull accepts what C's strtoull(s, &end, 10) parses with end at the
// end of s and no ERANGE: leading white space, an optional sign (a minus
// negates modulo 2^64), at least one digit.
func strtoull(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}
