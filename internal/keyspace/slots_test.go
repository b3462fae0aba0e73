package keyspace

import (
	"fmt"
	"sort"
	"sync/atomic"
	"testing"

	"redgo/internal/slot"
)

// keysOfSlot returns n keys of hash slot s.
func keysOfSlot(s, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("k%d", i)
		if slot.OfString(k) == s {
			out = append(out, k)
		}
	}
	return out
}

// DropSlot deletes every key of the slot, expired and volatile ones
// included, and nothing else; counts, memory, the expiry index and WATCH
// follow, pinned table or not.
func TestDropSlot(t *testing.T) {
	for _, pinned := range []bool{false, true} {
		ks, now := newKS()
		ks.LockAll()
		db := ks.DB(0)
		empty := ks.Used()
		const s = 42
		keys := keysOfSlot(s, 300)
		for i, k := range keys {
			o := NewString([]byte("v" + k))
			if i%3 == 0 {
				o.SetExpire(*now + int64(i%2)*10_000 + 1) // half of these expire below
			}
			db.Set([]byte(k), o, false)
		}
		other := keysOfSlot(s+1, 5)
		for _, k := range other {
			db.Set([]byte(k), NewString([]byte("x")), false)
		}
		withOther := ks.Used()
		for _, k := range other {
			db.Delete([]byte(k))
		}
		otherCost := withOther - ks.Used()
		for _, k := range other {
			db.Set([]byte(k), NewString([]byte("x")), false)
		}
		*now += 5
		var flag atomic.Bool
		db.Watch([]byte(keys[1]), &flag)
		sh := ks.shards[s%NShards]
		tb := &sh.dbs[0].slots[s/NShards]
		if pinned {
			tb.pin()
		}
		var got []string
		n := db.DropSlot(s, func(k string) { got = append(got, k) })
		if pinned {
			tb.unpin()
		}
		sort.Strings(got)
		want := append([]string(nil), keys...)
		sort.Strings(want)
		if n != len(keys) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pinned %v: DropSlot = %d keys %v, want %d", pinned, n, len(got), len(keys))
		}
		if db.SlotLen(s) != 0 || db.Len() != len(other) || db.Expires() != 0 {
			t.Fatalf("pinned %v: after DropSlot: slot %d keys, db %d, expires %d", pinned, db.SlotLen(s), db.Len(), db.Expires())
		}
		if ks.Used()-empty != otherCost {
			t.Fatalf("pinned %v: used memory %d over empty, want the other slot's %d", pinned, ks.Used()-empty, otherCost)
		}
		if !flag.Load() {
			t.Fatalf("pinned %v: a watched key went without touching its watchers", pinned)
		}
		for _, k := range other {
			if db.Lookup([]byte(k)) == nil {
				t.Fatalf("pinned %v: %s of another slot went", pinned, k)
			}
		}
		db.Set([]byte(keys[0]), NewString([]byte("again")), false)
		if o := db.Lookup([]byte(keys[0])); o == nil || string(o.Bytes()) != "again" || db.SlotLen(s) != 1 {
			t.Fatalf("pinned %v: the slot does not take keys after DropSlot", pinned)
		}
		ks.UnlockAll()
	}
}

// ReserveSlot sizes the table once: storing that many keys then grows
// it no more, and every key is found.
func TestReserveSlot(t *testing.T) {
	ks, _ := newKS()
	ks.LockAll()
	defer ks.UnlockAll()
	db := ks.DB(0)
	const s = 7
	keys := keysOfSlot(s, 500)
	db.Set([]byte(keys[0]), NewString([]byte("v")), false)
	db.ReserveSlot(s, len(keys)-1)
	tb := &ks.shards[s%NShards].dbs[0].slots[s/NShards]
	ver := tb.ver
	size := len(tb.ents())
	for _, k := range keys[1:] {
		db.Set([]byte(k), NewString([]byte("v")), false)
	}
	if len(tb.ents()) != size || tb.ver != ver {
		t.Fatalf("the table grew from %d to %d entries after ReserveSlot", size, len(tb.ents()))
	}
	if int(tb.n)*4 > size*3 {
		t.Fatalf("%d keys in %d entries: over the load factor", tb.n, size)
	}
	for _, k := range keys {
		if db.Lookup([]byte(k)) == nil {
			t.Fatalf("%s not found", k)
		}
	}
	db.ReserveSlot(s, 0) // no room needed: nothing moves
	if tb.ver != ver {
		t.Fatal("ReserveSlot of nothing rehashed the table")
	}
}
