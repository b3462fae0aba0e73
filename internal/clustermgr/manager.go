// Package clustermgr is redgo cli --cluster: redis-cli's cluster manager
// (create, check, info, fix, reshard, rebalance, add-node, del-node,
// call, set-timeout, import, backup) with its arguments, checks and
// output. It loads the cluster's view from one node as redis-cli does
// (the node's CLUSTER NODES, then every other node's own line), and
// moves slots between two redgo nodes with CLUSTER MIGRATESLOTS, between
// others key by key with MIGRATE.
package clustermgr

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"redgo/internal/resp"
	"redgo/internal/slot"
)

// Env is what Run talks to.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	StdoutTTY      bool                    // progress bars instead of one line per step
	FormatRaw      func(resp.Value) string // call's reply format (redis-cli's raw format)
	User, Pass     string                  // -a/--user given before --cluster
	HasPass        bool
}

// Manager holds the nodes of one run.
type Manager struct {
	opts              Options
	nodes             []*Node
	errors            []string
	unreachableMaster int
	out, errw         io.Writer
	in                *bufio.Reader
	tty               bool
	color             bool // TERM names an xterm
	formatRaw         func(resp.Value) string
}

// Run runs redgo cli --cluster with args (what follows --cluster) and
// returns the exit status: 0 when the subcommand succeeded, 1 otherwise,
// as redis-cli.
func Run(args []string, env Env) (status int) {
	base := defaults()
	base.User, base.Pass, base.HasPass = env.User, env.Pass, env.HasPass
	name, cmdArgs, o, err := parse(base, args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%v\nTry 'redgo cli --cluster help' for the subcommands and options.\n", err)
		return 1
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == name {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "Unknown --cluster subcommand\nTry 'redgo cli --cluster help' for the subcommands.\n")
		return 1
	}
	if (cmd.arity > 0 && len(cmdArgs) != cmd.arity) || (cmd.arity < 0 && len(cmdArgs) < -cmd.arity) {
		fmt.Fprintf(env.Stderr, "[ERR] Wrong number of arguments for specified --cluster sub command\n"+
			"Usage: redgo cli --cluster %s %s\n", cmd.name, cmd.args)
		return 1
	}
	m := &Manager{opts: o, out: env.Stdout, errw: env.Stderr, tty: env.StdoutTTY, formatRaw: env.FormatRaw,
		color: strings.Contains(os.Getenv("TERM"), "xterm")}
	if env.Stdin != nil {
		m.in = bufio.NewReader(env.Stdin)
	}
	defer m.closeAll()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(errStop); !ok {
				panic(r)
			}
			status = 1
		}
	}()
	if cmd.run(m, cmdArgs) {
		return 0
	}
	return 1
}

func (m *Manager) closeAll() {
	for _, n := range m.nodes {
		n.close()
	}
}

func (m *Manager) printf(format string, args ...any) { fmt.Fprintf(m.out, format, args...) }

// Log levels pick redis-cli's colors (used when TERM names an xterm, as
// redis-cli decides, whether or not stdout is a terminal).
const (
	colorInfo = "29;1m"
	colorWarn = "33;1m"
	colorErr  = "31;1m"
	colorOK   = "32;1m"
)

// log prints one of redis-cli's cluster manager messages (on stdout,
// errors too, as redis-cli).
func (m *Manager) log(color, format string, args ...any) {
	if m.color {
		fmt.Fprint(m.out, "\033["+color)
	}
	fmt.Fprintf(m.out, format, args...)
	if m.color {
		fmt.Fprint(m.out, "\033[0m")
	}
}

func (m *Manager) logInfo(format string, args ...any) { m.log(colorInfo, format, args...) }
func (m *Manager) logWarn(format string, args ...any) { m.log(colorWarn, format, args...) }
func (m *Manager) logErr(format string, args ...any)  { m.log(colorErr, format, args...) }
func (m *Manager) logOk(format string, args ...any)   { m.log(colorOK, format, args...) }

func (m *Manager) replyError(n *Node, err string) {
	m.logErr("Node %s replied with error:\n%s\n", n.label(), err)
}

// onError records a check error and prints it.
func (m *Manager) onError(err string) {
	m.errors = append(m.errors, err)
	m.logErr("%s\n", err)
}

func (m *Manager) newNode(ip string, port int) *Node {
	return &Node{IP: ip, Port: port, m: m, weight: 1}
}

