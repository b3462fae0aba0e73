package cluster

// One handler per scenario directive (scenario_test.go lists them).

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cockroachdb/datadriven"
)

// addNodes: add-nodes <n> [timeout=<ms>] [seed=<n>].
func (sc *scenario) addNodes(d *datadriven.TestData) error {
	n := sc.intArg(d, 0)
	timeout, seed := int64(2000), int64(1)
	d.MaybeScanArgs(sc.t, "timeout", &timeout)
	d.MaybeScanArgs(sc.t, "seed", &seed)
	fast, validity, barrier := true, int64(10), 1
	d.MaybeScanArgs(sc.t, "fast", &fast)
	d.MaybeScanArgs(sc.t, "validity", &validity)
	d.MaybeScanArgs(sc.t, "barrier", &barrier)
	if n < 1 || n > 9 {
		return fmt.Errorf("1 to 9 nodes, not %d", n)
	}
	net := newMemNet(sc.t, seed, n, timeout)
	for i, x := range net.nodes {
		x.m.S.Rename(x.m.S.Myself, nodeName(i))
		o := &x.m.S.Opts
		o.FastFailover, o.ReplicaValidityFactor, o.MigrationBarrier = fast, validity, barrier
		o.ReplicaNoFailover = d.HasArg("nofailover")
	}
	net.wrap = func(x *memNode, d Driver) Driver { return traceDriver{d, sc, x} }
	sc.net, sc.start = net, net.now
	return nil
}

// meet: meet <i> <j>.
func (sc *scenario) meet(d *datadriven.TestData) error {
	sc.net.meet(sc.nodeArg(d, 0), sc.nodeArg(d, 1))
	return nil
}

// run: run [ms=<n>].
func (sc *scenario) run(d *datadriven.TestData) error {
	ms := int64(TickMs)
	d.MaybeScanArgs(sc.t, "ms", &ms)
	sc.net.run(ms)
	return nil
}

// deliver: deliver.
func (sc *scenario) deliver(d *datadriven.TestData) error {
	sc.net.deliver()
	return nil
}

// addSlots: addslots <i> <a>-<b>...
func (sc *scenario) addSlots(d *datadriven.TestData) error {
	i := sc.nodeArg(d, 0)
	s := sc.net.st(i)
	var m SlotMark
	for _, a := range d.CmdArgs[1:] {
		lo, hi, ok := strings.Cut(a.Key, "-")
		if !ok {
			hi = lo
		}
		start, err1 := strconv.Atoi(lo)
		end, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad range %s", a.Key)
		}
		if err := s.CheckSlots(&m, false, start, end); err != nil {
			return err
		}
	}
	s.UpdateSlots(&m, false)
	sc.net.flush(sc.net.nodes[i])
	return nil
}

// replicate: replicate <i> <j>.
func (sc *scenario) replicate(d *datadriven.TestData) error {
	sc.net.replicate(sc.nodeArg(d, 0), sc.nodeArg(d, 1))
	return nil
}

// isolate: isolate <i>.
func (sc *scenario) isolate(d *datadriven.TestData) error {
	sc.net.isolate(sc.nodeArg(d, 0), true)
	return nil
}

// heal: heal [<i>]; without a node, every cut.
func (sc *scenario) heal(d *datadriven.TestData) error {
	if len(d.CmdArgs) == 0 {
		clear(sc.net.cut)
		return nil
	}
	sc.net.isolate(sc.nodeArg(d, 0), false)
	return nil
}

// requestVotes: request-votes <i> <epoch>. Replica i asks every other
// node reachable from it, in order, then what they send is delivered.
func (sc *scenario) requestVotes(d *datadriven.TestData) error {
	i := sc.nodeArg(d, 0)
	epoch := uint64(sc.intArg(d, 1))
	x := sc.net.nodes[i]
	for j, y := range sc.net.nodes {
		if j != i && !sc.net.cutOff(x, y) {
			sc.net.requestVote(i, j, epoch)
		}
	}
	sc.net.deliver()
	return nil
}

