package clustermgr

import (
	"math/rand"
	"strings"

	"redgo/internal/slot"
)

// dangerousFix refuses to fix with unreachable masters unless
// --cluster-fix-with-unreachable-masters was given.
func (m *Manager) dangerousFix(what string) bool {
	if m.unreachableMaster > 0 && !m.opts.FixUnreachable {
		m.logWarn("*** Fixing %s with %d unreachable masters is dangerous: redis-cli will assume that slots about "+
			"masters that are not reachable are not covered, and will try to reassign them to the reachable nodes. "+
			"This can cause data loss and is rarely what you want to do. If you really want to proceed use the "+
			"--cluster-fix-with-unreachable-masters option.\n", what, m.unreachableMaster)
		return true
	}
	return false
}

// errStop ends the command with status 1 at once (redis-cli exits).
type errStop struct{}

// mostKeys is clusterManagerGetNodeWithMostKeysInSlot.
func (m *Manager) mostKeys(nodes []*Node, s int) *Node {
	var best *Node
	most := 0
	for _, n := range nodes {
		if n.IsReplica() || n.Replicate != "" {
			continue
		}
		v, err := n.do("CLUSTER", "COUNTKEYSINSLOT", itoa(s))
		if e := replyErr(v, err); e != "" {
			m.replyError(n, e)
			return nil
		}
		if int(v.Int) > most || best == nil {
			most, best = int(v.Int), n
		}
	}
	return best
}

// setSlotOwner is clusterManagerSetSlotOwner: in a transaction, DELSLOTS
// (its error ignored), ADDSLOTS, [SETSLOT STABLE], BUMPEPOCH.
func (m *Manager) setSlotOwner(n *Node, s int, clear bool) bool {
	if _, ok := n.check(n.do("MULTI")); !ok {
		return false
	}
	n.do("CLUSTER", "DELSLOTS", itoa(s))
	n.do("CLUSTER", "ADDSLOTS", itoa(s))
	if clear {
		n.do("CLUSTER", "SETSLOT", itoa(s), "STABLE")
	}
	n.do("CLUSTER", "BUMPEPOCH")
	v, err := n.do("EXEC")
	if e := replyErr(v, err); e != "" {
		m.replyError(n, e)
		return false
	}
	if len(v.Elems) > 1 && v.Elems[1].Type == '-' {
		m.replyError(n, v.Elems[1].Str)
		return false
	}
	return true
}

func (m *Manager) clearSlot(n *Node, s int) bool {
	_, ok := n.check(n.do("CLUSTER", "SETSLOT", itoa(s), "STABLE"))
	return ok
}

// delSlot is clusterManagerDelSlot with its error ignored when the slot
// is not assigned.
func (m *Manager) delSlot(n *Node, s int) bool {
	v, err := n.do("CLUSTER", "DELSLOTS", itoa(s))
	e := replyErr(v, err)
	if e == "" {
		return true
	}
	if owner, oe := m.slotOwner(n, s); owner == nil && oe == "" {
		return true
	}
	m.replyError(n, e)
	return false
}

func masters(nodes []*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if !n.IsReplica() {
			out = append(out, n)
		}
	}
	return out
}

