package keyspace

import "math/rand/v2"

// Sample calls fn, with the shard locked, for up to n keys of each
// database of one randomly chosen shard that has keys (only keys with a
// TTL when volatile): the keys maxmemory eviction ranks. fn must not take
// shard locks. It reports false when no shard has such a key.
func (ks *Keyspace) Sample(volatile bool, n int, fn func(db int, key string, o *Object)) bool {
	start := rand.IntN(NShards)
	for i := 0; i < NShards; i++ {
		sh := ks.shards[(start+i)%NShards]
		sh.mu.Lock()
		found := false
		for dbi := range sh.dbs {
			d := &sh.dbs[dbi]
			if volatile {
				found = sampleMap(d.volatile, dbi, n, fn) || found
				continue
			}
			if d.count == 0 {
				continue
			}
			left := n
			first := rand.IntN(slotsPerShard)
			for j := 0; j < slotsPerShard && left > 0; j++ {
				t := d.tab((first + j) % slotsPerShard)
				if t.n == 0 {
					continue
				}
				found = true
				start := t.randomStart()
				for x, size := 0, len(t.ents()); x < size; x++ {
					o := t.at((start + x) & (size - 1))
					if o == nil {
						continue
					}
					fn(dbi, o.key, o)
					if left--; left == 0 {
						break
					}
				}
			}
		}
		sh.mu.Unlock()
		if found {
			return true
		}
	}
	return false
}

func sampleMap(m map[string]*Object, dbi, n int, fn func(int, string, *Object)) bool {
	if len(m) == 0 {
		return false
	}
	for k, o := range m {
		fn(dbi, k, o)
		if n--; n == 0 {
			break
		}
	}
	return true
}

// Idle returns the seconds since an LRU access field was set.
func (ks *Keyspace) Idle(access uint32) uint64 {
	now := ks.LRUClock()
	if now < access {
		return 0
	}
	return uint64(now - access)
}
