package datatype

import (
	"encoding/binary"
	"hash/maphash"
	"iter"
	"math/bits"
	"math/rand/v2"
	"slices"
	"unsafe"
)

// Hash is a Redis hash: a map from field to value.
//
// Like Redis 7.0 it has two encodings. A small hash ("listpack") is one
// byte slice holding a 4-byte little-endian pair count followed by the
// pairs in insertion order, field then value, each a uvarint length and
// the bytes; it is searched linearly, as Redis searches its listpack.
// Once it holds more than hash-max-listpack-entries pairs, or a field or
// value longer than hash-max-listpack-value bytes (its Limits), it becomes a "hashtable"
// (a strDict) for good.
//
// Slices returned by Hash methods or passed to callbacks alias the hash's
// storage: they are valid until the hash is next modified and must not be
// written to. Methods copy the slices they are given. A Hash is not safe
// for concurrent use.
type Hash struct {
	// lp is the listpack encoding (hlpEmpty when empty), lp.p nil in
	// the hashtable encoding.
	lp packed
	// u is the listpack's *Limits (hash-max-listpack-entries and -value)
	// or the hashtable's *strDict[string]: one pointer for both, and a
	// packed listpack, keep a Hash at 24 bytes.
	u unsafe.Pointer
}

// hlpEmpty is the listpack of an empty hash (not nil, which means the
// hashtable encoding).
var hlpEmpty = []byte{}

// lim returns the thresholds of a listpack hash.
func (h *Hash) lim() *Limits { return (*Limits)(h.u) }

// dict returns the hashtable encoding, nil for a listpack.
func (h *Hash) dict() *strDict[string] {
	if h.lp.p != nil {
		return nil
	}
	return (*strDict[string])(h.u)
}

// NewHash returns an empty hash in the listpack encoding, converted by
// lim's thresholds (nil: defaults).
func NewHash(lim *Limits) *Hash {
	h := &Hash{u: unsafe.Pointer(lim)}
	h.lp.set(hlpEmpty)
	return h
}

// Len returns the number of fields.
func (h *Hash) Len() int {
	if h.lp.p == nil {
		return h.dict().len()
	}
	if len(h.lp.get()) == 0 {
		return 0
	}
	return int(binary.LittleEndian.Uint32(h.lp.get()))
}

// Encoding returns "listpack" or "hashtable", as OBJECT ENCODING.
func (h *Hash) Encoding() string {
	if h.lp.p == nil {
		return "hashtable"
	}
	return "listpack"
}

// Clone returns a deep copy in the same encoding.
func (h *Hash) Clone() *Hash {
	if h.lp.p == nil {
		return &Hash{u: unsafe.Pointer(h.dict().clone())}
	}
	c := &Hash{u: h.u}
	c.lp.set(append([]byte{}, h.lp.get()...))
	return c
}

// MemoryUsage estimates the bytes the hash holds.
func (h *Hash) MemoryUsage() int {
	if h.lp.p == nil {
		return 24 + h.dict().memory()
	}
	return 24 + int(h.lp.c)
}

// ConvertIfLong switches to the hashtable encoding when any of args is
// longer than the listpack allows, as Redis's hashTypeTryConversion does
// with a command's fields and values before it stores any of them.
func (h *Hash) ConvertIfLong(args ...[]byte) {
	if h.lp.p == nil {
		return
	}
	maxValue := h.lim().Get(HashMaxListpackValue)
	for _, a := range args {
		if len(a) > maxValue {
			h.convert()
			return
		}
	}
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h.lp.p == nil {
		i := h.dict().find(field)
		if i < 0 {
			return nil, false
		}
		return strView(h.dict().entries[i].val), true
	}
	_, vOff, end := hlpFind(h.lp.get(), field)
	if end < 0 {
		return nil, false
	}
	v, _ := hlpNext(h.lp.get(), vOff)
	return v, true
}

// Has reports whether field exists.
func (h *Hash) Has(field []byte) bool {
	if h.lp.p == nil {
		return h.dict().find(field) >= 0
	}
	_, _, end := hlpFind(h.lp.get(), field)
	return end >= 0
}

