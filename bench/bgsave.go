package main

// The BGSAVE comparison (persistence issue, "Point-in-time snapshots
// without fork"): each server is filled with about 1 GB (DEBUG POPULATE),
// a write load overwrites random existing keys, and BGSAVE runs while the
// load goes on. Reported per server: the dataset size, how long the save
// took, the pause to start it (Redis: the fork, latest_fork_usec; redgo:
// every shard locked to note the instant), the longest request and the
// p99 the clients saw during the save and in an equally long window of the
// same load just before it, and the extra memory the save needed (Redis:
// the fork child's private dirty pages plus the parent's growth; redgo:
// the process's RSS growth). Its section of docs/benchmarks.md sits
// between markers so `go run ./bench -bgsave` can rewrite it alone.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	bgsaveOnly    = flag.Bool("bgsave", false, "run only the BGSAVE pause and memory comparison and update its section of the report")
	bgsaveKeys    = flag.Int("bgsave-keys", 5000000, "keys for the BGSAVE comparison (DEBUG POPULATE <n> key <size>)")
	bgsaveSize    = flag.Int("bgsave-size", 128, "value size in bytes for the BGSAVE comparison")
	bgsaveClients = flag.Int("bgsave-clients", 4, "writer clients (SET of random existing keys) during the BGSAVE comparison")
	bgsaveBase    = flag.Duration("bgsave-base", 40*time.Second, "load without a save before BGSAVE (the baseline is its last stretch as long as the save)")
)

const (
	bgsaveBegin = "<!-- bgsave:begin -->"
	bgsaveEnd   = "<!-- bgsave:end -->"
)

// rconn is a minimal RESP client: one command, one reply.
type rconn struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

func dialR(addr string) *rconn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail("dial %s: %v", addr, err)
	}
	return &rconn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

