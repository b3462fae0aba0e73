package main

// -reshard: moving slots between masters. The same 3-master cluster is
// built from redgo nodes and from redis-server nodes; slots 0..N-1 of the
// first master are filled with keys, then moved to the second master by
// `redis-cli --cluster reshard` (both kinds) and by CLUSTER MIGRATESLOTS
// (redgo), each idle and under a write load on a fresh cluster. The load's
// clients follow redirections themselves, so every -MOVED, -ASK,
// -TRYAGAIN or -CLUSTERDOWN a client sees is counted, and they time each
// request from its first send to its success (the pause a client sees).

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"redgo/internal/resp"
	"redgo/internal/slot"
)

var (
	reshardOnly     = flag.Bool("reshard", false, "run only the resharding comparison and update its section of the report")
	reshardKeys     = flag.Int("reshard-keys", 200000, "keys in the moved slots")
	reshardSlots    = flag.Int("reshard-slots", 2000, "slots moved (0..N-1)")
	reshardWorkers  = flag.Int("reshard-workers", 8, "clients of the write load")
	reshardPortBase = flag.Int("reshard-port-base", 42000, "first port of the bench clusters (bus ports +10000)")
	reshardRounds   = flag.Int("reshard-rounds", 2, "rounds of every case; the fastest of each is reported")
)

const (
	reshardBegin = "<!-- reshard:begin -->"
	reshardEnd   = "<!-- reshard:end -->"
)

// rsResult is one move.
type rsResult struct {
	took     time.Duration
	pause    time.Duration // longest request, first send to success
	errs     map[string]int
	lost     int     // keys whose value is not their last acknowledged write
	opsPerS  float64 // load's successful writes/s during the move
	srvPause time.Duration
	check    string // redis-cli --cluster check problems, "" if clean
}

// rsCase is a kind of move.
type rsCase struct {
	label, kind string // kind: "redgo" or "redis"
	slotsCmd    bool   // CLUSTER MIGRATESLOTS instead of redis-cli reshard
	redgoCli    bool   // redgo cli --cluster reshard instead of redis-cli's
}

var rsCases = []rsCase{
	{"redis-cli reshard, redis-server", "redis", false, false},
	{"redis-cli reshard, redgo", "redgo", false, false},
	{"CLUSTER MIGRATESLOTS, redgo", "redgo", true, false},
	{"redgo cli --cluster reshard, redgo", "redgo", false, true},
	{"redgo cli --cluster reshard, redis-server", "redis", false, true},
}

func reshardSection(bin string) string {
	keys, nslots := *reshardKeys, *reshardSlots
	if *quick {
		keys, nslots = 20000, 200
	}
	rounds := *reshardRounds
	if *quick {
		rounds = 1
	}
	res := map[string][2]rsResult{}
	all := map[string][2][]string{} // every round's time, for the report
	load0 := loadAvg()
	port := *reshardPortBase
	for round := range rounds {
		for _, loaded := range []bool{false, true} {
			for _, c := range rsCases {
				r := reshardOne(c, bin, port, keys, nslots, loaded)
				port += 10
				if port >= *reshardPortBase+900 {
					port = *reshardPortBase
				}
				x, i := res[c.label], boolIdx(loaded)
				if round == 0 || r.took < x[i].took {
					x[i] = r
				}
				res[c.label] = x
				t := all[c.label]
				t[i] = append(t[i], fmt.Sprintf("%.2f", r.took.Seconds()))
				all[c.label] = t
				fmt.Fprintf(os.Stderr, "reshard: round %d, %s, load %v: %v, longest request %v, errors %v, lost %d, %.0f writes/s %s\n",
					round+1, c.label, loaded, r.took.Round(time.Millisecond), r.pause.Round(time.Millisecond), r.errs, r.lost, r.opsPerS, r.check)
				if r.lost > 0 || r.errs["LOST"] > 0 || r.check != "" {
					lost[c.label] = true
				}
			}
		}
	}
	return reshardReport(res, all, rounds, keys, nslots, load0)
}

