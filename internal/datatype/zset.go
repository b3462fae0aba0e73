package datatype

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"unsafe"
)

// ZSet is a Redis sorted set: members ordered by (score, member bytes).
//
// Like Redis it has two encodings. A small set ("listpack") is one byte
// slice of member and score pairs in order (zlistpack.go), searched
// linearly, as Redis searches its listpack. Once it holds
// more than zset-max-listpack-entries members or a member longer than
// zset-max-listpack-value bytes (its Limits) it becomes a "skiplist": a skiplist with span
// counts (O(log n) rank operations) plus a hash table from member to node
// that SCAN can walk with a reverse-binary cursor. A set never converts
// back, as in Redis; the STORE commands pick the encoding of the result
// from its final size (NewZSetSized, BuildZSet).
//
// Ranks are 0-based, ascending. A ZSet is not safe for concurrent use.
type ZSet struct {
	// lp is the listpack encoding (zlistpack.go; zlpEmpty when empty),
	// lp.p nil in the skiplist encoding.
	lp packed
	// u is the listpack's *Limits (zset-max-listpack-entries and
	// -value), or the skiplist encoding's *zskip. One pointer for both,
	// and a packed listpack, keep a ZSet at 24 bytes.
	u unsafe.Pointer
}

// zskip is the skiplist encoding: the list, and a hash table from member
// to node.
type zskip struct {
	sl   skiplist
	dict zdict
}

// lim returns the thresholds of a listpack set.
func (z *ZSet) lim() *Limits { return (*Limits)(z.u) }

// sk returns the skiplist encoding, nil for a listpack.
func (z *ZSet) sk() *zskip {
	if z.lp.p != nil {
		return nil
	}
	return (*zskip)(z.u)
}

// ZEntry is one member with its score.
type ZEntry struct {
	Member string
	Score  float64
}

// Less orders entries as a sorted set does.
func (e ZEntry) Less(o ZEntry) bool {
	return e.Score < o.Score || (e.Score == o.Score && e.Member < o.Member)
}

func cmpEntry(a, b ZEntry) int {
	if a.Score < b.Score {
		return -1
	}
	if a.Score > b.Score {
		return 1
	}
	return cmp.Compare(a.Member, b.Member)
}

// NewZSet returns an empty sorted set in the listpack encoding (the
// skiplist encoding when the listpack is disabled by a zero entry limit).
func NewZSet(lim *Limits) *ZSet { return NewZSetSized(lim, 0, 0) }

// NewZSetSized returns an empty sorted set in the encoding Redis picks for
// a set that will hold n members, the longest maxlen bytes long.
func NewZSetSized(lim *Limits, n, maxlen int) *ZSet {
	z := &ZSet{u: unsafe.Pointer(lim)}
	z.lp.set(zlpEmpty)
	entries := lim.Get(ZSetMaxListpackEntries)
	if n > entries || maxlen > lim.Get(ZSetMaxListpackValue) || entries == 0 {
		z.toSkiplist()
	}
	return z
}

// BuildZSet returns a sorted set holding entries (unique members, any
// order; the slice is reordered), encoded by its final size. It keeps
// none of the members' strings.
func BuildZSet(lim *Limits, entries []ZEntry) *ZSet {
	slices.SortFunc(entries, cmpEntry)
	maxlen := 0
	for _, e := range entries {
		maxlen = max(maxlen, len(e.Member))
	}
	z := NewZSetSized(lim, len(entries), maxlen)
	if z.lp.p != nil {
		if len(entries) == 0 {
			return z
		}
		size := zlpHeader
		for i := range entries {
			entries[i].Score = lpScore(entries[i].Score)
			size += zlpEntryLen(entries[i].Member, entries[i].Score)
		}
		lp := make([]byte, zlpHeader, size)
		for _, e := range entries {
			lp = zlpAppend(lp, e.Member, e.Score)
		}
		zlpSetCount(lp, len(entries))
		z.lp.set(lp)
		return z
	}
	// The members are copied: they may alias another set's listpack,
	// which insertions shift in place (zlistpack.go).
	for _, e := range entries {
		n := z.sk().sl.insert(e.Score, strings.Clone(e.Member))
		z.sk().dict.add(n)
	}
	return z
}

