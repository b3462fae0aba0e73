package cluster

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"redgo/internal/slot"
)

func name(c byte) string { return strings.Repeat(string(c), NameLen) }

// newTest returns a fresh state named "aaa..." with node timeout 500 ms
// (rejoin delay 500 ms) and Redis's 2 s writable delay.
func newTest() *State {
	o := DefaultOptions()
	o.NodeTimeout = 500
	return NewState(name('a'), o, 0)
}

// addPeer adds a master known to s.
func addPeer(s *State, c byte, ip string, port int) *Node {
	n := NewNode(name(c), FlagMaster, 0)
	n.IP, n.Port, n.CPort = ip, port, port+10000
	s.AddNode(n)
	return n
}

func addAll(t *testing.T, s *State) {
	t.Helper()
	var m SlotMark
	if err := s.CheckSlots(&m, false, 0, slot.Count-1); err != nil {
		t.Fatal(err)
	}
	s.UpdateSlots(&m, false)
}

func TestStateFresh(t *testing.T) {
	s := newTest()
	if s.Myself.Flags != FlagMyself|FlagMaster || len(s.Nodes) != 1 || s.Lookup(name('a')) != s.Myself {
		t.Fatalf("fresh state: %+v", s.Myself)
	}
	s.UpdateState(0)
	if s.Size() != 1 {
		t.Fatal("cluster_size starts at 1, as Redis")
	}
	s.UpdateState(3000)
	if s.OK() {
		t.Fatal("a node without slots must be in fail state")
	}
	want := "cluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_slots_ok:0\r\ncluster_slots_pfail:0\r\n" +
		"cluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:0\r\ncluster_current_epoch:0\r\n" +
		"cluster_my_epoch:0\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n" +
		"total_cluster_links_buffer_limit_exceeded:0\r\n"
	if got := s.InfoText(); got != want {
		t.Fatalf("InfoText:\n%q\nwant\n%q", got, want)
	}
}

// The coverage check, cached between owner changes, still sees a
// failed owner, a slot left without one and the slot given back.
func TestStateCoverageFollowsOwners(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "127.0.0.1", 7001)
	addAll(t, s)
	s.UpdateState(0)
	s.UpdateState(2000)
	if !s.OK() {
		t.Fatal("not ok with every slot served")
	}
	s.DelSlot(9)
	s.AddSlot(b, 9)
	s.UpdateState(2100)
	if !s.OK() {
		t.Fatal("not ok with slot 9 moved to b")
	}
	b.Flags |= FlagFail
	s.UpdateState(2200)
	if s.OK() {
		t.Fatal("ok with the owner of slot 9 failed")
	}
	s.DelSlot(9)
	b.Flags &^= FlagFail
	s.UpdateState(2300)
	if s.OK() {
		t.Fatal("ok with slot 9 unassigned")
	}
	s.AddSlot(s.Myself, 9)
	s.UpdateState(9000)
	if !s.OK() {
		t.Fatal("not ok with slot 9 served again")
	}
}

func TestStateDelays(t *testing.T) {
	// Slots assigned at start: the writable delay (2 s) holds the state.
	s := newTest()
	s.UpdateState(0)
	addAll(t, s)
	s.UpdateState(1999)
	if s.OK() {
		t.Fatal("ok before the writable delay")
	}
	s.UpdateState(2000)
	if !s.OK() || s.Size() != 1 {
		t.Fatalf("not ok after the writable delay (size %d)", s.Size())
	}

	// Slots assigned later: the rejoin delay counts from the last time the
	// node saw itself in a minority (no slots = no quorum), as Redis.
	s = newTest()
	s.Opts.NodeTimeout = 15000 // rejoin delay capped at 5 s
	for now := int64(0); now <= 3000; now += 100 {
		s.UpdateState(now)
	}
	addAll(t, s)
	s.UpdateState(3100)
	if s.OK() {
		t.Fatal("ok right after the slots were added")
	}
	s.UpdateState(7999)
	if s.OK() {
		t.Fatal("ok before the rejoin delay")
	}
	s.UpdateState(8000)
	if !s.OK() {
		t.Fatal("not ok after the rejoin delay")
	}

	// Losing a slot fails at once.
	var m SlotMark
	if err := s.CheckSlots(&m, true, 5, 5); err != nil {
		t.Fatal(err)
	}
	s.UpdateSlots(&m, true)
	s.UpdateState(8100)
	if s.OK() {
		t.Fatal("ok with a slot unassigned")
	}
	s.Opts.RequireFullCoverage = false
	s.UpdateState(8200)
	if !s.OK() {
		t.Fatal("require-full-coverage no: a missing slot must not fail the cluster")
	}
}

