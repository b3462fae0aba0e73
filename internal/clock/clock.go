// Package clock has the server's periodic ticker. Every ticker of the
// process with the same period fires at the same instants (multiples of
// the period since the Unix epoch), so the runtime serves them all in one
// wake-up: an idle node wakes ten times a second, as Redis does, instead
// of once per ticker (the cron, the persistence and replication crons,
// the cluster's cron and bus loop each had their own phase).
package clock

import "time"

// Ticker delivers a tick on C at each multiple of its period. After each
// receive from C the owner calls Next to schedule the following one.
type Ticker struct {
	C <-chan time.Time
	t *time.Timer
	d time.Duration
}

// NewTicker returns a ticker with period d (> 0); its first tick comes at
// the next multiple of d.
func NewTicker(d time.Duration) *Ticker {
	if d <= 0 {
		panic("clock: non-positive period")
	}
	t := &Ticker{d: d, t: time.NewTimer(untilNext(time.Now(), d))}
	t.C = t.t.C
	return t
}

// Next schedules the tick after the one just received. A receiver that
// took longer than a period skips to the next multiple, as time.Ticker
// drops ticks for a slow receiver.
func (t *Ticker) Next() { t.t.Reset(untilNext(time.Now(), t.d)) }

// Stop stops the ticker; no tick is delivered after it returns.
func (t *Ticker) Stop() { t.t.Stop() }

// untilNext is how long from now until the next multiple of d.
func untilNext(now time.Time, d time.Duration) time.Duration {
	n := now.UnixNano()
	return time.Duration(int64(d) - n%int64(d))
}
