package commands

import (
	"testing"
	"time"
)

// wallNow's wall clock, derived from the monotonic one, stays with the
// system's, and its instant moves with time.
func TestWallNowFollowsTheClock(t *testing.T) {
	prevMs, prev := wallNow()
	for i := 0; i < 200; i++ {
		before := time.Now().UnixMilli()
		ms, at := wallNow()
		after := time.Now().UnixMilli()
		if ms < before-1 || ms > after+1 {
			t.Fatalf("wallNow %d ms, the clock %d-%d", ms, before, after)
		}
		if ms < prevMs-1 || at.Before(prev) { // a refresh may move the wall clock by a hair
			t.Fatalf("went back: %d after %d", ms, prevMs)
		}
		prevMs, prev = ms, at
		if i%50 == 0 {
			time.Sleep(wallRefresh / 2)
		}
	}
	// A refresh is due: the anchor is read again.
	at := wallAt.Load()
	time.Sleep(wallRefresh + time.Millisecond)
	wallNow()
	if wallAt.Load() == at {
		t.Fatal("the wall clock was not read again after wallRefresh")
	}
}
