package keyspace

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"redgo/internal/datatype"
)

// TestHeapPerKey reports (with -v) the Go heap a key takes, after a
// collection, for the datasets of `go run ./bench -memory`: what to look
// at first when a ratio there is bad. It checks nothing but that the keys
// are there.
func TestHeapPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a few hundred thousand keys")
	}
	cases := []struct {
		typ  string
		size int
	}{{"string", 1}, {"hash", 10}, {"hash", 100}, {"set", 10}, {"set", 100}, {"zset", 10}, {"zset", 100}, {"list", 10}, {"list", 100}}
	for _, c := range cases {
		keys := 200000 / c.size
		ks := New(1)
		db := ks.DB(0)
		before, objs0 := heapLive()
		for k := 0; k < keys; k++ {
			key := []byte(fmt.Sprintf("%s:%d", c.typ, k))
			db.Set(key, heapValue(ks, c.typ, c.size, k), false)
		}
		after, objs1 := heapLive()
		if db.Len() != keys {
			t.Fatalf("%s: %d keys, want %d", c.typ, db.Len(), keys)
		}
		per := float64(after-before) / float64(keys)
		t.Logf("%-6s of %4d: %7.1f B per key, %6.1f B per element, %4.1f live objects per key, accounted %6.1f B per key",
			c.typ, c.size, per, per/float64(c.size), float64(objs1-objs0)/float64(keys), float64(ks.Used())/float64(keys))
		runtime.KeepAlive(ks)
	}
}

// heapLive returns the live heap bytes and objects after a collection.
func heapLive() (bytes, objects uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.HeapObjects
}

// heapValue builds a value as the commands do: an empty collection that
// grows one element at a time (HSET/SADD/ZADD/RPUSH with many arguments).
func heapValue(ks *Keyspace, typ string, size, k int) *Object {
	switch typ {
	case "hash":
		h := datatype.NewHash(ks.Limits)
		for i := 0; i < size; i++ {
			h.Set([]byte("f:"+strconv.Itoa(i)), []byte("v:"+strconv.Itoa(i)))
		}
		return NewHash(h)
	case "set":
		s := datatype.NewSet(ks.Limits)
		for i := 0; i < size; i++ {
			s.Add([]byte(strconv.Itoa(i)))
		}
		return NewSet(s)
	case "zset":
		z := datatype.NewZSet(ks.Limits)
		for i := 0; i < size; i++ {
			z.Insert("m:"+strconv.Itoa(i), float64(i))
		}
		return NewZSet(z)
	case "list":
		l := datatype.NewList(ks.Limits)
		for i := 0; i < size; i++ {
			l.PushBack([]byte("e:" + strconv.Itoa(i)))
		}
		return NewList(l)
	}
	// As SET stores it: the value copied when the key is stored
	// (NewStringCopy), sharing the new key's allocation.
	return NewStringCopy([]byte("value:" + strconv.Itoa(k)))
}
