package clusterbus

import (
	"fmt"
	"math/rand"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/cluster"
)

// busNode is one redgo bus on loopback with its own state.
type busNode struct {
	t  *Transport
	mu sync.Mutex
	m  *cluster.Membership
}

func startBus(t *testing.T, seed int64, port int) *busNode {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	opts := cluster.DefaultOptions()
	opts.NodeTimeout = 2000
	st := cluster.NewState(cluster.RandomName(r), opts, time.Now().UnixMilli())
	n := &busNode{m: cluster.NewMembership(st, r)}
	tr, err := Listen(Config{Addr: "127.0.0.1:0", M: n.m, Mu: &n.mu,
		Logf: func(f string, a ...any) { t.Logf("bus %d: "+f, append([]any{port}, a...)...) }})
	if err != nil {
		t.Fatal(err)
	}
	n.t = tr
	n.mu.Lock()
	st.Myself.Port, st.Myself.CPort = port, tr.Port()
	n.mu.Unlock()
	t.Cleanup(func() { tr.Close() })
	return n
}

// view runs fn on the state under the lock.
func (n *busNode) view(fn func(s *cluster.State) error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fn(n.m.S)
}

func (n *busNode) meet(t *testing.T, port, cport int) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.m.Meet("127.0.0.1", port, cport, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
}

// knows checks that n has a connected, settled entry for name at port.
func (n *busNode) knows(name string, port int) error {
	return n.view(func(s *cluster.State) error {
		o := s.Nodes[name]
		switch {
		case o == nil:
			return fmt.Errorf("%s unknown: %d nodes", name, len(s.Nodes))
		case o.Flags&(cluster.FlagHandshake|cluster.FlagPFail|cluster.FlagFail|cluster.FlagNoAddr) != 0:
			return fmt.Errorf("%s has flags %b", name, o.Flags)
		case o.Port != port || o.IP != "127.0.0.1":
			return fmt.Errorf("%s at %s:%d", name, o.IP, o.Port)
		case len(s.Nodes) != 2:
			return fmt.Errorf("%d nodes", len(s.Nodes))
		case !o.Linked:
			return fmt.Errorf("no link to %s", name)
		}
		return nil
	})
}

func (n *busNode) name() string {
	var s string
	n.view(func(st *cluster.State) error { s = st.Myself.Name; return nil })
	return s
}

func TestTransportMeet(t *testing.T) {
	a := startBus(t, 1, 7001)
	b := startBus(t, 2, 7002)
	a.meet(t, 7002, b.t.Port())
	eventually(t, 10*time.Second, func() error {
		if err := a.knows(b.name(), 7002); err != nil {
			return fmt.Errorf("a: %w", err)
		}
		if err := b.knows(a.name(), 7001); err != nil {
			return fmt.Errorf("b: %w", err)
		}
		return nil
	})
	// The epoch collision at 0 is settled over the bus too.
	eventually(t, 10*time.Second, func() error {
		var ea, eb uint64
		a.view(func(s *cluster.State) error { ea = s.Myself.ConfigEpoch; return nil })
		b.view(func(s *cluster.State) error { eb = s.Myself.ConfigEpoch; return nil })
		if ea == eb {
			return fmt.Errorf("both at configEpoch %d", ea)
		}
		return nil
	})
}

