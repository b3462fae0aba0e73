package cluster

import (
	"math/rand"
	"strconv"
	"testing"

	"redgo/internal/slot"
)

// Count, NextSet, NextClear and AppendSlotRanges (which read the bitmap a
// word at a time) against slot-by-slot versions, on bitmaps with runs of
// every length, the edges set or not.
func TestSlotsWordScans(t *testing.T) {
	seed := int64(7)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	for round := range 500 {
		var s Slots
		switch round {
		case 0: // empty
		case 1:
			for j := range slot.Count {
				s.Set(j)
			}
		default:
			p := rng.Float64()
			for j := 0; j < slot.Count; {
				run := 1 + rng.Intn([]int{1, 3, 70, 3000}[rng.Intn(4)])
				set := rng.Float64() < p
				for k := j; k < min(j+run, slot.Count); k++ {
					if set {
						s.Set(k)
					}
				}
				j += run
			}
		}
		n := 0
		var want []byte
		for j := 0; j < slot.Count; j++ {
			if !s.Has(j) {
				continue
			}
			n++
			if j == 0 || !s.Has(j-1) {
				k := j
				for k+1 < slot.Count && s.Has(k+1) {
					k++
				}
				want = append(want, ' ')
				want = strconv.AppendInt(want, int64(j), 10)
				if k > j {
					want = append(want, '-')
					want = strconv.AppendInt(want, int64(k), 10)
				}
			}
		}
		if got := s.Count(); got != n {
			t.Fatalf("round %d: Count %d, want %d", round, got, n)
		}
		if got := AppendSlotRanges(nil, &s); string(got) != string(want) {
			t.Fatalf("round %d: ranges\n%s\nwant\n%s", round, got, want)
		}
		for range 50 {
			i := rng.Intn(slot.Count + 1)
			ns, nc := i, i
			for ns < slot.Count && !s.Has(ns) {
				ns++
			}
			for nc < slot.Count && s.Has(nc) {
				nc++
			}
			if got := s.NextSet(i); got != ns {
				t.Fatalf("round %d: NextSet(%d) = %d, want %d", round, i, got, ns)
			}
			if got := s.NextClear(i); got != nc {
				t.Fatalf("round %d: NextClear(%d) = %d, want %d", round, i, got, nc)
			}
		}
	}
}
