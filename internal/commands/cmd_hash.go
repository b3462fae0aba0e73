package commands

import (
	"math"
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// Hash commands: HSET HSETNX HGET HMSET HMGET HDEL HLEN HSTRLEN HEXISTS
// HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, as Redis
// 7.0's t_hash.c.
//
// datatype.Hash copies what it stores, so request arguments (which alias
// the read buffer) are never kept. A hash that becomes empty is deleted.
// Replies that Redis orders by the hash's encoding come out in the same
// order for a listpack hash (insertion order); a hashtable's order is its
// own, as in Redis.

// Error texts of the hash family.
const (
	errHashNotInt   = "ERR hash value is not an integer"
	errHashNotFloat = "ERR hash value is not a float"
	errIncrNaNInf   = "ERR value is NaN or Infinity"
	errIncrResult   = "ERR increment would produce NaN or Infinity"
	errCountRange   = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errValueRange   = "ERR value is out of range"
)

func init() {
	Register("hset", func(c *Ctx) { hashSet(c, false) })
	Register("hmset", func(c *Ctx) { hashSet(c, true) })
	Register("hsetnx", cmdHsetnx)
	Register("hget", cmdHget)
	Register("hmget", cmdHmget)
	Register("hdel", cmdHdel)
	Register("hlen", cmdHlen)
	Register("hstrlen", cmdHstrlen)
	Register("hexists", cmdHexists)
	Register("hkeys", func(c *Ctx) { hashGetAll(c, true, false) })
	Register("hvals", func(c *Ctx) { hashGetAll(c, false, true) })
	Register("hgetall", func(c *Ctx) { hashGetAll(c, true, true) })
	Register("hincrby", cmdHincrby)
	Register("hincrbyfloat", cmdHincrbyfloat)
	Register("hrandfield", cmdHrandfield)
	Register("hscan", cmdHscan)
}

// hashLookup returns the hash at key: nil, true when the key is missing;
// false after replying WRONGTYPE. write selects LookupWrite.
func hashLookup(c *Ctx, key []byte, write bool) (*datatype.Hash, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.LookupWrite(key)
	} else {
		o = c.DB.Lookup(key)
	}
	if o == nil {
		return nil, true
	}
	if o.Type() != keyspace.THash {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o.Hash(), true
}

// hashLookupCreate returns the hash at key, creating an empty one when
// the key is missing; false after replying WRONGTYPE.
func hashLookupCreate(c *Ctx, key []byte) (*datatype.Hash, bool) {
	h, ok := hashLookup(c, key, true)
	if ok && h == nil {
		h = datatype.NewHash(c.KS.Limits)
		c.DB.Set(key, keyspace.NewHash(h), false)
	}
	return h, ok
}

// HSET key field value [field value ...] / HMSET (replies OK)
func hashSet(c *Ctx, hmset bool) {
	if len(c.Args)%2 == 1 {
		c.WrongArgs()
		return
	}
	h, ok := hashLookupCreate(c, c.Args[1])
	if !ok {
		return
	}
	h.ConvertIfLong(c.Args[2:]...)
	if h.Len() == 0 {
		h.Reserve(c.Args[2:])
	}
	created := 0
	for i := 2; i < len(c.Args); i += 2 {
		if h.Set(c.Args[i], c.Args[i+1]) {
			created++
		}
	}
	c.Dirty += (len(c.Args) - 2) / 2
	c.Notify(notify.Hash, "hset", c.Args[1])
	if hmset {
		c.W.OK()
		return
	}
	c.W.Int(int64(created))
}

// HSETNX key field value
func cmdHsetnx(c *Ctx) {
	h, ok := hashLookupCreate(c, c.Args[1])
	if !ok {
		return
	}
	if h.Has(c.Args[2]) {
		c.W.Int(0)
		return
	}
	h.ConvertIfLong(c.Args[2], c.Args[3])
	h.Set(c.Args[2], c.Args[3])
	c.Dirty++
	c.Notify(notify.Hash, "hset", c.Args[1])
	c.W.Int(1)
}

func cmdHget(c *Ctx) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.W.Null()
		return
	}
	v, found := h.Get(c.Args[2])
	if !found {
		c.W.Null()
		return
	}
	c.W.Bulk(v)
}

func cmdHmget(c *Ctx) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	fields := c.Args[2:]
	c.W.Array(len(fields))
	for _, f := range fields {
		var v []byte
		found := false
		if h != nil {
			v, found = h.Get(f)
		}
		if found {
			c.W.Bulk(v)
		} else {
			c.W.Null()
		}
	}
}

func cmdHdel(c *Ctx) {
	key := c.Args[1]
	h, ok := hashLookup(c, key, true)
	if !ok {
		return
	}
	deleted, gone := 0, false
	if h != nil {
		for _, f := range c.Args[2:] {
			if h.Delete(f) {
				deleted++
				if h.Len() == 0 {
					c.DB.Delete(key)
					gone = true
					break
				}
			}
		}
	}
	c.Dirty += deleted
	if deleted > 0 {
		c.Notify(notify.Hash, "hdel", key)
		if gone {
			c.Notify(notify.Generic, "del", key)
		}
	}
	c.W.Int(int64(deleted))
}