// fixSlotsCoverage is clusterManagerFixSlotsCoverage: uncovered slots
// with no keys go to a random master, with keys in one master to it, in
// several masters to the one with the most keys. Every fix asks for
// "yes" on stdin, even with --cluster-yes, as redis-cli.
func (m *Manager) fixSlotsCoverage(covered *[slot.Count]bool) int {
	if m.dangerousFix("slots coverage") {
		panic(errStop{})
	}
	m.logInfo(">>> Fixing slots coverage...\n")
	holders := map[int][]*Node{}
	var none, single, multi []int
	for s := 0; s < slot.Count; s++ {
		if covered[s] {
			continue
		}
		for _, n := range m.nodes {
			if n.IsReplica() || n.Replicate != "" {
				continue
			}
			v, ok := n.check(n.do("CLUSTER", "GETKEYSINSLOT", itoa(s), "1"))
			if !ok {
				return -1
			}
			if len(v.Elems) > 0 {
				holders[s] = append(holders[s], n)
			}
		}
		switch len(holders[s]) {
		case 0:
			none = append(none, s)
		case 1:
			single = append(single, s)
		default:
			multi = append(multi, s)
		}
	}
	fixed := 0
	ask := func(msg string) bool {
		m.printf("%s (type 'yes' to accept): ", msg)
		return m.readAnswer() == "yes"
	}
	if len(none) > 0 {
		m.printf("The following uncovered slots have no keys across the cluster:\n%s\n", slotList(none))
		if ask("Fix these slots by covering with a random node?") {
			ms := masters(m.nodes)
			for _, s := range none {
				n := ms[rand.Intn(len(ms))]
				m.logInfo(">>> Covering slot %d with %s\n", s, n.label())
				if !m.setSlotOwner(n, s, false) {
					return -1
				}
				n.Slots[s] = true
				fixed++
			}
		}
	}
	if len(single) > 0 {
		m.printf("The following uncovered slots have keys in just one node:\n%s\n", slotList(single))
		if ask("Fix these slots by covering with those nodes?") {
			for _, s := range single {
				n := holders[s][0]
				m.logInfo(">>> Covering slot %d with %s\n", s, n.label())
				if !m.setSlotOwner(n, s, false) {
					return -1
				}
				n.Slots[s] = true
				fixed++
			}
		}
	}
	if len(multi) > 0 {
		m.printf("The following uncovered slots have keys in multiple nodes:\n%s\n", slotList(multi))
		if ask("Fix these slots by moving keys into a single node?") {
			for _, s := range multi {
				target := m.mostKeys(holders[s], s)
				if target == nil {
					return -1
				}
				m.logInfo(">>> Covering slot %d moving keys to %s\n", s, target.label())
				if !m.setSlotOwner(target, s, true) {
					return -1
				}
				target.Slots[s] = true
				for _, src := range holders[s] {
					if src == target {
						continue
					}
					if e := setSlot(src, target, s, "NODE"); e != "" {
						m.replyError(src, e)
						return -1
					}
					if e := setSlot(src, target, s, "IMPORTING"); e != "" {
						m.replyError(src, e)
						return -1
					}
					keys := 0
					if ok, _ := m.moveSlot(src, target, s, moveOpts{verbose: true, cold: true}, &keys); !ok {
						return -1
					}
					if !m.clearSlot(src, s) {
						return -1
					}
				}
				fixed++
			}
		}
	}
	return fixed
}

// slotList prints slots as the node slot ranges ([1-3],[7]).
func slotList(slots []int) string {
	var b [slot.Count]bool
	for _, s := range slots {
		b[s] = true
	}
	return slotsString(&b)
}

