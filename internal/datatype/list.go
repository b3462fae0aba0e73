package datatype

import (
	"bytes"
	"iter"
)

// List is a Redis list: a deque of nodes, each a packed buffer of entries
// in the manner of Redis's quicklist of listpacks. Pushing and popping at
// either end is O(1) amortized; reaching index i walks the nodes from the
// nearer end, then the entries of one node.
//
// A node keeps its entries in b[h:len(b)] with free room on both sides,
// so a node fills from whichever end the list grows at. One entry is
//
//	uvarint(len(v)) | v | backlen
//
// where backlen is the size of the first two parts written so that it
// can be read backwards (the last byte holds the low 7 bits; a set high
// bit means more bytes precede). Nodes hold at most the bytes or entries
// that its Limits.ListMaxListpackSize allows; a larger value gets a node of its own.
//
// Slices returned by List methods alias the list's storage: they are
// valid until the list is next modified.
//
// A List is 48 bytes and a node 32 (int32 offsets and counts: a node
// holds at most a few MB, a list at most 2^31 nodes), the size classes of
// the allocator that a short list's two allocations fill exactly.
type List struct {
	lim *Limits  // list-max-listpack-size
	nb  []*lnode // node storage; the nodes are nb[off:off+cnt]
	off int32
	cnt int32
	n   int // entries
}

type lnode struct {
	b []byte // entries in b[h:]; cap(b) is the allocation
	h int32
	n int32 // entries in this node
}

// NewList returns an empty list whose nodes follow lim (nil: defaults).
func NewList(lim *Limits) *List { return &List{lim: lim} }

// Limits returns the thresholds the list follows.
func (l *List) Limits() *Limits { return l.lim }

// Len returns the number of elements.
func (l *List) Len() int { return l.n }

// Encoding is what OBJECT ENCODING reports: Redis 7.0 keeps every list in
// a quicklist, whatever its size (listpack-encoded lists came with 7.2).
func (l *List) Encoding() string { return "quicklist" }

// fits reports whether nd can take another entry of size es.
func (nd *lnode) fits(es int, lim *Limits) bool {
	if nd.n == 0 {
		return true
	}
	maxBytes, maxEntries := lim.listNode()
	return int(nd.n) < maxEntries && nd.used()+es <= maxBytes
}

func (nd *lnode) used() int { return len(nd.b) - int(nd.h) }

// --- entry encoding ---

