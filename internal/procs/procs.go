// Package procs sets how many threads run the server's goroutines at a
// time (GOMAXPROCS) from what the load gets out of them.
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
// The Governor therefore starts at one P and measures, every Interval,
// the process's CPU time and the work it got done (commands served).
// Whether another P pays is tried, not guessed: when the Ps were busy
// (CPU at least Busy of their number), it adds one for a trial, and keeps
// it only if the server then got at least Gain times as much work done as
// just before; otherwise it goes back and waits longer before the next
// trial. The same way, now and then it tries one P less, and keeps that
// unless the fewer Ps were busy and got less than Keep times the work
// done. Each wait doubles after a trial that went back, from MinWait up
// to MaxWait. The CPU the process uses with more Ps than it needs is
// inflated by the very costs above, so the need cannot be read from it:
// on 2 cores shared with redis-benchmark -P 16, a second P kept both Ps
// busy and served SET at 450-490k/s, where one P served 640-800k/s.
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
	Interval = 100 * time.Millisecond
	// Busy: the Ps are busy when the process used this fraction of them.
	Busy = 0.9
	// Window is how many intervals are compared on each side of a trial;
	// the interval right after a change is not counted (it settles).
	Window = 3
	// Gain: a P more is kept when the work done per second rose by this
	// factor. A closed-loop benchmark's rate over 300 ms varies by 10-15%
	// on a shared machine; a P that pays serves far more (a second core
	// that nothing else wants nearly doubles it).
	Gain = 1.25
	// Keep: a P less is kept unless it was busy and the work done per
	// second fell below this factor.
	Keep = 0.95
	// MinWait and MaxWait bound the wait between trials.
	MinWait = time.Second
	MaxWait = 32 * time.Second
)

// sample is what one or more intervals measured.
type sample struct {
	cpu, d time.Duration
	work   int64
}

func (a *sample) add(b sample) { a.cpu += b.cpu; a.d += b.d; a.work += b.work }

// used returns the cores used.
func (a sample) used() float64 { return float64(a.cpu) / float64(a.d) }

// rate returns the work done per second.
func (a sample) rate() float64 { return float64(a.work) / a.d.Seconds() }

// State is the Governor's decision state, pure: Step takes a measurement
// and returns the number of Ps to run with.
type State struct {
	Max   int // the most Ps to use
	Procs int // Ps now

	trial   int    // +1: trying a P more, -1: a P less, 0: none
	settle  bool   // the next interval follows a change: not counted
	base    sample // the Window intervals before the trial
	cur     sample // the trial's intervals so far
	n       int    // intervals in cur
	hist    [Window]sample
	nh      int // intervals measured since the last change
	upWait  time.Duration
	down    time.Duration // wait before trying a P less
	sinceUp time.Duration // since the last trial of a P more
	sinceDn time.Duration // since the last trial of a P less, or a change
}

// NewState starts at one P, with at most `most` Ps.
func NewState(most int) *State {
	return &State{Max: most, Procs: 1, down: MinWait}
}

// Step records that the process used cpu of CPU time and did work units
// of work over the last interval of length d, and returns the number of
// Ps to run with next.
func (s *State) Step(cpu time.Duration, work int64, d time.Duration) int {
	x := sample{cpu, d, work}
	s.sinceUp += d
	s.sinceDn += d
	if s.settle {
		s.settle = false
		return s.Procs
	}
	if s.trial != 0 {
		s.cur.add(x)
		if s.n++; s.n == Window {
			s.endTrial()
		}
		return s.Procs
	}
	s.hist[s.nh%Window] = x
	if s.nh++; s.nh < Window {
		return s.Procs
	}
	var base sample
	for _, h := range s.hist {
		base.add(h)
	}
	switch {
	case base.used() >= Busy*float64(s.Procs) && s.Procs < s.Max && s.sinceUp >= s.upWait:
		s.start(+1, base)
	case s.Procs > 1 && s.sinceDn >= s.down:
		s.start(-1, base)
	}
	return s.Procs
}

// start begins a trial of one P more (dir +1) or less (-1).
func (s *State) start(dir int, base sample) {
	s.trial, s.base, s.cur, s.n = dir, base, sample{}, 0
	s.Procs += dir
	s.settle = true
}

// endTrial keeps the trial's number of Ps or goes back.
func (s *State) endTrial() {
	before, after := s.base.rate(), s.cur.rate()
	back := false
	switch s.trial {
	case +1:
		// Nothing counted as work (a long command, a load): the CPU
		// alone says the P was needed.
		back = before > 0 && after < Gain*before
		if back {
			s.upWait = min(max(2*s.upWait, MinWait), MaxWait)
		} else {
			s.upWait = 0
		}
		s.sinceUp = 0
	case -1:
		busy := s.cur.used() >= Busy*float64(s.Procs)
		back = busy && (before == 0 || after < Keep*before)
		if back {
			s.down = min(2*s.down, MaxWait)
		} else {
			s.down = MinWait
		}
	}
	s.sinceDn = 0
	if back {
		s.Procs -= s.trial
		s.settle = true
	}
	s.trial, s.nh = 0, 0
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
	s.Procs, s.trial, s.settle, s.nh = s.Max, 0, false, 0
	s.sinceDn, s.down = 0, MinWait
}

// Start runs the Governor in the background unless GOMAXPROCS is set in
// the environment or the runtime has a single P anyway; work returns the
// work done so far (a count that only grows). stop ends it.
func Start(work func() int64) (stop func()) {
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
		last, lastWork, at := cpuTime(), work(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-wake:
			case <-t.C:
			}
			c, w, now := cpuTime(), work(), time.Now()
			p := most
			if holds.Load() == 0 {
				p = s.Step(c-last, w-lastWork, now.Sub(at))
			} else {
				s.Hold()
			}
			if p != runtime.GOMAXPROCS(0) {
				runtime.GOMAXPROCS(p)
			}
			last, lastWork, at = c, w, now
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
