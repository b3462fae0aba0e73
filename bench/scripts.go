package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The scripting comparison (Lua scripting issue): EVALSHA of a small
// script (GET + INCR + EXPIRE) and FCALL of the same function, on both
// servers, redis-benchmark -c 50. Its section of docs/benchmarks.md sits
// between markers so `go run ./bench -scripts` rewrites only its part.

var (
	scriptsOnly   = flag.Bool("scripts", false, "run only the EVALSHA/FCALL comparison and update its section of the report")
	scriptsRounds = flag.Int("scripts-rounds", 3, "alternating rounds per server for the EVALSHA/FCALL comparison")
	scriptsN      = flag.Int("scripts-n", 200000, "requests per test in the EVALSHA/FCALL comparison")
	scriptsBefore = flag.String("scripts-before", "", "a redgo binary built from an earlier commit, measured in the same rounds (a before/after column)")
)

const (
	scriptsBase  = "GET (no script)"
	scriptsBegin = "<!-- scripts:begin -->"
	scriptsEnd   = "<!-- scripts:end -->"

	benchScript = "local v = redis.call('GET', KEYS[1]) redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 100) return v"
	benchLib    = "#!lua name=benchlib\nredis.register_function('bump', function(keys) local v = redis.call('GET', keys[1]) redis.call('INCR', keys[1]) redis.call('EXPIRE', keys[1], 100) return v end)"
)

