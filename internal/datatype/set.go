package datatype

import (
	"encoding/binary"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"unsafe"
)

// Set is a Redis set of byte-string members.
//
// Like Redis 7.0 it has two encodings. A set whose members are all
// canonical 64-bit integers (as Redis's string2ll reads them) is an
// "intset": one byte slice holding the element width (2, 4 or 8 bytes),
// then the integers in ascending order, little-endian, each in the
// smallest width that holds them all. Adding any other member, or more
// than set-max-intset-entries members (its Limits), converts it to a "hashtable" (a
// strDict) for good.
//
// Slices passed to callbacks are valid only during the call (intset
// members are formatted into a scratch buffer) and must not be written to.
// Methods copy the slices they are given. A Set is not safe for
// concurrent use.
type Set struct {
	// is is the intset encoding (isEmpty when empty), is.p nil in the
	// hashtable encoding.
	is packed
	// u is the intset's *Limits (set-max-intset-entries) or the
	// hashtable's *strDict[struct{}]: one pointer for both, and a packed
	// intset, keep a Set at 24 bytes.
	u unsafe.Pointer
}

// isEmpty is the intset of an empty set (not nil, which means the
// hashtable encoding).
var isEmpty = []byte{}

// lim returns the thresholds of an intset.
func (s *Set) lim() *Limits { return (*Limits)(s.u) }

// dict returns the hashtable encoding, nil for an intset.
func (s *Set) dict() *strDict[struct{}] {
	if s.is.p != nil {
		return nil
	}
	return (*strDict[struct{}])(s.u)
}

// NewSet returns an empty set in the intset encoding, converted by lim's
// thresholds (nil: defaults).
func NewSet(lim *Limits) *Set {
	s := &Set{u: unsafe.Pointer(lim)}
	s.is.set(isEmpty)
	return s
}

// Len returns the number of members.
func (s *Set) Len() int {
	if s.is.p == nil {
		return s.dict().len()
	}
	if s.is.n == 0 {
		return 0
	}
	return int(s.is.n-1) / int(*(*byte)(s.is.p))
}

// Encoding returns "intset" or "hashtable", as OBJECT ENCODING.
func (s *Set) Encoding() string {
	if s.is.p == nil {
		return "hashtable"
	}
	return "intset"
}

// Clone returns a deep copy in the same encoding.
func (s *Set) Clone() *Set {
	if s.is.p == nil {
		return &Set{u: unsafe.Pointer(s.dict().clone())}
	}
	c := &Set{u: s.u}
	c.is.set(append([]byte{}, s.is.get()...))
	return c
}

// MemoryUsage estimates the bytes the set holds.
func (s *Set) MemoryUsage() int {
	if s.is.p == nil {
		return 24 + s.dict().memory()
	}
	return 24 + int(s.is.c)
}

// Has reports whether m is a member.
func (s *Set) Has(m []byte) bool {
	if s.is.p == nil {
		return s.dict().find(m) >= 0
	}
	v, ok := isetParse(m)
	if !ok {
		return false
	}
	_, found := isetSearch(s.is.get(), v)
	return found
}

// Add adds m, reporting whether it was not a member yet.
func (s *Set) Add(m []byte) bool {
	if s.is.p != nil {
		v, ok := isetParse(m)
		if ok {
			i, found := isetSearch(s.is.get(), v)
			if found {
				return false
			}
			s.is.set(isetInsert(s.is.get(), i, v))
			if s.Len() > s.lim().Get(SetMaxIntsetEntries) {
				s.convert()
			}
			return true
		}
		s.convert()
	}
	h := strDictHash(m)
	if s.dict().findHashed(m, h) >= 0 {
		return false
	}
	s.dict().insert(string(m), struct{}{}, h)
	s.dict().bytes += len(m)
	return true
}

// Remove deletes m, reporting whether it was a member.
func (s *Set) Remove(m []byte) bool {
	if s.is.p == nil {
		i := s.dict().find(m)
		if i < 0 {
			return false
		}
		s.dict().bytes -= len(s.dict().entries[i].key)
		s.dict().remove(i)
		return true
	}
	v, ok := isetParse(m)
	if !ok {
		return false
	}
	i, found := isetSearch(s.is.get(), v)
	if !found {
		return false
	}
	s.removeAt(i)
	return true
}

// removeAt deletes the intset element at index i.
func (s *Set) removeAt(i int) {
	is := s.is.get()
	w := int(is[0])
	off := 1 + i*w
	is = append(is[:off], is[off+w:]...)
	if len(is) == 1 {
		is = isEmpty
	} else if cap(is) > 2*len(is)+64 {
		is = slices.Clone(is)
	}
	s.is.set(is)
}

