package procs

import (
	"testing"
	"time"
)

// run feeds Step a CPU use in cores per interval and returns the Ps after
// each step.
func run(s *State, used ...float64) []int {
	var out []int
	for _, u := range used {
		out = append(out, s.Step(time.Duration(u*float64(Interval)), Interval))
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStaysAtOneWhenNotBusy(t *testing.T) {
	s := NewState(4)
	if got := run(s, 0.1, 0.5, 0.85, 0.2); !equal(got, []int{1, 1, 1, 1}) {
		t.Fatalf("got %v", got)
	}
}

func TestRaisesWhileBusyUpToMax(t *testing.T) {
	s := NewState(3)
	if got := run(s, 0.95, 1.9, 2.9, 3.0); !equal(got, []int{2, 3, 3, 3}) {
		t.Fatalf("got %v", got)
	}
}

// After a raise, a P less is tried once the probe wait passed; it is kept
// when it is not busy.
func TestProbeKeepsFewerWhenNotBusy(t *testing.T) {
	s := NewState(2)
	per := int(MinProbeWait / Interval)
	used := []float64{0.95} // raise to 2
	want := []int{2}
	for i := 0; i < per-1; i++ {
		used, want = append(used, 0.8), append(want, 2) // would fit in 1: waits
	}
	used, want = append(used, 0.8), append(want, 1) // the probe
	used, want = append(used, 0.6), append(want, 1) // one is enough: kept
	if got := run(s, used...); !equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A probe whose lower number is busy goes back up, and the next probe
// waits twice as long.
func TestFailedProbeBacksOff(t *testing.T) {
	s := NewState(2)
	per := int(MinProbeWait / Interval)
	s.Step(time.Duration(0.95*float64(Interval)), Interval) // 2
	probeAfter := func() int {
		for i := 1; ; i++ {
			if s.Step(Interval*8/10, Interval) == 1 { // 0.8 cores: would fit in 1
				s.Step(Interval, Interval) // busy at 1: back to 2
				if s.Procs != 2 {
					t.Fatalf("a busy probe left %d Ps", s.Procs)
				}
				return i
			}
			if i > 1000 {
				t.Fatal("no probe")
			}
		}
	}
	first := probeAfter()
	second := probeAfter()
	third := probeAfter()
	if first != per || second != 2*per || third != 4*per {
		t.Fatalf("probes after %d, %d, %d intervals; want %d, %d, %d", first, second, third, per, 2*per, 4*per)
	}
	for i := 0; i < 10; i++ {
		probeAfter()
	}
	if s.wait != MaxProbeWait {
		t.Fatalf("wait %v, want the cap %v", s.wait, MaxProbeWait)
	}
}

// No probe while one P less would be busy at the CPU used now.
func TestNoProbeWhileFewerWouldBeBusy(t *testing.T) {
	s := NewState(2)
	used := []float64{0.95}
	for i := 0; i < 40; i++ {
		used = append(used, 1.5) // not busy at 2, too much for 1
	}
	for _, p := range run(s, used...) {
		if p != 2 {
			t.Fatalf("Ps went to %d at 1.5 cores", p)
		}
	}
}

// Hold puts every P in use and starts the probe wait afresh.
func TestHold(t *testing.T) {
	s := NewState(4)
	s.Hold()
	if s.Procs != 4 {
		t.Fatalf("Procs %d after Hold", s.Procs)
	}
	// After the hold, a light load goes back down one P at a time.
	per := int(MinProbeWait / Interval)
	var got []int
	for i := 0; i < 3*(per+1); i++ {
		got = append(got, s.Step(Interval/10, Interval))
	}
	if got[per-2] != 4 || got[len(got)-1] != 1 {
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
