package commands

import (
	"encoding/binary"
	"math"
	"math/bits"

	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
// BITFIELD_RO, as Redis 7.0's bitops.c. Bits are numbered from the most
// significant bit of the first byte.

func init() {
	Register("setbit", cmdSetbit)
	Register("getbit", cmdGetbit)
	Register("bitcount", cmdBitcount)
	Register("bitpos", cmdBitpos)
	Register("bitop", cmdBitop)
	Register("bitfield", func(c *Ctx) { bitfieldGeneric(c, false) })
	Register("bitfield_ro", func(c *Ctx) { bitfieldGeneric(c, true) })
}

// bitOffsetArg parses a bit offset as Redis's getBitOffsetFromArgument:
// with hash set, "#N" means N*bits. Offsets must address a byte below
// proto-max-bulk-len.
func bitOffsetArg(c *Ctx, arg []byte, hash bool, nbits int) (int64, bool) {
	useHash := hash && nbits > 0 && len(arg) > 0 && arg[0] == '#'
	if useHash {
		arg = arg[1:]
	}
	v, ok := ParseInt(arg)
	if ok && useHash {
		v *= int64(nbits) // wraps like Redis; a negative result is rejected below
	}
	if !ok || v < 0 || v>>3 >= c.KS.MaxBulkLen.Load() {
		c.W.Error(ErrBitOffset)
		return 0, false
	}
	return v, true
}

// stringForBits returns the string at key grown with zero bytes to hold
// bit maxbit, creating it if missing (lookupStringForBitCommand). The
// string is marked raw: it is about to be modified in place.
func stringForBits(c *Ctx, maxbit int64) (o *keyspace.Object, grew, ok bool) {
	key := c.Args[1]
	o, ok = strWrite(c, key)
	if !ok {
		return nil, false, false
	}
	n := int(maxbit>>3) + 1
	if o == nil {
		o = keyspace.NewString(make([]byte, n))
		c.DB.Set(key, o, false)
		grew = true
	} else if len(o.Bytes()) < n {
		c.DB.SetBytes(key, o, strGrowZero(o.Bytes(), n))
		grew = true
	}
	o.Flags |= keyspace.StrRaw
	return o, grew, true
}

func cmdSetbit(c *Ctx) {
	off, ok := bitOffsetArg(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	on, ok := ParseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.W.Error(ErrBitValue)
		return
	}
	o, grew, ok := stringForBits(c, off)
	if !ok {
		return
	}
	b := o.Bytes()
	i, shift := off>>3, 7-uint(off&7)
	old := b[i] >> shift & 1
	// A write only when the key was made or grew, or the bit changes, as
	// Redis: a SETBIT that changes nothing is not counted, notified or
	// propagated.
	if grew || int64(old) != on {
		b[i] = b[i]&^(1<<shift) | byte(on)<<shift
		c.Dirty++
		c.Notify(notify.String, "setbit", c.Args[1])
	}
	c.W.Int(int64(old))
}

func cmdGetbit(c *Ctx) {
	off, ok := bitOffsetArg(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	o, ok := strRead(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	b := o.Bytes()
	if i := off >> 3; i < int64(len(b)) {
		c.W.Int(int64(b[i] >> (7 - uint(off&7)) & 1))
		return
	}
	c.W.Int(0)
}

// bitPopcount counts the set bits of b.
func bitPopcount(b []byte) int64 {
	n := 0
	for len(b) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

// bitRange turns start/end arguments (bytes, or bits when isBit) into an
// inclusive range of bit positions within a string of n bytes, as Redis
// converts negative indexes and clamps. ok is false for an empty range.
func bitRange(start, end int64, isBit bool, n int64) (lo, hi int64, ok bool) {
	total := n
	if isBit {
		total = n << 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0, 0, false
	}
	if isBit {
		return start, end, true
	}
	return start << 3, end<<3 + 7, true
}

// bitUnitArg parses BYTE|BIT.
func bitUnitArg(c *Ctx, arg []byte) (isBit, ok bool) {
	arg = cstr(arg)
	switch {
	case EqualFold(arg, "bit"):
		return true, true
	case EqualFold(arg, "byte"):
		return false, true
	}
	c.W.Error(ErrSyntax)
	return false, false
}

func cmdBitcount(c *Ctx) {
	o, ok := strRead(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	b := o.Bytes()
	n := int64(len(b))
	lo, hi := int64(0), n<<3-1
	switch len(c.Args) {
	case 2:
		if n == 0 {
			c.W.Int(0)
			return
		}
	case 4, 5:
		start, ok := c.IntArg(2)
		if !ok {
			return
		}
		end, ok := c.IntArg(3)
		if !ok {
			return
		}
		if start < 0 && end < 0 && start > end {
			c.W.Int(0) // before the unit is even looked at, as Redis
			return
		}
		isBit := false
		if len(c.Args) == 5 {
			if isBit, ok = bitUnitArg(c, c.Args[4]); !ok {
				return
			}
		}
		if lo, hi, ok = bitRange(start, end, isBit, n); !ok {
			c.W.Int(0)
			return
		}
	default:
		c.W.Error(ErrSyntax)
		return
	}
	c.W.Int(bitCountRange(b, lo, hi))
}

// bitCountRange counts the set bits at positions lo..hi of b.
func bitCountRange(b []byte, lo, hi int64) int64 {
	first, last := lo>>3, hi>>3
	count := bitPopcount(b[first : last+1])
	count -= int64(bits.OnesCount8(b[first] >> (8 - uint(lo&7)))) // bits before lo
	count -= int64(bits.OnesCount8(b[last] << (1 + uint(hi&7))))  // bits after hi
	return count
}

func cmdBitpos(c *Ctx) {
	bit, ok := c.IntArg(2)
	if !ok {
		return
	}
	if bit != 0 && bit != 1 {
		c.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	o := c.DB.Lookup(c.Args[1])
	if o == nil {
		c.W.Int(-bit) // an endless run of zeros
		return
	}
	if o.Type() != keyspace.TString {
		c.W.Error(ErrWrongType)
		return
	}
	b := o.Bytes()
	n := int64(len(b))
	lo, hi := int64(0), n<<3-1
	endGiven := false
	switch len(c.Args) {
	case 3:
		if n == 0 {
			c.W.Int(-1)
			return
		}
	case 4, 5, 6:
		start, ok := c.IntArg(3)
		if !ok {
			return
		}
		isBit := false
		if len(c.Args) == 6 {
			if isBit, ok = bitUnitArg(c, c.Args[5]); !ok {
				return
			}
		}
		end := n - 1
		if len(c.Args) >= 5 {
			if end, ok = c.IntArg(4); !ok {
				return
			}
			endGiven = true
		} else if isBit {
			end = n<<3 + 7
		}
		if lo, hi, ok = bitRange(start, end, isBit, n); !ok {
			c.W.Int(-1)
			return
		}
	default:
		c.W.Error(ErrSyntax)
		return
	}
	if pos := bitFind(b, lo, hi, byte(bit)); pos >= 0 {
		c.W.Int(pos)
		return
	}
	// Not found. Looking for a clear bit without an explicit end, the
	// string counts as padded with zeros on the right.
	if bit == 0 && !endGiven {
		c.W.Int(hi + 1)
		return
	}
	c.W.Int(-1)
}

// bitFind returns the first position in lo..hi whose bit is bit, or -1.
func bitFind(b []byte, lo, hi int64, bit byte) int64 {
	skip := byte(0) // a byte with no match
	if bit == 0 {
		skip = 0xff
	}
	for pos := lo; pos <= hi; {
		i := pos >> 3
		if pos&7 == 0 && pos+7 <= hi {
			// Whole bytes: skip words, then bytes, holding no match.
			if bit == 0 {
				for i+8 <= hi>>3 && binary.LittleEndian.Uint64(b[i:]) == ^uint64(0) {
					i += 8
				}
			} else {
				for i+8 <= hi>>3 && binary.LittleEndian.Uint64(b[i:]) == 0 {
					i += 8
				}
			}
			for i<<3+7 <= hi && b[i] == skip {
				i++
			}
			pos = i << 3
			if pos > hi {
				break
			}
		}
		if b[pos>>3]>>(7-uint(pos&7))&1 == bit {
			return pos
		}
		pos++
	}
	return -1
}

func cmdBitop(c *Ctx) {
	op := cstr(c.Args[1])
	var kind byte
	switch {
	case EqualFold(op, "and"):
		kind = '&'
	case EqualFold(op, "or"):
		kind = '|'
	case EqualFold(op, "xor"):
		kind = '^'
	case EqualFold(op, "not"):
		kind = '~'
	default:
		c.W.Error(ErrSyntax)
		return
	}
	if kind == '~' && len(c.Args) != 4 {
		c.Error("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcKeys := c.Args[3:]
	srcs := make([][]byte, len(srcKeys))
	maxLen := 0
	for j, k := range srcKeys {
		o, ok := strRead(c, k)
		if !ok {
			return
		}
		if o != nil {
			srcs[j] = o.Bytes()
			maxLen = max(maxLen, len(srcs[j]))
		}
	}
	dest := c.Args[2]
	if maxLen == 0 {
		if c.DB.Delete(dest) {
			c.Dirty++
			c.Notify(notify.Generic, "del", dest)
		}
		c.W.Int(0)
		return
	}
	res := make([]byte, maxLen)
	copy(res, srcs[0])
	switch kind {
	case '~':
		for i := range res {
			res[i] = ^res[i]
		}
	case '&':
		for _, s := range srcs[1:] {
			for i := range s {
				res[i] &= s[i]
			}
			clear(res[len(s):])
		}
	case '|':
		for _, s := range srcs[1:] {
			for i := range s {
				res[i] |= s[i]
			}
		}
	case '^':
		for _, s := range srcs[1:] {
			for i := range s {
				res[i] ^= s[i]
			}
		}
	}
	o := keyspace.NewString(res)
	o.Flags |= keyspace.StrRaw
	c.DB.Set(dest, o, false)
	c.Dirty++
	c.Notify(notify.String, "set", dest)
	c.W.Int(int64(maxLen))
}

// BITFIELD

const (
	bfWrap = iota
	bfSat
	bfFail
)

type bitfieldOp struct {
	offset int64
	value  int64
	op     byte // 'g' get, 's' set, 'i' incrby
	ow     byte // overflow behaviour
	bits   int
	signed bool
}

const errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

// bitfieldType parses i1..i64 or u1..u63.
func bitfieldType(c *Ctx, arg []byte) (signed bool, nbits int, ok bool) {
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		c.W.Error(errBitfieldType)
		return false, 0, false
	}
	signed = arg[0] == 'i'
	n, ok := ParseInt(cstr(arg[1:]))
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		c.W.Error(errBitfieldType)
		return false, 0, false
	}
	return signed, int(n), true
}

func bitfieldGeneric(c *Ctx, readOnly bool) {
	args := c.Args
	var opsBuf [4]bitfieldOp
	ops := opsBuf[:0]
	ow := byte(bfWrap)
	writes := false
	var highest int64
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		var op byte
		switch sub := cstr(args[j]); {
		case EqualFold(sub, "get") && rem >= 2:
			op = 'g'
		case EqualFold(sub, "set") && rem >= 3:
			op = 's'
		case EqualFold(sub, "incrby") && rem >= 3:
			op = 'i'
		case EqualFold(sub, "overflow") && rem >= 1:
			j++
			switch t := cstr(args[j]); {
			case EqualFold(t, "wrap"):
				ow = bfWrap
			case EqualFold(t, "sat"):
				ow = bfSat
			case EqualFold(t, "fail"):
				ow = bfFail
			default:
				c.Error("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			c.W.Error(ErrSyntax)
			return
		}
		signed, nbits, ok := bitfieldType(c, args[j+1])
		if !ok {
			return
		}
		off, ok := bitOffsetArg(c, args[j+2], true, nbits)
		if !ok {
			return
		}
		var v int64
		if op != 'g' {
			writes = true
			highest = max(highest, off+int64(nbits)-1)
			if v, ok = c.IntArg(j + 3); !ok {
				return
			}
			j++
		}
		ops = append(ops, bitfieldOp{offset: off, value: v, op: op, ow: ow, bits: nbits, signed: signed})
		j += 2
	}

	var o *keyspace.Object
	grew := false // the key was made or lengthened (stringForBits)
	if !writes {
		var ok bool
		if o, ok = strRead(c, args[1]); !ok {
			return
		}
	} else {
		if readOnly {
			c.Error("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		var ok bool
		if o, grew, ok = stringForBits(c, highest); !ok {
			return
		}
	}

	c.W.Array(len(ops))
	changes := 0
	for _, op := range ops {
		var b []byte
		if o != nil {
			b = o.Bytes()
		}
		if op.op == 'g' {
			u := bfGet(b, op.offset, op.bits)
			if op.signed {
				c.W.Int(bfSignExtend(u, op.bits))
			} else {
				c.W.Int(int64(u))
			}
			continue
		}
		var newVal, ret uint64
		var overflow bool
		old := bfGet(b, op.offset, op.bits)
		if op.signed {
			oldv := bfSignExtend(old, op.bits)
			var nv int64
			if op.op == 'i' {
				wrapped, of := bfSignedOverflow(oldv, op.value, op.bits, op.ow)
				nv, overflow = oldv+op.value, of
				if of {
					nv = wrapped
				}
				ret = uint64(nv)
			} else {
				nv = op.value
				if wrapped, of := bfSignedOverflow(nv, 0, op.bits, op.ow); of {
					nv, overflow = wrapped, true
				}
				ret = uint64(oldv)
			}
			newVal = uint64(nv)
		} else {
			if op.op == 'i' {
				newVal = old + uint64(op.value)
				if wrapped, of := bfUnsignedOverflow(old, op.value, op.bits, op.ow); of {
					newVal, overflow = wrapped, true
				}
				ret = newVal
			} else {
				newVal = uint64(op.value)
				if wrapped, of := bfUnsignedOverflow(newVal, 0, op.bits, op.ow); of {
					newVal, overflow = wrapped, true
				}
				ret = old
			}
		}
		if overflow && op.ow == bfFail {
			c.W.Null()
			continue
		}
		c.W.Int(int64(ret))
		bfSet(b, op.offset, op.bits, newVal)
		// Counted when the key was made or grew or the bits change, as
		// Redis (an INCRBY always changes them).
		if grew || bfGet(b, op.offset, op.bits) != old {
			changes++
		}
	}
	if changes > 0 {
		c.Dirty += changes
		c.Notify(notify.String, "setbit", c.Args[1])
	}
}

// bfGet reads nbits bits at offset, most significant first; bits
// past the end of b read as zero.
func bfGet(b []byte, offset int64, nbits int) uint64 {
	var v uint64
	for j := 0; j < nbits; j++ {
		i := offset >> 3
		var bit uint64
		if i < int64(len(b)) {
			bit = uint64(b[i]>>(7-uint(offset&7))) & 1
		}
		v = v<<1 | bit
		offset++
	}
	return v
}

// bfSet writes the low nbits bits of v at offset (b is long enough).
func bfSet(b []byte, offset int64, nbits int, v uint64) {
	for j := 0; j < nbits; j++ {
		bit := byte(v>>uint(nbits-1-j)) & 1
		i, shift := offset>>3, 7-uint(offset&7)
		b[i] = b[i]&^(1<<shift) | bit<<shift
		offset++
	}
}

func bfSignExtend(u uint64, nbits int) int64 {
	if nbits < 64 && u&(1<<uint(nbits-1)) != 0 {
		u |= ^uint64(0) << uint(nbits)
	}
	return int64(u)
}

// bfUnsignedOverflow is Redis's checkUnsignedBitfieldOverflow: whether
// value+incr leaves the nbits range, and the value to store instead for
// WRAP and SAT.
func bfUnsignedOverflow(value uint64, incr int64, nbits int, ow byte) (uint64, bool) {
	maxv := uint64(1)<<uint(nbits) - 1
	maxIncr := int64(maxv - value)
	minIncr := -int64(value)
	var limit uint64
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		limit = maxv
	case incr < 0 && incr < minIncr:
		limit = 0
	default:
		return 0, false
	}
	if ow == bfWrap {
		limit = (value + uint64(incr)) &^ (^uint64(0) << uint(nbits))
	}
	return limit, true
}

// bfSignedOverflow is Redis's checkSignedBitfieldOverflow.
func bfSignedOverflow(value, incr int64, nbits int, ow byte) (int64, bool) {
	maxv := int64(math.MaxInt64)
	if nbits != 64 {
		maxv = 1<<uint(nbits-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	var limit int64
	switch {
	case value > maxv || (nbits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		limit = maxv
	case value < minv || (nbits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		limit = minv
	default:
		return 0, false
	}
	if ow == bfWrap {
		c := uint64(value) + uint64(incr)
		if nbits < 64 {
			mask := ^uint64(0) << uint(nbits)
			if c&(1<<uint(nbits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		limit = int64(c)
	}
	return limit, true
}
