package commands

import (
	"bytes"
	"math"
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
// LSET LINSERT LREM LTRIM LPOS RPOPLPUSH LMOVE LMPOP and the blocking
// BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP, as Redis 7.0's t_list.c.
//
// Pushed values are copied into the list's own buffers, so request
// arguments (which alias the read buffer) are never kept. A list that
// becomes empty is deleted. Blocking commands follow the Ctx protocol:
// serve at once if they can; otherwise reply a timeout inside MULTI, or
// ask to Block. When re-run because a key changed (Serving), a key that
// now holds another type is skipped as Redis 7.0 does for a blocked
// client, instead of answering WRONGTYPE.

// Error texts of the list family.
const (
	errLposRank   = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errLposCount  = "ERR COUNT can't be negative"
	errLposMaxlen = "ERR MAXLEN can't be negative"
	errMpopCount  = "ERR count should be greater than 0"
)

func init() {
	Register("lpush", func(c *Ctx) { listPush(c, true, false) })
	Register("rpush", func(c *Ctx) { listPush(c, false, false) })
	Register("lpushx", func(c *Ctx) { listPush(c, true, true) })
	Register("rpushx", func(c *Ctx) { listPush(c, false, true) })
	Register("lpop", func(c *Ctx) { listPop(c, true) })
	Register("rpop", func(c *Ctx) { listPop(c, false) })
	Register("llen", cmdLlen)
	Register("lrange", cmdLrange)
	Register("lindex", cmdLindex)
	Register("lset", cmdLset)
	Register("linsert", cmdLinsert)
	Register("lrem", cmdLrem)
	Register("ltrim", cmdLtrim)
	Register("lpos", cmdLpos)
	Register("rpoplpush", cmdRpoplpush)
	Register("lmove", cmdLmove)
	Register("brpoplpush", cmdBrpoplpush)
	Register("blmove", cmdBlmove)
	Register("lmpop", cmdLmpop, KeysFunc(func(args [][]byte) []int { return listNumkeysPositions(args, 1) }))
	Register("blmpop", cmdBlmpop, KeysFunc(func(args [][]byte) []int { return listNumkeysPositions(args, 2) }))
	Register("blpop", func(c *Ctx) { listBpop(c, true) })
	Register("brpop", func(c *Ctx) { listBpop(c, false) })
}

// listNumkeysPositions returns the key positions of a command whose keys
// follow a numkeys argument at idx; none when numkeys is invalid (the
// handler then replies the error without touching a key).
func listNumkeysPositions(args [][]byte, idx int) []int {
	if idx >= len(args) {
		return nil
	}
	n, ok := ParseInt(args[idx])
	if !ok || n < 1 || n > int64(len(args)-idx-1) {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = idx + 1 + i
	}
	return out
}

// listLookup returns the list at key: nil, true when the key is missing;
// false after replying WRONGTYPE. write selects LookupWrite.
func listLookup(c *Ctx, key []byte, write bool) (*keyspace.Object, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.LookupWrite(key)
	} else {
		o = c.DB.Lookup(key)
	}
	if o != nil && o.Type() != keyspace.TList {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// listDeleteIfEmpty removes key when its list has no elements left.
func listDeleteIfEmpty(c *Ctx, key []byte, l *datatype.List) {
	if l.Len() == 0 {
		c.DB.Delete(key)
		c.Notify(notify.Generic, "del", key)
	}
}

// listPopped fires the pop event of key and deletes it when empty, as
// Redis's listElementsRemoved.
func listPopped(c *Ctx, key []byte, l *datatype.List, left bool) {
	if left {
		c.Notify(notify.List, "lpop", key)
	} else {
		c.Notify(notify.List, "rpop", key)
	}
	listDeleteIfEmpty(c, key, l)
}

func listPushed(c *Ctx, key []byte, left bool) {
	if left {
		c.Notify(notify.List, "lpush", key)
	} else {
		c.Notify(notify.List, "rpush", key)
	}
}

// listIndex converts a possibly negative index into 0..n-1; ok is false
// when it falls outside.
func listIndex(i int64, n int) (int, bool) {
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, false
	}
	return int(i), true
}

// listRange clamps LRANGE/LTRIM style bounds; empty reports an empty range.
func listRange(start, end int64, n int) (s, e int, empty bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, true
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), false
}

// listWhere parses LEFT or RIGHT, replying a syntax error otherwise.
func listWhere(c *Ctx, i int) (left, ok bool) {
	switch {
	case EqualFold(c.Args[i], "left"):
		return true, true
	case EqualFold(c.Args[i], "right"):
		return false, true
	}
	c.Error(ErrSyntax)
	return false, false
}

// LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...]
func listPush(c *Ctx, left, onlyExisting bool) {
	key := c.Args[1]
	o, ok := listLookup(c, key, true)
	if !ok {
		return
	}
	if o == nil {
		if onlyExisting {
			c.W.Int(0)
			return
		}
		o = keyspace.NewList(datatype.NewList(c.KS.Limits))
		c.DB.Set(key, o, false)
	}
	l := o.List()
	l.Reserve(c.Args[2:], left)
	for _, v := range c.Args[2:] {
		if left {
			l.PushFront(v)
		} else {
			l.PushBack(v)
		}
	}
	c.Dirty += len(c.Args) - 2
	listPushed(c, key, left)
	c.W.Int(int64(l.Len()))
}

// LPOP/RPOP key [count]
func listPop(c *Ctx, left bool) {
	if len(c.Args) > 3 {
		c.WrongArgs()
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		var ok bool
		if count, ok = ParseInt(c.Args[2]); !ok || count < 0 {
			c.Error(ErrNotPositive)
			return
		}
	}
	key := c.Args[1]
	o, ok := listLookup(c, key, true)
	if !ok {
		return
	}
	if o == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	l := o.List()
	if !hasCount {
		if left {
			c.W.Bulk(l.PopFront())
		} else {
			c.W.Bulk(l.PopBack())
		}
		c.Dirty++
		listPopped(c, key, l, left)
		return
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	listPopRange(c, key, l, left, count)
}

// listPopRange replies up to count elements popped from one end (in pop
// order) as an array, and removes them.
func listPopRange(c *Ctx, key []byte, l *datatype.List, left bool, count int64) {
	n := l.Len()
	if count < int64(n) {
		n = int(count)
	}
	c.W.Array(n)
	if left {
		for v := range l.Range(0, n-1) {
			c.W.Bulk(v)
		}
		l.DeleteRange(0, n)
	} else {
		for v := range l.RangeRev(l.Len()-1, l.Len()-n) {
			c.W.Bulk(v)
		}
		l.DeleteRange(l.Len()-n, n)
	}
	c.Dirty += n
	listPopped(c, key, l, left)
}

// LLEN key
func cmdLlen(c *Ctx) {
	o, ok := listLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(o.List().Len()))
}

// LRANGE key start stop
func cmdLrange(c *Ctx) {
	start, ok := c.IntArg(2)
	if !ok {
		return
	}
	end, ok := c.IntArg(3)
	if !ok {
		return
	}
	o, ok := listLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if o == nil {
		c.W.Array(0)
		return
	}
	l := o.List()
	s, e, empty := listRange(start, end, l.Len())
	if empty {
		c.W.Array(0)
		return
	}
	c.W.Array(e - s + 1)
	for v := range l.Range(s, e) {
		c.W.Bulk(v)
	}
}

// LINDEX key index
func cmdLindex(c *Ctx) {
	o, ok := listLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if o == nil {
		c.W.Null()
		return
	}
	idx, ok := c.IntArg(2)
	if !ok {
		return
	}
	l := o.List()
	i, ok := listIndex(idx, l.Len())
	if !ok {
		c.W.Null()
		return
	}
	c.W.Bulk(l.Index(i))
}

// LSET key index element
func cmdLset(c *Ctx) {
	o, ok := listLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	if o == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	idx, ok := c.IntArg(2)
	if !ok {
		return
	}
	l := o.List()
	i, ok := listIndex(idx, l.Len())
	if !ok {
		c.Error(ErrIndexRange)
		return
	}
	l.Set(i, c.Args[3])
	c.Dirty++
	c.Notify(notify.List, "lset", c.Args[1])
	c.W.OK()
}

// LINSERT key BEFORE|AFTER pivot element
func cmdLinsert(c *Ctx) {
	var after bool
	switch {
	case EqualFold(c.Args[2], "after"):
		after = true
	case EqualFold(c.Args[2], "before"):
	default:
		c.Error(ErrSyntax)
		return
	}
	o, ok := listLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	l := o.List()
	if !l.InsertPivot(c.Args[3], c.Args[4], after) {
		c.W.Int(-1)
		return
	}
	c.Dirty++
	c.Notify(notify.List, "linsert", c.Args[1])
	c.W.Int(int64(l.Len()))
}

// LREM key count element
func cmdLrem(c *Ctx) {
	count, ok := c.IntArg(2)
	if !ok {
		return
	}
	key := c.Args[1]
	o, ok := listLookup(c, key, true)
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	if count == math.MinInt64 {
		count++ // |count| must fit; no list is that long anyway
	}
	l := o.List()
	removed := l.Remove(c.Args[3], int(count))
	c.Dirty += removed
	if removed > 0 {
		c.Notify(notify.List, "lrem", key)
	}
	listDeleteIfEmpty(c, key, l)
	c.W.Int(int64(removed))
}

