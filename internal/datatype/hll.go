package datatype

import "math"

// HyperLogLog values are plain strings in Redis's own layout, so they can
// be moved between redgo and Redis with GET/SET, DUMP/RESTORE and RDB:
//
//	+------+----------+---------+----------------+-----------+
//	| HYLL | encoding | 3 unused| cardinality (8)| registers |
//	+------+----------+---------+----------------+-----------+
//
// 16 header bytes: the magic "HYLL", the encoding (0 dense, 1 sparse),
// three zero bytes and the cached cardinality, little endian, whose most
// significant bit (bit 7 of byte 15) set means "stale, recompute".
//
// There are 16384 registers of 6 bits. The dense encoding packs them
// LSB first (12288 bytes). The sparse encoding run-length codes them with
// three opcodes:
//
//	ZERO  00xxxxxx           xxxxxx+1 (1..64) zero registers
//	XZERO 01xxxxxx yyyyyyyy  14-bit length+1 (1..16384) zero registers
//	VAL   1vvvvvxx           xx+1 (1..4) registers of value vvvvv+1 (1..32)
//
// A sparse value becomes dense when a register needs a value above 32 or
// it would grow past hll-sparse-max-bytes (header included). Elements are hashed with
// MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register, the
// run of zeros above them (plus one) is the candidate register value. The
// estimate is Otmar Ertl's improved estimator, computed in the same order
// of floating point operations as Redis so counts match exactly.

const (
	hllP         = 14
	hllQ         = 64 - hllP
	hllRegisters = 1 << hllP
	hllPMask     = hllRegisters - 1
	hllBits      = 6
	hllRegMax    = 1<<hllBits - 1
	hllHdrSize   = 16
	// HLLDenseSize is the length of a dense HyperLogLog string.
	HLLDenseSize = hllHdrSize + (hllRegisters*hllBits+7)/8

	hllDense  = 0
	hllSparse = 1

	hllValMaxValue = 32
	hllValMaxLen   = 4
	hllZeroMaxLen  = 64
	hllXZeroMaxLen = 16384

	hllAlphaInf = 0.721347520444481703680 // 1/(2 ln 2)
)

// NewHLL returns an empty HyperLogLog: sparse, all registers zero, cached
// cardinality 0.
func NewHLL() []byte {
	b := make([]byte, hllHdrSize, hllHdrSize+8)
	copy(b, "HYLL")
	b[4] = hllSparse
	// 16384 zero registers: one XZERO opcode.
	return append(b, 0x40|byte((hllXZeroMaxLen-1)>>8), byte((hllXZeroMaxLen-1)&0xff))
}

// IsHLL reports whether b passes Redis's HyperLogLog check: long enough,
// the magic, a known encoding, and the exact length when dense.
func IsHLL(b []byte) bool {
	if len(b) < hllHdrSize || string(b[:4]) != "HYLL" || b[4] > hllSparse {
		return false
	}
	return b[4] != hllDense || len(b) == HLLDenseSize
}

// HLLIsSparse reports whether a valid HyperLogLog uses the sparse encoding.
func HLLIsSparse(b []byte) bool { return b[4] == hllSparse }

// HLLInvalidateCache marks the cached cardinality stale.
func HLLInvalidateCache(b []byte) { b[15] |= 0x80 }

// HLLCachedCard returns the cached cardinality if it is valid.
func HLLCachedCard(b []byte) (uint64, bool) {
	if b[15]&0x80 != 0 {
		return 0, false
	}
	var c uint64
	for i := 7; i >= 0; i-- {
		c = c<<8 | uint64(b[8+i])
	}
	return c, true
}

// HLLSetCachedCard stores a cardinality in the header cache.
func HLLSetCachedCard(b []byte, c uint64) {
	for i := 0; i < 8; i++ {
		b[8+i] = byte(c >> (8 * i))
	}
}

