package cluster

// The replica's election (failover.go) piece by piece: the delay of each
// policy, the rank, which votes count, the takeover of the slots.

import (
	"math/rand"
	"strings"
	"testing"
)

func TestElectionDelay(t *testing.T) {
	fixed := func(r int64) func(int64) int64 {
		return func(n int64) int64 { return min(r, n-1) }
	}
	for _, c := range []struct {
		fast    bool
		timeout int64
		rank    int
		rnd     int64
		want    int64
	}{
		// Redis: 500 + random(0..500) + rank * 1000.
		{false, 15000, 0, 0, 500},
		{false, 15000, 0, 499, 999},
		{false, 15000, 2, 100, 2600},
		{false, 2000, 1, 0, 1500},
		// Fast: step = min(500, timeout/30); rank 0 waits one step.
		{true, 15000, 0, 400, 500},
		{true, 15000, 1, 0, 1000},
		{true, 15000, 1, 499, 1499},
		{true, 15000, 3, 10, 2010},
		{true, 3000, 0, 99, 100},
		{true, 3000, 2, 50, 350},
		{true, 2000, 0, 0, 66},
		// A timeout under 30 ms has no step at all.
		{true, 20, 2, 5, 0},
	} {
		o := DefaultOptions()
		o.FastFailover, o.NodeTimeout = c.fast, c.timeout
		if got := ElectionDelay(&o, c.rank, fixed(c.rnd)); got != c.want {
			t.Errorf("fast=%v timeout=%d rank=%d rnd=%d: delay %d, want %d", c.fast, c.timeout, c.rank, c.rnd, got, c.want)
		}
	}
}

// replicaOfF is replica "ggg..." of the failed master "fff..." (slots
// 100-199), with sibling "hhh...", masters "aaa..." (0-99) and "ooo..."
// (200-299) and "ppp..." without slots; node timeout 500 ms.
func replicaOfF(t *testing.T) (*Membership, *State) {
	t.Helper()
	o := DefaultOptions()
	o.NodeTimeout = 500
	now := int64(1_000_000)
	s := NewState(name('g'), o, now)
	me := s.Myself
	me.Flags = FlagMyself | FlagSlave
	a := addPeer(s, 'a', "10.0.0.1", 7001)
	a.ConfigEpoch = 1
	f := addPeer(s, 'f', "10.0.0.6", 7006)
	f.ConfigEpoch, f.Flags, f.FailTime = 2, f.Flags|FlagFail, now
	for j := 0; j < 100; j++ {
		s.AddSlot(a, j)
		s.AddSlot(f, j+100)
	}
	op := addPeer(s, 'o', "10.0.0.7", 7007)
	for j := 200; j < 300; j++ {
		s.AddSlot(op, j)
	}
	addPeer(s, 'p', "10.0.0.9", 7009)
	h := addPeer(s, 'h', "10.0.0.8", 7008)
	h.Flags = FlagSlave
	for _, r := range []*Node{me, h} {
		r.ReplicaOf = f
		AddReplica(f, r)
	}
	s.CurrentEpoch = 2
	s.sizeKnown, s.size = true, 3
	g := NewMembership(s, rand.New(rand.NewSource(1)))
	for _, n := range s.Nodes {
		if n != me {
			g.links[n] = &link{up: true, created: now}
			n.Linked, n.PongReceived = true, now
		}
	}
	return g, s
}

func TestReplicaRank(t *testing.T) {
	for _, c := range []struct {
		mine, sibling uint64
		nofailover    bool
		want          int
	}{
		{100, 50, false, 0},
		{100, 100, false, 0}, // equal offsets share the rank
		{100, 150, false, 1},
		{100, 150, true, 0}, // a sibling that never fails over does not count
	} {
		_, s := replicaOfF(t)
		s.Myself.ReplOffset = c.mine
		h := s.Nodes[name('h')]
		h.ReplOffset = c.sibling
		if c.nofailover {
			h.Flags |= FlagNoFailover
		}
		if got := s.ReplicaRank(); got != c.want {
			t.Errorf("mine %d sibling %d nofailover %v: rank %d, want %d", c.mine, c.sibling, c.nofailover, got, c.want)
		}
	}
}

// drain returns the log lines and the auth requests of the next Ready.
func drain(g *Membership) (logs []string, reqs int, rd Ready) {
	rd = g.Ready()
	g.Advance()
	for _, o := range rd.Out {
		if o.Kind == OutSend && o.Msg.Type == MsgFailoverAuthRequest {
			reqs++
		}
	}
	return rd.Logs, reqs, rd
}

