// Command bench runs redgo and redis-server side by side with the same
// settings and drives both with redis-benchmark, then prints (and writes to
// docs/benchmarks.md) a table of redgo/redis ratios. Both servers run in
// the same run on the same machine, alternately per test, so machine noise
// affects both alike; the ratio is what counts.
//
//	go run ./bench                 # full run, writes docs/benchmarks.md
//	go run ./bench -quick          # fewer requests, no file written
//	go run ./bench -aof            # appendfsync always writes only (its section of the report)
//	go run ./bench -bgsave         # BGSAVE pause and memory at ~1 GB (its section of the report)
//	go run ./bench -failover       # unavailability after kill -9 of a cluster master (its section)
//	go run ./bench -replsync       # full sync of 1M keys to a new replica (its section)
//	go run ./bench -replwrite      # write throughput with and without a replica (its section)
//	go run ./bench -geo            # GEOADD and GEOSEARCH throughput (its section)
//	go run ./bench -streams        # XADD, XREADGROUP+XACK throughput and memory per entry (its section)
//	go run ./bench -cpu            # CPU per request, a 6-master cluster, one node over cores (its section)
//	go run ./bench -memory         # RSS per key: 1M strings, hashes/sets/zsets/lists of 10/100/1000 (its section)
//	go run ./bench -reshard        # moving 2000 slots / 200,000 keys: redis-cli reshard vs MIGRATESLOTS (its section)
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	quick   = flag.Bool("quick", false, "fewer requests; do not write docs/benchmarks.md")
	out     = flag.String("out", "docs/benchmarks.md", "markdown report path")
	repeat  = flag.Int("repeat", 2, "runs per case; the best of each server is kept")
	keysN   = flag.Int("keys", 1000000, "keys for the memory test")
	clients = flag.Int("c", 50, "redis-benchmark clients")
	only    = flag.String("t", "get,set,incr,lpush,lrange_100,hset,zadd,mset", "redis-benchmark tests")
)

// server is one running server process.
type server struct {
	name string
	cmd  *exec.Cmd
	port int
	dir  string
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(name, bin string, extra ...string) *server {
	return startOn(name, bin, freePort(), extra...)
}

// startOn starts server name ("redgo" or "redis") from bin on port, with
// the common settings (no persistence, DEBUG allowed, a log file in its own
// directory) followed by extra, and waits until it accepts connections.
func startOn(name, bin string, port int, extra ...string) *server {
	return startProc(name, bin, port, nil, extra...)
}

// startEnv starts a server as start does, with env added to its environment.
func startEnv(name, bin string, env []string, extra ...string) *server {
	return startProc(name, bin, freePort(), env, extra...)
}

func startProc(name, bin string, port int, env []string, extra ...string) *server {
	s := tryStartProc(name, bin, port, env, extra...)
	if s == nil {
		fail("%s did not start", name)
	}
	return s
}

// tryStartProc is startProc that returns nil when the server does not
// accept connections within 4 s (a port taken meanwhile by another
// process's connection: the machine is shared); it is stopped then.
func tryStartProc(name, bin string, port int, env []string, extra ...string) *server {
	dir, _ := os.MkdirTemp("", "bench-"+name)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--enable-debug-command", "yes", "--logfile", filepath.Join(dir, "log")}
	args = append(args, extra...)
	if name == "redgo" {
		args = append([]string{"server"}, args...)
	}
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		fail("start %s: %v", name, err)
	}
	s := &server{name: name, cmd: cmd, port: port, dir: dir}
	runningMu.Lock()
	running = append(running, s)
	runningMu.Unlock()
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", s.addr()); err == nil {
			c.Close()
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	return nil
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		s.kill()
	}
	os.RemoveAll(s.dir)
}

// kill sends SIGKILL and reaps the process; its directory (and log) stay
// until stop.
func (s *server) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// log returns the server's log file.
func (s *server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	return string(b)
}

func (s *server) cli(args ...string) string {
	a := append([]string{"-p", strconv.Itoa(s.port)}, args...)
	b, err := exec.Command("redis-cli", a...).CombinedOutput()
	if err != nil {
		fail("redis-cli %v: %v %s", args, err, b)
	}
	return string(b)
}

func (s *server) info(field string) int64 {
	for _, l := range strings.Split(s.cli("INFO", "memory"), "\n") {
		if strings.HasPrefix(l, field+":") {
			v, _ := strconv.ParseInt(strings.TrimSpace(l[len(field)+1:]), 10, 64)
			return v
		}
	}
	return 0
}

// rss reads the resident set size of the process from /proc.
func (s *server) rss() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			f := strings.Fields(sc.Text())
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// running is every server started, so an error or a signal stops them all.
var (
	runningMu sync.Mutex
	running   []*server
)

