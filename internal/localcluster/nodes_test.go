package localcluster

import (
	"strings"
	"testing"
)

const nodesText = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail? - 0 1426238318243 3 disconnected 10923-16383 [16000->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 7000
short line
`

func TestParseNodes(t *testing.T) {
	n := parseNodes(nodesText)
	if len(n) != 4 {
		t.Fatalf("%d nodes", len(n))
	}
	if n[0].Addr != "127.0.0.1:30004" || n[0].Port != 30004 || !n[0].has("slave") || n[0].Master[:4] != "e7d1" {
		t.Errorf("replica: %+v", n[0])
	}
	if !n[2].has("fail?") || n[2].Link != "disconnected" || len(n[2].Open) != 1 || strings.Join(n[2].Slots, " ") != "10923-16383" {
		t.Errorf("failing master: %+v", n[2])
	}
	if !n[3].has("myself") || slotCount(n[3].Slots) != 5462 {
		t.Errorf("myself: %+v, %d slots", n[3], slotCount(n[3].Slots))
	}
}

// Any text parses; every node found has the fields a line must have.
func FuzzParseNodes(f *testing.F) {
	f.Add(nodesText)
	f.Add("a b c d e f g h 1-2 [3->-x] 5-")
	f.Fuzz(func(t *testing.T, text string) {
		for _, n := range parseNodes(text) {
			if n.ID == "" || n.Link == "" || len(n.Flags) == 0 {
				t.Fatalf("%q: %+v", text, n)
			}
			if c := slotCount(n.Slots); c < 0 {
				t.Fatalf("%q: %d slots", text, c)
			}
		}
	})
}

func TestLayoutCheck(t *testing.T) {
	l := DefaultLayout()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(*Layout){
		func(l *Layout) { l.Nodes = 0 },
		func(l *Layout) { l.PortBase = 60000 },
		func(l *Layout) { l.Replicas = 6 },
		func(l *Layout) { l.NodeTimeout = 0 },
	} {
		b := DefaultLayout()
		bad(&b)
		if err := b.Check(); err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: %v", b, err)
		}
	}
	if l.Masters() != 3 || l.Addr(30004) != "127.0.0.1:30004" {
		t.Fatal(l.Masters(), l.Addr(30004))
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines("a\nb\nc\n", 2); got != "b\nc\n" {
		t.Fatalf("%q", got)
	}
	if got := lastLines("a\nb", 5); got != "a\nb" {
		t.Fatalf("%q", got)
	}
}
