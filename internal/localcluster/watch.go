package localcluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WatchOptions control Watch.
type WatchOptions struct {
	Interval time.Duration
	Count    int  // refreshes before returning; 0: until ctx ends
	TTY      bool // redraw in place instead of printing one frame after another
}

// Watch prints a live view of the nodes: role, master, slots, link
// state, keys and ops/s, as the cluster sees each node.
func Watch(ctx context.Context, l Layout, w io.Writer, o WatchOptions) error {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	for i := 0; o.Count == 0 || i < o.Count; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.Interval):
			}
		}
		frame := Snapshot(l, time.Now())
		if o.TTY {
			frame = "\x1b[H\x1b[2J" + frame // home, clear screen
		} else if i > 0 {
			frame = "\n" + frame
		}
		if _, err := io.WriteString(w, frame); err != nil {
			return err
		}
	}
	return nil
}

// nodeRow is what the view shows of one node.
type nodeRow struct {
	port                    int
	id, role, master, slots string
	link, keys, ops, state  string
}

// Snapshot renders one frame of the view.
func Snapshot(l Layout, now time.Time) string {
	view, state := clusterView(l)
	byPort := map[int]nodeLine{}
	idPort := map[string]int{}
	for _, n := range view {
		byPort[n.Port] = n
		idPort[n.ID] = n.Port
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  cluster_state:%s  nodes %s-%d\n", now.UTC().Format("2006-01-02 15:04:05 UTC"), state,
		l.Addr(l.PortBase), l.PortBase+l.Nodes-1)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tID\tROLE\tMASTER\tSLOTS\tLINK\tKEYS\tOPS/S\tSTATE")
	for _, port := range l.Ports() {
		r := row(l, port, byPort, idPort)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.port, r.id, r.role, r.master, r.slots, r.link, r.keys, r.ops, r.state)
	}
	tw.Flush()
	return b.String()
}

// own fills the row from a node's line: ID, role, master, slots.
func own(r *nodeRow, n nodeLine, idPort map[string]int) {
	r.id = n.ID[:min(8, len(n.ID))]
	r.role, r.master, r.slots = "master", "-", "-"
	if n.has("slave") {
		r.role = "replica"
		if p, ok := idPort[n.Master]; ok {
			r.master = itoa(p)
		}
	}
	if len(n.Slots) > 0 {
		r.slots = fmt.Sprintf("%s (%d)", strings.Join(n.Slots, ","), slotCount(n.Slots))
	}
	if len(n.Open) > 0 {
		r.slots += " open:" + strings.Join(n.Open, ",")
	}
}

// clusterView is CLUSTER NODES and cluster_state from the first node
// that answers.
func clusterView(l Layout) ([]nodeLine, string) {
	for _, port := range l.Ports() {
		text, err := callStr(l.Addr(port), "CLUSTER", "NODES")
		if err != nil {
			continue
		}
		info, _ := callStr(l.Addr(port), "CLUSTER", "INFO")
		return parseNodes(text), infoField(info, "cluster_state")
	}
	return nil, "unknown (no node answers)"
}

func row(l Layout, port int, byPort map[int]nodeLine, idPort map[string]int) nodeRow {
	r := nodeRow{port: port, id: "-", role: "-", master: "-", slots: "-", link: "-", keys: "-", ops: "-", state: "ok"}
	if n, ok := byPort[port]; ok {
		own(&r, n, idPort)
		r.link = n.Link
		switch {
		case n.has("fail"):
			r.state = "fail"
		case n.has("fail?"):
			r.state = "pfail"
		}
	}
	addr := l.Addr(port)
	// The node's own line is the freshest on its role and slots.
	if text, err := callStr(addr, "CLUSTER", "NODES"); err == nil {
		for _, n := range parseNodes(text) {
			if n.has("myself") {
				own(&r, n, idPort)
			}
		}
	}
	keys, err := call(addr, "DBSIZE")
	if err != nil {
		r.state = "down (not answering)"
		return r
	}
	r.keys = itoa(int(keys.Int))
	if info, err := callStr(addr, "INFO", "stats"); err == nil {
		r.ops = infoField(info, "instantaneous_ops_per_sec")
	}
	if r.role == "replica" {
		if repl, err := callStr(addr, "INFO", "replication"); err == nil && infoField(repl, "master_link_status") != "up" {
			r.state = "syncing"
		}
	}
	return r
}
