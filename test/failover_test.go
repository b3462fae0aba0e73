package test

// High availability as the cluster tutorial shows it, on redgo processes:
// 3 masters + 3 replicas created by redis-cli --cluster create
// --cluster-replicas 1, a counter workload, a master killed with kill -9,
// its replica promoted, the killed node back as a replica; and a manual
// failover (CLUSTER FAILOVER) under writes.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// haCluster starts six redgo nodes and makes them 3 masters + 3 replicas
// with the real redis-cli; it returns the nodes by port.
func haCluster(t *testing.T) ([]int, map[int]*clusterNode) {
	t.Helper()
	need(t, "redis-cli")
	ports := busPorts(t, 6, false)
	nodes := map[int]*clusterNode{}
	for _, p := range ports {
		nodes[p] = startClusterNode(t, p, false)
	}
	createClusterReplicas(t, ports, 1)
	eventually(t, 30*time.Second, func() error {
		for _, p := range ports {
			info := cli(t, p, "INFO replication\n")
			if infoValue(info, "role") == "slave" && infoValue(info, "master_link_status") != "up" {
				return fmt.Errorf("replica %d not in sync", p)
			}
			ms, reps := roles(t, p)
			if len(ms) != 3 || len(reps) != 3 {
				return fmt.Errorf("node %d sees masters %v, replicas %v", p, ms, reps)
			}
		}
		return nil
	})
	return ports, nodes
}

// roles returns, from one node's CLUSTER NODES, the ports of the masters
// serving slots and, for each master port, its replicas' ports.
func roles(t *testing.T, port int) (masters []int, replicasOf map[int][]int) {
	t.Helper()
	out := cli(t, port, "CLUSTER NODES\n")
	byID := map[string]int{}
	type line struct {
		port             int
		flags, master    string
		slots            bool
		failed, isMaster bool
	}
	var lines []line
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		addr := f[1][:strings.IndexByte(f[1], '@')]
		p, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
		byID[f[0]] = p
		lines = append(lines, line{port: p, flags: f[2], master: f[3], slots: len(f) > 8,
			failed: strings.Contains(f[2], "fail"), isMaster: strings.Contains(f[2], "master")})
	}
	replicasOf = map[int][]int{}
	for _, l := range lines {
		if l.isMaster && l.slots && !l.failed {
			masters = append(masters, l.port)
		}
		if !l.isMaster && l.master != "-" {
			replicasOf[byID[l.master]] = append(replicasOf[byID[l.master]], l.port)
		}
	}
	return masters, replicasOf
}

// counterWriter INCRs counters through a cluster client and remembers,
// per counter, the highest value a write was acknowledged with.
type counterWriter struct {
	rc       *redis.ClusterClient
	ports    []int
	mu       sync.Mutex
	acked    map[string]int64
	errs     int
	firstErr time.Time
	lastErr  time.Time
	lastOK   time.Time
}

func newCounterWriter(t *testing.T, ports []int) *counterWriter {
	return &counterWriter{rc: clusterClient(t, ports, -1), acked: map[string]int64{}, ports: ports}
}

// clusterClient is a go-redis cluster client with short timeouts;
// retries -1 reports every failure instead of retrying it.
func clusterClient(t *testing.T, ports []int, retries int) *redis.ClusterClient {
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	rc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		DialTimeout: 300 * time.Millisecond, MaxRedirects: 3, MaxRetries: retries,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { rc.Close() })
	return rc
}

// run writes until stop is closed.
func (w *counterWriter) run(stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		key := "counter:" + strconv.Itoa(i%30)
		v, err := w.rc.Incr(context.Background(), key).Result()
		w.mu.Lock()
		if err != nil {
			if w.errs == 0 {
				w.firstErr = time.Now()
			}
			w.errs++
			w.lastErr = time.Now()
			w.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if v <= w.acked[key] {
			// A counter read back lower than acknowledged before: a lost
			// write shows here as the same value acknowledged twice.
			w.acked["!backwards:"+key] = v
		}
		w.acked[key] = max(w.acked[key], v)
		w.lastOK = time.Now()
		w.mu.Unlock()
	}
}