func uvarintLen(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// entrySize is the encoded size of a value of length vl.
func entrySize(vl int) int {
	s := uvarintLen(vl) + vl
	return s + uvarintLen(s)
}

// putEntry encodes v into dst, which is exactly entrySize(len(v)) long.
func putEntry(dst, v []byte) {
	i := 0
	x := len(v)
	for x >= 0x80 {
		dst[i] = byte(x) | 0x80
		x >>= 7
		i++
	}
	dst[i] = byte(x)
	i++
	i += copy(dst[i:], v)
	// backlen, written from the end backwards
	s := i
	p := len(dst) - 1
	for {
		c := byte(s & 0x7f)
		s >>= 7
		if s != 0 {
			c |= 0x80
		}
		dst[p] = c
		if s == 0 {
			break
		}
		p--
	}
}

// entryAt decodes the entry starting at off: its value and the offset of
// the next entry.
func entryAt(b []byte, off int) (v []byte, next int) {
	x, shift := 0, 0
	p := off
	for {
		c := b[p]
		p++
		x |= int(c&0x7f) << shift
		if c < 0x80 {
			break
		}
		shift += 7
	}
	v = b[p : p+x]
	p += x
	return v, p + uvarintLen(p-off)
}

// entryBefore returns the offset of the entry that ends at end.
func entryBefore(b []byte, end int) int {
	s, shift := 0, 0
	p := end - 1
	for {
		c := b[p]
		s |= int(c&0x7f) << shift
		if c < 0x80 {
			break
		}
		shift += 7
		p--
	}
	return p - s
}

// --- node storage ---

// roomBack makes sure need bytes can be appended to nd.b.
func (nd *lnode) roomBack(need int, lim *Limits, snug bool) {
	if cap(nd.b)-len(nd.b) >= need {
		return
	}
	used := nd.used()
	if used+need <= cap(nd.b) { // the spare room is at the front: move the entries there
		copy(nd.b[:used], nd.b[nd.h:])
		nd.b, nd.h = nd.b[:used], 0
		return
	}
	nb := make([]byte, used, growCap(cap(nd.b), used+need, need, lim, snug))
	copy(nb, nd.b[nd.h:])
	nd.b, nd.h = nb, 0
}

// roomFront makes sure need bytes can be prepended at nd.h.
func (nd *lnode) roomFront(need int, lim *Limits, snug bool) {
	if int(nd.h) >= need {
		return
	}
	used := nd.used()
	if used+need <= cap(nd.b) { // the spare room is at the back: move the entries there
		nb := nd.b[:cap(nd.b)]
		h := len(nb) - used
		copy(nb[h:], nd.b[nd.h:])
		nd.b, nd.h = nb, int32(h)
		return
	}
	c := growCap(cap(nd.b), used+need, need, lim, snug)
	nb := make([]byte, c)
	copy(nb[c-used:], nd.b[nd.h:])
	nd.b, nd.h = nb, int32(c-used)
}

// growCap picks a new buffer size for a node that needs min bytes to
// take an entry of es bytes, in the allocator's size class, not past the
// node byte cap unless min needs it. The only node of a list (snug) gets
// the smallest class that holds min: Compact trims it to that after each
// write (wasteful), so more room would be copied away at once, two copies
// of the list per push. An end node of a longer list grows by an eighth,
// and by at least room for one more entry like this one, the room Compact
// leaves it (nodeWasteful): with entries of a kilobyte, an eighth of a
// node is less than one, and every push copied the node.
func growCap(old, min, es int, lim *Limits, snug bool) int {
	c := RoundAlloc(max(min+es, old+old/8))
	if snug {
		c = RoundAlloc(min)
	}
	if c < 16 {
		c = 16
	}
	maxBytes, _ := lim.listNode()
	if c > maxBytes {
		c = maxBytes
	}
	if c < min {
		c = min
	}
	return c
}

// shrink releases memory when the node uses under a quarter of it.
func (nd *lnode) shrink() {
	used := nd.used()
	if cap(nd.b) <= 64 || used >= cap(nd.b)/4 {
		return
	}
	nb := make([]byte, used, max(used*2, 16))
	copy(nb, nd.b[nd.h:])
	nd.b, nd.h = nb, 0
}

func (nd *lnode) pushBack(v []byte, lim *Limits, snug bool) {
	es := entrySize(len(v))
	nd.roomBack(es, lim, snug)
	nd.b = nd.b[:len(nd.b)+es]
	putEntry(nd.b[len(nd.b)-es:], v)
	nd.n++
}

func (nd *lnode) pushFront(v []byte, lim *Limits, snug bool) {
	es := entrySize(len(v))
	nd.roomFront(es, lim, snug)
	nd.h -= int32(es)
	putEntry(nd.b[nd.h:int(nd.h)+es], v)
	nd.n++
}

// offset returns the byte offset of entry k (0 <= k <= nd.n).
func (nd *lnode) offset(k int) int {
	if k <= int(nd.n)/2 {
		off := int(nd.h)
		for ; k > 0; k-- {
			_, off = entryAt(nd.b, off)
		}
		return off
	}
	off := len(nd.b)
	for k = int(nd.n) - k; k > 0; k-- {
		off = entryBefore(nd.b, off)
	}
	return off
}

// insertAt puts v before the entry at off (len(nd.b) to append).
func (nd *lnode) insertAt(off int, v []byte, lim *Limits, snug bool) {
	es := entrySize(len(v))
	rel := off - int(nd.h)
	nd.roomBack(es, lim, snug)
	off = int(nd.h) + rel
	end := len(nd.b)
	nd.b = nd.b[:end+es]
	copy(nd.b[off+es:], nd.b[off:end])
	putEntry(nd.b[off:off+es], v)
	nd.n++
}

// cut removes the bytes b[from:to] holding k entries.
func (nd *lnode) cut(from, to, k int) {
	if from == int(nd.h) {
		nd.h = int32(to)
	} else {
		n := copy(nd.b[from:], nd.b[to:])
		nd.b = nd.b[:from+n]
	}
	nd.n -= int32(k)
	if nd.n == 0 {
		nd.b, nd.h = nd.b[:0], 0
	}
}

// --- node deque ---

func (l *List) node(i int) *lnode { return l.nb[int(l.off)+i] }

func (l *List) first() *lnode { return l.nb[l.off] }

func (l *List) last() *lnode { return l.nb[int(l.off+l.cnt)-1] }

// insertNode puts nd at node position i (0..cnt).
func (l *List) insertNode(i int, nd *lnode) {
	switch {
	case i == 0 && int(l.off) > 0:
		l.off--
		l.nb[l.off] = nd
	case i == int(l.cnt) && int(l.off+l.cnt) < len(l.nb):
		l.nb[int(l.off+l.cnt)] = nd
	default:
		c := len(l.nb)
		if int(l.cnt)+1 > c {
			c = max(2*c, 1)
		}
		// Leave the spare room on the side that is growing.
		off := 0
		if i == 0 {
			off = c - int(l.cnt) - 1
		}
		if c != len(l.nb) {
			nb := make([]*lnode, c)
			copy(nb[off:], l.nb[l.off:int(l.off)+i])
			copy(nb[off+i+1:], l.nb[int(l.off)+i:int(l.off+l.cnt)])
			l.nb = nb
		} else {
			// Same storage: move the two halves without clobbering.
			pre, suf := l.nb[l.off:int(l.off)+i], l.nb[int(l.off)+i:int(l.off+l.cnt)]
			if off <= int(l.off) {
				copy(l.nb[off:], pre)
				copy(l.nb[off+i+1:], suf)
			} else {
				copy(l.nb[off+i+1:], suf)
				copy(l.nb[off:], pre)
			}
			clear(l.nb[:off])
			clear(l.nb[off+int(l.cnt)+1:])
		}
		l.nb[off+i] = nd
		l.off = int32(off)
	}
	l.cnt++
}

// removeNode drops node i.
func (l *List) removeNode(i int) {
	switch {
	case i == 0:
		l.nb[l.off] = nil
		l.off++
	case i == int(l.cnt)-1:
		l.nb[int(l.off)+i] = nil
	default:
		s := l.nb[int(l.off):int(l.off+l.cnt)]
		copy(s[i:], s[i+1:])
		s[int(l.cnt)-1] = nil
	}
	l.cnt--
	if l.cnt == 0 {
		l.off = 0
		if len(l.nb) > 4 {
			l.nb = nil
		}
	} else if len(l.nb) > 16 && int(l.cnt) < len(l.nb)/4 {
		nb := make([]*lnode, 2*int(l.cnt))
		copy(nb, l.nb[l.off:int(l.off+l.cnt)])
		l.nb, l.off = nb, 0
	}
}

// seek finds element i (0 <= i < n): its node index, the node, the entry
// index within the node.
func (l *List) seek(i int) (ni int, nd *lnode, k int) {
	if i < l.n/2 {
		for ni = 0; ; ni++ {
			nd = l.node(ni)
			if i < int(nd.n) {
				return ni, nd, i
			}
			i -= int(nd.n)
		}
	}
	i = l.n - 1 - i // from the end
	for ni = int(l.cnt) - 1; ; ni-- {
		nd = l.node(ni)
		if i < int(nd.n) {
			return ni, nd, int(nd.n) - 1 - i
		}
		i -= int(nd.n)
	}
}

// --- public operations ---

// PushFront adds v (copied) at the head.
func (l *List) PushFront(v []byte) {
	if l.cnt == 0 || !l.first().fits(entrySize(len(v)), l.lim) {
		l.insertNode(0, &lnode{})
	}
	l.first().pushFront(v, l.lim, l.cnt == 1)
	l.n++
}

// PushBack adds v (copied) at the tail.
func (l *List) PushBack(v []byte) {
	if l.cnt == 0 || !l.last().fits(entrySize(len(v)), l.lim) {
		l.insertNode(int(l.cnt), &lnode{})
	}
	l.last().pushBack(v, l.lim, l.cnt == 1)
	l.n++
}

// PopFront removes and returns the head, nil if the list is empty.
func (l *List) PopFront() []byte {
	if l.n == 0 {
		return nil
	}
	nd := l.first()
	v, next := entryAt(nd.b, int(nd.h))
	nd.h = int32(next)
	nd.n--
	l.n--
	if nd.n == 0 {
		l.removeNode(0)
	}
	return v
}

// PopBack removes and returns the tail, nil if the list is empty.
func (l *List) PopBack() []byte {
	if l.n == 0 {
		return nil
	}
	nd := l.last()
	start := entryBefore(nd.b, len(nd.b))
	v, _ := entryAt(nd.b, start)
	nd.b = nd.b[:start]
	nd.n--
	l.n--
	if nd.n == 0 {
		l.removeNode(int(l.cnt) - 1)
	}
	return v
}

// Index returns element i (0 <= i < Len).
func (l *List) Index(i int) []byte {
	_, nd, k := l.seek(i)
	v, _ := entryAt(nd.b, nd.offset(k))
	return v
}

// Set replaces element i (0 <= i < Len) with v (copied).
func (l *List) Set(i int, v []byte) {
	ni, nd, k := l.seek(i)
	off := nd.offset(k)
	_, end := entryAt(nd.b, off)
	es := entrySize(len(v))
	if nd.n == 1 || nd.fits(es-(end-off), l.lim) {
		nd.replace(off, end, v, l.lim, l.cnt == 1)
		return
	}
	nd.cut(off, end, 1)
	l.n--
	l.insertIn(ni, nd, nd.offset(k), v)
}

// replace puts v in place of the entry at b[off:end].
func (nd *lnode) replace(off, end int, v []byte, lim *Limits, snug bool) {
	es := entrySize(len(v))
	delta := es - (end - off)
	if delta > 0 {
		rel := off - int(nd.h)
		nd.roomBack(delta, lim, snug)
		off = int(nd.h) + rel
		end = off + es - delta
		nd.b = nd.b[:len(nd.b)+delta]
		copy(nd.b[off+es:], nd.b[end:len(nd.b)-delta])
	} else if delta < 0 {
		copy(nd.b[off+es:], nd.b[end:])
		nd.b = nd.b[:len(nd.b)+delta]
	}
	putEntry(nd.b[off:off+es], v)
}

// Insert puts v (copied) before element i (0 <= i <= Len).
func (l *List) Insert(i int, v []byte) {
	switch {
	case i == 0:
		l.PushFront(v)
	case i >= l.n:
		l.PushBack(v)
	default:
		ni, nd, k := l.seek(i)
		l.insertIn(ni, nd, nd.offset(k), v)
	}
}

// InsertPivot inserts v before (or after) the first element equal to
// pivot. It reports whether pivot was found.
func (l *List) InsertPivot(pivot, v []byte, after bool) bool {
	for ni := 0; ni < int(l.cnt); ni++ {
		nd := l.node(ni)
		for off := int(nd.h); off < len(nd.b); {
			e, next := entryAt(nd.b, off)
			if bytes.Equal(e, pivot) {
				if after {
					off = next
				}
				l.insertIn(ni, nd, off, v)
				return true
			}
			off = next
		}
	}
	return false
}

// insertIn inserts v at byte offset off of node ni, splitting the node
// or using a neighbour when it is full.
func (l *List) insertIn(ni int, nd *lnode, off int, v []byte) {
	l.n++
	es := entrySize(len(v))
	if nd.fits(es, l.lim) {
		nd.insertAt(off, v, l.lim, l.cnt == 1)
		return
	}
	if off == int(nd.h) {
		if ni > 0 && l.node(ni-1).fits(es, l.lim) {
			l.node(ni-1).pushBack(v, l.lim, false)
			return
		}
		nn := &lnode{}
		nn.pushBack(v, l.lim, false)
		l.insertNode(ni, nn)
		return
	}
	if off == len(nd.b) {
		if ni+1 < int(l.cnt) && l.node(ni+1).fits(es, l.lim) {
			l.node(ni+1).pushFront(v, l.lim, false)
			return
		}
		nn := &lnode{}
		nn.pushBack(v, l.lim, false)
		l.insertNode(ni+1, nn)
		return
	}
	// Split: the entries from off on move to a new node after nd.
	k := 0
	for p := int(nd.h); p < off; k++ {
		_, p = entryAt(nd.b, p)
	}
	tail := &lnode{b: make([]byte, len(nd.b)-off, growCap(0, len(nd.b)-off, 0, l.lim, false)), n: nd.n - int32(k)}
	copy(tail.b, nd.b[off:])
	nd.b = nd.b[:off]
	nd.n = int32(k)
	nd.shrink()
	l.insertNode(ni+1, tail)
	if nd.fits(es, l.lim) {
		nd.pushBack(v, l.lim, false)
	} else if tail.fits(es, l.lim) {
		tail.pushFront(v, l.lim, false)
	} else {
		nn := &lnode{}
		nn.pushBack(v, l.lim, false)
		l.insertNode(ni+1, nn)
	}
}

// Range yields the elements from index start to stop inclusive, head to
// tail (0 <= start, stop < Len; nothing when start > stop).
func (l *List) Range(start, stop int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if start > stop || start >= l.n || stop < 0 {
			return
		}
		left := stop - start + 1
		ni, nd, k := l.seek(start)
		off := nd.offset(k)
		for {
			for ; off < len(nd.b); left-- {
				if left == 0 {
					return
				}
				var v []byte
				v, off = entryAt(nd.b, off)
				if !yield(v) {
					return
				}
			}
			if ni++; ni >= int(l.cnt) || left == 0 {
				return
			}
			nd = l.node(ni)
			off = int(nd.h)
		}
	}
}

