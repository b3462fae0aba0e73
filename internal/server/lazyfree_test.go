package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// lazyfreed_objects counts what Redis would free in the background:
// UNLINK (and DEL with lazyfree-lazy-user-del) of a value whose free
// effort is above 64, every key of a FLUSHDB/FLUSHALL ASYNC (or plain,
// with lazyfree-lazy-user-flush). Compared with redis-server step by
// step.
func TestLazyfreedObjectsAsRedis(t *testing.T) {
	_, rg := startServer(t, "--save", "")
	rr := redis.NewClient(&redis.Options{Addr: startRedis(t)})
	defer rr.Close()
	ctx := context.Background()
	field := func(c *redis.Client, name string) int {
		info := c.Info(ctx, "memory").Val()
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatalf("no %s", name)
		return 0
	}
	lazyfreed := func(c *redis.Client) int { return field(c, "lazyfreed_objects") }
	sadd := func(key string, n int) []any { // SADD key m0 ... m<n-1>
		out := []any{"SADD", key}
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("m%d", i))
		}
		return out
	}
	steps := [][][]any{
		{sadd("bigset", 200), {"UNLINK", "bigset"}},                            // hashtable of 200: counted
		{{"SADD", "small", "a", "b"}, {"UNLINK", "small"}},                     // intset-sized: not
		{sadd("big2", 200), {"DEL", "big2"}},                                   // DEL: not
		{{"CONFIG", "SET", "lazyfree-lazy-user-del", "yes"}},                   //
		{sadd("big3", 200), {"DEL", "big3"}},                                   // DEL as UNLINK: counted
		{{"CONFIG", "SET", "lazyfree-lazy-user-del", "no"}},                    //
		{{"ZADD", "z", 1, "a"}, {"HSET", "h", "f", "v"}, {"FLUSHDB", "ASYNC"}}, // two keys
		{{"SET", "k", "v"}, {"FLUSHDB", "SYNC"}},                               // not
		{{"CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"}, {"SET", "k", "v"}, {"SET", "k2", "v"}, {"FLUSHALL"}},
		{{"CONFIG", "SET", "lazyfree-lazy-user-flush", "no"}, {"CONFIG", "RESETSTAT"}},
	}
	for i, step := range steps {
		for _, c := range []*redis.Client{rg, rr} {
			for _, cmd := range step {
				if err := c.Do(ctx, cmd...).Err(); err != nil {
					t.Fatalf("step %d %v: %v", i, cmd, err)
				}
			}
		}
		// Redis counts a value once its background thread has freed it.
		eventually(t, 5*time.Second, func() error {
			if a, b := lazyfreed(rg), lazyfreed(rr); a != b {
				return fmt.Errorf("step %d: lazyfreed_objects %d, redis-server %d", i, a, b)
			}
			return nil
		})
	}
}
