package cluster

// Golden scenarios, after etcd raft's interaction tests: each file of
// testdata/scenarios is a transcript of directives run on the in-memory
// network and what they printed. `go test -run TestScenarios -rewrite`
// regenerates the expected output. Directives (handlers in
// scenario_handlers_test.go; nodes are numbered from 1):
//
//	add-nodes <n> [timeout=<ms>] [seed=<n>] [fast=<bool>] [nofailover] [validity=<n>] [barrier=<n>]
//	                                          a network of n nodes, node i named "iii...i"
//	                                          (FastFailover, ReplicaNoFailover,
//	                                          ReplicaValidityFactor, MigrationBarrier)
//	meet <i> <j>                              node i meets node j (CLUSTER MEET)
//	run [ms=<n>]                              advance the clock in ticks, delivering everything
//	deliver                                   deliver what is queued, no tick
//	addslots <i> <a>-<b>...                   CLUSTER ADDSLOTSRANGE on node i
//	replicate <i> <j>                         node i becomes a replica of node j
//	isolate <i> / heal [<i>]                  cut node i from every other node / heal
//	partition <i>,<j>... <k>,<l>...           cut every node of one group from every node of another
//	kill <i> / revive <i>                     node i stops (no tick, no traffic) / restarts from nodes.conf
//	set-offset <i> <off>                      node i's replication offset (Myself.ReplOffset)
//	stall <i> / unstall <i>                   replica i stops / resumes following its master's offset
//	manual-failover <i> [force|takeover]      CLUSTER FAILOVER on node i
//	request-votes <i> <epoch>                 replica i asks every other node for its vote
//	restart <i> [powerloss]                   crash node i, start it from its nodes.conf
//	cluster-nodes <i>                         CLUSTER NODES of node i
//	epochs                                    every node's epochs and cluster_state
//	disk-vars <i>                             the vars line of node i's nodes.conf
//
// What happens is printed as it happens: "t=<ms> n<i>: <log line>",
// "n<i> save nodes.conf (fsync)" for each fsynced save, and
// "n<i> -> n<j> <type> epoch <e>" for each message that is not a PING,
// PONG or MEET, in the order the driver carries them out; and the
// effects the driver applies, as "t=<ms> n<i> <effect>": "replicate
// n<j>", "promoted", "pause writes for <ms> ms", "unpause writes",
// "cluster_state <ok|fail>". The replication link is played by the
// network: a replica alive and not cut from its master has it up
// (MasterLink) and, unless stalled, its master's offset.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		sc := &scenario{t: t}
		datadriven.RunTest(t, path, sc.handle)
	})
}

// scenario is the state of one transcript.
type scenario struct {
	t     *testing.T
	net   *memNet
	start int64
	out   strings.Builder
}

type directive func(sc *scenario, d *datadriven.TestData) error

var directives = map[string]directive{
	"add-nodes":     (*scenario).addNodes,
	"meet":          (*scenario).meet,
	"run":           (*scenario).run,
	"deliver":       (*scenario).deliver,
	"addslots":      (*scenario).addSlots,
	"replicate":     (*scenario).replicate,
	"isolate":       (*scenario).isolate,
	"heal":          (*scenario).heal,
	"request-votes": (*scenario).requestVotes,
	"restart":       (*scenario).restart,
	"cluster-nodes": (*scenario).clusterNodes,
	"epochs":        (*scenario).epochs,
	"disk-vars":     (*scenario).diskVars,

	"partition":       (*scenario).partition,
	"kill":            (*scenario).kill,
	"revive":          (*scenario).revive,
	"set-offset":      (*scenario).setOffset,
	"stall":           (*scenario).stall,
	"unstall":         (*scenario).stall,
	"manual-failover": (*scenario).manualFailover,
}

