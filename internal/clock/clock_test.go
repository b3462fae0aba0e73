package clock

import (
	"testing"
	"time"
)

func TestUntilNext(t *testing.T) {
	d := 100 * time.Millisecond
	for _, tc := range []struct {
		ns   int64
		want time.Duration
	}{
		{0, d},
		{1, d - 1},
		{int64(d) - 1, 1},
		{int64(d), d},
		{5*int64(d) + 30e6, 70 * time.Millisecond},
	} {
		if got := untilNext(time.Unix(0, tc.ns), d); got != tc.want {
			t.Errorf("untilNext(%d) = %v, want %v", tc.ns, got, tc.want)
		}
	}
}

// A ticker never ticks before the multiple of its period it waits for,
// and goes on ticking after Next.
func TestTickerWaitsForTheMultiple(t *testing.T) {
	d := 20 * time.Millisecond
	for range 3 {
		start := time.Now()
		k := NewTicker(d)
		got := <-k.C
		if next := start.Add(untilNext(start, d)); got.Before(next) {
			t.Fatalf("tick at %v, before the multiple %v", got, next)
		}
		k.Next()
		again := <-k.C
		if again.UnixNano()/int64(d) <= got.UnixNano()/int64(d) {
			t.Fatalf("second tick %v not in a later period than %v", again, got)
		}
		k.Stop()
	}
}
