package cluster

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// joined returns n nodes that met node 0 and agree on everything.
func joined(t *testing.T, seed int64, n int, timeout int64) *memNet {
	t.Helper()
	net := newMemNet(t, seed, n, timeout)
	for i := 1; i < n; i++ {
		net.meet(i, 0)
	}
	net.runUntil(30_000, func() string {
		if why := net.converged(); why != "" {
			return why
		}
		return net.distinctEpochs()
	})
	return net
}

func TestGossipJoin(t *testing.T) {
	for _, n := range []int{2, 3, 6} {
		for seed := int64(1); seed <= 5; seed++ {
			net := joined(t, seed*100+int64(n), n, 2000)
			// Masters that started at epoch 0 all collided: each ends
			// with its own configEpoch.
			seen := map[uint64]bool{}
			for i := range n {
				e := net.st(i).Myself.ConfigEpoch
				if seen[e] {
					t.Fatalf("n=%d seed %d: configEpoch %d twice", n, seed, e)
				}
				seen[e] = true
			}
			// Everyone learned its own address from the MEETs and the
			// others have the same.
			for i := range n {
				me := net.st(i).Myself
				if me.IP != net.nodes[i].ip {
					t.Fatalf("node %d thinks its IP is %q", i, me.IP)
				}
				for j := range n {
					if o := net.st(j).Nodes[me.Name]; o.IP != me.IP || o.Port != 7000 || o.CPort != testCPort {
						t.Fatalf("node %d has node %d at %s:%d@%d", j, i, o.IP, o.Port, o.CPort)
					}
				}
			}
		}
	}
}

// A chain of meets (each node meets the previous one) converges too.
func TestGossipJoinChain(t *testing.T) {
	net := newMemNet(t, 7, 5, 2000)
	for i := 1; i < 5; i++ {
		net.meet(i, i-1)
	}
	net.runUntil(30_000, net.converged)
}

// MEET of an address a handshake is already under way with does nothing;
// meeting a node already known ends with no duplicate.
func TestGossipMeetKnown(t *testing.T) {
	net := joined(t, 3, 3, 2000)
	net.meet(1, 0)
	if err := net.nodes[1].m.Meet("10.0.0.1", 7000, testCPort, net.now); err != nil {
		t.Fatal(err)
	}
	if got := len(net.st(1).Nodes); got != 4 {
		t.Fatalf("one handshake node expected, %d nodes", got)
	}
	net.runUntil(5000, net.converged)
	if err := net.nodes[1].m.Meet("nope", 7000, testCPort, net.now); err == nil {
		t.Fatal("bad address accepted")
	}
}

// A handshake with nobody there times out.
func TestGossipHandshakeTimeout(t *testing.T) {
	net := newMemNet(t, 1, 2, 2000)
	if err := net.nodes[0].m.Meet("10.9.9.9", 7000, testCPort, net.now); err != nil {
		t.Fatal(err)
	}
	net.run(1000)
	if len(net.st(0).Nodes) != 2 {
		t.Fatal("handshake node missing")
	}
	net.run(1500)
	if len(net.st(0).Nodes) != 1 {
		t.Fatal("handshake node still there after the timeout")
	}
}

// spreadSlots gives each node an equal part of the slots, as ADDSLOTS.
func spreadSlots(net *memNet) {
	n := len(net.nodes)
	for i := range n {
		s := net.st(i)
		var m SlotMark
		for j := i * 16384 / n; j < (i+1)*16384/n; j++ {
			m[j] = 1
		}
		s.UpdateSlots(&m, false)
	}
}

func TestGossipSlotsPropagate(t *testing.T) {
	net := joined(t, 11, 4, 2000)
	spreadSlots(net)
	net.runUntil(10_000, net.converged)
	net.run(3000) // the rejoin delay after start in a minority
	for i := range 4 {
		s := net.st(i)
		if !s.OK() || s.Size() != 4 {
			t.Fatalf("node %d: ok %v size %d", i, s.OK(), s.Size())
		}
	}
}

