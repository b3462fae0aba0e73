package keyspace

import (
	"unsafe"

	"redgo/internal/datatype"
)

// Type is a value's data type, as TYPE reports it.
type Type uint8

const (
	TString Type = iota
	TList
	THash
	TSet
	TZSet
	TStream
)

var typeNames = [...]string{"string", "list", "hash", "set", "zset", "stream"}

func (t Type) String() string { return typeNames[t] }

// Object is one value in the keyspace, with the key it is stored at (the
// slot's table holds only object pointers, see table.go). It is 48 bytes:
// the payload is an unsafe pointer whose meaning depends on the type
// (string bytes with length and capacity, or a pointer to the datatype
// structure). Use the accessors. An object is stored at one key at a
// time: Set gives it its key.
type Object struct {
	typ    Type
	Flags  uint8  // type-specific encoding hints (see StrRaw)
	h16    uint16 // low bits of the key's hash (table.go)
	lru    uint32 // last access, seconds (LRUClock)
	expire int64  // absolute unix time in ms; 0 means no expiry
	p      unsafe.Pointer
	n, c   int32  // string length and capacity
	key    string // the key it is stored at (set by Set)
}

// StrRaw marks a string that was modified in place (APPEND, SETRANGE,
// SETBIT...): OBJECT ENCODING reports "raw" for it, as Redis.
const StrRaw uint8 = 1

func (o *Object) Type() Type { return o.typ }

// Expire returns the absolute expiry in unix ms, 0 if none.
func (o *Object) Expire() int64 { return o.expire }

// LRU returns the last access time in seconds.
func (o *Object) LRU() uint32 { return o.lru }

// SetLRU sets the last access time (seconds).
func (o *Object) SetLRU(s uint32) { o.lru = s }

// NewString returns a string object holding b (not copied).
func NewString(b []byte) *Object {
	o := &Object{typ: TString}
	o.SetBytes(b)
	return o
}

// Bytes returns a string object's bytes. The slice aliases the stored value:
// a handler may modify it in place (then call SetBytes if length changed).
func (o *Object) Bytes() []byte {
	if o.p == nil {
		return []byte{}
	}
	return unsafe.Slice((*byte)(o.p), int(o.c))[:o.n]
}

// SetBytes replaces a string object's value with b (not copied).
func (o *Object) SetBytes(b []byte) {
	o.p = unsafe.Pointer(unsafe.SliceData(b))
	o.n = int32(len(b))
	o.c = int32(cap(b))
}

func NewList(l *datatype.List) *Object { return &Object{typ: TList, p: unsafe.Pointer(l)} }
func NewHash(h *datatype.Hash) *Object { return &Object{typ: THash, p: unsafe.Pointer(h)} }
func NewSet(s *datatype.Set) *Object   { return &Object{typ: TSet, p: unsafe.Pointer(s)} }
func NewZSet(z *datatype.ZSet) *Object { return &Object{typ: TZSet, p: unsafe.Pointer(z)} }
func NewStream(s *datatype.Stream) *Object {
	return &Object{typ: TStream, p: unsafe.Pointer(s)}
}
func (o *Object) List() *datatype.List { return (*datatype.List)(o.p) }
func (o *Object) Hash() *datatype.Hash { return (*datatype.Hash)(o.p) }
func (o *Object) Set() *datatype.Set   { return (*datatype.Set)(o.p) }
func (o *Object) ZSet() *datatype.ZSet { return (*datatype.ZSet)(o.p) }
func (o *Object) Stream() *datatype.Stream {
	return (*datatype.Stream)(o.p)
}

// NewOther wraps a value of a type without a dedicated accessor (streams).
func NewOther(t Type, v unsafe.Pointer) *Object { return &Object{typ: t, p: v} }

// Pointer returns the raw payload pointer (for types without an accessor).
func (o *Object) Pointer() unsafe.Pointer { return o.p }
