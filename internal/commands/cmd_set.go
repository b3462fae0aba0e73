package commands

import (
	"math"
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP
// SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
// SDIFFSTORE SSCAN, as Redis 7.0's t_set.c.
//
// datatype.Set copies what it stores. A set that becomes empty is
// deleted. Results are built as Redis builds them (a new set filled member
// by member), so their encoding and, for intsets, their order match.

// Error texts of the set family.
const (
	errSetNumkeys   = "ERR numkeys should be greater than 0"
	errSetNumArgs   = "ERR Number of keys can't be greater than number of args"
	errSetLimitNeg  = "ERR LIMIT can't be negative"
	errSetCountNeg  = "ERR value is out of range, must be positive"
	errSetCountSize = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)

// Set operations for setOp.
const (
	setUnion = iota
	setInter
	setDiff
)

// setStoreEvents are the keyspace events of the STORE forms, by operation.
var setStoreEvents = [...]string{setUnion: "sunionstore", setInter: "sinterstore", setDiff: "sdiffstore"}

func init() {
	Register("sadd", cmdSadd)
	Register("srem", cmdSrem)
	Register("scard", cmdScard)
	Register("sismember", cmdSismember)
	Register("smismember", cmdSmismember)
	Register("smembers", cmdSmembers)
	Register("spop", cmdSpop)
	Register("srandmember", cmdSrandmember)
	Register("smove", cmdSmove)
	Register("sinter", func(c *Ctx) { setOp(c, setInter, nil, c.Args[1:]) })
	Register("sinterstore", func(c *Ctx) { setOp(c, setInter, c.Args[1], c.Args[2:]) })
	Register("sunion", func(c *Ctx) { setOp(c, setUnion, nil, c.Args[1:]) })
	Register("sunionstore", func(c *Ctx) { setOp(c, setUnion, c.Args[1], c.Args[2:]) })
	Register("sdiff", func(c *Ctx) { setOp(c, setDiff, nil, c.Args[1:]) })
	Register("sdiffstore", func(c *Ctx) { setOp(c, setDiff, c.Args[1], c.Args[2:]) })
	Register("sintercard", cmdSintercard, KeysFunc(sintercardKeys))
	Register("sscan", cmdSscan)
}

// setLookup returns the set at key: nil, true when the key is missing;
// false after replying WRONGTYPE. write selects LookupWrite.
func setLookup(c *Ctx, key []byte, write bool) (*datatype.Set, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.LookupWrite(key)
	} else {
		o = c.DB.Lookup(key)
	}
	if o == nil {
		return nil, true
	}
	if o.Type() != keyspace.TSet {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o.Set(), true
}

func cmdSadd(c *Ctx) {
	key := c.Args[1]
	s, ok := setLookup(c, key, true)
	if !ok {
		return
	}
	if s == nil {
		s = datatype.NewSet(c.KS.Limits)
		c.DB.Set(key, keyspace.NewSet(s), false)
		s.Reserve(len(c.Args) - 2)
	}
	added := 0
	for _, m := range c.Args[2:] {
		if s.Add(m) {
			added++
		}
	}
	c.Dirty += added
	if added > 0 {
		c.Notify(notify.Set, "sadd", key)
	}
	c.W.Int(int64(added))
}

func cmdSrem(c *Ctx) {
	key := c.Args[1]
	s, ok := setLookup(c, key, true)
	if !ok {
		return
	}
	removed, gone := 0, false
	if s != nil {
		for _, m := range c.Args[2:] {
			if s.Remove(m) {
				removed++
				if s.Len() == 0 {
					c.DB.Delete(key)
					gone = true
					break
				}
			}
		}
	}
	c.Dirty += removed
	if removed > 0 {
		c.Notify(notify.Set, "srem", key)
		if gone {
			c.Notify(notify.Generic, "del", key)
		}
	}
	c.W.Int(int64(removed))
}

func cmdScard(c *Ctx) {
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	n := 0
	if s != nil {
		n = s.Len()
	}
	c.W.Int(int64(n))
}

func cmdSismember(c *Ctx) {
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if s != nil && s.Has(c.Args[2]) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

func cmdSmismember(c *Ctx) {
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if s != nil && s.Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func cmdSmembers(c *Ctx) {
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	setReply(c, s)
}

// setReply writes every member of s (nil: none) as a set reply.
func setReply(c *Ctx, s *datatype.Set) {
	if s == nil {
		c.W.Set(0)
		return
	}
	c.W.Set(s.Len())
	s.ForEach(func(m []byte) bool { c.W.Bulk(m); return true })
}

// SPOP key [count]
func cmdSpop(c *Ctx) {
	key := c.Args[1]
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Args) == 3 {
		setPopCount(c, key)
		return
	}
	s, ok := setLookup(c, key, true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Null()
		return
	}
	m := s.Pop()
	c.W.Bulk(m)
	// The member is random: the AOF and replicas get the SREM it amounts to.
	c.Propagate([]byte("SREM"), key, m)
	c.Notify(notify.Set, "spop", key)
	if s.Len() == 0 {
		c.DB.Delete(key)
		c.Notify(notify.Generic, "del", key)
	}
	c.Dirty++
}

// setPopCount is SPOP with a count. As Redis 7.0: the whole set when
// count reaches its size; random pops when few are taken; otherwise the
// members to keep are drawn into a new set (made member by member, so it
// may go back to an intset) and the rest are replied in the old set's
// order.
func setPopCount(c *Ctx, key []byte) {
	count, ok := ParseInt(c.Args[2])
	if !ok || count < 0 {
		c.Error(errSetCountNeg)
		return
	}
	s, ok := setLookup(c, key, true)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.Set(0)
		return
	}
	size := int64(s.Len())
	c.Notify(notify.Set, "spop", key)
	if count >= size {
		// Redis replies a union of the set with itself: a new set, which
		// is an intset (and so in order) whenever it can be.
		if s.Encoding() == "intset" {
			setReply(c, s)
		} else {
			setReply(c, setUnionOf(c.KS.Limits, []*datatype.Set{s}))
		}
		c.DB.Delete(key)
		c.Notify(notify.Generic, "del", key)
		c.Propagate([]byte("DEL"), key)
		c.Dirty++
		return
	}
	c.Dirty += int(count)
	remaining := size - count
	c.W.Set(int(count))
	// The members are random: propagate the SREM they amount to.
	srem := [][]byte{[]byte("SREM"), key}
	if remaining*5 > count {
		for range count {
			m := s.Pop()
			c.W.Bulk(m)
			srem = append(srem, m)
		}
		c.Propagate(srem...)
		return
	}
	keep := datatype.NewSet(c.KS.Limits)
	for range remaining {
		m := s.Pop()
		keep.Add(m)
	}
	s.ForEach(func(m []byte) bool { c.W.Bulk(m); srem = append(srem, m); return true })
	c.Propagate(srem...)
	c.DB.Set(key, keyspace.NewSet(keep), true)
}

// SRANDMEMBER key [count]
func cmdSrandmember(c *Ctx) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Args) == 3 {
		setRandCount(c)
		return
	}
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.W.Null()
		return
	}
	s.RandomMembers(1, func(m []byte) { c.W.Bulk(m) })
}