// scriptsSection runs the comparison and returns its markdown (with markers).
func scriptsSection(bin string) string {
	n, rounds := *scriptsN, *scriptsRounds
	if *quick {
		n, rounds = 30000, 1
	}
	// GET is the request path without a script, measured in the same
	// rounds: what a script call shares with every command.
	tests := []string{"EVALSHA (GET+INCR+EXPIRE)", "FCALL (GET+INCR+EXPIRE)", scriptsBase}
	all := map[string]map[string][]float64{"redgo": {}, "redis": {}, "before": {}}
	cpu := map[string]map[string][]float64{"redgo": {}, "redis": {}, "before": {}} // server CPU per request, us
	names := []string{"redgo", "redis"}
	if *scriptsBefore != "" {
		names = []string{"before", "redgo", "redis"}
	}
	sha := ""
	load0 := loadAvg()
	for r := 0; r < rounds; r++ {
		for _, name := range names {
			var s *server
			if name == "before" {
				s = start("redgo", *scriptsBefore)
			} else {
				s = start(name, serverBin(name, bin))
			}
			time.Sleep(200 * time.Millisecond)
			sha = strings.TrimSpace(s.cli("SCRIPT", "LOAD", benchScript))
			s.cli("FUNCTION", "LOAD", benchLib)
			for _, test := range tests {
				args := []string{"EVALSHA", sha, "1", "key:__rand_int__"}
				switch {
				case strings.HasPrefix(test, "FCALL"):
					args = []string{"FCALL", "bump", "1", "key:__rand_int__"}
				case test == scriptsBase:
					args = []string{"GET", "key:__rand_int__"}
				}
				pid := s.cmd.Process.Pid
				before := cpuTicks(pid)
				all[name][test] = append(all[name][test], benchCommand(s, n, args))
				cpu[name][test] = append(cpu[name][test], float64(cpuTicks(pid)-before)*1e4/float64(n)) // 1 tick = 10 ms
			}
			s.stop()
		}
		fmt.Fprintf(os.Stderr, "scripts: round %d/%d\n", r+1, rounds)
	}
	var b strings.Builder
	b.WriteString(scriptsBegin + "\n")
	b.WriteString("## Lua scripts and functions (requests/s)\n\n")
	b.WriteString(producedBy("scripts"))
	fmt.Fprintf(&b, "redis-benchmark -c %d -n %d -r 100000, %d alternating rounds (", *clients, n, rounds)
	if *scriptsBefore != "" {
		b.WriteString("redgo before, ")
	}
	b.WriteString("redgo, redis-server), a fresh server each time; the medians of the rounds, and\n")
	b.WriteString("the lowest and highest of the rounds' own redgo/redis ratios. The script:\n")
	fmt.Fprintf(&b, "`%s` (EVALSHA of the cached script; FCALL of the same body registered as a function).\n", benchScript)
	b.WriteString("Outside cluster mode a script locks its declared key's shard and the shards of other keys as it touches\n")
	b.WriteString("them, one script at a time (the keyspace's serial lock), as Redis runs one at a time. GET, in the same\n")
	b.WriteString("rounds, is the request path without a script. The machine is shared and noisy: read the ratios, not the\n")
	fmt.Fprintf(&b, "absolute numbers. Its load average was %s at the start and %s at the end of the run.\n\n", load0, loadAvg())
	if *scriptsBefore != "" {
		b.WriteString("\"before\" is redgo built from the binary given with -scripts-before (an earlier commit), measured in the same rounds.\n\n")
		b.WriteString("| test | redgo before | redgo | redis | before/redis | **redgo/redis** | rounds' redgo/redis |\n|---|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| test | redgo | redis | **redgo/redis** | rounds' redgo/redis |\n|---|---|---|---|---|\n")
	}
	for _, test := range tests {
		g, r := all["redgo"][test], all["redis"][test]
		lo, hi := 0.0, 0.0
		for i := range g {
			x := ratio(g[i], r[i])
			if i == 0 || x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
		if *scriptsBefore != "" {
			o := median(all["before"][test])
			fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.0f | %.2f | **%.2f** | %.2f-%.2f |\n", test, o, median(g), median(r),
				ratio(o, median(r)), ratio(median(g), median(r)), lo, hi)
			continue
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | **%.2f** | %.2f-%.2f |\n", test, median(g), median(r), ratio(median(g), median(r)), lo, hi)
	}
	b.WriteString("\nThe server's CPU time per request (utime+stime from /proc/PID/stat before and after each test, the\n")
	b.WriteString("medians of the rounds, microseconds): less sensitive to the other load of the machine than the rates.\n")
	b.WriteString("When other processes load both cores, redgo's threads get a bigger share of them than Redis's one\n")
	b.WriteString("thread, and its rate gains on Redis's without its work per request changing: this figure compares the work.\n\n")
	if *scriptsBefore != "" {
		b.WriteString("| test | redgo before | redgo | redis | before/redis | **redgo/redis** |\n|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| test | redgo | redis | **redgo/redis** |\n|---|---|---|---|\n")
	}
	for _, test := range tests {
		g, r := median(cpu["redgo"][test]), median(cpu["redis"][test])
		if *scriptsBefore != "" {
			o := median(cpu["before"][test])
			fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.2f | **%.2f** |\n", test, o, g, r, ratio(o, r), ratio(g, r))
			continue
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | **%.2f** |\n", test, g, r, ratio(g, r))
	}
	b.WriteString("\nA script call's own CPU time (the call's minus GET's, per round, then the median): what the\n")
	b.WriteString("script adds to the request path on each server.\n\n")
	b.WriteString("| test | redgo | redis | **redgo/redis** |\n|---|---|---|---|\n")
	for _, test := range tests[:2] {
		own := func(name string) float64 {
			var d []float64
			for i := range cpu[name][test] {
				d = append(d, cpu[name][test][i]-cpu[name][scriptsBase][i])
			}
			return median(d)
		}
		g, r := own("redgo"), own("redis")
		fmt.Fprintf(&b, "| %s minus GET | %.1f | %.1f | **%.2f** |\n", strings.SplitN(test, " ", 2)[0], g, r, ratio(g, r))
	}
	b.WriteString(scriptsNotes)
	b.WriteString(scriptsEnd + "\n")
	return b.String()
}

// scriptsNotes is what the numbers above rest on: what was cut from a
// script call's cost, and what was tried without paying.
const scriptsNotes = `
Where a call's time goes (pprof of redgo under this load, EVALSHA and FCALL, after the third
round): about 41% in the system calls of the connection (the read and the write of each request,
as for any command, plus the read that finds nothing before the goroutine parks, and the
scheduler's epoll), 29% in the script: gopher-lua's loop (23%), within it the three redis.call
(17%: argument conversion, the command lookup and checks, the command itself, the reply's
conversion), the sandbox's global lookups (2%) and the locks (under 1%); the garbage collector
and allocation about 15%, the scheduler's search for work 7%. GET's row above is the same request
path without a script: the gap to Redis there is the gap of every command (the -P 1 rows of
` + "`bench -cpu`" + `), and it is most of the gap of the script rows. ` + "`go test -bench ScriptCalls ./internal/server`" + `
measures the server's side of a call without the sockets, ` + "`go test -bench Evalsha ./internal/scripting`" + `
the engine alone (a host that answers without running anything).

Cut in the third round: outside cluster mode a script no longer takes and releases the 64 shard
locks (8-11% of BenchmarkScriptCalls's time, about 5% of the server's under redis-benchmark): it
takes the keyspace's serial lock and its declared keys' shard, and the shard of any other key
when a command of the script first touches it (two-phase locking, so it stays atomic; no
deadlock, since only the serial lock's holder waits for a shard out of order and every
multi-shard lock takes the serial lock first; TestScriptUndeclaredKeyAtomic); Propagate of a
short command (the script's EXPIRE as PEXPIREAT) makes one allocation instead of three
(BenchmarkScriptCalls: EVALSHA 7 -> 5 allocations per call, FCALL 10 -> 8); redis.call's
arguments are carved from chunks of the Lua state, never reused, instead of arrays in each Run
(a Run is 256 bytes instead of 640; 928 -> 785 bytes allocated per EVALSHA, 1055 -> 912 per FCALL).

Cut in the second round (BenchmarkScriptCalls: EVALSHA 22 -> 7 allocations per call, FCALL 22 ->
10; the test process's CPU time per call, alternating with a build of the earlier commit, about
8.0 -> 6.2 us for each): a script's commands read only the monotonic clock (their time is fixed
by the script), and the script's start is EVAL's own; the run's reply buffer belongs to its Lua
state; redis.call's arguments are carved from arrays in the Run, then from buffers of the run;
an EVAL state's KEYS and ARGV tables are refilled for the next run while the last script left
them plain arrays (no script can tell: nothing an EVAL script does outlives its run); EXPIRE's
propagated PEXPIREAT is built on the stack and Propagate copies into one buffer; EVAL's key
positions are a shared array; the script's database view lives in its host; EXPIRE of a key that
already has an expiry changes the time without a map assignment.

Cut in the first round (BenchmarkEvalsha 3.0 -> 1.95 us and 21 -> 15 allocations per call,
engine only; the server side lost six allocations per EVALSHA): a whole number argument (EXPIRE's
100) is formatted with strconv.AppendInt instead of the %.17g routine; a reply's small integers
are preboxed Lua numbers and parsed without a string; the script's host and the commands.Ctx of
its commands come from a pool; the script's database is a field, not a map; EVALSHA looks a
lower-case SHA1 up without a copy.

Tried without paying, or left: a function's keys and arguments stay new tables for each call (a
library's upvalues may keep them); the read-only proxies of the sandbox cost two map lookups per
global or library field (redis.call is four), but a table without a proxy cannot refuse a write
to an existing global in gopher-lua; the per-instruction context check of gopher-lua (needed by
SCRIPT KILL and the debugger) is a non-blocking channel receive; a Run is not reused, since the
busy-script watchdog may still read the last one. The read that finds nothing before a connection's goroutine parks cannot be skipped with
Go's poller (it forgets a readiness it saw before the next read starts); the collector's share
follows the memory governor's room (internal/memlimit: a tenth of the live heap, at least 8 MB).
`

// benchCommand runs redis-benchmark with one custom command and returns
// its requests per second.
func benchCommand(s *server, n int, args []string) float64 {
	all := append([]string{"-p", strconv.Itoa(s.port), "-c", strconv.Itoa(*clients), "-n", strconv.Itoa(n),
		"-r", "100000", "--csv"}, args...)
	out, err := exec.Command("redis-benchmark", all...).Output()
	if err != nil {
		fail("redis-benchmark against %s: %v\n%s", s.name, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ",")
		if len(f) >= 2 && !strings.Contains(f[0], "test") {
			if v, err := strconv.ParseFloat(strings.Trim(f[1], "\""), 64); err == nil {
				return v
			}
		}
	}
	fail("redis-benchmark output: %s", out)
	return 0
}
