package latency

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Values Redis 7.0 reports (INFO latencystats, LATENCY HISTOGRAM keys):
// each is the highest value counted with the recorded one.
func TestHighestEquivalentAsRedis(t *testing.T) {
	for v, want := range map[int64]int64{
		1: 1, 255: 255, 1000: 1003, 1024: 1031, 2048: 2063, 4096: 4127,
		32768: 33023, 65536: 66047, 4194304: 4227071,
	} {
		if got := highestEquivalent(v); got != want {
			t.Errorf("highestEquivalent(%d) = %d, want %d", v, got, want)
		}
	}
}

// Every value falls in the bucket whose range holds it, and indexes grow
// with values.
func TestIndexRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	prev := -1
	for v := int64(1); v < maxValue; v += 1 + v/97 {
		i := index(v)
		if i < prev {
			t.Fatalf("index(%d) = %d < %d", v, i, prev)
		}
		prev = i
		lo := valueAt(i)
		if lo > v || highestEquivalent(lo) < v {
			t.Fatalf("%d outside bucket %d [%d, %d]", v, i, lo, highestEquivalent(lo))
		}
	}
	for range 10000 {
		v := r.Int64N(maxValue) + 1
		if highestEquivalent(v) != highestEquivalent(valueAt(index(v))) {
			t.Fatalf("%d: equivalent values differ", v)
		}
	}
	if index(maxValue) >= nCounts {
		t.Fatal("max value out of range")
	}
}

func TestPercentilesAndCDF(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(50) != 0 {
		t.Fatal("empty histogram")
	}
	h.Record(0) // clamped to 1 ns, as Redis records a 0 µs command
	h.Record(1500)
	h.Record(70000)
	h.Record(5e9) // clamped to 1 s
	if got := h.Percentiles([]float64{25, 50, 75, 100}); got[0] != 1 || got[1] != 1503 || got[2] != 70143 || got[3] != highestEquivalent(maxValue) {
		t.Fatalf("percentiles %v", got)
	}
	calls, cdf := h.CDF()
	if calls != 4 {
		t.Fatalf("calls %d", calls)
	}
	want := []Bucket{{1, 1}, {2, 2}, {132, 3}, {1082130, 4}}
	if len(cdf) != len(want) {
		t.Fatalf("cdf %v, want %v", cdf, want)
	}
	for i := range want {
		if cdf[i] != want[i] {
			t.Fatalf("cdf %v, want %v", cdf, want)
		}
	}
}

func TestMonitor(t *testing.T) {
	m := NewMonitor()
	m.Add("command", 30, 1000)
	m.Add("command", 50, 1000) // same second: the worst is kept
	m.Add("command", 20, 1001)
	m.Add("expire-cycle", 5, 1001)
	if h := m.History("command"); len(h) != 2 || h[0] != (Sample{1000, 50}) || h[1] != (Sample{1001, 20}) {
		t.Fatalf("history %v", h)
	}
	l := m.Latest()
	if len(l) != 2 || l[0] != (Latest{"command", 1001, 20, 50}) || l[1].Event != "expire-cycle" {
		t.Fatalf("latest %v", l)
	}
	for i := range historyLen + 5 {
		m.Add("expire-cycle", int64(i), int64(2000+i))
	}
	if h := m.History("expire-cycle"); len(h) != historyLen || h[0].Time != 2005 {
		t.Fatalf("history keeps %d, first %v", len(h), h[0])
	}
	if n := m.Reset("COMMAND", "nope"); n != 1 || m.History("command") != nil {
		t.Fatalf("reset %d", n)
	}
	if n := m.Reset(); n != 1 || !m.Empty() {
		t.Fatalf("reset all %d", n)
	}
}

func TestSparkline(t *testing.T) {
	var b strings.Builder
	sparkline(&b, []point{{1, "3s"}, {5, "2s"}, {10, "1s"}}, 80, 4)
	want := "  #\n  |\n #|\n_||\n   \n321\nsss\n"
	if b.String() != want {
		t.Fatalf("sparkline:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestGraph(t *testing.T) {
	m := NewMonitor()
	if _, ok := m.Graph("command", 100); ok {
		t.Fatal("graph of an unknown event")
	}
	m.Add("command", 300, 40)
	m.Add("command", 100, 70)
	g, _ := m.Graph("command", 100)
	want := "command - high 300 ms, low 100 ms (all time high 300 ms)\n" + strings.Repeat("-", 80) + "\n" +
		"# \n| \n| \n|_\n  \n13\nm0\n s\n"
	if g != want {
		t.Fatalf("graph:\n%s\nwant\n%s", g, want)
	}
}

func TestDoctor(t *testing.T) {
	m := NewMonitor()
	if d := m.Doctor(DoctorEnv{}, 0); !strings.HasPrefix(d, "I'm sorry, Dave") {
		t.Fatalf("disabled: %q", d)
	}
	if d := m.Doctor(DoctorEnv{Threshold: 1, Hz: 10}, 0); !strings.HasPrefix(d, "Dave, no latency spike") {
		t.Fatalf("no events: %q", d)
	}
	m.Add("command", 100, 10)
	m.Add("command", 300, 12)
	d := m.Doctor(DoctorEnv{Threshold: 1, SlowlogSlower: 10000, Hz: 10}, 20)
	for _, s := range []string{
		"Dave, I have observed latency spikes in this Redis instance.",
		"1. command: 2 latency spikes (average 200ms, mean deviation 100ms, period 5.00 sec). Worst all time event 300ms.\n",
		"'CONFIG SET slowlog-log-slower-than 1000'",
		"- Check your Slow Log",
		"- Deleting, expiring or evicting",
	} {
		if !strings.Contains(d, s) {
			t.Errorf("doctor lacks %q:\n%s", s, d)
		}
	}
}
