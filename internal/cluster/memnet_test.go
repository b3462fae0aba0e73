package cluster

// An in-memory bus for Membership: nodes, links, a clock in ms, cuts
// between nodes, and a MemFS disk per node for its nodes.conf. Each node's
// Readys are carried out by memDriver through Membership.Drive (save,
// send, apply); restart crashes a node and starts it from its disk.
// Everything runs in the test goroutine and every random choice comes
// from one seed, so a run is repeatable.

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"redgo/internal/vfs"
)

type memNode struct {
	ip  string
	m   *Membership
	out map[string]*memLink // outbound links by the name Membership knows the node by
	// disk holds the node's nodes.conf, saved as Ready asks.
	disk *vfs.MemFS
	// published collects the PUBLISH messages delivered to the node.
	published []Delivery
	// dead: killed, it neither ticks nor talks until revived.
	dead bool
	// masterUp is what the node was last told of its master link;
	// stalled keeps a replica's offset from following its master's.
	masterUp, stalled bool
	// paused is, on a master, until when client writes are paused.
	paused int64
}

type memLink struct {
	id       LinkID
	from, to *memNode
	name     string
	closed   bool
}

type delivery struct {
	l        *memLink
	toDialer bool // a reply on the link, back to who opened it
	msg      *Msg
}

type memNet struct {
	t      testing.TB
	now    int64
	nodes  []*memNode
	byIP   map[string]*memNode
	links  map[LinkID]*memLink
	nextID LinkID
	cut    map[[2]string]bool
	queue  []delivery
	logs   bool
	onLog  func(x *memNode, line string) // sees every log line when set
	// wrap, when set, wraps the driver of node x (tracing, crashing).
	wrap func(x *memNode, d Driver) Driver
	seed int64
}

const testCPort = 17000

// newMemNet makes n nodes at 10.0.0.1..n, port 7000, bus 17000. Node i
// is named with byte 'a'+i repeated unless names overrides it.
func newMemNet(t testing.TB, seed int64, n int, timeout int64) *memNet {
	net := &memNet{t: t, now: 1_000_000, byIP: map[string]*memNode{}, links: map[LinkID]*memLink{},
		cut: map[[2]string]bool{}, seed: seed}
	r := rand.New(rand.NewSource(seed))
	for i := range n {
		opts := DefaultOptions()
		opts.NodeTimeout = timeout
		opts.WritableDelay = 1
		st := NewState(RandomName(r), opts, net.now)
		st.Myself.Port, st.Myself.CPort = 7000, testCPort
		mn := &memNode{ip: fmt.Sprintf("10.0.0.%d", i+1), out: map[string]*memLink{},
			m: NewMembership(st, rand.New(rand.NewSource(r.Int63()))), disk: newDisk()}
		net.nodes = append(net.nodes, mn)
		net.byIP[mn.ip] = mn
	}
	t.Logf("memnet seed %d", seed)
	return net
}

func (net *memNet) cutOff(a, b *memNode) bool {
	if a.dead || b.dead {
		return true
	}
	return net.cut[[2]string{a.ip, b.ip}] || net.cut[[2]string{b.ip, a.ip}]
}

// isolate cuts node i from every other node (or heals it).
func (net *memNet) isolate(i int, on bool) {
	for _, o := range net.nodes {
		if o != net.nodes[i] {
			if on {
				net.cut[[2]string{net.nodes[i].ip, o.ip}] = true
			} else {
				delete(net.cut, [2]string{net.nodes[i].ip, o.ip})
				delete(net.cut, [2]string{o.ip, net.nodes[i].ip})
			}
		}
	}
}

// confName is nodes.conf on a node's disk.
const confName = "/data/nodes.conf"

func newDisk() *vfs.MemFS {
	d := vfs.NewMemFS()
	d.MkdirAll("/data")
	return d
}

// saveConf writes nodes.conf as the server does: a temp file renamed
// over it; fsynced (file and directory) only when asked, so a crash
// keeps an unsynced save or not.
func saveConf(d *vfs.MemFS, data []byte, fsync bool) error {
	f, err := d.Create(confName + ".tmp")
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	if fsync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := d.Rename(confName+".tmp", confName); err != nil {
		return err
	}
	if fsync {
		return d.SyncDir("/data")
	}
	return nil
}

// memDriver carries out one node's Readys on the network.
type memDriver struct {
	net *memNet
	x   *memNode
}

func (d memDriver) SaveConfig(conf []byte, fsync bool) error {
	return saveConf(d.x.disk, conf, fsync)
}