// A peer that sends garbage loses its link; the bus keeps serving.
func TestTransportBadPeer(t *testing.T) {
	a := startBus(t, 3, 7003)
	c, err := net.Dial("tcp", a.t.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("RCmb\x00\x00\x00\x10garbage!"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("link not closed after a bad message")
	}
	b := startBus(t, 4, 7004)
	b.meet(t, 7003, a.t.Port())
	eventually(t, 10*time.Second, func() error { return a.knows(b.name(), 7004) })
}

// A redgo bus and a real redis-server 7.0 meet, in both directions, and
// list each other.
func TestTransportRedis(t *testing.T) {
	for _, dir := range []string{"redgo meets redis", "redis meets redgo"} {
		t.Run(dir, func(t *testing.T) {
			r := startClusterRedis(t)
			a := startBus(t, 5, 7005)
			rname := r.do(t, "CLUSTER", "MYID")
			if dir == "redgo meets redis" {
				a.meet(t, r.port, r.port+10000)
			} else {
				r.do(t, "CLUSTER", "MEET", "127.0.0.1", 7005, a.t.Port())
			}
			eventually(t, 10*time.Second, func() error {
				if err := a.knows(rname, r.port); err != nil {
					return err
				}
				l := r.nodesLine(t, a.name())
				if l == "" || !strings.Contains(l, " master - ") || !strings.Contains(l, " connected") ||
					!strings.Contains(l, fmt.Sprintf("127.0.0.1:7005@%d", a.t.Port())) {
					return fmt.Errorf("redis sees %q", l)
				}
				if got := r.info(t, "cluster_known_nodes"); got != "2" {
					return fmt.Errorf("redis knows %s nodes", got)
				}
				return nil
			})
		})
	}
}

// addSlots gives n the slots lo..hi as CLUSTER ADDSLOTSRANGE.
func (n *busNode) addSlots(t *testing.T, lo, hi int) {
	t.Helper()
	n.view(func(s *cluster.State) error {
		var m cluster.SlotMark
		if err := s.CheckSlots(&m, false, lo, hi); err != nil {
			t.Fatal(err)
		}
		s.UpdateSlots(&m, false)
		return nil
	})
}

// Two redgo nodes and a redis-server form one cluster: everyone agrees
// on the slots and epochs, redis reaches cluster_state:ok, and a redgo
// node that goes away is marked FAIL by both the others.
func TestTransportMixed(t *testing.T) {
	// Redis forgets a handshake that takes longer than its node timeout:
	// give it room on a loaded machine.
	r := startClusterRedis(t, "--cluster-node-timeout", "4000")
	a := startBus(t, 6, 7006)
	b := startBus(t, 7, 7007)
	a.meet(t, r.port, r.port+10000)
	b.meet(t, r.port, r.port+10000)
	r.do(t, "CLUSTER", "ADDSLOTSRANGE", 0, 5000)
	a.addSlots(t, 5001, 10000)
	b.addSlots(t, 10001, 16383)
	rname, an, bn := r.do(t, "CLUSTER", "MYID"), a.name(), b.name()
	eventually(t, 30*time.Second, func() error {
		if got := r.info(t, "cluster_state"); got != "ok" {
			return fmt.Errorf("redis cluster_state %s", got)
		}
		epochs := map[string]uint64{}
		for _, n := range []*busNode{a, b} {
			err := n.view(func(s *cluster.State) error {
				if len(s.Nodes) != 3 {
					return fmt.Errorf("%d nodes", len(s.Nodes))
				}
				for _, j := range []int{0, 5001, 16383} {
					if s.Owner[j] == nil {
						return fmt.Errorf("slot %d unassigned", j)
					}
				}
				for name, o := range s.Nodes {
					epochs[name+fmt.Sprint(o.ConfigEpoch)] = o.ConfigEpoch
				}
				if s.Owner[0].Name != rname || s.Owner[5001].Name != an || s.Owner[16383].Name != bn {
					return fmt.Errorf("slot owners wrong")
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, name := range []string{rname, an, bn} {
			f := strings.Fields(r.nodesLine(t, name))
			if len(f) < 8 || f[7] != "connected" {
				return fmt.Errorf("redis line of %s: %v", name, f)
			}
			if _, ok := epochs[name+f[6]]; !ok {
				return fmt.Errorf("redis has %s at epoch %s, redgo nodes disagree", name, f[6])
			}
		}
		if len(epochs) != 3 {
			return fmt.Errorf("epochs %v", epochs)
		}
		return nil
	})
	b.t.Close()
	eventually(t, 30*time.Second, func() error {
		if l := r.nodesLine(t, bn); !strings.Contains(l, " master,fail ") {
			return fmt.Errorf("redis sees %q", l)
		}
		return a.view(func(s *cluster.State) error {
			if s.Nodes[bn].Flags&cluster.FlagFail == 0 {
				return fmt.Errorf("redgo sees flags %b", s.Nodes[bn].Flags)
			}
			return nil
		})
	})
}