// byName is clusterManagerNodeByName (case-insensitive).
func (m *Manager) byName(name string) *Node {
	name = strings.ToLower(name)
	for _, n := range m.nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// byPrefix is clusterManagerNodeByAbbreviatedName.
func (m *Manager) byPrefix(prefix string) *Node {
	prefix = strings.ToLower(prefix)
	for _, n := range m.nodes {
		if n.Name != "" && strings.HasPrefix(n.Name, prefix) {
			return n
		}
	}
	return nil
}

// loadNode reads the node's own line of CLUSTER NODES (and, with
// friends, the other lines as new nodes).
func (m *Manager) loadNode(n *Node, friends bool) ([]*Node, bool, string) {
	v, err := n.do("CLUSTER", "NODES")
	if e := replyErr(v, err); e != "" {
		return nil, false, e
	}
	var others []*Node
	for _, l := range parseNodesLines(v.Str) {
		if l.fields < 3 {
			return nil, false, ""
		}
		ip, port, bus, ok := parseAddr(l.addr)
		if !ok {
			fmt.Fprintf(m.errw, "Error: invalid CLUSTER NODES reply\n")
			return nil, false, ""
		}
		if strings.Contains(l.flags, "myself") {
			n.BusPort = bus
			n.myself = true
			n.setFromLine(l, true)
			n.dirty = false
			continue
		}
		if !friends {
			continue
		}
		f := m.newNode(ip, port)
		f.BusPort = bus
		f.setFromLine(l, false)
		others = append(others, f)
	}
	return others, true, ""
}

// notReachableHint tells a person what to do about a node that does not
// answer.
func (m *Manager) notReachableHint(n *Node) {
	fmt.Fprintf(m.errw, "Is a redgo (or redis-server) node running on %s? Start it, or give the address of a node of the cluster that runs.\n", n.label())
}

// loadFromNode is clusterManagerLoadInfoFromNode: the starting node,
// then every node it knows that is reachable and not failing.
func (m *Manager) loadFromNode(n *Node) bool {
	if n.conn == nil && !n.connect() {
		m.notReachableHint(n)
		return false
	}
	if ok, e := n.isCluster(); !ok {
		m.notClusterError(n, e)
		return false
	}
	friends, ok, e := m.loadNode(n, true)
	if !ok {
		if e != "" {
			m.replyError(n, e)
		}
		return false
	}
	m.closeAll()
	m.nodes = []*Node{n}
	for _, f := range friends {
		valid := f.IP != "" && f.Port != 0 && (f.conn != nil || f.connect())
		if valid {
			if _, ok, _ := m.loadNode(f, false); ok {
				if f.has("noaddr") || f.has("disconnected") || f.has("fail") {
					valid = false
				}
			} else {
				m.logErr("[ERR] Unable to load info for node %s\n", f.label())
				valid = false
			}
		}
		if !valid {
			if !f.IsReplica() {
				m.unreachableMaster++
			}
			f.close()
			continue
		}
		m.nodes = append(m.nodes, f)
	}
	for _, x := range m.nodes {
		if x.Replicate == "" {
			continue
		}
		if master := m.byName(x.Replicate); master != nil {
			master.Replicas++
		} else {
			m.logWarn("*** WARNING: %s claims to be slave of unknown node ID %s.\n", x.label(), x.Replicate)
		}
	}
	return true
}

func (m *Manager) notClusterError(n *Node, e string) {
	if e == "" {
		e = "is not configured as a cluster node."
	}
	m.logErr("[ERR] Node %s %s\n", n.label(), e)
}

// loadFromArgs parses "host:port" or "host port" and loads the cluster.
func (m *Manager) loadFromArgs(args []string) bool {
	ip, port, ok := hostFromArgs(args)
	if !ok {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	return m.loadFromNode(m.newNode(ip, port))
}

func (m *Manager) showNodes() {
	for _, n := range m.nodes {
		m.printf("%s\n", n.describe(0))
	}
}

// showClusterInfo is the summary of info and check.
func (m *Manager) showClusterInfo() {
	masters, keys := 0, 0
	for _, n := range m.nodes {
		if n.IsReplica() || n.Name == "" {
			continue
		}
		replicas := 0
		for _, r := range m.nodes {
			if r != n && r.IsReplica() && r.Replicate == n.Name {
				replicas++
			}
		}
		v, err := n.do("DBSIZE")
		if err != nil || v.Type != ':' {
			m.replyError(n, replyErr(v, err))
			return
		}
		m.printf("%s (%s...) -> %d keys | %d slots | %d slaves.\n", n.label(), n.Name[:min(8, len(n.Name))],
			v.Int, n.SlotCount, replicas)
		masters++
		keys += int(v.Int)
	}
	m.logOk("[OK] %d keys in %d masters.\n", keys, masters)
	m.printf("%.2f keys per slot on average.\n", float32(keys)/float32(slot.Count))
}

// configSignature is the node's view of who serves which slots, as
// redis-cli compares it across nodes.
func configSignature(n *Node) (string, bool) {
	v, err := n.do("CLUSTER", "NODES")
	if err != nil || v.Type == '-' {
		return "", false
	}
	var cfgs []string
	for _, l := range parseNodesLines(v.Str) {
		if l.fields < 8 {
			continue
		}
		var slots []string
		for _, s := range l.slots {
			if !strings.HasPrefix(s, "[") {
				slots = append(slots, s)
			}
		}
		if len(slots) == 0 {
			continue
		}
		sort.Strings(slots)
		cfgs = append(cfgs, l.name+":"+strings.Join(slots, ","))
	}
	if len(cfgs) == 0 {
		return "", false
	}
	sort.Strings(cfgs)
	return strings.Join(cfgs, "|"), true
}

// configConsistent says whether every node has the same signature.
func (m *Manager) configConsistent() bool {
	if len(m.nodes) <= 1 {
		return true
	}
	first := ""
	for i, n := range m.nodes {
		sig, ok := configSignature(n)
		if !ok {
			return false
		}
		if i == 0 {
			first = sig
		} else if sig != first {
			return false
		}
	}
	return true
}

// checkCluster is clusterManagerCheckCluster: configuration agreement,
// open slots, coverage (and with fix, the repairs).
func (m *Manager) checkCluster(quiet bool) bool {
	if len(m.nodes) == 0 {
		return false
	}
	n0 := m.nodes[0]
	m.logInfo(">>> Performing Cluster Check (using node %s)\n", n0.label())
	result := true
	if !quiet {
		m.showNodes()
	}
	if !m.configConsistent() {
		m.onError("[ERR] Nodes don't agree about configuration!")
		result = false
	} else {
		m.logOk("[OK] All nodes agree about slots configuration.\n")
	}
	m.logInfo(">>> Check for open slots...\n")
	var open []string
	seen := map[string]bool{}
	addOpen := func(s string) {
		if !seen[s] {
			seen[s] = true
			open = append(open, s)
		}
	}
	for _, n := range m.nodes {
		if len(n.Migrating) > 0 {
			var s []string
			for _, p := range n.Migrating {
				s = append(s, p[0])
				addOpen(p[0])
			}
			m.onError(fmt.Sprintf("[WARNING] Node %s has slots in migrating state %s.", n.label(), strings.Join(s, ",")))
		}
		if len(n.Importing) > 0 {
			var s []string
			for _, p := range n.Importing {
				s = append(s, p[0])
				addOpen(p[0])
			}
			m.onError(fmt.Sprintf("[WARNING] Node %s has slots in importing state %s.", n.label(), strings.Join(s, ",")))
		}
	}
	if len(open) > 0 {
		result = false
		m.logErr("[WARNING] The following slots are open: %s.\n", strings.Join(open, ","))
		if m.opts.fix {
			for _, s := range open {
				if result = m.fixOpenSlot(atoi(s)); !result {
					break
				}
			}
		}
	}
	m.logInfo(">>> Check slots coverage...\n")
	var covered [slot.Count]bool
	count := 0
	for _, n := range m.nodes {
		for i := range n.Slots {
			if n.Slots[i] && !covered[i] {
				covered[i] = true
				count++
			}
		}
	}
	if count == slot.Count {
		m.logOk("[OK] All %d slots covered.\n", slot.Count)
	} else {
		m.onError(fmt.Sprintf("[ERR] Not all %d slots are covered by nodes.\n", slot.Count))
		result = false
		if m.opts.fix {
			if m.fixSlotsCoverage(&covered) > 0 {
				result = true
			}
		}
	}
	if m.opts.SearchMultiOwners {
		result = m.checkMultipleOwners() && result
	}
	return result
}

// checkMultipleOwners is the --cluster-search-multiple-owners check:
// masters that serve a slot or hold keys of it.
func (m *Manager) checkMultipleOwners() bool {
	m.logInfo(">>> Check for multiple slot owners...\n")
	result, bad := true, 0
	for s := 0; s < slot.Count; s++ {
		var owners []*Node
		for _, n := range m.nodes {
			if n.IsReplica() {
				continue
			}
			if n.Slots[s] || n.countKeysInSlot(s) > 0 {
				owners = append(owners, n)
			}
		}
		if len(owners) <= 1 {
			continue
		}
		result = false
		m.logErr("[WARNING] Slot %d has %d owners:\n", s, len(owners))
		for _, n := range owners {
			m.logErr("    %s\n", n.label())
		}
		bad++
		if m.opts.fix {
			if result = m.fixMultipleOwners(s, owners); !result {
				m.logErr("Failed to fix multiple owners for slot %d\n", s)
				break
			}
			bad--
		}
	}
	if bad == 0 {
		m.logOk("[OK] No multiple owners found.\n")
	}
	return result
}

func (n *Node) countKeysInSlot(s int) int {
	v, err := n.do("CLUSTER", "COUNTKEYSINSLOT", itoa(s))
	if err != nil || v.Type != ':' {
		return -1
	}
	return int(v.Int)
}

// info is the info subcommand.
func (m *Manager) info(args []string) bool {
	if !m.loadFromArgs(args) {
		return false
	}
	m.showClusterInfo()
	return true
}

// check is the check subcommand.
func (m *Manager) check(args []string) bool {
	if !m.loadFromArgs(args) {
		return false
	}
	m.showClusterInfo()
	return m.checkCluster(false)
}

// fixCmd is the fix subcommand: check with repairs.
func (m *Manager) fixCmd(args []string) bool {
	m.opts.fix = true
	return m.check(args)
}

func (m *Manager) help([]string) bool {
	m.printf("%s", Help())
	return true
}