// Len returns the number of members.
func (z *ZSet) Len() int {
	if z.lp.p != nil {
		return zlpCount(z.lp.get())
	}
	return z.sk().sl.length
}

// Encoding returns "listpack" or "skiplist", as OBJECT ENCODING.
func (z *ZSet) Encoding() string {
	if z.lp.p != nil {
		return "listpack"
	}
	return "skiplist"
}

// Clone returns a deep copy (same encoding).
func (z *ZSet) Clone() *ZSet {
	if z.lp.p != nil {
		c := &ZSet{u: z.u}
		c.lp.set(slices.Clip(slices.Clone(z.lp.get())))
		return c
	}
	c := &ZSet{}
	c.lp.set(zlpEmpty)
	c.toSkiplist()
	c.sk().dict.resize(z.sk().dict.count)
	for n := z.sk().sl.head.lv[0].fwd; n != nil; n = n.lv[0].fwd {
		c.sk().dict.add(c.sk().sl.insert(n.score, n.member))
	}
	return c
}

// MemoryUsage estimates the bytes the set holds (MEMORY USAGE).
func (z *ZSet) MemoryUsage() int {
	n := 0
	if z.lp.p != nil {
		return cap(z.lp.get())
	}
	// A node is 64 bytes plus 16 per level (4/3 levels on average); the
	// hash table adds a bucket pointer per slot.
	// Member lengths are sampled from the first nodes, as Redis samples.
	sampled, bytes := 0, 0
	for x := z.sk().sl.head.lv[0].fwd; x != nil && sampled < 64; x = x.lv[0].fwd {
		sampled++
		bytes += len(x.member)
	}
	n = 8*len(z.sk().dict.b) + zslMaxLevel*16 + z.sk().sl.length*(64+21)
	if sampled > 0 {
		n += bytes * z.sk().sl.length / sampled
	}
	return n
}

// toSkiplist converts the listpack encoding to the skiplist encoding.
func (z *ZSet) toSkiplist() {
	sk := &zskip{sl: *newSkiplist()}
	sk.dict.resize(zlpCount(z.lp.get()))
	for off := zlpHeader; off < len(z.lp.get()); {
		var m string
		var score float64
		m, score, off = zlpNext(z.lp.get(), off)
		sk.dict.add(sk.sl.insert(score, strings.Clone(m)))
	}
	z.lp.set(nil)
	z.u = unsafe.Pointer(sk)
}