func boolIdx(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reshardOne builds a cluster of kind c.kind on ports port+1..3, fills
// it, moves the slots and checks the keys.
func reshardOne(c rsCase, bin string, port, keys, nslots int, loaded bool) rsResult {
	nodes := reshardCluster(c.kind, bin, port)
	defer func() {
		for _, s := range nodes {
			s.stop()
		}
	}()
	a, b := nodes[0], nodes[1]
	idA, idB := strings.TrimSpace(a.cli("CLUSTER", "MYID")), strings.TrimSpace(b.cli("CLUSTER", "MYID"))
	all := fillReshard(a, keys, nslots)
	var ld *rsLoad
	if loaded {
		// 2000 keys over every moved slot (key i is in slot i mod nslots).
		var mine []string
		for k := range 2000 {
			mine = append(mine, all[(k*(len(all)/2000)+k)%len(all)])
		}
		setZero(a, mine)
		ld = startRSLoad(mine, *reshardWorkers, a.addr())
		time.Sleep(time.Second)
		ld.mark()
	}
	start := time.Now()
	if c.slotsCmd {
		out, err := runOut("redis-cli", "-p", strconv.Itoa(a.port), "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE",
			"0", strconv.Itoa(nslots-1), "NODE", idB)
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			fail("CLUSTER MIGRATESLOTS: %v %s\n%s", err, out, logTail(a, 30))
		}
	} else if c.redgoCli {
		out, err := runOut(bin, "cli", "--cluster", "reshard", a.addr(), "--cluster-from", idA, "--cluster-to", idB,
			"--cluster-slots", strconv.Itoa(nslots), "--cluster-yes")
		if err != nil || strings.Contains(string(out), "[ERR]") {
			fail("redgo cli --cluster reshard: %v\n%s", err, tailLines(string(out), 20))
		}
	} else {
		out, err := runOut("redis-cli", "--cluster", "reshard", a.addr(), "--cluster-from", idA, "--cluster-to", idB,
			"--cluster-slots", strconv.Itoa(nslots), "--cluster-yes")
		if err != nil || strings.Contains(string(out), "[ERR]") {
			fail("redis-cli --cluster reshard: %v\n%s", err, tailLines(string(out), 20))
		}
	}
	r := rsResult{took: time.Since(start), errs: map[string]int{}}
	if ld != nil {
		r.opsPerS = ld.rate()
		ld.halt()
		r.pause, r.errs = ld.longest, ld.errs
		r.lost = ld.verify()
	}
	if c.slotsCmd || (c.redgoCli && c.kind == "redgo") {
		r.srvPause = migrationPause(a)
	}
	if got := strings.TrimSpace(a.cli("CLUSTER", "COUNTKEYSINSLOT", "0")); got != "0" {
		fail("%s: slot 0 still has %s keys on the source", c.label, got)
	}
	r.check = clusterCheck(a)
	return r
}

