package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/cluster"
	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
	"redgo/internal/slot"
)

func init() { clusterWritableDelay = 50 } // Redis's 2 s would only slow the tests

// needTool skips without a Redis tool, or fails under REDGO_REQUIRE_REDIS.
func needTool(t testing.TB, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatalf("%s not installed but REDGO_REQUIRE_REDIS is set", tool)
		}
		t.Skipf("%s not installed: skipped", tool)
	}
}

// freePort returns a port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newClusterServer builds (without starting) a cluster-mode server whose
// nodes.conf is conf; node timeout 500 ms keeps the rejoin delay short.
func newClusterServer(t testing.TB, conf string, args ...string) (*Server, error) {
	t.Helper()
	return newClusterServerWith(t, conf, nil, args...)
}

// newClusterServerWith is newClusterServer with server options.
func newClusterServerWith(t testing.TB, conf string, opts []Option, args ...string) (*Server, error) {
	t.Helper()
	// Ports 0: the client and bus listeners take free ports when they
	// open (no window in which another process can take them); busPort
	// tells the bus port for MEET.
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--cluster-enabled", "yes",
		"--cluster-config-file", conf, "--cluster-node-timeout", "500", "--dir", filepath.Dir(conf)}, args...)
	cfg, err := config.Load("", all)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	s.Log.SetOutput(bytes.NewBuffer(nil))
	return s, nil
}

// busPort is the port the node's cluster bus listens on.
func busPort(s *Server) string {
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return strconv.Itoa(s.cluster.bus.tr.Port())
}

// startCluster runs a cluster-mode redgo node with nodes.conf at conf (a
// fresh file in a temp dir when empty) and returns it with its address.
func startCluster(t testing.TB, conf string, args ...string) (*Server, string) {
	t.Helper()
	return startClusterWith(t, conf, nil, args...)
}

// startClusterWith is startCluster with server options.
func startClusterWith(t testing.TB, conf string, opts []Option, args ...string) (*Server, string) {
	t.Helper()
	if conf == "" {
		conf = filepath.Join(t.TempDir(), "nodes.conf")
	}
	s, err := newClusterServerWith(t, conf, opts, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, s.Addr().String()
}

// startRedisCluster runs a real redis-server with cluster-enabled yes.
func startRedisCluster(t testing.TB, args ...string) string {
	t.Helper()
	needTool(t, "redis-server")
	return startRedis(t, append([]string{"--cluster-enabled", "yes", "--cluster-node-timeout", "500",
		"--cluster-port", strconv.Itoa(freePort(t))}, args...)...)
}

// str runs a command and returns its reply as a string (errors too).
func (c *rawConn) str(args ...string) string {
	c.t.Helper()
	v, _ := c.do(args...)
	return valueString(v)
}

func valueString(v resp.Value) string {
	switch {
	case v.Type == '-':
		return v.Str
	case len(v.Elems) > 0 || v.Type == '*' || v.Type == '%':
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = valueString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case v.Type == ':':
		return strconv.FormatInt(v.Int, 10)
	}
	return v.Str
}

func waitClusterOK(t testing.TB, addr string) {
	t.Helper()
	c := dialRaw(t, addr)
	eventually(t, 10*time.Second, func() error {
		if info := c.str("CLUSTER", "INFO"); !strings.HasPrefix(info, "cluster_state:ok\r\n") {
			return fmt.Errorf("cluster not ok: %.40q", info)
		}
		return nil
	})
}

// coverAll assigns every slot to the node at addr and waits for ok.
func coverAll(t testing.TB, addr string) {
	t.Helper()
	c := dialRaw(t, addr)
	if got := c.str("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); got != "OK" {
		t.Fatal(got)
	}
	waitClusterOK(t, addr)
}

func TestClusterDisabled(t *testing.T) {
	_, rc := startServer(t)
	for _, cmd := range [][]any{{"cluster", "info"}, {"cluster", "help"}, {"readonly"}, {"readwrite"}, {"asking"}} {
		if err := rc.Do(ctx, cmd...).Err(); err == nil || err.Error() != "ERR This instance has cluster support disabled" {
			t.Errorf("%v: %v", cmd, err)
		}
	}
	if got := rc.Do(ctx, "select", "1").Val(); got != "OK" {
		t.Fatalf("SELECT 1 outside cluster mode: %v", got)
	}
}

func TestClusterSingleNode(t *testing.T) {
	s, addr := startCluster(t, "")
	c := dialRaw(t, addr)
	id := c.str("CLUSTER", "MYID")
	if !cluster.ValidName(id) {
		t.Fatalf("MYID %q", id)
	}
	if got := c.str("CLUSTER", "INFO"); !strings.HasPrefix(got, "cluster_state:fail\r\ncluster_slots_assigned:0\r\n") {
		t.Fatalf("INFO before slots: %q", got)
	}
	if got := c.str("GET", "foo"); got != "CLUSTERDOWN Hash slot not served" {
		t.Fatalf("GET with no slots: %q", got)
	}
	if got := c.str("PING"); got != "PONG" {
		t.Fatal("keyless commands are served locally")
	}
	coverAll(t, addr)
	info := c.str("CLUSTER", "INFO")
	for _, want := range []string{"cluster_slots_assigned:16384\r\n", "cluster_slots_ok:16384\r\n",
		"cluster_known_nodes:1\r\n", "cluster_size:1\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("CLUSTER INFO lacks %q:\n%s", want, info)
		}
	}
	steps := []struct{ cmd, want string }{
		{"SET foo bar", "OK"},
		{"GET foo", "bar"},
		{"MSET a 1 b 2", "CROSSSLOT Keys in request don't hash to the same slot"},
		{"MSET {u}a 1 {u}b 2", "OK"},
		{"MGET {u}a {u}b", "[1 2]"},
		{"XADD {u}s 1-0 f v", "1-0"},
		{"XREAD STREAMS s {u}s 0 0", "CROSSSLOT Keys in request don't hash to the same slot"},
		{"XREADGROUP GROUP g c STREAMS s {u}s > >", "CROSSSLOT Keys in request don't hash to the same slot"},
		{"XLEN {u}s", "1"},
		{"CLUSTER KEYSLOT foo", "12182"},
		{"CLUSTER COUNTKEYSINSLOT 12182", "1"},
		{"CLUSTER GETKEYSINSLOT 12182 10", "[foo]"},
		{"CLUSTER COUNTKEYSINSLOT 16384", "ERR Invalid slot"},
		{"SELECT 1", "ERR SELECT is not allowed in cluster mode"},
		{"SELECT 0", "OK"},
		{"SELECT x", "ERR value is not an integer or out of range"},
		// CROSSSLOT inside MULTI: at queue time (EXEC aborts) ...
		{"MULTI", "OK"},
		{"MGET a b", "CROSSSLOT Keys in request don't hash to the same slot"},
		{"EXEC", "EXECABORT Transaction discarded because of previous errors."},
		// ... and across queued commands, at EXEC (the transaction is discarded).
		{"MULTI", "OK"},
		{"GET a", "QUEUED"},
		{"GET b", "QUEUED"},
		{"EXEC", "CROSSSLOT Keys in request don't hash to the same slot"},
		{"EXEC", "ERR EXEC without MULTI"},
		{"MULTI", "OK"},
		{"SET {u}a 3", "QUEUED"},
		{"GET {u}a", "QUEUED"},
		{"SELECT 1", "QUEUED"},
		{"EXEC", "[OK 3 ERR SELECT is not allowed in cluster mode]"},
		{"READONLY", "OK"},
		{"READWRITE", "OK"},
		{"ASKING", "OK"},
		{"GET foo", "bar"},
	}
	for _, st := range steps {
		if got := c.str(strings.Fields(st.cmd)...); got != st.want {
			t.Errorf("%s: got %q, want %q", st.cmd, got, st.want)
		}
	}
	// INFO: cluster_enabled:1, and no db0 line while the keyspace is empty.
	if got := c.str("INFO", "cluster"); !strings.Contains(got, "cluster_enabled:1\r\n") {
		t.Fatalf("INFO cluster: %q", got)
	}
	if got := c.str("INFO", "server"); !strings.Contains(got, "redis_mode:cluster\r\n") {
		t.Fatal("redis_mode")
	}
	c.str("FLUSHALL")
	if got := c.str("INFO", "keyspace"); strings.Contains(got, "db0") {
		t.Fatalf("INFO keyspace while empty: %q", got)
	}
	if s.cluster.routes.Load().Owner(0) == nil {
		t.Fatal("routes not published")
	}
}