// lpScore is a score as Redis's listpack stores it: as text, where -0
// becomes 0 (the skiplist keeps -0).
func lpScore(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// Score returns a member's score.
func (z *ZSet) Score(member string) (float64, bool) {
	if z.lp.p != nil {
		if off, _ := zlpFind(z.lp.get(), member); off >= 0 {
			_, score, _ := zlpNext(z.lp.get(), off)
			return score, true
		}
		return 0, false
	}
	if n := z.sk().dict.find(member); n != nil {
		return n.score, true
	}
	return 0, false
}

// Insert adds a member that is not in the set. It converts a listpack
// that would grow past the limits first, as Redis's zsetAdd. It does not
// keep member (the listpack and the skiplist store copies), so member may
// alias a request buffer.
func (z *ZSet) Insert(member string, score float64) {
	if z.lp.p != nil {
		if zlpCount(z.lp.get())+1 > z.lim().Get(ZSetMaxListpackEntries) || len(member) > z.lim().Get(ZSetMaxListpackValue) {
			z.toSkiplist()
		} else {
			z.lpInsert(member, lpScore(score))
			return
		}
	}
	z.sk().dict.add(z.sk().sl.insert(score, strings.Clone(member)))
}

// Update changes the score of a member that is in the set. It does not
// keep member (the stored copy is reused).
func (z *ZSet) Update(member string, score float64) {
	if z.lp.p != nil {
		z.lpUpdate(member, lpScore(score))
		return
	}
	n := z.sk().dict.find(member)
	if n == nil {
		return
	}
	nn := z.sk().sl.updateScore(n, score)
	if nn != n {
		z.sk().dict.remove(member)
		z.sk().dict.add(nn)
	}
}

// Delete removes a member, reporting whether it was there. Score, Rank,
// Update and Delete do not keep member, so it may alias a request buffer.
func (z *ZSet) Delete(member string) bool {
	if z.lp.p != nil {
		off, _ := zlpFind(z.lp.get(), member)
		if off < 0 {
			return false
		}
		_, _, end := zlpNext(z.lp.get(), off)
		z.lp.set(zlpSplice(z.lp.get(), off, end, nil, zlpCount(z.lp.get())-1))
		return true
	}
	n := z.sk().dict.remove(member)
	if n == nil {
		return false
	}
	z.sk().sl.delete(n.score, n.member)
	z.sk().dict.shrinkIfSparse()
	return true
}

// Rank returns a member's ascending 0-based rank.
func (z *ZSet) Rank(member string) (int, bool) {
	if z.lp.p != nil {
		_, r := zlpFind(z.lp.get(), member)
		return r, r >= 0
	}
	n := z.sk().dict.find(member)
	if n == nil {
		return 0, false
	}
	return z.sk().sl.rank(n.score, n.member) - 1, true
}

// At returns the entry at a 0-based rank (0 <= rank < Len).
func (z *ZSet) At(rank int) ZEntry {
	if z.lp.p != nil {
		m, score, _ := zlpNext(z.lp.get(), zlpOffset(z.lp.get(), rank))
		return ZEntry{m, score}
	}
	n := z.sk().sl.byRank(rank + 1)
	return ZEntry{n.member, n.score}
}

// ZIter walks a sorted set from a rank, forward or backward. The set must
// not be modified while an iterator is in use.
type ZIter struct {
	z   *ZSet
	off int    // offset of the next entry (listpack), -1 when done
	n   *znode // next node (skiplist)
	rev bool
}

// IterAt returns an iterator positioned at rank (0 <= rank < Len, or the
// iterator is empty), moving toward lower ranks when rev.
func (z *ZSet) IterAt(rank int, rev bool) ZIter {
	it := ZIter{z: z, off: -1, rev: rev}
	if rank < 0 || rank >= z.Len() {
		return it
	}
	if z.lp.p == nil {
		it.n = z.sk().sl.byRank(rank + 1)
	} else {
		it.off = zlpOffset(z.lp.get(), rank)
	}
	return it
}

// Next returns the current entry and advances.
func (it *ZIter) Next() (ZEntry, bool) {
	if it.z.lp.p != nil {
		lp := it.z.lp.get()
		if it.off < 0 || it.off >= len(lp) {
			return ZEntry{}, false
		}
		m, score, next := zlpNext(lp, it.off)
		switch {
		case !it.rev:
			it.off = next
		case it.off == zlpHeader:
			it.off = -1
		default:
			it.off = zlpPrev(lp, it.off)
		}
		return ZEntry{m, score}, true
	}
	n := it.n
	if n == nil {
		return ZEntry{}, false
	}
	if it.rev {
		it.n = n.back
	} else {
		it.n = n.lv[0].fwd
	}
	return ZEntry{n.member, n.score}, true
}

// ForEach calls fn for every entry in ascending order until it returns false.
func (z *ZSet) ForEach(fn func(e ZEntry) bool) {
	it := z.IterAt(0, false)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		if !fn(e) {
			return
		}
	}
}

