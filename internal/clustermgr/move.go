package clustermgr

import (
	"strings"
	"time"

	"redgo/internal/resp"
)

// moveOpts are redis-cli's clusterManagerMoveSlot options.
type moveOpts struct {
	verbose bool // a dot per key moved
	cold    bool // keys only: no SETSLOT (fix)
	update  bool // update the nodes' slot tables
	quiet   bool // no "Moving slot" line
}

// isRedgo says whether the node does whole-slot transfers (CLUSTER
// MIGRATESLOTS): redis-server answers CLUSTER GETSLOTMIGRATIONS with an
// unknown subcommand error.
func (n *Node) isRedgo() bool {
	if n.redgo == 0 {
		v, err := n.do("CLUSTER", "GETSLOTMIGRATIONS")
		n.redgo = -1
		if err == nil && (v.Type == '*' || v.Type == '%') {
			n.redgo = 1
		}
	}
	return n.redgo == 1
}

// moveSlot is clusterManagerMoveSlot: SETSLOT IMPORTING on the target
// and MIGRATING on the source, the keys with MIGRATE, then SETSLOT NODE
// on the target, the source and every other master. keys counts the
// keys moved.
func (m *Manager) moveSlot(src, dst *Node, s int, o moveOpts, keys *int) (bool, string) {
	if !o.quiet {
		m.printf("Moving slot %d from %s to %s: ", s, src.label(), dst.label())
	}
	if !o.cold {
		if e := setSlot(dst, src, s, "IMPORTING"); e != "" {
			return false, e
		}
		if e := setSlot(src, dst, s, "MIGRATING"); e != "" {
			return false, e
		}
	}
	ok, e := m.migrateKeysInSlot(src, dst, s, o.verbose, keys)
	if !o.quiet {
		m.printf("\n")
	}
	if !ok {
		return false, e
	}
	if !o.cold {
		if e := setSlot(dst, dst, s, "NODE"); e != "" {
			return false, e
		}
		// A source that gave its last slot may have turned into a
		// replica already: not an error (redis-cli issue #9223).
		if e := setSlot(src, dst, s, "NODE"); e != "" && !strings.HasPrefix(e, "ERR Please use SETSLOT only with masters.") {
			return false, e
		}
		for _, n := range m.nodes {
			if n == src || n == dst || n.IsReplica() {
				continue
			}
			if e := setSlot(n, dst, s, "NODE"); e != "" {
				return false, e
			}
		}
	}
	if o.update {
		if src.Slots[s] {
			src.Slots[s] = false
			src.SlotCount--
		}
		if !dst.Slots[s] {
			dst.Slots[s] = true
			dst.SlotCount++
		}
	}
	return true, ""
}

// setSlot sends CLUSTER SETSLOT s state other.Name to n; it returns the
// error text.
func setSlot(n, other *Node, s int, state string) string {
	v, err := n.do("CLUSTER", "SETSLOT", itoa(s), state, other.Name)
	if err != nil {
		return "CLUSTER SETSLOT failed to run"
	}
	if v.Type == '-' {
		return v.Str
	}
	return ""
}

// migrateKeysInSlot moves the keys of slot s, --cluster-pipeline at a
// time, with MIGRATE ... KEYS; a BUSYKEY is retried with REPLACE when
// the values are the same or --cluster-replace was given.
func (m *Manager) migrateKeysInSlot(src, dst *Node, s int, verbose bool, moved *int) (bool, string) {
	pipeline := max(m.opts.Pipeline, 1)
	for {
		v, err := src.do("CLUSTER", "GETKEYSINSLOT", itoa(s), itoa(pipeline))
		if err != nil {
			return false, err.Error()
		}
		if v.Type == '-' {
			m.replyError(src, v.Str)
			return false, v.Str
		}
		if len(v.Elems) == 0 {
			return true, ""
		}
		keys := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			keys[i] = e.Str
		}
		r, err := m.migrate(src, dst, keys, false)
		if err != nil {
			return false, err.Error()
		}
		if r.Type == '-' {
			busy := strings.Contains(r.Str, "BUSYKEY")
			notServed := false
			if !busy {
				owner, e := m.slotOwner(src, s)
				notServed = owner == nil && e == ""
			}
			if !busy && !notServed {
				m.printf("\n")
				m.replyError(src, r.Str)
				return false, r.Str
			}
			if m.opts.fix && notServed {
				m.logWarn("*** Slot was not served, setting owner to node %s.\n", dst.label())
				setSlot(src, dst, s, "NODE")
			}
			if busy {
				m.logWarn("\n*** Target key exists\n")
				if !m.opts.Replace {
					m.logWarn("*** Checking key values on both nodes...\n")
					diffs, ok := compareValues(src, dst, keys)
					if !ok {
						m.logErr("*** Value check failed!\n")
						return false, ""
					}
					if len(diffs) > 0 {
						m.logErr("*** Found %d key(s) in both source node and target node having different values.\n"+
							"    Source node: %s\n    Target node: %s\n    Keys(s):\n", len(diffs), src.label(), dst.label())
						for _, k := range diffs {
							m.logErr("    - %s\n", k)
						}
						m.logErr("Please fix the above key(s) manually and try again or relaunch the command \n" +
							"with --cluster-replace option to force key overriding.\n")
						return false, ""
					}
				}
				m.logWarn("*** Replacing target keys...\n")
			}
			r, err = m.migrate(src, dst, keys, busy)
			if err != nil {
				return false, err.Error()
			}
			if r.Type == '-' {
				m.printf("\n")
				m.replyError(src, r.Str)
				return false, r.Str
			}
		}
		*moved += len(keys)
		if verbose {
			m.printf("%s", strings.Repeat(".", len(keys)))
		}
	}
}