// Set stores value at field, reporting whether the field is new.
func (h *Hash) Set(field, value []byte) bool {
	if h.lp.p != nil && (len(field) > h.lim().Get(HashMaxListpackValue) || len(value) > h.lim().Get(HashMaxListpackValue)) {
		h.convert()
	}
	if h.lp.p == nil {
		hv := strDictHash(field)
		if i := h.dict().findHashed(field, hv); i >= 0 {
			e := &h.dict().entries[i]
			h.dict().bytes += len(value) - len(e.val)
			e.val = string(value)
			return false
		}
		h.dict().insert(string(field), string(value), hv)
		h.dict().bytes += len(field) + len(value)
		return true
	}
	if len(h.lp.get()) == 0 {
		h.lp.set(make([]byte, 4, 4+hlpSize(field)+hlpSize(value)))
	}
	_, vOff, end := hlpFind(h.lp.get(), field)
	if end >= 0 {
		var buf [80]byte
		h.lp.set(slices.Replace(h.lp.get(), vOff, end, hlpAppend(buf[:0], value)...))
		return false
	}
	h.lp.set(slices.Grow(h.lp.get(), hlpSize(field)+hlpSize(value)))
	h.lp.set(hlpAppend(hlpAppend(h.lp.get(), field), value))
	n := binary.LittleEndian.Uint32(h.lp.get()) + 1
	binary.LittleEndian.PutUint32(h.lp.get(), n)
	if int(n) > h.lim().Get(HashMaxListpackEntries) {
		h.convert()
	}
	return true
}

// Delete removes field, reporting whether it was there.
func (h *Hash) Delete(field []byte) bool {
	if h.lp.p == nil {
		i := h.dict().find(field)
		if i < 0 {
			return false
		}
		e := &h.dict().entries[i]
		h.dict().bytes -= len(e.key) + len(e.val)
		h.dict().remove(i)
		return true
	}
	fOff, _, end := hlpFind(h.lp.get(), field)
	if end < 0 {
		return false
	}
	h.lp.set(append(h.lp.get()[:fOff], h.lp.get()[end:]...))
	n := binary.LittleEndian.Uint32(h.lp.get()) - 1
	if n == 0 {
		h.lp.set(hlpEmpty)
		return true
	}
	binary.LittleEndian.PutUint32(h.lp.get(), n)
	if cap(h.lp.get()) > 2*len(h.lp.get())+64 {
		h.lp.set(slices.Clone(h.lp.get()))
	}
	return true
}

// ForEach calls fn for every field and value until it returns false:
// insertion order in the listpack encoding, table order otherwise.
func (h *Hash) ForEach(fn func(field, value []byte) bool) {
	if h.lp.p == nil {
		for i := range h.dict().entries {
			e := &h.dict().entries[i]
			if !fn(strView(e.key), strView(e.val)) {
				return
			}
		}
		return
	}
	for off := 4; off < len(h.lp.get()); {
		var f, v []byte
		f, off = hlpNext(h.lp.get(), off)
		v, off = hlpNext(h.lp.get(), off)
		if !fn(f, v) {
			return
		}
	}
}

// All returns an iterator over the fields and values, as ForEach.
func (h *Hash) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(field, value []byte) bool) { h.ForEach(yield) }
}

// Scan is one HSCAN step from cursor: it calls fn for the pairs it visits
// and returns the next cursor, 0 when the iteration is complete. A
// listpack is returned whole. A hashtable is walked bucket by bucket with
// Redis's reverse-binary cursor until about count pairs were visited (at
// most 10*count buckets), so a full iteration returns every pair present
// from start to end at least once, even if the table is resized between
// calls.
func (h *Hash) Scan(cursor uint64, count int, fn func(field, value []byte)) uint64 {
	if h.lp.p != nil {
		h.ForEach(func(f, v []byte) bool { fn(f, v); return true })
		return 0
	}
	return h.dict().scanSteps(cursor, count, func(e *strDictEntry[string]) {
		fn(strView(e.key), strView(e.val))
	})
}

// RandomPairs calls fn count times, each time with a pair chosen
// uniformly at random (the same pair may come more than once).
func (h *Hash) RandomPairs(count int, fn func(field, value []byte)) {
	n := h.Len()
	if n == 0 {
		return
	}
	if h.lp.p == nil {
		for range count {
			e := &h.dict().entries[rand.IntN(n)]
			fn(strView(e.key), strView(e.val))
		}
		return
	}
	pairs := h.lpPairs()
	for range count {
		p := pairs[rand.IntN(n)]
		fn(p[0], p[1])
	}
}