// ScoreRange is a score interval as ZRANGEBYSCORE takes it.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool // exclusive bounds
}

// GteMin reports whether s is above the lower bound.
func (r *ScoreRange) GteMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

// LteMax reports whether s is below the upper bound.
func (r *ScoreRange) LteMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

func (r *ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// LexBound is one end of a lexicographic range: a string, or the special
// "-" (Inf < 0: below everything) or "+" (Inf > 0: above everything).
type LexBound struct {
	Inf int
	Val string
	Ex  bool
}

// cmpLex compares a member with a bound (the bound as a value: "-" is
// smaller and "+" larger than every string).
func cmpLex(m string, b *LexBound) int {
	if b.Inf != 0 {
		return -b.Inf
	}
	return cmp.Compare(m, b.Val)
}

// LexRange is a member interval as ZRANGEBYLEX takes it.
type LexRange struct{ Min, Max LexBound }

// GteMin reports whether m is above the lower bound.
func (r *LexRange) GteMin(m string) bool {
	c := cmpLex(m, &r.Min)
	if r.Min.Ex {
		return c > 0
	}
	return c >= 0
}

// LteMax reports whether m is below the upper bound.
func (r *LexRange) LteMax(m string) bool {
	c := cmpLex(m, &r.Max)
	if r.Max.Ex {
		return c < 0
	}
	return c <= 0
}

func (r *LexRange) empty() bool {
	var c int
	if r.Min.Inf != 0 || r.Max.Inf != 0 {
		c = cmp.Compare(r.Min.Inf, r.Max.Inf)
	} else {
		c = cmp.Compare(r.Min.Val, r.Max.Val)
	}
	return c > 0 || (c == 0 && (r.Min.Ex || r.Max.Ex))
}

// FirstInScore returns the rank of the first member inside r, or -1.
func (z *ZSet) FirstInScore(r *ScoreRange) int {
	n := z.Len()
	if n == 0 || r.empty() || !r.GteMin(z.At(n-1).Score) || !r.LteMax(z.At(0).Score) {
		return -1
	}
	var rank int
	if z.lp.p != nil {
		rank = z.lpFirst(func(_ string, s float64) bool { return r.GteMin(s) })
	} else {
		_, rank = z.sk().sl.first(func(x *znode) bool { return r.GteMin(x.score) })
	}
	if rank >= n || !r.LteMax(z.At(rank).Score) {
		return -1
	}
	return rank
}

// LastInScore returns the rank of the last member inside r, or -1.
func (z *ZSet) LastInScore(r *ScoreRange) int {
	n := z.Len()
	if n == 0 || r.empty() || !r.GteMin(z.At(n-1).Score) || !r.LteMax(z.At(0).Score) {
		return -1
	}
	var rank int
	if z.lp.p != nil {
		rank = z.lpFirst(func(_ string, s float64) bool { return !r.LteMax(s) }) - 1
	} else {
		rank = z.sk().sl.last(func(x *znode) bool { return r.LteMax(x.score) })
	}
	if rank < 0 || !r.GteMin(z.At(rank).Score) {
		return -1
	}
	return rank
}

// FirstInLex returns the rank of the first member inside r, or -1. Like
// Redis it assumes all scores are equal; otherwise the answer is what
// Redis's own search would find.
func (z *ZSet) FirstInLex(r *LexRange) int {
	n := z.Len()
	if n == 0 || r.empty() || !r.GteMin(z.At(n-1).Member) || !r.LteMax(z.At(0).Member) {
		return -1
	}
	rank := -1
	if z.lp.p != nil {
		if rank = z.lpFirst(func(m string, _ float64) bool { return r.GteMin(m) }); rank == n {
			rank = -1
		}
	} else {
		_, rank = z.sk().sl.first(func(x *znode) bool { return r.GteMin(x.member) })
	}
	if rank < 0 || rank >= n || !r.LteMax(z.At(rank).Member) {
		return -1
	}
	return rank
}

// LastInLex returns the rank of the last member inside r, or -1.
func (z *ZSet) LastInLex(r *LexRange) int {
	n := z.Len()
	if n == 0 || r.empty() || !r.GteMin(z.At(n-1).Member) || !r.LteMax(z.At(0).Member) {
		return -1
	}
	rank := -1
	if z.lp.p != nil {
		rank = z.lpLast(func(m string) bool { return r.LteMax(m) })
	} else {
		rank = z.sk().sl.last(func(x *znode) bool { return r.LteMax(x.member) })
	}
	if rank < 0 || !r.GteMin(z.At(rank).Member) {
		return -1
	}
	return rank
}

// DeleteRange removes the members of ranks start..end (inclusive,
// 0 <= start <= end < Len) and returns how many it removed.
func (z *ZSet) DeleteRange(start, end int) int {
	if z.lp.p != nil {
		from := zlpOffset(z.lp.get(), start)
		to := from
		for i := start; i <= end; i++ {
			_, _, to = zlpNext(z.lp.get(), to)
		}
		z.lp.set(zlpSplice(z.lp.get(), from, to, nil, zlpCount(z.lp.get())-(end-start+1)))
		return end - start + 1
	}
	removed := z.sk().sl.deleteRankRange(start+1, end+1, func(n *znode) { z.sk().dict.remove(n.member) })
	z.sk().dict.shrinkIfSparse()
	return removed
}

// Pop removes and returns the lowest (or, when max, highest) entry.
func (z *ZSet) Pop(max bool) (ZEntry, bool) {
	n := z.Len()
	if n == 0 {
		return ZEntry{}, false
	}
	rank := 0
	if max {
		rank = n - 1
	}
	e := z.At(rank)
	z.DeleteRange(rank, rank)
	return e, true
}

// Random returns a uniformly chosen entry (the set must not be empty).
func (z *ZSet) Random() ZEntry { return z.At(rand.IntN(z.Len())) }

// Scan walks the set as ZSCAN: a listpack is returned whole with cursor
// 0; a skiplist's hash table is walked bucket by bucket from cursor until
// about count entries were seen (at most 10*count buckets). It returns the
// next cursor (0 when done).
func (z *ZSet) Scan(cursor uint64, count int, fn func(e ZEntry)) uint64 {
	if z.lp.p != nil {
		z.ForEach(func(e ZEntry) bool { fn(e); return true })
		return 0
	}
	seen := 0
	maxIter := count * 10
	for {
		cursor = z.sk().dict.scan(cursor, func(n *znode) {
			seen++
			fn(ZEntry{n.member, n.score})
		})
		maxIter--
		if cursor == 0 || maxIter <= 0 || seen >= count {
			return cursor
		}
	}
}

// ---- skiplist ----

const (
	zslMaxLevel = 32
)

type zlevel struct {
	fwd  *znode
	span int
}

type znode struct {
	member string
	score  float64
	back   *znode
	hnext  *znode // next in the hash chain
	lv     []zlevel
}

type skiplist struct {
	head, tail *znode
	length     int
	level      int
}

func newSkiplist() *skiplist {
	return &skiplist{head: &znode{lv: make([]zlevel, zslMaxLevel)}, level: 1}
}

// randomLevel returns 1 with probability 3/4, 2 with 3/16, ... (p = 1/4).
func randomLevel() int {
	l := 1 + bits.TrailingZeros64(rand.Uint64()|1<<62)/2
	return min(l, zslMaxLevel)
}

// newNode allocates a node and its levels together for small heights.
func newNode(level int, score float64, member string) *znode {
	switch level {
	case 1:
		x := &struct {
			n znode
			l [1]zlevel
		}{}
		x.n.lv = x.l[:]
		x.n.score, x.n.member = score, member
		return &x.n
	case 2:
		x := &struct {
			n znode
			l [2]zlevel
		}{}
		x.n.lv = x.l[:]
		x.n.score, x.n.member = score, member
		return &x.n
	}
	return &znode{score: score, member: member, lv: make([]zlevel, level)}
}

func nodeLess(x *znode, score float64, member string) bool {
	return x.score < score || (x.score == score && x.member < member)
}

func (sl *skiplist) insert(score float64, member string) *znode {
	var update [zslMaxLevel]*znode
	var rank [zslMaxLevel]int
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		if i != sl.level-1 {
			rank[i] = rank[i+1]
		}
		for x.lv[i].fwd != nil && nodeLess(x.lv[i].fwd, score, member) {
			rank[i] += x.lv[i].span
			x = x.lv[i].fwd
		}
		update[i] = x
	}
	level := randomLevel()
	if level > sl.level {
		for i := sl.level; i < level; i++ {
			rank[i] = 0
			update[i] = sl.head
			update[i].lv[i].span = sl.length
		}
		sl.level = level
	}
	x = newNode(level, score, member)
	for i := 0; i < level; i++ {
		x.lv[i].fwd = update[i].lv[i].fwd
		update[i].lv[i].fwd = x
		x.lv[i].span = update[i].lv[i].span - (rank[0] - rank[i])
		update[i].lv[i].span = (rank[0] - rank[i]) + 1
	}
	for i := level; i < sl.level; i++ {
		update[i].lv[i].span++
	}
	if update[0] != sl.head {
		x.back = update[0]
	}
	if x.lv[0].fwd != nil {
		x.lv[0].fwd.back = x
	} else {
		sl.tail = x
	}
	sl.length++
	return x
}