// setRandCount is SRANDMEMBER with a count: distinct members for a
// positive count (all of them, in order, when the set has no more),
// members with repetition for a negative one. Always an array reply.
func setRandCount(c *Ctx) {
	l, ok := c.IntArg(2)
	if !ok {
		return
	}
	if l == math.MinInt64 {
		c.Error(errSetCountSize)
		return
	}
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if s == nil || l == 0 {
		c.W.Array(0)
		return
	}
	emit := func(m []byte) { c.W.Bulk(m) }
	size := int64(s.Len())
	switch {
	case l < 0:
		c.W.Array(int(-l))
		c.inChunks(int(-l), func(k int) { s.RandomMembers(k, emit) })
	case l >= size:
		c.W.Array(int(size))
		s.ForEach(func(m []byte) bool { emit(m); return true })
	default:
		c.W.Array(int(l))
		s.SampleMembers(int(l), emit)
	}
}

// SMOVE source destination member
func cmdSmove(c *Ctx) {
	srcKey, dstKey, m := c.Args[1], c.Args[2], c.Args[3]
	src := c.DB.LookupWrite(srcKey)
	dst := c.DB.LookupWrite(dstKey)
	if src == nil {
		c.W.Int(0)
		return
	}
	if src.Type() != keyspace.TSet || (dst != nil && dst.Type() != keyspace.TSet) {
		c.Error(ErrWrongType)
		return
	}
	if src == dst {
		if src.Set().Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if !src.Set().Remove(m) {
		c.W.Int(0)
		return
	}
	c.Notify(notify.Set, "srem", srcKey)
	if src.Set().Len() == 0 {
		c.DB.Delete(srcKey)
		c.Notify(notify.Generic, "del", srcKey)
	}
	if dst == nil {
		dst = keyspace.NewSet(datatype.NewSet(c.KS.Limits))
		c.DB.Set(dstKey, dst, false)
	}
	c.Dirty++
	if dst.Set().Add(m) {
		c.Dirty++
		c.Notify(notify.Set, "sadd", dstKey)
	}
	c.W.Int(1)
}

// setInputs looks up the sets at keys: nil for a missing key; false after
// replying WRONGTYPE for any key that holds another type.
func setInputs(c *Ctx, keys [][]byte) ([]*datatype.Set, bool) {
	sets := make([]*datatype.Set, len(keys))
	for i, k := range keys {
		s, ok := setLookup(c, k, false)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// setOp runs SINTER/SUNION/SDIFF over keys, replying the result as a set
// or, with a destination, storing it (deleting dst when it is empty) and
// replying its size.
func setOp(c *Ctx, op int, dst []byte, keys [][]byte) {
	sets, ok := setInputs(c, keys)
	if !ok {
		return
	}
	var res *datatype.Set
	switch op {
	case setInter:
		if dst == nil {
			setInterReply(c, sets)
			return
		}
		res = datatype.NewSet(c.KS.Limits)
		setInterEach(sets, func(m []byte) bool { res.Add(m); return true })
	case setUnion:
		res = setUnionOf(c.KS.Limits, sets)
	case setDiff:
		res = setDiffOf(c.KS.Limits, sets)
	}
	if dst == nil {
		setReply(c, res)
		return
	}
	if res.Len() == 0 {
		if c.DB.Delete(dst) {
			c.Dirty++
			c.Notify(notify.Generic, "del", dst)
		}
		c.W.Int(0)
		return
	}
	c.DB.Set(dst, keyspace.NewSet(res), false)
	c.Dirty++
	c.Notify(notify.Set, setStoreEvents[op], dst)
	c.W.Int(int64(res.Len()))
}

// setSmallestFirst returns the sets ordered by size (a stable sort: Redis
// orders by cardinality before it intersects), or nil when one is empty.
func setSmallestFirst(sets []*datatype.Set) []*datatype.Set {
	out := make([]*datatype.Set, len(sets))
	copy(out, sets)
	for _, s := range out {
		if s == nil || s.Len() == 0 {
			return nil
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Len() < out[j-1].Len(); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// setInterEach calls fn for every member of the intersection of sets, in
// the smallest set's order, until fn returns false.
func setInterEach(sets []*datatype.Set, fn func(m []byte) bool) {
	sorted := setSmallestFirst(sets)
	if sorted == nil {
		return
	}
	sorted[0].ForEach(func(m []byte) bool {
		for _, o := range sorted[1:] {
			if o != sorted[0] && !o.Has(m) {
				return true
			}
		}
		return fn(m)
	})
}

// setUnionOf builds the union of sets (nil entries are empty).
func setUnionOf(lim *datatype.Limits, sets []*datatype.Set) *datatype.Set {
	res := datatype.NewSet(lim)
	for _, s := range sets {
		if s != nil {
			s.ForEach(func(m []byte) bool { res.Add(m); return true })
		}
	}
	return res
}

// setInterReply writes the intersection as a set reply.
func setInterReply(c *Ctx, sets []*datatype.Set) {
	var out [][]byte
	setInterEach(sets, func(m []byte) bool {
		out = append(out, append([]byte(nil), m...))
		return true
	})
	c.W.Set(len(out))
	for _, m := range out {
		c.W.Bulk(m)
	}
}

// setDiffOf builds the members of the first set that are in none of the
// others.
func setDiffOf(lim *datatype.Limits, sets []*datatype.Set) *datatype.Set {
	res := datatype.NewSet(lim)
	if sets[0] == nil {
		return res
	}
	sets[0].ForEach(func(m []byte) bool {
		for _, o := range sets[1:] {
			if o != nil && (o == sets[0] || o.Has(m)) {
				return true
			}
		}
		res.Add(m)
		return true
	})
	return res
}

// sintercardKeys returns SINTERCARD's key positions: numkeys keys after
// the numkeys argument; none when numkeys is invalid (the handler then
// replies the error).
func sintercardKeys(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	n, ok := ParseInt(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 2 + i
	}
	return out
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
func cmdSintercard(c *Ctx) {
	n, ok := ParseInt(c.Args[1])
	if !ok || n < 1 {
		c.Error(errSetNumkeys)
		return
	}
	if n > int64(len(c.Args)-2) {
		c.Error(errSetNumArgs)
		return
	}
	keys := c.Args[2 : 2+n]
	limit := int64(0)
	for i := 2 + int(n); i < len(c.Args); i += 2 {
		if !EqualFold(c.Args[i], "limit") || i+1 >= len(c.Args) {
			c.Error(ErrSyntax)
			return
		}
		l, ok := ParseInt(c.Args[i+1])
		if !ok || l < 0 {
			c.Error(errSetLimitNeg)
			return
		}
		limit = l
	}
	sets, ok := setInputs(c, keys)
	if !ok {
		return
	}
	var card int64
	setInterEach(sets, func([]byte) bool {
		card++
		return limit == 0 || card < limit
	})
	c.W.Int(card)
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
func cmdSscan(c *Ctx) {
	cursor, ok := scanCursor(c.Args[2])
	if !ok {
		c.Error(ErrInvalidCursor)
		return
	}
	s, ok := setLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if s == nil {
		scanReplyEmpty(c)
		return
	}
	count, pat, ok := scanParseOptions(c, 3)
	if !ok {
		return
	}
	var out [][]byte
	next := s.Scan(cursor, count, func(m []byte) {
		if pat == nil || GlobMatch(pat, m, false) {
			out = append(out, append([]byte(nil), m...))
		}
	})
	scanReply(c, next, out)
}

// ---- HSCAN/SSCAN helpers ----

// scanParseOptions parses [MATCH pattern] [COUNT count] from Args[i:]; a
// nil pattern matches everything.
func scanParseOptions(c *Ctx, i int) (count int, pat []byte, ok bool) {
	n := int64(10)
	for ; i < len(c.Args); i += 2 {
		more := i+1 < len(c.Args)
		switch {
		case more && EqualFold(c.Args[i], "count"):
			v, ok := c.IntArg(i + 1)
			if !ok {
				return 0, nil, false
			}
			if v < 1 {
				c.Error(ErrSyntax)
				return 0, nil, false
			}
			n = v
		case more && EqualFold(c.Args[i], "match"):
			pat = c.Args[i+1]
			if len(pat) == 1 && pat[0] == '*' {
				pat = nil
			}
		default:
			c.Error(ErrSyntax)
			return 0, nil, false
		}
	}
	return int(min(n, math.MaxInt32)), pat, true
}

func scanReply(c *Ctx, next uint64, items [][]byte) {
	c.W.Array(2)
	var buf [20]byte
	c.W.Bulk(strconv.AppendUint(buf[:0], next, 10))
	c.W.Array(len(items))
	for _, it := range items {
		c.W.Bulk(it)
	}
}

func scanReplyEmpty(c *Ctx) { scanReply(c, 0, nil) }