// addFakeNode adds a master the node knows only from its state (there is
// no bus yet), as gossip would.
func addFakeNode(s *Server, name, ip string, port int) {
	cm := s.cluster
	// The fake node never answers: with the bus on it would turn PFAIL
	// within the node timeout and put us in a minority.
	cm.closeBus()
	cm.mu.Lock()
	defer cm.mu.Unlock()
	n := cluster.NewNode(name, cluster.FlagMaster, time.Now().UnixMilli())
	n.IP, n.Port, n.CPort = ip, port, port+10000
	cm.st.AddNode(n)
	cm.st.Do(cluster.TodoSaveConfig)
	cm.commitLocked()
}

// keyIn returns a key of hash slot j.
func keyIn(j int, prefix string) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		if slot.OfString(k) == j {
			return k
		}
	}
}

func TestClusterRedirects(t *testing.T) {
	s, addr := startCluster(t, "")
	coverAll(t, addr)
	other := strings.Repeat("b", 40)
	addFakeNode(s, other, "10.1.2.3", 7009)
	c := dialRaw(t, addr)
	fooSlot := slot.OfString("foo")
	steps := []struct{ cmd, want string }{
		{"CLUSTER SETSLOT " + strconv.Itoa(fooSlot) + " NODE " + other, "OK"},
		{"GET foo", "MOVED 12182 10.1.2.3:7009"},
		{"SET foo x", "MOVED 12182 10.1.2.3:7009"},
		{"MULTI", "OK"},
		{"GET foo", "MOVED 12182 10.1.2.3:7009"},
		{"EXEC", "EXECABORT Transaction discarded because of previous errors."},
		{"CONFIG SET cluster-announce-hostname h.example", "OK"},
		{"CONFIG SET cluster-preferred-endpoint-type unknown-endpoint", "OK"},
		{"GET foo", "MOVED 12182 :7009"},
		{"CONFIG SET cluster-preferred-endpoint-type hostname", "OK"},
		{"GET foo", "MOVED 12182 ?:7009"},
		{"CONFIG SET cluster-preferred-endpoint-type ip", "OK"},
		// Importing the slot: served only after ASKING, for one command.
		{"CLUSTER SETSLOT 12182 IMPORTING " + other, "OK"},
		{"GET foo", "MOVED 12182 10.1.2.3:7009"},
		{"ASKING", "OK"},
		{"GET foo", ""},
		{"GET foo", "MOVED 12182 10.1.2.3:7009"},
		{"ASKING", "OK"},
		{"MGET foo {foo}x", "TRYAGAIN Multiple keys request during rehashing of slot"},
		// ASKING before MULTI lasts until EXEC.
		{"ASKING", "OK"},
		{"MULTI", "OK"},
		{"SET foo here", "QUEUED"},
		{"EXEC", "[OK]"},
		{"GET foo", "MOVED 12182 10.1.2.3:7009"},
	}
	run := func(steps []struct{ cmd, want string }) {
		t.Helper()
		for _, st := range steps {
			if got := c.str(strings.Fields(st.cmd)...); got != st.want {
				t.Errorf("%s: got %q, want %q", st.cmd, got, st.want)
			}
		}
	}
	run(steps)

	// Migrating a slot we own: present keys are served, missing ones ASK.
	barSlot := strconv.Itoa(slot.OfString("bar"))
	run([]struct{ cmd, want string }{
		{"SET bar 1", "OK"},
		{"CLUSTER SETSLOT " + barSlot + " MIGRATING " + other, "OK"},
		{"GET bar", "1"},
		{"GET {bar}2", "ASK 5061 10.1.2.3:7009"},
		{"MGET bar {bar}2", "TRYAGAIN Multiple keys request during rehashing of slot"},
		{"MGET {bar}2 {bar}3", "ASK 5061 10.1.2.3:7009"},
		{"CLUSTER SETSLOT " + barSlot + " NODE " + other, "ERR Can't assign hashslot 5061 to a different node while I still hold keys for this hash slot."},
		{"CLUSTER SETSLOT " + barSlot + " STABLE", "OK"},
		{"GET {bar}2", ""},
	})
	nodes := c.str("CLUSTER", "NODES")
	// ping-sent is not 0 once the bus has tried to reach the node; under
	// load the bus may have marked it before addFakeNode closed the bus, so
	// timing fields and flag suffixes are not pinned.
	if !strings.Contains(nodes, "[12182-<-"+other+"]") ||
		!regexp.MustCompile(other+` 10\.1\.2\.3:7009@17009 master\S* - \d+ \d+ 0 (dis)?connected 12182\n`).MatchString(nodes) {
		t.Fatalf("CLUSTER NODES:\n%s", nodes)
	}

	// A slot nobody serves: the cluster goes down.
	run([]struct{ cmd, want string }{
		{"CLUSTER DELSLOTS 0", "OK"},
		{"GET " + keyIn(0, "k"), "CLUSTERDOWN Hash slot not served"},
		{"GET bar", "CLUSTERDOWN The cluster is down"},
		{"PING", "PONG"},
		{"CONFIG SET cluster-allow-reads-when-down yes", "OK"},
		{"GET bar", "1"},
		{"SET bar 2", "CLUSTERDOWN The cluster is down and only accepts read commands"},
		{"CONFIG SET cluster-require-full-coverage no", "OK"},
		{"SET bar 2", "OK"},
	})
}

