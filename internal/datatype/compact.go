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
// its spare room is more than an eighth of it and more than 16 bytes,
// which a size class never leaves, so a compacted value is not copied
// again until it grows.

// wasteful reports whether a buffer of n used bytes and capacity c is
// worth copying to its exact size: the copy's allocation would be more
// than an eighth (and 16 bytes) smaller. Allocations come in size
// classes, so a copy can save less than c-n (nothing at all when n and c
// fall in the same class).
func wasteful(n, c int) bool {
	save := allocSize(c) - allocSize(n)
	return save > 16 && save > n/8
}

// sizeClasses are the sizes the Go allocator hands out up to 32 KiB,
// ascending, found at start by asking it.
var sizeClasses = func() []int {
	var cs []int
	for n := 1; n <= 32<<10; {
		c := cap(append([]byte(nil), make([]byte, n)...))
		cs = append(cs, c)
		n = c + 1
	}
	return cs
}()

// allocSize is the size of the allocation a request of n bytes gets (n
// itself past the size classes).
func allocSize(n int) int {
	if i, _ := slices.BinarySearch(sizeClasses, n); i < len(sizeClasses) {
		return sizeClasses[i]
	}
	return n
}

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
	if h.d == nil {
		h.lp = clipBytes(h.lp)
	}
}

// Compact trims the intset's spare room.
func (s *Set) Compact() {
	if s.d == nil {
		s.is = clipBytes(s.is)
	}
}

// Compact trims the listpack's spare room and moves the members' bytes
// into one buffer of their exact total size (a member string of its own
// costs at least 8 or 16 bytes, mostly rounding for short members). The
// buffer is never written again: member strings handed out stay valid.
func (z *ZSet) Compact() {
	if z.sl != nil {
		return
	}
	if wasteful(24*len(z.lp), 24*cap(z.lp)) {
		z.lp = slices.Clip(slices.Clone(z.lp))
	}
	// Packed already: the members' bytes follow each other.
	total, packed := 0, true
	for i, e := range z.lp {
		if i > 0 && len(e.Member) > 0 && len(z.lp[i-1].Member) > 0 &&
			addr(e.Member) != addr(z.lp[i-1].Member)+uintptr(len(z.lp[i-1].Member)) {
			packed = false
		}
		total += len(e.Member)
	}
	if packed {
		return
	}
	arena := make([]byte, 0, total)
	for i := range z.lp {
		m := z.lp[i].Member
		if m == "" {
			continue
		}
		off := len(arena)
		arena = append(arena, m...)
		z.lp[i].Member = unsafe.String(&arena[off], len(m))
	}
}

// Compact trims the spare room of a list's only node and, for a list of a
// few nodes, of the node array. The end nodes of a longer list keep
// theirs: the next pushes fill it (growCap doubles them), and trimming it
// after each write made every LPUSH copy a node twice, garbage the
// collector then spent a third of the CPU on. Their spare room is at most
// two nodes' bytes per list, against a list that holds more than a node.
func (l *List) Compact() {
	if l.cnt == 0 {
		return
	}
	if l.cnt == 1 {
		nd := l.nb[l.off]
		if used := nd.used(); wasteful(used, cap(nd.b)) {
			nd.b, nd.h = append([]byte(nil), nd.b[nd.h:]...), 0
		}
	}
	if l.cnt <= 8 && wasteful(8*l.cnt, 8*len(l.nb)) { // the node array's storage is len(l.nb)
		l.nb, l.off = slices.Clone(l.nb[l.off:l.off+l.cnt]), 0
	}
}

// addr is the address of s's bytes, compared only (no pointer is made
// back from it).
func addr(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }
