// Package memlimit keeps the garbage a write load leaves between
// collections to a fraction of the live heap, so that the process's RSS
// stays close to its dataset.
//
// With the default GOGC=100 the runtime lets the heap grow to twice the
// live data before it collects: a server holding 1 GB would sit at up to
// 2 GB of RSS under a steady write load. The Governor sets GOGC after
// each collection (Tick, from the server's cron) so that the heap may
// exceed the live data by
//
//	max(live/Headroom, Floor), and never by more than GOGC=100 would allow
//
// while the dataset holds steady (overwrites, deletes and adds that
// balance), and by max(live/GrowHeadroom, GrowFloor) while it grows (a
// load: the collector's work per allocated byte is inverse to the room,
// and what a growing dataset allocates stays live, so a tight room there
// only costs CPU; growth keeps the room it had before the steady one was
// tightened). The dataset grows when the size Tick is given rose by more
// than a growing-th since the last mark; a second of ticks without that
// makes it steady. A heap under the floor is collected as with GOGC=100.
// With maxmemory set, the runtime's soft memory limit is also
// set to maxmemory and half again plus MaxSlack, a cap for when the
// dataset itself runs past maxmemory.
//
// It sets GOGC, not a memory limit that follows the heap: the limit
// counts every page the runtime holds (freed pages not yet returned to
// the system, fragmentation), so a limit of live data plus a quarter left
// the heap far less than a quarter to grow into and the collector ran
// back to back, doubling the CPU of a SET of 1 KiB values
// (docs/benchmarks.md). GOGC or GOMEMLIMIT from the environment are left
// alone.
package memlimit

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// Headroom: the heap may exceed steady live data by a Headroom-th
	// of it...
	Headroom = 10
	// ...or by Floor bytes, whichever is more.
	Floor = 8 << 20
	// GrowHeadroom and GrowFloor are the same while the live heap grows.
	GrowHeadroom = 4
	GrowFloor    = 32 << 20
	// growing: the dataset grows when it rose by more than a growing-th
	// since the mark...
	growing = 64
	// ...and holds steady after steadyTicks ticks (a second of the
	// server's cron) without that.
	steadyTicks = 10
	// MaxSlack: with maxmemory set, the memory limit is maxmemory and
	// half again plus MaxSlack.
	MaxSlack = 64 << 20
)

// Governor sets the collector's target. Its methods are safe for
// concurrent use.
type Governor struct {
	mu       sync.Mutex
	envGOGC  bool  // GOGC set in the environment: leave the percent alone
	envLimit bool  // GOMEMLIMIT set in the environment: leave the limit alone
	max      int64 // maxmemory, 0 for none
	percent  int   // the GOGC last set (0: not yet)
	mark     int64 // the dataset size growth is measured from
	ticks    int   // ticks since the mark
	growing  bool  // the dataset rose by a growing-th since the mark
	limit    int64 // the memory limit last set (0: none)
	samples  []metrics.Sample
}

// New returns a Governor that leaves alone what the environment sets
// (GOGC, GOMEMLIMIT).
func New() *Governor {
	return &Governor{
		envGOGC:  os.Getenv("GOGC") != "",
		envLimit: os.Getenv("GOMEMLIMIT") != "",
		samples:  []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
}

// SetMax records maxmemory (0: none) and applies it at once.
func (g *Governor) SetMax(max int64) {
	g.mu.Lock()
	g.max = max
	g.mu.Unlock()
	g.Tick(0)
}

// Tick recomputes GOGC from the live heap the last collection found and
// from whether the dataset, of dataset bytes now (the keyspace's
// accounting; 0 when unknown), is growing.
func (g *Governor) Tick(dataset int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.observe(dataset)
	if !g.envGOGC {
		metrics.Read(g.samples)
		var live int64
		if g.samples[0].Value.Kind() == metrics.KindUint64 {
			live = int64(g.samples[0].Value.Uint64())
		}
		if p := Percent(live, g.growing); p != g.percent {
			g.percent = p
			debug.SetGCPercent(p)
		}
	}
	if !g.envLimit {
		if lim := Limit(g.max); lim != g.limit {
			g.limit = lim
			if lim == 0 {
				debug.SetMemoryLimit(1<<63 - 1) // none
			} else {
				debug.SetMemoryLimit(lim)
			}
		}
	}
}

// observe updates growing from the dataset's size: growing as soon as it
// rose by a growing-th since the mark (which moves up to it), steady after
// steadyTicks ticks without that.
func (g *Governor) observe(dataset int64) {
	switch g.ticks++; {
	case dataset > g.mark+g.mark/growing:
		g.growing, g.mark, g.ticks = true, dataset, 0
	case g.ticks >= steadyTicks:
		g.growing, g.mark, g.ticks = false, dataset, 0
	}
}

// Percent is the GOGC for a live heap of live bytes, growing or not: the
// heap grows by max(live/Headroom, Floor) before a collection
// (GrowHeadroom and GrowFloor when growing), at most by live (GOGC=100).
func Percent(live int64, growing bool) int {
	h, floor := int64(Headroom), int64(Floor)
	if growing {
		h, floor = GrowHeadroom, GrowFloor
	}
	if live <= floor {
		return 100
	}
	return max(int(100/h), int(floor*100/live))
}

// Limit is the soft memory limit for maxmemory max: none (0) without
// maxmemory.
func Limit(max int64) int64 {
	if max <= 0 {
		return 0
	}
	return max + max/2 + MaxSlack
}

// Current returns the GOGC last set (0 before the first Tick, or when the
// environment's GOGC is in force).
func (g *Governor) Current() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.percent
}