func (d memDriver) Send(outs []Out) {
	net, x := d.net, d.x
	for _, o := range outs {
		switch o.Kind {
		case OutSend:
			if o.Link != 0 {
				if l := net.links[o.Link]; l != nil && l.to == x && !l.closed {
					net.queue = append(net.queue, delivery{l, true, o.Msg})
				}
			} else if l := x.out[o.Node]; l != nil && !l.closed {
				net.queue = append(net.queue, delivery{l, false, o.Msg})
			}
		case OutDial:
			to := net.byIP[o.IP]
			if to != nil && to.dead && !x.dead {
				// Its host answers, its process does not: refused.
				x.m.LinkRefused(o.Node, net.now)
				continue
			}
			if to == nil || o.CPort != testCPort || net.cutOff(x, to) {
				x.m.LinkDown(o.Node, net.now)
				continue
			}
			if old := x.out[o.Node]; old != nil {
				old.closed = true
			}
			net.nextID++
			l := &memLink{id: net.nextID, from: x, to: to, name: o.Node}
			net.links[l.id] = l
			x.out[o.Node] = l
			x.m.LinkUp(o.Node, net.now) // its PING comes in the next Ready
		case OutClose:
			if l := x.out[o.Node]; l != nil {
				l.closed = true
				delete(x.out, o.Node)
			}
		case OutRename:
			if l := x.out[o.Node]; l != nil {
				delete(x.out, o.Node)
				l.name = o.NewName
				x.out[o.NewName] = l
			}
		}
	}
}

func (d memDriver) Apply(rd *Ready) {
	net, x := d.net, d.x
	if rd.UpdateState {
		x.m.S.UpdateState(net.now)
	}
	x.published = append(x.published, rd.Publishes...)
	if rd.UnpauseWrites {
		x.paused = 0
	}
	if rd.PauseWritesUntil != 0 {
		x.paused = rd.PauseWritesUntil
		x.m.WritesPaused(net.now) // nothing in flight on a test node
	}
	for _, l := range rd.Logs {
		if net.onLog != nil {
			net.onLog(x, l)
		}
		if net.logs {
			net.t.Logf("%d %s: %s", net.now, x.ip, l)
		}
	}
}

// flush carries out what node x's Membership asks for, in Ready's order.
func (net *memNet) flush(x *memNode) {
	var d Driver = memDriver{net, x}
	if net.wrap != nil {
		d = net.wrap(x, d)
	}
	if err := x.m.Drive(d); err != nil {
		net.t.Fatalf("%s: saving nodes.conf: %v", x.ip, err)
	}
}

// deliver runs the queue until it is empty.
func (net *memNet) deliver() {
	for steps := 0; len(net.queue) > 0; steps++ {
		if steps > 1_000_000 {
			net.t.Fatal("message storm")
		}
		d := net.queue[0]
		net.queue = net.queue[1:]
		if d.l.closed || net.cutOff(d.l.from, d.l.to) {
			continue
		}
		if d.toDialer {
			d.l.from.m.Step(Link{ID: d.l.id, Node: d.l.name, IP: d.l.to.ip, LocalIP: d.l.from.ip}, d.msg, net.now)
			net.flush(d.l.from)
		} else {
			d.l.to.m.Step(Link{ID: d.l.id, IP: d.l.from.ip, LocalIP: d.l.to.ip}, d.msg, net.now)
			net.flush(d.l.to)
		}
	}
}

// run advances the clock by ms in ticks, delivering every message.
func (net *memNet) run(ms int64) {
	for end := net.now + ms; net.now < end; {
		net.now += TickMs
		for _, x := range net.nodes {
			if x.dead {
				continue
			}
			net.replication(x)
			x.m.Tick(net.now)
			net.flush(x)
		}
		net.deliver()
	}
}

// replication plays the replication link of node x before its Tick: a
// replica reaches its master when both are alive and not cut apart; it
// tells the core when that changes (MasterLink) and, unless stalled,
// has processed all of the master's offset.
func (net *memNet) replication(x *memNode) {
	me := x.m.S.Myself
	var master *memNode
	if me.Flags&FlagSlave != 0 && me.ReplicaOf != nil {
		for _, y := range net.nodes {
			if y.m.S.Myself.Name == me.ReplicaOf.Name {
				master = y
			}
		}
	}
	up := master != nil && !net.cutOff(x, master)
	if up != x.masterUp {
		x.masterUp = up
		x.m.MasterLink(up, net.now)
	}
	if up && !x.stalled {
		me.ReplOffset = master.m.S.Myself.ReplOffset
	}
}

// meet has node i CLUSTER MEET node j.
func (net *memNet) meet(i, j int) {
	x, y := net.nodes[i], net.nodes[j]
	if err := x.m.Meet(y.ip, 7000, testCPort, net.now); err != nil {
		net.t.Fatal(err)
	}
}

func (net *memNet) st(i int) *State { return net.nodes[i].m.S }

