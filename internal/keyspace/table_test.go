package keyspace

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTableAgainstMap runs random inserts and deletes (some while the
// table is pinned) on a table and on a map and compares them after each.
func TestTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tb table
	want := map[string]*Object{}
	pinned := 0
	for step := 0; step < 200000; step++ {
		k := fmt.Sprint(r.IntN(3000))
		switch op := r.IntN(100); {
		case op < 2 && pinned < 2:
			tb.pin()
			pinned++
		case op < 4 && pinned > 0:
			tb.unpin()
			pinned--
		case op < 55:
			if i := tb.find(k); i >= 0 {
				if want[k] != tb.ents()[i].obj() {
					t.Fatalf("step %d: %q found the wrong object", step, k)
				}
				continue
			}
			if want[k] != nil {
				t.Fatalf("step %d: %q not found", step, k)
			}
			o := &Object{key: k}
			tb.insert(o)
			want[k] = o
		default:
			i := tb.findBytes([]byte(k))
			if (i >= 0) != (want[k] != nil) {
				t.Fatalf("step %d: %q found %v, want %v", step, k, i >= 0, want[k] != nil)
			}
			if i >= 0 {
				tb.deleteAt(i)
				delete(want, k)
			}
		}
		if int(tb.n) != len(want) {
			t.Fatalf("step %d: n %d, want %d", step, tb.n, len(want))
		}
		if step%1000 == 0 {
			seen := 0
			for i := range tb.ents() {
				if o := tb.at(i); o != nil {
					if want[o.key] != o {
						t.Fatalf("step %d: stray entry %q", step, o.key)
					}
					if r := tb.ents()[i]; r.tag() != refTag(uint16(hashString(o.key))) {
						t.Fatalf("step %d: %q has tag %d in its entry, want %d", step, o.key, r.tag(), refTag(uint16(hashString(o.key))))
					}
					seen++
				}
			}
			if seen != len(want) {
				t.Fatalf("step %d: %d entries, want %d", step, seen, len(want))
			}
			if pinned == 0 && tb.dead != 0 {
				t.Fatalf("step %d: %d tombstones in an unpinned table", step, tb.dead)
			}
			if len(tb.ents()) > 0 && (int(tb.n+tb.dead)*8 > len(tb.ents())*7 || pinned == 0 && len(tb.ents()) > 8 && int(tb.n)*8 < len(tb.ents())) {
				t.Fatalf("step %d: %d keys, %d tombstones in %d entries", step, tb.n, tb.dead, len(tb.ents()))
			}
		}
	}
}

// TestScanAcrossResizes checks SCAN's guarantee: a key present for the
// whole scan is returned at least once, while other keys come and go
// between the calls (growing and shrinking the slot tables).
func TestScanAcrossResizes(t *testing.T) {
	ks := New(1)
	db := ks.DB(0)
	ks.LockAll()
	defer ks.UnlockAll()
	stay := map[string]bool{}
	for i := 0; i < 3000; i++ {
		k := fmt.Sprintf("stay:%d", i)
		db.Set([]byte(k), NewString([]byte("v")), false)
		stay[k] = true
	}
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	cursor, calls := uint64(0), 0
	for {
		cursor = db.Scan(cursor, 10, func(k string, _ *Object) { seen[k] = true })
		calls++
		// Churn: many keys in and out, some in the same slots (hash tags).
		for j := 0; j < 200; j++ {
			k := fmt.Sprintf("{stay:%d}:churn:%d", r.IntN(3000), r.IntN(50))
			if r.IntN(2) == 0 {
				db.Set([]byte(k), NewString([]byte("x")), false)
			} else {
				db.Delete([]byte(k))
			}
		}
		if cursor == 0 {
			break
		}
	}
	for k := range stay {
		if !seen[k] {
			t.Fatalf("%q present for the whole scan was not returned (%d calls)", k, calls)
		}
	}
	if db.Len() < len(stay) {
		t.Fatalf("Len %d", db.Len())
	}
}

// benchKeys fills a keyspace with n keys (key:0 ...) and returns them in
// a random order, so that lookups miss the caches as a server's do.
func benchKeys(n int) (*DB, [][]byte) {
	ks := New(1)
	db := ks.DB(0)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%012d", i))
		db.Set(keys[i], NewStringCopy([]byte("value:0123456789")), false)
	}
	rand.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return db, keys
}

// BenchmarkKeyspaceLookup measures a hit and a miss in keyspaces of 100k
// and 1M keys, in a random order.
func BenchmarkKeyspaceLookup(b *testing.B) {
	for _, n := range []int{100_000, 1 << 20} {
		db, keys := benchKeys(n)
		b.Run(fmt.Sprintf("hit-%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if db.Peek(keys[i%n]) == nil {
					b.Fatal("missing")
				}
			}
		})
		b.Run(fmt.Sprintf("miss-%d", n), func(b *testing.B) {
			miss := make([][]byte, len(keys))
			for i, k := range keys {
				miss[i] = append([]byte("nokey"), k[3:]...)
			}
			for i := 0; i < b.N; i++ {
				if db.Peek(miss[i%n]) != nil {
					b.Fatal("found")
				}
			}
		})
	}
}

// BenchmarkKeyspaceSetDelete measures an insert and a delete.
func BenchmarkKeyspaceSetDelete(b *testing.B) {
	ks := New(1)
	db := ks.DB(0)
	const n = 1 << 16
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%d", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i&(n-1)]
		db.Set(k, NewString([]byte("v")), false)
		if i&1 == 1 {
			db.Delete(keys[(i-1)&(n-1)])
		}
	}
}
