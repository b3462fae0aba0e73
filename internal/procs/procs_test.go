package procs

import (
	"testing"
	"time"
)

// load is what the server does with p Ps over one interval: the cores it
// uses and the work it gets done per second.
type load func(p int) (cores, rate float64)

// drive runs Step for n intervals of l and returns the Ps after each.
func drive(s *State, n int, l load) []int {
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		cores, rate := l(s.Procs)
		out = append(out, s.Step(time.Duration(cores*float64(Interval)), int64(rate*Interval.Seconds()), Interval))
	}
	return out
}

// saturating is a closed-loop load (a benchmark) whose rate per P is
// perP[p-1]: every P it has is busy.
func saturating(perP ...float64) load {
	return func(p int) (float64, float64) { return float64(p), perP[min(p, len(perP))-1] }
}

// steady is an open-loop load: the same rate whatever the Ps, using
// cores of CPU at one P (a little more with more Ps).
func steady(cores, rate float64) load {
	return func(p int) (float64, float64) { return min(cores*(1+0.2*float64(p-1)), float64(p)), rate }
}

func count(ps []int, p int) int {
	n := 0
	for _, x := range ps {
		if x == p {
			n++
		}
	}
	return n
}

func TestStaysAtOneWhenNotBusy(t *testing.T) {
	s := NewState(4)
	for _, p := range drive(s, 200, steady(0.85, 50000)) {
		if p != 1 {
			t.Fatalf("went to %d Ps", p)
		}
	}
}

// A P more that gets more work done is kept, up to Max.
func TestRaisesWhileMorePays(t *testing.T) {
	s := NewState(3)
	got := drive(s, 40, saturating(100000, 180000, 250000))
	if got[len(got)-1] != 3 {
		t.Fatalf("Ps %v", got)
	}
	// Trials of one less go back at once: they lose work.
	tail := got[20:]
	if count(tail, 3) < len(tail)*3/4 {
		t.Fatalf("Ps %v", got)
	}
}

// A P more that gets no more work done (the Ps are busy with their own
// overhead) goes back, and is tried again after doubling waits.
func TestRaiseThatDoesNotPayGoesBack(t *testing.T) {
	s := NewState(2)
	got := drive(s, 4*int(MaxWait/Interval), saturating(700000, 480000))
	if got[len(got)-1] != 1 {
		t.Fatalf("ended at %d Ps", got[len(got)-1])
	}
	// Each trial spends 1+Window intervals at 2 Ps; with waits doubling to
	// MaxWait there are few of them.
	var starts []int
	for i := 1; i < len(got); i++ {
		if got[i] == 2 && got[i-1] == 1 {
			starts = append(starts, i)
		}
	}
	if len(starts) < 3 || len(starts) > 10 {
		t.Fatalf("%d trials at %v", len(starts), starts)
	}
	for i := 2; i < len(starts); i++ {
		if gap, prev := starts[i]-starts[i-1], starts[i-1]-starts[i-2]; gap < prev && gap < int(MaxWait/Interval) {
			t.Fatalf("waits did not grow: trials at %v", starts)
		}
	}
	if count(got, 2) > len(got)/8 {
		t.Fatalf("%d of %d intervals at 2 Ps", count(got, 2), len(got))
	}
}

// A P less is kept when it gets as much done: a load that fits in one
// after a busy spell goes back to one.
func TestFewerKeptWhenAsMuchDone(t *testing.T) {
	s := NewState(2)
	got := drive(s, 12, saturating(100000, 180000))
	if got[len(got)-1] != 2 {
		t.Fatalf("not raised: %v", got)
	}
	got = drive(s, 3*int(MinWait/Interval)+4*Window, steady(0.7, 40000))
	if got[len(got)-1] != 1 {
		t.Fatalf("not lowered: %v", got)
	}
}

// A P less that is busy but gets as much done is kept: after a hold, a
// load whose extra P only costs goes back to one.
func TestBusyFewerKeptWhenAsMuchDone(t *testing.T) {
	s := NewState(2)
	s.Hold()
	got := drive(s, 4*int(MaxWait/Interval), saturating(700000, 480000))
	if got[0] != 2 || count(got, 1) < len(got)*3/4 {
		t.Fatalf("%d of %d intervals at 1 P: %v", count(got, 1), len(got), got[:40])
	}
}

// A P less that is busy and gets less done goes back, and the next trial
// waits twice as long, up to MaxWait.
func TestFewerThatLosesGoesBack(t *testing.T) {
	s := NewState(2)
	l := saturating(100000, 180000)
	drive(s, 12, l)
	var lows []int
	got := drive(s, 8*int(MaxWait/Interval), l)
	for i := 1; i < len(got); i++ {
		if got[i] == 1 && got[i-1] == 2 {
			lows = append(lows, i)
		}
	}
	if len(lows) < 4 {
		t.Fatalf("trials at %v", lows)
	}
	for i := 2; i < len(lows); i++ {
		gap, prev := lows[i]-lows[i-1], lows[i-1]-lows[i-2]
		if gap < prev && gap < int(MaxWait/Interval) {
			t.Fatalf("waits did not grow: trials at %v", lows)
		}
	}
	if s.down != MaxWait {
		t.Fatalf("wait %v, want the cap", s.down)
	}
}

// With no work counted (a long command), the CPU decides: a busy P more
// is kept, and a P less that is busy goes back.
func TestNoWorkCountedFollowsCPU(t *testing.T) {
	s := NewState(2)
	got := drive(s, 8*int(MaxWait/Interval), saturating(0, 0))
	if count(got, 2) < len(got)*9/10 {
		t.Fatalf("%d of %d intervals at 2 Ps", count(got, 2), len(got))
	}
}

// Hold puts every P in use; after it, a light load goes back down one P
// at a time.
func TestHold(t *testing.T) {
	s := NewState(4)
	s.Hold()
	if s.Procs != 4 {
		t.Fatalf("Procs %d after Hold", s.Procs)
	}
	got := drive(s, 3*(int(MinWait/Interval)+1+2*Window), steady(0.1, 1000))
	if got[0] != 4 || got[len(got)-1] != 1 {
		t.Fatalf("after Hold: %v", got)
	}
}

// TestHoldRelease counts holds until each is released once.
func TestHoldRelease(t *testing.T) {
	r1, r2 := Hold(), Hold()
	if holds.Load() != 2 {
		t.Fatalf("holds %d", holds.Load())
	}
	r1()
	r1()
	if holds.Load() != 1 {
		t.Fatalf("holds %d after one release (twice)", holds.Load())
	}
	r2()
	if holds.Load() != 0 {
		t.Fatalf("holds %d", holds.Load())
	}
}