// ForEach calls fn for every member until it returns false: ascending
// numeric order in the intset encoding, table order otherwise.
func (s *Set) ForEach(fn func(m []byte) bool) {
	if s.is.p == nil {
		for i := range s.dict().entries {
			if !fn(strView(s.dict().entries[i].key)) {
				return
			}
		}
		return
	}
	var buf [20]byte
	for i, n := 0, s.Len(); i < n; i++ {
		if !fn(strconv.AppendInt(buf[:0], isetGet(s.is.get(), i), 10)) {
			return
		}
	}
}

// All returns an iterator over the members, as ForEach.
func (s *Set) All() iter.Seq[[]byte] {
	return func(yield func(m []byte) bool) { s.ForEach(yield) }
}

// Scan is one SSCAN step from cursor (see Hash.Scan): an intset is
// returned whole with cursor 0.
func (s *Set) Scan(cursor uint64, count int, fn func(m []byte)) uint64 {
	if s.is.p != nil {
		s.ForEach(func(m []byte) bool { fn(m); return true })
		return 0
	}
	return s.dict().scanSteps(cursor, count, func(e *strDictEntry[struct{}]) { fn(strView(e.key)) })
}

// member calls fn with the member at index i of the storage order.
func (s *Set) member(i int, fn func(m []byte)) {
	if s.is.p == nil {
		fn(strView(s.dict().entries[i].key))
		return
	}
	var buf [20]byte
	fn(strconv.AppendInt(buf[:0], isetGet(s.is.get(), i), 10))
}

// RandomMembers calls fn count times, each time with a member chosen
// uniformly at random (the same member may come more than once).
func (s *Set) RandomMembers(count int, fn func(m []byte)) {
	n := s.Len()
	if n == 0 {
		return
	}
	for range count {
		s.member(rand.IntN(n), fn)
	}
}

// SampleMembers calls fn with count distinct members chosen at random
// (count <= Len), in storage order.
func (s *Set) SampleMembers(count int, fn func(m []byte)) {
	for _, i := range sampleIdx(s.Len(), count) {
		s.member(i, fn)
	}
}

// Pop removes a member chosen uniformly at random and returns it. The
// slice stays valid after later changes but must not be written to. The
// set must not be empty.
func (s *Set) Pop() []byte {
	i := rand.IntN(s.Len())
	if s.is.p == nil {
		m := strView(s.dict().entries[i].key) // the string outlives its entry
		s.dict().bytes -= len(m)
		s.dict().remove(i)
		return m
	}
	m := strconv.AppendInt(nil, isetGet(s.is.get(), i), 10)
	s.removeAt(i)
	return m
}

// convert moves an intset into a hashtable.
func (s *Set) convert() {
	n := s.Len()
	d := newStrDict[struct{}](n)
	var buf [20]byte
	for i := range n {
		m := strconv.AppendInt(buf[:0], isetGet(s.is.get(), i), 10)
		d.insert(string(m), struct{}{}, strDictHash(m))
		d.bytes += len(m)
	}
	s.is.set(nil)
	s.u = unsafe.Pointer(d)
}

// --- intset helpers ---

// isetParse reads m as Redis's string2ll: an optional '-', no '+', no
// leading zeros or spaces, within int64.
func isetParse(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	p := b
	if neg {
		p = p[1:]
	}
	if len(p) == 0 || p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range p {
		if c < '0' || c > '9' || v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// isetWidth is the byte width an intset needs to hold v.
func isetWidth(v int64) byte {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

func isetGet(is []byte, i int) int64 {
	w := int(is[0])
	p := is[1+i*w:]
	switch w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(p)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(p)))
	}
	return int64(binary.LittleEndian.Uint64(p))
}

func isetPut(p []byte, w byte, v int64) {
	switch w {
	case 2:
		binary.LittleEndian.PutUint16(p, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(p, uint32(v))
	default:
		binary.LittleEndian.PutUint64(p, uint64(v))
	}
}

// isetSearch finds v: its index, or where it would be inserted.
func isetSearch(is []byte, v int64) (int, bool) {
	if len(is) == 0 {
		return 0, false
	}
	lo, hi := 0, (len(is)-1)/int(is[0])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if isetGet(is, mid) < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < (len(is)-1)/int(is[0]) && isetGet(is, lo) == v
}

// isetInsert inserts v at index i, widening the encoding if v needs it.
func isetInsert(is []byte, i int, v int64) []byte {
	w := isetWidth(v)
	if len(is) == 0 {
		is = make([]byte, 1, 1+int(w))
		is[0] = w
	} else if w > is[0] {
		n := (len(is) - 1) / int(is[0])
		wide := make([]byte, 1+n*int(w), 1+(n+1)*int(w))
		wide[0] = w
		for j := range n {
			isetPut(wide[1+j*int(w):], w, isetGet(is, j))
		}
		is = wide
	}
	w = is[0]
	off := 1 + i*int(w)
	is = slices.Grow(is, int(w))
	is = is[:len(is)+int(w)]
	copy(is[off+int(w):], is[off:])
	isetPut(is[off:], w, v)
	return is
}