// converged reports why the nodes do not agree yet, or "".
func (net *memNet) converged() string {
	names := map[string]bool{}
	for _, x := range net.nodes {
		names[x.m.S.Myself.Name] = true
	}
	ref := net.st(0)
	for i, x := range net.nodes {
		s := x.m.S
		if len(s.Nodes) != len(names) {
			return fmt.Sprintf("node %d knows %d nodes: %s", i, len(s.Nodes), nodeList(s))
		}
		for name, n := range s.Nodes {
			if !names[name] {
				return fmt.Sprintf("node %d knows stray %s", i, name)
			}
			if n.Flags&(FlagHandshake|FlagPFail|FlagFail|FlagNoAddr) != 0 {
				return fmt.Sprintf("node %d sees %s with flags %b", i, name, n.Flags)
			}
			if n.ConfigEpoch != ref.Nodes[name].ConfigEpoch {
				return fmt.Sprintf("node %d sees %s at epoch %d, node 0 at %d", i, name, n.ConfigEpoch, ref.Nodes[name].ConfigEpoch)
			}
		}
		if s.CurrentEpoch != ref.CurrentEpoch {
			return fmt.Sprintf("node %d currentEpoch %d, node 0 %d", i, s.CurrentEpoch, ref.CurrentEpoch)
		}
		for name, n := range s.Nodes {
			if n.Slots != ref.Nodes[name].Slots {
				return fmt.Sprintf("node %d and node 0 disagree on the slots of %s", i, name)
			}
		}
	}
	return ""
}

// distinctEpochs reports two masters with one configEpoch.
func (net *memNet) distinctEpochs() string {
	seen := map[uint64]int{}
	for i := range net.nodes {
		e := net.st(i).Myself.ConfigEpoch
		if j, ok := seen[e]; ok {
			return fmt.Sprintf("nodes %d and %d both at configEpoch %d", j, i, e)
		}
		seen[e] = i
	}
	return ""
}

// runUntil runs until cond returns "" or max ms passed.
func (net *memNet) runUntil(max int64, cond func() string) {
	net.t.Helper()
	why := cond()
	for waited := int64(0); why != "" && waited < max; waited += TickMs {
		net.run(TickMs)
		why = cond()
	}
	if why != "" {
		net.t.Fatalf("seed %d: after %d ms: %s", net.seed, max, why)
	}
}

func nodeList(s *State) string {
	var out []string
	for _, n := range s.SortedNodes() {
		out = append(out, fmt.Sprintf("%s(%b)", n.Name[:6], n.Flags))
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

// restart crashes node i and starts it again from its nodes.conf: as a
// killed process finds it (every write, synced or not) or, with
// powerLoss, as the machine finds it after losing power (what was
// fsynced only). Every link to and from it breaks.
func (net *memNet) restart(i int, powerLoss bool) {
	net.t.Helper()
	x := net.nodes[i]
	if powerLoss {
		x.disk = x.disk.CrashClone()
	} else {
		data, err := x.disk.ReadFile(confName)
		if err != nil {
			net.t.Fatal(err)
		}
		x.disk = newDisk()
		x.disk.WriteFile(confName, data)
	}
	data, err := x.disk.ReadFile(confName)
	if err != nil {
		net.t.Fatal(err)
	}
	conf, err := ParseNodesConf(data)
	if err != nil {
		net.t.Fatal(err)
	}
	st := StateFromConf(conf, x.m.S.Opts, net.now)
	x.m = NewMembership(st, rand.New(rand.NewSource(net.seed+net.now+int64(i))))
	x.out = map[string]*memLink{}
	x.masterUp, x.paused = false, 0
	for _, l := range net.links {
		if l.from == x || l.to == x {
			l.closed = true
		}
	}
	for _, o := range net.nodes {
		for name, l := range o.out {
			if l.to == x {
				delete(o.out, name)
				o.m.LinkDown(name, net.now)
			}
		}
	}
}

// replicate makes node i a replica of node j (as CLUSTER REPLICATE
// would); gossip tells the others.
func (net *memNet) replicate(i, j int) {
	s := net.st(i)
	s.SetMaster(s.Nodes[net.st(j).Myself.Name])
	s.Do(TodoSaveConfig)
	net.flush(net.nodes[i])
}

// requestVote has replica i ask node j for its vote at epoch, as the
// replica's side of an election would (clusterRequestFailoverAuth): a
// FAILOVER_AUTH_REQUEST with i's header, on a link from i to j.
func (net *memNet) requestVote(i, j int, epoch uint64) {
	x, y := net.nodes[i], net.nodes[j]
	m := x.m.header(MsgFailoverAuthRequest)
	m.CurrentEpoch = epoch
	net.nextID++
	l := &memLink{id: net.nextID, from: x, to: y}
	net.links[l.id] = l
	y.m.Step(Link{ID: l.id, IP: x.ip, LocalIP: y.ip}, m, net.now)
	net.flush(y)
}