// migrate sends MIGRATE host port "" 0 timeout [REPLACE] [AUTH..] KEYS k...
func (m *Manager) migrate(src, dst *Node, keys []string, replace bool) (resp.Value, error) {
	args := []string{"MIGRATE", dst.IP, itoa(dst.Port), "", "0", itoa(m.opts.Timeout)}
	if replace {
		args = append(args, "REPLACE")
	}
	if m.opts.HasPass {
		if m.opts.User != "" {
			args = append(args, "AUTH2", m.opts.User, m.opts.Pass)
		} else {
			args = append(args, "AUTH", m.opts.Pass)
		}
	}
	args = append(args, "KEYS")
	args = append(args, keys...)
	return src.do(args...)
}

// compareValues lists the keys whose DEBUG DIGEST-VALUE differs.
func compareValues(a, b *Node, keys []string) ([]string, bool) {
	args := append([]string{"DEBUG", "DIGEST-VALUE"}, keys...)
	va, err1 := a.do(args...)
	vb, err2 := b.do(args...)
	if err1 != nil || err2 != nil || va.Type == '-' || vb.Type == '-' || len(va.Elems) != len(vb.Elems) {
		return nil, false
	}
	var diffs []string
	for i := range va.Elems {
		if va.Elems[i].Str != vb.Elems[i].Str {
			diffs = append(diffs, keys[i])
		}
	}
	return diffs, true
}

// slotOwner is the node that serves s in n's CLUSTER SLOTS (nil: none);
// the string is n's error.
func (m *Manager) slotOwner(n *Node, s int) (*Node, string) {
	v, err := n.do("CLUSTER", "SLOTS")
	if e := replyErr(v, err); e != "" {
		return nil, e
	}
	for _, r := range v.Elems {
		if len(r.Elems) < 3 || s < int(r.Elems[0].Int) || s > int(r.Elems[1].Int) {
			continue
		}
		nr := r.Elems[2]
		if len(nr.Elems) >= 3 {
			if o := m.byName(nr.Elems[2].Str); o != nil {
				return o, ""
			}
		}
		if len(nr.Elems) >= 2 {
			for _, x := range m.nodes {
				if x.IP == nr.Elems[0].Str && x.Port == int(nr.Elems[1].Int) {
					return x, ""
				}
			}
		}
	}
	return nil, ""
}

// migrateSlots moves whole slots from src to dst with CLUSTER
// MIGRATESLOTS (both nodes redgo): one call per run of consecutive
// slots; progress reports the keys moved so far, polled from CLUSTER
// GETSLOTMIGRATIONS on a second connection.
func (m *Manager) migrateSlots(src, dst *Node, slots []int, progress func(keys int)) (int, string) {
	args := []string{"CLUSTER", "MIGRATESLOTS", "SLOTSRANGE"}
	for _, r := range runs(slots) {
		args = append(args, itoa(r[0]), itoa(r[1]))
	}
	args = append(args, "NODE", dst.Name)
	done := make(chan struct{})
	var reply resp.Value
	var err error
	go func() {
		defer close(done)
		reply, err = src.do(args...)
	}()
	watcher := m.newNode(src.IP, src.Port)
	defer watcher.close()
	keys := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
		}
		if k, ok := lastMigrationKeys(watcher, dst.Name); ok {
			keys = k
			if progress != nil {
				progress(keys)
			}
		}
	}
	if e := replyErr(reply, err); e != "" {
		return keys, e
	}
	for _, s := range slots {
		if src.Slots[s] {
			src.Slots[s] = false
			src.SlotCount--
		}
		if !dst.Slots[s] {
			dst.Slots[s] = true
			dst.SlotCount++
		}
	}
	return keys, ""
}

// lastMigrationKeys is the keys count of the node's last transfer to
// target.
func lastMigrationKeys(n *Node, target string) (int, bool) {
	v, err := n.do("CLUSTER", "GETSLOTMIGRATIONS")
	if err != nil || len(v.Elems) == 0 {
		return 0, false
	}
	last := v.Elems[len(v.Elems)-1]
	f := map[string]resp.Value{}
	for i := 0; i+1 < len(last.Elems); i += 2 {
		f[last.Elems[i].Str] = last.Elems[i+1]
	}
	if f["node"].Str != target {
		return 0, false
	}
	return int(f["keys"].Int), true
}

// runs groups sorted slots into [first,last] runs.
func runs(slots []int) [][2]int {
	var out [][2]int
	for _, s := range slots {
		if l := len(out); l > 0 && out[l-1][1] == s-1 {
			out[l-1][1] = s
		} else {
			out = append(out, [2]int{s, s})
		}
	}
	return out
}
