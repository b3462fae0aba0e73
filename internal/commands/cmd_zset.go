package commands

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/resp"
)

// Sorted set commands. The structure is datatype.ZSet; these handlers
// follow Redis 7.0's t_zset.c for argument parsing, check order, reply
// shapes (RESP2 and RESP3) and error texts.

func init() {
	Register("zadd", func(c *Ctx) { zadd(c, 2, false) })
	Register("zincrby", func(c *Ctx) { zadd(c, 2, true) })
	Register("zrem", cmdZrem)
	Register("zcard", cmdZcard)
	Register("zscore", cmdZscore)
	Register("zmscore", cmdZmscore)
	Register("zrank", func(c *Ctx) { zrank(c, false) })
	Register("zrevrank", func(c *Ctx) { zrank(c, true) })
	Register("zcount", cmdZcount)
	Register("zlexcount", cmdZlexcount)
	Register("zrange", func(c *Ctx) { zrange(c, 1, false, zrAuto, zdirAuto) })
	Register("zrangestore", func(c *Ctx) { zrange(c, 2, true, zrAuto, zdirAuto) })
	Register("zrevrange", func(c *Ctx) { zrange(c, 1, false, zrRank, zdirRev) })
	Register("zrangebyscore", func(c *Ctx) { zrange(c, 1, false, zrScore, zdirFwd) })
	Register("zrevrangebyscore", func(c *Ctx) { zrange(c, 1, false, zrScore, zdirRev) })
	Register("zrangebylex", func(c *Ctx) { zrange(c, 1, false, zrLex, zdirFwd) })
	Register("zrevrangebylex", func(c *Ctx) { zrange(c, 1, false, zrLex, zdirRev) })
	Register("zremrangebyrank", func(c *Ctx) { zremrange(c, zrRank) })
	Register("zremrangebyscore", func(c *Ctx) { zremrange(c, zrScore) })
	Register("zremrangebylex", func(c *Ctx) { zremrange(c, zrLex) })
	Register("zunion", func(c *Ctx) { zsetop(c, 1, false, zopUnion, false) }, KeysFunc(zNumKeys(1, false)))
	Register("zinter", func(c *Ctx) { zsetop(c, 1, false, zopInter, false) }, KeysFunc(zNumKeys(1, false)))
	Register("zdiff", func(c *Ctx) { zsetop(c, 1, false, zopDiff, false) }, KeysFunc(zNumKeys(1, false)))
	Register("zintercard", func(c *Ctx) { zsetop(c, 1, false, zopInter, true) }, KeysFunc(zNumKeys(1, false)))
	Register("zunionstore", func(c *Ctx) { zsetop(c, 2, true, zopUnion, false) }, KeysFunc(zNumKeys(2, true)))
	Register("zinterstore", func(c *Ctx) { zsetop(c, 2, true, zopInter, false) }, KeysFunc(zNumKeys(2, true)))
	Register("zdiffstore", func(c *Ctx) { zsetop(c, 2, true, zopDiff, false) }, KeysFunc(zNumKeys(2, true)))
	Register("zpopmin", func(c *Ctx) { zpop(c, false) })
	Register("zpopmax", func(c *Ctx) { zpop(c, true) })
	Register("bzpopmin", func(c *Ctx) { bzpop(c, false) })
	Register("bzpopmax", func(c *Ctx) { bzpop(c, true) })
	Register("zmpop", func(c *Ctx) { zmpop(c, 1, false) }, KeysFunc(zNumKeys(1, false)))
	Register("bzmpop", func(c *Ctx) { zmpop(c, 2, true) }, KeysFunc(zNumKeys(2, false)))
	Register("zrandmember", cmdZrandmember)
	Register("zscan", cmdZscan)
}

// Error texts of the sorted set family.
const (
	errZaddXXNX      = "ERR XX and NX options at the same time are not compatible"
	errZaddGTLTNX    = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZaddIncrPair  = "ERR INCR option supports a single increment-element pair"
	errLimitRank     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errWithscoresLex = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errWeight        = "ERR weight value is not a float"
	errLimitNeg      = "ERR LIMIT can't be negative"
	errCountPositive = "ERR count should be greater than 0"
	errZRandRange    = "ERR value is out of range"
)

// zNumKeys returns the key positions of a command whose numkeys argument
// is at idx, followed by the keys (with the destination at 1 when dst).
// Bad or oversized numkeys yield the keys that are there: the handler
// rejects such calls before touching any key.
func zNumKeys(idx int, dst bool) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		var out []int
		if dst && len(args) > 1 {
			out = append(out, 1)
		}
		if idx >= len(args) {
			return out
		}
		n, ok := ParseInt(args[idx])
		if !ok || n < 1 {
			return out
		}
		for i := idx + 1; i < len(args) && int64(i-idx) <= n; i++ {
			out = append(out, i)
		}
		return out
	}
}