// MurmurHash64A is Austin Appleby's 64-bit MurmurHash2, reading words
// little endian as Redis does on every platform.
func MurmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := uint64(seed) ^ (uint64(len(key)) * m)
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := uint64(key[i]) | uint64(key[i+1])<<8 | uint64(key[i+2])<<16 | uint64(key[i+3])<<24 |
			uint64(key[i+4])<<32 | uint64(key[i+5])<<40 | uint64(key[i+6])<<48 | uint64(key[i+7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	switch len(tail) {
	case 7:
		h ^= uint64(tail[6]) << 48
		fallthrough
	case 6:
		h ^= uint64(tail[5]) << 40
		fallthrough
	case 5:
		h ^= uint64(tail[4]) << 32
		fallthrough
	case 4:
		h ^= uint64(tail[3]) << 24
		fallthrough
	case 3:
		h ^= uint64(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint64(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint64(tail[0])
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register an element maps to and the length of its
// 000..1 pattern.
func hllPatLen(ele []byte) (int, uint8) {
	hash := MurmurHash64A(ele, 0xadc83b19)
	index := int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ // the loop ends, count <= Q+1
	count := uint8(1)
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// Dense registers, packed 6 bits each, LSB first.

func denseGet(regs []byte, i int) uint8 {
	byt := i * hllBits / 8
	fb := uint(i*hllBits) & 7
	b0 := uint(regs[byt])
	var b1 uint
	if byt+1 < len(regs) {
		b1 = uint(regs[byt+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegMax)
}

func denseSet(regs []byte, i int, v uint8) {
	byt := i * hllBits / 8
	fb := uint(i*hllBits) & 7
	val := uint(v)
	regs[byt] &^= byte(hllRegMax << fb)
	regs[byt] |= byte(val << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(hllRegMax >> (8 - fb))
		regs[byt+1] |= byte(val >> (8 - fb))
	}
}

// denseSetIfGreater raises register i to count; it reports a change.
func denseSetIfGreater(regs []byte, i int, count uint8) bool {
	if count > denseGet(regs, i) {
		denseSet(regs, i, count)
		return true
	}
	return false
}

// Sparse opcodes.

func spIsZero(c byte) bool  { return c&0xc0 == 0 }
func spIsXZero(c byte) bool { return c&0xc0 == 0x40 }
func spIsVal(c byte) bool   { return c&0x80 != 0 }
func spZeroLen(c byte) int  { return int(c&0x3f) + 1 }
func spXZeroLen(c, d byte) int {
	return (int(c&0x3f)<<8 | int(d)) + 1
}
func spValValue(c byte) uint8 { return (c>>2)&0x1f + 1 }
func spValLen(c byte) int     { return int(c&0x3) + 1 }
func spVal(v uint8, n int) byte {
	return byte(int(v-1)<<2|(n-1)) | 0x80
}
func spZero(n int) byte { return byte(n - 1) }
func spXZero(n int) (byte, byte) {
	n--
	return byte(n>>8) | 0x40, byte(n & 0xff)
}

// HLLSparseToDense converts a sparse value to dense (returning dense ones
// unchanged). ok is false when the sparse data is corrupt.
func HLLSparseToDense(b []byte) ([]byte, bool) {
	if b[4] == hllDense {
		return b, true
	}
	d := make([]byte, HLLDenseSize)
	copy(d, b[:hllHdrSize])
	d[4] = hllDense
	regs := d[hllHdrSize:]
	idx := 0
	for p := hllHdrSize; p < len(b); {
		c := b[p]
		switch {
		case spIsZero(c):
			idx += spZeroLen(c)
			p++
		case spIsXZero(c):
			if p+1 >= len(b) {
				return b, false
			}
			idx += spXZeroLen(c, b[p+1])
			p += 2
		default:
			n, v := spValLen(c), spValValue(c)
			if idx+n > hllRegisters {
				return b, false
			}
			for ; n > 0; n-- {
				denseSet(regs, idx, v)
				idx++
			}
			p++
		}
	}
	if idx != hllRegisters {
		return b, false
	}
	return d, true
}

// hllSet raises register index to count in either encoding. It returns
// the (possibly reallocated) value and 1 if it changed, 0 if not, -1 if
// the value is corrupt.
func hllSet(b []byte, index int, count uint8, sparseMax int) ([]byte, int) {
	if b[4] == hllDense {
		if denseSetIfGreater(b[hllHdrSize:], index, count) {
			return b, 1
		}
		return b, 0
	}
	return sparseSet(b, index, count, sparseMax)
}

// sparseSet is Redis's hllSparseSet: it edits the run-length opcodes in
// place (splitting a run into at most three opcodes), merges adjacent
// equal VAL opcodes, and promotes to dense when needed.
func sparseSet(b []byte, index int, count uint8, sparseMax int) ([]byte, int) {
	if count > hllValMaxValue {
		return promote(b, index, count)
	}
	// Step 1: find the opcode covering the register.
	end := len(b)
	p, prev := hllHdrSize, -1
	first, span := 0, 0
	for p < end {
		oplen := 1
		c := b[p]
		switch {
		case spIsZero(c):
			span = spZeroLen(c)
		case spIsVal(c):
			span = spValLen(c)
		default:
			if p+1 >= end {
				return b, -1
			}
			span = spXZeroLen(c, b[p+1])
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return b, -1
	}
	c := b[p]
	isZero, isXZero, isVal := spIsZero(c), spIsXZero(c), spIsVal(c)
	var runlen int
	switch {
	case isZero:
		runlen = spZeroLen(c)
	case isXZero:
		runlen = spXZeroLen(c, b[p+1])
	default:
		runlen = spValLen(c)
	}

	// Step 2: the trivial cases, updated in place.
	updated := false
	if isVal {
		if spValValue(c) >= count {
			return b, 0
		}
		if runlen == 1 {
			b[p] = spVal(count, 1)
			updated = true
		}
	}
	if !updated && isZero && runlen == 1 {
		b[p] = spVal(count, 1)
		updated = true
	}
	if !updated {
		// The general case: split the opcode into up to three.
		var seq [5]byte
		n := 0
		last := first + span - 1
		if isZero || isXZero {
			if index != first {
				n = putZeros(seq[:], n, index-first)
			}
			seq[n] = spVal(count, 1)
			n++
			if index != last {
				n = putZeros(seq[:], n, last-index)
			}
		} else {
			cur := spValValue(c)
			if index != first {
				seq[n] = spVal(cur, index-first)
				n++
			}
			seq[n] = spVal(count, 1)
			n++
			if index != last {
				seq[n] = spVal(cur, last-index)
				n++
			}
		}
		oldlen := 1
		if isXZero {
			oldlen = 2
		}
		delta := n - oldlen
		if delta > 0 && len(b)+delta > sparseMax {
			return promote(b, index, count)
		}
		b = splice(b, p, oldlen, seq[:n])
		end = len(b)
	}

	// Step 3: merge adjacent VAL opcodes with the same value, scanning up
	// to five opcodes from the one before the change.
	p = hllHdrSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < end && scan > 0; scan-- {
		c := b[p]
		if spIsXZero(c) {
			p += 2
			continue
		}
		if spIsZero(c) {
			p++
			continue
		}
		if p+1 < end && spIsVal(b[p+1]) {
			v1, v2 := spValValue(c), spValValue(b[p+1])
			if v1 == v2 {
				if l := spValLen(c) + spValLen(b[p+1]); l <= hllValMaxLen {
					b[p+1] = spVal(v1, l)
					copy(b[p:], b[p+1:])
					b = b[:end-1]
					end--
					continue
				}
			}
		}
		p++
	}
	HLLInvalidateCache(b)
	return b, 1
}

func putZeros(seq []byte, n, l int) int {
	if l > hllZeroMaxLen {
		seq[n], seq[n+1] = spXZero(l)
		return n + 2
	}
	seq[n] = spZero(l)
	return n + 1
}

// splice replaces b[p:p+oldlen] with seq.
func splice(b []byte, p, oldlen int, seq []byte) []byte {
	delta := len(seq) - oldlen
	if delta > 0 {
		if cap(b)-len(b) < delta {
			nb := make([]byte, len(b), len(b)+len(b)/2+16)
			copy(nb, b)
			b = nb
		}
		b = b[:len(b)+delta]
		copy(b[p+len(seq):], b[p+oldlen:len(b)-delta])
	} else if delta < 0 {
		copy(b[p+len(seq):], b[p+oldlen:])
		b = b[:len(b)+delta]
	}
	copy(b[p:], seq)
	return b
}

func promote(b []byte, index int, count uint8) ([]byte, int) {
	d, ok := HLLSparseToDense(b)
	if !ok {
		return b, -1
	}
	denseSetIfGreater(d[hllHdrSize:], index, count)
	return d, 1
}

// HLLAdd adds an element. It returns the (possibly reallocated) value and
// 1 if a register changed, 0 if not, -1 if the value is corrupt. It does
// not touch the cardinality cache unless the sparse encoding was edited;
// callers invalidate it when anything changed.
func HLLAdd(b []byte, ele []byte, lim *Limits) ([]byte, int) {
	index, count := hllPatLen(ele)
	return hllSet(b, index, count, lim.Get(HLLSparseMaxBytes))
}

// HLLSetRegister raises register i to v (PFMERGE's write-back).
func HLLSetRegister(b []byte, i int, v uint8, lim *Limits) []byte {
	b, _ = hllSet(b, i, v, lim.Get(HLLSparseMaxBytes))
	return b
}

// HLLMerge raises max[i] to each register of b (max has 16384 entries).
// It reports false when b is corrupt.
func HLLMerge(max []uint8, b []byte) bool {
	if b[4] == hllDense {
		regs := b[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			if v := denseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	i := 0
	for p := hllHdrSize; p < len(b); {
		c := b[p]
		switch {
		case spIsZero(c):
			i += spZeroLen(c)
			p++
		case spIsXZero(c):
			if p+1 >= len(b) {
				return false
			}
			i += spXZeroLen(c, b[p+1])
			p += 2
		default:
			n, v := spValLen(c), spValValue(c)
			if n+i > hllRegisters {
				return false
			}
			for ; n > 0; n-- {
				if v > max[i] {
					max[i] = v
				}
				i++
			}
			p++
		}
	}
	return i == hllRegisters
}

// HLLRegisters returns a new array for HLLMerge.
func HLLRegisters() []uint8 { return make([]uint8, hllRegisters) }

// HLLCount estimates the cardinality of a valid HyperLogLog (ignoring the
// cache). ok is false when sparse data is corrupt.
func HLLCount(b []byte) (uint64, bool) {
	var histo [64]int
	if b[4] == hllDense {
		regs := b[hllHdrSize:]
		for j := 0; j+3 <= len(regs); j += 3 {
			x := uint32(regs[j]) | uint32(regs[j+1])<<8 | uint32(regs[j+2])<<16
			histo[x&63]++
			histo[x>>6&63]++
			histo[x>>12&63]++
			histo[x>>18&63]++
		}
		return estimate(&histo), true
	}
	idx := 0
	for p := hllHdrSize; p < len(b); {
		c := b[p]
		switch {
		case spIsZero(c):
			n := spZeroLen(c)
			idx += n
			histo[0] += n
			p++
		case spIsXZero(c):
			if p+1 >= len(b) {
				return 0, false
			}
			n := spXZeroLen(c, b[p+1])
			idx += n
			histo[0] += n
			p += 2
		default:
			n := spValLen(c)
			idx += n
			histo[spValValue(c)] += n
			p++
		}
	}
	if idx != hllRegisters {
		return 0, false
	}
	return estimate(&histo), true
}

// HLLCountRegisters estimates the cardinality of raw registers (one byte
// each, as HLLMerge fills them).
func HLLCountRegisters(regs []uint8) uint64 {
	var histo [64]int
	for _, r := range regs {
		histo[r&63]++
	}
	return estimate(&histo)
}

// estimate is Ertl's estimator over the register histogram. Explicit
// float64 conversions keep the compiler from fusing multiply-adds, so the
// result rounds exactly as Redis's.
func estimate(histo *[64]int) uint64 {
	m := float64(hllRegisters)
	z := m * hllTau(float64(m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * hllSigma(float64(histo[0])/m))
	return uint64(math.Round(float64(float64(hllAlphaInf*m)*m) / z))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x *= x
		zp := z
		z += float64(x * y)
		y += y
		if zp == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if zp == z {
			return z / 3
		}
	}
}

// HLLDecode renders a sparse value as PFDEBUG DECODE does ("Z:16384",
// "z:3", "v:2,1" separated by spaces).
func HLLDecode(b []byte) string {
	out := make([]byte, 0, 64)
	for p := hllHdrSize; p < len(b); {
		c := b[p]
		if len(out) > 0 {
			out = append(out, ' ')
		}
		switch {
		case spIsZero(c):
			out = append(out, "z:"...)
			out = appendInt(out, spZeroLen(c))
			p++
		case spIsXZero(c):
			n := 0
			if p+1 < len(b) {
				n = spXZeroLen(c, b[p+1])
			}
			out = append(out, "Z:"...)
			out = appendInt(out, n)
			p += 2
		default:
			out = append(out, "v:"...)
			out = appendInt(out, int(spValValue(c)))
			out = append(out, ',')
			out = appendInt(out, spValLen(c))
			p++
		}
	}
	return string(out)
}

// HLLGetRegisters returns all 16384 register values of a dense value.
func HLLGetRegisters(b []byte) []uint8 {
	out := make([]uint8, hllRegisters)
	for i := range out {
		out[i] = denseGet(b[hllHdrSize:], i)
	}
	return out
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