func TestClusterReadonlyReplica(t *testing.T) {
	s, addr := startCluster(t, "")
	c := dialRaw(t, addr)
	other := strings.Repeat("c", 40)
	addFakeNode(s, other, "10.1.2.4", 7010)
	// Hand every slot to the other node: myself becomes its replica.
	c.str("CLUSTER", "ADDSLOTS", "1")
	if got := c.str("CLUSTER", "SETSLOT", "1", "NODE", other); got != "OK" {
		t.Fatal(got)
	}
	cm := s.cluster
	cm.mu.Lock()
	for j := 0; j < slot.Count; j++ {
		if j != 1 {
			cm.st.AddSlot(cm.st.Lookup(other), j)
		}
	}
	cm.st.Do(cluster.TodoUpdateState)
	cm.commitLocked()
	replica := cm.st.IsReplica()
	cm.mu.Unlock()
	if !replica {
		t.Fatal("myself did not become a replica")
	}
	waitClusterOK(t, addr)
	k := keyIn(1, "r")
	for _, st := range []struct{ cmd, want string }{
		{"GET " + k, "MOVED 1 10.1.2.4:7010"},
		{"READONLY", "OK"},
		{"GET " + k, ""},
		{"SET " + k + " v", "MOVED 1 10.1.2.4:7010"},
		{"MULTI", "OK"},
		{"GET " + k, "QUEUED"},
		{"EXEC", "[]"},
		{"READWRITE", "OK"},
		{"GET " + k, "MOVED 1 10.1.2.4:7010"},
		{"READONLY", "OK"},
		{"RESET", "RESET"},
		{"GET " + k, "MOVED 1 10.1.2.4:7010"},
		{"CLUSTER SETSLOT 1 STABLE", "ERR Please use SETSLOT only with masters."},
	} {
		if got := c.str(strings.Fields(st.cmd)...); got != st.want {
			t.Errorf("%s: got %q, want %q", st.cmd, got, st.want)
		}
	}
	if nodes := c.str("CLUSTER", "NODES"); !strings.Contains(nodes, " myself,slave "+other+" ") {
		t.Fatalf("NODES: %s", nodes)
	}
}

func TestClusterRestartKeepsConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nodes.conf")
	s, addr := startCluster(t, conf)
	c := dialRaw(t, addr)
	other := strings.Repeat("d", 40)
	addFakeNode(s, other, "10.1.2.5", 7011)
	for _, cmd := range []string{"CLUSTER ADDSLOTSRANGE 0 100 200 300", "CLUSTER SETSLOT 300 NODE " + other,
		"CLUSTER SETSLOT 50 MIGRATING " + other, "CLUSTER SETSLOT 400 IMPORTING " + other} {
		if got := c.str(strings.Fields(cmd)...); got != "OK" {
			t.Fatalf("%s: %s", cmd, got)
		}
	}
	if got := c.str("CLUSTER", "BUMPEPOCH"); got != "BUMPED 1" {
		t.Fatal(got)
	}
	if got := c.str("CLUSTER", "BUMPEPOCH"); got != "STILL 1" {
		t.Fatal(got)
	}
	id, nodes, info := c.str("CLUSTER", "MYID"), c.str("CLUSTER", "NODES"), c.str("CLUSTER", "INFO")
	// A second node on the same nodes.conf is refused while the first runs.
	if _, err := newClusterServer(t, conf); err == nil || !strings.Contains(err.Error(), "is already used by a different Redis Cluster node") {
		t.Fatalf("second node on a locked nodes.conf: %v", err)
	}
	s.Close()

	s2, addr2 := startCluster(t, conf)
	_ = s2
	c2 := dialRaw(t, addr2)
	if got := c2.str("CLUSTER", "MYID"); got != id {
		t.Fatalf("node ID changed: %s -> %s", id, got)
	}
	// Ports change with the new listener; everything else must not.
	// So do ping-sent, pong-received and the link state (the bus dials).
	norm := regexp.MustCompile(`:\d+@\d+`)
	bus := regexp.MustCompile(` - \d+ \d+ (\d+) (dis)?connected`)
	mask := func(s string) string { return bus.ReplaceAllString(norm.ReplaceAllString(s, ":P@C"), " - P P $1 L") }
	if a, b := mask(nodes), mask(c2.str("CLUSTER", "NODES")); a != b {
		t.Fatalf("NODES changed across restart:\n%s\n%s", a, b)
	}
	for _, f := range []string{"cluster_current_epoch:1", "cluster_my_epoch:1", "cluster_slots_assigned:202", "cluster_known_nodes:2"} {
		if !strings.Contains(info, f) || !strings.Contains(c2.str("CLUSTER", "INFO"), f) {
			t.Errorf("%s not kept", f)
		}
	}
}