func cmdHlen(c *Ctx) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	c.W.Int(int64(n))
}

func cmdHstrlen(c *Ctx) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		v, _ := h.Get(c.Args[2])
		n = len(v)
	}
	c.W.Int(int64(n))
}

func cmdHexists(c *Ctx) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if h != nil && h.Has(c.Args[2]) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

// HKEYS, HVALS, HGETALL (a map reply).
func hashGetAll(c *Ctx, keys, vals bool) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if keys && vals {
		c.W.Map(n)
	} else {
		c.W.Array(n)
	}
	if h == nil {
		return
	}
	h.ForEach(func(f, v []byte) bool {
		if keys {
			c.W.Bulk(f)
		}
		if vals {
			c.W.Bulk(v)
		}
		return true
	})
}

// HINCRBY key field increment
func cmdHincrby(c *Ctx) {
	incr, ok := c.IntArg(3)
	if !ok {
		return
	}
	h, ok := hashLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	var cur int64
	if h != nil {
		if v, found := h.Get(c.Args[2]); found {
			if cur, ok = ParseInt(v); !ok {
				c.Error(errHashNotInt)
				return
			}
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) ||
		(incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.Error(ErrOverflow)
		return
	}
	cur += incr
	if h == nil {
		h, _ = hashLookupCreate(c, c.Args[1])
	}
	var buf [20]byte
	h.Set(c.Args[2], strconv.AppendInt(buf[:0], cur, 10))
	c.Dirty++
	c.Notify(notify.Hash, "hincrby", c.Args[1])
	c.W.Int(cur)
}

// HINCRBYFLOAT key field increment, computed in long double as Redis
// (see ldouble in cmd_string.go).
func cmdHincrbyfloat(c *Ctx) {
	incr, ok := ldParse(c.Args[3])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	if incr.f != nil && incr.f.IsInf() {
		c.Error(errIncrNaNInf)
		return
	}
	h, ok := hashLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	var cur ldouble
	if h != nil {
		if v, found := h.Get(c.Args[2]); found {
			if cur, ok = ldParse(v); !ok {
				c.Error(errHashNotFloat)
				return
			}
		}
	}
	sum, ok := cur.add(incr)
	if !ok {
		c.Error(errIncrResult)
		return
	}
	if h == nil {
		h, _ = hashLookupCreate(c, c.Args[1])
	}
	b := sum.appendHuman(nil)
	h.Set(c.Args[2], b)
	c.Dirty++
	c.Notify(notify.Hash, "hincrbyfloat", c.Args[1])
	c.W.Bulk(b)
	// Propagated as HSET of the result, as Redis: a replica must not
	// redo the float arithmetic.
	c.Propagate([]byte("HSET"), c.Args[1], c.Args[2], b)
}

// HRANDFIELD key [count [WITHVALUES]]
func cmdHrandfield(c *Ctx) {
	if len(c.Args) >= 3 {
		l, ok := c.IntArg(2)
		if !ok {
			return
		}
		if l == math.MinInt64 {
			c.Error(errCountRange)
			return
		}
		withValues := false
		if len(c.Args) > 4 || (len(c.Args) == 4 && !EqualFold(c.Args[3], "withvalues")) {
			c.Error(ErrSyntax)
			return
		} else if len(c.Args) == 4 {
			withValues = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.Error(errValueRange)
				return
			}
		}
		hashRandCount(c, l, withValues)
		return
	}
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.W.Null()
		return
	}
	h.RandomPairs(1, func(f, _ []byte) { c.W.Bulk(f) })
}

// hashRandCount is HRANDFIELD with a count: distinct fields for a
// positive count (the whole hash when it has no more), fields with
// repetition for a negative one. RESP3 pairs come as 2-element arrays.
func hashRandCount(c *Ctx, l int64, withValues bool) {
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if h == nil || l == 0 {
		c.W.Array(0)
		return
	}
	emit := func(f, v []byte) {
		if withValues && c.W.Resp3() {
			c.W.Array(2)
		}
		c.W.Bulk(f)
		if withValues {
			c.W.Bulk(v)
		}
	}
	header := func(n int) {
		if withValues && !c.W.Resp3() {
			n *= 2
		}
		c.W.Array(n)
	}
	size := int64(h.Len())
	switch {
	case l < 0:
		header(int(-l))
		c.inChunks(int(-l), func(k int) { h.RandomPairs(k, emit) })
	case l >= size:
		header(int(size))
		h.ForEach(func(f, v []byte) bool { emit(f, v); return true })
	default:
		header(int(l))
		h.SamplePairs(int(l), emit)
	}
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
func cmdHscan(c *Ctx) {
	cursor, ok := scanCursor(c.Args[2])
	if !ok {
		c.Error(ErrInvalidCursor)
		return
	}
	h, ok := hashLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if h == nil {
		scanReplyEmpty(c)
		return
	}
	count, pat, ok := scanParseOptions(c, 3)
	if !ok {
		return
	}
	var out [][]byte
	next := h.Scan(cursor, count, func(f, v []byte) {
		if pat == nil || GlobMatch(pat, f, false) {
			out = append(out, f, v)
		}
	})
	scanReply(c, next, out)
}
