package server

// High availability in one process: in-process cluster nodes with
// replicas, a partition made by dropping bus messages (clusterMode.testDrop),
// a master in the minority that stops taking writes and takes them again
// once healed, and a replica that takes over a master cut off from
// everyone.

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// haTimeout is these tests' cluster-node-timeout: long enough that a
// loaded machine (CI, -race) does not fail nodes over by mistake.
const haTimeout = 1500

// haNode is one in-process cluster node of these tests.
type haNode struct {
	s    *Server
	addr string
	c    *rawConn
	id   string
}

// startHACluster starts masters + replicas (one replica for each of the
// first len(replicas) masters), joins them and waits until every replica
// follows its master and every node is ok.
func startHACluster(t *testing.T, masters, replicas int) []*haNode {
	t.Helper()
	var nodes []*haNode
	for range masters + replicas {
		s, addr := startCluster(t, "", "--repl-diskless-sync-delay", "0", "--cluster-node-timeout", strconv.Itoa(haTimeout))
		c := dialRaw(t, addr)
		nodes = append(nodes, &haNode{s: s, addr: addr, c: c, id: c.str("CLUSTER", "MYID")})
	}
	for i := range masters {
		lo, hi := i*16384/masters, (i+1)*16384/masters-1
		if got := nodes[i].c.str("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); got != "OK" {
			t.Fatal(got)
		}
		nodes[i].c.str("CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1))
	}
	meet := func() {
		for _, n := range nodes[1:] {
			host, port, _ := net.SplitHostPort(n.addr)
			if got := nodes[0].c.str("CLUSTER", "MEET", host, port, busPort(n.s)); got != "OK" {
				t.Fatal(got)
			}
		}
	}
	meet()
	// A handshake that timed out on a loaded machine is retried.
	eventually(t, 20*time.Second, func() error {
		for _, n := range nodes {
			if info := n.c.str("CLUSTER", "INFO"); !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(nodes))+"\r\n") {
				meet()
				return fmt.Errorf("node %s does not know every node yet", n.addr)
			}
		}
		return nil
	})
	for i, r := range nodes[masters:] {
		master := nodes[i].id
		eventually(t, 10*time.Second, func() error {
			if got := r.c.str("CLUSTER", "REPLICATE", master); got != "OK" {
				return fmt.Errorf("CLUSTER REPLICATE: %s", got)
			}
			return nil
		})
	}
	for _, n := range nodes {
		eventually(t, 15*time.Second, func() error {
			info := n.c.str("CLUSTER", "INFO")
			if !strings.HasPrefix(info, "cluster_state:ok\r\n") ||
				!strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(masters+replicas)+"\r\n") {
				return fmt.Errorf("node %s: %.60q", n.addr, info)
			}
			repl := n.c.str("INFO", "replication")
			if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("replica %s not in sync", n.addr)
			}
			return nil
		})
	}
	return nodes
}

// partition makes the nodes of each group deaf to every node outside it.
func partition(groups ...[]*haNode) {
	side := map[string]int{}
	for g, nodes := range groups {
		for _, n := range nodes {
			side[n.id] = g
		}
	}
	for g, nodes := range groups {
		for _, n := range nodes {
			drop := func(sender string) bool {
				other, known := side[sender]
				return known && other != g
			}
			n.s.cluster.testDrop.Store(&drop)
		}
	}
}

func heal(nodes []*haNode) {
	for _, n := range nodes {
		n.s.cluster.testDrop.Store(nil)
	}
}

func TestClusterMinorityMasterStopsWrites(t *testing.T) {
	nodes := startHACluster(t, 3, 0)
	a := nodes[0]
	key := keyIn(0, "k") // slot 0: served by a
	if got := a.c.str("SET", key, "1"); got != "OK" {
		t.Fatal(got)
	}
	start := time.Now()
	partition([]*haNode{a}, nodes[1:])
	eventually(t, 10*time.Second, func() error {
		if got := a.c.str("SET", key, "2"); !strings.HasPrefix(got, "CLUSTERDOWN") {
			return fmt.Errorf("SET in the minority: %s", got)
		}
		return nil
	})
	if d := time.Since(start); d < haTimeout*time.Millisecond {
		t.Errorf("writes refused %v after the cut, before the node timeout (%d ms)", d, haTimeout)
	}
	heal(nodes)
	eventually(t, 15*time.Second, func() error {
		if got := a.c.str("SET", key, "3"); got != "OK" {
			return fmt.Errorf("SET after healing: %s", got)
		}
		return nil
	})
	for _, n := range nodes {
		waitClusterOK(t, n.addr)
	}
}