func TestStateSlotChecks(t *testing.T) {
	s := newTest()
	var m SlotMark
	if err := s.CheckSlots(&m, true, 1, 1); err == nil || err.Error() != "ERR Slot 1 is already unassigned" {
		t.Fatalf("del unassigned: %v", err)
	}
	m = SlotMark{}
	s.CheckSlots(&m, false, 1, 3)
	if err := s.CheckSlots(&m, false, 2, 4); err == nil || err.Error() != "ERR Slot 2 specified multiple times" {
		t.Fatalf("duplicate: %v", err)
	}
	m = SlotMark{}
	s.CheckSlots(&m, false, 10, 12)
	s.UpdateSlots(&m, false)
	if s.Owner[11] != s.Myself || s.Myself.Slots.Count() != 3 || s.takeTodo()&TodoSaveConfig == 0 {
		t.Fatal("ADDSLOTS did not assign")
	}
	m = SlotMark{}
	if err := s.CheckSlots(&m, false, 12, 12); err == nil || err.Error() != "ERR Slot 12 is already busy" {
		t.Fatalf("busy: %v", err)
	}
	got := fmt.Sprint(NodeRanges(s.Myself))
	if got != "[[10 12]]" {
		t.Fatalf("ranges %s", got)
	}
	s.FlushSlots()
	if s.Myself.Slots.Count() != 0 || s.Owner[10] != nil {
		t.Fatal("FLUSHSLOTS left slots")
	}
}

