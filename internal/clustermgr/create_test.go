package clustermgr

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// TestPlacement checks create's plan on three hosts: masters on distinct
// hosts first, each replica on another host than its master, as
// redis-cli places them.
func TestPlacement(t *testing.T) {
	var out bytes.Buffer
	m := &Manager{out: &out}
	for i, h := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.3", "10.0.0.3"} {
		n := m.newNode(h, 7000+i)
		n.Name = strings.Repeat(string(rune('a'+i)), 40)
		m.nodes = append(m.nodes, n)
	}
	il := interleaveByHost(m.nodes)
	masters := il[:3]
	for i, want := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if masters[i].IP != want {
			t.Fatalf("master %d on %s, want %s", i, masters[i].IP, want)
		}
	}
	assignMasterSlots(m, masters)
	m.assignReplicas(masters, append([]*Node(nil), il[3:]...), 1)
	m.optimizeAntiAffinity(rand.New(rand.NewSource(1)))
	for _, n := range m.nodes {
		if n.Replicate == "" {
			continue
		}
		master := m.byName(n.Replicate)
		if master == nil || master.IP == n.IP {
			t.Fatalf("replica %s follows %v on its own host", n.label(), master)
		}
	}
	want := "Master[0] -> Slots 0 - 5460\nMaster[1] -> Slots 5461 - 10922\nMaster[2] -> Slots 10923 - 16383\n" +
		"Adding replica 10.0.0.2:7003 to 10.0.0.1:7000\nAdding replica 10.0.0.3:7005 to 10.0.0.2:7002\n" +
		"Adding replica 10.0.0.1:7001 to 10.0.0.3:7004\n"
	if got := out.String(); got != want && !strings.HasPrefix(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	if s, _ := m.antiAffinityScore(); s != 0 {
		t.Fatalf("anti-affinity score %d", s)
	}
}
