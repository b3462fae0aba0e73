package keyspace

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"redgo/internal/datatype"
)

// recount sums what every key costs now, measuring collections afresh.
func recount(ks *Keyspace) int64 {
	var total int64
	for i := 0; i < ks.NumDB(); i++ {
		ks.DB(i).ForEach(func(k string, o *Object) bool {
			c := *o
			c.n = 0
			c.measure()
			total += KeyCost(k, &c)
			return true
		})
	}
	return total
}

// TestMemoryAccounting runs random writes of every kind the keyspace
// accounts and checks the running figure against a recount.
func TestMemoryAccounting(t *testing.T) {
	ks := New(2)
	ks.Now = func() int64 { return 1_000_000 }
	rng := rand.New(rand.NewPCG(1, 2))
	for step := 0; step < 20000; step++ {
		db := ks.DB(rng.IntN(2))
		key := []byte("k" + strconv.Itoa(rng.IntN(300)))
		ks.LockAll()
		switch op := rng.IntN(9); op {
		case 0, 1:
			o := NewString(make([]byte, rng.IntN(200)))
			if rng.IntN(3) == 0 {
				o.SetExpire(2_000_000)
			}
			db.Set(key, o, rng.IntN(2) == 0)
		case 2:
			h := datatype.NewHash(nil)
			for j := rng.IntN(200); j >= 0; j-- {
				h.Set([]byte("f"+strconv.Itoa(j)), []byte("v"))
			}
			db.Set(key, NewHash(h), false)
		case 3: // a collection changed in place
			if o := db.LookupWrite(key); o != nil && o.Type() == THash {
				for j := rng.IntN(100); j >= 0; j-- {
					o.Hash().Set([]byte("g"+strconv.Itoa(rng.IntN(1000))), []byte("value"))
				}
				db.Resized(key)
			}
		case 4: // a string changed in place
			if o := db.LookupWrite(key); o != nil && o.Type() == TString {
				db.SetBytes(key, o, append(o.Bytes(), make([]byte, rng.IntN(300))...))
			}
		case 5:
			db.Delete(key)
		case 6:
			if o := db.LookupWrite(key); o != nil {
				at := int64(0)
				if rng.IntN(2) == 0 {
					at = 3_000_000
				}
				db.SetExpireAt(key, o, at)
			}
		case 7:
			if rng.IntN(200) == 0 {
				db.Flush()
			}
		case 8:
			if rng.IntN(100) == 0 {
				ks.Swap(0, 1)
			}
		}
		ks.UnlockAll()
		if step%1000 == 0 || step == 19999 {
			if got, want := ks.Used(), recount(ks); got != want {
				t.Fatalf("step %d: accounted %d, recount %d", step, got, want)
			}
		}
	}
}

// TestMemoryAccountingReplace: a dataset swapped in whole brings its
// figure with it.
func TestMemoryAccountingReplace(t *testing.T) {
	a, b := New(1), New(1)
	a.DB(0).Set([]byte("x"), NewString([]byte("1")), false)
	for i := 0; i < 10; i++ {
		b.DB(0).Set([]byte("y"+strconv.Itoa(i)), NewString([]byte("22")), false)
	}
	ua, ub := a.Used(), b.Used()
	a.LockAll()
	a.ReplaceWith(b)
	a.UnlockAll()
	if a.Used() != ub || b.Used() != ua || a.Used() != recount(a) {
		t.Fatalf("after ReplaceWith: %d %d (want %d %d)", a.Used(), b.Used(), ub, ua)
	}
}

func TestOverwriteString(t *testing.T) {
	ks := New(1)
	db := ks.DB(0)
	k := []byte("k")
	if db.OverwriteString(k, []byte("v")) {
		t.Fatal("overwrote a missing key")
	}
	db.Set(k, NewString([]byte("0123456789abcdef")), false)
	used := ks.Used()
	o := db.Peek(k)
	o.Flags |= StrRaw
	if !db.OverwriteString(k, []byte("fedcba9876543210")) {
		t.Fatal("same size not overwritten in place")
	}
	if got := db.Peek(k); got != o || string(got.Bytes()) != "fedcba9876543210" || got.Flags&StrRaw != 0 {
		t.Fatalf("after the overwrite: %q flags %d", got.Bytes(), got.Flags)
	}
	if ks.Used() != used {
		t.Fatalf("used memory %d -> %d", used, ks.Used())
	}
	if db.OverwriteString(k, make([]byte, 100)) {
		t.Fatal("a longer value went into a short buffer")
	}
	db.Set(k, NewString(make([]byte, 1000)), false)
	if db.OverwriteString(k, []byte("x")) {
		t.Fatal("a 1-byte value kept a 1000-byte buffer")
	}
	o = db.Peek(k)
	o.SetExpire(1 << 50)
	if db.OverwriteString(k, make([]byte, 1000)) {
		t.Fatal("overwrote a key with a TTL (SET drops it: the slow path's job)")
	}
	db.Set([]byte("l"), NewList(datatype.NewList(datatype.NewLimits())), false)
	if db.OverwriteString([]byte("l"), []byte("x")) {
		t.Fatal("overwrote a list")
	}
}
