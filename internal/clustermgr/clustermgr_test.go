package clustermgr_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/cli"
	"redgo/internal/clustermgr"
	"redgo/internal/localcluster"
	"redgo/internal/localcluster/lctest"
	"redgo/internal/resp"
)

// Ports: this package uses 22000-22399 (bus ports +10000), below the
// kernel's ephemeral range (32768-60999) where connections come and go.
const (
	baseRedgo = 22000
	baseRedis = 22100
	baseFix   = 22200
)

// TestMain turns redis-cli's colors off (they follow TERM) for every
// test, which may then run in parallel.
func TestMain(m *testing.M) {
	os.Setenv("TERM", "dumb")
	os.Exit(m.Run())
}

// run runs redgo cli --cluster args in process and returns stdout,
// stderr and the exit status.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	return runEnv(t, stdin, false, args...)
}

// runEnv is run, as on a terminal when tty is set.
func runEnv(t *testing.T, stdin string, tty bool, args ...string) (string, string, int) {
	t.Helper()
	var out, errw bytes.Buffer
	rc := clustermgr.Run(args, clustermgr.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errw, StdoutTTY: tty,
		FormatRaw: func(v resp.Value) string { return cli.FormatRaw(v, "\n") }})
	return out.String(), errw.String(), rc
}

// mustRun is run that fails the test on a non-zero status.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, rc := run(t, "", args...)
	if rc != 0 {
		t.Fatalf("redgo cli --cluster %s: status %d\n%s%s", strings.Join(args, " "), rc, out, errs)
	}
	return out
}

// startNodes starts n empty cluster nodes (redgo, or redis-server when
// bin is set) and stops them when the test ends.
func startNodes(t *testing.T, base, n int, serverBin string) localcluster.Layout {
	t.Helper()
	l := lctest.Layout(t, base)
	l.Nodes, l.ServerBin = n, serverBin
	exe := serverBin
	if exe == "" {
		exe = lctest.Binary(t)
	}
	l.PortBase = lctest.FreeBase(t, l)
	t.Cleanup(func() { lctest.Cleanup(t, l) })
	if err := localcluster.Start(l, exe, io.Discard); err != nil {
		t.Fatal(err)
	}
	return l
}

func addrs(l localcluster.Layout, ports []int) []string {
	var out []string
	for _, p := range ports {
		out = append(out, l.Addr(p))
	}
	return out
}

func client(addr string) *redis.Client { return redis.NewClient(&redis.Options{Addr: addr}) }

func myID(t *testing.T, addr string) string {
	t.Helper()
	c := client(addr)
	defer c.Close()
	id, err := c.Do(context.Background(), "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// nodeView is one line of CLUSTER NODES.
type nodeView struct {
	id, addr, master string
	replica          bool
	slots            int
}

// clusterView reads CLUSTER NODES from addr.
func clusterView(t *testing.T, addr string) map[string]nodeView {
	t.Helper()
	c := client(addr)
	defer c.Close()
	txt, err := c.Do(context.Background(), "CLUSTER", "NODES").Text()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]nodeView{}
	for _, line := range strings.Split(strings.TrimSpace(txt), "\n") {
		f := strings.Fields(line)
		v := nodeView{id: f[0], master: f[3], replica: strings.Contains(f[2], "slave")}
		v.addr, _, _ = strings.Cut(f[1], "@")
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue
			}
			lo, hi, ok := strings.Cut(s, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if ok {
				b, _ = strconv.Atoi(hi)
			}
			v.slots += b - a + 1
		}
		out[v.addr] = v
	}
	return out
}

// eventually polls fn until it returns nil.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// agreed waits until every node of the cluster says cluster_state:ok and
// knows n nodes.
func agreed(t *testing.T, addrs []string, n int) {
	t.Helper()
	eventually(t, "cluster agreement", func() error {
		for _, a := range addrs {
			c := client(a)
			info, err := c.ClusterInfo(context.Background()).Result()
			c.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)+"\r") {
				return fmt.Errorf("%s: %s", a, info)
			}
		}
		return nil
	})
	eventually(t, "clean check", func() error {
		out, errs, rc := run(t, "", "check", addrs[0])
		if rc != 0 {
			return fmt.Errorf("%s%s", out, errs)
		}
		return nil
	})
}