// restart: restart <i> [powerloss].
func (sc *scenario) restart(d *datadriven.TestData) error {
	sc.net.restart(sc.nodeArg(d, 0), d.HasArg("powerloss"))
	return nil
}

// clusterNodes: cluster-nodes <i>.
func (sc *scenario) clusterNodes(d *datadriven.TestData) error {
	s := sc.net.st(sc.nodeArg(d, 0))
	mig := s.Migrations()
	for _, n := range s.SortedNodes() {
		sc.out.Write(AppendNodeLine(nil, n, false, mig))
		sc.out.WriteByte('\n')
	}
	return nil
}

// epochs: epochs.
func (sc *scenario) epochs(d *datadriven.TestData) error {
	for i := range sc.net.nodes {
		s := sc.net.st(i)
		state := "fail"
		if s.OK() {
			state = "ok"
		}
		sc.printf("n%d: currentEpoch %d configEpoch %d lastVoteEpoch %d state %s\n",
			i+1, s.CurrentEpoch, s.Myself.ConfigEpoch, s.LastVoteEpoch, state)
	}
	return nil
}

// diskVars: disk-vars <i>.
func (sc *scenario) diskVars(d *datadriven.TestData) error {
	data, err := sc.net.nodes[sc.nodeArg(d, 0)].disk.ReadFile(confName)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	sc.printf("%s\n", lines[len(lines)-1])
	return nil
}

// nodeList returns the nodes of a comma-separated list argument.
func (sc *scenario) nodeList(d *datadriven.TestData, arg string) ([]*memNode, error) {
	var out []*memNode
	for _, f := range strings.Split(arg, ",") {
		i, err := strconv.Atoi(f)
		if err != nil || i < 1 || i > len(sc.net.nodes) {
			return nil, fmt.Errorf("bad node %q", f)
		}
		out = append(out, sc.net.nodes[i-1])
	}
	return out, nil
}

// partition: partition <i>,<j>... <k>,<l>... [...]: every node of one
// group is cut from every node of the others.
func (sc *scenario) partition(d *datadriven.TestData) error {
	var groups [][]*memNode
	for _, a := range d.CmdArgs {
		arg := a.Key
		if len(a.Vals) > 0 {
			arg += "," + strings.Join(a.Vals, ",")
		}
		g, err := sc.nodeList(d, arg)
		if err != nil {
			return err
		}
		groups = append(groups, g)
	}
	for i, g := range groups {
		for _, h := range groups[i+1:] {
			for _, x := range g {
				for _, y := range h {
					sc.net.cut[[2]string{x.ip, y.ip}] = true
				}
			}
		}
	}
	return nil
}

// kill: kill <i>.
func (sc *scenario) kill(d *datadriven.TestData) error {
	sc.net.nodes[sc.nodeArg(d, 0)].dead = true
	return nil
}

// revive: revive <i>: the killed node starts again from its nodes.conf.
func (sc *scenario) revive(d *datadriven.TestData) error {
	i := sc.nodeArg(d, 0)
	sc.net.restart(i, false)
	sc.net.nodes[i].dead = false
	return nil
}

// setOffset: set-offset <i> <offset>.
func (sc *scenario) setOffset(d *datadriven.TestData) error {
	sc.net.st(sc.nodeArg(d, 0)).Myself.ReplOffset = uint64(sc.intArg(d, 1))
	return nil
}

// stall: stall <i> / unstall <i>.
func (sc *scenario) stall(d *datadriven.TestData) error {
	sc.net.nodes[sc.nodeArg(d, 0)].stalled = d.Cmd == "stall"
	return nil
}

// manualFailover: manual-failover <i> [force|takeover].
func (sc *scenario) manualFailover(d *datadriven.TestData) error {
	i := sc.nodeArg(d, 0)
	mode := ManualDefault
	switch {
	case d.HasArg("force"):
		mode = ManualForce
	case d.HasArg("takeover"):
		mode = ManualTakeover
	}
	x := sc.net.nodes[i]
	err := x.m.StartManualFailover(mode, sc.net.now)
	sc.net.flush(x)
	sc.net.deliver()
	return err
}
