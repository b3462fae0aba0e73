package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The CPU comparison (performance issue, goals 1 and 3), in one run:
//   - CPU time per request of each server for a set of commands, no
//     pipeline and -P 16, 16-byte and 1 KiB values (the server process's
//     utime+stime from /proc before and after each redis-benchmark run);
//   - a 6-master cluster of each kind driven by redis-benchmark --cluster:
//     throughput and p99;
//   - one redgo node with GOMAXPROCS 1, 2 and 4 against one redis-server
//     with io-threads 1 and 2 (the curve over cores; on a bigger machine
//     the same flags give more points with -cpu-procs).
// Its section of docs/benchmarks.md sits between markers so that
// `go run ./bench -cpu` rewrites only its part.

var (
	cpuOnly   = flag.Bool("cpu", false, "run only the CPU per request, 6-master cluster and cores comparison and update its section of the report")
	cpuRounds = flag.Int("cpu-rounds", 3, "alternating rounds per server in the CPU comparison (medians are reported)")
	cpuN      = flag.Int("cpu-n", 100000, "requests per test at -P 1 in the CPU comparison (5x that at -P 16)")
	cpuProcs  = flag.String("cpu-procs", "1,2,4", "GOMAXPROCS values of redgo in the cores comparison")
)

const (
	cpuBegin = "<!-- cpu:begin -->"
	cpuEnd   = "<!-- cpu:end -->"
)

// cpuTest is one row: a redis-benchmark -t test, or a custom command.
type cpuTest struct {
	name string
	t    string   // redis-benchmark -t name, or ""
	cmd  []string // custom command when t is ""
	div  int      // the requests are -cpu-n / div (big replies), 1 when 0
}

// cpuTests are run in this order on a flushed server: LPUSH fills the list
// LRANGE and LPOP read, ZADD the sorted set ZRANGE reads, SET the keys GET
// and MGET read.
var cpuTests = []cpuTest{
	{name: "SET", t: "set"},
	{name: "GET", t: "get"},
	{name: "MSET (10 keys)", t: "mset", div: 2},
	{name: "MGET (10 keys)", div: 2, cmd: []string{"MGET", "key:__rand_int__", "key:__rand_int__", "key:__rand_int__", "key:__rand_int__",
		"key:__rand_int__", "key:__rand_int__", "key:__rand_int__", "key:__rand_int__", "key:__rand_int__", "key:__rand_int__"}},
	{name: "INCR", t: "incr"},
	{name: "LPUSH", t: "lpush"},
	{name: "LRANGE_100", cmd: []string{"LRANGE", "mylist", "0", "99"}, div: 10},
	{name: "LPOP", t: "lpop"},
	{name: "HSET", t: "hset"},
	{name: "SADD", t: "sadd"},
	{name: "ZADD", t: "zadd"},
	{name: "ZRANGE (10)", cmd: []string{"ZRANGE", "myzset", "0", "9"}},
}

// benchResult is one redis-benchmark run.
type benchResult struct {
	rps, p99 float64 // requests/s, p99 latency in ms
	cpuUs    float64 // server CPU per request, microseconds (0 when not measured)
}

// benchRun runs redis-benchmark with args (plus -p port, --csv) and
// returns its first result line.
func benchRun(port int, args []string) benchResult {
	all := append([]string{"-p", strconv.Itoa(port), "--csv"}, args...)
	out, err := exec.Command("redis-benchmark", all...).Output()
	if err != nil {
		fail("redis-benchmark %v: %v\n%s", all, err, out)
	}
	// --cluster prints the cluster's masters before the CSV lines.
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "\"") {
			lines = append(lines, l)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(strings.Join(lines, "\n"))).ReadAll()
	if err != nil {
		fail("redis-benchmark csv: %v\n%s", err, out)
	}
	for _, rec := range recs {
		if len(rec) < 7 || rec[0] == "test" {
			continue
		}
		rps, _ := strconv.ParseFloat(rec[1], 64)
		p99, _ := strconv.ParseFloat(rec[6], 64)
		return benchResult{rps: rps, p99: p99}
	}
	fail("redis-benchmark output: %s", out)
	return benchResult{}
}

// cpuTicks is the process's user+system CPU time in clock ticks (1/100 s).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// cpuOne runs test t against s and measures the server's CPU per request.
func cpuOne(s *server, t cpuTest, n, pipeline, size int) benchResult {
	n /= max(t.div, 1)
	args := []string{"-c", strconv.Itoa(*clients), "-n", strconv.Itoa(n), "-P", strconv.Itoa(pipeline),
		"-d", strconv.Itoa(size), "-r", "100000"}
	if t.t != "" {
		args = append(args, "-t", t.t)
	} else {
		args = append(args, t.cmd...)
	}
	pid := s.cmd.Process.Pid
	before := cpuTicks(pid)
	r := benchRun(s.port, args)
	r.cpuUs = float64(cpuTicks(pid)-before) * 1e4 / float64(n) // 1 tick = 10 ms
	return r
}

