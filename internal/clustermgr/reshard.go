package clustermgr

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"

	"redgo/internal/slot"
)

// tableItem is one slot of a resharding plan.
type tableItem struct {
	src  *Node
	slot int
}

// reshardTable is clusterManagerComputeReshardTable: numslots taken from
// the sources in proportion to their slots (the biggest rounded up, the
// others down), lowest slots first.
func reshardTable(sources []*Node, numslots int) []tableItem {
	total := 0
	sorted := append([]*Node(nil), sources...)
	for _, n := range sorted {
		total += n.SlotCount
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].SlotCount > sorted[j].SlotCount })
	var out []tableItem
	for i, n := range sorted {
		f := float64(float32(numslots) / float32(total) * float32(n.SlotCount))
		if i == 0 {
			f = math.Ceil(f)
		} else {
			f = math.Floor(f)
		}
		limit, count := int(f), 0
		for s := 0; s < slot.Count; s++ {
			if !n.Slots[s] {
				continue
			}
			if count >= limit || len(out) >= numslots {
				break
			}
			out = append(out, tableItem{n, s})
			count++
		}
	}
	return out
}

// nodeForResharding is clusterNodeForResharding; fatal says the error
// ends the command.
func (m *Manager) nodeForResharding(id string, target *Node) (n *Node, fatal bool) {
	n = m.byName(id)
	if n == nil || n.IsReplica() {
		m.logErr("*** The specified node (%s) is not known or not a master, please retry.\n", id)
		return nil, true
	}
	if target != nil && n.Name == target.Name {
		m.logErr("*** It is not possible to use the target node as source node.\n")
		return nil, false
	}
	return n, false
}

// prompt prints a question and reads the answer.
func (m *Manager) prompt(q string) (string, bool) {
	m.printf("%s", q)
	if m.in == nil {
		return "", false
	}
	line, err := m.in.ReadString('\n')
	if err != nil && line == "" {
		return "", false
	}
	return strings.TrimRight(line, "\r\n"), true
}

// reshard is the reshard subcommand.
func (m *Manager) reshard(args []string) bool {
	if !m.loadFromArgs(args) {
		return false
	}
	m.checkCluster(false)
	if len(m.errors) > 0 {
		fmt.Fprintf(m.errw, "*** Please fix your cluster problems before resharding\n"+
			"(redgo cli --cluster fix %s repairs open and uncovered slots)\n", m.nodes[0].label())
		return false
	}
	slots := m.opts.Slots
	for slots <= 0 || slots > slot.Count {
		a, ok := m.prompt(fmt.Sprintf("How many slots do you want to move (from 1 to %d)? ", slot.Count))
		if !ok {
			fmt.Fprintf(m.errw, "\nNo answer on stdin: give --cluster-slots, --cluster-to, --cluster-from and --cluster-yes.\n")
			return false
		}
		slots = atoi(a)
	}
	to := m.opts.To
	for to == "" {
		a, ok := m.prompt("What is the receiving node ID? ")
		if !ok {
			fmt.Fprintf(m.errw, "\nNo answer on stdin: give --cluster-to.\n")
			return false
		}
		to = a
	}
	target, _ := m.nodeForResharding(to, nil)
	if target == nil {
		return false
	}
	var sources []*Node
	all := false
	if m.opts.From == "" {
		m.printf("Please enter all the source node IDs.\n")
		m.printf("  Type 'all' to use all the nodes as source nodes for the hash slots.\n")
		m.printf("  Type 'done' once you entered all the source nodes IDs.\n")
		for {
			a, ok := m.prompt(fmt.Sprintf("Source node #%d: ", len(sources)+1))
			if !ok {
				fmt.Fprintf(m.errw, "\nNo answer on stdin: give --cluster-from.\n")
				return false
			}
			if a == "done" {
				break
			}
			if a == "all" {
				all = true
				break
			}
			src, fatal := m.nodeForResharding(a, target)
			if src != nil {
				sources = append(sources, src)
			} else if fatal {
				return false
			}
		}
	} else {
		for _, id := range strings.Split(m.opts.From, ",") {
			if id == "all" {
				all = true
				break
			}
			if id == "" {
				continue
			}
			src, fatal := m.nodeForResharding(id, target)
			if src != nil {
				sources = append(sources, src)
			} else if fatal {
				return false
			}
		}
	}
	if all {
		sources = nil
		for _, n := range m.nodes {
			if n.IsReplica() || n.Replicate != "" || n.Name == target.Name {
				continue
			}
			sources = append(sources, n)
		}
	}
	if len(sources) == 0 {
		fmt.Fprintf(m.errw, "*** No source nodes given, operation aborted.\n")
		return false
	}
	m.printf("\nReady to move %d slots.\n", slots)
	m.printf("  Source nodes:\n")
	for _, s := range sources {
		m.printf("%s\n", s.describe(4))
	}
	m.printf("  Destination node:\n")
	m.printf("%s\n", target.describe(4))
	table := reshardTable(sources, slots)
	m.printf("  Resharding plan:\n")
	for _, it := range table {
		m.printf("    Moving slot %d from %s\n", it.slot, it.src.Name)
	}
	if !m.opts.Yes {
		a, _ := m.prompt("Do you want to proceed with the proposed reshard plan (yes/no)? ")
		if a != "yes" {
			return false
		}
	}
	return m.runTable(table, target, false)
}

