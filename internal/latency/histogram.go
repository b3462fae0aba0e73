// Package latency is what LATENCY and INFO latencystats report: the
// latency monitor (per-event spikes over latency-monitor-threshold, kept
// 160 seconds deep: LATEST, HISTORY, RESET, GRAPH, DOCTOR) and the
// per-command latency histograms (latency-tracking: LATENCY HISTOGRAM and
// the latency_percentiles_usec_* lines).
package latency

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// The histograms have the layout of the HDR histograms Redis keeps per
// command (lowest value 1 ns, highest 1 s, 2 significant digits), so that
// percentiles and the HISTOGRAM buckets come out as Redis's do: each
// power-of-two range of values is split into 128 equal sub-buckets (256
// for the first).
const (
	minValue     = 1
	maxValue     = 1_000_000_000
	subMagnitude = 8 // log2 of the sub-bucket count (enough for 2 digits)
	subCount     = 1 << subMagnitude
	halfMag      = subMagnitude - 1
	halfCount    = 1 << halfMag
	subMask      = subCount - 1
)

// nCounts is the number of counters that covers [minValue, maxValue].
var nCounts = index(maxValue) + 1

// Histogram counts command latencies in nanoseconds. Record is safe for
// concurrent use and lock-free.
type Histogram struct {
	counts []atomic.Int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]atomic.Int64, nCounts)}
}

// Record counts one latency of ns nanoseconds, clamped to the
// histogram's range as Redis clamps it.
func (h *Histogram) Record(ns int64) {
	ns = min(max(ns, minValue), maxValue)
	h.counts[index(ns)].Add(1)
}

func bucketOf(v int64) int {
	return 64 - bits.LeadingZeros64(uint64(v)|subMask) - (halfMag + 1)
}

func index(v int64) int {
	b := bucketOf(v)
	sub := int(v >> uint(b))
	return (b+1)<<halfMag + sub - halfCount
}

// valueAt is the lowest value that index i counts.
func valueAt(i int) int64 {
	b := i>>halfMag - 1
	sub := i&(halfCount-1) + halfCount
	if b < 0 {
		sub -= halfCount
		b = 0
	}
	return int64(sub) << uint(b)
}

// highestEquivalent is the highest value counted with v.
func highestEquivalent(v int64) int64 {
	b := bucketOf(v)
	sub := v >> uint(b)
	shift := b
	if sub >= subCount {
		shift++
	}
	lowest := sub << uint(b)
	return lowest + int64(1)<<uint(shift) - 1
}

// snapshot copies the counters (they may move while it runs; the copy's
// own total is used so percentiles stay consistent).
func (h *Histogram) snapshot() ([]int64, int64) {
	c := make([]int64, len(h.counts))
	var total int64
	for i := range h.counts {
		c[i] = h.counts[i].Load()
		total += c[i]
	}
	return c, total
}

// Percentile is the latency (ns) under which p percent of the recorded
// ones fall, as hdr_value_at_percentile: the highest value equivalent to
// the bucket where the cumulative count reaches the rank. 0 when empty.
func (h *Histogram) Percentile(p float64) int64 {
	counts, total := h.snapshot()
	return percentile(counts, total, p)
}

func percentile(counts []int64, total int64, p float64) int64 {
	if total == 0 {
		return 0
	}
	p = min(p, 100)
	rank := max(int64(p/100*float64(total)+0.5), 1)
	var cum int64
	for i, n := range counts {
		cum += n
		if cum >= rank {
			return highestEquivalent(valueAt(i))
		}
	}
	return 0
}

// Percentiles returns the latencies (ns) at each of ps.
func (h *Histogram) Percentiles(ps []float64) []int64 {
	counts, total := h.snapshot()
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = percentile(counts, total, p)
	}
	return out
}

// Bucket is one line of LATENCY HISTOGRAM: how many latencies were at
// most Usec microseconds.
type Bucket struct {
	Usec       int64
	Cumulative int64
}

// CDF is LATENCY HISTOGRAM's histogram_usec: cumulative counts at
// power-of-two levels from 1024 ns up (each level reported as its
// highest equivalent value in whole microseconds), leaving out the levels
// where the count did not grow, as Redis walks its HDR histogram with a
// logarithmic iterator.
func (h *Histogram) CDF() (calls int64, out []Bucket) {
	counts, total := h.snapshot()
	if total == 0 {
		return 0, nil
	}
	var cum, prev int64
	i := 0
	for level := int64(1024); cum < total; level *= 2 {
		top := highestEquivalent(level)
		for ; i < len(counts) && valueAt(i) <= top; i++ {
			cum += counts[i]
		}
		if cum > prev {
			out = append(out, Bucket{Usec: top / 1000, Cumulative: cum})
		}
		prev = cum
		if level > math.MaxInt64/4 {
			break
		}
	}
	return total, out
}
