package test

// Clusters of redgo processes (and redis-server 7.0 processes) joined by
// the real redis-cli --cluster create, checked with redis-cli --cluster
// check and used with redis-cli -c; and `redgo cluster up` as a user runs it.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// busPorts returns n client ports p (consecutive when consecutive is set)
// such that p and p+10000 are free.
func busPorts(t *testing.T, n int, consecutive bool) []int {
	t.Helper()
	free := func(p int) bool {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
	for range 200 {
		// Below the kernel's ephemeral range (32768-60999), where
		// connections come and go: 4000-8999, bus ports 14000-18999.
		base := 4000 + rand.Intn(5000)
		var ports []int
		for p := base; len(ports) < n && p < base+n*20; p++ {
			if free(p) && free(p+10000) {
				ports = append(ports, p)
			} else if consecutive {
				break
			}
		}
		if len(ports) == n {
			return ports
		}
	}
	t.Fatal("no free ports")
	return nil
}

// clusterNode is one node process of a test cluster.
type clusterNode struct {
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process ended
}

// startClusterNode runs a redgo (or, with redis set, a redis-server)
// node with the tutorial's cluster config on port, in dir ("": a new
// temporary directory).
func startClusterNode(t *testing.T, port int, redis bool, dir ...string) *clusterNode {
	t.Helper()
	d := ""
	if len(dir) > 0 {
		d = dir[0]
	} else {
		d = t.TempDir()
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", d,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000",
		"--appendonly", "yes", "--logfile", "log", "--repl-diskless-sync-delay", "0",
		// redis-cli --cluster fix compares a key found on two nodes with
		// DEBUG DIGEST-VALUE before it replaces it.
		"--enable-debug-command", "local"}
	var cmd *exec.Cmd
	if redis {
		cmd = exec.Command(need(t, "redis-server"), args...)
	} else {
		cmd = exec.Command(redgoBinary(t), append([]string{"server"}, args...)...)
	}
	cmd.Dir = d
	// A crash's stack trace (or a SIGQUIT dump) lands in dir/stderr.
	if f, err := os.Create(filepath.Join(d, "stderr")); err == nil {
		cmd.Stderr = f
		defer f.Close()
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{port: port, dir: d, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(d, "log"))
			t.Logf("log of node %d:\n%s", port, tail(string(log), 400))
		}
	})
	eventually(t, 10*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err
	})
	return n
}

