package main

// The failover comparison (replication issue): how long a client cannot
// write to a master's slots after that master is killed with kill -9.
// Each round starts a 6-node cluster (3 masters, 3 replicas) of one kind
// with the same settings, made with the real `redis-cli --cluster create`,
// runs a go-redis ClusterClient writer (INCR on keys of the victim's slots
// and of the other masters' slots), kills the master owning slot 0 and
// measures from the kill to the first successful write to a victim-slot
// key. The replica's log gives when it learned of the FAIL and when it won
// the election. Kinds alternate per round: redgo (cluster-fast-failover
// yes, its default), redis-server, and redgo with cluster-fast-failover no
// (Redis's election timing). Its section of docs/benchmarks.md sits between
// markers so `go run ./bench -failover` can rewrite it alone.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/slot"
)

var (
	failoverOnly    = flag.Bool("failover", false, "run only the kill -9 failover comparison and update its section of the report")
	failoverRounds  = flag.Int("failover-rounds", 5, "alternating rounds per kind for the failover comparison")
	failoverSteady  = flag.Duration("failover-steady", 3*time.Second, "steady writes before the kill in the failover comparison")
	failoverTimeout = flag.Int("failover-node-timeout", 2000, "cluster-node-timeout (ms) in the failover comparison")
)

const (
	failoverBegin = "<!-- failover:begin -->"
	failoverEnd   = "<!-- failover:end -->"
)

// foKind is one column of the comparison.
type foKind struct {
	label string // in the report
	name  string // "redgo" or "redis" (see start)
	extra []string
}

var foKinds = []foKind{
	{"redgo", "redgo", nil},
	{"redis", "redis", nil},
	{"redgo, fast failover off", "redgo", []string{"--cluster-fast-failover", "no"}},
}

// foRound is one kill: times are offsets from the kill.
type foRound struct {
	ok          bool          // a victim-slot write succeeded after the kill
	unavail     time.Duration // kill -> first successful victim-slot write started after it
	lastErr     time.Duration // kill -> end of the last failed victim-slot write
	failSeen    time.Duration // kill -> the replica logs the master's FAIL
	won         time.Duration // kill -> the replica logs the election won
	delayMs     int           // election delay the replica logged
	attempts    int           // elections the replica started
	voteLog     string        // the nodes' election and vote lines when it took more than one
	logOK       bool          // failSeen and won were found in the log
	errs        int           // failed victim-slot writes
	otherErrs   int           // failed writes to the other masters' slots
	writesPerS  float64       // successful writes/s before the kill
	replicaLog  string        // tail of the replica's log when something is missing
	failoverErr string
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// clusterPorts picks n client ports p with p and p+10000 (the cluster bus)
// both free.
func clusterPorts(n int) []int {
	var ports []int
	for len(ports) < n {
		p := 20000 + rand.IntN(10000)
		if !slices.Contains(ports, p) && portFree(p) && portFree(p+10000) {
			ports = append(ports, p)
		}
	}
	return ports
}

// clusterNode is a line of CLUSTER NODES.
type clusterNode struct {
	id, addr, flags, master string
	slots                   [][2]int
}

func parseClusterNodes(text string) []clusterNode {
	var ns []clusterNode
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		n := clusterNode{id: f[0], addr: strings.SplitN(f[1], "@", 2)[0], flags: f[2], master: f[3]}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			a, b, _ := strings.Cut(r, "-")
			lo, _ := strconv.Atoi(a)
			hi := lo
			if b != "" {
				hi, _ = strconv.Atoi(b)
			}
			n.slots = append(n.slots, [2]int{lo, hi})
		}
		ns = append(ns, n)
	}
	return ns
}

func (n clusterNode) owns(s int) bool {
	for _, r := range n.slots {
		if s >= r[0] && s <= r[1] {
			return true
		}
	}
	return false
}

