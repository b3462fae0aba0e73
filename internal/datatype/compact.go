package datatype

import (
	"slices"
	"unsafe"
)

// Compaction. The small encodings (a hash's listpack, a set's intset, a
// sorted set's listpack, a list's nodes) grow by appending, which doubles
// their buffers: right after a write up to half of one may be spare
// room. Redis's listpacks are reallocated to their exact size on every
// change; Compact does the same once per write command (the keyspace
// calls it after each), so a small collection at rest holds no more than
// its allocator size class above its bytes. A buffer is copied only when
// a smaller size class holds its bytes, so a compacted value is not
// copied again until it grows.

// sizeClasses are the Go allocator's small object sizes (runtime's
// sizeclasses.go); larger allocations are rounded to 8 KiB pages.
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
	2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
	10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// packed is the byte buffer of a small encoding (an intset, a listpack)
// held as a bare pointer and int32 length and capacity: 16 bytes where a
// slice takes 24, so that a Set, Hash or ZSet with its other pointer
// fills a 24-byte size class. A nil p means the structure is in its
// other encoding.
type packed struct {
	p    unsafe.Pointer
	n, c int32
}

// get returns the buffer (nil when p is).
func (b *packed) get() []byte {
	if b.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(b.p), b.c)[:b.n]
}

// set makes v the buffer (nil: none).
func (b *packed) set(v []byte) {
	if v == nil {
		*b = packed{}
		return
	}
	*b = packed{unsafe.Pointer(unsafe.SliceData(v)), int32(len(v)), int32(cap(v))}
}

