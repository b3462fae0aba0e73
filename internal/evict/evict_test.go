package evict

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// fakeStore is a keyspace of n keys of one byte each: key i was last
// accessed i seconds ago, has been used i times, and expires at i.
type fakeStore struct {
	keys map[string]Key
	rng  *rand.Rand
}

func newFake(n int) *fakeStore {
	f := &fakeStore{keys: map[string]Key{}, rng: rand.New(rand.NewPCG(1, 1))}
	for i := 0; i < n; i++ {
		k := "k" + strconv.Itoa(i)
		exp := int64(0)
		if i%2 == 1 {
			exp = int64(1000 + i)
		}
		f.keys[k] = Key{Key: k, Access: uint32(i), Expire: exp}
	}
	return f
}

func (f *fakeStore) Sample(volatile bool, n int, fn func(Key)) bool {
	var all []Key
	for _, k := range f.keys {
		if !volatile || k.Expire != 0 {
			all = append(all, k)
		}
	}
	if len(all) == 0 {
		return false
	}
	for i := 0; i < n; i++ {
		fn(all[f.rng.IntN(len(all))])
	}
	return true
}

func (f *fakeStore) Evict(db int, key string, volatile bool) (int64, bool) {
	k, ok := f.keys[key]
	if !ok || volatile && k.Expire == 0 {
		return 0, false
	}
	delete(f.keys, key)
	return 1, true
}

func (f *fakeStore) Idle(access uint32) uint64      { return uint64(access) }
func (f *fakeStore) LFUCounter(access uint32) uint8 { return uint8(min(access, 255)) }

func TestFreeRanks(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		best func(k Key) int64 // higher: should have gone first
	}{
		{AllKeysLRU, func(k Key) int64 { return int64(k.Access) }},
		{AllKeysLFU, func(k Key) int64 { return -int64(k.Access) }},
		{VolatileTTL, func(k Key) int64 { return -k.Expire }},
	} {
		f := newFake(1000)
		_, keys, res := New(f).Free(tc.p, 300, 5, time.Hour)
		if res != Freed || keys != 300 {
			t.Fatalf("policy %d: freed %d keys, %v", tc.p, keys, res)
		}
		// The sampled pool approximates the best: the kept keys must rank
		// lower on average than the evicted ones did.
		var kept int64
		n := 0
		for _, k := range f.keys {
			if tc.p.Volatile() && k.Expire == 0 {
				continue
			}
			kept += tc.best(k)
			n++
		}
		var all int64
		for _, k := range newFake(1000).keys {
			if tc.p.Volatile() && k.Expire == 0 {
				continue
			}
			all += tc.best(k)
		}
		if avgKept, avgAll := float64(kept)/float64(n), float64(all)/float64(n+300); avgKept >= avgAll {
			t.Errorf("policy %d: kept keys rank %.1f on average, all keys %.1f", tc.p, avgKept, avgAll)
		}
	}
}

func TestFreeVolatileOnly(t *testing.T) {
	f := newFake(100)
	_, keys, res := New(f).Free(VolatileRandom, 1000, 5, time.Hour)
	if res != Failed || keys != 50 {
		t.Fatalf("freed %d keys, %v; want the 50 volatile ones, then Failed", keys, res)
	}
	for _, k := range f.keys {
		if k.Expire != 0 {
			t.Fatalf("volatile key %s left", k.Key)
		}
	}
	if _, _, res := New(f).Free(NoEviction, 1, 5, time.Hour); res != Failed {
		t.Errorf("noeviction: %v", res)
	}
	if _, _, res := New(f).Free(AllKeysLRU, 0, 5, time.Hour); res != Freed {
		t.Errorf("nothing to free: %v", res)
	}
}

func TestPoolKeepsBest(t *testing.T) {
	e := New(newFake(0))
	for i := 0; i < 100; i++ {
		e.offer(candidate{key: strconv.Itoa(i), score: uint64((i * 37) % 100)})
	}
	e.offer(candidate{key: "0", score: 1000}) // the same key again, now the best
	if len(e.pool) != PoolSize {
		t.Fatalf("pool has %d", len(e.pool))
	}
	for i := 1; i < len(e.pool); i++ {
		if e.pool[i-1].score > e.pool[i].score {
			t.Fatalf("pool out of order: %v", e.pool)
		}
	}
	if top := e.pool[PoolSize-1]; top.key != "0" || top.score != 1000 {
		t.Errorf("best = %v", top)
	}
	if low := e.pool[0].score; low < 100-PoolSize {
		t.Errorf("pool keeps a candidate of score %d", low)
	}
}

func TestTimeBudget(t *testing.T) {
	if TimeBudget(10) != 500*time.Microsecond || TimeBudget(0) != 0 {
		t.Errorf("budget(10) = %v, budget(0) = %v", TimeBudget(10), TimeBudget(0))
	}
	if TimeBudget(20) <= TimeBudget(11) || TimeBudget(100) < time.Hour {
		t.Error("the budget must grow with tenacity and be unlimited at 100")
	}
}