// startCluster starts 6 nodes of kind k, creates the cluster with
// redis-cli --cluster create and waits until it is ready (see
// clusterNotReady). If it is not within 60 s it stops the nodes and
// returns why, with the redis-cli output and the nodes' logs.
func startCluster(k foKind, bin string) ([]*server, string) {
	extra := append([]string{"--cluster-enabled", "yes", "--cluster-node-timeout", strconv.Itoa(*failoverTimeout),
		"--repl-diskless-sync-delay", "0"}, k.extra...)
	var nodes []*server
	args := []string{"--cluster", "create"}
	for _, p := range clusterPorts(6) {
		nodes = append(nodes, startOn(k.name, serverBin(k.name, bin), p, extra...))
		args = append(args, fmt.Sprintf("127.0.0.1:%d", p))
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	created, err := runOut("redis-cli", args...)
	if err != nil {
		fail("%s: redis-cli --cluster create: %v\n%s", k.label, err, created)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		why := clusterNotReady(nodes)
		if why == "" {
			return nodes, ""
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, s := range nodes {
				fmt.Fprintf(&logs, "--- %s log:\n%s\n", s.addr(), logTail(s, 40))
			}
			text := fmt.Sprintf("%s: cluster not ready 60 s after redis-cli --cluster create: %s\nredis-cli output:\n%s\nCLUSTER NODES:\n%s\n%s",
				k.label, why, created, nodes[0].cli("CLUSTER", "NODES"), logs.String())
			for _, s := range nodes {
				s.stop()
			}
			return nil, text
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterNotReady says why the 6-node cluster is not ready yet ("" when
// it is): every node must say cluster_state:ok, see 3 masters with slots
// and 3 replicas of distinct masters, and every replica's link must be up.
func clusterNotReady(nodes []*server) string {
	for _, s := range nodes {
		if st := cliFields(s, "CLUSTER", "INFO")["cluster_state"]; st != "ok" {
			return s.addr() + " cluster_state:" + st
		}
		info := cliFields(s, "INFO", "replication")
		if info["role"] == "slave" && info["master_link_status"] != "up" {
			return s.addr() + " master_link_status:" + info["master_link_status"]
		}
	}
	b, err := runOut("redis-cli", "-p", strconv.Itoa(nodes[0].port), "CLUSTER", "NODES")
	if err != nil {
		return "CLUSTER NODES: " + err.Error()
	}
	masters, followed := 0, map[string]bool{}
	for _, n := range parseClusterNodes(string(b)) {
		if strings.Contains(n.flags, "master") && len(n.slots) > 0 {
			masters++
		}
		if strings.Contains(n.flags, "slave") {
			followed[n.master] = true
		}
	}
	if masters != 3 || len(followed) != 3 {
		return fmt.Sprintf("%d masters with slots, %d masters with a replica", masters, len(followed))
	}
	return ""
}

// runOut runs a command and returns its combined output.
func runOut(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// cliFields returns the "field:value" lines of a command's reply, such as
// INFO replication or CLUSTER INFO (empty if s does not answer).
func cliFields(s *server, cmd ...string) map[string]string {
	m := map[string]string{}
	b, err := runOut("redis-cli", append([]string{"-p", strconv.Itoa(s.port)}, cmd...)...)
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
			m[k] = v
		}
	}
	return m
}

// foEvent is one write the client made.
type foEvent struct {
	start, end time.Time
	ok, victim bool
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}

var logLine = regexp.MustCompile(`^\d+:[A-Z] (\d\d \w\w\w \d{4} \d\d:\d\d:\d\d\.\d\d\d) [.\-*#] (.*)$`)
var delayLine = regexp.MustCompile(`Start of election delayed for (\d+) milliseconds`)

// setupFailures counts, per kind, clusters that never became ready (each
// is retried with fresh nodes).
var setupFailures = map[string]int{}

func failoverOne(k foKind, bin string) foRound {
	var nodes []*server
	for try := 0; nodes == nil; try++ {
		var why string
		if nodes, why = startCluster(k, bin); nodes == nil {
			setupFailures[k.label]++
			fmt.Fprintf(os.Stderr, "failover: %s\n", why)
			if try == 2 {
				fail("%s: three clusters in a row never became ready", k.label)
			}
		}
	}
	defer func() {
		for _, s := range nodes {
			s.stop()
		}
	}()
	cn := parseClusterNodes(nodes[0].cli("CLUSTER", "NODES"))
	var victim, replica clusterNode
	for _, n := range cn {
		if strings.Contains(n.flags, "master") && n.owns(0) {
			victim = n
		}
	}
	for _, n := range cn {
		if strings.Contains(n.flags, "slave") && n.master == victim.id {
			replica = n
		}
	}
	if victim.id == "" || replica.id == "" {
		fail("%s: no master of slot 0 with a replica in CLUSTER NODES:\n%s", k.label, nodes[0].cli("CLUSTER", "NODES"))
	}
	byAddr := func(a string) *server {
		for _, s := range nodes {
			if s.addr() == a {
				return s
			}
		}
		fail("%s: no node at %s", k.label, a)
		return nil
	}
	vs, rs := byAddr(victim.addr), byAddr(replica.addr)

	// 4 keys in the victim's slots, 2 in other masters' slots.
	type wkey struct {
		key    string
		victim bool
	}
	var keys []wkey
	nv, no := 0, 0
	for i := 0; nv < 4 || no < 2; i++ {
		key := "fo:" + strconv.Itoa(i)
		if victim.owns(slot.OfString(key)) {
			if nv < 4 {
				keys, nv = append(keys, wkey{key, true}), nv+1
			}
		} else if no < 2 {
			keys, no = append(keys, wkey{key, false}), no+1
		}
	}
	var addrs []string
	for _, s := range nodes {
		addrs = append(addrs, s.addr())
	}
	redis.SetLogger(quietLogger{})
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, Protocol: 2, DisableIdentity: true,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
		DialerRetries: 1, DialerRetryTimeout: 10 * time.Millisecond,
		MaxRedirects: 3, MinRetryBackoff: 2 * time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond,
		PoolSize: 4,
	})
	defer cc.Close()
	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var events []foEvent
	for _, wk := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []foEvent
			for !stop.Load() {
				t := time.Now()
				err := cc.Incr(ctx, wk.key).Err()
				local = append(local, foEvent{t, time.Now(), err == nil, wk.victim})
				if err != nil {
					cc.ReloadState(ctx)
					time.Sleep(time.Millisecond)
				}
			}
			mu.Lock()
			events = append(events, local...)
			mu.Unlock()
		}()
	}
	t0 := time.Now()
	time.Sleep(*failoverSteady)
	tKill := time.Now()
	vs.kill()
	res := foRound{}
	// Wait until the replica says it is the master (the writers keep their
	// events to themselves until they stop), then give the client time to
	// find it.
	deadline := tKill.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cliFields(rs, "INFO", "replication")["role"] == "master" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()

	okBefore := 0
	var firstOK time.Time
	for _, e := range events {
		switch {
		case e.ok && e.end.Before(tKill):
			okBefore++
		case e.victim && e.ok && !e.start.Before(tKill):
			if firstOK.IsZero() || e.end.Before(firstOK) {
				firstOK = e.end
			}
		}
	}
	for _, e := range events {
		if e.ok || e.end.Before(tKill) {
			continue
		}
		if !e.victim {
			res.otherErrs++
			continue
		}
		res.errs++
		if d := e.end.Sub(tKill); d > res.lastErr {
			res.lastErr = d
		}
	}
	res.writesPerS = float64(okBefore) / tKill.Sub(t0).Seconds()
	if !firstOK.IsZero() {
		res.ok = true
		res.unavail = firstOK.Sub(tKill)
	} else {
		res.failoverErr = "no successful victim-slot write within 60 s of the kill"
	}

	// The replica's log: FAIL learned (from a FAIL message or its own
	// quorum), election delay, election won.
	lg := rs.log()
	var gotFail, gotWon bool
	for _, l := range strings.Split(lg, "\n") {
		m := logLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ts, err := time.ParseInLocation("02 Jan 2006 15:04:05.000", m[1], time.Local)
		if err != nil || ts.Before(tKill.Add(-time.Millisecond).Truncate(time.Millisecond)) {
			continue
		}
		msg := m[2]
		d := ts.Sub(tKill)
		switch {
		case !gotFail && strings.Contains(msg, victim.id) &&
			(strings.HasPrefix(msg, "FAIL message received") || strings.HasPrefix(msg, "Marking node")):
			res.failSeen, gotFail = d, true
		case strings.HasPrefix(msg, "Starting a failover election"):
			if !gotWon {
				res.attempts++
			}
		case strings.HasPrefix(msg, "Start of election delayed"):
			if dm := delayLine.FindStringSubmatch(msg); dm != nil {
				res.delayMs, _ = strconv.Atoi(dm[1])
			}
		case !gotWon && strings.HasPrefix(msg, "Failover election won"):
			res.won, gotWon = d, true
		}
	}
	res.logOK = gotFail && gotWon
	if res.attempts > 1 {
		// Every surviving node's lines about the failure and the votes.
		var vb strings.Builder
		for _, s := range nodes {
			if s == vs {
				continue
			}
			for _, l := range strings.Split(s.log(), "\n") {
				if m := logLine.FindStringSubmatch(l); m != nil && (strings.Contains(m[2], "ailover") ||
					strings.Contains(m[2], "election") || strings.Contains(m[2], "FAIL") || strings.Contains(m[2], "failing")) {
					ts, _ := time.ParseInLocation("02 Jan 2006 15:04:05.000", m[1], time.Local)
					if !ts.Before(tKill.Truncate(time.Millisecond)) {
						fmt.Fprintf(&vb, "%s %+dms %s\n", s.addr(), ts.Sub(tKill).Milliseconds(), m[2])
					}
				}
			}
		}
		res.voteLog = vb.String()
		fmt.Fprintf(os.Stderr, "failover: %s: %d elections before the replica %s (%s) won; victim %s (%s); log lines since the kill:\n%s",
			k.label, res.attempts, rs.addr(), replica.id, vs.addr(), victim.id, res.voteLog)
	}
	if !res.ok || !res.logOK {
		lines := strings.Split(strings.TrimSpace(lg), "\n")
		res.replicaLog = strings.Join(lines[max(0, len(lines)-30):], "\n")
		fmt.Fprintf(os.Stderr, "failover: %s: ok=%v fail-in-log=%v won-in-log=%v; replica %s log tail:\n%s\n",
			k.label, res.ok, gotFail, gotWon, rs.addr(), res.replicaLog)
	}
	return res
}