func (c *rconn) do(args ...string) (string, error) {
	b := append(c.buf[:0], '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	c.buf = b
	if _, err := c.c.Write(b); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, data); err != nil {
			return "", err
		}
		return string(data[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

func (c *rconn) must(args ...string) string {
	v, err := c.do(args...)
	if err != nil {
		fail("%v: %v", args, err)
	}
	return v
}

// infoMap returns the fields of INFO <section>.
func (c *rconn) infoMap(section string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(c.must("INFO", section), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
			m[k] = v
		}
	}
	return m
}

func atoi64(s string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v
}

// procField reads a "Name:   N kB" field of a /proc file, in bytes.
func procField(path, field string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), field+":") {
			fs := strings.Fields(sc.Text())
			if len(fs) < 2 {
				return 0
			}
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// childPIDs returns the child processes of pid (every thread's children).
func childPIDs(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// lat is one request: when it completed (ns since the load started) and
// how long it took.
type lat struct{ end, d int64 }

// loadRun is a running write load plus a PING probe.
type loadRun struct {
	t0     time.Time
	stop   atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	writes []lat
	pings  []lat
	errs   atomic.Int64
}

func startLoad(s *server, keys, size, clients int) *loadRun {
	l := &loadRun{t0: time.Now()}
	val := strings.Repeat("x", size)
	for i := 0; i < clients; i++ {
		c := dialR(s.addr())
		l.wg.Add(1)
		go func(seed uint64) {
			defer l.wg.Done()
			defer c.c.Close()
			r := rand.New(rand.NewPCG(seed, 7))
			local := make([]lat, 0, 1<<20)
			kb := []byte("key:")
			for !l.stop.Load() {
				key := string(strconv.AppendInt(kb[:4], int64(r.IntN(keys)), 10))
				t := time.Now()
				if _, err := c.do("SET", key, val); err != nil {
					l.errs.Add(1)
				}
				e := time.Now()
				local = append(local, lat{e.Sub(l.t0).Nanoseconds(), e.Sub(t).Nanoseconds()})
			}
			l.mu.Lock()
			l.writes = append(l.writes, local...)
			l.mu.Unlock()
		}(uint64(i + 1))
	}
	c := dialR(s.addr())
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer c.c.Close()
		var local []lat
		for !l.stop.Load() {
			t := time.Now()
			if _, err := c.do("PING"); err != nil {
				l.errs.Add(1)
			}
			e := time.Now()
			local = append(local, lat{e.Sub(l.t0).Nanoseconds(), e.Sub(t).Nanoseconds()})
			time.Sleep(time.Millisecond)
		}
		l.mu.Lock()
		l.pings = local
		l.mu.Unlock()
	}()
	return l
}

func (l *loadRun) finish() {
	l.stop.Store(true)
	l.wg.Wait()
}

// latStats summarizes the requests that completed in [from, to) (ns).
type latStats struct {
	n             int
	p50, p99, max time.Duration
	p999          time.Duration
	perSec        float64
	worst         []lat // the longest few, longest first
}

func window(v []lat, from, to int64) latStats {
	var ds []int64
	var in []lat
	for _, x := range v {
		if x.end >= from && x.end < to {
			ds = append(ds, x.d)
			in = append(in, x)
		}
	}
	st := latStats{n: len(ds)}
	if len(ds) == 0 {
		return st
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return time.Duration(ds[min(len(ds)-1, int(float64(len(ds))*p))]) }
	st.p50, st.p99, st.p999, st.max = q(0.5), q(0.99), q(0.999), time.Duration(ds[len(ds)-1])
	st.perSec = float64(len(ds)) / (float64(to-from) / 1e9)
	slices.SortFunc(in, func(a, b lat) int { return int(b.d - a.d) })
	st.worst = in[:min(5, len(in))]
	return st
}

// bgsaveResult is one server's figures.
type bgsaveResult struct {
	name                 string
	keys                 int
	usedMem, rdbSize     int64
	rss0, rssSave        int64 // before the load; when BGSAVE was sent
	rssBasePeak          int64 // peak during the load before BGSAVE
	rssSavePeak          int64 // peak during the save
	childPeak            int64 // Redis: peak Private_Dirty of the fork child
	childSeen            bool
	extra                int64 // the extra memory the save needed
	saveDur, reply       time.Duration
	basWin               time.Duration
	startPause           time.Duration // fork (Redis) or all shards locked (redgo)
	holdMax, holdP999    string        // redgo: the walk's longest shard lock holds
	lastCow              int64         // INFO rdb_last_cow_size
	usedPeak             int64         // peak used_memory sampled during the save (redgo: Go heap incl. garbage)
	earlyKeys            string        // redgo: keys captured before their first write
	save, base           latStats      // writers
	pingSave, pingBase   latStats      // the PING probe
	saveStart            int64         // ns since the load started
	errs                 int64
	status, populateTime string
}

var redgoRDBLine = regexp.MustCompile(`RDB: (\d+) KB of memory used by values captured before their first write \(peak; (\d+) keys captured, (\d+) remembered\) in ([0-9.]+) seconds; all shards locked (\S+) to start; shard lock held per (\d+) keys: p50<=(\S+) p99<=(\S+) p99\.9<=(\S+) max (\S+)`)

func bgsaveOne(name, bin string) bgsaveResult {
	s := start(name, bin)
	defer s.stop()
	pid := s.cmd.Process.Pid
	res := bgsaveResult{name: name, keys: *bgsaveKeys}
	ctl := dialR(s.addr())
	defer ctl.c.Close()
	t := time.Now()
	ctl.must("DEBUG", "POPULATE", strconv.Itoa(*bgsaveKeys), "key", strconv.Itoa(*bgsaveSize))
	res.populateTime = time.Since(t).Round(100 * time.Millisecond).String()
	time.Sleep(2 * time.Second)
	res.usedMem = atoi64(ctl.infoMap("memory")["used_memory"])
	res.rss0 = s.rss()
	fmt.Fprintf(os.Stderr, "bgsave: %s: %d keys populated in %s, used_memory %d MB, RSS %d MB\n",
		name, *bgsaveKeys, res.populateTime, res.usedMem>>20, res.rss0>>20)

	// Memory sampler: phase 1 is the load before the save, 2 the save.
	var phase atomic.Int32
	phase.Store(1)
	var smu sync.Mutex
	sampDone := make(chan struct{})
	var sampWG sync.WaitGroup
	sampWG.Add(1)
	go func() {
		defer sampWG.Done()
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-sampDone:
				return
			case <-tk.C:
			}
			rss := s.rss()
			p := phase.Load()
			var child int64
			seen := false
			if p == 2 && name == "redis" {
				for _, c := range childPIDs(pid) {
					child += procField(fmt.Sprintf("/proc/%d/smaps_rollup", c), "Private_Dirty")
					seen = true
				}
			}
			smu.Lock()
			switch p {
			case 1:
				res.rssBasePeak = max(res.rssBasePeak, rss)
			case 2:
				res.rssSavePeak = max(res.rssSavePeak, rss)
				res.childPeak = max(res.childPeak, child)
				res.childSeen = res.childSeen || seen
			}
			smu.Unlock()
		}
	}()

	load := startLoad(s, *bgsaveKeys, *bgsaveSize, *bgsaveClients)
	time.Sleep(*bgsaveBase)
	smu.Lock()
	res.rssSave = s.rss()
	phase.Store(2)
	smu.Unlock()
	fmt.Fprintf(os.Stderr, "bgsave: %s: BGSAVE (RSS %d MB under load)\n", name, res.rssSave>>20)
	tSave := time.Now()
	reply := ctl.must("BGSAVE")
	res.reply = time.Since(tSave)
	if !strings.Contains(reply, "started") {
		fail("%s BGSAVE: %s", name, reply)
	}
	for i := 0; ; i++ {
		time.Sleep(50 * time.Millisecond)
		if i%5 == 0 {
			res.usedPeak = max(res.usedPeak, atoi64(ctl.infoMap("memory")["used_memory"]))
		}
		if ctl.infoMap("persistence")["rdb_bgsave_in_progress"] == "0" {
			break
		}
		if time.Since(tSave) > 30*time.Minute {
			fail("%s: BGSAVE still running after 30 minutes", name)
		}
	}
	tEnd := time.Now()
	load.finish()
	close(sampDone)
	sampWG.Wait()
	res.saveDur = tEnd.Sub(tSave)
	res.errs = load.errs.Load()

	from, to := tSave.Sub(load.t0).Nanoseconds(), tEnd.Sub(load.t0).Nanoseconds()
	res.saveStart = from
	res.basWin = min(res.saveDur, tSave.Sub(load.t0))
	bfrom := from - res.basWin.Nanoseconds()
	res.save, res.base = window(load.writes, from, to), window(load.writes, bfrom, from)
	res.pingSave, res.pingBase = window(load.pings, from, to), window(load.pings, bfrom, from)

	pers, stats := ctl.infoMap("persistence"), ctl.infoMap("stats")
	res.status = pers["rdb_last_bgsave_status"]
	res.lastCow = atoi64(pers["rdb_last_cow_size"])
	if fi, err := os.Stat(filepath.Join(s.dir, "dump.rdb")); err == nil {
		res.rdbSize = fi.Size()
	}
	if name == "redis" {
		res.startPause = time.Duration(atoi64(stats["latest_fork_usec"])) * time.Microsecond
		res.extra = res.childPeak + max(0, res.rssSavePeak-res.rssSave)
	} else {
		res.extra = max(0, res.rssSavePeak-res.rssSave)
		logb, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		if m := redgoRDBLine.FindAllStringSubmatch(string(logb), -1); len(m) > 0 {
			x := m[len(m)-1]
			res.earlyKeys = x[2] + " captured of " + x[3] + " remembered"
			res.startPause, _ = time.ParseDuration(x[5])
			res.holdP999, res.holdMax = x[9], x[10]
		} else {
			fmt.Fprintf(os.Stderr, "bgsave: redgo log has no RDB summary line\n")
		}
	}
	fmt.Fprintf(os.Stderr, "bgsave: %s: save %.1fs, status %s, writes max %v p99 %v (baseline max %v p99 %v), extra %d MB\n",
		name, res.saveDur.Seconds(), res.status, res.save.max, res.save.p99, res.base.max, res.base.p99, res.extra>>20)
	return res
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms"
}