// RangeRev yields the elements from index start down to stop inclusive,
// tail to head (0 <= stop, start < Len; nothing when start < stop).
func (l *List) RangeRev(start, stop int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if start < stop || stop >= l.n || start < 0 {
			return
		}
		left := start - stop + 1
		ni, nd, k := l.seek(start)
		end := nd.offset(k + 1)
		for {
			for ; end > int(nd.h); left-- {
				if left == 0 {
					return
				}
				p := entryBefore(nd.b, end)
				v, _ := entryAt(nd.b, p)
				end = p
				if !yield(v) {
					return
				}
			}
			if ni--; ni < 0 || left == 0 {
				return
			}
			nd = l.node(ni)
			end = len(nd.b)
		}
	}
}

// All yields every element, head to tail.
func (l *List) All() iter.Seq[[]byte] { return l.Range(0, l.n-1) }

// Backward yields every element, tail to head.
func (l *List) Backward() iter.Seq[[]byte] { return l.RangeRev(l.n-1, 0) }

// DeleteRange removes count elements from index start on
// (0 <= start, start+count <= Len).
func (l *List) DeleteRange(start, count int) {
	if count <= 0 {
		return
	}
	ni, nd, k := l.seek(start)
	l.n -= count
	for count > 0 {
		if k == 0 && count >= int(nd.n) {
			count -= int(nd.n)
			l.removeNode(ni)
			if count > 0 {
				nd = l.node(ni)
			}
			continue
		}
		from := nd.offset(k)
		to, m := from, 0
		for ; m < count && to < len(nd.b); m++ {
			_, to = entryAt(nd.b, to)
		}
		nd.cut(from, to, m)
		nd.shrink()
		count -= m
		if count > 0 {
			ni++
			nd, k = l.node(ni), 0
		}
	}
	l.mergeAround(ni - 1)
	l.mergeAround(ni)
}