type cpuKey struct {
	test           string
	pipeline, size int
}

// cpuSection runs the three comparisons and returns the markdown.
func cpuSection(bin string) string {
	rounds, n := *cpuRounds, *cpuN
	if *quick {
		rounds, n = 1, 30000
	}
	load0 := loadAvg()
	type cfg struct{ pipeline, size, n int }
	cfgs := []cfg{{1, 16, n}, {16, 16, 5 * n}, {1, 1024, n}, {16, 1024, 5 * n}}
	res := map[string]map[cpuKey][]benchResult{"redgo": {}, "redis": {}}
	for r := 0; r < rounds; r++ {
		for _, name := range []string{"redgo", "redis"} {
			s := start(name, serverBin(name, bin))
			for _, c := range cfgs {
				s.cli("FLUSHALL")
				for _, t := range cpuTests {
					k := cpuKey{t.name, c.pipeline, c.size}
					res[name][k] = append(res[name][k], cpuOne(s, t, c.n, c.pipeline, c.size))
				}
			}
			s.stop()
		}
		fmt.Fprintf(os.Stderr, "cpu: round %d/%d\n", r+1, rounds)
	}
	var b strings.Builder
	b.WriteString(cpuBegin + "\n")
	b.WriteString("## CPU per request, 6-master cluster, cores\n\n")
	b.WriteString(producedBy("cpu"))
	fmt.Fprintf(&b, "Load average %s at the start. The machine is shared and noisy: read the ratios.\n\n", load0)
	fmt.Fprintf(&b, "### CPU time per request (server process, µs)\n\n")
	fmt.Fprintf(&b, "redis-benchmark -c %d -r 100000, -n %d at -P 1 and %d at -P 16, against one server of each kind (no\n", *clients, n, 5*n)
	fmt.Fprintf(&b, "persistence); the server's utime+stime from /proc/PID/stat before and after each test, divided by the\n")
	fmt.Fprintf(&b, "requests (MSET and MGET run half as many, LRANGE_100 a tenth: their replies or requests are ten times\n")
	fmt.Fprintf(&b, "bigger). %d alternating rounds (a fresh server each), medians. Goal: CPU ratio <= 1.0.\n\n", rounds)
	b.WriteString("| test | pipeline | value | redgo µs | redis µs | **CPU redgo/redis** | throughput redgo/redis |\n|---|---|---|---|---|---|---|\n")
	met, total := 0, 0
	for _, c := range cfgs {
		for _, t := range cpuTests {
			k := cpuKey{t.name, c.pipeline, c.size}
			g, d := res["redgo"][k], res["redis"][k]
			gc, dc := median(field(g, cpuField)), median(field(d, cpuField))
			cr := ratio(gc, dc)
			total++
			if cr <= 1.0 {
				met++
			}
			fmt.Fprintf(&b, "| %s | %d | %d B | %.1f | %.1f | **%.2f** | %.2f |\n", t.name, c.pipeline, c.size, gc, dc, cr,
				ratio(median(field(g, rpsField)), median(field(d, rpsField))))
		}
	}
	fmt.Fprintf(&b, "\nCPU ratio <= 1.0 in %d of %d rows.\n\n", met, total)
	b.WriteString(clusterCompare(bin, rounds, n))
	b.WriteString(coresCompare(bin, rounds, n))
	b.WriteString(cpuEnd + "\n")
	return b.String()
}

const (
	rpsField = iota
	p99Field
	cpuField
)

func field(rs []benchResult, f int) []float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, [...]float64{r.rps, r.p99, r.cpuUs}[f])
	}
	return v
}

