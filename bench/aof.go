package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// The appendfsync always comparison (persistence issue): both servers
// with appendonly yes, appendfsync always, redis-benchmark -c 50 on the
// write tests. Its section of docs/benchmarks.md sits between markers so
// the full run and `go run ./bench -aof` can each rewrite their part.

var (
	aofOnly   = flag.Bool("aof", false, "run only the appendfsync always comparison and update its section of the report")
	aofRounds = flag.Int("aof-rounds", 5, "alternating rounds per server for the appendfsync always comparison")
	aofN      = flag.Int("aof-n", 100000, "requests per test in the appendfsync always comparison")
)

const (
	aofBegin = "<!-- aof-always:begin -->"
	aofEnd   = "<!-- aof-always:end -->"
)

// aofSection runs the comparison and returns its markdown (with markers).
func aofSection(bin string) string {
	tests := "set,incr,lpush"
	n := *aofN
	rounds := *aofRounds
	if *quick {
		n, rounds = 20000, 2
	}
	res := map[string]map[string][]float64{"redgo": {}, "redis": {}}
	for r := 0; r < rounds; r++ {
		for _, name := range []string{"redgo", "redis"} {
			b := serverBin(name, bin)
			// A fresh server (and AOF) per round: both start from an empty log.
			s := start(name, b, "--appendonly", "yes", "--appendfsync", "always")
			time.Sleep(200 * time.Millisecond)
			for k, v := range runBench(s, tests, n, 1, 16) {
				res[name][k] = append(res[name][k], v)
			}
			s.stop()
		}
		fmt.Fprintf(os.Stderr, "aof: round %d/%d\n", r+1, rounds)
	}
	var keys []string
	for k := range res["redis"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(aofBegin + "\n")
	fmt.Fprintf(&b, "## Writes with appendonly yes, appendfsync always (requests/s)\n\n")
	fmt.Fprintf(&b, "redis-benchmark -c %d -n %d -d 16, %d alternating rounds, a fresh server and AOF per round; every\n", *clients, n, rounds)
	fmt.Fprintf(&b, "reply waits for the fsync covering its write (group commit in both). The disk is shared with other\n")
	fmt.Fprintf(&b, "work, so single runs swing widely: compare medians.\n\n")
	b.WriteString("| test | redgo median | redis median | redgo/redis (median) | redgo best | redis best | redgo/redis (best) |\n|---|---|---|---|---|---|---|\n")
	for _, k := range keys {
		g, r := res["redgo"][k], res["redis"][k]
		gm, rm, gb, rb := median(g), median(r), maxOf(g), maxOf(r)
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | **%.2f** | %.0f | %.0f | %.2f |\n", k, gm, rm, ratio(gm, rm), gb, rb, ratio(gb, rb))
	}
	b.WriteString(aofEnd + "\n")
	return b.String()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	return m
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