func (sl *skiplist) unlink(x *znode, update *[zslMaxLevel]*znode) {
	for i := 0; i < sl.level; i++ {
		if update[i].lv[i].fwd == x {
			update[i].lv[i].span += x.lv[i].span - 1
			update[i].lv[i].fwd = x.lv[i].fwd
		} else {
			update[i].lv[i].span--
		}
	}
	if x.lv[0].fwd != nil {
		x.lv[0].fwd.back = x.back
	} else {
		sl.tail = x.back
	}
	for sl.level > 1 && sl.head.lv[sl.level-1].fwd == nil {
		sl.level--
	}
	sl.length--
}

func (sl *skiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*znode
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv[i].fwd != nil && nodeLess(x.lv[i].fwd, score, member) {
			x = x.lv[i].fwd
		}
		update[i] = x
	}
	x = x.lv[0].fwd
	if x != nil && x.score == score && x.member == member {
		sl.unlink(x, &update)
		return true
	}
	return false
}

// updateScore moves node n to a new score, reusing it when its position
// does not change. It returns the node now holding the member.
func (sl *skiplist) updateScore(n *znode, score float64) *znode {
	if (n.back == nil || n.back.score < score || (n.back.score == score && n.back.member < n.member)) &&
		(n.lv[0].fwd == nil || n.lv[0].fwd.score > score || (n.lv[0].fwd.score == score && n.lv[0].fwd.member > n.member)) {
		n.score = score
		return n
	}
	sl.delete(n.score, n.member)
	return sl.insert(score, n.member)
}

