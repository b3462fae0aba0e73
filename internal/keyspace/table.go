package keyspace

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// table holds the keys of one hash slot of one database: an open
// addressing hash table with linear probing over a power-of-two array of
// object pointers, each object holding its own key (Object.key). A key
// costs its Object, its key bytes and the array's 8 bytes over the load
// factor (3/8 to 3/4): no map entry (string header plus pointer plus the
// runtime map's control bytes and group padding) and no map header for
// each of the 16384 slots of a database, which for a few keys per slot
// cost more than the keys themselves.
//
// Deleting shifts the following entries of the probe run back (no
// tombstones), and growing or shrinking rehashes the whole array: both
// move keys. A walk that unlocks the shard in the middle of a table (a
// snapshot's TakeSlot) pins it: while pinned, a deletion leaves a
// tombstone instead and the table grows only when nearly full, so keys
// stay where they are; a growth bumps ver, and the walk then starts over.
//
// A table is 24 bytes (a 16384-slot database with a few keys per slot
// has about one table per key): its array is a bare pointer and a size
// exponent (ents).
//
// An entry of the array is a ref: the object's address with three bits
// of its key's hash in the low bits, which every object's alignment
// leaves free. A probe compares those bits before it reads the object,
// so passing a key of the run that is not the one looked up mostly costs
// no cache miss: with a load of up to 3/4 a lookup passes one or two
// other keys on average and a key that is not there several, each of
// which read its object before (findHashed).
type table struct {
	p     unsafe.Pointer // the array: 1<<shift object pointers, nil when empty
	n     int32          // keys
	dead  int32          // tombstones (only while pinned)
	ver   uint32         // changes whenever keys move
	pins  int16          // walks paused in the table (see pin)
	shift uint8
}

// ref is an entry of a table's array: an object's address plus, in its
// low refBits bits, its tag (refTag). It still points into the object, so
// the collector keeps the object alive through it. The zero ref is an
// empty entry.
type ref struct{ p unsafe.Pointer }

const (
	refBits = 3 // an Object's alignment is at least 8
	refMask = 1<<refBits - 1
)

// refTag returns the tag of a key whose hash's low 16 bits are h16: bits
// that the home position (the low bits) does not already sort by.
func refTag(h16 uint16) uintptr { return uintptr(h16 >> (16 - refBits)) }

// refTo returns o's entry.
func refTo(o *Object) ref {
	return ref{unsafe.Add(unsafe.Pointer(o), refTag(o.h16))}
}

// obj returns the object of the entry (nil if empty, tomb if deleted).
func (r ref) obj() *Object {
	return (*Object)(unsafe.Pointer(uintptr(r.p) &^ refMask))
}

// tag returns the entry's tag.
func (r ref) tag() uintptr { return uintptr(r.p) & refMask }

// ents returns the array (nil when empty). Its slice header is made
// afresh: keep it only while the table does not resize.
func (t *table) ents() []ref {
	if t.p == nil {
		return nil
	}
	return unsafe.Slice((*ref)(t.p), 1<<t.shift)
}

// setEnts makes e (empty, or a power of two long) the array.
func (t *table) setEnts(e []ref) {
	if len(e) == 0 {
		t.p, t.shift = nil, 0
		return
	}
	t.p, t.shift = unsafe.Pointer(unsafe.SliceData(e)), uint8(bits.TrailingZeros(uint(len(e))))
}

// tomb marks a deleted entry of a pinned table.
var tomb = new(Object)

// at returns the object at index i, or nil (empty or a tombstone).
func (t *table) at(i int) *Object {
	if o := t.ents()[i].obj(); o != tomb {
		return o
	}
	return nil
}

var seed = maphash.MakeSeed()

func hashString(k string) uint64 { return maphash.String(seed, k) }
func hashBytes(k []byte) uint64  { return maphash.Bytes(seed, k) }

// findBytes returns the index of key, or -1.
func (t *table) findBytes(key []byte) int {
	if t.n == 0 {
		return -1
	}
	return t.findHashed(string(key), hashBytes(key))
}

// find returns the index of key, or -1.
func (t *table) find(key string) int {
	if t.n == 0 {
		return -1
	}
	return t.findHashed(key, hashString(key))
}