// handle runs one directive and returns what it printed.
func (sc *scenario) handle(t *testing.T, d *datadriven.TestData) string {
	sc.t = t
	fn, ok := directives[d.Cmd]
	if !ok {
		t.Fatalf("%s: unknown directive %s", d.Pos, d.Cmd)
	}
	if d.Cmd != "add-nodes" && sc.net == nil {
		t.Fatalf("%s: add-nodes first", d.Pos)
	}
	sc.out.Reset()
	if err := fn(sc, d); err != nil {
		fmt.Fprintf(&sc.out, "error: %v\n", err)
	}
	if sc.out.Len() == 0 {
		return "ok\n"
	}
	return sc.out.String()
}

// --- arguments ---

// nodeArg returns the node numbered by positional argument i (from 1).
func (sc *scenario) nodeArg(d *datadriven.TestData, i int) int {
	n := sc.intArg(d, i)
	if n < 1 || n > len(sc.net.nodes) {
		sc.t.Fatalf("%s: no node %d", d.Pos, n)
	}
	return n - 1
}

// intArg returns positional argument i as a number.
func (sc *scenario) intArg(d *datadriven.TestData, i int) int {
	if i >= len(d.CmdArgs) {
		sc.t.Fatalf("%s: %s needs %d arguments", d.Pos, d.Cmd, i+1)
	}
	n, err := strconv.Atoi(d.CmdArgs[i].Key)
	if err != nil {
		sc.t.Fatalf("%s: %v", d.Pos, err)
	}
	return n
}

// --- output ---

// nodeName is the name of node i (0-based): its number repeated.
func nodeName(i int) string { return strings.Repeat(strconv.Itoa(i+1), NameLen) }

// short replaces the names of the network's nodes with n<i>.
func (sc *scenario) short(s string) string {
	for i := range sc.net.nodes {
		s = strings.ReplaceAll(s, nodeName(i), "n"+strconv.Itoa(i+1))
	}
	return s
}

func (sc *scenario) printf(format string, args ...any) {
	sc.out.WriteString(sc.short(fmt.Sprintf(format, args...)))
}

// index returns the number of node x (from 1).
func (sc *scenario) index(x *memNode) int {
	for i, y := range sc.net.nodes {
		if y == x {
			return i + 1
		}
	}
	return 0
}

// traceDriver prints what a node's driver does, step by step.
type traceDriver struct {
	Driver
	sc *scenario
	x  *memNode
}

func (d traceDriver) SaveConfig(conf []byte, fsync bool) error {
	if fsync {
		d.sc.printf("n%d save nodes.conf (fsync)\n", d.sc.index(d.x))
	}
	return d.Driver.SaveConfig(conf, fsync)
}

func (d traceDriver) Send(out []Out) {
	for _, o := range out {
		if o.Kind != OutSend || o.Msg.IsPing() {
			continue
		}
		to := o.Node
		if o.Link != 0 {
			if l := d.sc.net.links[o.Link]; l != nil {
				to = l.from.m.S.Myself.Name
			}
		}
		d.sc.printf("n%d -> %s %s epoch %d\n", d.sc.index(d.x), to, o.Msg.Type, o.Msg.CurrentEpoch)
	}
	d.Driver.Send(out)
}

func (d traceDriver) Apply(rd *Ready) {
	i, t := d.sc.index(d.x), d.sc.net.now-d.sc.start
	for _, l := range rd.Logs {
		d.sc.printf("t=%d n%d: %s\n", t, i, l)
	}
	s := d.x.m.S
	if rd.Replicate {
		d.sc.printf("t=%d n%d replicate %s\n", t, i, s.Myself.ReplicaOf.Name)
	}
	if rd.Promoted {
		d.sc.printf("t=%d n%d promoted\n", t, i)
	}
	if rd.PauseWritesUntil != 0 {
		d.sc.printf("t=%d n%d pause writes for %d ms\n", t, i, rd.PauseWritesUntil-d.sc.net.now)
	}
	if rd.UnpauseWrites {
		d.sc.printf("t=%d n%d unpause writes\n", t, i)
	}
	was := s.OK()
	d.Driver.Apply(rd)
	if s.OK() != was {
		state := "fail"
		if s.OK() {
			state = "ok"
		}
		d.sc.printf("t=%d n%d cluster_state %s\n", t, i, state)
	}
}