func TestClusterConfigRefused(t *testing.T) {
	dir := t.TempDir()
	// Locked by another open file (as another process would hold it).
	conf := filepath.Join(dir, "nodes.conf")
	f, err := os.OpenFile(conf, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	_, err = newClusterServer(t, conf)
	want := "Sorry, the cluster configuration file " + conf + " is already used by a different Redis Cluster node. Please make sure that different nodes use different cluster configuration files."
	if err == nil || err.Error() != want {
		t.Fatalf("locked: %v", err)
	}
	f.Close()
	// Unreadable: a directory.
	if _, err := newClusterServer(t, dir); err == nil || !strings.Contains(err.Error(), "Can't open "+dir+" in order to acquire a lock") {
		t.Fatalf("directory: %v", err)
	}
	// Corrupt.
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("this is not a nodes.conf\n"), 0o644)
	if _, err := newClusterServer(t, bad); err == nil || !strings.Contains(err.Error(), "corrupted cluster config file") {
		t.Fatalf("corrupt: %v", err)
	}
	// An empty file is a new node.
	empty := filepath.Join(dir, "empty.conf")
	os.WriteFile(empty, nil, 0o644)
	s, err := newClusterServer(t, empty)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	data, _ := os.ReadFile(empty)
	if !bytes.Contains(data, []byte("myself,master")) || !bytes.HasSuffix(data, []byte("vars currentEpoch 0 lastVoteEpoch 0\n")) {
		t.Fatalf("new nodes.conf:\n%s", data)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

// TestClusterErrorsVsRedis compares replies of CLUSTER subcommands and
// routing errors with a real single-node redis-server cluster, byte for
// byte (replies that hold node IDs are compared in shape below).
func TestClusterErrorsVsRedis(t *testing.T) {
	// Redis's writable delay: cluster_size stays 1 during it on both sides.
	clusterWritableDelay = cluster.WritableDelay
	defer func() { clusterWritableDelay = 50 }()
	_, addr := startCluster(t, "")
	raddr := startRedisCluster(t)
	unknown := strings.Repeat("e", 40)
	script := [][]string{
		{"CLUSTER", "HELP"}, {"CLUSTER"}, {"CLUSTER", "FOO"}, {"CLUSTER", "MYSHARDID"},
		{"CLUSTER", "KEYSLOT", "foo"}, {"CLUSTER", "KEYSLOT", "{user1000}.following"}, {"CLUSTER", "KEYSLOT"},
		{"CLUSTER", "COUNTKEYSINSLOT", "100"}, {"CLUSTER", "COUNTKEYSINSLOT", "-1"}, {"CLUSTER", "COUNTKEYSINSLOT", "16384"},
		{"CLUSTER", "COUNTKEYSINSLOT", "abc"},
		{"CLUSTER", "GETKEYSINSLOT", "100", "10"}, {"CLUSTER", "GETKEYSINSLOT", "100", "-1"},
		{"CLUSTER", "GETKEYSINSLOT", "16384", "1"}, {"CLUSTER", "GETKEYSINSLOT", "abc", "1"},
		{"CLUSTER", "GETKEYSINSLOT", "1", "abc"}, {"CLUSTER", "GETKEYSINSLOT", "1", "0"},
		{"CLUSTER", "ADDSLOTS", "abc"}, {"CLUSTER", "ADDSLOTS", "16384"}, {"CLUSTER", "ADDSLOTS", "-1"},
		{"CLUSTER", "ADDSLOTS", "1", "1"}, {"CLUSTER", "ADDSLOTS", "1", "abc", "99999"},
		{"CLUSTER", "ADDSLOTSRANGE", "5", "1"}, {"CLUSTER", "ADDSLOTSRANGE", "1"}, {"CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"},
		{"CLUSTER", "ADDSLOTSRANGE", "1", "3", "2", "4"}, {"CLUSTER", "ADDSLOTSRANGE", "1", "3", "2", "x"},
		{"CLUSTER", "DELSLOTS", "1"}, {"CLUSTER", "DELSLOTSRANGE", "1", "2"},
		{"CLUSTER", "SETSLOT", "1", "stable"}, {"CLUSTER", "SETSLOT", "1", "node", unknown},
		{"CLUSTER", "SETSLOT", "1", "importing", unknown}, {"CLUSTER", "SETSLOT", "1", "migrating", unknown},
		{"CLUSTER", "SETSLOT", "1", "foo"}, {"CLUSTER", "SETSLOT", "1"}, {"CLUSTER", "SETSLOT", "99999", "stable"},
		{"CLUSTER", "SETSLOT", "0", "stable", "x"}, {"CLUSTER", "SETSLOT", "0", "node"},
		{"CLUSTER", "SET-CONFIG-EPOCH", "-1"}, {"CLUSTER", "SET-CONFIG-EPOCH", "abc"},
		{"CLUSTER", "COUNT-FAILURE-REPORTS", "abc"}, {"CLUSTER", "LINKS"},
		{"CLUSTER", "REPLICAS", "abc"}, {"CLUSTER", "SLAVES", "abc"}, {"CLUSTER", "FORGET", "abc"},
		{"CLUSTER", "MEET", "1.2.3.4", "abc"}, {"CLUSTER", "MEET", "abc", "1"}, {"CLUSTER", "MEET", "1", "2", "3", "4"},
		{"CLUSTER", "MEET", "127.0.0.1", "0"}, {"CLUSTER", "MEET", "127.0.0.1", "70000"},
		{"CLUSTER", "MEET", "127.0.0.1", "7000", "abc"}, {"CLUSTER", "MEET", "127.0.0.1", "7000", "0"},
		{"CLUSTER", "REPLICATE", "abc"},
		{"CLUSTER", "FAILOVER"}, {"CLUSTER", "FAILOVER", "foo"}, {"CLUSTER", "FAILOVER", "a", "b"},
		{"CLUSTER", "RESET", "foo"}, {"CLUSTER", "RESET", "a", "b"},
		{"CLUSTER", "INFO", "x"}, {"CLUSTER", "NODES", "x"}, {"CLUSTER", "SHARDS", "x"},
		{"READONLY"}, {"READWRITE"}, {"ASKING"},
		{"SELECT", "1"}, {"SELECT", "0"}, {"SELECT", "abc"}, {"SELECT", "100"},
		{"GET", "foo"}, {"MSET", "a", "1", "b", "2"}, {"MSET", "{a}1", "1", "{a}2", "2"}, {"PING"},

		{"CLUSTER", "BUMPEPOCH"}, {"CLUSTER", "BUMPEPOCH"}, {"CLUSTER", "SET-CONFIG-EPOCH", "5"},
		{"CLUSTER", "ADDSLOTSRANGE", "0", "99"}, {"CLUSTER", "ADDSLOTS", "99"},
		{"CLUSTER", "SETSLOT", "0", "importing", unknown}, {"CLUSTER", "SETSLOT", "100", "migrating", unknown},
		{"CLUSTER", "DELSLOTSRANGE", "0", "49"}, {"CLUSTER", "DELSLOTS", "50"}, {"CLUSTER", "FLUSHSLOTS"},
		{"CLUSTER", "DELSLOTS", "51"},
		{"CLUSTER", "SAVECONFIG"},
		{"CLUSTER", "ADDSLOTS", "0"}, {"SET", keyIn(0, "k"), "v"}, {"CLUSTER", "FLUSHSLOTS"}, {"CLUSTER", "RESET"},
		{"CLUSTER", "GETKEYSINSLOT", "0", "5"}, {"CLUSTER", "COUNTKEYSINSLOT", "0"},
		{"FLUSHALL"}, {"CLUSTER", "RESET", "SOFT"}, {"CLUSTER", "INFO"},
	}
	oracle(t, addr, raddr, script)
	// The same in RESP3.
	oracle(t, addr, raddr, append([][]string{{"~HELLO", "3"}}, script[:8]...))
}

// TestClusterShapeVsRedis compares CLUSTER INFO/NODES/SLOTS/SHARDS/MYID of
// a one-node cluster (every slot assigned) with redis-server's, node IDs
// and ports aside.
func TestClusterShapeVsRedis(t *testing.T) {
	_, addr := startCluster(t, "", "--cluster-announce-hostname", "host.example")
	raddr := startRedisCluster(t, "--cluster-announce-hostname", "host.example")
	for _, a := range []string{addr, raddr} {
		coverAll(t, a)
	}
	a, b := dialRaw(t, addr), dialRaw(t, raddr)
	ida, idb := a.str("CLUSTER", "MYID"), b.str("CLUSTER", "MYID")
	_, pa, _ := net.SplitHostPort(addr)
	_, pb, _ := net.SplitHostPort(raddr)
	norm := func(s, id, port string) string {
		s = strings.ReplaceAll(s, id, "<ID>")
		s = strings.ReplaceAll(s, ":"+port+"@", ":<P>@")
		s = regexp.MustCompile(`@\d+`).ReplaceAllString(s, "@<C>")
		return strings.ReplaceAll(s, port, "<P>")
	}
	for _, proto := range []string{"2", "3"} {
		a.do("HELLO", proto)
		b.do("HELLO", proto)
		for _, cmd := range [][]string{{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}, {"CLUSTER", "SLOTS"},
			{"CLUSTER", "SHARDS"}, {"CLUSTER", "MYID"}, {"CLUSTER", "LINKS"}, {"CLUSTER", "REPLICAS", "<ID>"},
			{"CLUSTER", "COUNT-FAILURE-REPORTS", "<ID>"}} {
			ca := append([]string(nil), cmd...)
			cb := append([]string(nil), cmd...)
			for i := range cmd {
				if cmd[i] == "<ID>" {
					ca[i], cb[i] = ida, idb
				}
			}
			_, ra := a.do(ca...)
			_, rb := b.do(cb...)
			ga, gb := norm(string(ra), ida, pa), norm(string(rb), idb, pb)
			if ga != gb {
				t.Errorf("RESP%s %v:\n redgo: %q\n redis: %q", proto, cmd, ga, gb)
			}
		}
	}
	// Data commands once the cluster is ok, byte for byte.
	oracle(t, addr, raddr, [][]string{
		{"SET", "foo", "1"}, {"GET", "foo"}, {"MSET", "a", "1", "b", "2"}, {"MSET", "{a}1", "1", "{a}2", "2"},
		{"MGET", "{a}1", "{a}2", "{a}3"}, {"EXISTS", "a", "b"}, {"DEL", "{a}1", "{a}2"},
		{"MOVE", "foo", "1"}, {"MOVE", "foo", "0"}, {"SWAPDB", "0", "1"}, {"SWAPDB", "0", "0"},
		{"SET", "{a}1", "x"},
		{"COPY", "{a}1", "{a}2", "DB", "1"}, {"COPY", "{a}1", "{a}2", "DB", "abc"}, {"COPY", "{a}1", "{a}2", "DB", "99"},
		{"COPY", "{a}1", "{a}2", "DB", "1", "FOO"}, {"COPY", "{a}1", "{a}2", "DB", "0"}, {"COPY", "{a}1", "b"},
		{"MULTI"}, {"MOVE", "foo", "1"}, {"COPY", "{a}1", "{a}3", "DB", "1"}, {"SELECT", "2"}, {"GET", "foo"}, {"EXEC"},
		{"MULTI"}, {"GET", "a"}, {"GET", "b"}, {"EXEC"},
		{"MULTI"}, {"GET", "a"}, {"MGET", "a", "b"}, {"EXEC"},
		{"WATCH", "a", "b"}, {"SUBSCRIBE", "x"}, {"PING"}, {"UNSUBSCRIBE"},
		{"SSUBSCRIBE", "a", "b"}, {"SSUBSCRIBE", "{a}x", "{a}y"}, {"SUNSUBSCRIBE", "{a}x"}, {"SUNSUBSCRIBE", "{a}y"},
		{"SPUBLISH", "a", "m"},
		{"BLPOP", "a", "b", "1"}, {"OBJECT", "ENCODING", "foo"},
		{"FLUSHALL"},
	})
	// INFO: cluster_enabled and no db0 line while empty, as Redis.
	for _, sec := range []string{"cluster", "keyspace"} {
		ia, ib := a.str("INFO", sec), b.str("INFO", sec)
		if ia != ib {
			t.Errorf("INFO %s: %q vs %q", sec, ia, ib)
		}
	}
}

// TestClusterRedisCli drives the single-node cluster with redis-cli -c.
func TestClusterRedisCli(t *testing.T) {
	needTool(t, "redis-cli")
	_, addr := startCluster(t, "")
	coverAll(t, addr)
	out := redisCli(t, addr, "", "-c", "SET", "user:1", "alice")
	if strings.TrimSpace(out) != "OK" {
		t.Fatal(out)
	}
	out = redisCli(t, addr, "SET k1 v1\nGET k1\nGET user:1\nMSET {t}a 1 {t}b 2\nMGET {t}a {t}b\nCLUSTER KEYSLOT k1\n", "-c")
	want := "OK\nv1\nalice\nOK\n1\n2\n12706\n"
	if out != want {
		t.Fatalf("redis-cli -c:\n%s\nwant\n%s", out, want)
	}
	out = redisCli(t, addr, "", "--cluster", "check", addr)
	if !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster check:\n%s", out)
	}
}

// TestClusterGoRedis runs a mixed workload through go-redis's
// ClusterClient against a single-node cluster.
func TestClusterGoRedis(t *testing.T) {
	_, addr := startCluster(t, "")
	coverAll(t, addr)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	defer cc.Close()
	for i := 0; i < 200; i++ {
		k := "key:" + strconv.Itoa(i)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		if v, err := cc.Get(ctx, "key:"+strconv.Itoa(i)).Int(); err != nil || v != i {
			t.Fatalf("get %d: %v %v", i, v, err)
		}
	}
	if err := cc.HSet(ctx, "{h}1", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if err := cc.LPush(ctx, "{h}2", "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	if err := cc.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "m"}).Err(); err != nil {
		t.Fatal(err)
	}
	vals, err := cc.MGet(ctx, "{h}x", "{h}y").Result()
	if err != nil || len(vals) != 2 {
		t.Fatal(vals, err)
	}
	// Cross-slot commands are refused by the server.
	if err := cc.Do(ctx, "MSET", "a", "1", "b", "2").Err(); err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
		t.Fatalf("MSET across slots: %v", err)
	}
	// Pipelines and transactions.
	cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < 50; i++ {
			p.Incr(ctx, "ctr:"+strconv.Itoa(i%7))
		}
		return nil
	})
	if err != nil || len(cmds) != 50 {
		t.Fatal(err)
	}
	_, err = cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "{tx}a", "1", 0)
		p.Incr(ctx, "{tx}b")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.ForEachShard(ctx, func(ctx2 context.Context, c *redis.Client) error {
		return c.Ping(ctx2).Err()
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	iter := cc.Scan(ctx, 0, "key:*", 100).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil || n != 200 {
		t.Fatalf("scan: %d %v", n, err)
	}
	var redisErr redis.Error
	if err := cc.Do(ctx, "CLUSTER", "SETSLOT", "1", "bogus").Err(); !errors.As(err, &redisErr) {
		t.Fatal(err)
	}
}

// TestClusterNodesConfWithRedis: a nodes.conf written by redis-server
// 7.0 loads in redgo, and one written by redgo loads in redis-server,
// with the same node ID, slots, open slots and epochs.
func TestClusterNodesConfWithRedis(t *testing.T) {
	needTool(t, "redis-server")
	myself := func(nodes string) string {
		for _, l := range strings.Split(nodes, "\n") {
			if strings.Contains(l, "myself") {
				return regexp.MustCompile(`:\d+@\d+`).ReplaceAllString(l, ":P@C")
			}
		}
		return ""
	}
	// Redis -> redgo.
	rdir := t.TempDir()
	raddr := startRedisCluster(t, "--dir", rdir)
	r := dialRaw(t, raddr)
	for _, cmd := range []string{"CLUSTER ADDSLOTSRANGE 0 5000 10000 16383", "CLUSTER BUMPEPOCH", "CLUSTER SAVECONFIG"} {
		if got := r.str(strings.Fields(cmd)...); !strings.HasPrefix(got, "OK") && !strings.HasPrefix(got, "BUMPED") {
			t.Fatalf("redis %s: %s", cmd, got)
		}
	}
	data, err := os.ReadFile(filepath.Join(rdir, "nodes.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "nodes.conf")
	os.WriteFile(conf, data, 0o644)
	_, addr := startCluster(t, conf)
	g := dialRaw(t, addr)
	if a, b := g.str("CLUSTER", "MYID"), r.str("CLUSTER", "MYID"); a != b {
		t.Fatalf("MYID %s, redis %s", a, b)
	}
	if a, b := myself(g.str("CLUSTER", "NODES")), myself(r.str("CLUSTER", "NODES")); a != b {
		t.Fatalf("myself line:\n redgo %s\n redis %s", a, b)
	}

	// redgo -> Redis.
	gdir := t.TempDir()
	s, addr := startCluster(t, filepath.Join(gdir, "nodes.conf"))
	g = dialRaw(t, addr)
	other := strings.Repeat("f", 40)
	addFakeNode(s, other, "127.0.0.1", 1)
	for _, cmd := range []string{"CLUSTER ADDSLOTSRANGE 0 99 200 16383", "CLUSTER SETSLOT 50 MIGRATING " + other,
		"CLUSTER SETSLOT 150 IMPORTING " + other, "CLUSTER SETSLOT 300 NODE " + other, "CLUSTER BUMPEPOCH"} {
		if got := g.str(strings.Fields(cmd)...); !strings.HasPrefix(got, "OK") && !strings.HasPrefix(got, "BUMPED") {
			t.Fatalf("redgo %s: %s", cmd, got)
		}
	}
	want, id := myself(g.str("CLUSTER", "NODES")), g.str("CLUSTER", "MYID")
	s.Close()
	raddr = startRedisCluster(t, "--dir", gdir)
	r = dialRaw(t, raddr)
	if got := r.str("CLUSTER", "MYID"); got != id {
		t.Fatalf("MYID: redis %s, redgo %s", got, id)
	}
	nodes := r.str("CLUSTER", "NODES")
	if got := myself(nodes); got != want {
		t.Fatalf("myself line:\n redis %s\n redgo %s", got, want)
	}
	if !strings.Contains(nodes, other+" 127.0.0.1:1@10001 master") || !strings.Contains(nodes, " 300\n") {
		t.Fatalf("redis NODES:\n%s", nodes)
	}
	if info := r.str("CLUSTER", "INFO"); !strings.Contains(info, "cluster_current_epoch:1\r\n") || !strings.Contains(info, "cluster_my_epoch:1\r\n") {
		t.Fatalf("redis INFO:\n%s", info)
	}
	// The file is now redis-server's: redgo refuses to share it.
	if _, err := newClusterServer(t, filepath.Join(gdir, "nodes.conf")); err == nil || !strings.Contains(err.Error(), "is already used by a different Redis Cluster node") {
		t.Fatalf("nodes.conf locked by redis-server: %v", err)
	}
}

// TestClusterAnnounceVsRedis: cluster-announce-* and
// cluster-preferred-endpoint-type shape NODES, SLOTS and SHARDS as in
// redis-server (same announced addresses, so only node IDs differ).
func TestClusterAnnounceVsRedis(t *testing.T) {
	args := []string{"--cluster-announce-ip", "10.9.9.9", "--cluster-announce-port", "7777",
		"--cluster-announce-bus-port", "17777", "--cluster-announce-hostname", "node1.example"}
	_, addr := startCluster(t, "", args...)
	raddr := startRedisCluster(t, args...)
	a, b := dialRaw(t, addr), dialRaw(t, raddr)
	ida, idb := a.str("CLUSTER", "MYID"), b.str("CLUSTER", "MYID")
	for _, c := range []*rawConn{a, b} {
		c.do("CLUSTER", "ADDSLOTSRANGE", "0", "100", "5000", "16383")
	}
	compare := func(step string) {
		t.Helper()
		for _, proto := range []string{"2", "3"} {
			a.do("HELLO", proto)
			b.do("HELLO", proto)
			for _, cmd := range []string{"NODES", "SLOTS", "SHARDS"} {
				_, ra := a.do("CLUSTER", cmd)
				_, rb := b.do("CLUSTER", cmd)
				if ga, gb := strings.ReplaceAll(string(ra), ida, "<ID>"), strings.ReplaceAll(string(rb), idb, "<ID>"); ga != gb {
					t.Errorf("%s, RESP%s, CLUSTER %s:\n redgo: %q\n redis: %q", step, proto, cmd, ga, gb)
				}
			}
		}
	}
	compare("announce")
	for _, set := range [][]string{
		{"cluster-preferred-endpoint-type", "hostname"},
		{"cluster-preferred-endpoint-type", "unknown-endpoint"},
		{"cluster-announce-hostname", ""},
		{"cluster-preferred-endpoint-type", "hostname"},
		{"cluster-announce-port", "7778"},
		{"cluster-announce-bus-port", "17778"},
		{"cluster-announce-ip", "10.9.9.10"},
		{"cluster-announce-ip", ""},
	} {
		for _, c := range []*rawConn{a, b} {
			if got := c.str("CONFIG", "SET", set[0], set[1]); got != "OK" {
				t.Fatal(set, got)
			}
		}
		// Redis applies announce-ip in its cron (100 ms).
		time.Sleep(150 * time.Millisecond)
		compare(strings.Join(set, " "))
	}
}

// TestClusterVerifyData: keys loaded at start claim unassigned slots, mark
// slots served elsewhere importing, and keys outside db 0 refuse the start.
func TestClusterVerifyData(t *testing.T) {
	s, addr := startCluster(t, "")
	other := strings.Repeat("9", 40)
	addFakeNode(s, other, "10.0.0.9", 7000)
	c := dialRaw(t, addr)
	c.str("CLUSTER", "ADDSLOTS", "7", "100")
	c.str("CLUSTER", "SETSLOT", "7", "NODE", other)
	put := func(db int, key string) {
		sh := []int{slot.OfString(key) % 64}
		s.KS.Lock(sh)
		s.KS.DB(db).Set([]byte(key), keyspace.NewString([]byte("v")), false)
		s.KS.Unlock(sh)
	}
	put(0, keyIn(3, "a"))
	put(0, keyIn(7, "b"))
	if err := s.ClusterVerifyData(); err != nil {
		t.Fatal(err)
	}
	nodes := c.str("CLUSTER", "NODES")
	if !strings.Contains(nodes, "myself,master - 0 0 0 connected 3 100 [7-<-"+other+"]") {
		t.Fatalf("NODES after verify:\n%s", nodes)
	}
	put(1, "x")
	if err := s.ClusterVerifyData(); err == nil || err.Error() != "You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting." {
		t.Fatal(err)
	}
}

// TestClusterBlockedRedirect: a client blocked on a key whose slot moves
// away is woken with MOVED; when the cluster goes down, with CLUSTERDOWN
// (as redis-server does, from its cron).
func TestClusterBlockedRedirect(t *testing.T) {
	s, addr := startCluster(t, "")
	coverAll(t, addr)
	other := strings.Repeat("7", 40)
	addFakeNode(s, other, "10.0.0.7", 7007)
	c, admin := dialRaw(t, addr), dialRaw(t, addr)
	k := keyIn(42, "blk")
	c.send("BLPOP", k, "10")
	eventually(t, 2*time.Second, func() error {
		if s.stats.BlockedClients.Load() != 1 {
			return errors.New("not blocked yet")
		}
		return nil
	})
	if got := admin.str("CLUSTER", "SETSLOT", "42", "NODE", other); got != "OK" {
		t.Fatal(got)
	}
	if v, _ := c.read(); valueString(v) != "MOVED 42 10.0.0.7:7007" {
		t.Fatalf("blocked client: %q", valueString(v))
	}
	k = keyIn(43, "blk")
	c.send("BRPOP", k, "10")
	eventually(t, 2*time.Second, func() error {
		if s.stats.BlockedClients.Load() != 1 {
			return errors.New("not blocked yet")
		}
		return nil
	})
	admin.str("CLUSTER", "DELSLOTS", "100")
	if v, _ := c.read(); valueString(v) != "CLUSTERDOWN The cluster is down" {
		t.Fatalf("blocked client: %q", valueString(v))
	}
}

// TestClusterLockSeenByRedis: the flock moves with each rewrite of
// nodes.conf, so redis-server refuses a file a redgo node uses.
func TestClusterLockSeenByRedis(t *testing.T) {
	needTool(t, "redis-server")
	dir := t.TempDir()
	_, addr := startCluster(t, filepath.Join(dir, "nodes.conf"))
	c := dialRaw(t, addr)
	c.str("CLUSTER", "ADDSLOTS", "1") // a rewrite: the file is a new inode now
	c.str("CLUSTER", "SAVECONFIG")
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(freePort(t)), "--bind", "127.0.0.1", "--save", "",
		"--dir", dir, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(freePort(t)))
	done := make(chan struct{})
	var out []byte
	go func() { out, _ = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("redis-server started on a nodes.conf redgo holds")
	}
	if !bytes.Contains(out, []byte("is already used by a different Redis Cluster node")) {
		t.Fatalf("redis-server output:\n%s", out)
	}
}

// A node that loses a slot to a newer claim deletes the slot's keys, and
// the deletions are in its AOF: after a restart the keys stay gone (they
// would otherwise come back from the log as stale data of a slot served
// elsewhere).
func TestClusterLostSlotKeysStayDeleted(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nodes.conf")
	startA := func() (*Server, *rawConn) {
		s, err := newClusterServer(t, conf, "--appendonly", "yes", "--dir", dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LoadData(); err != nil {
			t.Fatal(err)
		}
		if err := s.Listen(); err != nil {
			t.Fatal(err)
		}
		go s.Serve()
		t.Cleanup(func() { s.Close() })
		return s, dialRaw(t, s.Addr().String())
	}
	a, ca := startA()
	coverAll(t, a.Addr().String())
	const lost = 1234
	for i := 0; i < 20; i++ {
		if got := ca.str("SET", keyIn(lost, fmt.Sprintf("k%d-", i)), "v"); got != "OK" {
			t.Fatal(got)
		}
	}
	ca.str("SET", keyIn(99, "kept"), "v")
	b, baddr := startCluster(t, "")
	cb := dialRaw(t, baddr)
	host, port, _ := net.SplitHostPort(baddr)
	if got := ca.str("CLUSTER", "MEET", host, port, busPort(b)); got != "OK" {
		t.Fatal(got)
	}
	bid := cb.str("CLUSTER", "MYID")
	eventually(t, 10*time.Second, func() error {
		if !strings.Contains(ca.str("CLUSTER", "NODES"), bid) || strings.Count(cb.str("CLUSTER", "NODES"), "master") != 2 {
			return fmt.Errorf("not met yet")
		}
		return nil
	})
	// B claims the slot with a config epoch newer than A's, as A sees them
	// (the collision rule may have bumped either node meanwhile).
	epoch := func(nodes, id string) int {
		m := regexp.MustCompile(`(?m)^` + id + ` \S+ \S+ \S+ \d+ \d+ (\d+) `).FindStringSubmatch(nodes)
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	aid := ca.str("CLUSTER", "MYID")
	eventually(t, 10*time.Second, func() error {
		nodes := ca.str("CLUSTER", "NODES")
		if ea, eb := epoch(nodes, aid), epoch(nodes, bid); ea < 0 || eb <= ea {
			cb.str("CLUSTER", "BUMPEPOCH")
			return fmt.Errorf("A at epoch %d, B at %d", ea, eb)
		}
		return nil
	})
	if got := cb.str("CLUSTER", "SETSLOT", strconv.Itoa(lost), "NODE", bid); got != "OK" {
		t.Fatal(got)
	}
	eventually(t, 10*time.Second, func() error {
		if n := ca.str("CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(lost)); n != "0" {
			return fmt.Errorf("A still has %s keys in the lost slot\nA:\n%s\nB:\n%s", n, ca.str("CLUSTER", "NODES"), cb.str("CLUSTER", "NODES"))
		}
		return nil
	})
	a.Close()
	_, ca2 := startA()
	if n := ca2.str("CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(lost)); n != "0" {
		t.Fatalf("after a restart A has %s keys of the slot it lost", n)
	}
	if n := ca2.str("DBSIZE"); n != "1" {
		t.Fatalf("DBSIZE after restart %s", n)
	}
}
