package datatype

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The listpack encoding of a small sorted set: one byte slice holding a
// 4-byte little-endian entry count, then the entries in (score, member)
// order. An entry is
//
//	uvarint member length | member | score | backlen
//
// where the score is a uvarint s: an even s holds an integral score
// (|score| < 2^53) as the zigzag encoding of the integer shifted left by
// one; s == 1 is followed by the float64's 8 bytes, little-endian. The
// backlen is the length of the entry before it, written so that it reads
// backward (7 bits a byte from the last byte on, the high bit set on
// every byte but the first one written), so the entries can be walked in
// both directions, as in Redis's listpack. A pair costs its member plus 3
// bytes for a short member and a small integer score (Redis's: 4).
//
// Member strings handed out alias the buffer. A deletion (Delete,
// DeleteRange, Pop, a score change that moves an entry) builds a new
// buffer, so a member string handed out survives it (ZPOPMIN replies
// with a member it has just removed). An insertion shifts the entries
// after it in place when the buffer has room: no caller holds members
// of a set across an insertion into it (ZADD, the only caller, takes
// its members from its arguments). A score of the same encoded size is
// rewritten in place.

const zlpHeader = 4

// zlpEmpty is the listpack of an empty set. It is never written: its
// capacity is its length, so the first insertion allocates.
var zlpEmpty = make([]byte, zlpHeader)

// zlpMaxInt is the largest integral score stored as an integer.
const zlpMaxInt = 1 << 53

// zlpCount returns the number of entries.
func zlpCount(lp []byte) int {
	if len(lp) < zlpHeader {
		return 0
	}
	return int(binary.LittleEndian.Uint32(lp))
}

func zlpSetCount(lp []byte, n int) { binary.LittleEndian.PutUint32(lp, uint32(n)) }

// zlpScoreInt reports whether f is stored as an integer, and which.
func zlpScoreInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f >= zlpMaxInt || f <= -zlpMaxInt || (f == 0 && math.Signbit(f)) {
		return 0, false
	}
	return int64(f), true
}

// zlpScoreLen is the encoded size of a score.
func zlpScoreLen(f float64) int {
	if i, ok := zlpScoreInt(f); ok {
		return uvarintLen(int(zigzag(i) << 1))
	}
	return 9
}