// rank returns the 1-based rank of (score, member), 0 if absent.
func (sl *skiplist) rank(score float64, member string) int {
	r := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv[i].fwd != nil && (nodeLess(x.lv[i].fwd, score, member) ||
			(x.lv[i].fwd.score == score && x.lv[i].fwd.member == member)) {
			r += x.lv[i].span
			x = x.lv[i].fwd
		}
		if x != sl.head && x.member == member && x.score == score {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r.
func (sl *skiplist) byRank(r int) *znode {
	t := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv[i].fwd != nil && t+x.lv[i].span <= r {
			t += x.lv[i].span
			x = x.lv[i].fwd
		}
		if t == r {
			return x
		}
	}
	return nil
}

// first descends to the first node for which ok holds (assuming ok is
// false then true along the list) and returns it with its 0-based rank.
func (sl *skiplist) first(ok func(*znode) bool) (*znode, int) {
	r := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv[i].fwd != nil && !ok(x.lv[i].fwd) {
			r += x.lv[i].span
			x = x.lv[i].fwd
		}
	}
	return x.lv[0].fwd, r
}

// last descends to the last node for which ok holds (assuming ok is true
// then false) and returns its 0-based rank, -1 if none.
func (sl *skiplist) last(ok func(*znode) bool) int {
	r := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv[i].fwd != nil && ok(x.lv[i].fwd) {
			r += x.lv[i].span
			x = x.lv[i].fwd
		}
	}
	return r - 1
}