func TestStateSetSlot(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	r := NewNode(name('c'), FlagSlave, 0)
	r.ReplicaOf = b
	AddReplica(b, r)
	s.AddNode(r)
	var m SlotMark
	s.CheckSlots(&m, false, 0, 99)
	s.UpdateSlots(&m, false)

	check := func(err error, want string) {
		t.Helper()
		if want == "" && err != nil || want != "" && (err == nil || err.Error() != want) {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
	check(s.SetSlotMigrating(100, b.Name), "ERR I'm not the owner of hash slot 100")
	check(s.SetSlotMigrating(1, "nope"), "ERR I don't know about node nope")
	check(s.SetSlotMigrating(1, r.Name), "ERR Target node is not a master")
	check(s.SetSlotMigrating(1, b.Name), "")
	check(s.SetSlotImporting(1, b.Name), "ERR I'm already the owner of hash slot 1")
	check(s.SetSlotImporting(200, "x"), "ERR I don't know about node x")
	check(s.SetSlotImporting(200, b.Name), "")
	if s.MigratingTo(1) != b || s.ImportingFrom(200) != b {
		t.Fatal("open slots not recorded")
	}
	s.SetSlotStable(1)
	if s.MigratingTo(1) != nil {
		t.Fatal("STABLE did not close the slot")
	}
	check(s.SetSlotNode(2, "x", 0), "ERR Unknown node x")
	check(s.SetSlotNode(2, r.Name, 0), "ERR Target node is not a master")
	check(s.SetSlotNode(2, b.Name, 5), "ERR Can't assign hashslot 2 to a different node while I still hold keys for this hash slot.")
	check(s.SetSlotNode(2, b.Name, 0), "")
	if s.Owner[2] != b || !b.Slots.Has(2) || s.Myself.Slots.Has(2) {
		t.Fatal("SETSLOT NODE did not move the slot")
	}

	// Importing ends when the slot is assigned to myself, with a new epoch.
	s.takeTodo()
	check(s.SetSlotNode(200, s.Myself.Name, 0), "")
	if s.ImportingFrom(200) != nil || s.Owner[200] != s.Myself || s.Myself.ConfigEpoch != 1 || s.CurrentEpoch != 1 {
		t.Fatalf("import close: epoch %d/%d", s.Myself.ConfigEpoch, s.CurrentEpoch)
	}
	if s.takeTodo()&TodoBroadcastPong == 0 {
		t.Fatal("no broadcast after closing an import")
	}

	// Giving away the last slot makes myself a replica of the receiver.
	for j := 0; j < slot.Count; j++ {
		if s.Owner[j] == s.Myself && j != 3 {
			s.DelSlot(j)
		}
	}
	check(s.SetSlotNode(3, b.Name, 0), "")
	if !s.IsReplica() || s.Myself.ReplicaOf != b || s.takeTodo()&TodoReplicate == 0 {
		t.Fatalf("myself not a replica of b: %v", s.Myself.Flags)
	}
	if len(b.Replicas) != 2 {
		t.Fatalf("b replicas %d", len(b.Replicas))
	}
	if s.MyEpoch() != b.ConfigEpoch {
		t.Fatal("a replica reports its master's epoch")
	}
}

func TestStateEpochs(t *testing.T) {
	s := newTest()
	if !s.BumpEpoch() || s.Myself.ConfigEpoch != 1 || s.CurrentEpoch != 1 {
		t.Fatal("first BUMPEPOCH")
	}
	if s.BumpEpoch() {
		t.Fatal("BUMPEPOCH with the greatest epoch must say STILL")
	}
	if err := s.SetConfigEpoch(5); err == nil || err.Error() != "ERR Node config epoch is already non-zero" {
		t.Fatal(err)
	}
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	b.ConfigEpoch = 7
	if !s.BumpEpoch() || s.Myself.ConfigEpoch != 2 {
		// currentEpoch 1 -> 2: Redis bumps currentEpoch by one, not past b.
		t.Fatalf("bump behind a peer: %d", s.Myself.ConfigEpoch)
	}
	if err := s.SetConfigEpoch(3); err == nil || !strings.Contains(err.Error(), "does not know any other node") {
		t.Fatal(err)
	}

	s = newTest()
	if err := s.SetConfigEpoch(-1); err == nil || err.Error() != "ERR Invalid config epoch specified: -1" {
		t.Fatal(err)
	}
	if err := s.SetConfigEpoch(9); err != nil || s.Myself.ConfigEpoch != 9 || s.CurrentEpoch != 9 {
		t.Fatal("SET-CONFIG-EPOCH 9")
	}
	if s.MaxEpoch() != 9 {
		t.Fatal("MaxEpoch")
	}
}

func TestStateResetForget(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	addAll(t, s)
	s.SetSlotMigrating(5, b.Name)
	s.BumpEpoch()
	s.LastVoteEpoch = 1
	s.Reset(false, "")
	if len(s.Nodes) != 1 || s.Myself.Slots.Count() != 0 || s.MigratingTo(5) != nil || s.CurrentEpoch != 1 {
		t.Fatal("soft reset")
	}
	newName := name('z')
	s.Reset(true, newName)
	if s.Myself.Name != newName || s.Lookup(newName) != s.Myself || s.Lookup(name('a')) != nil ||
		s.CurrentEpoch != 0 || s.LastVoteEpoch != 0 || s.Myself.ConfigEpoch != 0 {
		t.Fatal("hard reset")
	}

	s = newTest()
	b = addPeer(s, 'b', "10.0.0.2", 7001)
	var m SlotMark
	s.CheckSlots(&m, false, 0, 9)
	s.UpdateSlots(&m, false)
	s.SetSlotNode(9, b.Name, 0)
	b.FailReports = map[string]int64{}
	s.Myself.FailReports = map[string]int64{b.Name: 1}
	if err := s.Forget(name('q'), 100); err == nil || err.Error() != "ERR Unknown node "+name('q') {
		t.Fatal(err)
	}
	if err := s.Forget(s.Myself.Name, 100); err == nil || err.Error() != "ERR I tried hard but I can't forget myself..." {
		t.Fatal(err)
	}
	if err := s.Forget(b.Name, 100); err != nil {
		t.Fatal(err)
	}
	if s.Owner[9] != nil || s.Lookup(b.Name) != nil || s.Blacklist[b.Name] != 160 || len(s.Myself.FailReports) != 0 {
		t.Fatal("forget left traces")
	}
	s.CleanBlacklist(161)
	if len(s.Blacklist) != 0 {
		t.Fatal("blacklist not cleaned")
	}
}

func TestStateFailureReports(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	b.FailReports = map[string]int64{name('c'): 1000, name('d'): 100}
	if n := s.FailureReports(b, 1500); n != 1 {
		t.Fatalf("reports %d (validity is 2 * node timeout)", n)
	}
}

func TestSlotRanges(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	addAll(t, s)
	s.SetSlotNode(100, b.Name, 0)
	s.DelSlot(16383)
	got := ""
	for _, r := range s.SlotRanges() {
		got += fmt.Sprintf("%d-%d:%c ", r.Start, r.End, r.Node.Name[0])
	}
	if got != "0-99:a 100-100:b 101-16382:a " {
		t.Fatal(got)
	}
	if fmt.Sprint(NodeRanges(s.Myself)) != "[[0 99] [101 16382]]" {
		t.Fatal(NodeRanges(s.Myself))
	}
	if sh := ShardNodes(b); len(sh) != 1 || sh[0] != b {
		t.Fatal("ShardNodes")
	}
}

func TestRoute(t *testing.T) {
	s := newTest()
	s.Opts.WritableDelay = 1
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	b.Hostname = "b.example"
	addAll(t, s)
	s.UpdateState(0)
	s.UpdateState(600)
	if !s.OK() {
		t.Fatal("not ok")
	}
	foo := slot.OfString("foo") // 12182
	s.SetSlotNode(foo, b.Name, 0)
	s.SetSlotMigrating(slot.OfString("bar"), b.Name) // 5061
	s.SetSlotImporting(foo, b.Name)                  // importing a slot b owns

	have := map[string]bool{"bar": true, "{bar}1": true}
	missing := func(j int, keys [][]byte) (int, int) {
		m, e := 0, 0
		for _, k := range keys {
			if slot.Of(k) != j {
				t.Fatalf("Missing called with key %q outside slot %d", k, j)
			}
			if have[string(k)] {
				e++
			} else {
				m++
			}
		}
		return m, e
	}
	r := s.Routes()
	keys := func(ks ...string) [][]byte {
		out := make([][]byte, len(ks))
		for i, k := range ks {
			out[i] = []byte(k)
		}
		return out
	}
	type tc struct {
		q    Query
		want string
	}
	str := func(red Redirect, e *Endpoint, j int) string {
		names := []string{"here", "crossslot", "tryagain", "down", "downro", "unbound", "moved", "ask"}
		out := names[red]
		if e != nil {
			out += fmt.Sprintf(" %d %s:%d", j, r.Preferred(e), e.Port)
		}
		return out
	}
	for _, c := range []tc{
		{Query{}, "here"},
		{Query{Keys: keys("x")}, "here"},
		{Query{Keys: keys("foo")}, "moved 12182 10.0.0.2:7001"},
		{Query{Keys: keys("foo"), Asking: true}, "here"}, // importing + ASKING
		{Query{Keys: keys("foo", "{foo}2"), Asking: true}, "tryagain"},
		{Query{Keys: keys("foo", "foo"), Asking: true}, "here"}, // same key twice is not "multiple"
		{Query{Keys: keys("x", "y")}, "crossslot"},
		{Query{Keys: keys("{x}1", "{x}2")}, "here"},
		{Query{Keys: keys("bar")}, "here"},                      // migrating, key present
		{Query{Keys: keys("{bar}2")}, "ask 5061 10.0.0.2:7001"}, // migrating, key missing
		{Query{Keys: keys("bar", "{bar}2")}, "tryagain"},        // some present
		{Query{Keys: keys("{bar}2", "{bar}3")}, "ask 5061 10.0.0.2:7001"},
		{Query{Keys: keys("{bar}2"), Migrate: true}, "here"},
		{Query{Keys: keys("{bar}2"), PubsubShard: true}, "here"}, // channels are not looked up
	} {
		c.q.Missing = missing
		red, e, j := r.Route(&c.q)
		if got := str(red, e, j); got != c.want {
			t.Errorf("%q asking=%v: got %s, want %s", c.q.Keys, c.q.Asking, got, c.want)
		}
	}
	s.Opts.PreferredEndpoint = "hostname"
	r = s.Routes()
	if red, e, j := r.Route(&Query{Keys: keys("foo")}); str(red, e, j) != "moved 12182 b.example:7001" {
		t.Fatal(str(red, e, j))
	}
	s.Opts.PreferredEndpoint = "unknown-endpoint"
	r = s.Routes()
	if red, e, j := r.Route(&Query{Keys: keys("foo")}); str(red, e, j) != "moved 12182 :7001" {
		t.Fatal(str(red, e, j))
	}

	// Unassigned slot, and cluster down.
	s.Opts.PreferredEndpoint = "ip"
	s.DelSlot(slot.OfString("x"))
	s.UpdateState(700)
	r = s.Routes()
	for _, c := range []tc{
		{Query{Keys: keys("x")}, "unbound"},
		{Query{Keys: keys("x", "y")}, "unbound"},
		{Query{Keys: keys("y", "x")}, "crossslot"},
		{Query{Keys: keys("y")}, "down"},
		{Query{Keys: keys("y"), PubsubShard: true}, "here"},
		{Query{}, "here"},
	} {
		red, e, j := r.Route(&c.q)
		if got := str(red, e, j); got != c.want {
			t.Errorf("down: %q: got %s, want %s", c.q.Keys, got, c.want)
		}
	}
	s.Opts.AllowReadsWhenDown = true
	s.Opts.AllowPubsubShardDown = false
	r = s.Routes()
	for _, c := range []tc{
		{Query{Keys: keys("y")}, "here"},
		{Query{Keys: keys("y"), Write: true}, "downro"},
		{Query{Keys: keys("y"), PubsubShard: true}, "down"},
	} {
		red, e, j := r.Route(&c.q)
		if got := str(red, e, j); got != c.want {
			t.Errorf("reads when down: %q: got %s, want %s", c.q.Keys, got, c.want)
		}
	}
}

func TestRouteBlocked(t *testing.T) {
	s := newTest()
	s.Opts.WritableDelay = 1
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	addAll(t, s)
	s.UpdateState(0)
	s.UpdateState(600)
	s.SetSlotNode(5, b.Name, 0)
	s.SetSlotImporting(5, b.Name)
	s.SetSlotNode(6, b.Name, 0)
	r := s.Routes()
	if red, _ := r.RouteBlocked(1, false, true); red != RouteHere {
		t.Fatal("own slot")
	}
	if red, _ := r.RouteBlocked(5, false, true); red != RouteHere {
		t.Fatal("importing slot keeps its blocked clients")
	}
	if red, e := r.RouteBlocked(6, false, true); red != RouteMoved || e.Name != b.Name {
		t.Fatal("moved slot")
	}
	s.DelSlot(7)
	s.UpdateState(700)
	r = s.Routes()
	if red, _ := r.RouteBlocked(1, false, false); red != RouteDown {
		t.Fatal("cluster down wakes every blocked client")
	}
	s.Opts.RequireFullCoverage = false
	s.UpdateState(800)
	if red, _ := s.Routes().RouteBlocked(7, false, false); red != RouteUnbound {
		t.Fatal("unassigned slot")
	}
}

func TestRouteReplicaReadOnly(t *testing.T) {
	s := newTest()
	s.Opts.WritableDelay = 1
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	var m SlotMark
	s.CheckSlots(&m, false, 0, slot.Count-1)
	s.UpdateSlots(&m, false)
	for j := 0; j < slot.Count; j++ {
		s.SetSlotNode(j, b.Name, 0)
	}
	if !s.IsReplica() {
		t.Fatal("not a replica")
	}
	s.UpdateState(0)
	s.UpdateState(600)
	r := s.Routes()
	q := Query{Keys: [][]byte{[]byte("k")}}
	if red, _, _ := r.Route(&q); red != RouteMoved {
		t.Fatal("a replica without READONLY redirects")
	}
	q.ReadOnly = true
	if red, _, _ := r.Route(&q); red != RouteHere {
		t.Fatal("READONLY read on a replica is served")
	}
	q.Write = true
	if red, _, _ := r.Route(&q); red != RouteMoved {
		t.Fatal("READONLY write on a replica is redirected")
	}
	q.Write, q.QueuedWrite = false, true
	if red, _, _ := r.Route(&q); red != RouteMoved {
		t.Fatal("EXEC with a queued write is redirected")
	}
}

func TestValidMeetAddr(t *testing.T) {
	for _, c := range []struct {
		ip          string
		port, cport int64
		ok          bool
	}{
		{"127.0.0.1", 7000, 17000, true}, {"::1", 7000, 17000, true}, {"localhost", 7000, 17000, false},
		{"127.0.0.1", 0, 10000, false}, {"127.0.0.1", 70000, 80000, false}, {"127.0.0.1", 7000, 0, false},
	} {
		if ValidMeetAddr(c.ip, c.port, c.cport) != c.ok {
			t.Errorf("%s:%d@%d", c.ip, c.port, c.cport)
		}
	}
	if !ValidName(name('a')) || ValidName("abc") || ValidName(strings.Repeat("A", 40)) {
		t.Fatal("ValidName")
	}
}

func TestStateConfRoundTrip(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	r := NewNode(name('c'), FlagSlave, 0)
	r.IP, r.Port, r.CPort, r.ReplicaOf = "10.0.0.3", 7002, 17002, b
	AddReplica(b, r)
	s.AddNode(r)
	var m SlotMark
	s.CheckSlots(&m, false, 0, 200)
	s.UpdateSlots(&m, false)
	s.SetSlotNode(200, b.Name, 0)
	s.SetSlotMigrating(7, b.Name)
	s.SetSlotImporting(300, b.Name)
	s.BumpEpoch()
	b.ConfigEpoch = 4
	s.CurrentEpoch, s.LastVoteEpoch = 5, 3
	data := s.Conf().Append(nil)
	c, err := ParseNodesConf(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	l := StateFromConf(c, s.Opts, 99)
	if got := l.Conf().Append(nil); string(got) != string(data) {
		t.Fatalf("round trip:\n%s\n%s", data, got)
	}
	if l.Myself.Name != s.Myself.Name || l.Owner[200].Name != b.Name || l.Owner[5] != l.Myself ||
		l.MigratingTo(7).Name != b.Name || l.ImportingFrom(300).Name != b.Name || l.CurrentEpoch != 5 || l.LastVoteEpoch != 3 {
		t.Fatal("state not restored")
	}
	lb := l.Lookup(b.Name)
	if len(lb.Replicas) != 1 || lb.Replicas[0].ReplicaOf != lb || lb.Flags&FlagMigrateTo == 0 || lb.CreatedAt != 99 {
		t.Fatal("replica links not restored")
	}

	// A slot claimed twice in the file stays with one node, whose Slots
	// alone hold it (as clusterAddSlot refuses an assigned slot).
	c, _ = ParseNodesConf(data)
	for _, n := range c.Nodes {
		n.Slots.Set(5)
	}
	l = StateFromConf(c, s.Opts, 99)
	holders := 0
	for _, n := range l.Nodes {
		if n.Slots.Has(5) {
			holders++
			if l.Owner[5] != n {
				t.Fatal("slot 5 in the Slots of a node that does not own it")
			}
		}
	}
	if holders != 1 {
		t.Fatalf("slot 5 in the Slots of %d nodes", holders)
	}
}

// A slot that leaves our shard comes out in Ready.ChannelSlots (its
// shard channels' subscribers are unsubscribed); a slot of another
// shard that changes hands does not.
func TestChannelSlots(t *testing.T) {
	s := newTest()
	b := addPeer(s, 'b', "10.0.0.2", 7001)
	c := addPeer(s, 'c', "10.0.0.3", 7002)
	addAll(t, s)
	g := NewMembership(s, nil)
	g.Ready()
	g.Advance()
	s.SetSlotNode(7, b.Name, 0) // ours, given to b
	s.SetSlotNode(7, c.Name, 0) // b's, given to c
	if rd := g.Ready(); fmt.Sprint(rd.ChannelSlots) != "[7]" {
		t.Fatalf("ChannelSlots %v, want [7]", rd.ChannelSlots)
	}
	g.Advance()
	if rd := g.Ready(); len(rd.ChannelSlots) != 0 {
		t.Fatalf("ChannelSlots %v after Advance", rd.ChannelSlots)
	}
}

// Routes shares the owner table with the previous snapshot while the
// owners stay the same, and builds a new one when they change.
func TestRoutesShareOwnerTable(t *testing.T) {
	s := NewState(name('a'), DefaultOptions(), 0)
	for j := range 100 {
		s.AddSlot(s.Myself, j)
	}
	r1 := s.Routes()
	r2 := s.Routes()
	if r1.owner != r2.owner {
		t.Fatal("unchanged owners: a new table")
	}
	s.AddSlot(s.Myself, 200)
	s.SetMigrating(5, s.Myself)
	r3 := s.Routes()
	if r3.owner == r2.owner || r3.Owner(200) == nil || r2.Owner(200) != nil {
		t.Fatal("a changed owner must give a new table and leave the old snapshot as it was")
	}
	if !r3.Open(5) || r3.Open(6) || r2.Open(5) {
		t.Fatal("open slots")
	}
	// A change that moves no owner (SETSLOT IMPORTING, a replica that
	// follows another master) keeps the table; every index still names
	// the same node.
	b := NewNode(name('b'), FlagMaster, 0)
	s.AddNode(b)
	s.AddSlot(b, 300)
	r4 := s.Routes()
	s.SetImporting(400, b)
	s.Myself.IP, s.Myself.Port = "10.0.0.1", 7000
	r5 := s.Routes()
	if r5.owner != r4.owner || r5.Owner(300).Name != b.Name || r5.Owner(0).Name != s.Myself.Name ||
		r5.Owner(0).IP != "10.0.0.1" || !r5.Open(400) || r5.Owner(400) != nil {
		t.Fatalf("after SETSLOT IMPORTING: shared %v, owners %v %v", r5.owner == r4.owner, r5.Owner(300), r5.Owner(0))
	}
	c := NewNode(name('c'), FlagMaster, 0)
	s.AddNode(c)
	s.SetImporting(401, c)
	s.SetMaster(b) // closes our open slots, keeps our slots' owners
	r6 := s.Routes()
	if r6.owner != r5.owner || r6.Open(400) || r6.Owner(300).Name != b.Name || r6.Owner(0).Name != s.Myself.Name ||
		r6.ep(r6.myMaster).Name != b.Name || r6.ep(r6.myself).Name != s.Myself.Name {
		t.Fatal("after following another master")
	}
}

// Routes built after random owner changes (one or a few slots, many at
// once, a node removed) name every slot's owner as the state does.
func TestRoutesFollowOwnerChanges(t *testing.T) {
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	s := NewState(name('a'), DefaultOptions(), 0)
	nodes := []*Node{s.Myself}
	for _, c := range []byte("bcde") {
		n := NewNode(name(c), FlagMaster, 0)
		s.AddNode(n)
		nodes = append(nodes, n)
	}
	give := func(j int, n *Node) {
		s.DelSlot(j)
		if n != nil {
			s.AddSlot(n, j)
		}
	}
	for step := range 300 {
		switch k := rng.Intn(10); {
		case k < 6: // a SETSLOT NODE
			give(rng.Intn(slot.Count), nodes[rng.Intn(len(nodes))])
		case k < 8: // an UPDATE of a range
			start, n := rng.Intn(slot.Count-600), nodes[rng.Intn(len(nodes))]
			for j := start; j < start+rng.Intn(600); j++ {
				give(j, n)
			}
		case k == 8: // a slot left without owner
			give(rng.Intn(slot.Count), nil)
		default: // a node forgotten, and back
			if n := nodes[1+rng.Intn(len(nodes)-1)]; n.Slots.Count() > 0 {
				s.DelNode(n)
			}
		}
		if rng.Intn(3) > 0 {
			continue // several changes between snapshots
		}
		r := s.Routes()
		for j := range slot.Count {
			want, got := s.Owner[j], r.Owner(j)
			if want == nil && got != nil || want != nil && (got == nil || got.Name != want.Name) {
				t.Fatalf("seed %d, step %d: slot %d owned by %v, routes say %v", seed, step, j, want, got)
			}
		}
	}
}
