package commands

import (
	"bytes"
	"math"
	"math/big"
	"strconv"

	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET
// MSET MSETNX INCR DECR INCRBY DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE
// SUBSTR SETRANGE LCS, as Redis 7.0's t_string.c.
//
// Stored values are always private copies: request arguments alias the
// connection's read buffer. Handlers that change a value in place (APPEND,
// SETRANGE, INCR) write into the object's own bytes.

// strFloat marks a string written by INCRBYFLOAT: Redis stores it as a
// plain string object, never int-encoded, even when it reads "3".
const strFloat uint8 = 1 << 1

// embstrMax is the longest string Redis keeps as embstr.
const embstrMax = 44

func init() {
	Register("get", cmdGet)
	Register("set", cmdSet)
	Register("setnx", cmdSetnx)
	Register("setex", cmdSetex)
	Register("psetex", cmdPsetex)
	Register("getset", cmdGetset)
	Register("getdel", cmdGetdel)
	Register("getex", cmdGetex)
	Register("mget", cmdMget)
	Register("mset", cmdMset)
	Register("msetnx", cmdMsetnx)
	Register("incr", func(c *Ctx) { incrDecr(c, 1) })
	Register("decr", func(c *Ctx) { incrDecr(c, -1) })
	Register("incrby", cmdIncrby)
	Register("decrby", cmdDecrby)
	Register("incrbyfloat", cmdIncrbyfloat)
	Register("append", cmdAppend)
	Register("strlen", cmdStrlen)
	Register("getrange", cmdGetrange)
	Register("substr", cmdGetrange)
	Register("setrange", cmdSetrange)
	Register("lcs", cmdLcs)
}

// StringEncoding is what OBJECT ENCODING reports for a string, as Redis
// 7.0 would: "int" for a canonical int64 of up to 20 characters, "embstr"
// up to 44 bytes, "raw" for longer strings and strings modified in place.
func StringEncoding(o *keyspace.Object) string {
	if o.Flags&keyspace.StrRaw != 0 {
		return "raw"
	}
	b := o.Bytes()
	if o.Flags&strFloat == 0 && len(b) <= 20 {
		if _, ok := ParseInt(b); ok {
			return "int"
		}
	}
	if len(b) <= embstrMax {
		return "embstr"
	}
	return "raw"
}

// strCopy copies an argument for storing.
func strCopy(b []byte) []byte { return append([]byte(nil), b...) }

// cstr returns b up to its first NUL byte: Redis matches option names
// with strcasecmp on the C string, so "NX\x00junk" reads as NX.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// strRead looks key up for reading. It returns nil, true when the key
// is missing, and false after replying WRONGTYPE.
func strRead(c *Ctx, key []byte) (*keyspace.Object, bool) {
	o := c.DB.Lookup(key)
	if o != nil && o.Type() != keyspace.TString {
		c.W.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// strWrite is strRead for a key about to be modified.
func strWrite(c *Ctx, key []byte) (*keyspace.Object, bool) {
	o := c.DB.LookupWrite(key)
	if o != nil && o.Type() != keyspace.TString {
		c.W.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// strCheckLen replies the proto-max-bulk-len error when a string
// of size bytes would grow by add bytes beyond the limit.
func strCheckLen(c *Ctx, size, add int64) bool {
	total := int64(uint64(size) + uint64(add))
	if total > c.KS.MaxBulkLen.Load() || total < size || total < add {
		c.W.Error(ErrStringTooLong)
		return false
	}
	return true
}

func cmdGet(c *Ctx) {
	o := c.DB.Lookup(c.Args[1])
	if o == nil {
		c.W.Null()
		return
	}
	if o.Type() != keyspace.TString {
		c.W.Error(ErrWrongType)
		return
	}
	c.W.Bulk(o.Bytes())
}

// SET/GETEX option flags (parseExtendedStringArgumentsOrReply).
const (
	strOptNX = 1 << iota
	strOptXX
	strOptGet
	strOptKeepTTL
	strOptPersist
	strOptEX
	strOptPX
	strOptEXAT
	strOptPXAT

	strOptExpire = strOptEX | strOptPX | strOptEXAT | strOptPXAT
)

// strParseOpts parses the options of SET (isSet) or GETEX from
// argument from on, as Redis's parseExtendedStringArgumentsOrReply: it
// returns the flags and the expire argument, or replies a syntax error.
func strParseOpts(c *Ctx, from int, isSet bool) (flags int, expire []byte, ok bool) {
	args := c.Args
	for j := from; j < len(args); j++ {
		a := cstr(args[j])
		next := j+1 < len(args)
		var exp int // the expire option a names, if any
		switch {
		case isSet && EqualFold(a, "nx") && flags&strOptXX == 0:
			flags |= strOptNX
			continue
		case isSet && EqualFold(a, "xx") && flags&strOptNX == 0:
			flags |= strOptXX
			continue
		case isSet && EqualFold(a, "get"):
			flags |= strOptGet
			continue
		case isSet && EqualFold(a, "keepttl") && flags&(strOptPersist|strOptExpire) == 0:
			flags |= strOptKeepTTL
			continue
		case !isSet && EqualFold(a, "persist") && flags&(strOptKeepTTL|strOptExpire) == 0:
			flags |= strOptPersist
			continue
		case EqualFold(a, "ex"):
			exp = strOptEX
		case EqualFold(a, "px"):
			exp = strOptPX
		case EqualFold(a, "exat"):
			exp = strOptEXAT
		case EqualFold(a, "pxat"):
			exp = strOptPXAT
		}
		// An expire option may repeat but excludes the other kinds.
		if exp == 0 || !next || flags&(strOptKeepTTL|strOptPersist|(strOptExpire&^exp)) != 0 {
			c.W.Error(ErrSyntax)
			return 0, nil, false
		}
		flags |= exp
		expire = args[j+1]
		j++
	}
	return flags, expire, true
}

// strExpireMillis turns an expire argument into an absolute unix ms time, as
// Redis's getExpireMillisecondsOrReply, replying the error for cmd.
func strExpireMillis(c *Ctx, arg []byte, flags int) (int64, bool) {
	ms, ok := ParseInt(arg)
	if !ok {
		c.W.Error(ErrNotInt)
		return 0, false
	}
	seconds := flags&(strOptEX|strOptEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.W.Error(strExpireErr(c))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(strOptEX|strOptPX) != 0 {
		ms += c.Now // wraps on overflow, caught below as in Redis
	}
	if ms <= 0 {
		c.W.Error(strExpireErr(c))
		return 0, false
	}
	return ms, true
}

func strExpireErr(c *Ctx) string {
	return "ERR invalid expire time in '" + c.Cmd.Name + "' command"
}

func cmdSet(c *Ctx) {
	if len(c.Args) == 3 { // fast path: plain SET key value
		if !c.DB.OverwriteString(c.Args[1], c.Args[2]) {
			c.DB.Set(c.Args[1], keyspace.NewStringCopy(c.Args[2]), false)
		}
		c.Dirty++
		c.Notify(notify.String, "set", c.Args[1])
		c.W.OK()
		return
	}
	flags, expire, ok := strParseOpts(c, 3, true)
	if !ok {
		return
	}
	setGeneric(c, flags, c.Args[1], c.Args[2], expire, false)
}

// setGeneric is Redis's setGenericCommand. intReply selects SETNX's
// integer replies instead of OK / null.
func setGeneric(c *Ctx, flags int, key, val, expire []byte, intReply bool) {
	var at int64
	if expire != nil {
		var ok bool
		if at, ok = strExpireMillis(c, expire, flags); !ok {
			return
		}
	}
	if flags&strOptGet != 0 {
		o, ok := strRead(c, key)
		if !ok {
			return
		}
		if o == nil {
			c.W.Null()
		} else {
			c.W.Bulk(o.Bytes())
		}
	}
	if flags&(strOptNX|strOptXX) != 0 {
		found := c.DB.LookupWrite(key) != nil
		if (flags&strOptNX != 0 && found) || (flags&strOptXX != 0 && !found) {
			if flags&strOptGet == 0 {
				if intReply {
					c.W.Int(0)
				} else {
					c.W.Null()
				}
			}
			return
		}
	}
	o := keyspace.NewStringCopy(val)
	o.SetExpire(at)
	c.DB.Set(key, o, flags&strOptKeepTTL != 0)
	c.Dirty++
	c.Notify(notify.String, "set", key)
	if expire != nil {
		c.Notify(notify.Generic, "expire", key)
	}
	if expire != nil {
		// An expiry goes to the AOF and replicas as an absolute time in
		// ms, as Redis 7 writes it: replayed later, EX 10 would start
		// over.
		c.Propagate(setCmd, key, val, pxatOpt, strconv.AppendInt(nil, at, 10))
	} else if flags&strOptGet != 0 {
		// Propagated without its GET arguments, as Redis.
		args := make([][]byte, 0, len(c.Args))
		for j, a := range c.Args {
			if j < 3 || !EqualFold(a, "get") {
				args = append(args, a)
			}
		}
		c.Propagate(args...)
	}
	if flags&strOptGet == 0 {
		if intReply {
			c.W.Int(1)
		} else {
			c.W.OK()
		}
	}
}

func cmdSetnx(c *Ctx) { setGeneric(c, strOptNX, c.Args[1], c.Args[2], nil, true) }

func cmdSetex(c *Ctx) { setGeneric(c, strOptEX, c.Args[1], c.Args[3], c.Args[2], false) }

func cmdPsetex(c *Ctx) { setGeneric(c, strOptPX, c.Args[1], c.Args[3], c.Args[2], false) }

func cmdGetset(c *Ctx) {
	key := c.Args[1]
	o, ok := strRead(c, key)
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
	} else {
		c.W.Bulk(o.Bytes())
	}
	c.DB.Set(key, keyspace.NewStringCopy(c.Args[2]), false)
	c.Dirty++
	c.Notify(notify.String, "set", key)
	c.Propagate(setCmd, key, c.Args[2]) // as SET, as Redis
}

func cmdGetdel(c *Ctx) {
	key := c.Args[1]
	o, ok := strRead(c, key)
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	c.W.Bulk(o.Bytes())
	c.DB.Delete(key)
	c.Dirty++
	c.Propagate([]byte("DEL"), key) // as Redis (UNLINK with lazyfree-lazy-user-del: not honoured)
	c.Notify(notify.Generic, "del", key)
}

func cmdGetex(c *Ctx) {
	flags, expire, ok := strParseOpts(c, 2, false)
	if !ok {
		return
	}
	key := c.Args[1]
	o, ok := strRead(c, key)
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	var at int64
	if expire != nil {
		if at, ok = strExpireMillis(c, expire, flags); !ok {
			return
		}
	}
	c.W.Bulk(o.Bytes())
	// Propagated as what it did, with absolute times (Redis 7).
	switch {
	case flags&(strOptEXAT|strOptPXAT) != 0 && at <= c.Now && !c.KS.Replica.Load():
		// checkAlreadyExpired: a replica waits for the master's DEL.
		c.DB.Delete(key)
		c.Dirty++
		c.Notify(notify.Generic, "del", key)
		c.Propagate(delCmd, key)
	case expire != nil:
		c.DB.SetExpireAt(key, o, at)
		c.Dirty++
		c.Notify(notify.Generic, "expire", key)
		c.Propagate(pexpireatCmd, key, strconv.AppendInt(nil, at, 10))
	case flags&strOptPersist != 0 && o.Expire() != 0:
		c.DB.SetExpireAt(key, o, 0)
		c.Dirty++
		c.Notify(notify.Generic, "persist", key)
		c.Propagate(persistCmd, key)
	}
}

func cmdMget(c *Ctx) {
	keys := c.Args[1:]
	c.W.Array(len(keys))
	for _, k := range keys {
		o := c.DB.Lookup(k)
		if o == nil || o.Type() != keyspace.TString {
			c.W.Null()
		} else {
			c.W.Bulk(o.Bytes())
		}
	}
}

func cmdMset(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.WrongArgs()
		return
	}
	msetAll(c)
	c.W.OK()
}

func cmdMsetnx(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.WrongArgs()
		return
	}
	for j := 1; j < len(c.Args); j += 2 {
		if c.DB.LookupWrite(c.Args[j]) != nil {
			c.W.Int(0)
			return
		}
	}
	msetAll(c)
	c.W.Int(1)
}

func msetAll(c *Ctx) {
	for j := 1; j < len(c.Args); j += 2 {
		if !c.DB.OverwriteString(c.Args[j], c.Args[j+1]) {
			c.DB.Set(c.Args[j], keyspace.NewStringCopy(c.Args[j+1]), false)
		}
		c.Dirty++
		c.Notify(notify.String, "set", c.Args[j])
	}
}

func cmdIncrby(c *Ctx) {
	if n, ok := c.IntArg(2); ok {
		incrDecr(c, n)
	}
}

func cmdDecrby(c *Ctx) {
	n, ok := c.IntArg(2)
	if !ok {
		return
	}
	if n == math.MinInt64 {
		c.Error("ERR decrement would overflow")
		return
	}
	incrDecr(c, -n)
}

// incrDecr adds incr to the integer at key, keeping its TTL.
func incrDecr(c *Ctx, incr int64) {
	key := c.Args[1]
	o, ok := strWrite(c, key)
	if !ok {
		return
	}
	var v int64
	if o != nil {
		if v, ok = ParseInt(o.Bytes()); !ok {
			c.W.Error(ErrNotInt)
			return
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		c.W.Error(ErrOverflow)
		return
	}
	v += incr
	if o == nil {
		c.DB.Set(key, keyspace.NewString(strconv.AppendInt(make([]byte, 0, 8), v, 10)), false)
	} else {
		// In place: the value is the object's own copy.
		c.DB.SetBytes(key, o, strconv.AppendInt(o.Bytes()[:0], v, 10))
		o.Flags &^= keyspace.StrRaw | strFloat
	}
	c.Dirty++
	c.Notify(notify.String, "incrby", key)
	c.W.Int(v)
}

func cmdIncrbyfloat(c *Ctx) {
	key := c.Args[1]
	o, ok := strWrite(c, key)
	if !ok {
		return
	}
	var cur ldouble
	if o != nil {
		if cur, ok = ldParse(o.Bytes()); !ok {
			c.W.Error(ErrNotFloat)
			return
		}
	}
	incr, ok := ldParse(c.Args[2])
	if !ok {
		c.W.Error(ErrNotFloat)
		return
	}
	sum, ok := cur.add(incr)
	if !ok {
		c.Error("ERR increment would produce NaN or Infinity")
		return
	}
	b := sum.appendHuman(nil)
	if o == nil {
		o = keyspace.NewString(b)
		c.DB.Set(key, o, false)
	} else {
		c.DB.SetBytes(key, o, b)
	}
	o.Flags = o.Flags&^keyspace.StrRaw | strFloat
	c.Dirty++
	c.Notify(notify.String, "incrbyfloat", key)
	// Propagated as the value it produced, so that a replica or the AOF
	// does not redo float arithmetic (as Redis: SET key value KEEPTTL).
	c.Propagate(setCmd, key, b, keepttlOpt)
	c.W.Bulk(b)
}

func cmdAppend(c *Ctx) {
	key, arg := c.Args[1], c.Args[2]
	o, ok := strWrite(c, key)
	if !ok {
		return
	}
	if o == nil {
		c.DB.Set(key, keyspace.NewString(strCopy(arg)), false)
		c.Dirty++
		c.Notify(notify.String, "append", key)
		c.W.Int(int64(len(arg)))
		return
	}
	cur := o.Bytes()
	if !strCheckLen(c, int64(len(cur)), int64(len(arg))) {
		return
	}
	b := append(cur, arg...)
	c.DB.SetBytes(key, o, b)
	o.Flags |= keyspace.StrRaw
	c.Dirty++
	c.Notify(notify.String, "append", key)
	c.W.Int(int64(len(b)))
}

func cmdStrlen(c *Ctx) {
	o, ok := strRead(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(len(o.Bytes())))
}

func cmdGetrange(c *Ctx) {
	start, ok := c.IntArg(2)
	if !ok {
		return
	}
	end, ok := c.IntArg(3)
	if !ok {
		return
	}
	o, ok := strRead(c, c.Args[1])
	if !ok {
		return
	}
	if o == nil {
		c.W.Bulk(nil)
		return
	}
	s := o.Bytes()
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.Bulk(nil)
		return
	}
	c.W.Bulk(s[start : end+1])
}

func cmdSetrange(c *Ctx) {
	key, val := c.Args[1], c.Args[3]
	offset, ok := c.IntArg(2)
	if !ok {
		return
	}
	if offset < 0 {
		c.Error("ERR offset is out of range")
		return
	}
	o, ok := strWrite(c, key)
	if !ok {
		return
	}
	if o == nil {
		if len(val) == 0 {
			c.W.Int(0)
			return
		}
		if !strCheckLen(c, offset, int64(len(val))) {
			return
		}
		o = keyspace.NewString(nil)
		c.DB.Set(key, o, false)
	} else {
		if len(val) == 0 {
			c.W.Int(int64(len(o.Bytes())))
			return
		}
		if !strCheckLen(c, offset, int64(len(val))) {
			return
		}
	}
	b := strGrowZero(o.Bytes(), int(offset)+len(val))
	copy(b[offset:], val)
	c.DB.SetBytes(key, o, b)
	o.Flags |= keyspace.StrRaw
	c.Dirty++
	c.Notify(notify.String, "setrange", key)
	c.W.Int(int64(len(b)))
}

// strGrowZero extends b with zero bytes to at least n bytes.
func strGrowZero(b []byte, n int) []byte {
	if n <= len(b) {
		return b
	}
	if n <= cap(b) {
		old := len(b)
		b = b[:n]
		clear(b[old:])
		return b
	}
	nb := make([]byte, n, n+n/8)
	copy(nb, b)
	return nb
}

func cmdLcs(c *Ctx) {
	oa, ob := c.DB.Lookup(c.Args[1]), c.DB.Lookup(c.Args[2])
	if (oa != nil && oa.Type() != keyspace.TString) || (ob != nil && ob.Type() != keyspace.TString) {
		c.Error("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if oa != nil {
		a = oa.Bytes()
	}
	if ob != nil {
		b = ob.Bytes()
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		opt := cstr(c.Args[j])
		switch {
		case EqualFold(opt, "idx"):
			getIdx = true
		case EqualFold(opt, "len"):
			getLen = true
		case EqualFold(opt, "withmatchlen"):
			withMatchLen = true
		case EqualFold(opt, "minmatchlen") && j+1 < len(c.Args):
			v, ok := c.IntArg(j + 1)
			if !ok {
				return
			}
			minMatchLen = max(v, 0)
			j++
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if uint64(len(a)) >= 1<<32-2 || uint64(len(b)) >= 1<<32-2 {
		c.Error("ERR String too long for LCS")
		return
	}
	alen, blen := len(a), len(b)
	if uint64(alen+1)*uint64(blen+1)*4 > uint64(c.KS.MaxBulkLen.Load()) {
		c.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	// lcs[j+(blen+1)*i] is the LCS length of a[:i] and b[:j].
	w := blen + 1
	lcs := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		row, prev := lcs[i*w:(i+1)*w], lcs[(i-1)*w:i*w]
		ai := a[i-1]
		for j := 1; j <= blen; j++ {
			if ai == b[j-1] {
				row[j] = prev[j-1] + 1
			} else {
				row[j] = max(prev[j], row[j-1])
			}
		}
	}
	total := lcs[alen*w+blen]
	if getLen {
		c.W.Int(int64(total))
		return
	}
	// Walk back from the end, building the string and the match ranges
	// exactly as Redis does (ranges come out last first).
	result := make([]byte, total)
	idx := total
	type lcsRange struct{ a0, a1, b0, b1 int }
	var ranges []lcsRange
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if getIdx && (minMatchLen == 0 || int64(aEnd-aStart+1) >= minMatchLen) {
				ranges = append(ranges, lcsRange{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	if !getIdx {
		c.W.Bulk(result)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	c.W.Array(len(ranges))
	for _, r := range ranges {
		if withMatchLen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(int64(r.a0))
		c.W.Int(int64(r.a1))
		c.W.Array(2)
		c.W.Int(int64(r.b0))
		c.W.Int(int64(r.b1))
		if withMatchLen {
			c.W.Int(int64(r.a1 - r.a0 + 1))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(total))
}

// ---- long double emulation for INCRBYFLOAT ----
//
// Redis computes INCRBYFLOAT in C long double, which on x86-64 is the x87
// 80-bit extended format: a 64-bit mantissa and a 15-bit exponent. It
// parses with strtold, adds, and prints with "%.17Lf" before trimming
// trailing zeros. big.Float with 64 bits of precision rounds exactly as
// x87 does (to nearest, ties to even), so values and output match byte for
// byte; only the exponent range is checked by hand.

const (
	ldMaxExp    = 16384  // |x| < 2^16384 (big.Float exponent convention)
	ldMinNormal = -16381 // smallest exponent of a normal value
	ldSubShift  = 16445  // subnormals are multiples of 2^-16445
	ldMaxChars  = 5 * 1024
)

// ldouble is a finite long double value.
type ldouble struct{ f *big.Float }

// ldParse parses b as Redis's string2ld (strtold, then rejecting
// spaces, trailing garbage, NaN, overflow and underflow to zero). Infinity
// is accepted and returned as a nil ldouble with inf set; callers only add,
// which then fails as Redis's NaN/Infinity check does.
func ldParse(b []byte) (ldouble, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars {
		return ldouble{}, false
	}
	p := b
	neg := false
	if p[0] == '+' || p[0] == '-' {
		neg = p[0] == '-'
		p = p[1:]
	}
	if ldIsInf(p) {
		return ldouble{f: new(big.Float).SetInf(neg)}, true
	}
	var num, den *big.Int
	if len(p) > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') {
		var ok bool
		if num, den, ok = ldParseHex(p[2:]); !ok {
			return ldouble{}, false
		}
	} else {
		var ok bool
		if num, den, ok = ldParseDec(p); !ok {
			return ldouble{}, false
		}
	}
	f, ok := ldRound(num, den)
	if !ok {
		return ldouble{}, false
	}
	if neg {
		f.Neg(f)
	}
	return ldouble{f: f}, true
}

func ldIsInf(p []byte) bool {
	return EqualFold(p, "inf") || EqualFold(p, "infinity")
}

// ldParseDec reads digits[.digits][e[+-]digits] (the whole of p) as
// num/den. A huge den or num means the value is out of range; it returns
// nil, nil for zero.
func ldParseDec(p []byte) (num, den *big.Int, ok bool) {
	var digits []byte
	nd, exp10 := 0, 0
	seenDot, any := false, false
	i := 0
	for ; i < len(p); i++ {
		ch := p[i]
		if ch == '.' && !seenDot {
			seenDot = true
			continue
		}
		if ch < '0' || ch > '9' {
			break
		}
		any = true
		if ch == '0' && nd == 0 {
			if seenDot {
				exp10--
			}
			continue
		}
		digits = append(digits, ch)
		nd++
		if seenDot {
			exp10--
		}
	}
	if !any {
		return nil, nil, false
	}
	if i < len(p) {
		e, ok := ldParseExp(p[i:], 'e', 'E')
		if !ok {
			return nil, nil, false
		}
		exp10 += e
	}
	if nd == 0 {
		return nil, nil, true
	}
	// Decimal exponent of the leading digit decides range quickly:
	// long doubles span about 3.6e-4951 .. 1.19e4932.
	lead := exp10 + nd - 1
	if lead > 4940 || lead < -4960 {
		return nil, nil, false
	}
	num, _ = new(big.Int).SetString(string(digits), 10)
	den = big.NewInt(1)
	ten := big.NewInt(10)
	if exp10 > 0 {
		num.Mul(num, new(big.Int).Exp(ten, big.NewInt(int64(exp10)), nil))
	} else if exp10 < 0 {
		den.Exp(ten, big.NewInt(int64(-exp10)), nil)
	}
	return num, den, true
}

// ldParseHex reads hexdigits[.hexdigits][p[+-]digits] (after "0x").
func ldParseHex(p []byte) (num, den *big.Int, ok bool) {
	var digits []byte
	exp2 := 0
	seenDot, any := false, false
	i := 0
	for ; i < len(p); i++ {
		ch := p[i]
		if ch == '.' && !seenDot {
			seenDot = true
			continue
		}
		if !ldIsHex(ch) {
			break
		}
		any = true
		if ch == '0' && len(digits) == 0 {
			if seenDot {
				exp2 -= 4
			}
			continue
		}
		digits = append(digits, ch)
		if seenDot {
			exp2 -= 4
		}
	}
	if !any {
		return nil, nil, false
	}
	if i < len(p) {
		e, ok := ldParseExp(p[i:], 'p', 'P')
		if !ok {
			return nil, nil, false
		}
		exp2 += e
	}
	if len(digits) == 0 {
		return nil, nil, true
	}
	lead := exp2 + 4*len(digits)
	if lead > ldMaxExp+8 || lead < -ldSubShift-8 {
		return nil, nil, false
	}
	num, _ = new(big.Int).SetString(string(digits), 16)
	den = big.NewInt(1)
	if exp2 > 0 {
		num.Lsh(num, uint(exp2))
	} else {
		den.Lsh(den, uint(-exp2))
	}
	return num, den, true
}

func ldIsHex(ch byte) bool {
	return ('0' <= ch && ch <= '9') || ('a' <= ch && ch <= 'f') || ('A' <= ch && ch <= 'F')
}

// ldParseExp reads an exponent "e[+-]digits" that must end the input. The
// value saturates far outside any representable range.
func ldParseExp(p []byte, lo, up byte) (int, bool) {
	if len(p) < 2 || (p[0] != lo && p[0] != up) {
		return 0, false
	}
	p = p[1:]
	neg := false
	if p[0] == '+' || p[0] == '-' {
		neg = p[0] == '-'
		p = p[1:]
	}
	if len(p) == 0 {
		return 0, false
	}
	e := 0
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if e < 1e8 {
			e = e*10 + int(ch-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

// ldRound rounds num/den (nil num: zero) to the nearest long
// double. It fails on overflow and on a non-zero value rounding to zero.
func ldRound(num, den *big.Int) (*big.Float, bool) {
	f := new(big.Float).SetPrec(64)
	if num == nil {
		return f, true
	}
	a := new(big.Float).SetInt(num)
	b := new(big.Float).SetInt(den)
	f.Quo(a, b)
	if e := f.MantExp(nil); e > ldMaxExp {
		return nil, false
	} else if e < ldMinNormal {
		// Subnormal: round num*2^16445/den to an integer, ties to even.
		n := new(big.Int).Lsh(num, ldSubShift)
		q, r := n.QuoRem(n, den, new(big.Int))
		r.Lsh(r, 1)
		if cmp := r.Cmp(den); cmp > 0 || (cmp == 0 && q.Bit(0) == 1) {
			q.Add(q, big.NewInt(1))
		}
		if q.Sign() == 0 {
			return nil, false
		}
		f.SetInt(q)
		f.SetMantExp(f, -ldSubShift)
	}
	return f, true
}

// add returns x+y rounded to a long double, failing on infinity or NaN.
// Sums of values on the long double grid that land in the subnormal range
// are exact, so rounding to 64 bits is right everywhere.
func (x ldouble) add(y ldouble) (ldouble, bool) {
	if x.f == nil {
		x.f = new(big.Float)
	}
	if x.f.IsInf() || y.f.IsInf() {
		return ldouble{}, false
	}
	s := new(big.Float).SetPrec(64).Add(x.f, y.f)
	if s.MantExp(nil) > ldMaxExp {
		return ldouble{}, false
	}
	return ldouble{f: s}, true
}

// appendHuman formats x as Redis's ld2string in LD_STR_HUMAN mode:
// "%.17Lf" with trailing zeros (and a trailing dot) removed, "-0" as "0".
func (x ldouble) appendHuman(dst []byte) []byte {
	start := len(dst)
	dst = x.f.Append(dst, 'f', 17)
	end := len(dst)
	for end > start && dst[end-1] == '0' {
		end--
	}
	if end > start && dst[end-1] == '.' {
		end--
	}
	dst = dst[:end]
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}