// deleteRankRange removes nodes of 1-based ranks start..end, calling fn
// for each.
func (sl *skiplist) deleteRankRange(start, end int, fn func(*znode)) int {
	var update [zslMaxLevel]*znode
	traversed := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv[i].fwd != nil && traversed+x.lv[i].span < start {
			traversed += x.lv[i].span
			x = x.lv[i].fwd
		}
		update[i] = x
	}
	traversed++
	x = x.lv[0].fwd
	removed := 0
	for x != nil && traversed <= end {
		next := x.lv[0].fwd
		sl.unlink(x, &update)
		fn(x)
		removed++
		traversed++
		x = next
	}
	return removed
}

// ---- hash table (member -> node) with SCAN support ----

var zseed = maphash.MakeSeed()

type zdict struct {
	b     []*znode // power-of-two buckets
	count int
}

func (d *zdict) bucket(m string) int {
	return int(maphash.String(zseed, m) & uint64(len(d.b)-1))
}

func (d *zdict) find(m string) *znode {
	if d.count == 0 {
		return nil
	}
	for n := d.b[d.bucket(m)]; n != nil; n = n.hnext {
		if n.member == m {
			return n
		}
	}
	return nil
}

// add inserts a node whose member is not present.
func (d *zdict) add(n *znode) {
	if d.count >= len(d.b) {
		d.resize(d.count + 1)
	}
	i := d.bucket(n.member)
	n.hnext = d.b[i]
	d.b[i] = n
	d.count++
}

func (d *zdict) remove(m string) *znode {
	if d.count == 0 {
		return nil
	}
	i := d.bucket(m)
	for p := &d.b[i]; *p != nil; p = &(*p).hnext {
		if n := *p; n.member == m {
			*p = n.hnext
			n.hnext = nil
			d.count--
			return n
		}
	}
	return nil
}

// resize rehashes into the smallest power of two >= n (at least 4).
func (d *zdict) resize(n int) {
	size := 4
	for size < n {
		size *= 2
	}
	if size == len(d.b) {
		return
	}
	old := d.b
	d.b = make([]*znode, size)
	for _, n := range old {
		for n != nil {
			next := n.hnext
			i := d.bucket(n.member)
			n.hnext = d.b[i]
			d.b[i] = n
			n = next
		}
	}
}

// shrinkIfSparse shrinks a table less than 10% full, as Redis.
func (d *zdict) shrinkIfSparse() {
	if len(d.b) > 4 && d.count*10 < len(d.b) {
		d.resize(d.count)
	}
}

// scan visits one bucket (Redis's dictScan cursor: reverse-binary
// increment, so a scan survives resizes) and returns the next cursor.
func (d *zdict) scan(cursor uint64, fn func(*znode)) uint64 {
	if len(d.b) == 0 {
		return 0
	}
	mask := uint64(len(d.b) - 1)
	for n := d.b[cursor&mask]; n != nil; n = n.hnext {
		fn(n)
	}
	cursor |= ^mask
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}