// clusterCompare drives a 6-master cluster of each kind with
// redis-benchmark --cluster (SET and GET, -d 100) and reports throughput
// and p99.
func clusterCompare(bin string, rounds, n int) string {
	type key struct {
		test     string
		pipeline int
	}
	res := map[string]map[key][]benchResult{"redgo": {}, "redis": {}}
	for r := 0; r < rounds; r++ {
		for _, name := range []string{"redgo", "redis"} {
			nodes := mastersCluster(name, bin, 6)
			for _, p := range []int{1, 16} {
				for _, t := range []string{"set", "get"} {
					args := []string{"--cluster", "-c", strconv.Itoa(*clients), "-n", strconv.Itoa(n * p / 4 * 2),
						"-P", strconv.Itoa(p), "-d", "100", "-r", "100000", "-t", t}
					k := key{strings.ToUpper(t), p}
					res[name][k] = append(res[name][k], benchRun(nodes[0].port, args))
				}
			}
			for _, s := range nodes {
				s.stop()
			}
		}
		fmt.Fprintf(os.Stderr, "cpu: cluster round %d/%d\n", r+1, rounds)
	}
	var b strings.Builder
	b.WriteString("### A 6-master cluster on this machine\n\n")
	fmt.Fprintf(&b, "Six nodes of each kind (cluster-enabled, no replicas, no persistence) made with redis-cli --cluster create;\n")
	fmt.Fprintf(&b, "`redis-benchmark --cluster -c %d -d 100 -r 100000`; %d alternating rounds, medians. Goal: throughput ratio\n", *clients, rounds)
	b.WriteString(">= 1.0 with p99 ratio <= 1.0.\n\n")
	b.WriteString("| test | pipeline | redgo req/s | redis req/s | **throughput redgo/redis** | redgo p99 ms | redis p99 ms | **p99 redgo/redis** |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range []int{1, 16} {
		for _, t := range []string{"SET", "GET"} {
			k := key{t, p}
			g, d := res["redgo"][k], res["redis"][k]
			gr, dr := median(field(g, rpsField)), median(field(d, rpsField))
			gp, dp := median(field(g, p99Field)), median(field(d, p99Field))
			fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | **%.2f** | %.3f | %.3f | **%.2f** |\n", t, p, gr, dr, ratio(gr, dr), gp, dp, ratio(gp, dp))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// mastersCluster starts n cluster nodes of kind name, joins them as n
// masters with redis-cli --cluster create and waits for cluster_state:ok
// on every node.
func mastersCluster(name, bin string, n int) []*server {
	var nodes []*server
	args := []string{"--cluster", "create"}
	for _, p := range clusterPorts(n) {
		s := startOn(name, serverBin(name, bin), p, "--cluster-enabled", "yes", "--cluster-node-timeout", "5000")
		nodes = append(nodes, s)
		args = append(args, s.addr())
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := runOut("redis-cli", args...); err != nil {
		fail("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitClusterOK(name, nodes)
	return nodes
}

// waitClusterOK waits (60 s at most) until every node of a new cluster
// says cluster_state:ok and knows all the others.
func waitClusterOK(name string, nodes []*server) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok := true
		for _, s := range nodes {
			f := cliFields(s, "CLUSTER", "INFO")
			if f["cluster_state"] != "ok" || f["cluster_known_nodes"] != strconv.Itoa(len(nodes)) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			fail("%s cluster not ready", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// coresCompare runs one redgo node at each GOMAXPROCS of -cpu-procs and
// one redis-server with io-threads 1 and 2 (reads too), GET and SET at
// -c 50 without a pipeline.
func coresCompare(bin string, rounds, n int) string {
	type setup struct {
		label, name string
		env         []string
		extra       []string
	}
	var setups []setup
	for _, p := range strings.Split(*cpuProcs, ",") {
		p = strings.TrimSpace(p)
		setups = append(setups, setup{"redgo GOMAXPROCS=" + p, "redgo", []string{"GOMAXPROCS=" + p}, nil})
	}
	setups = append(setups,
		setup{"redis io-threads 1", "redis", nil, nil},
		setup{"redis io-threads 2", "redis", nil, []string{"--io-threads", "2", "--io-threads-do-reads", "yes"}})
	res := map[string]map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for _, su := range setups {
			s := startEnv(su.name, serverBin(su.name, bin), su.env, su.extra...)
			if res[su.label] == nil {
				res[su.label] = map[string][]float64{}
			}
			for _, t := range []string{"set", "get"} {
				args := []string{"-c", strconv.Itoa(*clients), "-n", strconv.Itoa(n), "-d", "16", "-r", "100000", "-t", t, "--threads", "2"}
				res[su.label][t] = append(res[su.label][t], benchRun(s.port, args).rps)
			}
			s.stop()
		}
		fmt.Fprintf(os.Stderr, "cpu: cores round %d/%d\n", r+1, rounds)
	}
	var b strings.Builder
	b.WriteString("### One node over cores\n\n")
	fmt.Fprintf(&b, "One server; `redis-benchmark -c %d -n %d -d 16 -r 100000 --threads 2`; %d alternating rounds, medians; the\n", *clients, n, rounds)
	fmt.Fprintf(&b, "machine has %d cores, shared with the benchmark client. Ratios are to redis-server with io-threads 1.\n", runtime.NumCPU())
	b.WriteString("Goal on 2 cores: >= 1.5 at GOMAXPROCS 2.\n\n")
	b.WriteString("| server | SET req/s | GET req/s | **SET ratio** | **GET ratio** |\n|---|---|---|---|---|\n")
	base := res["redis io-threads 1"]
	for _, su := range setups {
		s, g := median(res[su.label]["set"]), median(res[su.label]["get"])
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | **%.2f** | **%.2f** |\n", su.label, s, g, ratio(s, median(base["set"])), ratio(g, median(base["get"])))
	}
	b.WriteString("\n")
	return b.String()
}
