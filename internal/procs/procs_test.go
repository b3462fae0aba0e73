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
		used, want = append(used, 1.0), append(want, 2) // not busy at 2: waits
	}
	used, want = append(used, 1.0), append(want, 1) // the probe
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
			if s.Step(Interval, Interval) == 1 { // 1 core: not busy at 2
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
