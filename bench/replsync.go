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
// when REPLICAOF was sent and how long it took until then.
func attachReplica(m, r *server, want int64) (time.Time, time.Duration) {
	rc := dialR(r.addr())
	defer rc.c.Close()
	t0 := time.Now()
	rc.must("REPLICAOF", "127.0.0.1", strconv.Itoa(m.port))
	for {
		// INFO and DBSIZE may fail (-LOADING) while the replica loads.
		if info, err := rc.do("INFO", "replication"); err == nil &&
			strings.Contains(info, "master_link_status:up") && strings.Contains(info, "master_sync_in_progress:0") {
			if n, err := rc.do("DBSIZE"); err == nil && atoi64(n) == want {
				return t0, time.Since(t0)
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

// syncPhases are the replica's log lines that mark the phases of a full
// sync (the same texts in both servers).
var syncPhases = []string{
	"MASTER <-> REPLICA sync: receiving",            // the master's snapshot starts coming
	"MASTER <-> REPLICA sync: Loading DB in memory", // received, loading starts
	"MASTER <-> REPLICA sync: Finished with success",
}

// phaseTimes returns, for each of syncPhases, when the first line with it
// at or after t0 was logged (ms from t0; -1 if none).
func phaseTimes(log string, t0 time.Time) []float64 {
	out := make([]float64, len(syncPhases))
	for i := range out {
		out[i] = -1
	}
	for _, l := range strings.Split(log, "\n") {
		m := logLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ts, err := time.ParseInLocation("02 Jan 2006 15:04:05.000", m[1], time.Local)
		if err != nil || ts.Before(t0.Truncate(time.Millisecond)) {
			continue
		}
		for i, p := range syncPhases {
			if out[i] < 0 && strings.HasPrefix(m[2], p) {
				out[i] = durMs(ts.Sub(t0))
			}
		}
	}
	return out
}

type replsyncResult struct {
	dur          time.Duration
	phases       []float64 // ms from REPLICAOF, see syncPhases
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
	var t0 time.Time
	t0, res.dur = attachReplica(m, r, want)
	res.phases = phaseTimes(r.log(), t0)
	res.replRSS = r.rss()
	return res
}

// replsyncSection runs the comparison and returns its markdown (with markers).
func replsyncSection(bin string) string {
	rounds := *replsyncRounds
	if *quick {
		rounds = 1
	}
	load0 := loadAvg()
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
	loadNote := fmt.Sprintf("The machine's load average was %s at the start and %s at the end of the run.", load0, loadAvg())
	gm, rm := median(g), median(r)
	var b strings.Builder
	b.WriteString(replsyncBegin + "\n")
	fmt.Fprintf(&b, "## Full sync of a new replica\n\n")
	b.WriteString(producedBy("replsync"))
	fmt.Fprintf(&b, "Per round and kind: a master with `DEBUG POPULATE %d` (keys `key:N`, values `value:N`) and a fresh\n", *replsyncKeys)
	fmt.Fprintf(&b, "replica of the same kind, both with `--repl-diskless-sync yes --repl-diskless-sync-delay 0` and no\n")
	fmt.Fprintf(&b, "persistence otherwise (replica: default repl-diskless-load). The time runs from `REPLICAOF` sent to\n")
	fmt.Fprintf(&b, "the replica until its INFO replication shows `master_link_status:up` and `master_sync_in_progress:0`\n")
	fmt.Fprintf(&b, "and its DBSIZE equals the master's (polled every 5 ms). %d alternating rounds. The phase rows come from\n", rounds)
	fmt.Fprintf(&b, "the replica's log (the same lines in both: `MASTER <-> REPLICA sync: receiving ...`, `... Loading DB in\n")
	fmt.Fprintf(&b, "memory`, `... Finished with success`; millisecond timestamps).\n\n")
	fmt.Fprintf(&b, "| | redgo | redis | redgo/redis |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| **full sync, median** | **%.0f ms** | **%.0f ms** | **%.2f** |\n", gm, rm, ratio(gm, rm))
	fmt.Fprintf(&b, "| min / max | %.0f / %.0f ms | %.0f / %.0f ms | |\n", slices.Min(g), slices.Max(g), slices.Min(r), slices.Max(r))
	// Phases from the replica's log (ms resolution), medians.
	phase := func(name string, from, to int) float64 {
		var v []float64
		for _, x := range res[name] {
			a, z := 0.0, x.phases[to]
			if from >= 0 {
				a = x.phases[from]
			}
			if a >= 0 && z >= 0 {
				v = append(v, z-a)
			}
		}
		return median(v)
	}
	for _, p := range []struct {
		label    string
		from, to int
	}{{"REPLICAOF → replica logs `receiving`", -1, 0}, {"`receiving` → `Finished with success`", 0, 2}} {
		gp, rp := phase("redgo", p.from, p.to), phase("redis", p.from, p.to)
		fmt.Fprintf(&b, "| %s, median | %.0f ms | %.0f ms | %.2f |\n", p.label, gp, rp, ratio(gp, rp))
	}
	fmt.Fprintf(&b, "| of which transfer to disk / load, median | %.0f / %.0f ms | %.0f / %.0f ms | |\n",
		phase("redgo", 0, 1), phase("redgo", 1, 2), phase("redis", 0, 1), phase("redis", 1, 2))
	gu, ru := res["redgo"][0].usedMem, res["redis"][0].usedMem
	fmt.Fprintf(&b, "| master used_memory | %s | %s | |\n", mb(gu), mb(ru))
	fmt.Fprintf(&b, "| replica RSS when in sync (first round) | %s | %s | |\n\n", mb(res["redgo"][0].replRSS), mb(res["redis"][0].replRSS))
	fmt.Fprintf(&b, "Per round (ms): redgo %s; redis %s.\n\n", joinMs(g), joinMs(r))
	fmt.Fprintf(&b, "Reading: the time covers the master producing the snapshot, sending it and the replica loading\n")
	fmt.Fprintf(&b, "it, on a 2-core machine where master and replica share the cores. Redis's master streams the\n")
	fmt.Fprintf(&b, "snapshot into the socket as its fork child produces it, and its replica (repl-diskless-load\n")
	fmt.Fprintf(&b, "disabled) writes the stream to a file, then loads it. redgo's master streams its fork-free snapshot\n")
	fmt.Fprintf(&b, "into the socket as it encodes it, and its replica does as Redis's with the same default: the\n")
	fmt.Fprintf(&b, "stream to a file (serving its old dataset meanwhile), then the load. %s In this\n", loadNote)
	fmt.Fprintf(&b, "run redgo's median full sync of %d keys took %.0f ms against Redis's %.0f ms, a ratio of %.2f (the goal\n", *replsyncKeys, gm, rm, ratio(gm, rm))
	fmt.Fprintf(&b, "is <= 1.0).\n")
	b.WriteString(replsyncEnd + "\n")
	return b.String()
}

// loadAvg is the 1-minute load average (from /proc/loadavg).
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func joinMs(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strings.Join(s, ", ")
}
