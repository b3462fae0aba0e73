// Package procs sets how many threads run the server's goroutines at a
// time (GOMAXPROCS) from the CPU the process really needs.
//
// With a goroutine per connection, every request that arrives wakes its
// goroutine, and with more than one P the runtime hands it to another
// thread whenever one is idle: a futex wake-up, a thread that spins
// looking for work, an extra epoll_wait. When the load fits in one core
// that costs more CPU than it saves: on 2 cores shared with the clients
// and a replica, a master served SET at 15 µs of CPU per request with
// GOMAXPROCS=1 against 23-26 µs with 2, and served more of them
// (docs/benchmarks.md). One thread is Redis's model too. More threads pay
// only once one is not enough.
//
// The Governor therefore starts at one P and measures the process's CPU
// time every Interval. When the Ps were busy (CPU at least Busy of their
// number) it adds one, up to the number the runtime chose at start (the
// cores or the cgroup's quota). When even one P less would not have been
// busy at that CPU, it tries one less now and then (a probe): it keeps
// the lower number if that is not busy in the next interval and goes back
// up otherwise, and waits twice as long before the next probe, up to
// MaxProbeWait. The CPU the process uses with more Ps than it needs is
// inflated by the very costs above, so the need cannot be read from it:
// it is tried.
//
// A background job that runs beside the requests (a snapshot being
// written) holds every P while it runs (Hold): on one P its goroutine
// would take turns of up to 10 ms with the requests' goroutines.
//
// GOMAXPROCS from the environment is left alone (an operator's choice, and
// the benchmark's curve over cores).
package procs

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// Interval between measurements.
	Interval = 250 * time.Millisecond
	// Busy: the Ps are busy when the process used this fraction of them.
	Busy = 0.9
	// MinProbeWait and MaxProbeWait bound the wait between probes.
	MinProbeWait = time.Second
	MaxProbeWait = 32 * time.Second
)

// State is the Governor's decision state, pure: Step takes a measurement
// and returns the number of Ps to run with.
type State struct {
	Max       int           // the most Ps to use
	Procs     int           // Ps now
	probing   bool          // Procs was lowered by a probe one interval ago
	wait      time.Duration // between probes
	sinceLast time.Duration // since the last probe or change
}

// NewState starts at one P, with at most `most` Ps.
func NewState(most int) *State {
	return &State{Max: most, Procs: 1, wait: MinProbeWait}
}

// Step records that the process used cpu of CPU time over the last
// interval of length d and returns the number of Ps to run with next.
func (s *State) Step(cpu, d time.Duration) int {
	used := float64(cpu) / float64(d) // cores
	busy := used >= Busy*float64(s.Procs)
	s.sinceLast += d
	switch {
	case s.probing:
		s.probing = false
		s.sinceLast = 0
		if busy {
			s.Procs++ // one less was not enough: back, and probe later
			s.wait = min(2*s.wait, MaxProbeWait)
		} else {
			s.wait = MinProbeWait
		}
	case busy && s.Procs < s.Max:
		s.Procs++
		s.sinceLast = 0
	case used < Busy*float64(s.Procs-1) && s.sinceLast >= s.wait:
		s.Procs--
		s.probing = true
	}
	return s.Procs
}

// holds counts the background jobs running (Hold); wake tells the
// governor of a new one.
var (
	holds atomic.Int32
	wake  = make(chan struct{}, 1)
)

// Hold gives the process every P until release is called (by a
// background job; see the package comment).
func Hold() (release func()) {
	holds.Add(1)
	select {
	case wake <- struct{}{}:
	default:
	}
	var once sync.Once
	return func() { once.Do(func() { holds.Add(-1) }) }
}

// Hold records that every P is in use for a background job: the next
// Step starts from there, with a fresh probe wait.
func (s *State) Hold() {
	s.Procs, s.probing, s.sinceLast, s.wait = s.Max, false, 0, MinProbeWait
}

// Start runs the Governor in the background unless GOMAXPROCS is set in
// the environment or the runtime has a single P anyway. stop ends it.
func Start() (stop func()) {
	most := runtime.GOMAXPROCS(0)
	if _, set := os.LookupEnv("GOMAXPROCS"); set || most <= 1 {
		return func() {}
	}
	s := NewState(most)
	runtime.GOMAXPROCS(s.Procs)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(Interval)
		defer t.Stop()
		last, at := cpuTime(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-wake:
			case <-t.C:
			}
			c, now := cpuTime(), time.Now()
			p := most
			if holds.Load() == 0 {
				p = s.Step(c-last, now.Sub(at))
			} else {
				s.Hold()
			}
			if p != runtime.GOMAXPROCS(0) {
				runtime.GOMAXPROCS(p)
			}
			last, at = c, now
		}
	}()
	return func() { close(done) }
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