// chunk is how many slots one CLUSTER MIGRATESLOTS call moves: the
// progress advances (and a line is printed) after each.
const chunk = 1024

// runTable moves the slots of the table to target: whole slots with
// CLUSTER MIGRATESLOTS when the source and the target are redgo, key by
// key otherwise. On a terminal a progress bar shows slots and keys
// moved, the rate and the time left; otherwise redis-cli's lines (a
// "Moving slot" line per slot for reshard, a '#' per slot for
// rebalance).
func (m *Manager) runTable(table []tableItem, target *Node, rebalance bool) bool {
	var bar *progressbar.ProgressBar
	keys := 0
	if m.tty {
		bar = progressbar.NewOptions(len(table),
			progressbar.OptionSetWriter(m.out),
			progressbar.OptionSetDescription("slots moved"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("slots"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(m.out) }))
	}
	describe := func(k int) {
		if bar != nil {
			bar.Describe(fmt.Sprintf("slots moved, %d keys", k))
		}
	}
	for i := 0; i < len(table); {
		src := table[i].src
		if src.isRedgo() && target.isRedgo() {
			var slots []int
			for i < len(table) && table[i].src == src && len(slots) < chunk {
				slots = append(slots, table[i].slot)
				i++
			}
			base := keys
			if !m.tty && !rebalance {
				m.printf("Moving slots %s from %s to %s: ", rangesString(slots), src.label(), target.label())
			}
			k, e := m.migrateSlots(src, target, slots, func(k int) { describe(base + k) })
			keys += k
			if e != "" {
				if !m.tty && !rebalance {
					m.printf("\n")
				}
				m.logErr("*** CLUSTER MIGRATESLOTS on %s failed: %s\n", src.label(), e)
				return false
			}
			switch {
			case bar != nil:
				describe(keys)
				bar.Add(len(slots))
			case rebalance:
				m.printf("%s", strings.Repeat("#", len(slots)))
			default:
				m.printf("%d keys\n", k)
			}
			continue
		}
		it := table[i]
		i++
		o := moveOpts{verbose: !rebalance && bar == nil, quiet: rebalance || bar != nil, update: true}
		ok, e := m.moveSlot(it.src, target, it.slot, o, &keys)
		if !ok {
			if e != "" {
				if rebalance {
					m.logErr("*** clusterManagerMoveSlot: %s\n", e)
				} else {
					m.logErr("clusterManagerMoveSlot failed: %s\n", e)
				}
			}
			return false
		}
		switch {
		case bar != nil:
			describe(keys)
			bar.Add(1)
		case rebalance:
			m.printf("#")
		}
	}
	return true
}