// Trim keeps the elements from start to stop inclusive
// (0 <= start <= stop < Len) and drops the rest.
func (l *List) Trim(start, stop int) {
	l.DeleteRange(stop+1, l.n-stop-1)
	l.DeleteRange(0, start)
}

// Remove deletes elements equal to v: up to count from the head when
// count > 0, up to -count from the tail when count < 0, all when 0. It
// returns how many it removed.
func (l *List) Remove(v []byte, count int) int {
	removed := 0
	limit := count
	if limit < 0 {
		limit = -limit
	}
	if count >= 0 {
		for ni := 0; ni < int(l.cnt) && (count == 0 || removed < limit); {
			nd := l.node(ni)
			removed += nd.filter(v, limit-removed, count == 0)
			if nd.n == 0 {
				l.removeNode(ni)
				continue
			}
			ni++
		}
	} else {
		for ni := int(l.cnt) - 1; ni >= 0 && removed < limit; ni-- {
			nd := l.node(ni)
			removed += nd.filterRev(v, limit-removed)
			if nd.n == 0 {
				l.removeNode(ni)
			}
		}
	}
	l.n -= removed
	if removed > 0 {
		for ni := 0; ni < int(l.cnt); {
			if !l.mergeAround(ni) {
				ni++
			}
		}
	}
	return removed
}

