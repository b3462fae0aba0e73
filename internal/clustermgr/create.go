package clustermgr

import (
	"fmt"
	"math"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"time"

	"redgo/internal/slot"
)

// create is the create subcommand: masters on distinct hosts first, the
// slots split in contiguous ranges, replicas on other hosts than their
// master where possible, then ADDSLOTS, config epochs, MEET and
// REPLICATE.
func (m *Manager) create(args []string) bool {
	for _, a := range args {
		ip, port, _, ok := parseAddr(a)
		if !ok {
			fmt.Fprintf(m.errw, "Invalid address format: %s\n", a)
			return false
		}
		n := m.newNode(ip, port)
		if !n.connect() {
			m.notReachableHint(n)
			return false
		}
		if ok, e := n.isCluster(); !ok {
			m.notClusterError(n, e)
			fmt.Fprintf(m.errw, "Start the node with cluster-enabled yes (redgo cluster start does).\n")
			return false
		}
		if _, ok, e := m.loadNode(n, false); !ok {
			if e != "" {
				m.replyError(n, e)
			}
			return false
		}
		if ok, e := n.isEmpty(); !ok {
			if e == "" {
				e = "is not empty. Either the node already knows other nodes (check with CLUSTER NODES) " +
					"or contains some key in database 0."
			}
			m.logErr("[ERR] Node %s %s\n", n.label(), e)
			fmt.Fprintf(m.errw, "Give only new nodes to create: empty them with FLUSHALL and CLUSTER RESET HARD, or start fresh ones.\n")
			return false
		}
		m.nodes = append(m.nodes, n)
	}
	replicas := m.opts.Replicas
	masters := len(m.nodes) / (replicas + 1)
	if masters < 3 {
		m.logErr("*** ERROR: Invalid configuration for cluster creation.\n"+
			"*** Redis Cluster requires at least 3 master nodes.\n"+
			"*** This is not possible with %d nodes and %d replicas per node.", len(m.nodes), replicas)
		m.logErr("\n*** At least %d nodes are required.\n", 3*(replicas+1))
		return false
	}
	m.logInfo(">>> Performing hash slots allocation on %d nodes...\n", len(m.nodes))
	interleaved := interleaveByHost(m.nodes)
	ms := interleaved[:masters]
	rest := append([]*Node(nil), interleaved[masters:]...)
	assignMasterSlots(m, ms)
	m.assignReplicas(ms, rest, replicas)
	m.optimizeAntiAffinity(rand.New(rand.NewSource(time.Now().UnixNano())))
	m.showNodes()
	if !m.confirm("Can I set the above configuration?") {
		return true
	}
	return m.applyCreate()
}

// interleaveByHost orders the nodes host by host in turn: the first of
// each host, then the second of each, and so on.
func interleaveByHost(nodes []*Node) []*Node {
	var hosts []string
	byHost := map[string][]*Node{}
	for _, n := range nodes {
		if _, ok := byHost[n.IP]; !ok {
			hosts = append(hosts, n.IP)
		}
		byHost[n.IP] = append(byHost[n.IP], n)
	}
	var out []*Node
	for len(out) < len(nodes) {
		for _, h := range hosts {
			if l := byHost[h]; len(l) > 0 {
				out = append(out, l[0])
				byHost[h] = l[1:]
			}
		}
	}
	return out
}

// assignMasterSlots gives the masters contiguous ranges, rounded as
// redis-cli rounds them (5461, 5462, 5461 for three).
func assignMasterSlots(m *Manager, masters []*Node) {
	per := float32(slot.Count) / float32(len(masters))
	first := 0
	var cursor float32
	for i, n := range masters {
		last := int(math.Round(float64(cursor + per - 1)))
		if last > slot.Count || i == len(masters)-1 {
			last = slot.Count - 1
		}
		if last < first {
			last = first
		}
		m.printf("Master[%d] -> Slots %d - %d\n", i, first, last)
		n.resetSlots()
		for j := first; j <= last; j++ {
			n.Slots[j] = true
			n.SlotCount++
		}
		n.dirty = true
		first = last + 1
		cursor += per
	}
}

// assignReplicas gives each master its replicas from the other nodes,
// preferring nodes on another host, then the nodes left over as extra
// replicas, as redis-cli does.
func (m *Manager) assignReplicas(masters, pool []*Node, replicas int) {
	if len(pool) > 1 {
		pool = append(pool[1:], pool[0]) // the rotation redis-cli does
	}
	available := len(pool)
	assignUnused := false
	for {
		for _, master := range masters {
			assigned := 0
			for assigned < replicas && available > 0 {
				var replica *Node
				firstIdx := -1
				for j, n := range pool {
					if n == nil {
						continue
					}
					if n.IP != master.IP {
						replica = n
						pool[j] = nil
						break
					}
					if firstIdx < 0 {
						firstIdx = j
					}
				}
				if replica == nil && firstIdx >= 0 {
					replica = pool[firstIdx]
					pool = pool[firstIdx+1:]
				}
				if replica == nil {
					break
				}
				assigned++
				available--
				replica.Replicate = master.Name
				replica.dirty = true
				m.printf("Adding replica %s to %s\n", replica.label(), master.label())
				if assignUnused {
					break
				}
			}
		}
		if assignUnused || available <= 0 {
			break
		}
		assignUnused = true
		m.printf("Adding extra replicas...\n")
	}
}

