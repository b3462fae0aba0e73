package rdb

import (
	"errors"
	"sync"
)

// LZF, the compression Redis applies to strings longer than 20 bytes in
// RDB files. A compressed stream is a sequence of chunks, each led by a
// control byte c:
//
//	c < 32:  a literal run: the next c+1 bytes are copied as they are.
//	c >= 32: a back reference: length l = c>>5 (when 7, add the next
//	         byte), offset o = (c&31)<<8 | next byte; copy l+2 bytes
//	         starting o+1 bytes before the end of the output so far
//	         (the source may overlap the bytes being written).

const (
	lzfMaxLit = 1 << 5          // longest literal run
	lzfMaxOff = 1 << 13         // farthest back reference
	lzfMaxRef = 255 + 7 + 2     // longest back reference (264)
	lzfHLog   = 14              // hash table size, log2
	lzfMaxExp = lzfMaxRef/3 + 1 // bound on the expansion of one input byte
	lzfHMask  = 1<<lzfHLog - 1  //
)

var errLZF = errors.New("invalid LZF data")

var lzfTables = sync.Pool{New: func() any { return new([1 << lzfHLog]int32) }}

// lzfCompress appends the compression of src to dst and returns it, or
// returns nil when the result would be longer than limit bytes.
func lzfCompress(dst, src []byte, limit int) []byte {
	n := len(src)
	if n == 0 {
		return nil
	}
	// position+1 of the last 3-byte sequence with each hash. The table is
	// reused without clearing: an entry left by an earlier input is only a
	// candidate, kept when it points before ip and its bytes match.
	htab := lzfTables.Get().(*[1 << lzfHLog]int32)
	defer lzfTables.Put(htab)
	start := len(dst)
	over := func() bool { return len(dst)-start > limit }
	lit := 0 // length of the pending literal run, which ends at ip
	ip := 0
	// A control byte is reserved for the pending run: it is filled in
	// when the run is closed.
	dst = append(dst, 0)
	ctrl := len(dst) - 1
	hash := func(i int) uint32 {
		v := uint32(src[i])<<16 | uint32(src[i+1])<<8 | uint32(src[i+2])
		return (v * 2654435761) >> (32 - lzfHLog) & lzfHMask
	}
	for ip+2 < n {
		h := hash(ip)
		ref := int(htab[h]) - 1
		htab[h] = int32(ip + 1)
		off := ip - ref - 1
		if ref >= 0 && ref < ip && off < lzfMaxOff && src[ref] == src[ip] && src[ref+1] == src[ip+1] && src[ref+2] == src[ip+2] {
			l := 3
			maxl := min(lzfMaxRef, n-ip)
			for l < maxl && src[ref+l] == src[ip+l] {
				l++
			}
			// Close the pending literal run (or drop its empty control byte).
			if lit > 0 {
				dst[ctrl] = byte(lit - 1)
			} else {
				dst = dst[:len(dst)-1]
			}
			lit = 0
			l -= 2
			if l < 7 {
				dst = append(dst, byte(l<<5|off>>8), byte(off))
			} else {
				dst = append(dst, byte(7<<5|off>>8), byte(l-7), byte(off))
			}
			l += 2
			for j := ip + 1; j < ip+l && j+2 < n; j++ {
				htab[hash(j)] = int32(j + 1)
			}
			ip += l
			dst = append(dst, 0)
			ctrl = len(dst) - 1
			if over() {
				return nil
			}
			continue
		}
		dst = append(dst, src[ip])
		ip++
		lit++
		if lit == lzfMaxLit {
			dst[ctrl] = byte(lit - 1)
			lit = 0
			dst = append(dst, 0)
			ctrl = len(dst) - 1
			if over() {
				return nil
			}
		}
	}
	for ip < n {
		dst = append(dst, src[ip])
		ip++
		lit++
		if lit == lzfMaxLit {
			dst[ctrl] = byte(lit - 1)
			lit = 0
			dst = append(dst, 0)
			ctrl = len(dst) - 1
		}
	}
	if lit > 0 {
		dst[ctrl] = byte(lit - 1)
	} else {
		dst = dst[:len(dst)-1]
	}
	if over() {
		return nil
	}
	return dst
}

// lzfDecompress decompresses src into a new slice of exactly n bytes.
func lzfDecompress(src []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	ip := 0
	for ip < len(src) {
		c := int(src[ip])
		ip++
		if c < lzfMaxLit {
			l := c + 1
			if ip+l > len(src) || len(out)+l > n {
				return nil, errLZF
			}
			out = append(out, src[ip:ip+l]...)
			ip += l
			continue
		}
		l := c >> 5
		if ip >= len(src) {
			return nil, errLZF
		}
		if l == 7 {
			l += int(src[ip])
			ip++
			if ip >= len(src) {
				return nil, errLZF
			}
		}
		ref := len(out) - (c&31)<<8 - int(src[ip]) - 1
		ip++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, errLZF
		}
		for j := 0; j < l; j++ {
			out = append(out, out[ref+j])
		}
	}
	if len(out) != n {
		return nil, errLZF
	}
	return out, nil
}
