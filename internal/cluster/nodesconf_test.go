package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The testdata/redis7.0-*.conf files are nodes.conf files written by
// redis-server 7.0.15 (a 4-node cluster: 3 masters, one with a replica,
// slot 100 migrating A -> B, slots 100 and 200 importing on B; then with
// one master failed and the replica set to nofailover).
// redis7.0-cluster-nodes-pfail.txt is a CLUSTER NODES reply with a node
// in fail? state.

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRedisNodesConfRoundTrip: every nodes.conf from Redis parses and
// writes back byte for byte.
func TestRedisNodesConfRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/redis7.0-*.conf")
	if len(files) < 6 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		data := readFixture(t, filepath.Base(f))
		c, err := ParseNodesConf(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		setLinks(c, data)
		if got := c.Append(nil); !bytes.Equal(got, data) {
			t.Errorf("%s: written back as\n%s\nwant\n%s", f, got, data)
		}
	}
	// A CLUSTER NODES reply is the same lines without vars.
	data := readFixture(t, "redis7.0-cluster-nodes-pfail.txt")
	c, err := ParseNodesConf(data)
	if err != nil {
		t.Fatal(err)
	}
	setLinks(c, data)
	var lines []byte
	for _, n := range c.Nodes {
		lines = AppendNodeLine(lines, n, false, c.Migrations)
		lines = append(lines, '\n')
	}
	if !bytes.Equal(lines, data) {
		t.Errorf("CLUSTER NODES written back as\n%s\nwant\n%s", lines, data)
	}
}

// setLinks sets Linked as data's lines show it: the link state is
// written (at save time) but not loaded.
func setLinks(c *NodesConf, data []byte) {
	state := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 8 {
			state[f[0]] = f[7] == "connected"
		}
	}
	for _, n := range c.Nodes {
		n.Linked = state[n.Name]
	}
}