// antiAffinityScore is 10000 for each replica on its master's host plus
// 1 for each replica sharing a host with another replica of the same
// master; offenders are one replica of each such group.
func (m *Manager) antiAffinityScore() (int, []*Node) {
	score := 0
	var offenders []*Node
	var hosts []string
	byHost := map[string][]*Node{}
	for _, n := range m.nodes {
		if _, ok := byHost[n.IP]; !ok {
			hosts = append(hosts, n.IP)
		}
		byHost[n.IP] = append(byHost[n.IP], n)
	}
	for _, h := range hosts {
		type group struct {
			master bool
			count  int
		}
		groups := map[string]*group{}
		var order []string
		for _, n := range byHost[h] {
			key := n.Name
			if n.Replicate != "" {
				key = n.Replicate
			}
			g := groups[key]
			if g == nil {
				g = &group{}
				groups[key] = g
				order = append(order, key)
			}
			g.count++
			if n.Replicate == "" {
				g.master = true
			}
		}
		for _, key := range order {
			g := groups[key]
			if g.count < 2 {
				continue
			}
			if g.master {
				score += 10000 * (g.count - 1)
			} else {
				score += g.count
			}
			for _, n := range m.nodes {
				if n.Replicate == key && n.IP == h {
					offenders = append(offenders, n)
					break
				}
			}
		}
	}
	return score, offenders
}

// optimizeAntiAffinity swaps the masters of random replica pairs, keeping
// a swap unless it makes the score worse, as redis-cli does.
func (m *Manager) optimizeAntiAffinity(rng *rand.Rand) {
	score, _ := m.antiAffinityScore()
	if score == 0 {
		return
	}
	m.logInfo(">>> Trying to optimize slaves allocation for anti-affinity\n")
	for iter := 500 * len(m.nodes); iter > 0; iter-- {
		score, offenders := m.antiAffinityScore()
		if score == 0 || len(offenders) == 0 {
			break
		}
		first := offenders[rng.Intn(len(offenders))]
		var others []*Node
		for _, n := range m.nodes {
			if n != first && n.Replicate != "" {
				others = append(others, n)
			}
		}
		if len(others) == 0 {
			break
		}
		second := others[rng.Intn(len(others))]
		a, b := first.Replicate, second.Replicate
		first.Replicate, second.Replicate = b, a
		first.dirty, second.dirty = true, true
		if s, _ := m.antiAffinityScore(); s > score {
			first.Replicate, second.Replicate = a, b
		}
	}
	score, _ = m.antiAffinityScore()
	switch {
	case score == 0:
		m.logOk("[OK] Perfect anti-affinity obtained!\n")
	case score >= 10000:
		m.logWarn("[WARNING] Some slaves are in the same host as their master\n")
	default:
		m.logWarn("[WARNING] Some slaves of the same master are in the same host\n")
	}
}

// confirm is confirmWithYes: --cluster-yes, or "yes" typed.
func (m *Manager) confirm(msg string) bool {
	if m.opts.Yes {
		return true
	}
	m.printf("%s (type 'yes' to accept): ", msg)
	return m.readAnswer() == "yes"
}