// fixOpenSlot is clusterManagerFixOpenSlot: it closes a slot left
// importing or migrating, moving its keys where it makes sense.
func (m *Manager) fixOpenSlot(s int) bool {
	if m.dangerousFix("open slots") {
		panic(errStop{})
	}
	m.logInfo(">>> Fixing open slot %d\n", s)
	var owners, migrating, importing []*Node
	var migStr, impStr []string
	for _, n := range m.nodes {
		if n.IsReplica() {
			continue
		}
		if n.Slots[s] {
			owners = append(owners, n)
			continue
		}
		c := n.countKeysInSlot(s)
		if c < 0 {
			return false
		}
		if c > 0 {
			m.logWarn("*** Found keys about slot %d in non-owner node %s!\n", s, n.label())
			owners = append(owners, n)
		}
	}
	var owner *Node
	if len(owners) == 1 {
		owner = owners[0]
	}
	for _, n := range m.nodes {
		if n.IsReplica() {
			continue
		}
		isMig, isImp := false, false
		for _, p := range n.Migrating {
			if atoi(p[0]) == s {
				migStr = append(migStr, n.label())
				migrating = append(migrating, n)
				isMig = true
				break
			}
		}
		if !isMig {
			for _, p := range n.Importing {
				if atoi(p[0]) == s {
					impStr = append(impStr, n.label())
					importing = append(importing, n)
					isImp = true
					break
				}
			}
		}
		if !isMig && !isImp && n != owner {
			c := n.countKeysInSlot(s)
			if c < 0 {
				return false
			}
			if c > 0 {
				m.logWarn("*** Found keys about slot %d in node %s!\n", s, n.label())
				impStr = append(impStr, n.label())
				importing = append(importing, n)
			}
		}
	}
	if len(migStr) > 0 {
		m.printf("Set as migrating in: %s\n", strings.Join(migStr, ","))
	}
	if len(impStr) > 0 {
		m.printf("Set as importing in: %s\n", strings.Join(impStr, ","))
	}
	if owner == nil {
		m.logInfo(">>> No single clear owner for the slot, selecting an owner by # of keys...\n")
		if owner = m.mostKeys(m.nodes, s); owner == nil {
			m.logErr("[ERR] Can't select a slot owner. Impossible to fix.\n")
			return false
		}
		m.logWarn("*** Configuring %s as the slot owner\n", owner.label())
		if !m.clearSlot(owner, s) || !m.setSlotOwner(owner, s, false) {
			return false
		}
		owner.Slots[s] = true
		migrating = without(migrating, owner)
		importing = without(importing, owner)
	}
	if len(owners) > 1 {
		for _, n := range owners {
			if n == owner {
				continue
			}
			if !m.delSlot(n, s) {
				return false
			}
			n.Slots[s] = false
			for _, st := range []string{"NODE", "IMPORTING"} {
				if e := setSlot(n, owner, s, st); e != "" {
					m.replyError(n, e)
					return false
				}
			}
			importing = append(without(importing, n), n)
			migrating = without(migrating, n)
		}
	}
	keys := 0
	switch {
	case len(migrating) == 1 && len(importing) == 1:
		src, dst := migrating[0], importing[0]
		m.logInfo(">>> Case 1: Moving slot %d from %s to %s\n", s, src.label(), dst.label())
		ok, _ := m.moveSlot(src, dst, s, moveOpts{verbose: true, update: true}, &keys)
		return ok
	case len(migrating) == 0 && len(importing) > 0:
		m.logInfo(">>> Case 2: Moving all the %d slot keys to its owner %s\n", s, owner.label())
		for _, n := range importing {
			if n == owner {
				continue
			}
			if ok, _ := m.moveSlot(n, owner, s, moveOpts{verbose: true, cold: true}, &keys); !ok {
				return false
			}
			m.logInfo(">>> Setting %d as STABLE in %s\n", s, n.label())
			if !m.clearSlot(n, s) {
				return false
			}
		}
		for _, n := range m.nodes {
			if n == owner || n.IsReplica() {
				continue
			}
			if e := setSlot(n, owner, s, "NODE"); e != "" {
				m.replyError(n, e)
				return false
			}
		}
		return true
	case len(migrating) == 1 && len(importing) > 1:
		src := migrating[0]
		targetID := ""
		for _, p := range src.Migrating {
			if atoi(p[0]) == s {
				targetID = p[1]
			}
		}
		var dst *Node
		for _, n := range importing {
			if n.countKeysInSlot(s) > 0 {
				return m.unhandledOpenSlot(migStr, impStr, owner)
			}
			if n.Name == targetID {
				dst = n
			}
		}
		if dst != nil {
			m.logInfo(">>> Case 3: Moving slot %d from %s to %s and closing it on all the other importing nodes.\n",
				s, src.label(), dst.label())
			if ok, _ := m.moveSlot(src, dst, s, moveOpts{verbose: true}, &keys); !ok {
				return false
			}
			for _, n := range importing {
				if n != dst && !m.clearSlot(n, s) {
					return false
				}
			}
			return true
		}
		m.logInfo(">>> Case 3: Closing slot %d on both migrating and importing nodes.\n", s)
		if !m.clearSlot(src, s) {
			return false
		}
		for _, n := range importing {
			if !m.clearSlot(n, s) {
				return false
			}
		}
		return true
	}
	tryClose := len(importing) == 0 && len(migrating) == 1
	if tryClose {
		n := migrating[0]
		if owner == nil || owner != n {
			v, ok := n.check(n.do("CLUSTER", "GETKEYSINSLOT", itoa(s), "10"))
			if !ok {
				return false
			}
			tryClose = len(v.Elems) == 0
		}
	}
	if !tryClose {
		return m.unhandledOpenSlot(migStr, impStr, owner)
	}
	n := migrating[0]
	m.logInfo(">>> Case 4: Closing slot %d on %s\n", s, n.label())
	return m.clearSlot(n, s)
}

func (m *Manager) unhandledOpenSlot(migStr, impStr []string, owner *Node) bool {
	m.logErr("[ERR] Sorry, redis-cli can't fix this slot yet (work in progress). Slot is set as migrating in %s, "+
		"as importing in %s, owner is %s\n", strings.Join(migStr, ","), strings.Join(impStr, ","), owner.label())
	return false
}

func without(nodes []*Node, x *Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if n != x {
			out = append(out, n)
		}
	}
	return out
}

// fixMultipleOwners is clusterManagerFixMultipleSlotOwners.
func (m *Manager) fixMultipleOwners(s int, owners []*Node) bool {
	m.logInfo(">>> Fixing multiple owners for slot %d...\n", s)
	owner := m.mostKeys(owners, s)
	if owner == nil {
		owner = owners[0]
	}
	m.logInfo(">>> Setting slot %d owner: %s\n", s, owner.label())
	if !m.setSlotOwner(owner, s, false) {
		return false
	}
	ok := false
	for _, n := range m.nodes {
		if n == owner || n.IsReplica() {
			continue
		}
		c := n.countKeysInSlot(s)
		if ok = c >= 0; !ok {
			break
		}
		m.delSlot(n, s)
		if e := setSlot(n, owner, s, "NODE"); e != "" {
			m.replyError(n, e)
			return false
		}
		if c > 0 {
			keys := 0
			if ok, _ = m.moveSlot(n, owner, s, moveOpts{verbose: true, cold: true}, &keys); !ok {
				break
			}
		}
	}
	return ok
}
