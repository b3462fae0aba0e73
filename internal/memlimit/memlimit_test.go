package memlimit

import (
	"runtime"
	"runtime/debug"
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

// TestGovernorGrowth: a collection that finds more live data than the one
// before gets the growing room; one that finds the same, the steady room.
func TestGovernorGrowth(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	g := New()
	var keep [][]byte
	add := func(mb int) {
		for range mb {
			keep = append(keep, make([]byte, 1<<20))
		}
		runtime.GC()
		g.Tick()
	}
	const mb = 3 * GrowFloor >> 20
	add(mb)
	add(mb) // twice the live data: growing
	if got, want := g.Current(), Percent(2*mb<<20, true); got != want {
		t.Errorf("after growth GOGC %d, want %d", got, want)
	}
	add(0) // the same live data: steady
	if got, want := g.Current(), Percent(2*mb<<20, false); got != want || want == Percent(2*mb<<20, true) {
		t.Errorf("steady GOGC %d, want %d", got, want)
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
	g.Tick()
	if g.Current() != 0 {
		t.Fatalf("a GOGC from the environment was overridden: %d", g.Current())
	}
	t.Setenv("GOGC", "")
	g = New()
	g.Tick()
	if p := g.Current(); p < 100/Headroom || p > 100 {
		t.Fatalf("GOGC %d", p)
	}
}
