package main

// The write throughput comparison with a replica attached (replication
// issue): a master with one replica of the same kind, in sync, driven by
// redis-benchmark -t set,incr at -P 1 and -P 16, and the same master alone,
// so both the redgo/redis ratio and each server's cost of feeding a replica
// show. After each run with a replica the run waits for the replica's
// offset to reach the master's. Kinds and setups alternate per round. Its
// section of docs/benchmarks.md sits between markers so
// `go run ./bench -replwrite` can rewrite it alone.

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	replwriteOnly   = flag.Bool("replwrite", false, "run only the write throughput with a replica comparison and update its section of the report")
	replwriteN      = flag.Int("replwrite-n", 100000, "requests per test at -P 1 in the replica write comparison (10x that at -P 16)")
	replwriteRounds = flag.Int("replwrite-rounds", 5, "alternating rounds per server and setup in the replica write comparison")
)

const (
	replwriteBegin = "<!-- replwrite:begin -->"
	replwriteEnd   = "<!-- replwrite:end -->"
)

// replOffsets returns the master's master_repl_offset and the replica's
// slave_repl_offset.
func replOffsets(m, r *rconn) (int64, int64) {
	return atoi64(m.infoMap("replication")["master_repl_offset"]), atoi64(r.infoMap("replication")["slave_repl_offset"])
}

// replwriteOne runs the benchmark against a master of kind name, with a
// replica if withReplica; it returns requests/s per "test -P n" and how
// long the replica took to catch up after the last run.
func replwriteOne(name, bin string, withReplica bool, n int) (map[string]float64, time.Duration) {
	b := serverBin(name, bin)
	m := start(name, b, replArgs...)
	defer m.stop()
	var r *server
	if withReplica {
		r = start(name, b, replArgs...)
		defer r.stop()
		attachReplica(m, r, 0)
	}
	time.Sleep(200 * time.Millisecond)
	res := map[string]float64{}
	for _, p := range []int{1, 16} {
		nn := n
		if p == 16 {
			nn = 10 * n
		}
		for k, v := range runBench(m, "set,incr", nn, p, 16) {
			res[fmt.Sprintf("%s -P %d", k, p)] = v
		}
	}
	if !withReplica {
		return res, 0
	}
	mc, rc := dialR(m.addr()), dialR(r.addr())
	defer mc.c.Close()
	defer rc.c.Close()
	t := time.Now()
	for {
		mo, ro := replOffsets(mc, rc)
		if mo == ro {
			break
		}
		if time.Since(t) > 2*time.Minute {
			fail("%s replica offset %d still behind the master's %d two minutes after the benchmark\nreplica log tail:\n%s", name, ro, mo, logTail(r, 30))
		}
		time.Sleep(5 * time.Millisecond)
	}
	lag := time.Since(t)
	if md, rd := atoi64(mc.must("DBSIZE")), atoi64(rc.must("DBSIZE")); md != rd {
		fail("%s replica DBSIZE %d, master's %d after catching up", name, rd, md)
	}
	return res, lag
}

// replwriteSection runs the comparison and returns its markdown (with markers).
func replwriteSection(bin string) string {
	rounds, n := *replwriteRounds, *replwriteN
	if *quick {
		rounds, n = 1, 20000
	}
	// res[name+setup][test] = requests/s per round.
	res := map[string]map[string][]float64{}
	lags := map[string][]float64{}
	load0 := loadAvg()
	setups := []struct {
		label string
		with  bool
	}{{"replica", true}, {"alone", false}}
	for i := 0; i < rounds; i++ {
		for _, su := range setups {
			for _, name := range []string{"redgo", "redis"} {
				key := name + " " + su.label
				if res[key] == nil {
					res[key] = map[string][]float64{}
				}
				x, lag := replwriteOne(name, bin, su.with, n)
				for k, v := range x {
					res[key][k] = append(res[key][k], v)
				}
				if su.with {
					lags[name] = append(lags[name], durMs(lag))
				}
				fmt.Fprintf(os.Stderr, "replwrite: round %d/%d %s: %v\n", i+1, rounds, key, x)
			}
		}
	}
	var tests []string
	for k := range res["redis replica"] {
		tests = append(tests, k)
	}
	sort.Slice(tests, func(i, j int) bool {
		pi, pj := tests[i][strings.LastIndex(tests[i], " ")+1:], tests[j][strings.LastIndex(tests[j], " ")+1:]
		if pi != pj {
			a, _ := strconv.Atoi(pi)
			c, _ := strconv.Atoi(pj)
			return a < c
		}
		return tests[i] < tests[j]
	})
	med := func(key, test string) float64 { return median(res[key][test]) }

	var b strings.Builder
	b.WriteString(replwriteBegin + "\n")
	fmt.Fprintf(&b, "## Writes with a replica attached (requests/s)\n\n")
	b.WriteString(producedBy("replwrite"))
	fmt.Fprintf(&b, "`redis-benchmark -t set,incr -c %d -d 16 -r 100000` against a master with one replica of the same\n", *clients)
	fmt.Fprintf(&b, "kind attached and in sync (`--repl-diskless-sync yes --repl-diskless-sync-delay 0`, no persistence),\n")
	fmt.Fprintf(&b, "and against the same master alone; -n %d at -P 1 and -n %d at -P 16. A fresh master (and replica)\n", n, 10*n)
	fmt.Fprintf(&b, "per round; %d alternating rounds, medians. \"cost\" is with a replica / alone for the same server.\n", rounds)
	fmt.Fprintf(&b, "All processes (benchmark client, master, replica) share the machine's %d cores; its load average\n", runtime.NumCPU())
	fmt.Fprintf(&b, "was %s at the start and %s at the end of the run.\n\n", load0, loadAvg())
	fmt.Fprintf(&b, "| test | redgo + replica | redis + replica | **redgo/redis with a replica** | redgo alone | redis alone | redgo/redis alone | redgo cost | redis cost |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|\n")
	var worst, best float64
	for i, t := range tests {
		gr, rr, ga, ra := med("redgo replica", t), med("redis replica", t), med("redgo alone", t), med("redis alone", t)
		q := ratio(gr, rr)
		if i == 0 || q < worst {
			worst = q
		}
		if i == 0 || q > best {
			best = q
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | **%.2f** | %.0f | %.0f | %.2f | %.2f | %.2f |\n", t, gr, rr, q, ga, ra, ratio(ga, ra), ratio(gr, ga), ratio(rr, ra))
	}
	fmt.Fprintf(&b, "\nAfter each run with a replica, the replica's offset reached the master's within (median / max):\n")
	fmt.Fprintf(&b, "redgo %.0f / %.0f ms, redis %.0f / %.0f ms; DBSIZE then matched the master's in every round.\n\n",
		median(lags["redgo"]), maxOf(lags["redgo"]), median(lags["redis"]), maxOf(lags["redis"]))
	fmt.Fprintf(&b, "Reading: with a replica attached the master also writes every command to the replica link. In this\n")
	fmt.Fprintf(&b, "run redgo/redis with a replica ranged from %.2f to %.2f across the tests (the goal is >= 1.0); the\n", worst, best)
	fmt.Fprintf(&b, "\"cost\" columns show how much of each server's own throughput the replica takes, which on 2 shared\n")
	fmt.Fprintf(&b, "cores includes the replica process competing with the master and the benchmark client for CPU.\n")
	b.WriteString(replwriteEnd + "\n")
	return b.String()
}