// LTRIM key start stop
func cmdLtrim(c *Ctx) {
	start, ok := c.IntArg(2)
	if !ok {
		return
	}
	end, ok := c.IntArg(3)
	if !ok {
		return
	}
	key := c.Args[1]
	o, ok := listLookup(c, key, true)
	if !ok {
		return
	}
	if o == nil {
		c.W.OK()
		return
	}
	l := o.List()
	n := l.Len()
	s, e, empty := listRange(start, end, n)
	if empty {
		c.DB.Delete(key)
		c.Dirty += n
		c.Notify(notify.List, "ltrim", key)
		c.Notify(notify.Generic, "del", key)
	} else {
		l.Trim(s, e)
		c.Dirty += n - l.Len()
		c.Notify(notify.List, "ltrim", key)
	}
	c.W.OK()
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func cmdLpos(c *Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		switch {
		case more && EqualFold(c.Args[j], "rank"):
			j++
			v, ok := c.IntArg(j)
			if !ok {
				return
			}
			if v == 0 {
				c.Error(errLposRank)
				return
			}
			rank = v
		case more && EqualFold(c.Args[j], "count"):
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok || v < 0 {
				c.Error(errLposCount)
				return
			}
			count = v
		case more && EqualFold(c.Args[j], "maxlen"):
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok || v < 0 {
				c.Error(errLposMaxlen)
				return
			}
			maxlen = v
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	o, ok := listLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if o == nil {
		if count != -1 {
			c.W.Array(0)
		} else {
			c.W.Null()
		}
		return
	}
	l := o.List()
	seq, fromTail := l.All(), false
	if rank < 0 {
		// As in Redis, -MinInt64 stays negative: every match then counts.
		rank, seq, fromTail = -rank, l.Backward(), true
	}
	ele := c.Args[2]
	var found []int64
	var index, matches int64
	for v := range seq {
		if maxlen != 0 && index >= maxlen {
			break
		}
		if bytes.Equal(v, ele) {
			matches++
			if matches >= rank {
				pos := index
				if fromTail {
					pos = int64(l.Len()) - index - 1
				}
				found = append(found, pos)
				if count == -1 || (count != 0 && matches-rank+1 >= count) {
					break
				}
			}
		}
		index++
	}
	if count != -1 {
		c.W.Array(len(found))
		for _, p := range found {
			c.W.Int(p)
		}
		return
	}
	if len(found) == 0 {
		c.W.Null()
		return
	}
	c.W.Int(found[0])
}

// RPOPLPUSH source destination
func cmdRpoplpush(c *Ctx) { listMove(c, false, true) }

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
func cmdLmove(c *Ctx) {
	from, ok := listWhere(c, 3)
	if !ok {
		return
	}
	to, ok := listWhere(c, 4)
	if !ok {
		return
	}
	listMove(c, from, to)
}

// listMove pops from the source's end (left or right) and pushes onto
// the destination's end, replying the element; a null bulk when the
// source is missing.
func listMove(c *Ctx, fromLeft, toLeft bool) {
	src, dst := c.Args[1], c.Args[2]
	so, ok := listLookup(c, src, true)
	if !ok {
		return
	}
	if so == nil {
		c.W.Null()
		return
	}
	do, ok := listLookup(c, dst, true)
	if !ok {
		return
	}
	listMoveFrom(c, so, do, fromLeft, toLeft)
}

// listMoveFrom does the move once both keys are known to hold lists (do
// may be nil: the destination is created).
func listMoveFrom(c *Ctx, so, do *keyspace.Object, fromLeft, toLeft bool) {
	src, dst := c.Args[1], c.Args[2]
	sl := so.List()
	var v []byte
	if fromLeft {
		v = sl.PopFront()
	} else {
		v = sl.PopBack()
	}
	v = bytes.Clone(v) // the popped bytes alias sl, which the push may reuse
	if do == nil {
		do = keyspace.NewList(datatype.NewList(c.KS.Limits))
		c.DB.Set(dst, do, false)
	}
	if toLeft {
		do.List().PushFront(v)
	} else {
		do.List().PushBack(v)
	}
	listPushed(c, dst, toLeft)
	c.W.Bulk(v)
	listPopped(c, src, sl, fromLeft)
	c.Dirty++
}

// BRPOPLPUSH source destination timeout
func cmdBrpoplpush(c *Ctx) {
	deadline, ok := c.ParseTimeout(3)
	if !ok {
		return
	}
	listBmove(c, false, true, deadline)
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
func cmdBlmove(c *Ctx) {
	from, ok := listWhere(c, 3)
	if !ok {
		return
	}
	to, ok := listWhere(c, 4)
	if !ok {
		return
	}
	deadline, ok := c.ParseTimeout(5)
	if !ok {
		return
	}
	listBmove(c, from, to, deadline)
}

func listBmove(c *Ctx, fromLeft, toLeft bool, deadline int64) {
	so := c.DB.LookupWrite(c.Args[1])
	if so != nil && so.Type() != keyspace.TList {
		if !c.Serving {
			c.Error(ErrWrongType)
			return
		}
		so = nil // Redis 7.0 leaves the client blocked
	}
	if so == nil {
		if c.NoBlock && !c.Serving {
			c.W.Null()
			return
		}
		// Redis 7.0 replies a null array when BLMOVE times out.
		c.Block(c.Args[1:2], deadline, false)
		return
	}
	do, ok := listLookup(c, c.Args[2], true)
	if !ok {
		return
	}
	listMoveFrom(c, so, do, fromLeft, toLeft)
	// Propagated as the non-blocking command (blmovePopMoveAndReply,
	// serveClientBlockedOnList).
	if len(c.Args) == 4 {
		c.Propagate([]byte("RPOPLPUSH"), c.Args[1], c.Args[2])
		return
	}
	if c.Serving {
		c.Propagate([]byte("LMOVE"), c.Args[1], c.Args[2], listPosition(fromLeft), listPosition(toLeft))
		return
	}
	c.Propagate([]byte("LMOVE"), c.Args[1], c.Args[2], c.Args[3], c.Args[4])
}

func listPosition(left bool) []byte {
	if left {
		return []byte("LEFT")
	}
	return []byte("RIGHT")
}

// BLPOP/BRPOP key [key ...] timeout
func listBpop(c *Ctx, left bool) {
	deadline, ok := c.ParseTimeout(len(c.Args) - 1)
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	if listServePop(c, keys, left, -1) {
		return
	}
	if c.NoBlock && !c.Serving {
		c.W.NullArray()
		return
	}
	c.Block(keys, deadline, false)
}

// listServePop pops from the first non-empty list among keys, replying
// [key, element] (count < 0) or [key, [elements...]]. It reports whether
// it replied (WRONGTYPE included).
func listServePop(c *Ctx, keys [][]byte, left bool, count int64) bool {
	for _, key := range keys {
		o := c.DB.LookupWrite(key)
		if o == nil {
			continue
		}
		if o.Type() != keyspace.TList {
			if c.Serving {
				continue
			}
			c.Error(ErrWrongType)
			return true
		}
		l := o.List()
		c.W.Array(2)
		c.W.Bulk(key)
		// Propagated as the pop it did, as Redis rewrites it: LPOP key for
		// BLPOP, LPOP key n for [B]LMPOP (n what it popped).
		pop := []byte("RPOP")
		if left {
			pop = []byte("LPOP")
		}
		if count < 0 {
			if left {
				c.W.Bulk(l.PopFront())
			} else {
				c.W.Bulk(l.PopBack())
			}
			c.Dirty++
			c.Propagate(pop, key)
			listPopped(c, key, l, left)
		} else {
			n := min(count, int64(l.Len()))
			listPopRange(c, key, l, left, count)
			c.Propagate(pop, key, strconv.AppendInt(nil, n, 10))
		}
		return true
	}
	return false
}

// listMpopArgs parses [B]LMPOP's numkeys at idx, the keys, LEFT|RIGHT and
// COUNT, replying the error when they are bad.
func listMpopArgs(c *Ctx, idx int) (keys [][]byte, left bool, count int64, ok bool) {
	n, isInt := ParseInt(c.Args[idx])
	if !isInt || n < 1 {
		c.Error(ErrNumKeysZero)
		return nil, false, 0, false
	}
	if n >= int64(len(c.Args)) || idx+int(n)+1 >= len(c.Args) {
		c.Error(ErrSyntax)
		return nil, false, 0, false
	}
	whereIdx := idx + int(n) + 1
	if left, ok = listWhere(c, whereIdx); !ok {
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(c.Args); j++ {
		if count == -1 && j+1 < len(c.Args) && EqualFold(c.Args[j], "count") {
			j++
			v, isInt := ParseInt(c.Args[j])
			if !isInt || v < 1 {
				c.Error(errMpopCount)
				return nil, false, 0, false
			}
			count = v
			continue
		}
		c.Error(ErrSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return c.Args[idx+1 : whereIdx], left, count, true
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
func cmdLmpop(c *Ctx) {
	keys, left, count, ok := listMpopArgs(c, 1)
	if !ok {
		return
	}
	if !listServePop(c, keys, left, count) {
		c.W.NullArray()
	}
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
func cmdBlmpop(c *Ctx) {
	keys, left, count, ok := listMpopArgs(c, 2)
	if !ok {
		return
	}
	deadline, ok := c.ParseTimeout(1)
	if !ok {
		return
	}
	if listServePop(c, keys, left, count) {
		return
	}
	if c.NoBlock && !c.Serving {
		c.W.NullArray()
		return
	}
	c.Block(keys, deadline, false)
}