func stopAll() {
	runningMu.Lock()
	defer runningMu.Unlock()
	for _, s := range running {
		s.stop()
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	stopAll()
	os.Exit(1)
}

// runBench runs redis-benchmark and returns requests/s per test.
func runBench(s *server, tests string, n, pipeline, size int) map[string]float64 {
	args := []string{"-p", strconv.Itoa(s.port), "-c", strconv.Itoa(*clients), "-n", strconv.Itoa(n),
		"-P", strconv.Itoa(pipeline), "-d", strconv.Itoa(size), "-t", tests, "-r", "100000", "--csv"}
	cmd := exec.Command("redis-benchmark", args...)
	b, err := cmd.Output()
	if err != nil {
		fail("redis-benchmark against %s: %v\n%s", s.name, err, b)
	}
	res := map[string]float64{}
	r := csv.NewReader(strings.NewReader(string(b)))
	recs, err := r.ReadAll()
	if err != nil {
		fail("parse csv: %v\n%s", err, b)
	}
	for _, rec := range recs {
		if len(rec) < 2 || rec[0] == "test" {
			continue
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err == nil {
			res[rec[0]] = v
		}
	}
	return res
}

type row struct {
	test         string
	pipeline     int
	size         int
	redgo, redis float64
}

func main() {
	flag.Parse()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fail("interrupted")
	}()
	for _, tool := range []string{"redis-server", "redis-benchmark", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			fail("%s not found: apt-get install -y redis-server redis-tools", tool)
		}
	}
	// One binary per run: two runs at once (other sessions on the machine)
	// must not replace each other's servers.
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("redgo-bench-bin-%d", os.Getpid()))
	defer os.Remove(bin)
	build := exec.Command("go", "build", "-o", bin, "./cmd/redgo")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fail("go build: %v", err)
	}
	ran := false
	for _, sc := range sections {
		if !*sc.only {
			continue
		}
		sec := sc.run(bin)
		fmt.Print(sec)
		if !*quick {
			if err := spliceSection(*out, sc.begin, sc.end, sec); err != nil {
				fail("write %s: %v", *out, err)
			}
		}
		ran = true
	}
	if ran {
		return
	}
	rg := start("redgo", bin)
	rd := start("redis", "redis-server")

	var rows []row
	type cfg struct{ pipeline, size, n int }
	cfgs := []cfg{{1, 16, 100000}, {16, 16, 1000000}, {1, 1024, 100000}, {16, 1024, 500000}}
	if *quick {
		cfgs = []cfg{{1, 16, 50000}, {16, 16, 300000}}
	}
	for _, c := range cfgs {
		best := map[string]map[string]float64{"redgo": {}, "redis": {}}
		for r := 0; r < *repeat; r++ {
			for _, s := range []*server{rg, rd} {
				s.cli("FLUSHALL")
				for k, v := range runBench(s, *only, c.n, c.pipeline, c.size) {
					if v > best[s.name][k] {
						best[s.name][k] = v
					}
				}
			}
		}
		for k := range best["redis"] {
			rows = append(rows, row{test: k, pipeline: c.pipeline, size: c.size, redgo: best["redgo"][k], redis: best["redis"][k]})
		}
		fmt.Fprintf(os.Stderr, "done: -P %d -d %d\n", c.pipeline, c.size)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].pipeline != rows[j].pipeline {
			return rows[i].pipeline < rows[j].pipeline
		}
		if rows[i].size != rows[j].size {
			return rows[i].size < rows[j].size
		}
		return rows[i].test < rows[j].test
	})

	// Memory: the same 1,000,000 small keys (DEBUG POPULATE: key:N -> value:N),
	// each server started fresh so the baseline RSS is an empty server's.
	rg.stop()
	rd.stop()
	mem := map[string][3]int64{}
	for _, name := range []string{"redgo", "redis"} {
		b := serverBin(name, bin)
		s := start(name, b)
		time.Sleep(500 * time.Millisecond)
		base := s.rss()
		s.cli("DEBUG", "POPULATE", strconv.Itoa(*keysN))
		time.Sleep(2 * time.Second)
		mem[name] = [3]int64{s.info("used_memory"), s.rss(), base}
		s.stop()
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks: redgo vs redis-server\n\n")
	fmt.Fprintf(&b, "Produced by `go run ./bench` on %s (%s, %d cores, %s). redis-server: %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(),
		runtime.Version(), strings.TrimSpace(strings.SplitN(string(mustOut("redis-server", "--version")), "\n", 2)[0]))
	fmt.Fprintf(&b, "redis-benchmark -c %d -r 100000, best of %d alternating runs per server. Same settings for both\n", *clients, *repeat)
	fmt.Fprintf(&b, "(no persistence). The machine is shared and noisy: read the ratios, not the absolute numbers.\n\n")
	fmt.Fprintf(&b, "## Throughput (requests/s)\n\n| test | pipeline | value size | redgo | redis | redgo/redis |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ratio := 0.0
		if r.redis > 0 {
			ratio = r.redgo / r.redis
		}
		fmt.Fprintf(&b, "| %s | %d | %d B | %.0f | %.0f | **%.2f** |\n", r.test, r.pipeline, r.size, r.redgo, r.redis, ratio)
	}
	fmt.Fprintf(&b, "\n## Memory after DEBUG POPULATE %d (keys `key:N`, values `value:N`)\n\n", *keysN)
	fmt.Fprintf(&b, "| | used_memory | RSS | RSS growth per key |\n|---|---|---|---|\n")
	for _, name := range []string{"redgo", "redis"} {
		m := mem[name]
		fmt.Fprintf(&b, "| %s | %d MB | %d MB | %.1f B |\n", name, m[0]>>20, m[1]>>20, float64(m[1]-m[2])/float64(*keysN))
	}
	g, r := mem["redgo"], mem["redis"]
	fmt.Fprintf(&b, "| **redgo/redis** | **%.2f** | **%.2f** | **%.2f** |\n", float64(g[0])/float64(r[0]), float64(g[1])/float64(r[1]),
		float64(g[1]-g[2])/float64(r[1]-r[2]))
	fmt.Print(b.String())
	if !*quick {
		for _, sc := range sections { // each owned by its own flag
			b.WriteString(keptSection(*out, sc.begin, sc.end))
		}
		// Measured by hand: kept as written.
		for _, h := range handSections {
			b.WriteString(keptSection(*out, h[0], h[1]))
		}
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			fail("write %s: %v", *out, err)
		}
	}
}

