package rdb

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// The compact blobs Redis stores inside RDB strings: listpack (7.0),
// ziplist and zipmap (older releases), intset.
//
// Listpack: total bytes (uint32 LE), element count (uint16 LE, 65535 when
// not known), the entries, and 0xFF. An entry is an encoding byte, its data
// and a "backlen" (the size of the first two, 1-5 bytes, readable from the
// right). Encodings:
//
//	0xxxxxxx             7-bit unsigned int
//	10xxxxxx + data      string of up to 63 bytes
//	110xxxxx yyyyyyyy    13-bit signed int
//	1110xxxx yyyyyyyy    string of up to 4095 bytes (length big-endian)
//	11110000 + 4 bytes   string, 32-bit length (little-endian)
//	11110001/2/3/4       16/24/32/64-bit signed int (little-endian)

var errBlob = errors.New("invalid compact encoding")

// parseInt reads b as Redis's string2ll: an optional '-', digits without
// a leading zero (except "0" itself), no spaces, within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	p := b
	if neg {
		p = b[1:]
	}
	if len(p) == 0 || p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// listpack builds a listpack.
type listpack struct {
	b []byte
	n int
}

func newListpack(b []byte) listpack {
	return listpack{b: append(b[:0], 0, 0, 0, 0, 0, 0)}
}

// add appends one element, as an integer when it reads as one.
func (lp *listpack) add(v []byte) {
	start := len(lp.b)
	if i, ok := parseInt(v); ok {
		lp.b = appendLPInt(lp.b, i)
	} else {
		lp.b = appendLPStr(lp.b, v)
	}
	lp.b = appendBacklen(lp.b, len(lp.b)-start)
	lp.n++
}

func (lp *listpack) addInt(i int64) {
	start := len(lp.b)
	lp.b = appendLPInt(lp.b, i)
	lp.b = appendBacklen(lp.b, len(lp.b)-start)
	lp.n++
}

// entrySize is the bytes add(v) would append.
func lpEntrySize(v []byte) int {
	var n int
	if i, ok := parseInt(v); ok {
		switch {
		case i >= 0 && i <= 127:
			n = 1
		case i >= -4096 && i <= 4095:
			n = 2
		case i >= -32768 && i <= 32767:
			n = 3
		case i >= -8388608 && i <= 8388607:
			n = 4
		case i >= -2147483648 && i <= 2147483647:
			n = 5
		default:
			n = 9
		}
	} else {
		switch l := len(v); {
		case l < 64:
			n = 1 + l
		case l < 4096:
			n = 2 + l
		default:
			n = 5 + l
		}
	}
	switch {
	case n <= 127:
		return n + 1
	case n < 16383:
		return n + 2
	case n < 2097151:
		return n + 3
	case n < 268435455:
		return n + 4
	}
	return n + 5
}

// finish writes the end byte and the header and returns the blob.
func (lp *listpack) finish() []byte {
	lp.b = append(lp.b, 0xff)
	binary.LittleEndian.PutUint32(lp.b, uint32(len(lp.b)))
	n := lp.n
	if n > 65535 {
		n = 65535
	}
	binary.LittleEndian.PutUint16(lp.b[4:], uint16(n))
	return lp.b
}

func appendLPInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= 127:
		return append(b, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		return append(b, byte(u>>8)|0xc0, byte(u))
	case v >= -32768 && v <= 32767:
		return append(b, 0xf1, byte(v), byte(v>>8))
	case v >= -8388608 && v <= 8388607:
		return append(b, 0xf2, byte(v), byte(v>>8), byte(v>>16))
	case v >= -2147483648 && v <= 2147483647:
		return append(b, 0xf3, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	b = append(b, 0xf4)
	return binary.LittleEndian.AppendUint64(b, uint64(v))
}

func appendLPStr(b, v []byte) []byte {
	switch l := len(v); {
	case l < 64:
		b = append(b, byte(l)|0x80)
	case l < 4096:
		b = append(b, byte(l>>8)|0xe0, byte(l))
	default:
		b = append(b, 0xf0)
		b = binary.LittleEndian.AppendUint32(b, uint32(l))
	}
	return append(b, v...)
}

func appendBacklen(b []byte, l int) []byte {
	switch {
	case l <= 127:
		return append(b, byte(l))
	case l < 16383:
		return append(b, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		return append(b, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case l < 268435455:
		return append(b, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	return append(b, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
}

func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// walkListpack validates a listpack and calls fn with each element: a
// string (s != nil) or an integer. It returns the element count.
func walkListpack(b []byte, fn func(s []byte, i int64) error) (int, error) {
	if len(b) < 7 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return 0, errBlob
	}
	hdrCount := int(binary.LittleEndian.Uint16(b[4:]))
	p, end := 6, len(b)-1
	n := 0
	for p < end {
		start := p
		c := b[p]
		var s []byte
		var iv int64
		need := func(k int) bool { return p+k <= end }
		switch {
		case c&0x80 == 0:
			iv = int64(c)
			p++
		case c&0xc0 == 0x80:
			l := int(c & 0x3f)
			if !need(1 + l) {
				return 0, errBlob
			}
			s = b[p+1 : p+1+l]
			p += 1 + l
		case c&0xe0 == 0xc0:
			if !need(2) {
				return 0, errBlob
			}
			u := uint64(c&0x1f)<<8 | uint64(b[p+1])
			iv = int64(u<<51) >> 51
			p += 2
		case c&0xf0 == 0xe0:
			if !need(2) {
				return 0, errBlob
			}
			l := int(c&0x0f)<<8 | int(b[p+1])
			if !need(2 + l) {
				return 0, errBlob
			}
			s = b[p+2 : p+2+l]
			p += 2 + l
		case c == 0xf0:
			if !need(5) {
				return 0, errBlob
			}
			l := int(binary.LittleEndian.Uint32(b[p+1:]))
			if l < 0 || !need(5+l) {
				return 0, errBlob
			}
			s = b[p+5 : p+5+l]
			p += 5 + l
		case c == 0xf1:
			if !need(3) {
				return 0, errBlob
			}
			iv = int64(int16(binary.LittleEndian.Uint16(b[p+1:])))
			p += 3
		case c == 0xf2:
			if !need(4) {
				return 0, errBlob
			}
			u := uint32(b[p+1]) | uint32(b[p+2])<<8 | uint32(b[p+3])<<16
			iv = int64(int32(u<<8) >> 8)
			p += 4
		case c == 0xf3:
			if !need(5) {
				return 0, errBlob
			}
			iv = int64(int32(binary.LittleEndian.Uint32(b[p+1:])))
			p += 5
		case c == 0xf4:
			if !need(9) {
				return 0, errBlob
			}
			iv = int64(binary.LittleEndian.Uint64(b[p+1:]))
			p += 9
		default:
			return 0, errBlob
		}
		// backlen
		l := p - start
		bl := backlenSize(l)
		if !need(bl) {
			return 0, errBlob
		}
		var got int
		for k := 0; k < bl; k++ {
			got = got<<7 | int(b[p+k]&127)
		}
		if got != l {
			return 0, errBlob
		}
		p += bl
		if err := fn(s, iv); err != nil {
			return 0, err
		}
		n++
	}
	if hdrCount != 65535 && hdrCount != n {
		return 0, errBlob
	}
	return n, nil
}

// walkZiplist validates a ziplist (the compact encoding before 7.0) and
// calls fn with each element.
//
// Layout: total bytes (uint32 LE), offset of the last entry (uint32 LE),
// count (uint16 LE, 65535 = unknown), entries, 0xFF. An entry is the
// previous entry's length (1 byte, or 0xFE + uint32 LE), an encoding and
// the data:
//
//	00pppppp             string, 6-bit length
//	01pppppp qqqqqqqq    string, 14-bit length (big-endian)
//	10000000 + 4 bytes   string, 32-bit length (big-endian)
//	11000000/11010000/11100000   int16/int32/int64 (little-endian)
//	11110000             int24
//	11111110             int8
//	1111xxxx             immediate 0..12 (xxxx-1), xxxx in 0001..1101
func walkZiplist(b []byte, fn func(s []byte, i int64) error) (int, error) {
	if len(b) < 11 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return 0, errBlob
	}
	hdrCount := int(binary.LittleEndian.Uint16(b[8:]))
	p, end := 10, len(b)-1
	n, prevLen := 0, 0
	for p < end {
		start := p
		// prevlen
		if b[p] < 254 {
			if int(b[p]) != prevLen {
				return 0, errBlob
			}
			p++
		} else if b[p] == 254 {
			if p+5 > end || int(binary.LittleEndian.Uint32(b[p+1:])) != prevLen {
				return 0, errBlob
			}
			p += 5
		} else {
			return 0, errBlob
		}
		if p >= end {
			return 0, errBlob
		}
		c := b[p]
		var s []byte
		var iv int64
		need := func(k int) bool { return p+k <= end }
		switch c >> 6 {
		case 0:
			l := int(c & 0x3f)
			if !need(1 + l) {
				return 0, errBlob
			}
			s = b[p+1 : p+1+l]
			p += 1 + l
		case 1:
			if !need(2) {
				return 0, errBlob
			}
			l := int(c&0x3f)<<8 | int(b[p+1])
			if !need(2 + l) {
				return 0, errBlob
			}
			s = b[p+2 : p+2+l]
			p += 2 + l
		case 2:
			if c != 0x80 || !need(5) {
				return 0, errBlob
			}
			l := int(binary.BigEndian.Uint32(b[p+1:]))
			if l < 0 || !need(5+l) {
				return 0, errBlob
			}
			s = b[p+5 : p+5+l]
			p += 5 + l
		default:
			switch {
			case c == 0xc0:
				if !need(3) {
					return 0, errBlob
				}
				iv = int64(int16(binary.LittleEndian.Uint16(b[p+1:])))
				p += 3
			case c == 0xd0:
				if !need(5) {
					return 0, errBlob
				}
				iv = int64(int32(binary.LittleEndian.Uint32(b[p+1:])))
				p += 5
			case c == 0xe0:
				if !need(9) {
					return 0, errBlob
				}
				iv = int64(binary.LittleEndian.Uint64(b[p+1:]))
				p += 9
			case c == 0xf0:
				if !need(4) {
					return 0, errBlob
				}
				u := uint32(b[p+1]) | uint32(b[p+2])<<8 | uint32(b[p+3])<<16
				iv = int64(int32(u<<8) >> 8)
				p += 4
			case c == 0xfe:
				if !need(2) {
					return 0, errBlob
				}
				iv = int64(int8(b[p+1]))
				p += 2
			case c >= 0xf1 && c <= 0xfd:
				iv = int64(c&0x0f) - 1
				p++
			default:
				return 0, errBlob
			}
		}
		prevLen = p - start
		if err := fn(s, iv); err != nil {
			return 0, err
		}
		n++
	}
	if hdrCount != 65535 && hdrCount != n {
		return 0, errBlob
	}
	return n, nil
}

// walkIntset validates an intset (width uint32 LE: 2, 4 or 8; count
// uint32 LE; sorted little-endian integers) and calls fn with each.
func walkIntset(b []byte, fn func(v int64) error) (int, error) {
	if len(b) < 8 {
		return 0, errBlob
	}
	w := int(binary.LittleEndian.Uint32(b))
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if (w != 2 && w != 4 && w != 8) || n < 0 || len(b) != 8+w*n {
		return 0, errBlob
	}
	var prev int64
	for i := 0; i < n; i++ {
		p := b[8+i*w:]
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		if i > 0 && v <= prev {
			return 0, errBlob
		}
		prev = v
		if err := fn(v); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// appendIntset encodes sorted distinct integers as an intset.
func appendIntset(b []byte, vals []int64) []byte {
	w := 2
	for _, v := range vals {
		if v < -32768 || v > 32767 {
			if v < -2147483648 || v > 2147483647 {
				w = 8
				break
			}
			w = 4
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		switch w {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

// walkZipmap validates a zipmap (the hash encoding of Redis < 2.6) and
// calls fn with each field and value. Layout: a count byte (254+ =
// unknown), then per pair: field length, field, value length, a "free"
// byte, value, free bytes; lengths are 1 byte (< 254) or 254 + uint32 LE;
// 255 ends the map.
func walkZipmap(b []byte, fn func(f, v []byte) error) (int, error) {
	if len(b) < 2 {
		return 0, errBlob
	}
	p, n := 1, 0
	readLen := func() (int, bool) {
		if p >= len(b) {
			return 0, false
		}
		c := b[p]
		if c < 254 {
			p++
			return int(c), true
		}
		if c == 255 || p+5 > len(b) {
			return 0, false
		}
		l := int(binary.LittleEndian.Uint32(b[p+1:]))
		p += 5
		return l, l >= 0
	}
	for {
		if p >= len(b) {
			return 0, errBlob
		}
		if b[p] == 255 {
			if p != len(b)-1 {
				return 0, errBlob
			}
			break
		}
		fl, ok := readLen()
		if !ok || p+fl > len(b) {
			return 0, errBlob
		}
		f := b[p : p+fl]
		p += fl
		vl, ok := readLen()
		if !ok || p >= len(b) {
			return 0, errBlob
		}
		free := int(b[p])
		p++
		if p+vl+free > len(b) {
			return 0, errBlob
		}
		v := b[p : p+vl]
		p += vl + free
		if err := fn(f, v); err != nil {
			return 0, err
		}
		n++
	}
	if c := int(b[0]); c < 254 && c != n {
		return 0, errBlob
	}
	return n, nil
}

// elemBytes returns a walked element as bytes.
func elemBytes(s []byte, i int64) []byte {
	if s != nil {
		return s
	}
	return strconv.AppendInt(nil, i, 10)
}
