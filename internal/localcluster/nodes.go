package localcluster

import (
	"strconv"
	"strings"
)

// nodeLine is one line of CLUSTER NODES.
type nodeLine struct {
	ID     string
	Addr   string // ip:port, without the bus port or hostname
	Port   int
	Flags  []string
	Master string // the master's ID, or "-"
	Link   string // connected or disconnected
	Slots  []string
	Open   []string // slots in migration: [slot->-id] or [slot-<-id]
}

// has says whether the line has a flag.
func (n *nodeLine) has(flag string) bool {
	for _, f := range n.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// parseNodes reads CLUSTER NODES output; lines it cannot read are left
// out.
func parseNodes(text string) []nodeLine {
	var out []nodeLine
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		n := nodeLine{ID: f[0], Flags: strings.Split(f[2], ","), Master: f[3], Link: f[7]}
		n.Addr, _, _ = strings.Cut(f[1], "@")
		n.Addr, _, _ = strings.Cut(n.Addr, ",")
		if i := strings.LastIndexByte(n.Addr, ':'); i >= 0 {
			n.Port, _ = strconv.Atoi(n.Addr[i+1:])
		}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				n.Open = append(n.Open, s)
			} else {
				n.Slots = append(n.Slots, s)
			}
		}
		out = append(out, n)
	}
	return out
}

// slotCount is how many slots the ranges hold.
func slotCount(ranges []string) int {
	n := 0
	for _, r := range ranges {
		lo, hi, found := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		switch {
		case !found && err1 == nil:
			n++
		case found && err1 == nil && err2 == nil && b >= a:
			n += b - a + 1
		}
	}
	return n
}
