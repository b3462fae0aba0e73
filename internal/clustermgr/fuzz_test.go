package clustermgr

import (
	"strings"
	"testing"

	"redgo/internal/slot"
)

const nodesSample = "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n" +
	"67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922\n" +
	"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1] [93-<-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]\n"

// FuzzNodes feeds CLUSTER NODES texts to the parser the manager loads a
// node with: no panic, slot counts that match the slot table, and a
// description that names the node.
func FuzzNodes(f *testing.F) {
	f.Add(nodesSample)
	f.Add("x 1:2 myself 0 0 0 0 0 1-0 16383-99999 -5 [")
	f.Add("a :@ myself,slave b\n")
	f.Fuzz(func(t *testing.T, text string) {
		m := &Manager{}
		for _, l := range parseNodesLines(text) {
			parseAddr(l.addr)
			n := m.newNode("127.0.0.1", 1)
			n.setFromLine(l, true)
			c := 0
			for _, has := range n.Slots {
				if has {
					c++
				}
			}
			if c != n.SlotCount || c > slot.Count {
				t.Fatalf("%q: %d slots counted, table has %d", text, n.SlotCount, c)
			}
			if d := n.describe(2); !strings.Contains(d, n.Name) {
				t.Fatalf("%q: description %q", text, d)
			}
			slotsString(&n.Slots)
			n.json(1)
		}
	})
}

// FuzzArgs feeds argument lists (NUL-separated) to the option parser.
func FuzzArgs(f *testing.F) {
	f.Add("reshard\x00127.0.0.1:7000\x00--cluster-from\x00all\x00--cluster-slots\x0010\x00--cluster-yes")
	f.Add("rebalance\x00h\x00p\x00--cluster-weight\x00a=1\x00b=2.5\x00--cluster-threshold\x001e3")
	f.Add("create\x00--cluster-replicas")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		name, cmdArgs, o, err := parse(defaults(), args)
		if err != nil {
			return
		}
		if name != args[0] || len(cmdArgs) >= len(args) {
			t.Fatalf("%q: name %q args %q", args, name, cmdArgs)
		}
		hostFromArgs(cmdArgs)
		for _, w := range o.Weights {
			atof(w)
		}
	})
}