func TestClusterReplicaTakesOverCutMaster(t *testing.T) {
	nodes := startHACluster(t, 3, 1)
	a, r := nodes[0], nodes[3]
	key := keyIn(0, "k")
	a.c.str("SET", key, "before")
	eventually(t, 5*time.Second, func() error {
		r.c.str("READONLY")
		if got := r.c.str("GET", key); got != "before" {
			return fmt.Errorf("replica has %q", got)
		}
		return nil
	})
	// On the replica's READONLY connection a script that may write (a
	// shebang without no-writes) is redirected as a write, as Redis's
	// evalGetCommandFlags makes it; a read-only or flag-less script runs.
	if got := r.c.str("EVAL", "#!lua\nreturn redis.call('del', KEYS[1])", "1", key); !strings.HasPrefix(got, "MOVED ") {
		t.Fatalf("writing script on a replica: %q, want MOVED", got)
	}
	if got := r.c.str("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", key); got != "before" {
		t.Fatalf("no-writes script on a replica: %q", got)
	}
	if got := r.c.str("EVAL", "return redis.call('get', KEYS[1])", "1", key); got != "before" {
		t.Fatalf("script without a shebang reading on a replica: %q", got)
	}
	// a is cut off from everyone: the majority fails it over to r.
	partition([]*haNode{a}, nodes[1:])
	eventually(t, 15*time.Second, func() error {
		if got := r.c.str("ROLE"); !strings.HasPrefix(got, "[master") {
			return fmt.Errorf("ROLE of the replica: %s", got)
		}
		if got := r.c.str("SET", key, "after"); got != "OK" {
			return fmt.Errorf("SET on the new master: %s", got)
		}
		return nil
	})
	// Healed, the old master learns it lost its slots and follows r.
	heal(nodes)
	eventually(t, 15*time.Second, func() error {
		repl := a.c.str("INFO", "replication")
		_, port, _ := net.SplitHostPort(r.addr)
		if !strings.Contains(repl, "role:slave") || !strings.Contains(repl, "master_port:"+port+"\r\n") ||
			!strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("old master: %.200q", repl)
		}
		return nil
	})
	a.c.str("READONLY")
	eventually(t, 5*time.Second, func() error {
		if got := a.c.str("GET", key); got != "after" {
			return fmt.Errorf("old master, now a replica, has %q", got)
		}
		return nil
	})
}

// Replica migration: a master whose only replica dies gets one from the
// master with the most replicas (cluster-migration-barrier 1). Every
// master has a replica, so b is the only possible target (a master
// without replicas but with slots is one too, as in Redis).
func TestClusterReplicaMigration(t *testing.T) {
	nodes := startHACluster(t, 3, 3) // a replica each
	a, b := nodes[0], nodes[1]
	ra, rb := nodes[3], nodes[4]
	// a gets a second replica: the cluster's richest master.
	s, addr := startCluster(t, "", "--repl-diskless-sync-delay", "0", "--cluster-node-timeout", strconv.Itoa(haTimeout))
	extra := &haNode{s: s, addr: addr, c: dialRaw(t, addr)}
	extra.id = extra.c.str("CLUSTER", "MYID")
	host, port, _ := net.SplitHostPort(addr)
	a.c.str("CLUSTER", "MEET", host, port, busPort(s))
	eventually(t, 10*time.Second, func() error {
		if got := extra.c.str("CLUSTER", "REPLICATE", a.id); got != "OK" {
			return fmt.Errorf("CLUSTER REPLICATE: %s", got)
		}
		return nil
	})
	eventually(t, 10*time.Second, func() error {
		if repl := extra.c.str("INFO", "replication"); !strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("extra replica not in sync")
		}
		return nil
	})
	// Everyone knows who replicates whom (a master is orphaned only
	// for a node that knew it had replicas).
	for _, n := range append([]*haNode{extra}, nodes...) {
		eventually(t, 10*time.Second, func() error {
			out := n.c.str("CLUSTER", "NODES")
			if !strings.Contains(out, rb.id+" ") || !strings.Contains(out, "slave "+b.id) ||
				strings.Count(out, "slave "+a.id) != 2 {
				return fmt.Errorf("node %s does not see the replicas yet:\n%s", n.addr, out)
			}
			return nil
		})
	}
	// b's replica dies: b is orphaned; one of a's replicas moves to b.
	rb.s.Close()
	defer func() {
		if t.Failed() {
			for _, n := range []*haNode{ra, extra, a, b} {
				c := dialRaw(t, n.addr)
				t.Logf("%s (%s):\n%s\n%s", n.addr, n.id, c.str("CLUSTER", "NODES"), c.str("CLUSTER", "INFO"))
			}
		}
	}()
	_, bport, _ := net.SplitHostPort(b.addr)
	eventually(t, 30*time.Second, func() error {
		moved := 0
		for _, r := range []*haNode{ra, extra} {
			if repl := r.c.str("INFO", "replication"); strings.Contains(repl, "master_port:"+bport+"\r\n") &&
				strings.Contains(repl, "master_link_status:up") {
				moved++
			}
		}
		if moved != 1 {
			return fmt.Errorf("%d of a's replicas follow b", moved)
		}
		return nil
	})
	eventually(t, 10*time.Second, func() error {
		out := b.c.str("CLUSTER", "REPLICAS", b.id)
		if !strings.Contains(out, " slave "+b.id) {
			return fmt.Errorf("CLUSTER REPLICAS of b: %s", out)
		}
		return nil
	})
}