// ---- number and range parsing ----

// zStrtod parses the longest prefix of s that C's strtod accepts (leading
// white space, decimal or hex, inf/infinity/nan). It returns the value,
// the length consumed (0 if nothing parsed) and whether the value
// overflowed or underflowed to zero (ERANGE).
func zStrtod(s string) (float64, int, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	neg := start < len(s) && s[start] == '-'
	rest := strings.ToLower(s[i:min(len(s), i+8)])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return math.Copysign(math.Inf(1), zSign(neg)), i + 8, false
	case strings.HasPrefix(rest, "inf"):
		return math.Copysign(math.Inf(1), zSign(neg)), i + 3, false
	case strings.HasPrefix(rest, "nan"):
		return math.NaN(), i + 3, false
	}
	if strings.HasPrefix(rest, "0x") {
		if f, n, ok := zHexFloat(s, i+2, neg); ok {
			return f, n, math.IsInf(f, 0)
		}
	}
	digits, nonzero := 0, false
	for i < len(s) && zIsDigit(s[i]) {
		nonzero = nonzero || s[i] != '0'
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && zIsDigit(s[i]) {
			nonzero = nonzero || s[i] != '0'
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && zIsDigit(s[j]) {
			for j < len(s) && zIsDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	f, _ := strconv.ParseFloat(s[start:i], 64)
	erange := math.IsInf(f, 0) || (f == 0 && nonzero)
	return f, i, erange
}

// zHexFloat parses the hex digits of "0x..." starting at i (after the 0x).
func zHexFloat(s string, i int, neg bool) (float64, int, bool) {
	j := i
	digits := 0
	var mant strings.Builder
	for j < len(s) && zIsHex(s[j]) {
		mant.WriteByte(s[j])
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		mant.WriteByte('.')
		j++
		for j < len(s) && zIsHex(s[j]) {
			mant.WriteByte(s[j])
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	exp := "p0"
	if j < len(s) && (s[j] == 'p' || s[j] == 'P') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && zIsDigit(s[k]) {
			for k < len(s) && zIsDigit(s[k]) {
				k++
			}
			exp = "p" + s[j+1:k]
			j = k
		}
	}
	f, _ := strconv.ParseFloat("0x"+mant.String()+exp, 64)
	if neg {
		f = -f
	}
	return f, j, true
}

func zSign(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}

func zIsDigit(c byte) bool { return '0' <= c && c <= '9' }
func zIsHex(c byte) bool {
	return zIsDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// parseScore parses a score as Redis's getDoubleFromObject: all of it,
// no leading space, no NaN, no overflow or underflow to zero.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	f, n, erange := zStrtod(zstr(b))
	if n != len(b) || math.IsNaN(f) || (erange && (math.IsInf(f, 0) || f == 0)) {
		return 0, false
	}
	return f, true
}

// parseScoreBound parses one end of a score range: "(" marks it
// exclusive; zStrtod must consume the rest (an empty rest is 0, as Redis).
func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := false
	s := zstr(b)
	if len(s) > 0 && s[0] == '(' {
		ex = true
		s = s[1:]
	}
	f, n, _ := zStrtod(s)
	if n != len(s) || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

func parseScoreRange(min, max []byte) (datatype.ScoreRange, bool) {
	var r datatype.ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, false
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return r, false
	}
	return r, true
}

func parseLexBound(b []byte) (datatype.LexBound, bool) {
	if len(b) == 0 {
		return datatype.LexBound{}, false
	}
	switch b[0] {
	case '+':
		return datatype.LexBound{Inf: 1, Ex: true}, len(b) == 1
	case '-':
		return datatype.LexBound{Inf: -1, Ex: true}, len(b) == 1
	case '(':
		return datatype.LexBound{Val: string(b[1:]), Ex: true}, true
	case '[':
		return datatype.LexBound{Val: string(b[1:])}, true
	}
	return datatype.LexBound{}, false
}

func parseLexRange(min, max []byte) (datatype.LexRange, bool) {
	var r datatype.LexRange
	var ok1, ok2 bool
	r.Min, ok1 = parseLexBound(min)
	r.Max, ok2 = parseLexBound(max)
	return r, ok1 && ok2
}

// ---- lookups and replies ----

// zsetLookup finds the sorted set at key: nil if missing; false after
// replying WRONGTYPE.
func zsetLookup(c *Ctx, key []byte, write bool) (*datatype.ZSet, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.LookupWrite(key)
	} else {
		o = c.DB.Lookup(key)
	}
	if o == nil {
		return nil, true
	}
	if o.Type() != keyspace.TZSet {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o.ZSet(), true
}

// zWriteEntries replies a list of members, with their scores when
// withscores: flat in RESP2, [member, score] pairs in RESP3.
func zWriteEntries(c *Ctx, es []datatype.ZEntry, withscores bool) {
	resp3 := c.W.Resp3()
	if withscores && !resp3 {
		c.W.Array(2 * len(es))
	} else {
		c.W.Array(len(es))
	}
	for _, e := range es {
		if withscores && resp3 {
			c.W.Array(2)
		}
		c.W.BulkString(e.Member)
		if withscores {
			c.W.Double(e.Score)
		}
	}
}

// ---- ZADD / ZINCRBY ----

func zadd(c *Ctx, scoreIdx int, incr bool) {
	var nx, xx, gt, lt, ch bool
	for flags := !incr; flags && scoreIdx < len(c.Args); scoreIdx++ {
		a := c.Args[scoreIdx]
		switch {
		case EqualFold(a, "nx"):
			nx = true
		case EqualFold(a, "xx"):
			xx = true
		case EqualFold(a, "ch"):
			ch = true
		case EqualFold(a, "incr"):
			incr = true
		case EqualFold(a, "gt"):
			gt = true
		case EqualFold(a, "lt"):
			lt = true
		default:
			goto flagsDone
		}
	}
flagsDone:
	n := len(c.Args) - scoreIdx
	if n%2 != 0 || n == 0 {
		c.Error(ErrSyntax)
		return
	}
	n /= 2
	if nx && xx {
		c.Error(errZaddXXNX)
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.Error(errZaddGTLTNX)
		return
	}
	if incr && n > 1 {
		c.Error(errZaddIncrPair)
		return
	}
	scores := make([]float64, n)
	for j := range scores {
		f, ok := parseScore(c.Args[scoreIdx+2*j])
		if !ok {
			c.Error(ErrNotFloat)
			return
		}
		scores[j] = f
	}
	key := c.Args[1]
	z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	added, updated, processed := 0, 0, 0
	var score float64
	if z == nil && !xx {
		z = datatype.NewZSetSized(c.KS.Limits, 1, len(c.Args[scoreIdx+1]))
		c.DB.Set(key, keyspace.NewZSet(z), false)
		if n > 1 {
			z.Reserve(c.Args[scoreIdx:], scores)
		}
	}
	for j := 0; z != nil && j < n; j++ {
		score = scores[j]
		member := c.Args[scoreIdx+2*j+1]
		cur, exists := z.Score(zstr(member))
		if exists {
			if nx {
				continue
			}
			if incr {
				score += cur
				if math.IsNaN(score) {
					c.Dirty += added + updated
					c.Error(ErrNaN)
					return
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				continue
			}
			processed++
			if score != cur {
				z.Update(zstr(member), score)
				updated++
			}
		} else if !xx {
			z.Insert(zstr(member), score)
			added++
			processed++
		}
	}
	c.Dirty += added + updated
	if added+updated > 0 {
		if incr {
			c.Notify(notify.Zset, "zincr", key)
		} else {
			c.Notify(notify.Zset, "zadd", key)
		}
	}
	if incr {
		if processed > 0 {
			c.W.Double(score)
		} else {
			c.W.Null()
		}
		return
	}
	if ch {
		c.W.Int(int64(added + updated))
	} else {
		c.W.Int(int64(added))
	}
}

// ---- simple readers and ZREM ----

func cmdZrem(c *Ctx) {
	key := c.Args[1]
	z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	deleted := 0
	if z != nil {
		for _, m := range c.Args[2:] {
			if z.Delete(zstr(m)) {
				deleted++
				if z.Len() == 0 {
					c.DB.Delete(key)
					break
				}
			}
		}
	}
	c.Dirty += deleted
	if deleted > 0 {
		c.Notify(notify.Zset, "zrem", key)
		if z.Len() == 0 {
			c.Notify(notify.Generic, "del", key)
		}
	}
	c.W.Int(int64(deleted))
}

func cmdZcard(c *Ctx) {
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(z.Len()))
}

func cmdZscore(c *Ctx) {
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z != nil {
		if s, ok := z.Score(zstr(c.Args[2])); ok {
			c.W.Double(s)
			return
		}
	}
	c.W.Null()
}

func cmdZmscore(c *Ctx) {
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z != nil {
			if s, ok := z.Score(zstr(m)); ok {
				c.W.Double(s)
				continue
			}
		}
		c.W.Null()
	}
}

func zrank(c *Ctx, rev bool) {
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z != nil {
		if r, ok := z.Rank(zstr(c.Args[2])); ok {
			if rev {
				r = z.Len() - 1 - r
			}
			c.W.Int(int64(r))
			return
		}
	}
	c.W.Null()
}

func cmdZcount(c *Ctx) {
	r, ok := parseScoreRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(ErrMinMaxFloat)
		return
	}
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	first := z.FirstInScore(&r)
	if first < 0 {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(z.LastInScore(&r) - first + 1))
}