func TestGossipFailure(t *testing.T) {
	const timeout = 2000
	net := joined(t, 21, 6, timeout)
	spreadSlots(net)
	net.runUntil(10_000, net.converged)
	for i := range 6 {
		net.st(i).UpdateState(net.now)
	}
	f := net.st(5).Myself.Name
	net.isolate(5, true)
	cut := net.now
	// PFAIL first, after the node timeout, then FAIL by quorum. The log
	// lines tell the order (one tick can hold both transitions).
	var pfailAt, failAt int64 = -1, -1
	net.onLog = func(x *memNode, line string) {
		if x == net.nodes[5] || !strings.Contains(line, f) {
			return
		}
		if strings.Contains(line, "possibly failing") && pfailAt < 0 {
			pfailAt = net.now
		}
		if strings.Contains(line, "as failing (quorum reached)") && failAt < 0 {
			failAt = net.now
		}
	}
	net.runUntil(6*timeout, func() string {
		for i := range 5 {
			if net.st(i).Nodes[f].Flags&FlagFail == 0 {
				return "not FAIL everywhere"
			}
		}
		return ""
	})
	net.onLog = nil
	if pfailAt < 0 || failAt < 0 {
		t.Fatalf("PFAIL logged at %d, FAIL by quorum at %d", pfailAt, failAt)
	}
	if pfailAt-cut < timeout || failAt < pfailAt {
		t.Fatalf("cut at %d, PFAIL at %d, FAIL at %d (node timeout %d)", cut, pfailAt, failAt, timeout)
	}
	for i := range 5 {
		if s := net.st(i); s.OK() {
			t.Fatalf("node %d: cluster ok with a failed master", i)
		}
	}
	// Isolated, the node sees the others PFAIL (each a node timeout after
	// its first unanswered ping) but never FAIL: it has no quorum.
	net.runUntil(2*timeout, func() string {
		for name, n := range net.st(5).Nodes {
			if name == f {
				continue
			}
			if n.Flags&FlagFail != 0 {
				t.Fatalf("isolated node marked %s FAIL", name)
			}
			if n.Flags&FlagPFail == 0 {
				return fmt.Sprintf("isolated node sees %s with flags %b", name, n.Flags)
			}
		}
		return ""
	})
	// Healed: a master with slots loses FAIL after node timeout * 2.
	net.isolate(5, false)
	net.runUntil(4*timeout+2000, net.converged)
}

func TestGossipEpochCollision(t *testing.T) {
	net := newMemNet(t, 5, 3, 2000)
	for i := range 3 {
		if err := net.st(i).SetConfigEpoch(7); err != nil {
			t.Fatal(err)
		}
	}
	net.meet(1, 0)
	net.meet(2, 0)
	net.runUntil(30_000, net.converged)
	seen := map[uint64]bool{}
	for i := range 3 {
		e := net.st(i).Myself.ConfigEpoch
		if seen[e] || e < 7 {
			t.Fatalf("configEpoch %d", e)
		}
		seen[e] = true
	}
	// The node with the greatest name keeps 7.
	var top *Node
	for _, n := range net.st(0).Nodes {
		if top == nil || n.Name > top.Name {
			top = n
		}
	}
	if top.ConfigEpoch != 7 {
		t.Fatalf("greatest name has epoch %d", top.ConfigEpoch)
	}
}

// A node cut off while another node takes its slots with a newer epoch
// gets an UPDATE when it comes back and, left without slots, follows the
// new owner as a replica.
func TestGossipUpdate(t *testing.T) {
	net := joined(t, 31, 3, 2000)
	spreadSlots(net)
	net.runUntil(10_000, net.converged)
	old := net.st(2).Myself.Name
	net.isolate(2, true)
	s1 := net.st(1)
	s1.BumpEpoch()
	if s1.Myself.ConfigEpoch <= s1.Nodes[old].ConfigEpoch {
		t.Fatal("bump did not pass the old owner")
	}
	for j := range s1.Owner {
		if s1.Owner[j] != nil && s1.Owner[j].Name == old {
			s1.DelSlot(j)
			s1.AddSlot(s1.Myself, j)
		}
	}
	net.run(3000)
	net.isolate(2, false)
	net.runUntil(20_000, func() string {
		s2 := net.st(2)
		if s2.Myself.Slots.Count() != 0 {
			return "old owner still has slots"
		}
		if s2.IsReplica() && s2.Myself.ReplicaOf.Name == s1.Myself.Name {
			return ""
		}
		return "old owner is not a replica of the new one"
	})
	net.runUntil(10_000, func() string {
		for i := range 3 {
			n := net.st(i).Nodes[old]
			if !n.IsMaster() && n.ReplicaOf != nil && n.ReplicaOf.Name == s1.Myself.Name {
				continue
			}
			return "replica not seen everywhere"
		}
		return ""
	})
}