// Sections measured by hand (comparisons of two trees, experiments): the
// full run keeps them as written.
var handSections = [][2]string{
	{"<!-- goals:begin -->", "<!-- goals:end -->"},
	{"<!-- notify-off:begin -->", "<!-- notify-off:end -->"},
	{"<!-- network-notes:begin -->", "<!-- network-notes:end -->"},
}

// sections are the parts of the report a flag runs and rewrites alone
// (between their markers); the full run keeps them as they are.
var sections = []struct {
	only       *bool
	begin, end string
	run        func(bin string) string
}{
	{aofOnly, aofBegin, aofEnd, aofSection},
	{bgsaveOnly, bgsaveBegin, bgsaveEnd, bgsaveSection},
	{failoverOnly, failoverBegin, failoverEnd, failoverSection},
	{replsyncOnly, replsyncBegin, replsyncEnd, replsyncSection},
	{replwriteOnly, replwriteBegin, replwriteEnd, replwriteSection},
	{scriptsOnly, scriptsBegin, scriptsEnd, scriptsSection},
	{geoOnly, geoBegin, geoEnd, geoSection},
	{evictOnly, evictBegin, evictEnd, evictSection},
	{streamsOnly, streamsBegin, streamsEnd, streamsSection},
	{reshardOnly, reshardBegin, reshardEnd, reshardSection},
	{cpuOnly, cpuBegin, cpuEnd, cpuSection},
	{memoryOnly, memoryBegin, memoryEnd, memorySection},
}

// serverBin is the binary for server name: bin for redgo, redis-server otherwise.
func serverBin(name, bin string) string {
	if name == "redis" {
		return "redis-server"
	}
	return bin
}

// producedBy is a section's first line: the command that made it (-name
// and the flags given whose names start with name-, or -c), the date and
// the machine.
func producedBy(name string) string {
	cmd := "go run ./bench -" + name
	flag.Visit(func(f *flag.Flag) {
		switch {
		case strings.HasSuffix(f.Name, "-before"): // a binary's path on the machine that ran it
			cmd += fmt.Sprintf(" -%s <redgo built from the earlier commit>", f.Name)
		case strings.HasPrefix(f.Name, name+"-") || f.Name == "c":
			cmd += fmt.Sprintf(" -%s %s", f.Name, f.Value)
		}
	})
	return fmt.Sprintf("Produced by `%s` on %s (%s, %d cores, %s). redis-server: %s\n",
		cmd, time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(),
		runtime.Version(), strings.TrimSpace(strings.SplitN(string(mustOut("redis-server", "--version")), "\n", 2)[0]))
}

func mustOut(name string, args ...string) []byte {
	b, _ := exec.Command(name, args...).Output()
	return b
}