// check reads every counter and reports the acknowledged writes lost.
func (w *counterWriter) check(t *testing.T, strict bool) (lost int64) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range w.acked {
		if strings.HasPrefix(k, "!backwards:") {
			if strict {
				t.Errorf("%s went backwards (INCR acknowledged %d again)", k[11:], v)
			}
			continue
		}
		var got int64
		rc := clusterClient(t, w.ports, 5) // a fresh view of the slots
		eventually(t, 10*time.Second, func() error {
			var err error
			got, err = rc.Get(context.Background(), k).Int64()
			return err
		})
		if got < v {
			lost += v - got
			if strict {
				t.Errorf("%s = %d, but INCR was acknowledged with %d", k, got, v)
			}
		}
	}
	return lost
}

// The tutorial's failover: kill -9 a master under a counter workload.
func TestClusterFailoverTutorial(t *testing.T) {
	ports, nodes := haCluster(t)
	checkCluster(t, ports[0])
	masters, replicasOf := roles(t, ports[0])
	if len(masters) != 3 {
		t.Fatalf("masters %v", masters)
	}
	victim := masters[0]
	if len(replicasOf[victim]) != 1 {
		t.Fatalf("replicas of %d: %v", victim, replicasOf)
	}
	heir := replicasOf[victim][0]

	w := newCounterWriter(t, ports)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.run(stop) }()
	time.Sleep(2 * time.Second)
	if err := nodes[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-nodes[victim].done
	killed := time.Now()

	// The replica takes over; the cluster is whole again.
	eventually(t, 30*time.Second, func() error {
		ms, _ := roles(t, heir)
		for _, m := range ms {
			if m == heir {
				return nil
			}
		}
		return fmt.Errorf("%d not a master yet: masters %v", heir, ms)
	})
	promoted := time.Now()
	for _, p := range ports {
		if p == victim {
			continue
		}
		eventually(t, 20*time.Second, func() error {
			if s := infoValue(cli(t, p, "CLUSTER INFO\n"), "cluster_state"); s != "ok" {
				return fmt.Errorf("node %d: cluster_state:%s", p, s)
			}
			return nil
		})
	}
	log := readLog(t, nodes[heir])
	for _, want := range []string{"Start of election delayed for", "Starting a failover election for epoch",
		"Failover election won: I'm the new master.", "after successful failover"} {
		if !strings.Contains(log, want) {
			t.Errorf("the new master's log lacks %q", want)
		}
	}
	// Writes succeed again after the failover window.
	eventually(t, 10*time.Second, func() error {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.lastOK.After(promoted) {
			return errors.New("no write succeeded since the promotion")
		}
		return nil
	})

	// The killed node comes back as a replica of its replacement.
	old := startClusterNode(t, victim, false, nodes[victim].dir)
	nodes[victim] = old
	eventually(t, 30*time.Second, func() error {
		info := cli(t, victim, "INFO replication\n")
		if infoValue(info, "role") != "slave" || infoValue(info, "master_port") != strconv.Itoa(heir) ||
			infoValue(info, "master_link_status") != "up" {
			return fmt.Errorf("restarted node: role %s of %s, link %s", infoValue(info, "role"),
				infoValue(info, "master_port"), infoValue(info, "master_link_status"))
		}
		return nil
	})
	close(stop)
	wg.Wait()
	w.mu.Lock()
	window := w.lastErr.Sub(killed)
	errs := w.errs
	w.mu.Unlock()
	lost := w.check(t, false)
	t.Logf("kill -9 at %s; promoted %v later; %d write errors, the last %v after the kill; %d acknowledged increments lost (asynchronous replication)",
		killed.Format("15:04:05.000"), promoted.Sub(killed).Round(time.Millisecond), errs, window.Round(time.Millisecond), lost)
	if errs > 0 && w.firstErr.Before(killed) {
		t.Errorf("write errors before the kill (first at %s)", w.firstErr.Format("15:04:05.000"))
	}

	// Every node tells the same story; redis-cli agrees.
	checkCluster(t, ports[1])
	eventually(t, 20*time.Second, func() error {
		want := nodesView(t, ports[0])
		for _, p := range ports[1:] {
			got := nodesView(t, p)
			for id, l := range want {
				if got[id] != l {
					return fmt.Errorf("node %d sees %s as %q, node %d as %q", p, id, got[id], ports[0], l)
				}
			}
		}
		return nil
	})
	ms, reps := roles(t, ports[0])
	if len(ms) != 3 || len(reps[heir]) != 1 || reps[heir][0] != victim {
		t.Errorf("after the failover: masters %v, replicas %v", ms, reps)
	}
}