// RoundAlloc is the size the allocator gives a request of n bytes (the
// keyspace accounts memory with it too).
func RoundAlloc(n int) int {
	if n > sizeClasses[len(sizeClasses)-1] {
		return (n + 8191) &^ 8191
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if sizeClasses[mid] < n {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return sizeClasses[lo]
}

// wasteful reports whether a buffer of n used bytes and capacity c is
// worth copying to its exact size: a smaller allocation holds it.
func wasteful(n, c int) bool { return c > n && RoundAlloc(n) < c }

// nodeWasteful is wasteful for the end nodes of a list of several nodes,
// whose entry at the end that pushes and pops change is es bytes: only
// spare room of more than an eighth plus two such entries (and 16 bytes)
// that a smaller allocation would save. A node keeps the room pushes at
// its end left it: trimming it after every push made each LPUSH onto a
// long list copy its head node twice, and with entries of a kilobyte an
// eighth of the node did not hold one, so each LPOP copied the node too.
// A list of one node is trimmed as the other small encodings are (growCap
// sizes it to its size class).
func nodeWasteful(n, c, es int) bool { return c-n > 16 && c-n > n/8+2*es && RoundAlloc(n) < c }

// clipBytes returns b in a buffer of its own size (rounded up to the
// allocator's size class), or b itself when it has little spare room.
func clipBytes(b []byte) []byte {
	if !wasteful(len(b), cap(b)) {
		return b
	}
	return append([]byte(nil), b...)
}

// Compact trims the listpack's spare room (see wasteful).
func (h *Hash) Compact() {
	if h.lp.p != nil {
		h.lp.set(clipBytes(h.lp.get()))
	}
}

// Compact trims the intset's spare room.
func (s *Set) Compact() {
	if s.is.p != nil {
		s.is.set(clipBytes(s.is.get()))
	}
}

// Compact trims the listpack's spare room. The copy is a new buffer, so
// member strings handed out stay valid (zlistpack.go).
func (z *ZSet) Compact() {
	if z.lp.p != nil {
		z.lp.set(clipBytes(z.lp.get()))
	}
}

// Compact trims the spare room of a list's end nodes (the ones pushes and
// pops change) and, for a list of a few nodes, of the node array: an end
// node of a longer list only when it has more than an eighth spare
// (nodeWasteful), the room growCap gave it for the next pushes. Trimming
// that room after each write made every LPUSH copy a node twice, garbage
// the collector then spent a third of the CPU on.
func (l *List) Compact() {
	if l.cnt == 0 {
		return
	}
	for k, i := range [2]int{int(l.off), int(l.off+l.cnt) - 1} {
		nd := l.nb[i]
		used := nd.used()
		var trim bool
		switch {
		case l.cnt == 1: // a short list: its one node is all it holds
			trim = wasteful(used, cap(nd.b))
		case nd.n == 0: // no end entry to size the room by (the node goes)
		case k == 0: // the head: its first entry
			_, next := entryAt(nd.b, int(nd.h))
			trim = nodeWasteful(used, cap(nd.b), next-int(nd.h))
		default: // the tail: its last entry
			trim = nodeWasteful(used, cap(nd.b), len(nd.b)-entryBefore(nd.b, len(nd.b)))
		}
		if trim {
			nd.b, nd.h = append([]byte(nil), nd.b[nd.h:]...), 0
		}
	}
	if l.cnt <= 8 && wasteful(8*int(l.cnt), 8*len(l.nb)) { // the node array's storage is len(l.nb)
		l.nb, l.off = slices.Clone(l.nb[l.off:int(l.off+l.cnt)]), 0
	}
}

// Reserve methods: a command that adds many elements at once (SADD,
// HSET, ZADD with many arguments) says so first, so the small encoding
// grows once to what they need instead of doubling step by step: fewer
// copies, and none of the garbage buffers a bulk load leaves between the
// values it keeps (which the allocator cannot give back). Compact trims
// what was reserved and not used. In the large encodings they do nothing.

// Reserve makes room in an intset for n more members of the current
// width (2 bytes in an empty set).
func (s *Set) Reserve(n int) {
	if s.is.p == nil || n <= 0 || s.Len()+n > s.lim().Get(SetMaxIntsetEntries) {
		return
	}
	is := s.is.get()
	if len(is) == 0 {
		is = make([]byte, 1, 1+n*2)
		is[0] = 2
		s.is.set(is)
		return
	}
	s.is.set(slices.Grow(is, n*int(is[0])))
}

// Reserve makes room in a listpack for the field-value pairs in args.
func (h *Hash) Reserve(args [][]byte) {
	if h.lp.p == nil || h.Len()+len(args)/2 > h.lim().Get(HashMaxListpackEntries) {
		return
	}
	need := 0
	for _, a := range args {
		need += hlpSize(a)
	}
	if len(h.lp.get()) == 0 {
		h.lp.set(make([]byte, 4, 4+need))
		return
	}
	h.lp.set(slices.Grow(h.lp.get(), need))
}

// Reserve makes room in a listpack for new members: args alternate
// score and member as ZADD's arguments do, scores are the parsed scores.
func (z *ZSet) Reserve(args [][]byte, scores []float64) {
	if z.lp.p == nil || z.Len()+len(scores) > z.lim().Get(ZSetMaxListpackEntries) {
		return
	}
	need := 0
	for i := range scores {
		m := args[2*i+1]
		need += zlpEntryLen(unsafe.String(unsafe.SliceData(m), len(m)), lpScore(scores[i]))
	}
	if len(z.lp.get()) <= zlpHeader {
		z.lp.set(make([]byte, zlpHeader, zlpHeader+need))
		return
	}
	nb := make([]byte, len(z.lp.get()), len(z.lp.get())+need)
	copy(nb, z.lp.get())
	z.lp.set(nb)
}

// Reserve makes room in the list's end node (the head when front, else
// the tail) for as many of vals as it takes before it is full, so a push
// of many elements grows that node once instead of once per size class
// (each copy leaving a buffer of garbage behind). Elements past the
// node's limits go to new nodes, which grow as pushes fill them.
func (l *List) Reserve(vals [][]byte, front bool) {
	if len(vals) < 2 {
		return
	}
	maxBytes, maxEntries := l.lim.listNode()
	var nd *lnode
	used, n := 0, 0
	if l.cnt > 0 {
		nd = l.last()
		if front {
			nd = l.first()
		}
		used, n = nd.used(), int(nd.n)
	}
	need := 0
	for _, v := range vals {
		es := entrySize(len(v))
		if n > 0 && (n >= maxEntries || used+need+es > maxBytes) {
			break
		}
		need += es
		n++
	}
	if nd == nil {
		nd = &lnode{}
		l.insertNode(0, nd)
	}
	snug := l.cnt == 1
	if front {
		nd.roomFront(need, l.lim, snug)
	} else {
		nd.roomBack(need, l.lim, snug)
	}
}
