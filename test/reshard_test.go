package test

// Resharding with the real redis-cli on redgo processes (and on a cluster
// mixing redgo and redis-server 7.0): --cluster reshard, rebalance (weights,
// --cluster-use-empty-masters, threshold), add-node as a master and as a
// replica, del-node, each under a client load that must see nothing but
// redirections; after each, --cluster check is clean and every key is
// where it belongs with its last value. And a MIGRATE interrupted by
// killing its target: no key is lost, and --cluster fix finishes the slot.

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyLoad reads and writes keys through a cluster client: each worker
// owns its keys and checks every read against its last acknowledged
// write. Errors are kept (a missing key, a stale value, any error the
// client could not get past by following redirections).
type keyLoad struct {
	rc   *redis.ClusterClient
	keys int // per worker
	mu   sync.Mutex
	errs []string
	ops  int
	last [][]int // per worker, per key: the last value written
	stop chan struct{}
	wg   sync.WaitGroup
}

func startKeyLoad(t *testing.T, ports []int, workers, keys int) *keyLoad {
	t.Helper()
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 16,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	t.Cleanup(func() { rc.Close() })
	l := &keyLoad{rc: rc, keys: keys, stop: make(chan struct{})}
	for w := range workers {
		l.last = append(l.last, make([]int, keys))
		for k := range keys {
			if err := rc.Set(context.Background(), l.key(w, k), "0", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for w := range workers {
		l.wg.Add(1)
		go l.run(w)
	}
	t.Cleanup(l.halt)
	return l
}

func (l *keyLoad) key(w, k int) string { return fmt.Sprintf("load:%d:%d", w, k) }

func (l *keyLoad) run(w int) {
	defer l.wg.Done()
	ctx := context.Background()
	for n := 1; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		k := (n * 7919) % l.keys
		key := l.key(w, k)
		var msg string
		if n%2 == 0 {
			if err := l.rc.Set(ctx, key, strconv.Itoa(n), 0).Err(); err != nil {
				msg = fmt.Sprintf("SET %s: %v", key, err)
			} else {
				l.last[w][k] = n
			}
		} else {
			v, err := l.rc.Get(ctx, key).Result()
			if err != nil || v != strconv.Itoa(l.last[w][k]) {
				msg = fmt.Sprintf("GET %s: %q %v, want %d", key, v, err, l.last[w][k])
			}
		}
		l.mu.Lock()
		l.ops++
		if msg != "" {
			l.errs = append(l.errs, msg)
		}
		l.mu.Unlock()
		if msg != "" {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (l *keyLoad) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// check wants no error so far and that the load ran.
func (l *keyLoad) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		t.Fatalf("the client load saw %d errors, first: %s", len(l.errs), l.errs[0])
	}
	if l.ops == 0 {
		t.Fatal("the client load did not run")
	}
}

// fillKeys writes n keys through a cluster client.
func fillKeys(t *testing.T, ports []int, n int) {
	t.Helper()
	var script strings.Builder
	for i := range n {
		fmt.Fprintf(&script, "SET data:%d v%d\n", i, i)
	}
	if out := cli(t, ports[0], script.String(), "-c"); strings.Count(out, "OK") != n {
		t.Fatalf("filling the cluster: %.300s", out)
	}
}

// checkKeys wants every key of fillKeys on the master that owns its slot
// (asked without -c: a redirection is an error) with its value, and as
// many keys over the masters as written, plus the load's.
func checkKeys(t *testing.T, ports []int, n, extra int) {
	t.Helper()
	total := 0
	for _, p := range ports {
		if infoValue(cli(t, p, "INFO replication\n"), "role") != "master" {
			continue
		}
		c, _ := strconv.Atoi(strings.TrimSpace(cli(t, p, "DBSIZE\n")))
		total += c
	}
	if total != n+extra {
		t.Fatalf("%d keys over the masters, want %d", total, n+extra)
	}
	var script strings.Builder
	for i := range n {
		fmt.Fprintf(&script, "GET data:%d\n", i)
	}
	lines := cliLines(t, ports[0], script.String())
	for i := range n {
		if i >= len(lines) || lines[i] != "v"+strconv.Itoa(i) {
			t.Fatalf("data:%d reads %q", i, at(lines, i))
		}
	}
}

// cliLines runs script with redis-cli -c and returns its output lines
// without the redirection notes.
func cliLines(t *testing.T, port int, script string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(cli(t, port, script, "-c")), "\n") {
		if !strings.HasPrefix(l, "-> Redirected") {
			lines = append(lines, l)
		}
	}
	return lines
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

// nodeID returns the node ID of the node on port.
func nodeID(t *testing.T, port int) string {
	t.Helper()
	return strings.TrimSpace(cli(t, port, "CLUSTER MYID\n"))
}

// clusterCli runs redis-cli --cluster args and wants it to succeed.
func clusterCli(t *testing.T, args ...string) string {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("redis-cli --cluster %s: %v", args[0], time.Since(start).Round(time.Millisecond)) }()
	out, err := redisCli(t, 5*time.Minute, append([]string{"--cluster"}, args...)...)
	if err != nil || strings.Contains(out, "[ERR]") {
		t.Fatalf("redis-cli --cluster %s: %v\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return out
}

// waitAgree waits until every node knows exactly the nodes of ports, is
// ok, and every node's view of the slots agrees (--cluster check clean from each).
func waitAgree(t *testing.T, ports []int) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		for _, p := range ports {
			info := cli(t, p, "CLUSTER INFO\n")
			if k := infoValue(info, "cluster_known_nodes"); k != strconv.Itoa(len(ports)) {
				return fmt.Errorf("node %d knows %s nodes, want %d", p, k, len(ports))
			}
			if st := infoValue(info, "cluster_state"); st != "ok" {
				return fmt.Errorf("node %d: cluster_state:%s", p, st)
			}
		}
		for _, p := range ports {
			out, err := redisCli(t, 30*time.Second, "--cluster", "check", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil || strings.Contains(out, "[ERR]") || strings.Contains(out, "[WARNING]") ||
				!strings.Contains(out, "[OK] All 16384 slots covered") {
				return fmt.Errorf("check from %d: %v\n%s", p, err, out)
			}
		}
		return nil
	})
}

func slotsOf(t *testing.T, port int, id string) int {
	t.Helper()
	for _, l := range strings.Split(cli(t, port, "CLUSTER NODES\n"), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 || f[0] != id {
			continue
		}
		n := 0
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			lo, hi, ok := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if ok {
				b, _ = strconv.Atoi(hi)
			}
			n += b - a + 1
		}
		return n
	}
	return -1
}

// The resharding tools on a redgo cluster under a client load:
// reshard (pipelined), rebalance with weights and a threshold, add-node
// as a master and rebalance with --cluster-use-empty-masters, add-node
// as a replica, del-node of a master emptied by rebalance.
func TestClusterReshardingTools(t *testing.T) {
	if testing.Short() {
		t.Skip("moves hundreds of slots with redis-cli: not in -short")
	}
	need(t, "redis-cli")
	ports := busPorts(t, 5, false)
	for _, p := range ports { // all now: a port free now may be taken later
		startClusterNode(t, p, false)
	}
	createCluster(t, ports[:3])
	const n = 2000
	fillKeys(t, ports[:3], n)
	load := startKeyLoad(t, ports[:3], 3, 40)
	const loadKeys = 3 * 40
	ids := []string{nodeID(t, ports[0]), nodeID(t, ports[1]), nodeID(t, ports[2])}
	addr := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }

	// reshard: 200 slots from the first master to the second.
	clusterCli(t, "reshard", addr(ports[0]), "--cluster-from", ids[0], "--cluster-to", ids[1],
		"--cluster-slots", "200", "--cluster-yes", "--cluster-pipeline", "7")
	waitAgree(t, ports[:3])
	if got := slotsOf(t, ports[2], ids[1]); got != 5462+200 {
		t.Fatalf("the second master has %d slots after reshard", got)
	}
	load.check(t)
	checkKeys(t, ports[:3], n, loadKeys)

	// rebalance with weights: the third master's weight asks it for
	// more; under the threshold nothing moves.
	out := clusterCli(t, "rebalance", addr(ports[0]), "--cluster-threshold", "50")
	if !strings.Contains(out, "No rebalancing needed") {
		t.Fatalf("rebalance under the threshold moved slots:\n%s", out)
	}
	clusterCli(t, "rebalance", addr(ports[0]), "--cluster-weight", ids[2]+"=1.05", "--cluster-pipeline", "5")
	waitAgree(t, ports[:3])
	if got := slotsOf(t, ports[0], ids[2]); got < 5600 {
		t.Fatalf("the third master has %d slots after rebalance", got)
	}
	load.check(t)
	checkKeys(t, ports[:3], n, loadKeys)

	// add-node as a master, then rebalance with the empty master (a
	// small weight keeps the move short).
	clusterCli(t, "add-node", addr(ports[3]), addr(ports[0]))
	waitAgree(t, ports[:4])
	id3 := nodeID(t, ports[3])
	clusterCli(t, "rebalance", addr(ports[0]), "--cluster-use-empty-masters", "--cluster-weight", id3+"=0.05")
	waitAgree(t, ports[:4])
	if got := slotsOf(t, ports[0], id3); got == 0 {
		t.Fatal("the new master got no slot")
	}
	load.check(t)
	checkKeys(t, ports[:4], n, loadKeys)

	// add-node as a replica of the first master.
	clusterCli(t, "add-node", addr(ports[4]), addr(ports[0]), "--cluster-slave", "--cluster-master-id", ids[0])
	eventually(t, 30*time.Second, func() error {
		info := cli(t, ports[4], "INFO replication\n")
		if infoValue(info, "master_link_status") != "up" {
			return fmt.Errorf("the new replica is not in sync")
		}
		a, b := cli(t, ports[4], "DBSIZE\n"), cli(t, ports[0], "DBSIZE\n")
		if a != b {
			return fmt.Errorf("replica has %s keys, master %s", a, b)
		}
		return nil
	})

	// del-node: empty the added master with rebalance (weight 0), then
	// remove it.
	clusterCli(t, "rebalance", addr(ports[0]), "--cluster-weight", id3+"=0")
	waitAgree(t, ports)
	if got := slotsOf(t, ports[0], id3); got != 0 {
		t.Fatalf("the master to delete still has %d slots", got)
	}
	// (Having lost its last slot to a master, it follows it as a
	// replica now, as Redis 7.0's do with cluster-allow-replica-migration.)
	clusterCli(t, "del-node", addr(ports[0]), id3)
	rest := append(ports[:3:3], ports[4])
	waitAgree(t, rest)
	for _, p := range rest {
		if strings.Contains(cli(t, p, "CLUSTER NODES\n"), id3) {
			t.Fatalf("node %d still knows the deleted node", p)
		}
	}
	load.halt()
	load.check(t)
	checkKeys(t, rest, n, loadKeys)
	for w := range load.last {
		for k := range load.keys {
			got := at(cliLines(t, ports[0], "GET "+load.key(w, k)+"\n"), 0)
			if got != strconv.Itoa(load.last[w][k]) {
				t.Fatalf("%s is %q, last written %d", load.key(w, k), got, load.last[w][k])
			}
		}
	}
}

