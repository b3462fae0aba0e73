package keyspace

import (
	"fmt"
	"sync/atomic"
	"testing"
)

func newKS() (*Keyspace, *int64) {
	ks := New(4)
	now := int64(1_000_000)
	ks.Now = func() int64 { return now }
	return ks, &now
}

func TestSetLookupDelete(t *testing.T) {
	ks, _ := newKS()
	ks.LockAll()
	defer ks.UnlockAll()
	db := ks.DB(0)
	db.Set([]byte("a"), NewString([]byte("1")), false)
	if o := db.Lookup([]byte("a")); o == nil || string(o.Bytes()) != "1" {
		t.Fatalf("lookup a = %v", o)
	}
	if ks.DB(1).Lookup([]byte("a")) != nil {
		t.Fatal("key visible in another db")
	}
	if db.Len() != 1 || !db.Delete([]byte("a")) || db.Len() != 0 || db.Delete([]byte("a")) {
		t.Fatal("delete/len wrong")
	}
	if ks.Hits.Load() != 1 || ks.Misses.Load() != 1 {
		t.Fatalf("hits %d misses %d", ks.Hits.Load(), ks.Misses.Load())
	}
}

func TestExpiry(t *testing.T) {
	ks, now := newKS()
	ks.LockAll()
	db := ks.DB(0)
	o := NewString([]byte("v"))
	o.SetExpire(*now + 100)
	db.Set([]byte("k"), o, false)
	if db.Expires() != 1 {
		t.Fatal("volatile not tracked")
	}
	// KEEPTTL keeps, plain Set clears.
	db.Set([]byte("k"), NewString([]byte("w")), true)
	if db.Lookup([]byte("k")).Expire() != *now+100 {
		t.Fatal("keepTTL lost the TTL")
	}
	db.Set([]byte("k"), NewString([]byte("x")), false)
	if db.Lookup([]byte("k")).Expire() != 0 || db.Expires() != 0 {
		t.Fatal("Set kept the TTL")
	}
	o = db.Lookup([]byte("k"))
	db.SetExpireAt([]byte("k"), o, *now+50)
	*now += 50
	if db.Lookup([]byte("k")) != nil {
		t.Fatal("expired key visible")
	}
	if db.Len() != 0 || ks.ExpiredKeys.Load() != 1 {
		t.Fatalf("lazy expiry did not delete: len %d", db.Len())
	}
	// Replica: expired keys look missing but stay.
	o = NewString([]byte("r"))
	o.SetExpire(*now + 1)
	db.Set([]byte("r"), o, false)
	ks.Replica.Store(true)
	*now += 10
	if db.Lookup([]byte("r")) != nil || db.Len() != 1 {
		t.Fatal("replica lookup of expired key")
	}
	ks.Replica.Store(false)
	ks.UnlockAll()
	// Active expiry reclaims keys nobody reads.
	for i := 0; i < 1000; i++ {
		ks.LockAll()
		o := NewString([]byte("v"))
		o.SetExpire(*now + 5)
		db.Set([]byte(fmt.Sprint("e", i)), o, false)
		ks.UnlockAll()
	}
	*now += 10
	for i := 0; i < 100 && db.Len() > 0; i++ {
		ks.ActiveExpire(1 << 30)
	}
	if db.Len() != 0 {
		t.Fatalf("active expiry left %d keys", db.Len())
	}
}

func TestScanCoversAll(t *testing.T) {
	ks, _ := newKS()
	ks.LockAll()
	defer ks.UnlockAll()
	db := ks.DB(2)
	for i := 0; i < 5000; i++ {
		db.Set([]byte(fmt.Sprint("key:", i)), NewString(nil), false)
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	for {
		cursor = db.Scan(cursor, 10, func(k string, _ *Object) { seen[k] = true })
		if cursor == 0 {
			break
		}
	}
	if len(seen) != 5000 {
		t.Fatalf("scan saw %d of 5000", len(seen))
	}
	if k, ok := db.RandomKey(); !ok || !seen[k] {
		t.Fatalf("random key %q", k)
	}
	n := 0
	for s := 0; s < 16384; s++ {
		n += db.SlotLen(s)
	}
	if n != 5000 {
		t.Fatalf("slot lens sum %d", n)
	}
	if db.Flush() != 5000 || db.Len() != 0 {
		t.Fatal("flush")
	}
}

func TestWatchTouch(t *testing.T) {
	ks, _ := newKS()
	var flag atomic.Bool
	ks.LockAll()
	db := ks.DB(0)
	db.Watch([]byte("w"), &flag)
	db.Touch([]byte("other"))
	if flag.Load() {
		t.Fatal("touch of another key set the flag")
	}
	db.Set([]byte("w"), NewString(nil), false)
	db.Delete([]byte("w"))
	if !flag.Load() {
		t.Fatal("delete did not touch")
	}
	ks.UnlockAll()
	ks.Unwatch(KeyRef{0, "w"}, &flag)
	if ks.watchers.Load() != 0 {
		t.Fatal("unwatch")
	}
}

func TestSwap(t *testing.T) {
	ks, _ := newKS()
	ks.LockAll()
	defer ks.UnlockAll()
	ks.DB(0).Set([]byte("a"), NewString([]byte("0")), false)
	ks.DB(1).Set([]byte("b"), NewString([]byte("1")), false)
	ks.Swap(0, 1)
	if ks.DB(0).Lookup([]byte("b")) == nil || ks.DB(1).Lookup([]byte("a")) == nil {
		t.Fatal("swap")
	}
}

// TestExpireMoved: moving a volatile key's expiry keeps it tracked once
// (active expiry finds it at the new time); clearing it untracks it.
func TestExpireMoved(t *testing.T) {
	ks, now := newKS()
	ks.LockAll()
	db := ks.DB(0)
	for _, k := range []string{"a", "b"} {
		o := NewString([]byte("v"))
		o.SetExpire(*now + 100)
		db.Set([]byte(k), o, false)
	}
	a, b := db.Lookup([]byte("a")), db.Lookup([]byte("b"))
	db.SetExpireAt([]byte("a"), a, *now+200)
	db.SetExpireAt([]byte("a"), a, *now+5)
	db.SetExpireAt([]byte("b"), b, 0)
	if db.Expires() != 1 || a.Expire() != *now+5 || b.Expire() != 0 {
		t.Fatalf("expires %d, a at %d, b at %d", db.Expires(), a.Expire(), b.Expire())
	}
	ks.UnlockAll()
	*now += 10
	for i := 0; i < 100 && db.Len() > 1; i++ {
		ks.ActiveExpire(1 << 30)
	}
	ks.LockAll()
	defer ks.UnlockAll()
	if db.Len() != 1 || db.Expires() != 0 || db.Lookup([]byte("b")) == nil {
		t.Fatalf("after active expiry: %d keys, %d volatile", db.Len(), db.Expires())
	}
}
