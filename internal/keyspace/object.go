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

// strBorrowed marks a string object whose bytes still alias the caller's
// buffer (NewStringCopy): Set copies them. The keyspace owns this bit.
const strBorrowed uint8 = 1 << 7

// sharedMax is the largest key plus value that Set stores in one
// allocation.
const sharedMax = 128

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

// NewStringCopy returns a string object for b that DB.Set copies when
// it stores the object, so b may alias a request buffer until then (the
// object must be stored before that buffer is reused). A new key's bytes
// and a short value then share one allocation: for "key:N" = "value:N"
// one 24-byte allocation instead of two of 16.
func NewStringCopy(b []byte) *Object {
	o := &Object{typ: TString, Flags: strBorrowed}
	o.SetBytes(b)
	return o
}

// own copies a borrowed string's bytes (NewStringCopy). newKey is the key
// when it is not stored yet: then the key is returned, sharing the value's
// allocation when both are short.
func (o *Object) own(newKey []byte) string {
	o.Flags &^= strBorrowed
	v := o.Bytes()
	if newKey == nil || len(newKey) == 0 || len(newKey)+len(v) > sharedMax {
		if len(v) == 0 {
			o.SetBytes(nil)
		} else {
			o.SetBytes(append([]byte(nil), v...))
		}
		if newKey == nil {
			return ""
		}
		return string(newKey)
	}
	kn := len(newKey)
	buf := make([]byte, kn+len(v))
	copy(buf, newKey)
	copy(buf[kn:], v)
	if len(v) == 0 {
		o.SetBytes(nil)
	} else {
		o.SetBytes(buf[kn:len(buf):len(buf)])
	}
	return unsafe.String(&buf[0], kn)
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