// reshardCluster starts 3 masters of kind on ports port+1..3 and creates
// the cluster.
func reshardCluster(kind, bin string, port int) []*server {
	var nodes []*server
	args := []string{"--cluster", "create"}
	for i := 1; i <= 3; i++ {
		var s *server
		for try := 0; s == nil; try++ {
			if try == 5 {
				fail("%s did not start on ports %d-%d", kind, port+i, port+i+4*3)
			}
			// Other processes' connections take ports in this range too:
			// a start that fails moves on to the next free port.
			p := port + i + 3*try
			for !portFree(p) || !portFree(p+10000) {
				time.Sleep(100 * time.Millisecond) // a previous run's port in TIME_WAIT
			}
			s = tryStartProc(kind, serverBin(kind, bin), p, nil, "--cluster-enabled", "yes",
				"--cluster-node-timeout", "5000")
		}
		nodes = append(nodes, s)
		args = append(args, s.addr())
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := runOut("redis-cli", args...); err != nil {
		fail("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitClusterOK(kind, nodes)
	return nodes
}

// fillReshard writes keys keys spread evenly over slots 0..nslots-1 on a
// (which serves them), pipelined, and returns their names.
func fillReshard(a *server, keys, nslots int) []string {
	tags := make([]string, nslots)
	left := nslots
	for i := 0; left > 0; i++ {
		t := "t" + strconv.Itoa(i)
		if j := slot.OfString(t); j < nslots && tags[j] == "" {
			tags[j] = t
			left--
		}
	}
	conn, err := net.Dial("tcp", a.addr())
	if err != nil {
		fail("dial: %v", err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	var names []string
	var w resp.Writer
	value := strings.Repeat("v", 32)
	flush := func(n int) {
		if _, err := conn.Write(w.Buf); err != nil {
			fail("fill: %v", err)
		}
		w.Buf = w.Buf[:0]
		for range n {
			if v, err := resp.ReadValue(br); err != nil || v.Str != "OK" {
				fail("fill: %v %v", v, err)
			}
		}
	}
	pending := 0
	for i := range keys {
		k := "{" + tags[i%nslots] + "}:" + strconv.Itoa(i)
		names = append(names, k)
		w.Array(3)
		w.BulkString("SET")
		w.BulkString(k)
		w.BulkString(value)
		if pending++; pending == 1000 {
			flush(pending)
			pending = 0
		}
	}
	flush(pending)
	return names
}

// setZero sets keys (served by a) to 0: the load's counters.
func setZero(a *server, keys []string) {
	conn, err := net.Dial("tcp", a.addr())
	if err != nil {
		fail("dial: %v", err)
	}
	defer conn.Close()
	var w resp.Writer
	for _, k := range keys {
		w.Array(3)
		w.BulkString("SET")
		w.BulkString(k)
		w.BulkString("0")
	}
	if _, err := conn.Write(w.Buf); err != nil {
		fail("set: %v", err)
	}
	br := bufio.NewReader(conn)
	for range keys {
		if v, err := resp.ReadValue(br); err != nil || v.Str != "OK" {
			fail("set: %v %v", v, err)
		}
	}
}

// migrationPause is the pause the source logged for its last transfer.
func migrationPause(a *server) time.Duration {
	f := strings.Fields(a.cli("CLUSTER", "GETSLOTMIGRATIONS"))
	for i, x := range f {
		if x == "pause_us" && i+1 < len(f) {
			us, _ := strconv.Atoi(f[i+1])
			return time.Duration(us) * time.Microsecond
		}
	}
	return 0
}

// clusterCheck runs redis-cli --cluster check and returns its problems.
func clusterCheck(a *server) string {
	for range 50 {
		out, _ := runOut("redis-cli", "--cluster", "check", a.addr())
		s := string(out)
		if !strings.Contains(s, "[ERR]") && !strings.Contains(s, "[WARNING]") &&
			strings.Contains(s, "[OK] All 16384 slots covered") {
			return ""
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := runOut("redis-cli", "--cluster", "check", a.addr())
	return "check: " + tailLines(string(out), 5)
}

func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// rsLoad is the write load: each worker INCRs its own keys and follows
// redirections itself.
type rsLoad struct {
	mu      sync.Mutex
	acked   map[string]int64
	errs    map[string]int
	longest time.Duration
	ops     int64
	mark0   int64
	markAt  time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	first   string
}

func startRSLoad(keys []string, workers int, first string) *rsLoad {
	l := &rsLoad{acked: map[string]int64{}, errs: map[string]int{}, stop: make(chan struct{}), first: first}
	for w := range workers {
		var mine []string
		for i := w; i < len(keys); i += workers {
			mine = append(mine, keys[i])
		}
		l.wg.Add(1)
		go l.run(mine)
	}
	return l
}

// mark starts the interval rate measures.
func (l *rsLoad) mark() {
	l.mu.Lock()
	l.mark0, l.markAt = l.ops, time.Now()
	l.errs = map[string]int{}
	l.longest = 0
	l.mu.Unlock()
}

func (l *rsLoad) rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.ops-l.mark0) / time.Since(l.markAt).Seconds()
}

func (l *rsLoad) halt() {
	close(l.stop)
	l.wg.Wait()
}

func (l *rsLoad) run(keys []string) {
	defer l.wg.Done()
	c := &rsClient{conns: map[string]*rsConn{}, where: map[int]string{}, first: l.first}
	defer c.close()
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := keys[n%len(keys)]
		start := time.Now()
		v, errs := c.do(key, "INCR", key)
		took := time.Since(start)
		l.mu.Lock()
		for _, e := range errs {
			l.errs[e]++
		}
		if took > l.longest {
			l.longest = took
		}
		if v.Type == ':' {
			if last := l.acked[key]; v.Int != last+1 {
				l.errs["LOST"]++ // a write missing, or applied twice
			}
			l.acked[key] = v.Int
			l.ops++
		}
		l.mu.Unlock()
	}
}

// verify reads every key of the load on its owner: the value must be
// the last acknowledged INCR.
func (l *rsLoad) verify() int {
	c := &rsClient{conns: map[string]*rsConn{}, where: map[int]string{}, first: l.first}
	defer c.close()
	bad := 0
	for k, want := range l.acked {
		v, _ := c.do(k, "GET", k)
		if v.Str != strconv.FormatInt(want, 10) {
			bad++
		}
	}
	return bad
}

// rsClient sends a command to the node serving its key, following
// -MOVED and -ASK, retrying -TRYAGAIN and -CLUSTERDOWN; it returns the
// reply and the codes of the errors met on the way.
type rsClient struct {
	conns map[string]*rsConn
	where map[int]string
	first string
}

type rsConn struct {
	c  net.Conn
	br *bufio.Reader
}

func (c *rsClient) close() {
	for _, x := range c.conns {
		x.c.Close()
	}
}

func (c *rsClient) conn(addr string) *rsConn {
	if x := c.conns[addr]; x != nil {
		return x
	}
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fail("load: %v", err)
	}
	x := &rsConn{c: nc, br: bufio.NewReader(nc)}
	c.conns[addr] = x
	return x
}

func (x *rsConn) do(args ...string) resp.Value {
	var w resp.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	x.c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := x.c.Write(w.Buf); err != nil {
		fail("load: %v", err)
	}
	v, err := resp.ReadValue(x.br)
	if err != nil {
		fail("load: %v", err)
	}
	return v
}

func (c *rsClient) do(key string, args ...string) (resp.Value, []string) {
	j := slot.OfString(key)
	addr, ok := c.where[j]
	if !ok {
		addr = c.first
	}
	var errs []string
	asking := ""
	for {
		x := c.conn(addr)
		if asking != "" {
			x = c.conn(asking)
			x.do("ASKING")
		}
		v := x.do(args...)
		asking = ""
		if v.Type != '-' {
			c.where[j] = addr
			return v, errs
		}
		code, rest, _ := strings.Cut(v.Str, " ")
		errs = append(errs, code)
		f := strings.Fields(rest)
		switch code {
		case "MOVED":
			addr = f[len(f)-1]
		case "ASK":
			asking = f[len(f)-1]
		case "TRYAGAIN", "CLUSTERDOWN", "LOADING":
			time.Sleep(time.Millisecond)
		default:
			return v, errs
		}
	}
}

// lost marks the cases where any round lost a write or left
// --cluster check unclean (the report shows the fastest round only).
var lost = map[string]bool{}

// reshardReport is the section's markdown.
func reshardReport(res map[string][2]rsResult, all map[string][2][]string, rounds, keys, nslots int, load0 string) string {
	var b strings.Builder
	b.WriteString(reshardBegin + "\n")
	b.WriteString("## Resharding: moving slots with their keys\n\n")
	b.WriteString(producedBy("reshard"))
	fmt.Fprintf(&b, "Each case on a fresh cluster of 3 masters (`--cluster-enabled yes --cluster-node-timeout 5000\n")
	fmt.Fprintf(&b, "--appendonly no --save \"\"`, joined with `redis-cli --cluster create ... --cluster-replicas 0`): %d keys\n", keys)
	fmt.Fprintf(&b, "(32-byte string values) in slots 0-%d of the first master, then those %d slots move to the second\n", nslots-1, nslots)
	fmt.Fprintf(&b, "master with `redis-cli --cluster reshard --cluster-from A --cluster-to B --cluster-slots %d --cluster-yes`\n", nslots)
	fmt.Fprintf(&b, "(redis-cli 7.0's defaults: MIGRATE of 10 keys at a time) or with `CLUSTER MIGRATESLOTS SLOTSRANGE 0 %d\n", nslots-1)
	fmt.Fprintf(&b, "NODE B` sent to the first master, or with `redgo cli --cluster reshard` and the same options (CLUSTER\n")
	fmt.Fprintf(&b, "MIGRATESLOTS of up to 1024 slots per call between redgo nodes, redis-cli's MIGRATE otherwise). Idle: nothing else runs. Under load: %d clients INCR 2000 of those\n", *reshardWorkers)
	fmt.Fprintf(&b, "keys in turn, one request at a time each, following -MOVED and -ASK themselves and retrying -TRYAGAIN\n")
	fmt.Fprintf(&b, "and -CLUSTERDOWN after 1 ms; each error a client meets is counted, and the longest request (first\n")
	fmt.Fprintf(&b, "send to success, redirections included) is the longest pause a client saw. Afterwards every key of\n")
	fmt.Fprintf(&b, "the load must hold its last acknowledged INCR (\"lost\" counts those that do not and INCRs whose\n")
	fmt.Fprintf(&b, "reply skipped a value), and `redis-cli --cluster check` must be clean. %d rounds of every case, in\n", rounds)
	fmt.Fprintf(&b, "turn; the table shows each case's fastest round (all rounds' times below it). Load average %s at\n", load0)
	fmt.Fprintf(&b, "the start, %s at the end.\n\n", loadAvg())
	b.WriteString("|")
	for _, c := range rsCases {
		fmt.Fprintf(&b, " | %s", c.label)
	}
	b.WriteString(" |\n|---" + strings.Repeat("|---", len(rsCases)) + "|\n")
	row := func(name string, f func(r [2]rsResult) string) {
		fmt.Fprintf(&b, "| %s |", name)
		for _, c := range rsCases {
			fmt.Fprintf(&b, " %s |", f(res[c.label]))
		}
		b.WriteString("\n")
	}
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	base := res[rsCases[0].label]
	row("time, idle", func(r [2]rsResult) string { return sec(r[0].took) })
	row("time, under load", func(r [2]rsResult) string { return sec(r[1].took) })
	row("speed vs redis-cli reshard on redis-server, idle", func(r [2]rsResult) string {
		return fmt.Sprintf("**%.1fx**", base[0].took.Seconds()/r[0].took.Seconds())
	})
	row("speed vs redis-cli reshard on redis-server, under load", func(r [2]rsResult) string {
		return fmt.Sprintf("**%.1fx**", base[1].took.Seconds()/r[1].took.Seconds())
	})
	row("longest request under load", func(r [2]rsResult) string {
		return fmt.Sprintf("%.0f ms", durMs(r[1].pause))
	})
	row("errors clients saw under load", func(r [2]rsResult) string { return errText(r[1].errs) })
	row("lost or doubled writes", func(r [2]rsResult) string { return strconv.Itoa(r[1].lost + r[1].errs["LOST"]) })
	row("load's writes/s during the move", func(r [2]rsResult) string { return fmt.Sprintf("%.0f", r[1].opsPerS) })
	row("writes paused at the flip (source's log), idle / load", func(r [2]rsResult) string {
		if r[0].srvPause == 0 && r[1].srvPause == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f / %.1f ms", durMs(r[0].srvPause), durMs(r[1].srvPause))
	})
	row("`--cluster check` afterwards", func(r [2]rsResult) string {
		if r[0].check == "" && r[1].check == "" {
			return "clean"
		}
		return "**not clean**"
	})
	b.WriteString("\nEvery round (s, idle; under load): ")
	for i, c := range rsCases {
		if i > 0 {
			b.WriteString("; ")
		}
		t := all[c.label]
		fmt.Fprintf(&b, "%s %s; %s", c.label, strings.Join(t[0], ", "), strings.Join(t[1], ", "))
		if lost[c.label] {
			b.WriteString(" (**a round lost writes or left --cluster check unclean**)")
		}
	}
	b.WriteString(".\n")
	b.WriteString(reshardEnd + "\n")
	return b.String()
}

func errText(m map[string]int) string {
	var ks []string
	for k := range m {
		if k != "LOST" {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	if len(ks) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}
