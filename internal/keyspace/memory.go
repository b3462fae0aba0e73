package keyspace

// Memory accounting. The keyspace keeps an estimate of the bytes its keys
// and values hold on the Go heap, updated as keys are stored, changed and
// removed, so that maxmemory can tell how far the dataset is from its
// limit at any instant (the runtime's own figures count garbage until the
// next collection, and a freed key would show only after it). The figures
// follow Go's allocator: each allocation is rounded up to its size class.
//
// A string value's cost is derived from its capacity; a collection's is
// measured after each write that may have changed it (Resized) and kept
// in the object, so removing the key subtracts exactly what was added.

import (
	"unsafe"

	"redgo/internal/datatype"
)

// keyOverhead is what a key costs besides its bytes and value: the
// 48-byte Object and its pointer in the slot's table (8 bytes at a load
// of 3/8 to 3/4). A key with a TTL has a map slot in the volatile map too
// (volatileOverhead). Both were measured: heap after a collection, per
// key, for a million keys (TestHeapPerKey).
const (
	keyOverhead      = 64
	volatileOverhead = 56
)

// AllocSize rounds an allocation of n bytes up as Go's allocator does
// (its size classes).
func AllocSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	return int64(datatype.RoundAlloc(n))
}

// KeyCost is the accounted cost of a key holding o.
func KeyCost(key string, o *Object) int64 {
	c := keyOverhead + AllocSize(len(key)) + o.valueCost()
	if o.expire != 0 {
		c += volatileOverhead
	}
	return c
}

// valueCost is the value's accounted cost: a string's from its capacity,
// a collection's as last measured.
func (o *Object) valueCost() int64 {
	if o.typ == TString {
		return AllocSize(int(o.c))
	}
	return int64(o.n)
}

// measure records a collection's current cost in the object and returns
// the change since it was last recorded.
func (o *Object) measure() int64 {
	if o.typ == TString {
		return 0
	}
	m := 64 // a placeholder without a value (tests)
	if o.p != nil {
		m = o.collectionMemory()
	}
	m = min(m, 1<<31-1)
	d := int64(m) - int64(o.n)
	o.n = int32(m)
	return d
}

// compact trims the spare room of a small collection's encoding (see
// datatype's Compact), after each write command and when a value is stored.
func (o *Object) compact() {
	if o.p == nil {
		return
	}
	switch o.typ {
	case TList:
		o.List().Compact()
	case THash:
		o.Hash().Compact()
	case TSet:
		o.Set().Compact()
	case TZSet:
		o.ZSet().Compact()
	}
}

func (o *Object) collectionMemory() int {
	var m int
	switch o.typ {
	case TList:
		m = o.List().ApproxMemory()
	case THash:
		m = o.Hash().MemoryUsage()
	case TSet:
		m = o.Set().MemoryUsage()
	case TZSet:
		m = o.ZSet().ApproxMemory()
	case TStream:
		m = o.Stream().ApproxMemory()
	default:
		m = 64
	}
	return m
}

// Used returns the accounted bytes of every key and value.
func (ks *Keyspace) Used() int64 { return ks.used.Load() }

func (ks *Keyspace) account(d *shardDB, delta int64) {
	d.used += delta
	ks.used.Add(delta)
}

// Resized re-measures the value at key after a command changed it in
// place (a collection grew or shrank). The key's shard must be held.
func (db *DB) Resized(key []byte) {
	d, _, si := db.loc(key)
	if o := d.tab(si).getBytes(key); o != nil && o.typ != TString {
		o.compact()
		db.ks.account(d, o.measure())
	}
}

// SetBytes replaces the bytes of a string stored at key (APPEND, SETRANGE,
// INCR... in place) and accounts the change of capacity. The key's shard
// must be held and o must be the value stored at key.
func (db *DB) SetBytes(key []byte, o *Object, b []byte) {
	before := o.valueCost()
	o.SetBytes(b)
	if delta := o.valueCost() - before; delta != 0 { // INCR in place mostly changes nothing
		d, _, _ := db.loc(key)
		db.ks.account(d, delta)
	}
}

// OverwriteString is SET key value's fast path: when key holds a string
// without a TTL whose buffer is of the size class a copy of val would get,
// it copies val into that buffer and reports true; otherwise it changes
// nothing and the caller stores a new object (Set). An overwrite then
// allocates nothing: a new object and value per SET were garbage the
// collector spent much of an overwrite load's CPU on. The key's shard
// must be held.
func (db *DB) OverwriteString(key, val []byte) bool {
	d, _, si := db.loc(key)
	o := d.tab(si).getBytes(key)
	if o == nil || o.typ != TString || o.expire != 0 || int(o.c) < len(val) || AllocSize(len(val)) != AllocSize(int(o.c)) {
		return false
	}
	if len(val) > 0 {
		copy(unsafe.Slice((*byte)(o.p), int(o.c)), val)
	}
	o.n = int32(len(val))
	o.Flags = 0 // a new string's hints (StrRaw, a float's format)
	o.lru = db.ks.newAccess(o)
	return true
}
