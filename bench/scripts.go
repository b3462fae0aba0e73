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
	tests := []string{"EVALSHA (GET+INCR+EXPIRE)", "FCALL (GET+INCR+EXPIRE)"}
	all := map[string]map[string][]float64{"redgo": {}, "redis": {}, "before": {}}
	names := []string{"redgo", "redis"}
	if *scriptsBefore != "" {
		names = []string{"before", "redgo", "redis"}
	}
	sha := ""
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
				if strings.HasPrefix(test, "FCALL") {
					args = []string{"FCALL", "bump", "1", "key:__rand_int__"}
				}
				all[name][test] = append(all[name][test], benchCommand(s, n, args))
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
	b.WriteString("Outside cluster mode a script holds every shard (it may touch any key), so scripts run one at a time, as\n")
	b.WriteString("in Redis. The machine is shared and noisy: read the ratios, not the absolute numbers.\n\n")
	if *scriptsBefore != "" {
		b.WriteString("\"before\" is redgo built from the commit before the scripting speed work, measured in the same rounds.\n\n")
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
	b.WriteString(scriptsNotes)
	b.WriteString(scriptsEnd + "\n")
	return b.String()
}

// scriptsNotes is what the numbers above rest on: what was cut from a
// script call's cost, and what was tried without paying.
const scriptsNotes = `
Where a call's time goes (pprof of redgo under this load): about 40% in the read and write system
calls of the connection (one of each per request, as for any command), about 30% in the script:
gopher-lua's loop, the three redis.call (argument conversion, the command lookup and checks, the
command itself, the reply's conversion) and the lock of all 64 shards; the rest is the server's
request path and the garbage collector. ` + "`go test -bench Evalsha ./internal/scripting`" + ` measures the engine's
part alone (a host that answers without running anything).

Cut (BenchmarkEvalsha 3.0 -> 1.95 us and 21 -> 15 allocations per call, engine only; the server
side lost six allocations per EVALSHA: the Ctx of each command, the host, the database map, the
SHA1's lower-case copy): a whole number argument (EXPIRE's 100) is formatted with
strconv.AppendInt instead of the %.17g routine; redis.call's arguments share one buffer; a
reply's small integers are preboxed Lua numbers and parsed without a string; the script's host and
the commands.Ctx of its commands come from a pool (the Ctx escaped to the heap for each command);
the script's database is a field, not a map; EVALSHA looks a lower-case SHA1 up without a copy.

Tried without paying, or left: reusing one argument buffer for read-only commands (one call of
the three here, and it needs every read-only command to promise never to keep an argument: left
out as a risk for two allocations); KEYS/ARGV tables reused between calls (a
script may keep them, and they are two of the 15 allocations); the read-only proxies of the
sandbox cost two map lookups per global or library field (redis.call is four), but a table
without a proxy cannot refuse a write to an existing global in gopher-lua; the per-instruction
context check of gopher-lua (needed by SCRIPT KILL and the debugger) is a non-blocking channel
receive, a small part of a 20-instruction script. The shard locks (64 lock/unlock pairs per
script, about 4% of the server's time here) and the connection's system calls are shared with
every command and are the performance issue's, not the scripting engine's.
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
