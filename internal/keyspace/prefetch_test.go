package keyspace

import (
	"fmt"
	"testing"

	"redgo/internal/slot"
)

// TestPrefetchChangesNothing: Prefetch reads keys that are there, keys
// that are not, keys in a database without any key, more keys than it
// reads, and keys of a shard another thread holds, which it passes
// without waiting; it leaves every lock as it found it and every value
// as it was.
func TestPrefetchChangesNothing(t *testing.T) {
	ks := New(2)
	db := ks.DB(0)
	var keys [][]byte
	for i := 0; i < 2000; i++ {
		k := []byte(fmt.Sprintf("key:%d", i))
		ks.Lock([]int{int(slot.Of(k)) % NShards})
		db.Set(k, NewString([]byte(fmt.Sprint(i))), false)
		ks.Unlock([]int{int(slot.Of(k)) % NShards})
		keys = append(keys, k)
	}
	for i := 0; i < 40; i++ {
		keys = append(keys, []byte(fmt.Sprintf("missing:%d", i)))
	}
	held := int(slot.Of(keys[0])) % NShards
	ks.shards[held].mu.Lock()
	for off := 0; off < len(keys); off += 7 {
		db.Prefetch(keys[off:min(len(keys), off+PrefetchMax+5)])
		ks.DB(1).Prefetch(keys[off:min(len(keys), off+PrefetchMax)])
	}
	db.Prefetch(nil)
	if ks.shards[held].mu.TryLock() {
		t.Fatal("Prefetch unlocked a shard it did not take")
	}
	ks.shards[held].mu.Unlock()
	for i, sh := range ks.shards {
		if !sh.mu.TryLock() {
			t.Fatalf("shard %d left locked", i)
		}
		sh.mu.Unlock()
	}
	for i, k := range keys[:2000] {
		if o := db.Peek(k); o == nil || string(o.Bytes()) != fmt.Sprint(i) {
			t.Fatalf("%s changed", k)
		}
	}
}