// CLUSTER FAILOVER on a replica under writes: the master pauses writes,
// the replica catches up, then takes over; no acknowledged write is lost.
func TestClusterManualFailoverLosesNothing(t *testing.T) {
	ports, nodes := haCluster(t)
	masters, replicasOf := roles(t, ports[0])
	master := masters[1]
	replica := replicasOf[master][0]
	w := newCounterWriter(t, ports)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.run(stop) }()
	time.Sleep(time.Second)
	if out := cli(t, replica, "CLUSTER FAILOVER\n"); strings.TrimSpace(out) != "OK" {
		t.Fatalf("CLUSTER FAILOVER: %s", out)
	}
	eventually(t, 20*time.Second, func() error {
		ms, reps := roles(t, master)
		if len(ms) != 3 || !contains(ms, replica) || len(reps[replica]) != 1 || reps[replica][0] != master {
			return fmt.Errorf("masters %v, replicas %v", ms, reps)
		}
		return nil
	})
	time.Sleep(time.Second) // writes continue against the new master
	close(stop)
	wg.Wait()
	if lost := w.check(t, true); lost != 0 {
		t.Errorf("%d acknowledged increments lost in a manual failover", lost)
	}
	log := readLog(t, nodes[replica])
	for _, want := range []string{"Manual failover user request accepted.",
		"All master replication stream processed, manual failover can start.", "Failover election won: I'm the new master."} {
		if !strings.Contains(log, want) {
			t.Errorf("the replica's log lacks %q", want)
		}
	}
	if !strings.Contains(readLog(t, nodes[master]), "Manual failover requested by replica") {
		t.Errorf("the old master's log lacks the manual failover request")
	}
	checkCluster(t, ports[2])
}

func contains(a []int, x int) bool {
	for _, v := range a {
		if v == x {
			return true
		}
	}
	return false
}

// A rolling restart of every master with shutdown-on-sigterm failover:
// each master hands its slots to its replica before it exits, so a
// client (go-redis with its default retries) sees no error at all and
// every acknowledged write is kept.
func TestClusterRollingRestartHandsOver(t *testing.T) {
	ports, nodes := haCluster(t)
	for _, p := range ports {
		if out := cli(t, p, "CONFIG SET shutdown-on-sigterm \"default failover\"\n"); strings.TrimSpace(out) != "OK" {
			t.Fatalf("CONFIG SET on %d: %s", p, out)
		}
	}
	masters, _ := roles(t, ports[0])
	w := newCounterWriter(t, ports)
	w.rc = clusterClient(t, ports, 3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.run(stop) }()
	time.Sleep(time.Second)
	for _, m := range masters {
		_, reps := roles(t, m)
		heir := reps[m][0]
		n := nodes[m]
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(20 * time.Second):
			n.cmd.Process.Signal(syscall.SIGQUIT)
			<-n.done
			dump, _ := os.ReadFile(filepath.Join(n.dir, "stderr"))
			t.Fatalf("master %d did not stop:\n%s\n%s", m, tail(readLog(t, n), 15), dump)
		}
		if log := readLog(t, n); !strings.Contains(log, "took over my slots") {
			t.Fatalf("master %d did not hand over:\n%s", m, tail(log, 20))
		}
		ms, _ := roles(t, heir)
		if !contains(ms, heir) {
			t.Fatalf("replica %d is not a master after the hand-over: %v", heir, ms)
		}
		// Back as a replica of its heir.
		nodes[m] = startClusterNode(t, m, false, n.dir)
		eventually(t, 30*time.Second, func() error {
			info := cli(t, m, "INFO replication\n")
			if infoValue(info, "master_port") != strconv.Itoa(heir) || infoValue(info, "master_link_status") != "up" {
				return fmt.Errorf("restarted %d: %s of %s", m, infoValue(info, "role"), infoValue(info, "master_port"))
			}
			return nil
		})
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	w.mu.Lock()
	errs := w.errs
	w.mu.Unlock()
	if errs != 0 {
		t.Errorf("%d write errors during the rolling restart", errs)
	}
	if lost := w.check(t, true); lost != 0 {
		t.Errorf("%d acknowledged increments lost", lost)
	}
	checkCluster(t, ports[0])
}