// readAnswer reads one line from stdin ("" at the end of input).
func (m *Manager) readAnswer() string {
	if m.in == nil {
		return ""
	}
	line, _ := m.in.ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

// flushNodeConfig sends a dirty node's configuration: REPLICATE for a
// replica, ADDSLOTS for a master. A replica whose master is not known
// yet stays dirty.
func (m *Manager) flushNodeConfig(n *Node) (bool, string) {
	if !n.dirty {
		return false, ""
	}
	if n.Replicate != "" {
		v, err := n.do("CLUSTER", "REPLICATE", n.Replicate)
		if e := replyErr(v, err); e != "" {
			return false, e
		}
	} else {
		args := []string{"CLUSTER", "ADDSLOTS"}
		for i, has := range n.Slots {
			if has {
				args = append(args, itoa(i))
			}
		}
		if len(args) == 2 {
			return false, ""
		}
		v, err := n.do(args...)
		if e := replyErr(v, err); e != "" {
			return false, e
		}
	}
	n.dirty = false
	return true, ""
}

// applyCreate configures the nodes once the plan is accepted.
func (m *Manager) applyCreate() bool {
	for _, n := range m.nodes {
		ok, e := m.flushNodeConfig(n)
		if !ok && n.dirty && n.Replicate == "" {
			if e != "" {
				m.replyError(n, e)
			}
			return false
		}
	}
	m.logInfo(">>> Nodes configuration updated\n")
	m.logInfo(">>> Assign a different config epoch to each node\n")
	for i, n := range m.nodes {
		n.do("CLUSTER", "SET-CONFIG-EPOCH", itoa(i+1))
	}
	m.logInfo(">>> Sending CLUSTER MEET messages to join the cluster\n")
	first := m.nodes[0]
	firstIP, err := resolve(first.IP)
	if err != nil {
		fmt.Fprintf(m.errw, "Invalid IP address or hostname specified: %s\n", first.IP)
		return false
	}
	for _, n := range m.nodes[1:] {
		if !m.meet(n, firstIP, first) {
			return false
		}
	}
	time.Sleep(time.Second)
	m.waitForJoin()
	for _, n := range m.nodes {
		if !n.dirty {
			continue
		}
		ok, e := m.flushNodeConfig(n)
		if !ok && n.Replicate == "" {
			if e != "" {
				m.replyError(n, e)
			}
			return false
		}
	}
	first = m.nodes[0]
	for _, n := range m.nodes[1:] {
		n.close()
	}
	m.nodes = nil
	fresh := m.newNode(first.IP, first.Port)
	first.close()
	if !m.loadFromNode(fresh) {
		return false
	}
	m.checkCluster(false)
	return true
}

// meet sends CLUSTER MEET for first to n (with the bus port when it is
// not port+10000).
func (m *Manager) meet(n *Node, firstIP string, first *Node) bool {
	args := []string{"CLUSTER", "MEET", firstIP, itoa(first.Port)}
	if first.BusPort != 0 && first.BusPort != first.Port+10000 {
		args = append(args, itoa(first.BusPort))
	}
	v, err := n.do(args...)
	if err != nil {
		fmt.Fprintf(m.errw, "Failed to send CLUSTER MEET command.\n")
		return false
	}
	if v.Type == '-' {
		m.replyError(n, v.Str)
		return false
	}
	return true
}

// resolve returns an IP address for host (CLUSTER MEET needs one).
func resolve(host string) (string, error) {
	if net.ParseIP(host) != nil {
		return host, nil
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 {
		return "", fmt.Errorf("cannot resolve %s", host)
	}
	return addrs[0], nil
}

// waitForJoin waits until every node agrees about the slots, printing a
// dot a second and, after a while, the nodes that may be unreachable.
func (m *Manager) waitForJoin() {
	m.printf("Waiting for the cluster to join\n")
	counter, checkAfter := 0, 5+int(float32(len(m.nodes))*0.15)
	for !m.configConsistent() {
		m.printf(".")
		time.Sleep(time.Second)
		counter++
		if counter > checkAfter {
			m.reportUnreachableLinks()
			counter = 0
		}
	}
	m.printf("\n")
}

// reportUnreachableLinks prints which nodes cannot reach which.
func (m *Manager) reportUnreachableLinks() {
	from := map[string][]string{}
	var order []string
	for _, n := range m.nodes {
		v, err := n.do("CLUSTER", "NODES")
		if err != nil || v.Type == '-' {
			continue
		}
		for _, l := range parseNodesLines(v.Str) {
			if strings.Contains(l.flags, "myself") {
				continue
			}
			link := ""
			if l.fields >= 8 {
				link = nthField(v.Str, l.name, 7)
			}
			if strings.Contains(l.flags, "disconnected") || strings.Contains(link, "disconnected") ||
				strings.Contains(l.flags, "handshake") {
				if _, ok := from[l.addr]; !ok {
					order = append(order, l.addr)
				}
				from[l.addr] = append(from[l.addr], n.label())
			}
		}
	}
	if len(order) == 0 {
		return
	}
	m.printf("\n")
	m.logErr("Warning: %d node(s) may be unreachable\n", len(order))
	for _, addr := range order {
		ip, _, bus, ok := parseAddr(addr)
		if ok && bus != 0 {
			m.logErr(" - The port %d of node %s may be unreachable from:\n", bus, ip)
		} else {
			m.logErr(" - Node %s may be unreachable from:\n", addr)
		}
		for _, f := range from[addr] {
			m.logErr("   %s\n", f)
		}
		m.logErr("Cluster bus ports must be reachable by every node.\nRemember that cluster bus ports are different from standard instance ports.\n")
	}
}

// nthField is field i of the CLUSTER NODES line of node id.
func nthField(text, id string, i int) string {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, " ")
		if len(f) > i && f[0] == id {
			return f[i]
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