func zigzag(i int64) uint64 { return uint64(i<<1) ^ uint64(i>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// zlpBodyLen is the size of an entry without its backlen.
func zlpBodyLen(member string, score float64) int {
	return uvarintLen(len(member)) + len(member) + zlpScoreLen(score)
}

// zlpEntryLen is the size of a whole entry.
func zlpEntryLen(member string, score float64) int {
	b := zlpBodyLen(member, score)
	return b + uvarintLen(b)
}

// zlpAppend appends one entry to dst.
func zlpAppend(dst []byte, member string, score float64) []byte {
	start := len(dst)
	dst = binary.AppendUvarint(dst, uint64(len(member)))
	dst = append(dst, member...)
	dst = zlpAppendScore(dst, score)
	return zlpAppendBacklen(dst, len(dst)-start)
}

func zlpAppendScore(dst []byte, score float64) []byte {
	if i, ok := zlpScoreInt(score); ok {
		return binary.AppendUvarint(dst, zigzag(i)<<1)
	}
	dst = append(dst, 1)
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(score))
}

// zlpAppendBacklen appends n so that it reads backward from its last byte.
func zlpAppendBacklen(dst []byte, n int) []byte {
	var g [10]byte
	k := 0
	for v := uint64(n); ; v >>= 7 {
		g[k] = byte(v & 0x7f)
		k++
		if v < 0x80 {
			break
		}
	}
	// g[0] is the lowest group: written last, read first.
	for j := k - 1; j >= 0; j-- {
		b := g[j]
		if j < k-1 {
			b |= 0x80
		}
		dst = append(dst, b)
	}
	return dst
}

// zlpNext decodes the entry at off: its member (aliasing lp), score and
// the offset of the next entry.
func zlpNext(lp []byte, off int) (string, float64, int) {
	start := off
	n, w := binary.Uvarint(lp[off:])
	off += w
	var m string
	if n > 0 {
		m = unsafe.String(&lp[off], int(n))
	}
	off += int(n)
	s, w := binary.Uvarint(lp[off:])
	off += w
	var score float64
	if s&1 == 0 {
		score = float64(unzigzag(s >> 1))
	} else {
		score = math.Float64frombits(binary.LittleEndian.Uint64(lp[off:]))
		off += 8
	}
	return m, score, off + uvarintLen(off-start)
}

// zlpPrev returns the offset of the entry before the one at off (off may
// be len(lp)); off must not be the first entry.
func zlpPrev(lp []byte, off int) int {
	v, shift, k := 0, 0, 0
	for {
		k++
		b := lp[off-k]
		v |= int(b&0x7f) << shift
		shift += 7
		if b&0x80 == 0 {
			break
		}
	}
	return off - k - v
}

// zlpMember returns the member of the entry at off without decoding the
// score.
func zlpMember(lp []byte, off int) string {
	n, w := binary.Uvarint(lp[off:])
	if n == 0 {
		return ""
	}
	return unsafe.String(&lp[off+w], int(n))
}

// zlpOffset returns the offset of the entry of rank r (r == count: the
// end).
func zlpOffset(lp []byte, r int) int {
	if r >= zlpCount(lp) {
		return len(lp)
	}
	if r > zlpCount(lp)/2 {
		off := len(lp)
		for i := zlpCount(lp); i > r; i-- {
			off = zlpPrev(lp, off)
		}
		return off
	}
	off := zlpHeader
	for ; r > 0; r-- {
		_, _, off = zlpNext(lp, off)
	}
	return off
}

// zlpFind returns the offset and rank of member, or -1, -1. It reads
// the members' lengths and skips the scores without decoding them.
func zlpFind(lp []byte, member string) (int, int) {
	off := zlpHeader
	for r := 0; off < len(lp); r++ {
		start := off
		n, w := int(lp[off]), 1
		if n >= 0x80 {
			u, uw := binary.Uvarint(lp[off:])
			n, w = int(u), uw
		}
		off += w
		if n == len(member) && string(lp[off:off+n]) == member {
			return start, r
		}
		off = zlpSkipScore(lp, off+n)
		off += uvarintLen(off - start)
	}
	return -1, -1
}

// zlpSkipScore returns the offset past the score at off.
func zlpSkipScore(lp []byte, off int) int {
	if lp[off] == 1 { // a float: the tag, then 8 bytes
		return off + 9
	}
	for lp[off] >= 0x80 {
		off++
	}
	return off + 1
}

// zlpScoreAt decodes the score at off and returns it with the offset
// past it.
func zlpScoreAt(lp []byte, off int) (float64, int) {
	if lp[off] == 1 {
		return math.Float64frombits(binary.LittleEndian.Uint64(lp[off+1:])), off + 9
	}
	s, w := binary.Uvarint(lp[off:])
	return float64(unzigzag(s >> 1)), off + w
}

// zlpInsertAt returns the offset where (member, score) goes: before the
// first entry ordered after it.
func zlpInsertAt(lp []byte, member string, score float64) int {
	off := zlpHeader
	for off < len(lp) {
		start := off
		n, w := int(lp[off]), 1
		if n >= 0x80 {
			u, uw := binary.Uvarint(lp[off:])
			n, w = int(u), uw
		}
		mOff := off + w
		s, end := zlpScoreAt(lp, mOff+n)
		if s > score || (s == score && string(lp[mOff:mOff+n]) > member) {
			return start
		}
		off = end + uvarintLen(end-start)
	}
	return off
}

// zlpSplice returns a new exact-size listpack holding lp's entries with
// bytes [from, to) replaced by ins, and count n.
func zlpSplice(lp []byte, from, to int, ins []byte, n int) []byte {
	if n == 0 {
		return zlpEmpty
	}
	size := len(lp) - (to - from) + len(ins)
	if len(lp) == 0 {
		size += zlpHeader
		from, to = zlpHeader, zlpHeader
	}
	out := make([]byte, zlpHeader, size)
	if len(lp) > 0 {
		out = append(out[:0], lp[:from]...)
	}
	out = append(out, ins...)
	if len(lp) > 0 {
		out = append(out, lp[to:]...)
	}
	zlpSetCount(out, n)
	return out
}
