package clustermgr

import (
	"fmt"
	"strings"
	"time"
)

// leastReplicas is clusterManagerNodeWithLeastReplicas.
func (m *Manager) leastReplicas() *Node {
	var best *Node
	for _, n := range m.nodes {
		if n.IsReplica() {
			continue
		}
		if best == nil || n.Replicas < best.Replicas {
			best = n
		}
	}
	return best
}

// addNode is the add-node subcommand.
func (m *Manager) addNode(args []string) bool {
	refIP, refPort, ok1 := hostFromArgs(args[1:])
	ip, port, ok2 := hostFromArgs(args[:1])
	if !ok1 || !ok2 {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	m.logInfo(">>> Adding node %s:%d to cluster %s:%d\n", ip, port, refIP, refPort)
	ref := m.newNode(refIP, refPort)
	if !m.loadFromNode(ref) {
		return false
	}
	if !m.checkCluster(false) {
		fmt.Fprintf(m.errw, "The cluster has problems (above): fix them first (redgo cli --cluster fix %s).\n", ref.label())
		return false
	}
	var master *Node
	if m.opts.Slave {
		if id := m.opts.MasterID; id != "" {
			if master = m.byName(id); master == nil {
				m.logErr("[ERR] No such master ID %s\n", id)
				return false
			}
		} else {
			master = m.leastReplicas()
			m.printf("Automatically selected master %s\n", master.label())
		}
	}
	n := m.newNode(ip, port)
	if !n.connect() {
		m.logErr("[ERR] Sorry, can't connect to node %s:%d\n", ip, port)
		m.notReachableHint(n)
		return false
	}
	if ok, e := n.isCluster(); !ok {
		m.notClusterError(n, e)
		n.close()
		return false
	}
	if _, ok, e := m.loadNode(n, false); !ok {
		if e != "" {
			m.replyError(n, e)
		}
		n.close()
		return false
	}
	if ok, e := n.isEmpty(); !ok {
		if e == "" {
			e = "is not empty. Either the node already knows other nodes (check with CLUSTER NODES) " +
				"or contains some key in database 0."
		}
		m.logErr("[ERR] Node %s %s\n", n.label(), e)
		fmt.Fprintf(m.errw, "Add only a new node: empty it with FLUSHALL and CLUSTER RESET HARD, or start a fresh one.\n")
		n.close()
		return false
	}
	first := m.nodes[0]
	m.nodes = append(m.nodes, n)
	if master == nil && !m.copyFunctions(ref, n) {
		return false
	}
	m.logInfo(">>> Send CLUSTER MEET to node %s:%d to make it join the cluster.\n", ip, port)
	firstIP, err := resolve(first.IP)
	if err != nil {
		fmt.Fprintf(m.errw, "Invalid IP address or hostname specified: %s\n", first.IP)
		return false
	}
	if !m.meet(n, firstIP, first) {
		return false
	}
	if master != nil {
		time.Sleep(time.Second)
		m.waitForJoin()
		m.logInfo(">>> Configure node as replica of %s.\n", master.label())
		if _, ok := n.check(n.do("CLUSTER", "REPLICATE", master.Name)); !ok {
			return false
		}
	}
	m.logOk("[OK] New node added correctly.\n")
	return true
}

// copyFunctions sends the cluster's functions to a new master.
func (m *Manager) copyFunctions(ref, n *Node) bool {
	m.logInfo(">>> Getting functions from cluster\n")
	dump, err := ref.do("FUNCTION", "DUMP")
	if e := replyErr(dump, err); e != "" {
		m.logInfo(">>> Failed retrieving Functions from the cluster, skip this step as Redis version do not support function command (error = '%s')\n", e)
		return true
	}
	m.logInfo(">>> Send FUNCTION LIST to %s to verify there is no functions in it\n", n.label())
	list, err := n.do("FUNCTION", "LIST")
	if e := replyErr(list, err); e != "" {
		m.logErr(">>> Failed on CLUSTER LIST (error = '%s')\r\n", e)
		return false
	}
	if len(list.Elems) > 0 {
		m.logErr(">>> New node already contains functions and can not be added to the cluster. Use FUNCTION FLUSH and try again.\r\n")
		return false
	}
	m.logInfo(">>> Send FUNCTION RESTORE to %s\n", n.label())
	if dump.Null {
		// An empty dump still restores (nothing); redis-server returns a
		// payload even with no functions.
		return true
	}
	v, err := n.do("FUNCTION", "RESTORE", dump.Str)
	if e := replyErr(v, err); e != "" {
		m.logErr(">>> Failed loading functions to the new node (error = '%s')\r\n", e)
		return false
	}
	return true
}

// delNode is the del-node subcommand: FORGET on every other node (a
// replica of the node follows another master first), then CLUSTER RESET
// SOFT on the node.
func (m *Manager) delNode(args []string) bool {
	ip, port, ok := hostFromArgs(args[:1])
	if !ok {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	id := args[1]
	m.logInfo(">>> Removing node %s from cluster %s:%d\n", id, ip, port)
	if !m.loadFromNode(m.newNode(ip, port)) {
		return false
	}
	n := m.byName(id)
	if n == nil {
		m.logErr("[ERR] No such node ID %s\n", id)
		return false
	}
	if n.SlotCount != 0 {
		m.logErr("[ERR] Node %s is not empty! Reshard data away and try again.\n", n.label())
		fmt.Fprintf(m.errw, "Move its %d slots away first: redgo cli --cluster reshard %s --cluster-from %s --cluster-to <node id> --cluster-slots %d --cluster-yes\n",
			n.SlotCount, n.label(), n.Name, n.SlotCount)
		return false
	}
	m.logInfo(">>> Sending CLUSTER FORGET messages to the cluster...\n")
	for _, x := range m.nodes {
		if x == n {
			continue
		}
		if x.Replicate != "" && strings.EqualFold(x.Replicate, id) {
			master := m.leastReplicas()
			m.logInfo(">>> %s as replica of %s\n", x.label(), master.label())
			if _, ok := x.check(x.do("CLUSTER", "REPLICATE", master.Name)); !ok {
				return false
			}
		}
		// A node that has not heard of the node yet (gossip is still
		// spreading a node just added) has nothing to forget.
		v, err := x.do("CLUSTER", "FORGET", id)
		if e := replyErr(v, err); e != "" && !strings.HasPrefix(e, "ERR Unknown node") {
			m.replyError(x, e)
			return false
		}
	}
	m.logInfo(">>> Sending CLUSTER RESET SOFT to the deleted node.\n")
	_, ok = n.check(n.do("CLUSTER", "RESET", "SOFT"))
	return ok
}

// call is the call subcommand: the command on every node (or only
// masters, only replicas), each reply in raw format.
func (m *Manager) call(args []string) bool {
	ip, port, ok := hostFromArgs(args[:1])
	if !ok {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	if !m.loadFromNode(m.newNode(ip, port)) {
		return false
	}
	cmd := args[1:]
	m.logInfo(">>> Calling")
	m.printf(" %s\n", strings.Join(cmd, " "))
	for _, n := range m.nodes {
		if m.opts.OnlyMasters && n.Replicate != "" {
			continue
		}
		if m.opts.OnlyReplicas && n.Replicate == "" {
			continue
		}
		if n.conn == nil && !n.connect() {
			continue
		}
		v, err := n.do(cmd...)
		if err != nil {
			m.printf("%s: Failed!\n", n.label())
			continue
		}
		out := v.String()
		if m.formatRaw != nil {
			out = m.formatRaw(v)
		}
		m.printf("%s: %s\n", n.label(), out)
	}
	return true
}

// setTimeout is the set-timeout subcommand.
func (m *Manager) setTimeout(args []string) bool {
	ip, port, ok := hostFromArgs(args[:1])
	if !ok {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	timeout := atoi(args[1])
	if timeout < 100 {
		fmt.Fprintf(m.errw, "Setting a node timeout of less than 100 milliseconds is a bad idea.\n")
		return false
	}
	if !m.loadFromNode(m.newNode(ip, port)) {
		return false
	}
	okCount, errCount := 0, 0
	m.logInfo(">>> Reconfiguring node timeout in every cluster node...\n")
	for _, n := range m.nodes {
		v, err := n.do("CONFIG", "SET", "cluster-node-timeout", itoa(timeout))
		e := replyErr(v, err)
		if e == "" {
			v, err = n.do("CONFIG", "REWRITE")
			e = replyErr(v, err)
		}
		if e != "" {
			m.logErr("ERR setting node-timeout for %s: %s\n", n.label(), e)
			errCount++
			continue
		}
		m.logWarn("*** New timeout set for %s\n", n.label())
		okCount++
	}
	m.logInfo(">>> New node timeout set. %d OK, %d ERR.\n", okCount, errCount)
	return true
}
