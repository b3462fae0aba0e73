package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// The eviction comparison (performance issue, maxmemory): a cache
// workload with Zipf-distributed keys (GET, and SET of the key on a miss)
// against each server at the same maxmemory, for allkeys-lru and
// allkeys-lfu. The hit rate says how well the policy keeps the hot keys
// in the room it has; the keys held say how much room each server makes
// of the same maxmemory.

var (
	evictOnly = flag.Bool("evict", false, "run only the eviction hit-rate comparison and update its section of the report")
	evictMem  = flag.String("evict-maxmemory", "16mb", "maxmemory for the eviction comparison")
	evictKeys = flag.Int("evict-keys", 1000000, "distinct keys of the Zipf workload")
	evictOps  = flag.Int("evict-ops", 400000, "measured operations per run (after as many to warm up)")
)

const (
	evictBegin = "<!-- evict:begin -->"
	evictEnd   = "<!-- evict:end -->"
	evictValue = 100  // value bytes
	evictZipfS = 1.01 // Zipf exponent (s > 1)
)

type evictResult struct {
	hitRate float64
	keys    int64
	evicted int64
	used    int64
}

// evictRun runs the workload on one fresh server.
func evictRun(name, bin, policy string, ops int) evictResult {
	s := start(name, serverBin(name, bin), "--maxmemory", *evictMem, "--maxmemory-policy", policy)
	defer s.stop()
	rc := redis.NewClient(&redis.Options{Addr: s.addr(), PoolSize: 8, Protocol: 2})
	defer rc.Close()
	ctx := context.Background()
	value := strings.Repeat("v", evictValue)
	var hits, total int64
	var mu sync.Mutex
	phase := func(n int, count bool, seedBase int) {
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				z := rand.NewZipf(rand.New(rand.NewPCG(seed, 7)), evictZipfS, 1, uint64(*evictKeys-1))
				h, t := int64(0), int64(0)
				for i := 0; i < n/8; i++ {
					k := "key:" + strconv.FormatUint(z.Uint64(), 10)
					err := rc.Get(ctx, k).Err()
					t++
					if err == nil {
						h++
						continue
					}
					if err != redis.Nil {
						fail("%s GET: %v", name, err)
					}
					if err := rc.Set(ctx, k, value, 0).Err(); err != nil {
						fail("%s SET: %v", name, err)
					}
				}
				if count {
					mu.Lock()
					hits, total = hits+h, total+t
					mu.Unlock()
				}
			}(uint64(w) + 1 + uint64(seedBase))
		}
		wg.Wait()
	}
	phase(ops, false, 0) // warm up: fill to maxmemory
	phase(ops, true, 100)
	stats := s.cli("INFO", "stats")
	evicted := int64(0)
	for _, l := range strings.Split(stats, "\n") {
		if strings.HasPrefix(l, "evicted_keys:") {
			evicted, _ = strconv.ParseInt(strings.TrimSpace(l[len("evicted_keys:"):]), 10, 64)
		}
	}
	keys, _ := rc.DBSize(ctx).Result()
	return evictResult{hitRate: float64(hits) / float64(total), keys: keys, evicted: evicted, used: s.info("used_memory")}
}

// evictSection runs the comparison and returns its markdown (with markers).
func evictSection(bin string) string {
	ops := *evictOps
	if *quick {
		ops = 50000
	}
	var b strings.Builder
	b.WriteString(evictBegin + "\n")
	b.WriteString("## Eviction: hit rate at the same maxmemory\n\n")
	b.WriteString(producedBy("evict"))
	fmt.Fprintf(&b, "A cache workload: 8 go-redis clients GET keys drawn from a Zipf distribution (s = %.2f) over %d keys\n", evictZipfS, *evictKeys)
	fmt.Fprintf(&b, "and SET a %d-byte value on a miss; %d operations to warm up, then %d measured. `--maxmemory %s`, a\n", evictValue, ops, ops, *evictMem)
	b.WriteString("fresh server per run. The hit rate depends on both the policy's choices and how many keys fit: redgo's\n")
	b.WriteString("used_memory accounts the Go heap a key really takes (more than Redis's per key, see the memory section).\n\n")
	b.WriteString("| policy | redgo hit rate | redis hit rate | **redgo/redis** | redgo keys held | redis keys held | redgo evicted | redis evicted |\n|---|---|---|---|---|---|---|---|\n")
	var keysRatio, points []float64
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu"} {
		g := evictRun("redgo", bin, policy, ops)
		r := evictRun("redis", bin, policy, ops)
		keysRatio = append(keysRatio, float64(g.keys)/float64(r.keys))
		points = append(points, 100*(r.hitRate-g.hitRate))
		fmt.Fprintf(os.Stderr, "evict %s: redgo %.3f redis %.3f\n", policy, g.hitRate, r.hitRate)
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | **%.2f** | %d | %d | %d | %d |\n", policy, g.hitRate, r.hitRate,
			ratio(g.hitRate, r.hitRate), g.keys, r.keys, g.evicted, r.evicted)
	}
	fmt.Fprintf(&b, "\nReading: both sample 5 keys per round into a pool of 16 candidates; redgo holds %.2f-%.2f of Redis's\n",
		min(keysRatio[0], keysRatio[1]), max(keysRatio[0], keysRatio[1]))
	fmt.Fprintf(&b, "keys and its hit rate is %.1f-%.1f points lower. An idle redgo already uses about 5 MB (the 16 databases' per-slot tables and the\n",
		min(points[0], points[1]), max(points[0], points[1]))
	b.WriteString("command table) against Redis's 0.9 MB, and a key costs more (see the memory section), so at the same\n")
	b.WriteString("maxmemory redgo holds fewer keys. The goal, >= 1.0, waits on the memory work of the performance issue.\n")
	b.WriteString(evictEnd + "\n")
	return b.String()
}
