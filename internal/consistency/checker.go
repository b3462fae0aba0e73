// Package consistency is the checker the Redis Cluster tutorial runs
// during a failover (redis-rb-cluster's consistency-test.rb): it
// increments counters spread over the cluster, remembers the value each
// acknowledged INCR returned, reads the counters back and counts
//
//   - lost writes: a counter lower than the last acknowledged value (an
//     acknowledged write the cluster forgot);
//   - unacknowledged writes: a counter higher than expected (an INCR
//     that failed for the client but was applied).
//
// Each second it prints "N R (E err) | N W (E err) | L lost | U noack".
package consistency

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store is what the checker needs of a client: *redis.ClusterClient
// and *redis.Client both are one.
type Store interface {
	Get(ctx context.Context, key string) *redis.StringCmd
	Incr(ctx context.Context, key string) *redis.IntCmd
}

// reloader is a cluster client that can refresh its slot map, as
// *redis.ClusterClient can: after an error the checker asks for a fresh
// map at the next command, as redis-rb-cluster does, so a failover
// shows as errors only until the cluster has a new master.
type reloader interface {
	ReloadState(ctx context.Context)
}

// Stats are the counts so far.
type Stats struct {
	Reads, FailedReads   int64
	Writes, FailedWrites int64
	Lost, NoAck          int64
}

// Line is the report line of consistency-test.rb, with lost and noack
// always shown.
func (s Stats) Line() string {
	return fmt.Sprintf("%d R (%d err) | %d W (%d err) | %d lost | %d noack",
		s.Reads, s.FailedReads, s.Writes, s.FailedWrites, s.Lost, s.NoAck)
}

// Checker runs the test. Its fields are set before Run.
type Checker struct {
	Store Store
	Keys  int           // the keyspace: counters key_0..key_{Keys-1} under a per-run prefix
	Delay time.Duration // pause after each read+write pair
	// Timeout bounds each command, retries included (default 1s): a
	// client that retries a dead master until its replica takes over
	// would hide the failover; the tutorial's checker shows it as errors.
	Timeout  time.Duration
	Out      io.Writer  // report lines and (at most one per second each) read and write errors
	Rand     *rand.Rand // which key next; nil: seeded from the clock
	prefix   string
	mu       sync.Mutex
	stats    Stats
	cached   map[string]int64 // last acknowledged value per key
	errShown [2]bool          // a read / write error printed in this second
}

// Stats returns the counts so far; safe while Run runs.
func (c *Checker) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Run reads and increments counters until ctx ends, printing a report
// line each second, then the summary. It returns the final counts.
func (c *Checker) Run(ctx context.Context) Stats {
	if c.Keys <= 0 {
		c.Keys = 1000
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	}
	c.prefix = fmt.Sprintf("ct%d|", c.Rand.Uint32())
	c.cached = map[string]int64{}
	last := time.Now().Unix()
	for ctx.Err() == nil {
		key := c.prefix + "key_" + strconv.Itoa(c.Rand.IntN(c.Keys))
		c.read(ctx, key)
		c.write(ctx, key)
		if c.Delay > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(c.Delay):
			}
		}
		if now := time.Now().Unix(); now != last {
			last = now
			fmt.Fprintln(c.Out, c.Stats().Line())
			c.errShown = [2]bool{}
		}
	}
	s := c.Stats()
	fmt.Fprintf(c.Out, "%s\n%s\n", s.Line(), s.Summary(len(c.cached)))
	return s
}

// Summary is the closing line.
func (s Stats) Summary(keys int) string {
	verdict := "no acknowledged write was lost"
	if s.Lost > 0 {
		verdict = fmt.Sprintf("LOST %d acknowledged writes", s.Lost)
	}
	return fmt.Sprintf("Summary: %d reads (%d failed), %d writes (%d failed), %d keys; %d lost, %d not acknowledged but applied: %s",
		s.Reads, s.FailedReads, s.Writes, s.FailedWrites, keys, s.Lost, s.NoAck, verdict)
}

func (c *Checker) read(ctx context.Context, key string) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	v, err := c.Store.Get(cctx, key).Int64()
	cancel()
	if errors.Is(err, redis.Nil) {
		v, err = 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			c.stats.FailedReads++
			c.showErr(0, "Reading: ", err)
			c.reload(ctx)
		}
		return
	}
	c.stats.Reads++
	if want, ok := c.cached[key]; ok {
		c.account(key, want, v)
	}
}

// account compares what was read with what was acknowledged.
func (c *Checker) account(key string, want, got int64) {
	switch {
	case got < want:
		c.stats.Lost += want - got
	case got > want:
		c.stats.NoAck += got - want
	}
	c.cached[key] = got // count each lost or unacknowledged write once
}

func (c *Checker) write(ctx context.Context, key string) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	v, err := c.Store.Incr(cctx, key).Result()
	cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			c.stats.FailedWrites++
			c.showErr(1, "Writing: ", err)
			c.reload(ctx)
		}
		return
	}
	c.stats.Writes++
	c.cached[key] = v
}

// reload refreshes the client's slot map, if it has one.
func (c *Checker) reload(ctx context.Context) {
	if r, ok := c.Store.(reloader); ok {
		r.ReloadState(ctx)
	}
}

// showErr prints the first error of each kind in a second.
func (c *Checker) showErr(kind int, what string, err error) {
	if !c.errShown[kind] {
		c.errShown[kind] = true
		fmt.Fprintf(c.Out, "%s%v\n", what, err)
	}
}