// Failovers in a mixed cluster: a redgo replica replaces a redis-server
// 7.0 master, and a redis-server replica replaces a redgo master; the
// messages are Redis's, so each side votes for the other's replicas.
func TestClusterMixedFailover(t *testing.T) {
	need(t, "redis-cli")
	need(t, "redis-server")
	ports := busPorts(t, 6, false)
	isRedis := map[int]bool{}
	nodes := map[int]*clusterNode{}
	for i, p := range ports {
		isRedis[p] = i%2 == 0
		nodes[p] = startClusterNode(t, p, isRedis[p])
	}
	// Masters: redis, redgo, redis; then each replica is made to follow a
	// master of the other kind.
	createClusterReplicas(t, ports, 1)
	masters, _ := roles(t, ports[0])
	var replicas []int
	for _, p := range ports {
		if !contains(masters, p) {
			replicas = append(replicas, p)
		}
	}
	if len(masters) != 3 || len(replicas) != 3 {
		t.Fatalf("masters %v, replicas %v", masters, replicas)
	}
	var pairs [][2]int // master, replica of the other kind
	used := map[int]bool{}
	for _, m := range masters {
		for _, r := range replicas {
			if !used[r] && isRedis[r] != isRedis[m] {
				used[r] = true
				pairs = append(pairs, [2]int{m, r})
				break
			}
		}
	}
	if len(pairs) < 2 {
		t.Skipf("redis-cli made no mixed pairs: masters %v", masters)
	}
	for _, pr := range pairs {
		id := strings.TrimSpace(cli(t, pr[0], "CLUSTER MYID\n"))
		eventually(t, 10*time.Second, func() error {
			if out := strings.TrimSpace(cli(t, pr[1], "CLUSTER REPLICATE "+id+"\n")); out != "OK" {
				return fmt.Errorf("CLUSTER REPLICATE on %d: %s", pr[1], out)
			}
			return nil
		})
	}
	for _, pr := range pairs {
		eventually(t, 30*time.Second, func() error {
			info := cli(t, pr[1], "INFO replication\n")
			if infoValue(info, "master_port") != strconv.Itoa(pr[0]) || infoValue(info, "master_link_status") != "up" {
				return fmt.Errorf("replica %d: %s of %s, link %s", pr[1], infoValue(info, "role"),
					infoValue(info, "master_port"), infoValue(info, "master_link_status"))
			}
			return nil
		})
	}
	var redisMaster, redgoMaster [2]int
	for _, pr := range pairs {
		if isRedis[pr[0]] {
			redisMaster = pr
		} else {
			redgoMaster = pr
		}
	}
	if redisMaster[0] == 0 || redgoMaster[0] == 0 {
		t.Skipf("no pair of each kind: %v", pairs)
	}
	rc := clusterClient(t, ports, 3)
	for i := range 50 {
		if err := rc.Set(context.Background(), "k:"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Replication is asynchronous: the writes must have reached the
	// replicas before the kills for the test to expect them afterwards.
	for _, pr := range pairs {
		eventually(t, 10*time.Second, func() error {
			mo := infoValue(cli(t, pr[0], "INFO replication\n"), "master_repl_offset")
			if ro := infoValue(cli(t, pr[1], "INFO replication\n"), "slave_repl_offset"); ro != mo {
				return fmt.Errorf("replica %d at %s, master %d at %s", pr[1], ro, pr[0], mo)
			}
			return nil
		})
	}
	for _, pr := range [][2]int{redisMaster, redgoMaster} {
		m, r := pr[0], pr[1]
		nodes[m].cmd.Process.Signal(syscall.SIGKILL)
		<-nodes[m].done
		eventually(t, 30*time.Second, func() error {
			for _, p := range ports {
				if p == m || p == redisMaster[0] && m != redisMaster[0] {
					continue
				}
				ms, _ := roles(t, p)
				if !contains(ms, r) {
					return fmt.Errorf("node %d does not see %d as a master: %v", p, r, ms)
				}
				if s := infoValue(cli(t, p, "CLUSTER INFO\n"), "cluster_state"); s != "ok" {
					return fmt.Errorf("node %d: cluster_state:%s", p, s)
				}
			}
			return nil
		})
		kind := map[bool]string{true: "redis-server", false: "redgo"}
		t.Logf("%s replica %d replaced %s master %d", kind[isRedis[r]], r, kind[isRedis[m]], m)
	}
	rc = clusterClient(t, []int{redisMaster[1], redgoMaster[1]}, 3) // a fresh view of the slots
	for i := range 50 {
		v, err := rc.Get(context.Background(), "k:"+strconv.Itoa(i)).Int()
		if err != nil || v != i {
			t.Errorf("k:%d = %d, %v after the failovers", i, v, err)
		}
	}
}