// filter removes entries equal to v, head first, at most max unless all.
func (nd *lnode) filter(v []byte, max int, all bool) int {
	w, removed := int(nd.h), 0
	for r := int(nd.h); r < len(nd.b); {
		e, next := entryAt(nd.b, r)
		if (all || removed < max) && bytes.Equal(e, v) {
			removed++
		} else {
			w += copy(nd.b[w:], nd.b[r:next])
		}
		r = next
	}
	if removed > 0 {
		nd.b = nd.b[:w]
		nd.n -= int32(removed)
		nd.shrink()
	}
	return removed
}

// filterRev removes up to max entries equal to v, tail first.
func (nd *lnode) filterRev(v []byte, max int) int {
	w, removed := len(nd.b), 0
	for r := len(nd.b); r > int(nd.h); {
		p := entryBefore(nd.b, r)
		e, _ := entryAt(nd.b, p)
		if removed < max && bytes.Equal(e, v) {
			removed++
		} else {
			w -= r - p
			copy(nd.b[w:], nd.b[p:r])
		}
		r = p
	}
	if removed > 0 {
		nd.h = int32(w)
		nd.n -= int32(removed)
		if nd.n == 0 {
			nd.b, nd.h = nd.b[:0], 0
		}
		nd.shrink()
	}
	return removed
}