func cmdZlexcount(c *Ctx) {
	r, ok := parseLexRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(ErrMinMaxLex)
		return
	}
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	first := z.FirstInLex(&r)
	if first < 0 {
		c.W.Int(0)
		return
	}
	if z.Encoding() == "listpack" {
		// Redis walks the listpack while members are below max.
		n := 0
		it := z.IterAt(first, false)
		for e, ok := it.Next(); ok && r.LteMax(e.Member); e, ok = it.Next() {
			n++
		}
		c.W.Int(int64(n))
		return
	}
	c.W.Int(int64(z.LastInLex(&r) - first + 1))
}

// ---- ZRANGE family ----

type zrangeType int

const (
	zrAuto zrangeType = iota
	zrRank
	zrScore
	zrLex
)

// zremrangeEvents are ZREMRANGEBY*'s keyspace events, by range type.
var zremrangeEvents = [...]string{zrRank: "zremrangebyrank", zrScore: "zremrangebyscore", zrLex: "zremrangebylex"}

type zrangeDir int

const (
	zdirAuto zrangeDir = iota
	zdirFwd
	zdirRev
)

// zrange serves ZRANGE, ZRANGESTORE and the legacy Z[REV]RANGE[BYSCORE|
// BYLEX] commands, as Redis's zrangeGenericCommand: src is the index of
// the source key; the range and options follow it.
func zrange(c *Ctx, src int, store bool, typ zrangeType, dir zrangeDir) {
	minIdx, maxIdx := src+1, src+2
	var withscores bool
	var offset, limit int64 = 0, -1
	for j := src + 3; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		a := c.Args[j]
		switch {
		case !store && EqualFold(a, "withscores"):
			withscores = true
		case EqualFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = c.IntArg(j + 1); !ok {
				return
			}
			if limit, ok = c.IntArg(j + 2); !ok {
				return
			}
			j += 2
		case dir == zdirAuto && EqualFold(a, "rev"):
			dir = zdirRev
		case typ == zrAuto && EqualFold(a, "bylex"):
			typ = zrLex
		case typ == zrAuto && EqualFold(a, "byscore"):
			typ = zrScore
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if dir == zdirAuto {
		dir = zdirFwd
	}
	if typ == zrAuto {
		typ = zrRank
	}
	if limit != -1 && typ == zrRank {
		c.Error(errLimitRank)
		return
	}
	if withscores && typ == zrLex {
		c.Error(errWithscoresLex)
		return
	}
	rev := dir == zdirRev
	if rev && typ != zrRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr datatype.ScoreRange
	var lr datatype.LexRange
	switch typ {
	case zrRank:
		var ok bool
		if start, ok = c.IntArg(minIdx); !ok {
			return
		}
		if end, ok = c.IntArg(maxIdx); !ok {
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = parseScoreRange(c.Args[minIdx], c.Args[maxIdx]); !ok {
			c.Error(ErrMinMaxFloat)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = parseLexRange(c.Args[minIdx], c.Args[maxIdx]); !ok {
			c.Error(ErrMinMaxLex)
			return
		}
	}
	z, ok := zsetLookup(c, c.Args[src], false)
	if !ok {
		return
	}
	var res []datatype.ZEntry
	var small [16]datatype.ZEntry // a short range's entries, without garbage
	if z != nil {
		switch typ {
		case zrRank:
			res = zRangeByRank(z, start, end, rev, small[:0])
		case zrScore:
			res = zRangeByScore(z, &sr, offset, limit, rev, small[:0])
		case zrLex:
			res = zRangeByLex(z, &lr, offset, limit, rev, small[:0])
		}
	}
	if store {
		zStoreEntries(c, c.Args[1], res, "zrangestore")
		return
	}
	zWriteEntries(c, res, withscores)
}

// zStoreEntries writes a STORE command's result to dst (deleting dst when
// empty) and replies its size.
func zStoreEntries(c *Ctx, dst []byte, res []datatype.ZEntry, event string) {
	if len(res) == 0 {
		if c.DB.Delete(dst) {
			c.Dirty++
			c.Notify(notify.Generic, "del", dst)
		}
		c.W.Int(0)
		return
	}
	c.DB.Set(dst, keyspace.NewZSet(datatype.BuildZSet(c.KS.Limits, res)), false)
	c.Dirty++
	c.Notify(notify.Zset, event, dst)
	c.W.Int(int64(len(res)))
}

func zRangeByRank(z *datatype.ZSet, start, end int64, rev bool, buf []datatype.ZEntry) []datatype.ZEntry {
	n := int64(z.Len())
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= n {
		return nil
	}
	if end >= n {
		end = n - 1
	}
	res := buf[:0]
	if int64(cap(buf)) < end-start+1 {
		res = make([]datatype.ZEntry, 0, end-start+1)
	}
	rank := start
	if rev {
		rank = n - 1 - start
	}
	it := z.IterAt(int(rank), rev)
	for i := start; i <= end; i++ {
		e, _ := it.Next()
		res = append(res, e)
	}
	return res
}

// zRangeWalk collects entries from rank first while in(entry) holds,
// skipping offset entries and stopping after limit (Redis's loops: a
// negative offset skips everything, a negative limit is no limit).
func zRangeWalk(z *datatype.ZSet, first int, rev bool, offset, limit int64, in func(datatype.ZEntry) bool, buf []datatype.ZEntry) []datatype.ZEntry {
	if first < 0 || (offset > 0 && offset >= int64(z.Len())) {
		return nil
	}
	it := z.IterAt(first, rev)
	e, ok := it.Next()
	for ; ok && offset != 0; offset-- {
		e, ok = it.Next()
	}
	res := buf[:0]
	for ; ok && limit != 0; limit-- {
		if !in(e) {
			break
		}
		res = append(res, e)
		e, ok = it.Next()
	}
	return res
}

func zRangeByScore(z *datatype.ZSet, r *datatype.ScoreRange, offset, limit int64, rev bool, buf []datatype.ZEntry) []datatype.ZEntry {
	if rev {
		return zRangeWalk(z, z.LastInScore(r), true, offset, limit, func(e datatype.ZEntry) bool { return r.GteMin(e.Score) }, buf)
	}
	return zRangeWalk(z, z.FirstInScore(r), false, offset, limit, func(e datatype.ZEntry) bool { return r.LteMax(e.Score) }, buf)
}

func zRangeByLex(z *datatype.ZSet, r *datatype.LexRange, offset, limit int64, rev bool, buf []datatype.ZEntry) []datatype.ZEntry {
	if rev {
		return zRangeWalk(z, z.LastInLex(r), true, offset, limit, func(e datatype.ZEntry) bool { return r.GteMin(e.Member) }, buf)
	}
	return zRangeWalk(z, z.FirstInLex(r), false, offset, limit, func(e datatype.ZEntry) bool { return r.LteMax(e.Member) }, buf)
}

// ---- ZREMRANGEBY* ----

func zremrange(c *Ctx, typ zrangeType) {
	var start, end int64
	var sr datatype.ScoreRange
	var lr datatype.LexRange
	switch typ {
	case zrRank:
		var ok bool
		if start, ok = c.IntArg(2); !ok {
			return
		}
		if end, ok = c.IntArg(3); !ok {
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = parseScoreRange(c.Args[2], c.Args[3]); !ok {
			c.Error(ErrMinMaxFloat)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = parseLexRange(c.Args[2], c.Args[3]); !ok {
			c.Error(ErrMinMaxLex)
			return
		}
	}
	key := c.Args[1]
	z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	first, last := -1, -1
	switch typ {
	case zrRank:
		n := int64(z.Len())
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		if start < 0 {
			start = 0
		}
		if start <= end && start < n {
			first, last = int(start), int(min(end, n-1))
		}
	case zrScore:
		if first = z.FirstInScore(&sr); first >= 0 {
			last = zWalkWhile(z, first, func(e datatype.ZEntry) bool { return sr.LteMax(e.Score) })
		}
	case zrLex:
		if first = z.FirstInLex(&lr); first >= 0 {
			last = zWalkWhile(z, first, func(e datatype.ZEntry) bool { return lr.LteMax(e.Member) })
		}
	}
	deleted := 0
	if first >= 0 {
		deleted = z.DeleteRange(first, last)
		if z.Len() == 0 {
			c.DB.Delete(key)
		}
	}
	c.Dirty += deleted
	if deleted > 0 {
		c.Notify(notify.Zset, zremrangeEvents[typ], key)
		if z.Len() == 0 {
			c.Notify(notify.Generic, "del", key)
		}
	}
	c.W.Int(int64(deleted))
}

// zWalkWhile returns the last rank from first on for which in holds.
func zWalkWhile(z *datatype.ZSet, first int, in func(datatype.ZEntry) bool) int {
	it := z.IterAt(first, false)
	last := first - 1
	for e, ok := it.Next(); ok && in(e); e, ok = it.Next() {
		last++
	}
	return last
}

// ---- ZUNION / ZINTER / ZDIFF ----

type zOp int

const (
	zopUnion zOp = iota
	zopInter
	zopDiff
)

// zStoreEvents are the keyspace events of the STORE forms, by operation.
var zStoreEvents = [...]string{zopUnion: "zunionstore", zopInter: "zinterstore", zopDiff: "zdiffstore"}

type zAgg int

const (
	zaggSum zAgg = iota
	zaggMin
	zaggMax
)

func (a zAgg) apply(target *float64, v float64) {
	switch a {
	case zaggSum:
		*target += v
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		if v < *target {
			*target = v
		}
	case zaggMax:
		if v > *target {
			*target = v
		}
	}
}

// zsrc is one input of a set operation: a sorted set, or a set whose
// members all score 1.
type zsrc struct {
	z      *datatype.ZSet
	s      zSetSource
	weight float64
}

func (s *zsrc) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return s.s.zsrcLen()
	}
	return 0
}

func (s *zsrc) each(fn func(member string, score float64)) {
	switch {
	case s.z != nil:
		s.z.ForEach(func(e datatype.ZEntry) bool {
			fn(e.Member, e.Score)
			return true
		})
	case s.s != nil:
		s.s.zsrcEach(func(m string) { fn(m, 1) })
	}
}

func (s *zsrc) find(member string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(member)
	case s.s != nil:
		if s.s.zsrcHas(member) {
			return 1, true
		}
	}
	return 0, false
}

// zsetop serves ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
// (card), as Redis's zunionInterDiffGenericCommand.
func zsetop(c *Ctx, numIdx int, store bool, op zOp, card bool) {
	setnum, ok := c.IntArg(numIdx)
	if !ok {
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + c.Cmd.Name + "' command")
		return
	}
	if setnum > int64(len(c.Args)-(numIdx+1)) {
		c.Error(ErrSyntax)
		return
	}
	srcs := make([]zsrc, setnum)
	j := numIdx + 1
	for i := range srcs {
		srcs[i].weight = 1
		o := c.DB.Lookup(c.Args[j])
		j++
		if o == nil {
			continue
		}
		switch o.Type() {
		case keyspace.TZSet:
			srcs[i].z = o.ZSet()
		case keyspace.TSet:
			srcs[i].s = zAsSetSource(o.Set())
		default:
			c.Error(ErrWrongType)
			return
		}
	}
	agg := zaggSum
	withscores := false
	var limit int64
	for j < len(c.Args) {
		remaining := len(c.Args) - j
		a := c.Args[j]
		switch {
		case op != zopDiff && !card && remaining >= int(setnum)+1 && EqualFold(a, "weights"):
			j++
			for i := range srcs {
				w, ok := parseScore(c.Args[j])
				if !ok {
					c.Error(errWeight)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !card && remaining >= 2 && EqualFold(a, "aggregate"):
			switch b := c.Args[j+1]; {
			case EqualFold(b, "sum"):
				agg = zaggSum
			case EqualFold(b, "min"):
				agg = zaggMin
			case EqualFold(b, "max"):
				agg = zaggMax
			default:
				c.Error(ErrSyntax)
				return
			}
			j += 2
		case !store && !card && EqualFold(a, "withscores"):
			withscores = true
			j++
		case card && remaining >= 2 && EqualFold(a, "limit"):
			v, ok := ParseInt(c.Args[j+1])
			if !ok || v < 0 {
				c.Error(errLimitNeg)
				return
			}
			limit = v
			j += 2
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if op != zopDiff {
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.len() - b.len() })
	}
	var res []datatype.ZEntry
	switch op {
	case zopInter:
		if card {
			c.W.Int(zInterCard(srcs, limit))
			return
		}
		res = zinter(srcs, agg)
	case zopUnion:
		res = zunion(srcs, agg)
	case zopDiff:
		res = zdiff(srcs)
	}
	if store {
		zStoreEntries(c, c.Args[1], res, zStoreEvents[op])
		return
	}
	slices.SortFunc(res, func(a, b datatype.ZEntry) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	zWriteEntries(c, res, withscores)
}

func zInterCard(srcs []zsrc, limit int64) int64 {
	var n int64
	if srcs[0].len() == 0 {
		return 0
	}
	stop := false
	srcs[0].each(func(m string, _ float64) {
		if stop {
			return
		}
		for i := 1; i < len(srcs); i++ {
			if _, ok := srcs[i].find(m); !ok {
				return
			}
		}
		n++
		if limit > 0 && n >= limit {
			stop = true
		}
	})
	return n
}

func zinter(srcs []zsrc, agg zAgg) []datatype.ZEntry {
	var res []datatype.ZEntry
	if srcs[0].len() == 0 {
		return nil
	}
	srcs[0].each(func(m string, s float64) {
		score := srcs[0].weight * s
		if math.IsNaN(score) {
			score = 0
		}
		for i := 1; i < len(srcs); i++ {
			v, ok := srcs[i].find(m)
			if !ok {
				return
			}
			agg.apply(&score, v*srcs[i].weight)
		}
		res = append(res, datatype.ZEntry{Member: m, Score: score})
	})
	return res
}

func zunion(srcs []zsrc, agg zAgg) []datatype.ZEntry {
	idx := map[string]int{}
	var res []datatype.ZEntry
	for i := range srcs {
		w := srcs[i].weight
		srcs[i].each(func(m string, s float64) {
			score := w * s
			if math.IsNaN(score) {
				score = 0
			}
			if k, ok := idx[m]; ok {
				agg.apply(&res[k].Score, score)
				return
			}
			idx[m] = len(res)
			res = append(res, datatype.ZEntry{Member: m, Score: score})
		})
	}
	return res
}

func zdiff(srcs []zsrc) []datatype.ZEntry {
	var res []datatype.ZEntry
	srcs[0].each(func(m string, s float64) {
		for i := 1; i < len(srcs); i++ {
			if _, ok := srcs[i].find(m); ok {
				return
			}
		}
		res = append(res, datatype.ZEntry{Member: m, Score: s})
	})
	return res
}

// ---- pops ----

// zPopReply pops up to count entries (count -1: one, flat reply) from the
// sorted set at key and writes the reply in the shape Redis's
// genericZpopCommand uses for the calling command.
func zPopReply(c *Ctx, key []byte, z *datatype.ZSet, max bool, count int64, nested, emitKey bool) {
	single := count == -1
	if single {
		count = 1
	}
	n := min(count, int64(z.Len()))
	switch {
	case !nested && !emitKey:
		c.W.Array(int(2 * n))
	case nested && !emitKey:
		c.W.Array(int(n))
	case !nested && emitKey:
		c.W.Array(int(2*n + 1))
		c.W.Bulk(key)
	default:
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(int(n))
	}
	for i := int64(0); i < n; i++ {
		e, _ := z.Pop(max)
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(e.Member)
		c.W.Double(e.Score)
	}
	c.Dirty += int(n)
	if n > 0 {
		if max {
			c.Notify(notify.Zset, "zpopmax", key)
		} else {
			c.Notify(notify.Zset, "zpopmin", key)
		}
	}
	if z.Len() == 0 {
		c.DB.Delete(key)
		c.Notify(notify.Generic, "del", key)
	}
}

// ZPOPMIN|ZPOPMAX key [count]
func zpop(c *Ctx, max bool) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		v, ok := ParseInt(c.Args[2])
		if !ok || v < 0 {
			c.Error(ErrNotPositive)
			return
		}
		count = v
	}
	key := c.Args[1]
	z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	if z == nil || count == 0 {
		c.W.Array(0)
		return
	}
	zPopReply(c, key, z, max, count, c.W.Resp3() && count != -1, false)
}

// zPopFirst pops from the first non-empty sorted set among keys. It
// reports whether it replied (served or an error). While serving a
// blocked client, keys of another type are skipped, as Redis only serves
// from sorted sets.
func zPopFirst(c *Ctx, keys [][]byte, max bool, count int64, nested bool) bool {
	for _, key := range keys {
		o := c.DB.LookupWrite(key)
		if o == nil {
			continue
		}
		if o.Type() != keyspace.TZSet {
			if c.Serving {
				continue
			}
			c.Error(ErrWrongType)
			return true
		}
		z := o.ZSet()
		if z.Len() == 0 {
			continue
		}
		llen := int64(z.Len())
		zPopReply(c, key, z, max, count, nested, true)
		// Sent to the AOF and replicas as the ZPOPMIN/ZPOPMAX it did, with
		// the count it popped (BZPOPMIN: without one), as Redis.
		name := []byte("ZPOPMIN")
		if max {
			name = []byte("ZPOPMAX")
		}
		if count == -1 {
			c.Propagate(name, key)
		} else {
			c.Propagate(name, key, strconv.AppendInt(nil, min(count, llen), 10))
		}
		return true
	}
	return false
}

// BZPOPMIN|BZPOPMAX key [key ...] timeout
func bzpop(c *Ctx, max bool) {
	deadline, ok := c.ParseTimeout(len(c.Args) - 1)
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	if zPopFirst(c, keys, max, -1, false) {
		return
	}
	if c.NoBlock && !c.Serving {
		c.W.NullArray()
		return
	}
	c.Block(keys, deadline, false)
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
func zmpop(c *Ctx, numIdx int, block bool) {
	numkeys, ok := ParseInt(c.Args[numIdx])
	if !ok || numkeys < 1 {
		c.Error(ErrNumKeysZero)
		return
	}
	whereIdx := int64(numIdx) + numkeys + 1
	if whereIdx >= int64(len(c.Args)) {
		c.Error(ErrSyntax)
		return
	}
	var max bool
	switch w := c.Args[whereIdx]; {
	case EqualFold(w, "min"):
	case EqualFold(w, "max"):
		max = true
	default:
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		if count == -1 && EqualFold(c.Args[j], "count") && j+1 < len(c.Args) {
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok || v < 1 {
				c.Error(errCountPositive)
				return
			}
			count = v
			continue
		}
		c.Error(ErrSyntax)
		return
	}
	if count == -1 {
		count = 1
	}
	keys := c.Args[numIdx+1 : whereIdx]
	var deadline int64
	if block {
		if deadline, ok = c.ParseTimeout(1); !ok {
			return
		}
	}
	if zPopFirst(c, keys, max, count, true) {
		return
	}
	if !block || (c.NoBlock && !c.Serving) {
		c.W.NullArray()
		return
	}
	c.Block(keys, deadline, false)
}

// ---- ZRANDMEMBER ----

func cmdZrandmember(c *Ctx) {
	if len(c.Args) < 3 {
		z, ok := zsetLookup(c, c.Args[1], false)
		if !ok {
			return
		}
		if z == nil {
			c.W.Null()
			return
		}
		c.W.BulkString(z.Random().Member)
		return
	}
	l, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if l == math.MinInt64 {
		c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withscores := false
	if len(c.Args) > 4 || (len(c.Args) == 4 && !EqualFold(c.Args[3], "withscores")) {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Args) == 4 {
		withscores = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.Error(errZRandRange)
			return
		}
	}
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.W.Array(0)
		return
	}
	size := z.Len()
	var res []datatype.ZEntry
	switch {
	case l < 0 || l == 1:
		// Repeats allowed: independent draws.
		n := l
		if n < 0 {
			n = -n
		}
		res = make([]datatype.ZEntry, 0, min(n, 1<<16))
		bytes := int64(len(c.W.Buf))
		for i := int64(0); i < n; i++ {
			e := z.Random()
			res = append(res, e)
			if bytes += int64(len(e.Member)) + 32; c.OutputLimit > 0 && bytes >= c.OutputLimit {
				break // the client is closed unsent: stop, as Redis
			}
		}
	case l >= int64(size):
		res = make([]datatype.ZEntry, 0, size)
		z.ForEach(func(e datatype.ZEntry) bool {
			res = append(res, e)
			return true
		})
		rand.Shuffle(len(res), func(i, j int) { res[i], res[j] = res[j], res[i] })
	default:
		// Distinct ranks: a partial shuffle when many are wanted, rejection
		// sampling when few.
		var ranks []int
		if l*3 > int64(size) {
			ranks = rand.Perm(size)[:l]
		} else {
			seen := make(map[int]bool, l)
			for int64(len(ranks)) < l {
				r := rand.IntN(size)
				if !seen[r] {
					seen[r] = true
					ranks = append(ranks, r)
				}
			}
		}
		res = make([]datatype.ZEntry, len(ranks))
		for i, r := range ranks {
			res[i] = z.At(r)
		}
	}
	zWriteEntries(c, res, withscores)
}

// ---- ZSCAN ----

// ZSCAN key cursor [MATCH pattern] [COUNT count]
func cmdZscan(c *Ctx) {
	cursor, ok := scanCursor(c.Args[2])
	if !ok {
		c.Error(ErrInvalidCursor)
		return
	}
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Array(2)
		c.W.BulkString("0")
		c.W.Array(0)
		return
	}
	count := int64(10)
	var pat []byte
	for i := 3; i < len(c.Args); i += 2 {
		left := len(c.Args) - i
		switch {
		case EqualFold(c.Args[i], "count") && left >= 2:
			v, ok := c.IntArg(i + 1)
			if !ok {
				return
			}
			if v < 1 {
				c.Error(ErrSyntax)
				return
			}
			count = v
		case EqualFold(c.Args[i], "match") && left >= 2:
			pat = c.Args[i+1]
			if len(pat) == 1 && pat[0] == '*' {
				pat = nil
			}
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	var res []datatype.ZEntry
	next := z.Scan(cursor, int(min(count, math.MaxInt32)), func(e datatype.ZEntry) {
		if pat == nil || GlobMatch(pat, []byte(e.Member), false) {
			res = append(res, e)
		}
	})
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.Array(2 * len(res))
	for _, e := range res {
		c.W.BulkString(e.Member)
		var tmp [32]byte
		c.W.Bulk(zAppendScore(tmp[:0], e.Score))
	}
}

// zstr views b as a string without copying, for lookups that do not
// keep it (ZSet.Score, Rank, Update, Delete).
func zstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func zAppendScore(b []byte, f float64) []byte { return resp.AppendDouble(b, f) }

// zSetSource is what the set operations read from a plain set input.
type zSetSource interface {
	zsrcLen() int
	zsrcHas(member string) bool
	zsrcEach(fn func(member string))
}

// zSetReader is the part of datatype.Set the set operations use.
type zSetReader interface {
	Len() int
	Has(m []byte) bool
	ForEach(fn func(m []byte) bool)
}

// zSetAdapter reads a plain set as a set-operation input (score 1).
type zSetAdapter struct{ s zSetReader }

func zAsSetSource(s *datatype.Set) zSetSource {
	r, _ := any(s).(zSetReader)
	return zSetAdapter{r}
}

func (a zSetAdapter) zsrcLen() int {
	if a.s == nil {
		return 0
	}
	return a.s.Len()
}

func (a zSetAdapter) zsrcHas(member string) bool {
	return a.s != nil && a.s.Has(unsafe.Slice(unsafe.StringData(member), len(member)))
}

func (a zSetAdapter) zsrcEach(fn func(m string)) {
	if a.s == nil {
		return
	}
	a.s.ForEach(func(m []byte) bool {
		fn(string(m))
		return true
	})
}
