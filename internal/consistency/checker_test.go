package consistency

import (
	"bytes"
	"context"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// memStore is a Store in memory whose keys the test can change behind
// the checker's back; failWrites makes INCRs apply but report an error.
type memStore struct {
	mu         sync.Mutex
	m          map[string]int64
	failWrites bool
	wipe       bool // forget every key before the next GET
}

func (s *memStore) Get(ctx context.Context, key string) *redis.StringCmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := redis.NewStringCmd(ctx, "get", key)
	if s.wipe {
		s.m, s.wipe = map[string]int64{}, false
	}
	if v, ok := s.m[key]; ok {
		cmd.SetVal(strconv.FormatInt(v, 10))
	} else {
		cmd.SetErr(redis.Nil)
	}
	return cmd
}

func (s *memStore) Incr(ctx context.Context, key string) *redis.IntCmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := redis.NewIntCmd(ctx, "incr", key)
	s.m[key]++
	if s.failWrites {
		cmd.SetErr(context.DeadlineExceeded)
	} else {
		cmd.SetVal(s.m[key])
	}
	return cmd
}

// The checker counts a forgotten key as lost writes and a write that
// failed but was applied as noack, each once.
func TestLostAndNoAck(t *testing.T) {
	st := &memStore{m: map[string]int64{}}
	var out bytes.Buffer
	c := &Checker{Store: st, Keys: 1, Out: &out, Rand: rand.New(rand.NewPCG(1, 2))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, func() bool { return c.Stats().Writes >= 10 })
	st.mu.Lock()
	st.wipe = true // the cluster forgets everything
	st.mu.Unlock()
	waitFor(t, func() bool { return c.Stats().Lost > 0 })
	st.mu.Lock()
	st.failWrites = true
	st.mu.Unlock()
	waitFor(t, func() bool { return c.Stats().NoAck > 0 && c.Stats().FailedWrites > 0 })
	cancel()
	s := <-done
	if s.Lost < 10 { // at least what was acknowledged before the wipe
		t.Errorf("lost %d after %d acknowledged writes", s.Lost, s.Writes)
	}
	if s.NoAck > s.FailedWrites {
		t.Errorf("noack %d > failed writes %d: counted twice", s.NoAck, s.FailedWrites)
	}
	if !strings.Contains(out.String(), "LOST") || !regexp.MustCompile(`(?m)^Writing: `).MatchString(out.String()) {
		t.Errorf("output:\n%s", out.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition never met")
}

func TestLine(t *testing.T) {
	s := Stats{Reads: 10, FailedReads: 1, Writes: 9, FailedWrites: 2, Lost: 3, NoAck: 4}
	if got := s.Line(); got != "10 R (1 err) | 9 W (2 err) | 3 lost | 4 noack" {
		t.Fatal(got)
	}
}
