package memlimit

import "testing"

func TestLimit(t *testing.T) {
	for _, c := range []struct{ live, other, max, want int64 }{
		{0, 0, 0, Floor},
		{80 << 20, 10 << 20, 0, 90<<20 + Floor},                      // small heap: the floor
		{1 << 30, 10 << 20, 0, 1<<30 + 10<<20 + 1<<30/Headroom},      // large heap: a quarter
		{1 << 30, 10 << 20, 256 << 20, 256<<20 + 128<<20 + MaxSlack}, // maxmemory caps it
	} {
		if got := Limit(c.live, c.other, c.max); got != c.want {
			t.Errorf("Limit(%d, %d, %d) = %d, want %d", c.live, c.other, c.max, got, c.want)
		}
	}
}

func TestGovernorEnv(t *testing.T) {
	g := New(true)
	g.SetMax(1 << 20)
	if g.Current() != 0 {
		t.Fatalf("a GOMEMLIMIT from the environment was overridden: %d", g.Current())
	}
	g = New(false)
	g.Tick()
	if g.Current() < Floor {
		t.Fatalf("limit %d under the floor", g.Current())
	}
}