// ApproxMemory is MemoryUsage in constant time: member lengths are
// sampled from the first entries (for the maxmemory accounting, which
// measures after every write).
func (z *ZSet) ApproxMemory() int {
	if z.lp.p == nil {
		bytes, sampled := 0, 0
		for x := z.sk().sl.head.lv[0].fwd; x != nil && sampled < 8; x = x.lv[0].fwd {
			sampled++
			bytes += len(x.member)
		}
		n := 8*len(z.sk().dict.b) + zslMaxLevel*16 + z.sk().sl.length*(64+21)
		if sampled > 0 {
			n += bytes * z.sk().sl.length / sampled
		}
		return n
	}
	return cap(z.lp.get())
}

// lpInsert adds a member that is not in the listpack, shifting the
// entries after it in place when the buffer has room (see zlistpack.go).
func (z *ZSet) lpInsert(member string, score float64) {
	n := zlpCount(z.lp.get()) + 1
	es := zlpEntryLen(member, score)
	if len(z.lp.get()) <= zlpHeader && cap(z.lp.get()) < zlpHeader+es { // zlpEmpty, never written
		z.lp.set(make([]byte, zlpHeader, zlpHeader+es))
		z.lp.set(zlpAppend(z.lp.get(), member, score))
		zlpSetCount(z.lp.get(), n)
		return
	}
	off := zlpInsertAt(z.lp.get(), member, score)
	end := len(z.lp.get())
	if end+es > cap(z.lp.get()) {
		nb := make([]byte, end, max(end+es, 2*cap(z.lp.get())))
		copy(nb, z.lp.get())
		z.lp.set(nb)
	}
	z.lp.set(z.lp.get()[:end+es])
	copy(z.lp.get()[off+es:], z.lp.get()[off:end])
	zlpAppend(z.lp.get()[:off], member, score)
	zlpSetCount(z.lp.get(), n)
}

// lpUpdate changes the score of member: in place when its rank and the
// score's encoded size stay the same, else by a delete and an insert.
func (z *ZSet) lpUpdate(member string, score float64) {
	off, r := zlpFind(z.lp.get(), member)
	if off < 0 {
		return
	}
	m, old, end := zlpNext(z.lp.get(), off)
	if zlpScoreLen(old) == zlpScoreLen(score) {
		e := ZEntry{m, score}
		prevOK := r == 0
		if !prevOK {
			pm, ps, _ := zlpNext(z.lp.get(), zlpPrev(z.lp.get(), off))
			prevOK = cmpEntry(ZEntry{pm, ps}, e) < 0
		}
		nextOK := end >= len(z.lp.get())
		if !nextOK {
			nm, ns, _ := zlpNext(z.lp.get(), end)
			nextOK = cmpEntry(ZEntry{nm, ns}, e) > 0
		}
		if prevOK && nextOK {
			at := off + uvarintLen(len(m)) + len(m)
			zlpAppendScore(z.lp.get()[:at], score)
			return
		}
	}
	z.lp.set(zlpSplice(z.lp.get(), off, end, nil, zlpCount(z.lp.get())-1))
	z.lpInsert(m, score)
}

// lpFirst returns the rank of the first entry for which ok holds (Len if
// none).
func (z *ZSet) lpFirst(ok func(m string, s float64) bool) int {
	r := 0
	for off := zlpHeader; off < len(z.lp.get()); r++ {
		m, s, next := zlpNext(z.lp.get(), off)
		if ok(m, s) {
			return r
		}
		off = next
	}
	return r
}

// lpLast returns the rank of the last entry whose member ok accepts, -1
// if none.
func (z *ZSet) lpLast(ok func(m string) bool) int {
	off := len(z.lp.get())
	for r := zlpCount(z.lp.get()) - 1; r >= 0; r-- {
		off = zlpPrev(z.lp.get(), off)
		if ok(zlpMember(z.lp.get(), off)) {
			return r
		}
	}
	return -1
}