// stop ends the node with SIGTERM (SIGKILL after 10 s) and waits.
func (n *clusterNode) stop() {
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

// readLog returns the node's log file.
func readLog(t *testing.T, n *clusterNode) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// redisCli runs redis-cli with args (no stdin) and returns its output.
func redisCli(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(need(t, "redis-cli"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("redis-cli %v timed out", args)
	}
}

func infoValue(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}

// createCluster joins ports with redis-cli --cluster create and waits
// for cluster_state:ok on every node.
func createCluster(t *testing.T, ports []int) { createClusterReplicas(t, ports, 0) }

// createClusterReplicas is createCluster with --cluster-replicas r.
func createClusterReplicas(t *testing.T, ports []int, r int) {
	t.Helper()
	args := []string{"--cluster", "create"}
	for _, p := range ports {
		args = append(args, fmt.Sprintf("127.0.0.1:%d", p))
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(r), "--cluster-yes")
	out, err := redisCli(t, 90*time.Second, args...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered") {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	eventually(t, 30*time.Second, func() error {
		for _, p := range ports {
			info, _ := redisCli(t, 10*time.Second, "-p", strconv.Itoa(p), "CLUSTER", "INFO")
			if s := infoValue(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("node %d: cluster_state:%s", p, s)
			}
			if k := infoValue(info, "cluster_known_nodes"); k != strconv.Itoa(len(ports)) {
				return fmt.Errorf("node %d knows %s nodes", p, k)
			}
		}
		return nil
	})
}

// checkCluster runs redis-cli --cluster check on port and wants it clean.
func checkCluster(t *testing.T, port int) {
	t.Helper()
	out, err := redisCli(t, 30*time.Second, "--cluster", "check", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered") ||
		!strings.Contains(out, "[OK] All nodes agree about slots configuration") ||
		strings.Contains(out, "[ERR]") || strings.Contains(out, "[WARNING]") {
		t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
	}
}

// useCluster writes keys through one node and reads them through another
// with redis-cli -c, and wants keys on every master.
func useCluster(t *testing.T, ports []int) {
	t.Helper()
	const n = 60
	var script strings.Builder
	for i := range n {
		fmt.Fprintf(&script, "SET key:%d value:%d\n", i, i)
	}
	if out := cli(t, ports[0], script.String(), "-c"); strings.Count(out, "OK") != n {
		t.Fatalf("SET through -c:\n%s", out)
	}
	script.Reset()
	for i := range n {
		fmt.Fprintf(&script, "GET key:%d\n", i)
	}
	out := cli(t, ports[len(ports)-1], script.String(), "-c")
	for i := range n {
		if !strings.Contains(out, fmt.Sprintf("value:%d\n", i)) {
			t.Fatalf("GET key:%d through -c:\n%s", i, out)
		}
	}
	total := 0
	for _, p := range ports {
		c, err := strconv.Atoi(strings.TrimSpace(cli(t, p, "DBSIZE\n")))
		if err != nil || c == 0 {
			t.Fatalf("node %d holds %d keys (%v)", p, c, err)
		}
		total += c
	}
	if total != n {
		t.Fatalf("%d keys over the masters, want %d", total, n)
	}
}

// A cluster of three redgo nodes created, checked and used with the real
// redis-cli, as the cluster tutorial does.
func TestClusterRedisCliCreate(t *testing.T) {
	need(t, "redis-cli")
	ports := busPorts(t, 3, false)
	var nodes []*clusterNode
	for _, p := range ports {
		nodes = append(nodes, startClusterNode(t, p, false))
	}
	createCluster(t, ports)
	checkCluster(t, ports[0])
	useCluster(t, ports)
	// Still healthy a node timeout later (no false failure detection).
	time.Sleep(4 * time.Second)
	checkCluster(t, ports[1])
	var views []map[string]string
	for _, p := range ports {
		if out := cli(t, p, "CLUSTER NODES\n"); strings.Contains(out, "fail") {
			t.Fatalf("node %d:\n%s", p, out)
		}
		views = append(views, nodesView(t, p))
		if out := cli(t, p, "CLUSTER LINKS\n"); strings.Count(out, "direction\nto\n") != len(ports)-1 {
			t.Fatalf("node %d CLUSTER LINKS:\n%s", p, out)
		}
	}

	goRedisCluster(t, ports)

	// Restarting every node keeps the IDs, epochs and slots (nodes.conf)
	// and the data (AOF).
	for _, n := range nodes {
		n.stop()
	}
	for _, n := range nodes {
		startClusterNode(t, n.port, false, n.dir)
	}
	eventually(t, 30*time.Second, func() error {
		for i, p := range ports {
			if s := infoValue(cli(t, p, "CLUSTER INFO\n"), "cluster_state"); s != "ok" {
				return fmt.Errorf("node %d: cluster_state:%s", p, s)
			}
			got := nodesView(t, p)
			for id, l := range views[i] {
				if got[id] != l {
					return fmt.Errorf("node %d sees %s as %q after the restart, was %q", p, id, got[id], l)
				}
			}
		}
		return nil
	})
	checkCluster(t, ports[2])
	out := cli(t, ports[1], "GET key:7\nGET key:42\n", "-c")
	if !strings.Contains(out, "value:7\n") || !strings.Contains(out, "value:42\n") {
		t.Fatalf("after the restart: %q", out)
	}
}

// nodesView is one node's CLUSTER NODES without its own point of view:
// id -> "addr role epoch slots".
func nodesView(t *testing.T, port int) map[string]string {
	t.Helper()
	out := cli(t, port, "CLUSTER NODES\n")
	v := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		flags := strings.ReplaceAll(f[2], "myself,", "")
		v[f[0]] = strings.Join(append([]string{f[1], flags, f[3], f[6], f[7]}, f[8:]...), " ")
	}
	return v
}

// Three redis-server 7.0 nodes and three redgo nodes created as one
// cluster by redis-cli: everyone ok, everyone's CLUSTER NODES agrees.
// redis-cli sends the MEETs from the first node: a redis-server in one
// run, a redgo node in the other.
func TestClusterMixedRedisCliCreate(t *testing.T) {
	need(t, "redis-cli")
	need(t, "redis-server")
	for _, first := range []string{"redis", "redgo"} {
		t.Run(first+" meets", func(t *testing.T) { mixedCluster(t, first == "redis") })
	}
}

func mixedCluster(t *testing.T, redisFirst bool) {
	ports := busPorts(t, 6, false)
	for i, p := range ports {
		startClusterNode(t, p, (i%2 == 0) == redisFirst)
	}
	createCluster(t, ports)
	checkCluster(t, ports[1])
	eventually(t, 30*time.Second, func() error {
		want := nodesView(t, ports[0])
		if len(want) != 6 {
			return fmt.Errorf("node %d lists %d nodes", ports[0], len(want))
		}
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
	useCluster(t, ports)
}

// `redgo cluster up` as a user runs it: a clean cluster, and SIGTERM
// stops every node.
func TestClusterUp(t *testing.T) {
	need(t, "redis-cli")
	bin := redgoBinary(t)
	ports := busPorts(t, 6, true)
	dir := t.TempDir()
	cmd := exec.Command(bin, "cluster", "up", "--dir", dir, "--port-base", strconv.Itoa(ports[0]))
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	lines := make(chan string, 100)
	var output strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(90 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("cluster up ended:\n%s", output.String())
			}
			output.WriteString(l + "\n")
			ready = strings.Contains(l, fmt.Sprintf("cli -c -p %d", ports[0])) // "Connect with: redgo cli -c -p N"
		case <-deadline:
			t.Fatalf("cluster up not ready:\n%s", output.String())
		}
	}
	checkCluster(t, ports[0])
	useCluster(t, ports[:3])
	// 3 masters and 3 replicas, each replica following one master.
	masters := map[string]bool{}
	for _, p := range ports[3:] {
		info := cli(t, p, "INFO replication\n")
		if infoValue(info, "role") != "slave" || infoValue(info, "master_link_status") != "up" {
			t.Fatalf("node %d:\n%s", p, info)
		}
		masters[infoValue(info, "master_port")] = true
	}
	if len(masters) != 3 {
		t.Fatalf("the replicas follow %v", masters)
	}
	var pids []int
	for _, p := range ports {
		pid, err := strconv.Atoi(infoValue(cli(t, p, "INFO server\n"), "process_id"))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
		if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(p), "nodes.conf")); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("cluster up exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cluster up did not stop on SIGTERM")
	}
	for l := range lines {
		output.WriteString(l + "\n")
	}
	if !strings.Contains(output.String(), "All nodes stopped.") {
		t.Fatalf("output:\n%s", output.String())
	}
	sort.Ints(pids)
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Fatalf("node pid %d still running after cluster up stopped", pid)
		}
	}
}