func mb(b int64) string {
	if b < 10<<20 {
		return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MB"
	}
	return strconv.FormatInt(b>>20, 10) + " MB"
}

func pct(a, b int64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(a)*100/float64(b), 'f', 1, 64) + "%"
}

func worstList(r bgsaveResult, st latStats) string {
	var parts []string
	for _, w := range st.worst {
		parts = append(parts, fmt.Sprintf("%s at %+.2f s", ms(time.Duration(w.d)), float64(w.end-w.d-r.saveStart)/1e9))
	}
	return strings.Join(parts, ", ")
}

// bgsaveSection runs the comparison and returns its markdown (with markers).
func bgsaveSection(bin string) string {
	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	var rs []bgsaveResult
	for _, name := range []string{"redgo", "redis"} {
		b := serverBin(name, bin)
		rs = append(rs, bgsaveOne(name, b))
	}
	g, r := rs[0], rs[1]
	var b strings.Builder
	b.WriteString(bgsaveBegin + "\n")
	fmt.Fprintf(&b, "## BGSAVE under a write load: pause and extra memory\n\n")
	cmdline := "go run ./bench -bgsave"
	if *bgsaveKeys != 5000000 {
		cmdline += fmt.Sprintf(" -bgsave-keys %d", *bgsaveKeys)
	}
	if *bgsaveSize != 128 {
		cmdline += fmt.Sprintf(" -bgsave-size %d", *bgsaveSize)
	}
	if *bgsaveClients != 4 {
		cmdline += fmt.Sprintf(" -bgsave-clients %d", *bgsaveClients)
	}
	if *bgsaveBase != 40*time.Second {
		cmdline += fmt.Sprintf(" -bgsave-base %s", *bgsaveBase)
	}
	fmt.Fprintf(&b, "Produced by `%s` on %s (%s, %d cores, %s; transparent hugepages %s).\n",
		cmdline, time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(),
		runtime.Version(), strings.TrimSpace(string(thp)))
	fmt.Fprintf(&b, "Each server in turn: `DEBUG POPULATE %d key %d`, then %d clients SET random existing keys\n", *bgsaveKeys, *bgsaveSize, *bgsaveClients)
	fmt.Fprintf(&b, "(%d-byte values, one request at a time each) and a probe client PINGs every millisecond. After %s of\n", *bgsaveSize, *bgsaveBase)
	fmt.Fprintf(&b, "that load, BGSAVE runs while the load goes on; the run polls INFO until `rdb_bgsave_in_progress:0`.\n")
	fmt.Fprintf(&b, "\"Without a save\" is the stretch of the same load just before BGSAVE, as long as the save took.\n")
	fmt.Fprintf(&b, "Latencies are measured by the clients (request sent to reply read), so they include the client's\n")
	fmt.Fprintf(&b, "own scheduling on a 2-core machine shared with the server and with other work.\n\n")
	fmt.Fprintf(&b, "| | redgo | redis |\n|---|---|---|\n")
	row := func(k, a, c string) { fmt.Fprintf(&b, "| %s | %s | %s |\n", k, a, c) }
	row("dataset (used_memory before the save)", mb(g.usedMem), mb(r.usedMem))
	row("RSS before the load / when BGSAVE was sent", mb(g.rss0)+" / "+mb(g.rssSave), mb(r.rss0)+" / "+mb(r.rssSave))
	row("BGSAVE duration (until rdb_bgsave_in_progress:0)", fmt.Sprintf("%.1f s", g.saveDur.Seconds()), fmt.Sprintf("%.1f s", r.saveDur.Seconds()))
	row("RDB file", mb(g.rdbSize), mb(r.rdbSize))
	row("pause to start the save", ms(g.startPause)+" (all shards locked)", ms(r.startPause)+" (fork, latest_fork_usec)")
	row("BGSAVE reply time", ms(g.reply), ms(r.reply))
	row("longest shard-lock hold of the walk (p99.9 bound / max)", g.holdP999+" / "+g.holdMax, "-")
	row("**longest write during the save**", "**"+ms(g.save.max)+"**", "**"+ms(r.save.max)+"**")
	row("longest write without a save", ms(g.base.max), ms(r.base.max))
	row("write p99 / p99.9 during the save", ms(g.save.p99)+" / "+ms(g.save.p999), ms(r.save.p99)+" / "+ms(r.save.p999))
	row("write p99 / p99.9 without a save", ms(g.base.p99)+" / "+ms(g.base.p999), ms(r.base.p99)+" / "+ms(r.base.p999))
	row("longest PING during the save / without", ms(g.pingSave.max)+" / "+ms(g.pingBase.max), ms(r.pingSave.max)+" / "+ms(r.pingBase.max))
	row("writes/s during the save / without", fmt.Sprintf("%.0f / %.0f", g.save.perSec, g.base.perSec), fmt.Sprintf("%.0f / %.0f", r.save.perSec, r.base.perSec))
	row("**extra memory for the save**", fmt.Sprintf("**%s (%s of dataset)**", mb(g.extra), pct(g.extra, g.usedMem)),
		fmt.Sprintf("**%s (%s of dataset)**", mb(r.extra), pct(r.extra, r.usedMem)))
	row("how the extra memory is measured", "peak RSS during the save minus RSS when BGSAVE was sent",
		fmt.Sprintf("fork child's peak Private_Dirty (%s) + parent's RSS growth (%s)", mb(r.childPeak), mb(max(0, r.rssSavePeak-r.rssSave))))
	row("RSS growth under the same load before the save (peak minus RSS before the load)", mb(max(0, g.rssBasePeak-g.rss0)), mb(max(0, r.rssBasePeak-r.rss0)))
	row("peak used_memory sampled every 250 ms during the save", mb(g.usedPeak)+" (Go heap, garbage not yet collected included)", mb(r.usedPeak)+" (parent only)")
	row("rdb_last_cow_size", mb(g.lastCow)+" (values captured before their first write, peak)", mb(r.lastCow)+" (copy-on-write)")
	if g.earlyKeys != "" {
		row("keys captured before their first write", g.earlyKeys, "-")
	}
	row("save status / client errors", fmt.Sprintf("%s / %d", g.status, g.errs), fmt.Sprintf("%s / %d", r.status, r.errs))
	fmt.Fprintf(&b, "\nLongest requests during the save (and when they started, counted from BGSAVE sent):\n\n")
	fmt.Fprintf(&b, "- redgo writes: %s\n- redgo PINGs: %s\n", worstList(g, g.save), worstList(g, g.pingSave))
	fmt.Fprintf(&b, "- redis writes: %s\n- redis PINGs: %s\n\n", worstList(r, r.save), worstList(r, r.pingSave))
	b.WriteString(bgsaveNotes)
	fmt.Fprintf(&b, "\nIn this run redgo's Go heap (used_memory, garbage included) peaked at %s during the save (%s\n", mb(g.usedPeak), mb(g.usedMem))
	fmt.Fprintf(&b, "before the load) while its buffers of values captured before their first write peaked at %s: most of redgo's\n", mb(g.lastCow))
	fmt.Fprintf(&b, "extra RSS is garbage not collected yet (the Go runtime's default GOGC=100 lets the heap grow to about\n")
	fmt.Fprintf(&b, "twice the live data before collecting), not data the save keeps. Redis's extra memory is the pages the\n")
	fmt.Fprintf(&b, "writers dirtied while the child still needed the old copies: %s for a %s dataset.\n", mb(r.childPeak), mb(r.usedMem))
	b.WriteString(bgsaveEnd + "\n")
	return b.String()
}

