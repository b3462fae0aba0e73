// Package memlimit keeps the Go runtime's soft memory limit (GOMEMLIMIT)
// a little above the live heap, so that the garbage a write load leaves
// between collections cannot take the process's RSS far past its dataset.
//
// With the default GOGC=100 the runtime lets the heap grow to twice the
// live data before it collects: a server holding 1 GB would sit at up to
// 2 GB of RSS under a steady write load. The Governor sets the limit to
//
//	live heap + max(live/Headroom, Floor) + the runtime's other memory
//
// after each collection (Tick, from the server's cron), and no higher
// than maxmemory and half again (plus MaxSlack) when maxmemory is set.
// GOGC stays as it is: a heap under Floor is collected as GOGC says, a
// large one as if GOGC were 100/Headroom. A GOMEMLIMIT from the
// environment is left alone.
package memlimit

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// Headroom: the heap may exceed the live data by a Headroom-th of it...
	Headroom = 4
	// ...or by Floor bytes, whichever is more.
	Floor = 32 << 20
	// MaxSlack: with maxmemory set, the limit is at most maxmemory and
	// half again plus MaxSlack.
	MaxSlack = 64 << 20
)

// Governor sets the runtime's memory limit. Its methods are safe for
// concurrent use.
type Governor struct {
	mu      sync.Mutex
	env     bool  // GOMEMLIMIT set in the environment: do nothing
	max     int64 // maxmemory, 0 for none
	limit   int64 // the limit last set
	samples []metrics.Sample
}

// New returns a Governor; fromEnv means GOMEMLIMIT came from the
// environment, which then wins.
func New(fromEnv bool) *Governor {
	return &Governor{env: fromEnv, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}}
}

// SetMax records maxmemory (0: none) and applies the limit at once.
func (g *Governor) SetMax(max int64) {
	g.mu.Lock()
	g.max = max
	g.mu.Unlock()
	g.Tick()
}

// Tick recomputes the limit from the live heap the last collection found.
func (g *Governor) Tick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.env {
		return
	}
	metrics.Read(g.samples)
	v := func(i int) int64 {
		if g.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(g.samples[i].Value.Uint64())
	}
	live := v(0)
	// What the runtime holds besides heap spans (stacks, metadata...),
	// which counts against the limit too.
	other := v(1) - v(2) - v(3) - v(4) - v(5)
	lim := Limit(live, other, g.max)
	if lim != g.limit {
		g.limit = lim
		debug.SetMemoryLimit(lim)
	}
}

// Limit is the memory limit for a live heap of live bytes, other bytes
// of non-heap runtime memory and maxmemory max (0: none).
func Limit(live, other, max int64) int64 {
	lim := live + other + int64(math.Max(float64(live/Headroom), Floor))
	if max > 0 {
		lim = min(lim, max+max/2+MaxSlack)
	}
	return lim
}

// Current returns the limit last set (0 before the first Tick, or when
// the environment's GOMEMLIMIT is in force).
func (g *Governor) Current() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}