// mergeAround joins node ni with its next neighbour when both fit in
// half a node. It reports whether it did.
func (l *List) mergeAround(ni int) bool {
	if ni < 0 || ni+1 >= int(l.cnt) {
		return false
	}
	a, b := l.node(ni), l.node(ni+1)
	maxBytes, maxEntries := l.lim.listNode()
	if a.used()+b.used() > maxBytes/2 || int(a.n+b.n) > maxEntries {
		return false
	}
	a.roomBack(b.used(), l.lim, false)
	a.b = append(a.b, b.b[b.h:]...)
	a.n += b.n
	l.removeNode(ni + 1)
	return true
}

// Clone returns a deep copy.
func (l *List) Clone() *List {
	c := &List{lim: l.lim, n: l.n, cnt: l.cnt, nb: make([]*lnode, int(l.cnt))}
	for i := 0; i < int(l.cnt); i++ {
		nd := l.node(i)
		b := make([]byte, nd.used())
		copy(b, nd.b[nd.h:])
		c.nb[i] = &lnode{b: b, n: nd.n}
	}
	return c
}

// MemoryUsage estimates the bytes the list takes, as MEMORY USAGE reports.
func (l *List) MemoryUsage() int {
	m := 48 + 8*len(l.nb)
	for i := 0; i < int(l.cnt); i++ {
		m += 32 + cap(l.node(i).b)
	}
	return m
}

// ApproxMemory is MemoryUsage in constant time: the node sizes are
// sampled from both ends of the list (for the maxmemory accounting, which
// measures after every write).
func (l *List) ApproxMemory() int {
	if l.cnt <= 8 {
		return l.MemoryUsage()
	}
	sum := 0
	for i := 0; i < 4; i++ {
		sum += cap(l.node(i).b) + cap(l.node(int(l.cnt)-1-i).b)
	}
	return 48 + 8*len(l.nb) + int(l.cnt)*32 + sum*int(l.cnt)/8
}

// Nodes returns the number of nodes (Redis's quicklist length).
func (l *List) Nodes() int { return int(l.cnt) }