// bgsaveNotes is the reading guide under the table (edited by hand after
// a run if the numbers call for it).
const bgsaveNotes = `What the numbers mean: Redis forks; the fork copies the page tables, so its start pause grows with
the dataset, and every page a writer touches while the child is saving is copied (the child's private
dirty pages). redgo does not fork: it locks every shard only to note the instant, then a goroutine walks
the keyspace 64 keys per shard-lock hold, and a key about to be overwritten is serialized first into a
buffer (rdb_last_cow_size); its extra memory is those buffers, the set of keys handled early, the
walk's encoding buffers and the garbage a Go heap accumulates meanwhile, all of which shows up in RSS.
RSS is sampled every 20 ms, so short peaks can be missed. The save and the load share the 2 cores: the
save's CPU work (encoding, LZF) competes with the server's request handling in redgo, whereas Redis's
child is a separate process. The machine is shared with other work, so single long requests can be
noise: compare a server's save column with its own "without a save" row. The list of the longest
requests shows where they fall: one at +0.00 s is the start pause (Redis's fork); later ones are stalls
while the save runs.
`

// spliceSection puts sec in place of the section between begin and end in
// the report at path (appended if there is none).
func spliceSection(path, begin, end, sec string) error {
	old, _ := os.ReadFile(path)
	text := string(old)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i >= 0 && j > i {
		rest := text[j+len(end):]
		rest = strings.TrimPrefix(rest, "\n")
		text = text[:i] + sec + rest
	} else {
		if text != "" && !strings.HasSuffix(text, "\n\n") {
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			text += "\n"
		}
		text += sec
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// keptSection returns the section between begin and end of the report at
// path, so a run that rewrites the report keeps it.
func keptSection(path, begin, end string) string {
	old, _ := os.ReadFile(path)
	text := string(old)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i >= 0 && j > i {
		return "\n" + text[i:j+len(end)] + "\n"
	}
	return ""
}