func TestRedisNodesConfContent(t *testing.T) {
	c, err := ParseNodesConf(readFixture(t, "redis7.0-17101.conf"))
	if err != nil {
		t.Fatal(err)
	}
	me := c.Myself
	if me == nil || me.Name != idA || me.Flags != FlagMyself|FlagMaster || me.Port != 17101 ||
		me.CPort != 27101 || me.IP != "127.0.0.1" || me.ConfigEpoch != 1 || me.Slots.Count() != 5001 ||
		!me.Slots.Has(5000) || me.Slots.Has(5001) {
		t.Fatalf("myself %+v", me)
	}
	if c.CurrentEpoch != 3 || c.LastVoteEpoch != 0 || len(c.Nodes) != 4 {
		t.Errorf("epochs %d %d, %d nodes", c.CurrentEpoch, c.LastVoteEpoch, len(c.Nodes))
	}
	if !slices.Equal(c.Migrations, []SlotMigration{{Slot: 100, Node: idB}}) {
		t.Errorf("migrations %+v", c.Migrations)
	}
	var b, r *Node
	for _, n := range c.Nodes {
		switch n.Name {
		case idB:
			b = n
		case idC:
			r = n
		}
	}
	if b == nil || b.Hostname != "host-b.example" || b.Port != 17102 || b.Slots.Count() != 5000 || b.ConfigEpoch != 0 {
		t.Errorf("B %+v", b)
	}
	if r == nil || r.ReplicaOf != me || !slices.Equal(me.Replicas, []*Node{r}) || r.Flags != FlagSlave ||
		r.ConfigEpoch != 1 || r.PongReceived != 1795308636101 || r.Slots.Count() != 0 {
		t.Errorf("replica %+v", r)
	}

	c, err = ParseNodesConf(readFixture(t, "redis7.0-17102.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Migrations, []SlotMigration{{Slot: 100, Node: idA, Importing: true},
		{Slot: 200, Node: idA, Importing: true}}) || c.Myself.Hostname != "host-b.example" {
		t.Errorf("B: migrations %+v, hostname %q", c.Migrations, c.Myself.Hostname)
	}

	c, err = ParseNodesConf(readFixture(t, "redis7.0-failed-17104.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Myself.Flags != FlagMyself|FlagSlave|FlagNoFailover || c.Myself.ReplicaOf == nil ||
		c.Myself.ReplicaOf.Name != idA || c.Myself.ConfigEpoch != 1 {
		t.Errorf("failed-17104 myself %+v", c.Myself)
	}
	var failed int
	for _, n := range c.Nodes {
		if n.Flags&FlagFail != 0 {
			failed++
			if n.PingSent == 0 || n.Slots.Count() != 4 {
				t.Errorf("failed node %+v", n)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed nodes", failed)
	}
}

// Redis 7.2+ writes aux fields after the address; they load, and the
// file is written back in 7.0's format.
func TestNodesConfAuxFields(t *testing.T) {
	shard := strings.Repeat("5", 40)
	data := idA + " 10.0.0.1:6379@16379,,tls-port=0,shard-id=" + shard + " myself,master - 0 0 2 connected 0-8191\n" +
		idB + " 10.0.0.2:6380@16380,b.example,tcp-port=6379,nodename=bee,shard-id=" + shard + ",future=x master - 0 1700000000000 3 connected 8192-16383\n" +
		"vars currentEpoch 3 lastVoteEpoch 2\n"
	c, err := ParseNodesConf([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Nodes[0], c.Nodes[1]
	if a.Hostname != "" || a.ShardID != shard || a.Port != 6379 || a.PPort != 0 {
		t.Errorf("A %+v", a)
	}
	if b.Hostname != "b.example" || b.HumanName != "bee" || b.ShardID != shard || b.Port != 6380 || b.PPort != 6379 {
		t.Errorf("B %+v", b)
	}
	want := idA + " 10.0.0.1:6379@16379 myself,master - 0 0 2 connected 0-8191\n" +
		idB + " 10.0.0.2:6380@16380,b.example master - 0 1700000000000 3 disconnected 8192-16383\n" +
		"vars currentEpoch 3 lastVoteEpoch 2\n"
	if got := string(c.Append(nil)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestNodesConfLoadRules(t *testing.T) {
	// Placeholders for names seen only as a master or in a marker; they
	// come after the described nodes.
	data := idC + " 127.0.0.1:7002@17002 slave " + idA + " 0 0 0 connected\n" +
		idB + " 127.0.0.1:7001 myself,master - 0 0 7 connected 5 [6->-" + strings.Repeat("d", 40) + "]\n" +
		"\n   \n" + // blank lines are skipped, as the padding Redis writes
		"VARS currentEpoch 2 lastVoteEpoch 1 someday 9\n\n\n"
	c, err := ParseNodesConf([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name[:1])
	}
	if strings.Join(names, "") != "2c8d" {
		t.Errorf("node order %v", names)
	}
	master := c.Nodes[2]
	if master.Flags != 0 || master.IP != "" || c.Nodes[0].ReplicaOf != master || len(master.Replicas) != 1 {
		t.Errorf("placeholder %+v", master)
	}
	// Bus port defaults to port+10000 (files from before Redis 4.0).
	if c.Myself.CPort != 17001 {
		t.Errorf("cport %d", c.Myself.CPort)
	}
	// currentEpoch is raised to the highest configEpoch.
	if c.CurrentEpoch != 7 || c.LastVoteEpoch != 1 {
		t.Errorf("epochs %d %d", c.CurrentEpoch, c.LastVoteEpoch)
	}
	want := idC + " 127.0.0.1:7002@17002 slave " + idA + " 0 0 0 disconnected\n" +
		idB + " 127.0.0.1:7001@17001 myself,master - 0 0 7 connected 5 [6->-" + strings.Repeat("d", 40) + "]\n" +
		idA + " :0@0 noflags - 0 0 0 disconnected\n" +
		strings.Repeat("d", 40) + " :0@0 noflags - 0 0 0 disconnected\n" +
		"vars currentEpoch 7 lastVoteEpoch 1\n"
	if got := string(c.Append(nil)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// A slot claimed twice stays with the first node; start > end adds
	// nothing.
	data = idA + " :1@2 myself,master - 0 0 1 connected 0-10 9-5\n" +
		idB + " :1@2 master - 0 0 2 connected 5-20\n"
	if c, err = ParseNodesConf([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if c.Nodes[0].Slots.Count() != 11 || c.Nodes[1].Slots.Count() != 10 || c.Nodes[1].Slots.Has(10) {
		t.Errorf("slots %d %d", c.Nodes[0].Slots.Count(), c.Nodes[1].Slots.Count())
	}

	// Handshake nodes are not saved.
	c.Nodes[1].Flags |= FlagHandshake
	if got := string(c.Append(nil)); strings.Contains(got, idB) {
		t.Errorf("handshake node saved:\n%s", got)
	}
}

func TestParseNodesConfErrors(t *testing.T) {
	me := idA + " 127.0.0.1:7000@17000 myself,master - 0 0 0 connected"
	for _, tc := range []struct{ name, data string }{
		{"no myself", idB + " 127.0.0.1:7000@17000 master - 0 0 0 connected\n"},
		{"only vars", "vars currentEpoch 1 lastVoteEpoch 0\n"},
		{"only blank lines", "\n\n"},
		{"seven fields", idA + " 127.0.0.1:7000@17000 myself,master - 0 0 0\n"},
		{"two myself", me + "\n" + idB + " 127.0.0.1:7001@17001 myself,master - 0 0 0 connected\n"},
		{"node twice", me + "\n" + me + "\n"},
		{"short name", "abc 127.0.0.1:7000@17000 myself,master - 0 0 0 connected\n"},
		{"uppercase name", strings.ToUpper(idA) + " 127.0.0.1:7000@17000 myself,master - 0 0 0 connected\n"},
		{"bad master name", me + "\n" + idB + " 127.0.0.1:1@2 slave xyz 0 0 0 connected\n"},
		{"unknown flag", idA + " 127.0.0.1:7000@17000 myself,boss - 0 0 0 connected\n"},
		{"no port", idA + " 127.0.0.1 myself,master - 0 0 0 connected\n"},
		{"bad port", idA + " 127.0.0.1:70000@17000 myself,master - 0 0 0 connected\n"},
		{"bad cport", idA + " 127.0.0.1:7000@x myself,master - 0 0 0 connected\n"},
		{"bad ping", idA + " 127.0.0.1:7000@17000 myself,master - x 0 0 connected\n"},
		{"bad pong", idA + " 127.0.0.1:7000@17000 myself,master - 0 -x 0 connected\n"},
		{"bad epoch", idA + " 127.0.0.1:7000@17000 myself,master - 0 0 -1 connected\n"},
		{"slot 16384", me + " 16384\n"},
		{"negative slot", me + " -1\n"},
		{"range end", me + " 0-16384\n"},
		{"bad slot", me + " 1x\n"},
		{"marker slot", me + " [16384->-" + idB + "]\n"},
		{"marker direction", me + " [1-=-" + idB + "]\n"},
		{"marker name", me + " [1->-abc]\n"},
		{"marker unclosed", me + " [1->-" + idB + "\n"},
		{"vars odd", me + "\nvars currentEpoch\n"},
		{"vars number", me + "\nvars currentEpoch x lastVoteEpoch 0\n"},
		{"aux without =", idA + " 1.2.3.4:1@2,,shard-id myself,master - 0 0 0 connected\n"},
		{"aux two =", idA + " 1.2.3.4:1@2,,nodename=a=b myself,master - 0 0 0 connected\n"},
		{"bad shard-id", idA + " 1.2.3.4:1@2,,shard-id=12 myself,master - 0 0 0 connected\n"},
		{"bad tcp-port", idA + " 1.2.3.4:1@2,,tcp-port=x myself,master - 0 0 0 connected\n"},
	} {
		if _, err := ParseNodesConf([]byte(tc.data)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := ParseNodesConf(nil); !errors.Is(err, ErrEmptyConfig) {
		t.Errorf("empty file: %v", err)
	}
}

// FuzzParseNodesConf: no panics; what parses writes out in a form that
// parses to the same file again.
func FuzzParseNodesConf(f *testing.F) {
	files, _ := filepath.Glob("testdata/redis7.0-*")
	for _, file := range files {
		f.Add(readFixture(f, filepath.Base(file)))
	}
	f.Add([]byte(idA + " 1.2.3.4:1@2,h,shard-id=" + idB + ",tcp-port=5 myself,slave " + idB + " 0 0 0 connected 1-2 [3-<-" + idC + "]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseNodesConf(data)
		if err != nil {
			return
		}
		out := c.Append(nil)
		c2, err := ParseNodesConf(out)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, out)
		}
		if out2 := c2.Append(nil); !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}

// TestRedisLoadsOurNodesConf starts redis-server 7.0 on a nodes.conf
// written by Append and checks it reads the same cluster.
func TestRedisLoadsOurNodesConf(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not installed but REDGO_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not installed: skipped")
	}
	c, err := ParseNodesConf(readFixture(t, "redis7.0-failed-17101.conf"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if port > 55535 {
		t.Skipf("port %d has no bus port", port)
	}
	// Our own address, and the others on ports nobody listens on.
	c.Myself.Port, c.Myself.CPort = port, port+10000
	for i, n := range c.Nodes {
		if n != c.Myself {
			n.Port, n.CPort = 1+i, 2+i
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nodes.conf")
	if err := os.WriteFile(conf, c.Append(nil), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", conf)
	var log bytes.Buffer
	cmd.Stdout = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("redis-server log:\n%s", log.String())
		}
	})
	rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rc.Close()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for rc.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if id, _ := rc.Do(ctx, "CLUSTER", "MYID").Text(); id != idA {
		t.Errorf("CLUSTER MYID %q", id)
	}
	nodes, err := rc.Do(ctx, "CLUSTER", "NODES").Text()
	if err != nil {
		t.Fatal(err)
	}
	// Redis sets non-zero ping/pong times to its clock at load, and its
	// links are down: compare the rest of its lines, as it formats them,
	// with ours.
	norm := func(text string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if f := strings.Fields(l); len(f) >= 8 && f[0] != "vars" {
				f[4], f[5], f[7] = "0", "0", "-"
				out = append(out, strings.Join(f, " "))
			}
		}
		slices.Sort(out)
		return out
	}
	if g, w := norm(nodes), norm(string(c.Append(nil))); len(w) != 4 || !slices.Equal(g, w) {
		t.Errorf("redis-server has\n%s\nwe wrote\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	info, _ := rc.Do(ctx, "CLUSTER", "INFO").Text()
	if !strings.Contains(info, "cluster_current_epoch:3\r\n") || !strings.Contains(info, "cluster_my_epoch:1\r\n") {
		t.Errorf("CLUSTER INFO:\n%s", info)
	}
}