// findHashed returns the index of key, whose hash is h, or -1. An entry
// whose tag differs is passed without reading its object (ref); objects
// keep the low 16 bits of their key's hash, so one whose tag matches by
// chance mostly does not have its key's bytes read.
func (t *table) findHashed(key string, h uint64) int {
	e := t.ents()
	mask := len(e) - 1
	tag := refTag(uint16(h))
	for i := int(h) & mask; ; i = (i + 1) & mask {
		r := e[i]
		if r.p == nil {
			return -1
		}
		if r.tag() != tag {
			continue
		}
		if o := r.obj(); o.h16 == uint16(h) && o.key == key && o != tomb {
			return i
		}
	}
}

// home returns where o's probe run starts in an array of mask+1 entries.
func home(o *Object, mask int) int {
	if mask <= 0xffff {
		return int(o.h16) & mask
	}
	return int(hashString(o.key)) & mask
}

// get returns the object stored at key, or nil.
func (t *table) get(key string) *Object {
	if i := t.find(key); i >= 0 {
		return t.ents()[i].obj()
	}
	return nil
}

// getBytes returns the object stored at key, or nil.
func (t *table) getBytes(key []byte) *Object {
	if i := t.findBytes(key); i >= 0 {
		return t.ents()[i].obj()
	}
	return nil
}

// insert adds o, whose key must not be in the table.
func (t *table) insert(o *Object) {
	o.h16 = uint16(hashString(o.key))
	if size, used := len(t.ents()), int(t.n+t.dead+1); used*4 > size*3 && (t.pins == 0 || used*8 > size*7) {
		t.resize(max(2, size*2))
	}
	t.place(o)
	t.n++
}

func (t *table) place(o *Object) {
	e := t.ents()
	mask := len(e) - 1
	i := home(o, mask)
	for e[i].p != nil {
		i = (i + 1) & mask
	}
	e[i] = refTo(o)
}

// replace stores o, whose key is the one at i, at i.
func (t *table) replace(i int, o *Object) { t.ents()[i] = refTo(o) }

// resize rehashes into an array of size entries (a power of two).
func (t *table) resize(size int) {
	old := t.ents()
	t.setEnts(make([]ref, size))
	t.ver++
	t.dead = 0
	for _, r := range old {
		if o := r.obj(); o != nil && o != tomb {
			t.place(o)
		}
	}
}

// deleteAt removes the entry at i, shifting back the rest of its probe
// run, and shrinks a table that became mostly empty.
func (t *table) deleteAt(i int) {
	if t.pins > 0 {
		t.ents()[i] = refTo(tomb)
		t.n--
		t.dead++
		return
	}
	e := t.ents()
	mask := len(e) - 1
	j := i
	for {
		j = (j + 1) & mask
		r := e[j]
		if r.p == nil {
			break
		}
		o := r.obj()
		// o may move to the hole at i unless its home position lies
		// cyclically in (i, j].
		h := home(o, mask)
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			e[i] = r
			i = j
		}
	}
	e[i] = ref{}
	t.n--
	t.ver++
	t.shrink()
}

// shrink resizes a table that became mostly empty (a load under 1/8) to
// a load between 3/16 and 3/8.
func (t *table) shrink() {
	switch {
	case t.n == 0:
		t.setEnts(nil)
		t.dead = 0
		t.ver++
	case len(t.ents()) > 8 && int(t.n)*8 < len(t.ents()):
		size := len(t.ents())
		for size > 4 && int(t.n)*8 < size*3 {
			size /= 2
		}
		t.resize(size * 2)
	}
}

// pin keeps the keys in place until unpin (see table).
func (t *table) pin() { t.pins++ }

// unpin ends pin: the tombstones are dropped.
func (t *table) unpin() {
	if t.pins--; t.pins == 0 && t.dead > 0 {
		if t.shrink(); t.dead > 0 {
			t.resize(len(t.ents()))
		}
	}
}

// randomStart returns a random index to start a walk at.
func (t *table) randomStart() int {
	if t.p == nil {
		return 0
	}
	return rand.IntN(1 << t.shift)
}