// goRedisCluster runs a mixed workload through go-redis's ClusterClient.
func goRedisCluster(t *testing.T, ports []int) {
	t.Helper()
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	for i := range 200 {
		k := fmt.Sprintf("gr:%d", i)
		if err := c.Set(bg, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		if err := c.HSet(bg, "{h"+k+"}", "f", i).Err(); err != nil {
			t.Fatalf("HSET: %v", err)
		}
		if err := c.LPush(bg, "{h"+k+"}:l", i, i+1).Err(); err != nil {
			t.Fatalf("LPUSH: %v", err)
		}
	}
	for i := range 200 {
		k := fmt.Sprintf("gr:%d", i)
		if v, err := c.Incr(bg, k).Result(); err != nil || v != int64(i+1) {
			t.Fatalf("INCR %s: %d %v", k, v, err)
		}
	}
	vals, err := c.MGet(bg, "{t}a", "{t}b").Result()
	if err != nil || len(vals) != 2 {
		t.Fatalf("MGET: %v %v", vals, err)
	}
	pipe := c.Pipeline()
	cmds := make([]*redis.StringCmd, 50)
	for i := range cmds {
		cmds[i] = pipe.Get(bg, fmt.Sprintf("gr:%d", i))
	}
	if _, err := pipe.Exec(bg); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for i, cmd := range cmds {
		if cmd.Val() != strconv.Itoa(i+1) {
			t.Fatalf("pipelined GET gr:%d = %q", i, cmd.Val())
		}
	}
	if err := c.ForEachMaster(bg, func(ctx context.Context, m *redis.Client) error {
		return m.Ping(ctx).Err()
	}); err != nil {
		t.Fatal(err)
	}
}
