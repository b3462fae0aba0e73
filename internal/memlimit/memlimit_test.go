package memlimit

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		live    int64
		growing bool
		want    int
	}{
		{0, false, 100},
		{Floor / 2, false, 100},             // small heap: as GOGC=100
		{GrowFloor / 2, true, 100},          // growing or not
		{2 * Floor, false, 50},              // the floor: Floor bytes of garbage
		{2 * GrowFloor, true, 50},           // GrowFloor while growing
		{1 << 30, false, 100 / Headroom},    // large heap: a Headroom-th
		{1 << 30, true, 100 / GrowHeadroom}, // growing: a GrowHeadroom-th
	} {
		if got := Percent(c.live, c.growing); got != c.want {
			t.Errorf("Percent(%d, %v) = %d, want %d", c.live, c.growing, got, c.want)
		}
	}
}

// TestGovernorGrowth: a dataset that rises by more than a growing-th is
// growing at once; a second of ticks without that makes it steady, and
// GOGC follows.
func TestGovernorGrowth(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	g := New()
	size := int64(100 << 20)
	g.Tick(size)
	if !g.growing {
		t.Fatal("a dataset that appeared is not growing")
	}
	for range steadyTicks {
		g.Tick(size + size/(2*growing)) // rises, but by less than a growing-th
	}
	if g.growing {
		t.Fatal("still growing after a second of small changes")
	}
	g.Tick(size + size/8)
	if !g.growing {
		t.Fatal("a rise of an eighth is not growth")
	}
	// GOGC follows, with a live heap past the floors.
	keep := make([][]byte, 0, 3*GrowFloor>>20)
	for range cap(keep) {
		keep = append(keep, make([]byte, 1<<20))
	}
	runtime.GC()
	live := liveHeap()
	g.Tick(size + size/8)
	if got, want := g.Current(), Percent(live, true); got != want {
		t.Errorf("growing: GOGC %d, want %d", got, want)
	}
	for range steadyTicks {
		g.Tick(size + size/8)
	}
	if got, want := g.Current(), Percent(live, false); got != want || want == Percent(live, true) {
		t.Errorf("steady: GOGC %d, want %d", got, want)
	}
	runtime.KeepAlive(keep)
}

func TestLimit(t *testing.T) {
	if Limit(0) != 0 {
		t.Fatal("a memory limit without maxmemory")
	}
	if got := Limit(256 << 20); got != 256<<20+128<<20+MaxSlack {
		t.Fatalf("Limit(256 MB) = %d", got)
	}
}

func TestGovernorEnv(t *testing.T) {
	t.Setenv("GOGC", "100")
	g := New()
	g.Tick(0)
	if g.Current() != 0 {
		t.Fatalf("a GOGC from the environment was overridden: %d", g.Current())
	}
	t.Setenv("GOGC", "")
	g = New()
	g.Tick(0)
	if p := g.Current(); p < 100/Headroom || p > 100 {
		t.Fatalf("GOGC %d", p)
	}
}

// liveHeap is the live heap the last collection found.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
