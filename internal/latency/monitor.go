package latency

import (
	"fmt"
	"strings"
	"sync"
)

// historyLen is how many samples an event keeps (LATENCY_TS_LEN): one per
// second at most, so 160 seconds of spikes.
const historyLen = 160

// Sample is one second's worst latency of an event.
type Sample struct {
	Time    int64 // unix seconds
	Latency int64 // milliseconds
}

type series struct {
	samples [historyLen]Sample
	idx     int   // where the next sample goes
	max     int64 // all-time high
}

// Monitor keeps the latency spikes of each event (the latency monitor).
// Events are added in the order they first occur. Safe for concurrent
// use.
type Monitor struct {
	mu     sync.Mutex
	events map[string]*series
	order  []string
}

// NewMonitor returns an empty monitor.
func NewMonitor() *Monitor { return &Monitor{events: map[string]*series{}} }

// Add records a latency of ms milliseconds for event at unix second now.
// Within one second only the worst latency is kept. Callers check the
// threshold (Redis's latencyAddSampleIfNeeded) first.
func (m *Monitor) Add(event string, ms, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		ts = &series{}
		m.events[event] = ts
		m.order = append(m.order, event)
	}
	ts.max = max(ts.max, ms)
	prev := &ts.samples[(ts.idx+historyLen-1)%historyLen]
	if prev.Time == now {
		prev.Latency = max(prev.Latency, ms)
		return
	}
	ts.samples[ts.idx] = Sample{Time: now, Latency: ms}
	ts.idx = (ts.idx + 1) % historyLen
}

// Latest is one line of LATENCY LATEST.
type Latest struct {
	Event   string
	Time    int64
	Latency int64
	Max     int64
}

// Latest returns each event's last sample and all-time high.
func (m *Monitor) Latest() []Latest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Latest, 0, len(m.order))
	for _, e := range m.order {
		ts := m.events[e]
		last := ts.samples[(ts.idx+historyLen-1)%historyLen]
		out = append(out, Latest{Event: e, Time: last.Time, Latency: last.Latency, Max: ts.max})
	}
	return out
}

// History returns event's samples, oldest first (nil for an unknown
// event).
func (m *Monitor) History(event string) []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		return nil
	}
	return ts.history()
}

func (ts *series) history() []Sample {
	var out []Sample
	for j := range historyLen {
		s := ts.samples[(ts.idx+j)%historyLen]
		if s.Time != 0 {
			out = append(out, s)
		}
	}
	return out
}

// Reset forgets the events named (case-insensitively), or every event
// when none is named, and returns how many it forgot.
func (m *Monitor) Reset(names ...string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	kept := m.order[:0]
	for _, e := range m.order {
		drop := len(names) == 0
		for _, name := range names {
			if strings.EqualFold(name, e) {
				drop = true
			}
		}
		if drop {
			delete(m.events, e)
			n++
		} else {
			kept = append(kept, e)
		}
	}
	m.order = kept
	return n
}

// Empty reports whether no event was recorded (since the last reset).
func (m *Monitor) Empty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.order) == 0
}

// graphCols is the width of LATENCY GRAPH.
const graphCols = 80

// Graph is LATENCY GRAPH event at unix second now: a header, a rule and a
// sparkline of the samples, 4 rows high, labelled with how long ago each
// happened. ok is false for an unknown event.
func (m *Monitor) Graph(event string, now int64) (graph string, ok bool) {
	m.mu.Lock()
	ts := m.events[event]
	var hist []Sample
	var allTime int64
	if ts != nil {
		hist, allTime = ts.history(), ts.max
	}
	m.mu.Unlock()
	if ts == nil {
		return "", false
	}
	var lo, hi int64
	seq := make([]point, 0, len(hist))
	for i, s := range hist {
		if i == 0 {
			lo, hi = s.Latency, s.Latency
		}
		lo, hi = min(lo, s.Latency), max(hi, s.Latency)
		seq = append(seq, point{value: float64(s.Latency), label: ago(now - s.Time)})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, allTime)
	b.WriteString(strings.Repeat("-", graphCols))
	b.WriteByte('\n')
	sparkline(&b, seq, graphCols, 4)
	return b.String(), true
}

// ago labels a sample by its age: seconds, minutes, hours or days.
func ago(secs int64) string {
	switch {
	case secs < 60:
		return fmt.Sprintf("%ds", secs)
	case secs < 3600:
		return fmt.Sprintf("%dm", secs/60)
	case secs < 86400:
		return fmt.Sprintf("%dh", secs/3600)
	}
	return fmt.Sprintf("%dd", secs/86400)
}

// Stats summarizes an event's samples for DOCTOR.
type Stats struct {
	Samples     int
	Avg, MAD    int64 // ms; MAD is the mean absolute deviation
	Min, Max    int64
	Period      int64 // seconds from the oldest sample to now (at least 1)
	AllTimeHigh int64
}

func (ts *series) stats(now int64) Stats {
	st := Stats{AllTimeHigh: ts.max}
	var sum, oldest int64
	for _, s := range ts.samples {
		if s.Time == 0 {
			continue
		}
		st.Samples++
		if st.Samples == 1 {
			st.Min, st.Max = s.Latency, s.Latency
		}
		st.Min, st.Max = min(st.Min, s.Latency), max(st.Max, s.Latency)
		sum += s.Latency
		if oldest == 0 || s.Time < oldest {
			oldest = s.Time
		}
	}
	if st.Samples == 0 {
		return st
	}
	st.Avg = sum / int64(st.Samples)
	st.Period = max(now-oldest, 1)
	var dev int64
	for _, s := range ts.samples {
		if s.Time == 0 {
			continue
		}
		d := st.Avg - s.Latency
		if d < 0 {
			d = -d
		}
		dev += d
	}
	st.MAD = dev / int64(st.Samples)
	return st
}

// eventStats returns each event, in the order first seen, with its stats.
func (m *Monitor) eventStats(now int64) (names []string, stats []Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.order {
		names = append(names, e)
		stats = append(stats, m.events[e].stats(now))
	}
	return names, stats
}