// SamplePairs calls fn with count distinct pairs chosen at random
// (count <= Len), in storage order.
func (h *Hash) SamplePairs(count int, fn func(field, value []byte)) {
	n := h.Len()
	idx := sampleIdx(n, count)
	if h.lp.p == nil {
		for _, i := range idx {
			e := &h.dict().entries[i]
			fn(strView(e.key), strView(e.val))
		}
		return
	}
	pairs := h.lpPairs()
	for _, i := range idx {
		fn(pairs[i][0], pairs[i][1])
	}
}

// lpPairs returns views of the listpack's pairs.
func (h *Hash) lpPairs() [][2][]byte {
	out := make([][2][]byte, 0, h.Len())
	h.ForEach(func(f, v []byte) bool {
		out = append(out, [2][]byte{f, v})
		return true
	})
	return out
}

// convert moves a listpack hash into a hashtable.
func (h *Hash) convert() {
	d := newStrDict[string](h.Len())
	h.ForEach(func(f, v []byte) bool {
		d.insert(string(f), string(v), strDictHash(f))
		d.bytes += len(f) + len(v)
		return true
	})
	h.lp.set(nil)
	h.u = unsafe.Pointer(d)
}

// --- listpack helpers: entries are uvarint(len) | bytes, after a 4-byte count ---