func TestElectionCountsVotes(t *testing.T) {
	g, s := replicaOfF(t)
	s.Opts.FastFailover = false
	now := int64(1_000_000)
	g.Tick(now)
	logs, _, _ := drain(g)
	if len(logs) != 1 || !strings.HasPrefix(logs[0], "Start of election delayed for ") {
		t.Fatalf("logs %q", logs)
	}
	now = s.el.authTime
	g.Tick(now)
	logs, reqs, rd := drain(g)
	if reqs != 5 || s.el.authEpoch != 3 || s.CurrentEpoch != 3 || !rd.FsyncConfig {
		t.Fatalf("requests %d, election epoch %d, currentEpoch %d, fsync %v; logs %q", reqs, s.el.authEpoch, s.CurrentEpoch, rd.FsyncConfig, logs)
	}
	ack := func(c byte, epoch uint64) {
		g.Step(Link{ID: 9}, &Msg{Type: MsgFailoverAuthAck, Sender: name(c), CurrentEpoch: epoch, Slots: s.Nodes[name(c)].Slots}, now)
	}
	ack('p', 3) // a master without slots: no vote
	ack('h', 3) // a replica: no vote
	ack('a', 2) // an older epoch: no vote
	if s.el.authCount != 0 {
		t.Fatalf("%d votes counted", s.el.authCount)
	}
	ack('a', 3)
	if s.Myself.IsMaster() {
		t.Fatal("won with one vote of three masters")
	}
	ack('o', 3)
	if !s.Myself.IsMaster() {
		t.Fatalf("two votes of three masters lost; votes %d", s.el.authCount)
	}
	_, _, rd = drain(g)
	if !rd.Promoted || rd.Replicate || s.Myself.ConfigEpoch != 3 || s.Owner[150] != s.Myself || s.Myself.Slots.Count() != 100 {
		t.Fatalf("after the win: promoted %v, configEpoch %d, owner of 150 %s", rd.Promoted, s.Myself.ConfigEpoch, s.Owner[150].Name)
	}
}

func TestElectionWaitsForMajority(t *testing.T) {
	g, s := replicaOfF(t)
	now := int64(1_000_000)
	g.Tick(now)
	drain(g)
	now = s.el.authTime
	g.Tick(now)
	drain(g)
	g.Step(Link{ID: 9}, &Msg{Type: MsgFailoverAuthAck, Sender: name('a'), CurrentEpoch: 3, Slots: s.Nodes[name('a')].Slots}, now)
	logs, _, rd := drain(g)
	if s.Myself.IsMaster() || rd.Promoted {
		t.Fatal("won with one vote of three masters")
	}
	// The master failed just now: the waiting is not logged yet.
	for _, l := range logs {
		if strings.HasPrefix(l, "Currently unable") {
			t.Fatalf("logged %q", l)
		}
	}
}

func TestNoFailoverOption(t *testing.T) {
	g, s := replicaOfF(t)
	s.Opts.ReplicaNoFailover = true
	g.Tick(1_000_000)
	logs, _, _ := drain(g)
	if len(logs) != 0 || s.el.authTime != 0 || s.Myself.Flags&FlagNoFailover == 0 {
		t.Fatalf("logs %q, auth time %d, flags %b", logs, s.el.authTime, s.Myself.Flags)
	}
	// A manual failover runs all the same.
	if err := g.StartManualFailover(ManualForce, 1_000_000); err != nil {
		t.Fatal(err)
	}
	g.Tick(1_000_100)
	_, reqs, _ := drain(g)
	if reqs == 0 {
		t.Fatal("forced failover sent no auth request")
	}
}

func TestManualFailoverErrors(t *testing.T) {
	g, s := replicaOfF(t)
	if err := g.StartManualFailover(ManualDefault, 1); err == nil || !strings.Contains(err.Error(), "please use CLUSTER FAILOVER FORCE") {
		t.Fatalf("failed master: %v", err)
	}
	s.Myself.ReplicaOf = nil
	if err := g.StartManualFailover(ManualForce, 1); err == nil || !strings.Contains(err.Error(), "master is unknown") {
		t.Fatalf("no master: %v", err)
	}
	_, v := voter(t)
	gv := NewMembership(v, rand.New(rand.NewSource(1)))
	if err := gv.StartManualFailover(ManualDefault, 1); err == nil || !strings.Contains(err.Error(), "to a replica") {
		t.Fatalf("master: %v", err)
	}
}

func TestDataAge(t *testing.T) {
	now := int64(1_000_000)
	o := DefaultOptions()
	// Allowed age past the node timeout (500): 10000 + 500 * 10.
	limit := o.ReplPingPeriod + 500*o.ReplicaValidityFactor
	for _, c := range []struct {
		name     string
		down     bool
		since    int64
		factor   int64
		eligible bool
	}{
		{"link up", false, 0, 10, true},
		{"down, young", true, now - 500 - limit, 10, true},
		{"down, too old", true, now - 500 - limit - 1, 10, false},
		{"never synced", true, 0, 10, false},
		{"never synced, no check", true, 0, 0, true},
	} {
		g, s := replicaOfF(t)
		s.Opts.ReplicaValidityFactor = c.factor
		if c.down {
			g.MasterLink(false, c.since)
			g.MasterLink(false, max(c.since-1000, 0)) // an older time does not move it back
		}
		g.Tick(now)
		drain(g)
		if got := s.el.authTime != 0; got != c.eligible {
			t.Errorf("%s: election scheduled %v, want %v", c.name, got, c.eligible)
		}
	}
	// A manual failover skips the check.
	g, s := replicaOfF(t)
	g.MasterLink(false, 0)
	if err := g.StartManualFailover(ManualForce, now); err != nil {
		t.Fatal(err)
	}
	g.Tick(now)
	if drain(g); s.el.authTime != now {
		t.Fatalf("forced failover with old data: auth time %d", s.el.authTime)
	}
}
