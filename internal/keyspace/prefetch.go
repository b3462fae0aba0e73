package keyspace

import (
	"math/bits"
	"unsafe"

	"redgo/internal/slot"
)

// PrefetchMax is the most keys one Prefetch call reads ahead.
const PrefetchMax = 32

// Prefetch keeps the shards it holds in a uint64: there must be 64.
var _ = [1]struct{}{}[NShards-64]

// Prefetch reads ahead, for keys that commands about to run will look
// up in this database, the memory those lookups will read: each key's
// slot table, the entry its probe starts at, that entry's object and the
// object's key and value bytes. A lookup of a key among 100,000 goes
// through four such cache misses one after the other; here the misses of
// all the keys are taken together, one level at a time, so the
// processor overlaps them, and the lookups that follow find what they
// read in the cache. Only the first PrefetchMax keys are read.
//
// It takes each shard with TryLock, all of them before the first read
// (a lock is a fence that would wait for the reads issued before it),
// and skips the keys of a shard another thread holds. It changes
// nothing, so a key it misses or a table that changes after it only
// costs the lookup its misses back. A shard the caller holds itself
// (EXEC's, a script's) fails its TryLock and is skipped too.
func (db *DB) Prefetch(keys [][]byte) { db.prefetch(keys) }

// prefetch is Prefetch. Its result, the sum of the bytes it read, has
// no use but to keep the compiler from dropping the reads.
//
//go:noinline
func (db *DB) prefetch(keys [][]byte) uintptr {
	var (
		held uint64
		tabs [PrefetchMax]*table
		hs   [PrefetchMax]uint64
		refs [PrefetchMax]unsafe.Pointer
		n    int
	)
	for _, k := range keys {
		if n == PrefetchMax {
			break
		}
		s := slot.Of(k)
		si := s % NShards
		sh := db.ks.shards[si]
		if bit := uint64(1) << si; held&bit == 0 {
			if !sh.mu.TryLock() {
				continue
			}
			held |= bit
		}
		if d := &sh.dbs[db.idx]; d.slots != nil {
			tabs[n], hs[n] = &d.slots[s/NShards], hashBytes(k)
			n++
		}
	}
	var sink uintptr
	for j, t := range tabs[:n] {
		if t.p != nil {
			refs[j] = *(*unsafe.Pointer)(unsafe.Add(t.p, uintptr(hs[j]&(1<<t.shift-1))*unsafe.Sizeof(ref{})))
		}
	}
	var keyp, valp [PrefetchMax]*byte
	for j, r := range refs[:n] {
		if r != nil {
			o := ref{r}.obj()
			if len(o.key) > 0 {
				keyp[j] = unsafe.StringData(o.key)
			}
			valp[j] = (*byte)(o.p)
		}
	}
	for j := range n {
		if p := keyp[j]; p != nil {
			sink += uintptr(*p)
		}
		if p := valp[j]; p != nil {
			sink += uintptr(*p)
		}
	}
	for held != 0 {
		i := bits.TrailingZeros64(held)
		held &^= 1 << i
		db.ks.shards[i].mu.Unlock()
	}
	return sink
}