// CLUSTER FORGET keeps a node out for the ban period, then gossip brings
// it back.
func TestGossipForget(t *testing.T) {
	net := joined(t, 41, 4, 2000)
	f := net.st(3).Myself.Name
	if err := net.nodes[0].m.Forget(f, net.now/1000); err != nil {
		t.Fatal(err)
	}
	net.run(50_000)
	if net.st(0).Nodes[f] != nil {
		t.Fatal("forgotten node back within the ban")
	}
	net.runUntil(20_000, net.converged)

	// Removed by the State directly (CLUSTER RESET): the link goes too.
	if err := net.st(1).Forget(f, net.now/1000); err != nil {
		t.Fatal(err)
	}
	net.run(TickMs)
	if net.nodes[1].out[f] != nil || len(net.nodes[1].m.links) != 2 {
		t.Fatal("link of a removed node kept")
	}
}

// Hostnames travel in the ping extension and are cleared when dropped.
func TestGossipHostname(t *testing.T) {
	net := joined(t, 51, 3, 2000)
	me := net.st(2).Myself
	me.Hostname = "node3.example"
	net.runUntil(5000, func() string {
		for i := range 2 {
			if net.st(i).Nodes[me.Name].Hostname != "node3.example" {
				return "hostname not seen"
			}
		}
		return ""
	})
	me.Hostname = ""
	net.runUntil(5000, func() string {
		for i := range 2 {
			if net.st(i).Nodes[me.Name].Hostname != "" {
				return "hostname not cleared"
			}
		}
		return ""
	})
}

// Gossip sections hold max(3, N/10) nodes plus every PFAIL node.
func TestGossipSectionSize(t *testing.T) {
	s := NewState(name('a'), DefaultOptions(), 0)
	m := NewMembership(s, rand.New(rand.NewSource(1)))
	for c := byte('b'); c <= 'z'; c++ {
		n := NewNode(name(c), FlagMaster, 0)
		n.IP, n.Port, n.CPort = "10.0.0.1", 7000, 17000
		s.AddNode(n)
		m.links[n] = &link{up: true}
	}
	s.Nodes[name('q')].Flags |= FlagPFail
	m.sendPing(nil, 9, MsgPing, 0)
	out := m.Ready().Out
	if len(out) != 1 || out[0].Link != 9 {
		t.Fatalf("outs %+v", out)
	}
	g := out[0].Msg.Gossip
	if len(g) != 4 || g[3].Name != name('q') {
		t.Fatalf("gossip of %d entries, last %s", len(g), g[len(g)-1].Name)
	}
}

// DEBUG DROP-CLUSTER-PACKET-FILTER: a node that drops the PINGs it gets
// (counting them) never answers them; -1 makes it answer again.
func TestGossipDropFilter(t *testing.T) {
	const timeout = 2000
	net := joined(t, 31, 3, timeout)
	dropped := 0
	net.onLog = func(x *memNode, line string) {
		if x == net.nodes[0] && line == "Dropping packet that matches debug drop filter" {
			dropped++
		}
	}
	name0, name1 := net.st(0).Myself.Name, net.st(1).Myself.Name
	net.nodes[0].m.DropType = int(MsgPing)
	before := net.st(0).Received[MsgPing]
	cut := net.now
	net.run(3 * timeout)
	if dropped == 0 || net.st(0).Received[MsgPing] == before {
		t.Fatalf("dropped %d PINGs, counted %d", dropped, net.st(0).Received[MsgPing]-before)
	}
	if got := net.st(1).Nodes[name0].PongReceived; got > cut {
		t.Fatalf("node 0 answered a PING at %d (filter set at %d)", got, cut)
	}
	if got := net.st(0).Nodes[name1].PongReceived; got <= cut {
		t.Fatalf("node 0 got no PONG since %d (last %d)", cut, got)
	}
	net.onLog = nil
	net.nodes[0].m.DropType = -1
	cut = net.now
	net.runUntil(4*timeout, func() string {
		if net.st(1).Nodes[name0].PongReceived <= cut {
			return "node 0 does not answer PINGs"
		}
		return net.converged()
	})
}