// A cluster of redgo and redis-server nodes: slots with keys move from
// redgo to redis-server and back with redis-cli --cluster reshard.
func TestClusterMixedReshard(t *testing.T) {
	need(t, "redis-cli")
	need(t, "redis-server")
	ports := busPorts(t, 3, false)
	startClusterNode(t, ports[0], false)
	startClusterNode(t, ports[1], true)
	startClusterNode(t, ports[2], false)
	createCluster(t, ports)
	const n = 1000
	fillKeys(t, ports, n)
	load := startKeyLoad(t, ports, 2, 30)
	ids := []string{nodeID(t, ports[0]), nodeID(t, ports[1]), nodeID(t, ports[2])}
	addr := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	for _, mv := range [][2]int{{0, 1}, {1, 2}, {2, 0}} {
		clusterCli(t, "reshard", addr(ports[0]), "--cluster-from", ids[mv[0]], "--cluster-to", ids[mv[1]],
			"--cluster-slots", "150", "--cluster-yes", "--cluster-pipeline", "10")
		waitAgree(t, ports)
		load.check(t)
		checkKeys(t, ports, n, 2*30)
	}
	load.halt()
	load.check(t)
}

// A MIGRATE of many keys whose target is killed midway: no key is lost
// (each is on the source, or on the target that acknowledged it), and
// redis-cli --cluster fix finishes the open slot.
func TestClusterMigrateTargetKilled(t *testing.T) {
	need(t, "redis-cli")
	ports := busPorts(t, 2, false)
	startClusterNode(t, ports[0], false)
	dst := startClusterNode(t, ports[1], false)
	createClusterSlots(t, ports)
	srcID, dstID := nodeID(t, ports[0]), nodeID(t, ports[1])
	// What the target acknowledges must survive its kill -9 (with the
	// default everysec, as with Redis, the last second could be lost).
	cli(t, ports[1], "CONFIG SET appendfsync always\n")
	// Every key in one slot of the source, large enough that the
	// transfer takes a while.
	const n = 5000
	val := strings.Repeat("v", 2000)
	var script strings.Builder
	for i := range n {
		fmt.Fprintf(&script, "SET {s}:%d %s%d\n", i, val, i)
	}
	if out := cli(t, ports[0], script.String()); strings.Count(out, "OK") != n {
		t.Fatalf("filling: %.200s", out)
	}
	sl := strings.TrimSpace(cli(t, ports[0], "CLUSTER KEYSLOT {s}\n"))
	cli(t, ports[1], "CLUSTER SETSLOT "+sl+" IMPORTING "+srcID+"\n")
	cli(t, ports[0], "CLUSTER SETSLOT "+sl+" MIGRATING "+dstID+"\n")

	// Kill -9 the target as soon as it has some of the keys.
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for range 2000 {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[1]))
			if err == nil {
				fmt.Fprintf(c, "DBSIZE\r\n")
				buf := make([]byte, 64)
				k, _ := c.Read(buf)
				c.Close()
				if k > 0 && string(buf[:k]) != ":0\r\n" {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		dst.cmd.Process.Signal(syscall.SIGKILL)
	}()
	var keys strings.Builder
	for i := range n {
		fmt.Fprintf(&keys, " {s}:%d", i)
	}
	out := cli(t, ports[0], "MIGRATE 127.0.0.1 "+strconv.Itoa(ports[1])+` "" 0 20000 KEYS`+keys.String()+"\n")
	<-killed
	<-dst.done
	left, _ := strconv.Atoi(strings.TrimSpace(cli(t, ports[0], "DBSIZE\n")))
	t.Logf("MIGRATE replied %q; %d of %d keys left on the source", strings.TrimSpace(out), left, n)

	// The target restarts from its AOF with the keys it acknowledged.
	startClusterNode(t, ports[1], false, dst.dir)
	cli(t, ports[1], "CONFIG SET appendfsync always\n")
	eventually(t, 30*time.Second, func() error {
		for _, p := range ports {
			if s := infoValue(cli(t, p, "CLUSTER INFO\n"), "cluster_state"); s != "ok" {
				return fmt.Errorf("node %d: cluster_state:%s", p, s)
			}
		}
		return nil
	})
	moved, _ := strconv.Atoi(strings.TrimSpace(cli(t, ports[1], "DBSIZE\n")))
	if left+moved < n {
		t.Fatalf("%d keys on the source + %d on the target < %d: keys were lost", left, moved, n)
	}
	fix, _ := redisCli(t, 5*time.Minute, "--cluster", "fix", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--cluster-yes")
	t.Logf("--cluster fix:\n%s", tail(fix, 30))
	if strings.Contains(fix, "[ERR]") && !strings.Contains(fix, "[OK] All 16384 slots covered") {
		t.Fatalf("--cluster fix:\n%s", tail(fix, 40))
	}
	waitAgree(t, ports)
	var get strings.Builder
	for i := range n {
		fmt.Fprintf(&get, "STRLEN {s}:%d\n", i)
	}
	lines := cliLines(t, ports[0], get.String())
	for i := range n {
		if want := strconv.Itoa(len(val) + len(strconv.Itoa(i))); at(lines, i) != want {
			t.Fatalf("{s}:%d after fix: STRLEN %q, want %s", i, at(lines, i), want)
		}
	}
	total := 0
	for _, p := range ports {
		c, _ := strconv.Atoi(strings.TrimSpace(cli(t, p, "DBSIZE\n")))
		total += c
	}
	if total != n {
		t.Fatalf("%d keys over the two nodes after fix, want %d (a key on both?)", total, n)
	}
}

// createClusterSlots joins two nodes with redis-cli --cluster create
// (which wants three masters) done by hand: the slots split in two
// halves, MEET, wait for ok.
func createClusterSlots(t *testing.T, ports []int) {
	t.Helper()
	half := 16384 / len(ports)
	for i, p := range ports {
		hi := (i+1)*half - 1
		if i == len(ports)-1 {
			hi = 16383
		}
		cli(t, p, fmt.Sprintf("CLUSTER ADDSLOTSRANGE %d %d\nCLUSTER SET-CONFIG-EPOCH %d\n", i*half, hi, i+1))
	}
	for _, p := range ports[1:] {
		cli(t, ports[0], fmt.Sprintf("CLUSTER MEET 127.0.0.1 %d\n", p))
	}
	eventually(t, 30*time.Second, func() error {
		for _, p := range ports {
			info := cli(t, p, "CLUSTER INFO\n")
			if infoValue(info, "cluster_state") != "ok" || infoValue(info, "cluster_known_nodes") != strconv.Itoa(len(ports)) {
				return fmt.Errorf("node %d not ready", p)
			}
		}
		return nil
	})
}
