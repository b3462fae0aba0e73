package memlimit

import "testing"

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		live int64
		want int
	}{
		{0, 100},
		{Floor / 2, 100},          // small heap: as GOGC=100
		{2 * Floor, 50},           // the floor: Floor bytes of garbage
		{1 << 30, 100 / Headroom}, // large heap: a Headroom-th
	} {
		if got := Percent(c.live); got != c.want {
			t.Errorf("Percent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
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