// rangesString is slots as 1-3,7.
func rangesString(slots []int) string {
	var parts []string
	for _, r := range runs(slots) {
		if r[0] == r[1] {
			parts = append(parts, itoa(r[0]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r[0], r[1]))
		}
	}
	return strings.Join(parts, ",")
}

// rebalance is the rebalance subcommand.
func (m *Manager) rebalance(args []string) bool {
	if !m.loadFromArgs(args) {
		return false
	}
	for _, w := range m.opts.Weights {
		name, val, ok := strings.Cut(w, "=")
		if !ok {
			m.logErr("*** invalid input %s\n", w)
			return false
		}
		n := m.byPrefix(name)
		if n == nil {
			m.logErr("*** No such master node %s\n", name)
			return false
		}
		n.weight = atof(val)
	}
	var involved []*Node
	total := float32(0)
	for _, n := range m.nodes {
		if n.IsReplica() || n.Replicate != "" {
			continue
		}
		if !m.opts.UseEmptyMasters && n.SlotCount == 0 {
			n.weight = 0
			continue
		}
		total += float32(n.weight)
		involved = append(involved, n)
	}
	m.checkCluster(true)
	if len(m.errors) > 0 {
		m.logErr("*** Please fix your cluster problems before rebalancing\n")
		return false
	}
	reached, totalBalance := false, 0
	threshold := m.opts.Threshold
	for _, n := range involved {
		expected := int(float32(slot.Count) / total * float32(n.weight))
		n.balance = n.SlotCount - expected
		totalBalance += n.balance
		over := false
		if threshold > 0 {
			if n.SlotCount > 0 {
				errPerc := math.Abs(100 - 100.0*float64(expected)/float64(n.SlotCount))
				over = float32(errPerc) > float32(threshold)
			} else if expected > 1 {
				over = true
			}
		}
		reached = reached || over
	}
	if !reached {
		m.logWarn("*** No rebalancing needed! All nodes are within the %.2f%% threshold.\n", threshold)
		return true
	}
	for totalBalance > 0 {
		for _, n := range involved {
			if n.balance <= 0 && totalBalance > 0 {
				n.balance--
				totalBalance--
			}
		}
	}
	sorted := append([]*Node(nil), involved...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].balance < sorted[j].balance })
	m.logInfo(">>> Rebalancing across %d nodes. Total weight = %.2f\n", len(involved), total)
	if m.opts.Verbose {
		for _, n := range sorted {
			m.printf("%s balance is %d slots\n", n.label(), n.balance)
		}
	}
	dstIdx, srcIdx := 0, len(sorted)-1
	for dstIdx < srcIdx {
		dst, src := sorted[dstIdx], sorted[srcIdx]
		numslots := min(abs(dst.balance), abs(src.balance))
		if numslots > 0 {
			m.printf("Moving %d slots from %s to %s\n", numslots, src.label(), dst.label())
			table := reshardTable([]*Node{src}, numslots)
			if len(table) != numslots {
				m.logErr("*** Assertion failed: Reshard table != number of slots")
				return false
			}
			if m.opts.Simulate {
				m.printf("%s", strings.Repeat("#", len(table)))
			} else if !m.runTable(table, dst, true) {
				return false
			}
			if !m.tty || m.opts.Simulate {
				m.printf("\n")
			}
		}
		dst.balance += numslots
		src.balance -= numslots
		if dst.balance == 0 {
			dstIdx++
		}
		if src.balance == 0 {
			srcIdx--
		}
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// atof is C's atof for a weight: the leading number, 0 when none.
func atof(s string) float64 {
	end := 0
	for end < len(s) && strings.IndexByte("+-.0123456789eE", s[end]) >= 0 {
		end++
	}
	for ; end > 0; end-- {
		var f float64
		if _, err := fmt.Sscanf(s[:end], "%g", &f); err == nil {
			return f
		}
	}
	return 0
}