// checkCreated checks the slot map of a fresh 3+3 cluster: three masters
// with 5461, 5462 and 5461 slots, each with one replica.
func checkCreated(t *testing.T, l localcluster.Layout) error {
	t.Helper()
	view := clusterView(t, l.Addr(l.PortBase))
	var counts []int
	replicasOf := map[string]int{}
	for _, p := range l.Ports()[:6] {
		v, ok := view[l.Addr(p)]
		if !ok {
			return fmt.Errorf("%s is not in the cluster: %v", l.Addr(p), view)
		}
		if v.replica {
			replicasOf[v.master]++
		} else {
			counts = append(counts, v.slots)
		}
	}
	if fmt.Sprint(counts) != "[5461 5462 5461]" || len(replicasOf) != 3 {
		return fmt.Errorf("masters' slots %v, replicas per master %v", counts, replicasOf)
	}
	for id, n := range replicasOf {
		if n != 1 || view[addrOf(view, id)].replica {
			return fmt.Errorf("master %s has %d replicas", id, n)
		}
	}
	return nil
}

func addrOf(view map[string]nodeView, id string) string {
	for a, v := range view {
		if v.id == id {
			return a
		}
	}
	return ""
}

// compareWithRedisCli runs redis-cli --cluster with the same arguments
// when it is installed and wants the same output.
func compareWithRedisCli(t *testing.T, ours string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("redis-cli")
	if err != nil {
		return
	}
	cmd := exec.Command(bin, append([]string{"--cluster"}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	theirs, _ := cmd.Output()
	if ours != string(theirs) {
		t.Errorf("redgo cli --cluster %s differs from redis-cli's:\n--- ours\n%s--- redis-cli\n%s", strings.Join(args, " "), ours, theirs)
	}
}

// fill writes n keys through a cluster client.
func fill(t *testing.T, addr string, n int) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}, MaxRedirects: 16})
	t.Cleanup(func() { cc.Close() })
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := cc.Set(ctx, "key:"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return cc
}

// checkKeys reads every key back, and checks it lies on the master that
// serves its slot.
func checkKeys(t *testing.T, addr string, n int, extra map[string]int64) {
	t.Helper()
	ctx := context.Background()
	// A fresh client: a node removed from the cluster answers CLUSTERDOWN,
	// not MOVED, to a client that still routes slots to it.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	defer cc.Close()
	for i := 0; i < n; i++ {
		v, err := cc.Get(ctx, "key:"+strconv.Itoa(i)).Int()
		if err != nil || v != i {
			t.Fatalf("key:%d = %d, %v", i, v, err)
		}
	}
	for k, want := range extra {
		if v, err := cc.Get(ctx, k).Int64(); err != nil || v != want {
			t.Fatalf("%s = %d, %v; want %d", k, v, err, want)
		}
	}
}

// writer increments counters while a test reshards; every error is one
// the client could not hide behind a redirection.
type writer struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	errs   atomic.Int64
	last   atomic.Value
	counts map[string]int64
	mu     sync.Mutex
}

