package main

// The full-sync comparison (replication issue): a master of one kind holds
// DEBUG POPULATE N keys, a fresh replica of the same kind gets REPLICAOF,
// and the time runs until the replica's INFO replication says
// master_link_status:up and master_sync_in_progress:0 and its DBSIZE is
// the master's. Both with repl-diskless-sync yes (the default) and
// repl-diskless-sync-delay 0. Kinds alternate per round. Its section of
// docs/benchmarks.md sits between markers so `go run ./bench -replsync`
// can rewrite it alone.

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	replsyncOnly   = flag.Bool("replsync", false, "run only the full sync comparison and update its section of the report")
	replsyncKeys   = flag.Int("replsync-keys", 1000000, "keys on the master (DEBUG POPULATE) in the full sync comparison")
	replsyncRounds = flag.Int("replsync-rounds", 5, "alternating rounds per server for the full sync comparison")
)

const (
	replsyncBegin = "<!-- replsync:begin -->"
	replsyncEnd   = "<!-- replsync:end -->"
)

// replArgs are the replication settings both kinds run with in the
// replication comparisons.
var replArgs = []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}

// attachReplica makes r a replica of m and waits until it is in sync: its
// link is up, no sync is in progress and it holds want keys. It returns
// the time from REPLICAOF to then.
func attachReplica(m, r *server, want int64) time.Duration {
	rc := dialR(r.addr())
	defer rc.c.Close()
	t0 := time.Now()
	rc.must("REPLICAOF", "127.0.0.1", strconv.Itoa(m.port))
	for {
		// INFO and DBSIZE may fail (-LOADING) while the replica loads.
		if info, err := rc.do("INFO", "replication"); err == nil &&
			strings.Contains(info, "master_link_status:up") && strings.Contains(info, "master_sync_in_progress:0") {
			if n, err := rc.do("DBSIZE"); err == nil && atoi64(n) == want {
				return time.Since(t0)
			}
		}
		if time.Since(t0) > 10*time.Minute {
			info, _ := rc.do("INFO", "replication")
			fail("%s replica not in sync 10 minutes after REPLICAOF:\n%s\nlog tail:\n%s", r.name, info, logTail(r, 30))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logTail is the last n lines of s's log.
func logTail(s *server, n int) string {
	lines := strings.Split(strings.TrimSpace(s.log()), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

type replsyncResult struct {
	dur          time.Duration
	usedMem      int64
	replRSS      int64
	masterRSSMax int64
}

func replsyncOne(name, bin string) replsyncResult {
	b := serverBin(name, bin)
	m := start(name, b, replArgs...)
	defer m.stop()
	r := start(name, b, replArgs...)
	defer r.stop()
	mc := dialR(m.addr())
	defer mc.c.Close()
	mc.must("DEBUG", "POPULATE", strconv.Itoa(*replsyncKeys))
	want := atoi64(mc.must("DBSIZE"))
	res := replsyncResult{usedMem: atoi64(mc.infoMap("memory")["used_memory"])}
	time.Sleep(500 * time.Millisecond)
	res.dur = attachReplica(m, r, want)
	res.replRSS = r.rss()
	return res
}

// replsyncSection runs the comparison and returns its markdown (with markers).
func replsyncSection(bin string) string {
	rounds := *replsyncRounds
	if *quick {
		rounds = 1
	}
	res := map[string][]replsyncResult{}
	for i := 0; i < rounds; i++ {
		for _, name := range []string{"redgo", "redis"} {
			x := replsyncOne(name, bin)
			res[name] = append(res[name], x)
			fmt.Fprintf(os.Stderr, "replsync: round %d/%d %s: %d keys in sync after %.0f ms\n", i+1, rounds, name, *replsyncKeys, durMs(x.dur))
		}
	}
	durs := func(name string) []float64 {
		var v []float64
		for _, x := range res[name] {
			v = append(v, durMs(x.dur))
		}
		return v
	}
	g, r := durs("redgo"), durs("redis")
	gm, rm := median(g), median(r)
	var b strings.Builder
	b.WriteString(replsyncBegin + "\n")
	fmt.Fprintf(&b, "## Full sync of a new replica\n\n")
	cmdline := "go run ./bench -replsync"
	if *replsyncKeys != 1000000 {
		cmdline += fmt.Sprintf(" -replsync-keys %d", *replsyncKeys)
	}
	if *replsyncRounds != 5 {
		cmdline += fmt.Sprintf(" -replsync-rounds %d", *replsyncRounds)
	}
	fmt.Fprintf(&b, "Produced by `%s` on %s (%s, %d cores, %s). redis-server: %s\n",
		cmdline, time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(),
		runtime.Version(), strings.TrimSpace(strings.SplitN(string(mustOut("redis-server", "--version")), "\n", 2)[0]))
	fmt.Fprintf(&b, "Per round and kind: a master with `DEBUG POPULATE %d` (keys `key:N`, values `value:N`) and a fresh\n", *replsyncKeys)
	fmt.Fprintf(&b, "replica of the same kind, both with `--repl-diskless-sync yes --repl-diskless-sync-delay 0` and no\n")
	fmt.Fprintf(&b, "persistence otherwise (replica: default repl-diskless-load). The time runs from `REPLICAOF` sent to\n")
	fmt.Fprintf(&b, "the replica until its INFO replication shows `master_link_status:up` and `master_sync_in_progress:0`\n")
	fmt.Fprintf(&b, "and its DBSIZE equals the master's (polled every 5 ms). %d alternating rounds.\n\n", rounds)
	fmt.Fprintf(&b, "| | redgo | redis | redgo/redis |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| **full sync, median** | **%.0f ms** | **%.0f ms** | **%.2f** |\n", gm, rm, ratio(gm, rm))
	fmt.Fprintf(&b, "| min / max | %.0f / %.0f ms | %.0f / %.0f ms | |\n", slices.Min(g), slices.Max(g), slices.Min(r), slices.Max(r))
	gu, ru := res["redgo"][0].usedMem, res["redis"][0].usedMem
	fmt.Fprintf(&b, "| master used_memory | %s | %s | |\n", mb(gu), mb(ru))
	fmt.Fprintf(&b, "| replica RSS when in sync (first round) | %s | %s | |\n\n", mb(res["redgo"][0].replRSS), mb(res["redis"][0].replRSS))
	fmt.Fprintf(&b, "Per round (ms): redgo %s; redis %s.\n\n", joinMs(g), joinMs(r))
	fmt.Fprintf(&b, "Reading: the time covers the master producing the snapshot straight into the socket, the replica\n")
	fmt.Fprintf(&b, "receiving it and loading it, on a 2-core machine where master and replica share the cores. In this\n")
	fmt.Fprintf(&b, "run redgo's median full sync of %d keys took %.0f ms against Redis's %.0f ms, a ratio of %.2f (the goal\n", *replsyncKeys, gm, rm, ratio(gm, rm))
	fmt.Fprintf(&b, "is <= 1.0).\n")
	b.WriteString(replsyncEnd + "\n")
	return b.String()
}

func joinMs(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strings.Join(s, ", ")
}
