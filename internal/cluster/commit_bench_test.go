package cluster

import (
	"strings"
	"testing"
)

// benchState is a 3-master cluster as redis-cli --cluster create makes
// it, seen from the first master, with one slot importing.
func benchState() *State {
	s := NewState(strings.Repeat("a", 40), Options{NodeTimeout: 5000, RequireFullCoverage: true}, 0)
	s.Myself.IP, s.Myself.Port = "127.0.0.1", 30001
	nodes := []*Node{s.Myself}
	for i, c := range []string{"b", "c"} {
		n := NewNode(strings.Repeat(c, 40), FlagMaster, 0)
		n.IP, n.Port, n.ConfigEpoch = "127.0.0.1", 30002+i, uint64(2+i)
		s.AddNode(n)
		nodes = append(nodes, n)
	}
	for j := 0; j < 16384; j++ {
		s.AddSlot(nodes[j*3/16384], j)
	}
	s.SetImporting(20000%16384, nodes[1])
	return s
}

func BenchmarkRoutes(b *testing.B) {
	s := benchState()
	for b.Loop() {
		s.Routes()
	}
}

func BenchmarkConfAppend(b *testing.B) {
	s := benchState()
	var buf []byte
	for b.Loop() {
		buf = s.Conf().Append(buf[:0])
	}
}

func BenchmarkUpdateState(b *testing.B) {
	s := benchState()
	s.UpdateState(0)
	now := int64(WritableDelay) + 1 // past the writable delay: a full check
	for b.Loop() {
		s.UpdateState(now)
	}
}