func startWriter(cc *redis.ClusterClient) *writer {
	w := &writer{stop: make(chan struct{}), counts: map[string]int64{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		ctx := context.Background()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			k := "counter:" + strconv.Itoa(i%50)
			if err := cc.Incr(ctx, k).Err(); err != nil {
				w.errs.Add(1)
				w.last.Store(err.Error())
				continue
			}
			w.mu.Lock()
			w.counts[k]++
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *writer) finish(t *testing.T) map[string]int64 {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	if n := w.errs.Load(); n > 0 {
		t.Errorf("the writer saw %d errors during the move, last: %v", n, w.last.Load())
	}
	return w.counts
}

// TestRedgoCluster drives a redgo cluster through create, check, info,
// call, reshard (with a writer), rebalance, add-node, del-node and
// set-timeout, checking the slot map and the keys after each step.
func TestRedgoCluster(t *testing.T) {
	t.Parallel()
	l := startNodes(t, baseRedgo, 8, "")
	nodes := addrs(l, l.Ports())
	exercise(t, l, nodes, true)
}

// TestRedisServerCluster does the same against redis-server nodes
// (skipped when redis-server is not installed): the moves are key by
// key there.
func TestRedisServerCluster(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	l := startNodes(t, baseRedis, 8, bin)
	nodes := addrs(l, l.Ports())
	exercise(t, l, nodes, false)
}

func exercise(t *testing.T, l localcluster.Layout, nodes []string, redgo bool) {
	out := mustRun(t, append(append([]string{"create"}, nodes[:6]...), "--cluster-replicas", "1", "--cluster-yes")...)
	for _, want := range []string{"Master[0] -> Slots 0 - 5460\n", "Master[1] -> Slots 5461 - 10922\n",
		"Master[2] -> Slots 10923 - 16383\n", "Adding replica " + nodes[4] + " to " + nodes[0] + "\n",
		"[OK] All 16384 slots covered.\n", "[WARNING] Some slaves are in the same host as their master\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("create: no %q in\n%s", want, out)
		}
	}
	agreed(t, nodes[:6], 6)
	eventually(t, "3+3 slot map", func() error { return checkCreated(t, l) })

	// Refuses a node that is not empty, with redis-cli's text.
	out, errs, rc := run(t, "", "create", nodes[0], nodes[6], nodes[7], "--cluster-yes")
	if rc == 0 || !strings.Contains(out, "[ERR] Node "+nodes[0]+" is not empty. Either the node already knows other nodes") {
		t.Fatalf("create over a used node: status %d\n%s%s", rc, out, errs)
	}

	out = mustRun(t, "check", nodes[0])
	compareWithRedisCli(t, out, "check", nodes[0])
	out = mustRun(t, "info", nodes[1])
	compareWithRedisCli(t, out, "info", nodes[1])
	out = mustRun(t, "call", nodes[0], "CLUSTER", "COUNTKEYSINSLOT", "0")
	if strings.Count(out, ": 0\n") != 6 {
		t.Fatalf("call:\n%s", out)
	}

	cc := fill(t, nodes[0], 500)
	m0 := myID(t, nodes[0])

	// The plan, refused: the same as redis-cli's.
	out, _, rc = run(t, "", "reshard", nodes[0], "--cluster-from", "all", "--cluster-to", m0, "--cluster-slots", "100")
	if rc == 0 || !strings.Contains(out, "Do you want to proceed with the proposed reshard plan (yes/no)? ") {
		t.Fatalf("reshard without yes: %d\n%s", rc, out)
	}
	compareWithRedisCli(t, out, "reshard", nodes[0], "--cluster-from", "all", "--cluster-to", m0, "--cluster-slots", "100")

	// Reshard 2000 slots to the first master while a writer runs.
	w := startWriter(cc)
	out = mustRun(t, "reshard", nodes[0], "--cluster-from", "all", "--cluster-to", m0, "--cluster-slots", "2000",
		"--cluster-yes", "--cluster-pipeline", "50")
	counts := w.finish(t)
	if !strings.Contains(out, "Moving slot") {
		t.Fatalf("reshard:\n%s", out)
	}
	if redgo != strings.Contains(out, "Moving slots ") {
		t.Errorf("reshard: whole-slot transfer used = %v, want %v:\n%s", !redgo, redgo, out)
	}
	agreed(t, nodes[:6], 6)
	if v := clusterView(t, nodes[1])[nodes[0]]; v.slots != 5461+2000 {
		t.Fatalf("after reshard the first master has %d slots", v.slots)
	}
	checkKeys(t, nodes[0], 500, counts)

	// Rebalance evens it out again.
	out = mustRun(t, "rebalance", nodes[0])
	if !strings.Contains(out, ">>> Rebalancing across 3 nodes. Total weight = 3.00\n") {
		t.Fatalf("rebalance:\n%s", out)
	}
	agreed(t, nodes[:6], 6)
	for _, a := range nodes[:3] {
		if s := clusterView(t, nodes[2])[a].slots; s < 5460 || s > 5463 {
			t.Fatalf("after rebalance %s has %d slots", a, s)
		}
	}
	out = mustRun(t, "rebalance", nodes[0])
	if !strings.Contains(out, "*** No rebalancing needed! All nodes are within the 2.00% threshold.\n") {
		t.Fatalf("second rebalance:\n%s", out)
	}

	// add-node: node 7 as a master, node 8 as a replica of the first.
	mustRun(t, "add-node", nodes[6], nodes[0])
	// As redis-cli, add-node refuses a cluster whose nodes do not agree
	// yet: the next one waits until every node knows the new one.
	agreed(t, nodes[:7], 7)
	mustRun(t, "add-node", nodes[7], nodes[0], "--cluster-slave", "--cluster-master-id", m0)
	agreed(t, nodes, 8)
	eventually(t, "the added replica known as one", func() error {
		if v := clusterView(t, nodes[0])[nodes[7]]; !v.replica || v.master != m0 {
			return fmt.Errorf("added replica: %+v", v)
		}
		return nil
	})
	out = mustRun(t, "rebalance", nodes[0], "--cluster-use-empty-masters", "--cluster-simulate")
	compareWithRedisCli(t, out, "rebalance", nodes[0], "--cluster-use-empty-masters", "--cluster-simulate")
	if !strings.Contains(out, "Moving ") || clusterView(t, nodes[0])[nodes[6]].slots != 0 {
		t.Fatalf("simulate moved slots:\n%s", out)
	}
	mustRun(t, "rebalance", nodes[0], "--cluster-use-empty-masters")
	agreed(t, nodes, 8)
	if s := clusterView(t, nodes[0])[nodes[6]].slots; s < 4090 || s > 4100 {
		t.Fatalf("the new master has %d slots", s)
	}
	checkKeys(t, nodes[0], 500, counts)

	// del-node refuses a node with slots; after a reshard away it works.
	id7 := myID(t, nodes[6])
	out, _, rc = run(t, "", "del-node", nodes[0], id7)
	if rc == 0 || !strings.Contains(out, "[ERR] Node "+nodes[6]+" is not empty! Reshard data away and try again.\n") {
		t.Fatalf("del-node of a node with slots: %d\n%s", rc, out)
	}
	// On a terminal, a progress bar instead of a line per step.
	n7 := clusterView(t, nodes[0])[nodes[6]].slots
	out, errs, rc = runEnv(t, "", true, "reshard", nodes[0], "--cluster-from", id7, "--cluster-to", m0, "--cluster-slots", strconv.Itoa(n7), "--cluster-yes")
	if rc != 0 || !strings.Contains(out, "100% |") || !strings.Contains(out, fmt.Sprintf("(%d/%d, ", n7, n7)) ||
		!strings.Contains(out, "slots moved") || strings.Contains(out, " from 127.0.0.1:") {
		t.Fatalf("reshard on a terminal: %d\n%s%s", rc, out, errs)
	}
	agreed(t, nodes, 8)
	mustRun(t, "del-node", nodes[0], id7)
	eventually(t, "node forgotten", func() error {
		if _, ok := clusterView(t, nodes[0])[nodes[6]]; ok {
			return fmt.Errorf("%s still known", nodes[6])
		}
		return nil
	})
	checkKeys(t, nodes[0], 500, counts)

	out = mustRun(t, "set-timeout", nodes[0], "3000")
	if !strings.Contains(out, ">>> New node timeout set. 7 OK, 0 ERR.\n") {
		t.Fatalf("set-timeout:\n%s", out)
	}
}

// TestFix opens a slot and uncovers another, and fix repairs both.
func TestFix(t *testing.T) {
	t.Parallel()
	l := startNodes(t, baseFix, 3, "")
	nodes := addrs(l, l.Ports())
	mustRun(t, append([]string{"create"}, append(nodes, "--cluster-yes")...)...)
	agreed(t, nodes, 3)
	ctx := context.Background()
	a, b := client(nodes[0]), client(nodes[1])
	defer a.Close()
	defer b.Close()
	// Slot 100 left migrating on its owner.
	if err := a.Do(ctx, "CLUSTER", "SETSLOT", "100", "MIGRATING", myID(t, nodes[1])).Err(); err != nil {
		t.Fatal(err)
	}
	out, _, rc := run(t, "", "check", nodes[0])
	if rc == 0 || !strings.Contains(out, "[WARNING] Node "+nodes[0]+" has slots in migrating state 100.\n") ||
		!strings.Contains(out, "[WARNING] The following slots are open: 100.\n") {
		t.Fatalf("check of an open slot: %d\n%s", rc, out)
	}
	out, _, rc = run(t, "", "fix", nodes[0])
	if rc != 0 || !strings.Contains(out, ">>> Case 4: Closing slot 100 on "+nodes[0]) {
		t.Fatalf("fix of an open slot: %d\n%s", rc, out)
	}
	// Slot 3300 (the keys {b}N) half moved by an interrupted reshard:
	// keys on both nodes, so fix picks the node with the most keys as the
	// owner and moves the others back (redis-cli's case 2).
	id0, id1 := myID(t, nodes[0]), myID(t, nodes[1])
	for i := 0; i < 20; i++ {
		a.Set(ctx, "{b}"+strconv.Itoa(i), i, 0)
	}
	b.Do(ctx, "CLUSTER", "SETSLOT", "3300", "IMPORTING", id0)
	a.Do(ctx, "CLUSTER", "SETSLOT", "3300", "MIGRATING", id1)
	port1 := strconv.Itoa(l.PortBase + 1)
	if err := a.Do(ctx, "MIGRATE", "127.0.0.1", port1, "", "0", "5000", "KEYS", "{b}0", "{b}1", "{b}2").Err(); err != nil {
		t.Fatal(err)
	}
	out, _, rc = run(t, "", "fix", nodes[0])
	if rc != 0 || !strings.Contains(out, ">>> Case 2: Moving all the 3300 slot keys to its owner "+nodes[0]+"\n") {
		t.Fatalf("fix of a half-moved slot: %d\n%s", rc, out)
	}
	if n, _ := a.ClusterCountKeysInSlot(ctx, 3300).Result(); n != 20 {
		t.Fatalf("after fix the owner has %d keys of slot 3300", n)
	}
	eventually(t, "slot 3300 moved", func() error {
		out, _, rc := run(t, "", "check", nodes[2], "--cluster-search-multiple-owners")
		if rc != 0 || !strings.Contains(out, "[OK] No multiple owners found.\n") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})

	// Slot 200 unassigned everywhere: fix asks, and gives it to a master.
	for _, n := range nodes {
		c := client(n)
		c.Do(ctx, "CLUSTER", "DELSLOTS", "200")
		c.Close()
	}
	eventually(t, "slot 200 uncovered", func() error {
		out, _, _ := run(t, "", "check", nodes[0])
		if !strings.Contains(out, "[ERR] Not all 16384 slots are covered by nodes.") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	out, _, rc = run(t, "yes\n", "fix", nodes[0])
	if rc != 0 || !strings.Contains(out, "The following uncovered slots have no keys across the cluster:\n[200]\n") {
		t.Fatalf("fix of an uncovered slot: %d\n%s", rc, out)
	}
	eventually(t, "fixed", func() error {
		out, _, rc := run(t, "", "check", nodes[1])
		if rc != 0 {
			return fmt.Errorf("%s", out)
		}
		return nil
	})

	// reshard asks for what the options did not say.
	before := clusterView(t, nodes[1])[nodes[1]].slots
	out, _, rc = run(t, "10\n"+id1+"\nall\nyes\n", "reshard", nodes[0])
	for _, want := range []string{"How many slots do you want to move (from 1 to 16384)? ", "What is the receiving node ID? ",
		"Source node #1: ", "Do you want to proceed with the proposed reshard plan (yes/no)? ", "\nReady to move 10 slots.\n"} {
		if rc != 0 || !strings.Contains(out, want) {
			t.Fatalf("interactive reshard: %d, no %q in\n%s", rc, want, out)
		}
	}
	eventually(t, "interactive reshard", func() error {
		if n := clusterView(t, nodes[2])[nodes[1]].slots; n != before+10 {
			return fmt.Errorf("the target has %d slots", n)
		}
		return nil
	})

	// import: the keys of a standalone server go to the masters that
	// serve their slots (--cluster-copy keeps them on the source).
	src := startStandalone(t, l.PortBase+3)
	sc := client(src)
	defer sc.Close()
	for i := 0; i < 30; i++ {
		sc.Set(ctx, "imported:"+strconv.Itoa(i), i, 0)
	}
	out = mustRun(t, "import", nodes[0], "--cluster-from", src, "--cluster-copy")
	if !strings.Contains(out, "*** Importing 30 keys from DB 0\n") || strings.Count(out, ": OK\n") != 30 {
		t.Fatalf("import:\n%s", out)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0]}})
	defer cc.Close()
	for i := 0; i < 30; i++ {
		if v, err := cc.Get(ctx, "imported:"+strconv.Itoa(i)).Int(); err != nil || v != i {
			t.Fatalf("imported:%d = %d, %v", i, v, err)
		}
	}
	if n, _ := sc.DBSize(ctx).Result(); n != 30 {
		t.Fatalf("--cluster-copy left %d keys on the source", n)
	}
	out, _, rc = run(t, "", "import", nodes[0], "--cluster-from", nodes[1])
	if rc == 0 || !strings.Contains(out, "[ERR] The source node should not be a cluster node.\n") {
		t.Fatalf("import from a cluster node: %d\n%s", rc, out)
	}

	// backup: nodes.json and one RDB per master.
	dir := t.TempDir()
	out = mustRun(t, "backup", nodes[0], dir)
	if !strings.Contains(out, "[OK] Backup created into: "+dir) {
		t.Fatalf("backup:\n%s", out)
	}
	rdbs, _ := filepath.Glob(filepath.Join(dir, "redis-node-*.rdb"))
	js, err := os.ReadFile(filepath.Join(dir, "nodes.json"))
	if len(rdbs) != 3 || err != nil || !bytes.Contains(js, []byte(`"slots_count"`)) {
		t.Fatalf("backup wrote %v and %s (%v)", rdbs, js, err)
	}
	for _, r := range rdbs {
		b, _ := os.ReadFile(r)
		if !bytes.HasPrefix(b, []byte("REDIS")) {
			t.Fatalf("%s is not an RDB file: %q", r, b[:min(len(b), 20)])
		}
	}
}

