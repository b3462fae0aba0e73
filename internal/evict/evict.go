// Package evict frees memory when the dataset passes maxmemory, as Redis's
// evict.c: it samples keys, keeps the best candidates in a small pool
// across calls, and evicts the best one until enough is freed or its time
// budget runs out. It knows nothing of shards or connections: a Store
// samples and deletes keys for it.
package evict

import (
	"math"
	"time"
)

// Policy is a maxmemory-policy.
type Policy uint8

const (
	NoEviction Policy = iota
	AllKeysLRU
	VolatileLRU
	AllKeysLFU
	VolatileLFU
	AllKeysRandom
	VolatileRandom
	VolatileTTL
)

var policyNames = map[string]Policy{
	"noeviction": NoEviction, "allkeys-lru": AllKeysLRU, "volatile-lru": VolatileLRU,
	"allkeys-lfu": AllKeysLFU, "volatile-lfu": VolatileLFU, "allkeys-random": AllKeysRandom,
	"volatile-random": VolatileRandom, "volatile-ttl": VolatileTTL,
}

// ParsePolicy returns the policy named s (as CONFIG accepts it).
func ParsePolicy(s string) (Policy, bool) {
	p, ok := policyNames[s]
	return p, ok
}

// Volatile reports whether the policy evicts only keys with a TTL.
func (p Policy) Volatile() bool {
	return p == VolatileLRU || p == VolatileLFU || p == VolatileRandom || p == VolatileTTL
}

// LFU reports whether the policy ranks keys by access frequency.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// LRU reports whether the policy ranks keys by idle time.
func (p Policy) LRU() bool { return p == AllKeysLRU || p == VolatileLRU }

func (p Policy) random() bool { return p == AllKeysRandom || p == VolatileRandom }

// Key is a sampled key with what ranks it.
type Key struct {
	DB     int
	Key    string
	Access uint32 // the object's access field: LRU time or LFU data
	Expire int64  // unix ms, 0 when none
}

// Store is the keyspace as eviction sees it.
type Store interface {
	// Sample calls fn for up to n keys of a randomly chosen part of the
	// keyspace (only keys with a TTL when volatile). It reports false
	// when there is no such key at all.
	Sample(volatile bool, n int, fn func(Key)) bool
	// Evict deletes the key if it still exists (with a TTL when
	// volatile), as an eviction (propagated, counted), and returns the
	// accounted bytes it held.
	Evict(db int, key string, volatile bool) (freed int64, ok bool)
	// Idle is the idle time in seconds of an LRU access field; LFUCounter
	// the decayed counter of an LFU one.
	Idle(access uint32) uint64
	LFUCounter(access uint32) uint8
}

// Result tells how a call to Free ended.
type Result int

const (
	// Freed: enough memory was freed (or none needed freeing).
	Freed Result = iota
	// Running: the time budget ran out first; call again soon.
	Running
	// Failed: nothing left to evict, or the policy is noeviction.
	Failed
)

// PoolSize is the number of candidates kept between calls (EVPOOL_SIZE).
const PoolSize = 16

type candidate struct {
	db    int
	key   string
	score uint64 // higher: evict sooner
}

// Evictor evicts from one Store. It is not safe for concurrent use.
type Evictor struct {
	store Store
	pool  []candidate // ascending score
}

// New returns an Evictor over store.
func New(store Store) *Evictor { return &Evictor{store: store} }

// TimeBudget is how long one call may evict, from
// maxmemory-eviction-tenacity as Redis's evictionTimeLimitUs: 50 µs per
// step up to 10, then growing 15% a step; 100 means no limit.
func TimeBudget(tenacity int) time.Duration {
	if tenacity <= 10 {
		return time.Duration(50*tenacity) * time.Microsecond
	}
	if tenacity >= 100 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(500*math.Pow(1.15, float64(tenacity-10))) * time.Microsecond
}

// Free evicts keys under policy p until need bytes are freed, sampling
// samples keys per round. It stops at the budget (Running) or when
// nothing is left to evict (Failed). It returns the bytes and keys freed.
func (e *Evictor) Free(p Policy, need int64, samples int, budget time.Duration) (freed int64, keys int, res Result) {
	if need <= 0 {
		return 0, 0, Freed
	}
	if p == NoEviction {
		return 0, 0, Failed
	}
	start := time.Now()
	misses := 0 // candidates gone since they were sampled
	for freed < need {
		c, ok := e.next(p, samples)
		if !ok {
			return freed, keys, Failed
		}
		if n, ok := e.store.Evict(c.db, c.key, p.Volatile()); ok {
			freed += n
			keys++
			misses = 0
		} else if misses++; misses > 1000 {
			return freed, keys, Failed
		}
		// Check the clock every 16 keys, as Redis.
		if keys&15 == 0 && time.Since(start) > budget {
			if freed >= need {
				break
			}
			return freed, keys, Running
		}
	}
	return freed, keys, Freed
}

// next picks the key to evict: a random one for the random policies,
// otherwise the best of the pool after a new sample.
func (e *Evictor) next(p Policy, samples int) (candidate, bool) {
	if p.random() {
		var c candidate
		found := false
		e.store.Sample(p.Volatile(), 1, func(k Key) { c, found = candidate{db: k.DB, key: k.Key}, true })
		return c, found
	}
	for tries := 0; tries < 4; tries++ {
		any := e.store.Sample(p.Volatile(), samples, func(k Key) {
			e.offer(candidate{db: k.DB, key: k.Key, score: e.score(p, k)})
		})
		if n := len(e.pool); n > 0 {
			c := e.pool[n-1]
			e.pool = e.pool[:n-1]
			return c, true
		}
		if !any {
			return candidate{}, false
		}
	}
	return candidate{}, false
}

// score ranks a key: the longer idle, the less used or the sooner to
// expire, the higher.
func (e *Evictor) score(p Policy, k Key) uint64 {
	switch {
	case p.LRU():
		return e.store.Idle(k.Access)
	case p.LFU():
		return 255 - uint64(e.store.LFUCounter(k.Access))
	default: // volatile-ttl: the nearest expiry first
		return math.MaxUint64 - uint64(k.Expire)
	}
}

// offer adds c to the pool if it ranks among the best PoolSize, replacing
// an older entry for the same key.
func (e *Evictor) offer(c candidate) {
	for i, x := range e.pool {
		if x.db == c.db && x.key == c.key {
			e.pool = append(e.pool[:i], e.pool[i+1:]...)
			break
		}
	}
	if len(e.pool) == PoolSize && c.score <= e.pool[0].score {
		return
	}
	i := 0
	for i < len(e.pool) && e.pool[i].score < c.score {
		i++
	}
	if len(e.pool) == PoolSize {
		// Drop the worst to make room below i.
		copy(e.pool, e.pool[1:i])
		e.pool[i-1] = c
		return
	}
	e.pool = append(e.pool, candidate{})
	copy(e.pool[i+1:], e.pool[i:])
	e.pool[i] = c
}

// Reset forgets the pool (FLUSHALL, a policy change).
func (e *Evictor) Reset() { e.pool = e.pool[:0] }