func durMs(d time.Duration) float64 { return float64(d) / 1e6 }

// stat is "median (min-max)" in ms over the rounds where pick gives a value.
func foStat(rs []foRound, pick func(foRound) (time.Duration, bool)) (med float64, text string) {
	var v []float64
	for _, r := range rs {
		if d, ok := pick(r); ok {
			v = append(v, durMs(d))
		}
	}
	if len(v) == 0 {
		return 0, "-"
	}
	lo, hi := slices.Min(v), slices.Max(v)
	med = median(v)
	return med, fmt.Sprintf("%.0f (%.0f–%.0f)", med, lo, hi)
}

// failoverSection runs the comparison and returns its markdown (with markers).
func failoverSection(bin string) string {
	rounds := *failoverRounds
	if *quick {
		rounds = 1
	}
	res := map[string][]foRound{}
	load0 := loadAvg()
	for r := 0; r < rounds; r++ {
		for _, k := range foKinds {
			x := failoverOne(k, bin)
			res[k.label] = append(res[k.label], x)
			fmt.Fprintf(os.Stderr, "failover: round %d/%d %s: unavailable %.0f ms (last error %+.0f ms), FAIL %+.0f ms, delay %d ms, won %+.0f ms after %d elections, %d victim errors\n",
				r+1, rounds, k.label, durMs(x.unavail), durMs(x.lastErr), durMs(x.failSeen), x.delayMs, durMs(x.won), x.attempts, x.errs)
		}
	}
	type col struct {
		unavail, lastErr, fail, won, delay float64
		elect, client                      float64
		texts                              [8]string
		failed                             int
	}
	cols := map[string]col{}
	for _, k := range foKinds {
		rs := res[k.label]
		var c col
		c.unavail, c.texts[0] = foStat(rs, func(r foRound) (time.Duration, bool) { return r.unavail, r.ok })
		c.lastErr, c.texts[1] = foStat(rs, func(r foRound) (time.Duration, bool) { return r.lastErr, r.ok })
		c.fail, c.texts[2] = foStat(rs, func(r foRound) (time.Duration, bool) { return r.failSeen, r.logOK })
		c.delay, c.texts[3] = foStat(rs, func(r foRound) (time.Duration, bool) {
			return time.Duration(r.delayMs) * time.Millisecond, r.logOK
		})
		c.won, c.texts[4] = foStat(rs, func(r foRound) (time.Duration, bool) { return r.won, r.logOK })
		c.elect, c.texts[6] = foStat(rs, func(r foRound) (time.Duration, bool) { return r.won - r.failSeen, r.logOK })
		c.client, c.texts[7] = foStat(rs, func(r foRound) (time.Duration, bool) { return r.unavail - r.won, r.logOK && r.ok })
		var errs, wps []float64
		for _, r := range rs {
			errs = append(errs, float64(r.errs))
			wps = append(wps, r.writesPerS)
			if !r.ok {
				c.failed++
			}
		}
		c.texts[5] = fmt.Sprintf("%.0f / %.0f", median(errs), median(wps))
		cols[k.label] = c
	}
	g, r, s := cols[foKinds[0].label], cols[foKinds[1].label], cols[foKinds[2].label]

	var b strings.Builder
	b.WriteString(failoverBegin + "\n")
	fmt.Fprintf(&b, "## Failover after kill -9 of a master under writes\n\n")
	b.WriteString(producedBy("failover"))
	fmt.Fprintf(&b, "Each round, per kind in turn: 6 nodes with `--cluster-enabled yes --cluster-node-timeout %d\n", *failoverTimeout)
	fmt.Fprintf(&b, "--appendonly no --save \"\" --repl-diskless-sync-delay 0`, joined with `redis-cli --cluster create ...\n")
	fmt.Fprintf(&b, "--cluster-replicas 1 --cluster-yes`, then a go-redis ClusterClient INCRs 4 keys in the slots of the\n")
	fmt.Fprintf(&b, "master owning slot 0 and 2 keys elsewhere, one goroutine per key in a tight loop (read/dial timeout\n")
	fmt.Fprintf(&b, "200 ms, 3 redirects, slot map reload requested after every error; go-redis reloads at most every\n")
	fmt.Fprintf(&b, "200 ms). After %s of writes the master is killed with SIGKILL. **Unavailable** is from the kill to\n", *failoverSteady)
	fmt.Fprintf(&b, "the first successful write to a victim-slot key that was sent after the kill; the replica's log\n")
	fmt.Fprintf(&b, "gives when it learned of the FAIL (FAIL message or its own quorum) and when it won the election\n")
	fmt.Fprintf(&b, "(log timestamps have millisecond resolution). %d rounds; median (min–max), in ms from the kill.\n", rounds)
	fmt.Fprintf(&b, "The machine's load average was %s at the start and %s at the end of the run.\n\n", load0, loadAvg())
	fmt.Fprintf(&b, "| | redgo | redis | redgo/redis (median) | redgo, fast failover off |\n|---|---|---|---|---|\n")
	rowf := func(name string, i int, gm, rm float64) {
		fmt.Fprintf(&b, "| %s | %s | %s | **%.2f** | %s |\n", name, g.texts[i], r.texts[i], ratio(gm, rm), s.texts[i])
	}
	rowf("**unavailable** (kill → first write OK)", 0, g.unavail, r.unavail)
	rowf("last failed write ends", 1, g.lastErr, r.lastErr)
	rowf("replica learns FAIL", 2, g.fail, r.fail)
	rowf("election delay logged", 3, g.delay, r.delay)
	rowf("election won", 4, g.won, r.won)
	rowf("FAIL learned → election won", 6, g.elect, r.elect)
	rowf("election won → first write OK", 7, g.client, r.client)
	fmt.Fprintf(&b, "| failed victim-slot writes / writes/s before the kill (medians) | %s | %s | | %s |\n", g.texts[5], r.texts[5], s.texts[5])
	fmt.Fprintf(&b, "| rounds without a successful write after the kill | %d | %d | | %d |\n", g.failed, r.failed, s.failed)
	retried := func(k foKind) int {
		n := 0
		for _, x := range res[k.label] {
			if x.attempts > 1 {
				n++
			}
		}
		return n
	}
	fmt.Fprintf(&b, "| rounds where the replica needed more than one election | %d | %d | | %d |\n", retried(foKinds[0]), retried(foKinds[1]), retried(foKinds[2]))
	fmt.Fprintf(&b, "| clusters not ready 60 s after create (retried) | %d | %d | | %d |\n\n",
		setupFailures[foKinds[0].label], setupFailures[foKinds[1].label], setupFailures[foKinds[2].label])
	fmt.Fprintf(&b, "Per round (unavailable ms): ")
	for i, k := range foKinds {
		if i > 0 {
			b.WriteString("; ")
		}
		var v []string
		for _, x := range res[k.label] {
			if x.ok {
				v = append(v, fmt.Sprintf("%.0f", durMs(x.unavail)))
			} else {
				v = append(v, "none")
			}
		}
		fmt.Fprintf(&b, "%s %s", k.label, strings.Join(v, ", "))
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "Reading: the unavailability is failure detection (kill → the replica learns FAIL: median %.0f ms in\n", g.fail)
	fmt.Fprintf(&b, "redgo, %.0f ms in redis), then the election (FAIL → won: %.0f vs %.0f ms), then the client finding\n", r.fail, g.elect, r.elect)
	fmt.Fprintf(&b, "the new master (won → first write: %.0f vs %.0f ms; go-redis reloads its slot map at most every\n", g.client, r.client)
	fmt.Fprintf(&b, "200 ms). Redis detects a failure after the %d ms node timeout (PFAIL: a ping unanswered that long)\n", *failoverTimeout)
	fmt.Fprintf(&b, "plus gossip until a majority of masters report it, and its replica then waits 500 ms + random\n")
	fmt.Fprintf(&b, "0–500 ms + 1000 ms per rank before asking for votes. With cluster-fast-failover (redgo's default) a\n")
	fmt.Fprintf(&b, "node whose bus port refuses connections (the host answers, the process is gone, as after kill -9)\n")
	fmt.Fprintf(&b, "is PFAIL once it has refused for half the node timeout (a process restarted at once keeps its slots)\n")
	fmt.Fprintf(&b, "and every node is pinged then, so a majority reports it within a round trip; the replica\n")
	fmt.Fprintf(&b, "starts as soon as it learns of the FAIL, after min(500, node timeout / 30) ms per rank step (%d ms\n", min(500, *failoverTimeout/30))
	fmt.Fprintf(&b, "here for rank 0). A host that stops answering altogether (power, network) is still detected by the\n")
	fmt.Fprintf(&b, "node timeout. In this run the median unavailability was %.0f ms for redgo against %.0f ms for redis,\n", g.unavail, r.unavail)
	fmt.Fprintf(&b, "a ratio of %.2f (the goal is <= 0.5); with cluster-fast-failover no, redgo took %.0f ms (ratio %.2f\n", ratio(g.unavail, r.unavail), s.unavail, ratio(s.unavail, r.unavail))
	fmt.Fprintf(&b, "to redis), with FAIL learned at %.0f ms and the election taking %.0f ms.", s.fail, s.elect)
	if n0, n1, n2 := retried(foKinds[0]), retried(foKinds[1]), retried(foKinds[2]); n0+n1+n2 > 0 {
		fmt.Fprintf(&b, " A round where the\n")
		fmt.Fprintf(&b, "replica needed a second election (redgo %d, redis %d, redgo with fast failover off %d) waits for the\n", n0, n1, n2)
		fmt.Fprintf(&b, "first one to expire (twice the node timeout, at least 2 s) and the retry delay: that is the max\n")
		fmt.Fprintf(&b, "column's outlier; the run prints every node's election and vote lines for such a round.")
	}
	b.WriteString("\n")
	b.WriteString(failoverEnd + "\n")
	return b.String()
}