// hlpSize is the encoded size of v.
func hlpSize(v []byte) int {
	n := len(v) + 1
	for x := len(v); x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// hlpAppend appends the encoding of v to b.
func hlpAppend(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// hlpNext returns the entry at off and the offset after it.
func hlpNext(b []byte, off int) ([]byte, int) {
	if c := b[off]; c < 0x80 {
		end := off + 1 + int(c)
		return b[off+1 : end], end
	}
	l, n := binary.Uvarint(b[off:])
	start := off + n
	end := start + int(l)
	return b[start:end], end
}

// hlpFind looks field up: the offsets of its entry, of its value and of
// the end of the pair; end is -1 when field is absent.
func hlpFind(b, field []byte) (fOff, vOff, end int) {
	for off := 4; off < len(b); {
		fs, fe := hlpSpan(b, off)
		_, ve := hlpSpan(b, fe)
		if fe-fs == len(field) && string(b[fs:fe]) == string(field) {
			return off, fe, ve
		}
		off = ve
	}
	return 0, 0, -1
}

// hlpSpan returns where the bytes of the entry at off start and end.
func hlpSpan(b []byte, off int) (start, end int) {
	if c := b[off]; c < 0x80 {
		return off + 1, off + 1 + int(c)
	}
	l, n := binary.Uvarint(b[off:])
	return off + n, off + n + int(l)
}

// strView views s as bytes without copying; the bytes must not be written.
func strView(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// sampleIdx returns count distinct indexes in [0, n), uniformly chosen,
// in ascending order.
func sampleIdx(n, count int) []int {
	count = min(count, n)
	out := make([]int, 0, count)
	if count*3 > n {
		// Selection sampling: one pass, already in order.
		for i := 0; i < n && len(out) < count; i++ {
			if rand.IntN(n-i) < count-len(out) {
				out = append(out, i)
			}
		}
		return out
	}
	seen := make(map[int]struct{}, count)
	for len(out) < count {
		i := rand.IntN(n)
		if _, dup := seen[i]; !dup {
			seen[i] = struct{}{}
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// --- strDict: the hashtable encoding of hashes and sets ---

var strDictSeed = maphash.MakeSeed()

func strDictHash(b []byte) uint32 { return uint32(maphash.Bytes(strDictSeed, b)) }

// strDict is a chained hash table from string keys to V. Entries live in
// one dense slice (so a random entry is one index away and memory is one
// allocation); buckets, a power of two of them, hold 1 + the index of
// their first entry and entries chain through next. Deleting moves the
// last entry into the hole. The table doubles when it holds as many
// entries as buckets and shrinks when under an eighth full; it is rebuilt
// at once (no incremental rehash), which keeps Redis's reverse-binary
// SCAN cursor guarantee across resizes.
type strDict[V any] struct {
	buckets []uint32
	entries []strDictEntry[V]
	bytes   int // payload bytes (keys and values) for MemoryUsage, kept by the owner
}

type strDictEntry[V any] struct {
	key  string
	val  V
	hash uint32
	next uint32 // 1 + index of the next entry in the bucket, 0 at the end
}

const strDictMinBuckets = 4

func newStrDict[V any](hint int) *strDict[V] {
	n := strDictMinBuckets
	for n < hint {
		n <<= 1
	}
	return &strDict[V]{buckets: make([]uint32, n), entries: make([]strDictEntry[V], 0, hint)}
}

func (d *strDict[V]) len() int { return len(d.entries) }

func (d *strDict[V]) clone() *strDict[V] {
	return &strDict[V]{buckets: slices.Clone(d.buckets), entries: slices.Clone(d.entries), bytes: d.bytes}
}

func (d *strDict[V]) memory() int {
	var e strDictEntry[V]
	// Each key (and value) string is its own allocation: count a word of
	// allocator rounding for each.
	return 48 + 4*cap(d.buckets) + int(unsafe.Sizeof(e))*cap(d.entries) + d.bytes + 8*len(d.entries)
}

// find returns the index of key's entry, or -1.
func (d *strDict[V]) find(key []byte) int { return d.findHashed(key, strDictHash(key)) }

func (d *strDict[V]) findHashed(key []byte, h uint32) int {
	for i := d.buckets[h&uint32(len(d.buckets)-1)]; i != 0; {
		e := &d.entries[i-1]
		if e.hash == h && e.key == string(key) {
			return int(i - 1)
		}
		i = e.next
	}
	return -1
}

// insert adds a key that is not in the table; h is strDictHash(key).
func (d *strDict[V]) insert(key string, val V, h uint32) {
	if len(d.entries) >= len(d.buckets) {
		d.rehash(len(d.buckets) * 2)
	}
	b := h & uint32(len(d.buckets)-1)
	d.entries = append(d.entries, strDictEntry[V]{key: key, val: val, hash: h, next: d.buckets[b]})
	d.buckets[b] = uint32(len(d.entries))
}

// remove deletes entry i, moving the last entry into its place.
func (d *strDict[V]) remove(i int) {
	d.unlink(i)
	last := len(d.entries) - 1
	if i != last {
		d.unlink(last)
		d.entries[i] = d.entries[last]
		e := &d.entries[i]
		b := e.hash & uint32(len(d.buckets)-1)
		e.next = d.buckets[b]
		d.buckets[b] = uint32(i + 1)
	}
	d.entries[last] = strDictEntry[V]{}
	d.entries = d.entries[:last]
	if len(d.buckets) > strDictMinBuckets && len(d.entries)*8 < len(d.buckets) {
		n := strDictMinBuckets
		for n < len(d.entries) {
			n <<= 1
		}
		d.entries = append(make([]strDictEntry[V], 0, len(d.entries)+len(d.entries)/4), d.entries...)
		d.rehash(n)
	}
}

// unlink takes entry i out of its bucket chain.
func (d *strDict[V]) unlink(i int) {
	p := &d.buckets[d.entries[i].hash&uint32(len(d.buckets)-1)]
	for *p != uint32(i+1) {
		p = &d.entries[*p-1].next
	}
	*p = d.entries[i].next
}

func (d *strDict[V]) rehash(n int) {
	d.buckets = make([]uint32, n)
	mask := uint32(n - 1)
	for i := range d.entries {
		e := &d.entries[i]
		b := e.hash & mask
		e.next = d.buckets[b]
		d.buckets[b] = uint32(i + 1)
	}
}

// scan visits the bucket at cursor and returns the next cursor (the
// reverse-binary increment, as Redis's dictScan), 0 after the last.
func (d *strDict[V]) scan(cursor uint64, fn func(e *strDictEntry[V])) uint64 {
	mask := uint64(len(d.buckets) - 1)
	for i := d.buckets[cursor&mask]; i != 0; {
		e := &d.entries[i-1]
		i = e.next
		fn(e)
	}
	cursor |= ^mask
	return bits.Reverse64(bits.Reverse64(cursor) + 1)
}

// scanSteps runs scan until count entries were visited, 10*count buckets
// were walked or the iteration ended, as Redis's scanGenericCommand.
func (d *strDict[V]) scanSteps(cursor uint64, count int, fn func(e *strDictEntry[V])) uint64 {
	seen := 0
	maxIter := count * 10
	for {
		cursor = d.scan(cursor, func(e *strDictEntry[V]) { seen++; fn(e) })
		if cursor == 0 || maxIter <= 0 || seen >= count {
			return cursor
		}
		maxIter--
	}
}
