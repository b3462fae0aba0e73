package keyspace

import "math/rand/v2"

// The access field of an object (32 bits) holds, under an LFU
// maxmemory-policy, Redis's LFU data: the time of the last decrement in
// minutes (16 bits, wrapping) above a logarithmic access counter (8 bits).
// Otherwise it holds the last access time in seconds (LRUClock).

// LFUInitVal is the counter of a new key, so that it is not evicted
// before it had a chance to be accessed.
const LFUInitVal = 5

func (ks *Keyspace) minutes() uint32 { return uint32(ks.Now()/60000) & 0xffff }

// access returns an object's access field after an access.
func (ks *Keyspace) access(v uint32) uint32 {
	if !ks.LFU.Load() {
		return ks.LRUClock()
	}
	c := ks.LFUCounter(v)
	return ks.minutes()<<8 | uint32(lfuLogIncr(c, ks.LFULogFactor.Load()))
}

// newAccess is the access field of a value stored over old (nil for a
// new key): an overwrite keeps the key's LFU counter, as Redis's
// dbOverwrite.
func (ks *Keyspace) newAccess(old *Object) uint32 {
	if !ks.LFU.Load() {
		return ks.LRUClock()
	}
	if old != nil {
		return old.lru
	}
	return ks.minutes()<<8 | LFUInitVal
}

// LFUField is the access field of a key whose LFU counter is set to c
// now (RESTORE ... FREQ, as Redis's objectSetLRUOrLFU).
func (ks *Keyspace) LFUField(c uint8) uint32 { return ks.minutes()<<8 | uint32(c) }

// LFUCounter is the LFU counter of an access field, decayed by one for
// each lfu-decay-time minutes since its last decrement (OBJECT FREQ).
func (ks *Keyspace) LFUCounter(v uint32) uint8 {
	c := uint8(v)
	period := ks.LFUDecayMin.Load()
	if period <= 0 {
		return c
	}
	now, ldt := ks.minutes(), v>>8&0xffff
	elapsed := now - ldt
	if now < ldt {
		elapsed = 0xffff - ldt + now
	}
	n := int64(elapsed) / period
	if n >= int64(c) {
		return 0
	}
	return c - uint8(n)
}

// lfuLogIncr increments a counter with a probability that falls as it
// grows, so that 255 stands for about a million accesses at factor 10.
func lfuLogIncr(c uint8, factor int64) uint8 {
	if c == 255 {
		return 255
	}
	base := float64(int(c) - LFUInitVal)
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1/(base*float64(factor)+1) {
		c++
	}
	return c
}