// startStandalone starts a redgo server outside cluster mode on the
// first free port from port, stopped when the test ends.
func startStandalone(t *testing.T, port int) string {
	t.Helper()
	probe := lctest.Layout(t, port)
	probe.Nodes = 1
	port = lctest.FreeBase(t, probe)
	cmd := exec.Command(lctest.Binary(t), "server", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	eventually(t, "standalone server", func() error {
		c := client(addr)
		defer c.Close()
		return c.Ping(context.Background()).Err()
	})
	return addr
}

// TestArgs checks the errors that need no server.
func TestArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, "Unknown --cluster subcommand\n"},
		{[]string{"check"}, "[ERR] Wrong number of arguments for specified --cluster sub command\n"},
		{[]string{"check", "nohost"}, "[ERR] Invalid arguments: you need to pass either a valid address"},
		{[]string{"add-node", "127.0.0.1:1"}, "[ERR] Wrong number of arguments"},
		{[]string{"check", "127.0.0.1:1"}, "Could not connect to Redis at 127.0.0.1:1: Connection refused\n"},
		{[]string{"set-timeout", "127.0.0.1:1", "10"}, "Setting a node timeout of less than 100 milliseconds is a bad idea.\n"},
		{[]string{"import", "127.0.0.1:1"}, "[ERR] Option '--cluster-from' is required for subcommand 'import'.\n"},
		{[]string{"check", "127.0.0.1:1", "--bogus"}, "Unrecognized option or bad number of args for: '--bogus'"},
	} {
		out, errs, rc := run(t, "", c.args...)
		if rc == 0 || !strings.Contains(out+errs, c.want) {
			t.Errorf("%v: status %d, output %q%q; want %q", c.args, rc, out, errs, c.want)
		}
	}
	out, _, rc := run(t, "", "help")
	if rc != 0 || !strings.HasPrefix(out, "Cluster Manager Commands:\n  create         host1:port1 ... hostN:portN\n") {
		t.Fatalf("help: %d\n%s", rc, out)
	}
	if bin, err := exec.LookPath("redis-cli"); err == nil {
		want, _ := exec.Command(bin, "--cluster", "help").Output()
		if out != string(want) {
			t.Errorf("help differs from redis-cli's:\n%s\n---\n%s", out, want)
		}
	}
}
