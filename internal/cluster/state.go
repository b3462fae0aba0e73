package cluster

// The cluster state of one node (Redis's clusterState): the nodes it
// knows, who owns each slot, the slots it migrates or imports, the epochs,
// and the effects of the CLUSTER commands that change them. Pure: times
// come in as Unix milliseconds, new node IDs come in as arguments, and
// what must happen outside (save nodes.conf, tell the other nodes) is
// asked for with Do and reaches the driver in the next Ready (ready.go).
//
// The caller serializes access (one mutex in the server). Routes() takes
// an immutable snapshot of what the dispatcher needs to route a command,
// so the per-command path reads no mutable state.

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"redgo/internal/slot"
)

// Timing constants of Redis 7.0 (cluster.c).
const (
	// WritableDelay: after start a master waits this long before it
	// turns the cluster state to ok (CLUSTER_WRITABLE_DELAY).
	WritableDelay  = 2000
	minRejoinDelay = 500  // CLUSTER_MIN_REJOIN_DELAY
	maxRejoinDelay = 5000 // CLUSTER_MAX_REJOIN_DELAY
	// FailReportValidityMult: failure reports older than
	// node timeout * this are dropped.
	FailReportValidityMult = 2
	// BlacklistTTL is how long (seconds) a forgotten node may not be
	// re-added by gossip (CLUSTER_BLACKLIST_TTL).
	BlacklistTTL = 60
)

// Todo is work the driver owes the state after a change
// (clusterDoBeforeSleep flags). It leaves the core only as Ready fields.
type Todo uint8

const (
	TodoSaveConfig    Todo = 1 << iota // rewrite nodes.conf
	TodoFsyncConfig                    // ... and fsync it
	TodoUpdateState                    // recompute cluster_state (UpdateState)
	TodoBroadcastPong                  // tell every node our new config at once (Ready sends the PONGs)
	TodoReplicate                      // myself became a replica: start replicating Myself.ReplicaOf
	TodoPromoted                       // myself became a master by failover: stop replicating, keep the data
	TodoUnpauseWrites                  // the manual failover that paused client writes is over
)

// Options are the settings of cluster-* directives the state depends on.
type Options struct {
	NodeTimeout           int64 // cluster-node-timeout, ms
	RequireFullCoverage   bool  // cluster-require-full-coverage
	AllowReplicaMigration bool  // cluster-allow-replica-migration
	AllowReadsWhenDown    bool  // cluster-allow-reads-when-down
	AllowPubsubShardDown  bool  // cluster-allow-pubsubshard-when-down
	// PreferredEndpoint is cluster-preferred-endpoint-type: "ip",
	// "hostname" or "unknown-endpoint".
	PreferredEndpoint string
	// WritableDelay overrides the WritableDelay constant when > 0 (tests).
	WritableDelay int64
	// ReplicaValidityFactor is cluster-replica-validity-factor: a replica
	// whose data is older than ReplPingPeriod + NodeTimeout * this (past
	// the node timeout) does not fail over; 0 disables the check.
	ReplicaValidityFactor int64
	// ReplPingPeriod is repl-ping-replica-period in ms (the validity
	// check adds it).
	ReplPingPeriod int64
	// ReplicaNoFailover is cluster-replica-no-failover: never start an
	// automatic failover (a manual one still runs).
	ReplicaNoFailover bool
	// MigrationBarrier is cluster-migration-barrier: a replica migrates
	// to an orphaned master only if its master keeps more than this many
	// working replicas.
	MigrationBarrier int
	// FastFailover is redgo's election timing (failover.go): a shorter
	// delay, none random for the best replica, and the election check
	// run as soon as the master is FAIL. False gives Redis 7.0's timing.
	FastFailover bool
}

// DefaultOptions are Redis's defaults.
func DefaultOptions() Options {
	return Options{NodeTimeout: 15000, RequireFullCoverage: true, AllowReplicaMigration: true,
		AllowPubsubShardDown: true, PreferredEndpoint: "ip", ReplicaValidityFactor: 10,
		ReplPingPeriod: 10000, MigrationBarrier: 1, FastFailover: true}
}

// State is the cluster as this node sees it.
type State struct {
	Myself        *Node
	Nodes         map[string]*Node // by name, Myself included
	CurrentEpoch  uint64
	LastVoteEpoch uint64

	// Owner[s] serves slot s (nil: unassigned). migrating[s] is where
	// this node moves slot s to, importing[s] where it takes it from
	// (MigratingTo, ImportingFrom; set through SetMigrating and
	// SetImporting, which keep open: the slots with either, so the
	// walks over open slots after every change skip the 16384 entries).
	Owner     [slot.Count]*Node
	migrating [slot.Count]*Node
	importing [slot.Count]*Node
	open      Slots

	// ownerScratch is where Routes builds the owner table; lastRoutes is
	// the last one built, whose table the next shares when unchanged or
	// copies and patches at the slots in ownerMoved (a SETSLOT NODE
	// moves one); ownerReset: too many moved, or a node went, build it
	// whole. routeNodes are its endpoints' nodes, in index order.
	ownerScratch [slot.Count]uint16
	lastRoutes   *Routes
	routeNodes   []*Node
	ownerMoved   []int
	ownerReset   bool
	// ownerGen counts the changes of Owner (and removed nodes), so what
	// is derived from the 16384 owners is computed again only after one.
	ownerGen uint64
	// cover caches the coverage check of UpdateState at coverGen: the
	// distinct owners, and whether a slot has none.
	cover    []*Node
	coverGen uint64
	coverGap bool

	Opts Options

	// Blacklist: names of forgotten nodes -> Unix seconds until which
	// gossip must not add them back.
	Blacklist map[string]int64

	// Stats of bus messages by type, for CLUSTER INFO (the bus counts).
	Sent, Received [MsgTypeCount]uint64
	// LinksBufferLimitExceeded counts links closed for their send buffer.
	LinksBufferLimitExceeded uint64

	todo        Todo
	ok          bool  // cluster_state:ok
	size        int   // masters serving at least one slot, once UpdateState computed it
	sizeKnown   bool  // size computed; before, Size reports 1 as Redis's clusterInit
	firstUpdate int64 // ms of the first UpdateState
	updated     bool  // UpdateState ran at least once
	minorityAt  int64 // ms when we last saw ourselves in a minority

	// channelSlots are slots that left our shard since the last Ready
	// (Ready.ChannelSlots).
	channelSlots []int

	el         election       // the replica's election (failover.go)
	mf         manualFailover // CLUSTER FAILOVER, either side (manual.go)
	pauseUntil int64          // a write pause for the next Ready (manual.go)
}

// NewState returns the state of a fresh node named name: a master that
// knows only itself, with no slots and epoch 0.
func NewState(name string, opts Options, now int64) *State {
	s := &State{Nodes: map[string]*Node{}, Opts: opts, Blacklist: map[string]int64{}}
	s.Myself = NewNode(name, FlagMyself|FlagMaster, now)
	s.AddNode(s.Myself)
	return s
}

// NewNode returns a node with the given name and flags, created at now.
func NewNode(name string, flags Flags, now int64) *Node {
	return &Node{Name: name, Flags: flags, CreatedAt: now}
}

// takeTodo returns and clears the pending work (Membership.Ready).
func (s *State) takeTodo() Todo {
	t := s.todo
	s.todo = 0
	return t
}

// Do asks for work (clusterDoBeforeSleep): it comes back to the driver
// in the next Ready of the State's Membership, never read directly.
func (s *State) Do(t Todo) { s.todo |= t }

// --- nodes.conf ---

// StateFromConf builds the state a node had when it wrote c, as Redis's
// clusterLoadConfig leaves it: ping and pong times that were set become
// now, failed nodes failed now, a replica's own configEpoch is 0, and a
// master with replicas is a replica-migration target.
func StateFromConf(c *NodesConf, opts Options, now int64) *State {
	s := &State{Nodes: map[string]*Node{}, Opts: opts, Blacklist: map[string]int64{},
		Myself: c.Myself, CurrentEpoch: c.CurrentEpoch, LastVoteEpoch: c.LastVoteEpoch}
	for _, n := range c.Nodes {
		n.CreatedAt = now
		if n.PingSent != 0 {
			n.PingSent = now
		}
		if n.PongReceived != 0 {
			n.PongReceived = now
		}
		if n.Flags&FlagFail != 0 {
			n.FailTime = now
		}
		if n.Flags&FlagSlave != 0 && n.ReplicaOf != nil {
			n.ConfigEpoch = 0
		}
		if len(n.Replicas) > 0 {
			n.Flags |= FlagMigrateTo
		}
		s.AddNode(n)
		for j := n.Slots.NextSet(0); j < slot.Count; j = n.Slots.NextSet(j + 1) {
			if s.Owner[j] == nil {
				s.Owner[j] = n
			} else {
				// Claimed twice in the file: the first keeps it, as
				// clusterAddSlot refuses an assigned slot (and n.Slots
				// is then exactly the slots n owns).
				n.Slots.Clear(j)
			}
		}
	}
	for _, m := range c.Migrations {
		n := s.Nodes[m.Node]
		if m.Importing {
			s.SetImporting(m.Slot, n)
		} else {
			s.SetMigrating(m.Slot, n)
		}
	}
	s.CurrentEpoch = max(s.CurrentEpoch, s.MaxEpoch())
	return s
}

// Conf returns what nodes.conf must hold for the state (nodes by name).
func (s *State) Conf() *NodesConf {
	return &NodesConf{Nodes: s.SortedNodes(), Myself: s.Myself, CurrentEpoch: s.CurrentEpoch,
		LastVoteEpoch: s.LastVoteEpoch, Migrations: s.Migrations()}
}

// Migrations lists myself's open slots, ascending, a migrating entry
// before an importing one for the same slot (the order CLUSTER NODES
// shows them in).
func (s *State) Migrations() []SlotMigration {
	var out []SlotMigration
	for j := s.open.NextSet(0); j < slot.Count; j = s.open.NextSet(j + 1) {
		if n := s.MigratingTo(j); n != nil {
			out = append(out, SlotMigration{Slot: j, Node: n.Name})
		}
		if n := s.ImportingFrom(j); n != nil {
			out = append(out, SlotMigration{Slot: j, Node: n.Name, Importing: true})
		}
	}
	return out
}

// --- nodes ---

// ValidName reports whether name looks like a node ID: 40 characters
// from [0-9a-z] (verifyClusterNodeId).
func ValidName(name string) bool {
	if len(name) != NameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// Lookup returns the node named name, or nil.
func (s *State) Lookup(name string) *Node {
	if len(name) != NameLen {
		return nil
	}
	return s.Nodes[name]
}

// AddNode adds n to the node table.
func (s *State) AddNode(n *Node) { s.Nodes[n.Name] = n }

// SortedNodes returns every node ordered by name (a stable order for
// CLUSTER NODES, SHARDS and nodes.conf; Redis uses its hash table's).
func (s *State) SortedNodes() []*Node {
	out := make([]*Node, 0, len(s.Nodes))
	for _, n := range s.Nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AddReplica records r as a replica of m (clusterNodeAddSlave).
func AddReplica(m, r *Node) bool {
	for _, x := range m.Replicas {
		if x == r {
			return false
		}
	}
	m.Replicas = append(m.Replicas, r)
	m.Flags |= FlagMigrateTo
	return true
}

// RemoveReplica drops r from m's replicas (clusterNodeRemoveSlave).
func RemoveReplica(m, r *Node) bool {
	for i, x := range m.Replicas {
		if x == r {
			m.Replicas = append(m.Replicas[:i:i], m.Replicas[i+1:]...)
			if len(m.Replicas) == 0 {
				m.Flags &^= FlagMigrateTo
			}
			return true
		}
	}
	return false
}

// DelNode removes n from the cluster: its slots become unassigned, open
// slots towards it are closed, failure reports it sent are dropped
// (clusterDelNode).
func (s *State) DelNode(n *Node) {
	s.ownerGen++
	s.ownerReset = true
	for j := 0; j < slot.Count; j++ {
		if s.ImportingFrom(j) == n {
			s.SetImporting(j, nil)
		}
		if s.MigratingTo(j) == n {
			s.SetMigrating(j, nil)
		}
		if s.Owner[j] == n {
			s.DelSlot(j)
		}
	}
	for _, o := range s.Nodes {
		if o != n {
			delete(o.FailReports, n.Name)
		}
	}
	for _, r := range n.Replicas {
		r.ReplicaOf = nil
	}
	if n.ReplicaOf != nil {
		RemoveReplica(n.ReplicaOf, n)
	}
	delete(s.Nodes, n.Name)
}

// Rename changes a node's name (CLUSTER RESET HARD on myself).
func (s *State) Rename(n *Node, name string) {
	delete(s.Nodes, n.Name)
	n.Name = name
	s.Nodes[name] = n
}

// --- slots ---

func (s *State) mastersHaveReplicas() bool {
	for _, n := range s.Nodes {
		if n.IsMaster() && len(n.Replicas) > 0 {
			return true
		}
	}
	return false
}

// AddSlot assigns slot j to n; false if it is already assigned
// (clusterAddSlot).
func (s *State) AddSlot(n *Node, j int) bool {
	if s.Owner[j] != nil {
		return false
	}
	if !n.Slots.Has(j) {
		n.Slots.Set(j)
		// A master getting its first slot becomes a replica-migration
		// target when other masters have replicas (redis#3043).
		if n.Slots.Count() == 1 && s.mastersHaveReplicas() {
			n.Flags |= FlagMigrateTo
		}
	}
	s.Owner[j] = n
	s.moved(j)
	return true
}

// DelSlot unassigns slot j; false if it was unassigned (clusterDelSlot).
func (s *State) DelSlot(j int) bool {
	n := s.Owner[j]
	if n == nil {
		return false
	}
	if me := s.Myself; n == me || me.ReplicaOf != nil && n == me.ReplicaOf {
		// The slot leaves our shard: its shard channels go
		// (removeChannelsInSlot), even if it is given back at once.
		s.channelSlots = append(s.channelSlots, j)
	}
	n.Slots.Clear(j)
	s.Owner[j] = nil
	s.moved(j)
	return true
}

// moved records that slot j changed owner.
func (s *State) moved(j int) {
	s.ownerGen++
	if len(s.ownerMoved) < 256 {
		s.ownerMoved = append(s.ownerMoved, j)
	} else {
		s.ownerReset = true
	}
}

// DelNodeSlots unassigns every slot of n and returns how many.
func (s *State) DelNodeSlots(n *Node) int {
	del := 0
	for j := 0; j < slot.Count; j++ {
		if n.Slots.Has(j) {
			s.DelSlot(j)
			del++
		}
	}
	return del
}

// CloseAllSlots forgets every migrating and importing slot.
func (s *State) CloseAllSlots() {
	for j := s.open.NextSet(0); j < slot.Count; j = s.open.NextSet(j + 1) {
		s.migrating[j], s.importing[j] = nil, nil
	}
	s.open = Slots{}
}

// MigratingTo is the node this node moves slot j to, nil if none.
func (s *State) MigratingTo(j int) *Node { return s.migrating[j] }

// ImportingFrom is the node this node takes slot j from, nil if none.
func (s *State) ImportingFrom(j int) *Node { return s.importing[j] }

// SetMigrating records that slot j moves to n (nil: it does not).
func (s *State) SetMigrating(j int, n *Node) {
	s.migrating[j] = n
	s.markOpen(j)
}

// SetImporting records that slot j comes from n (nil: it does not).
func (s *State) SetImporting(j int, n *Node) {
	s.importing[j] = n
	s.markOpen(j)
}

func (s *State) markOpen(j int) {
	if s.migrating[j] != nil || s.importing[j] != nil {
		s.open.Set(j)
	} else {
		s.open.Clear(j)
	}
}

// SlotMark collects the slots named by one ADDSLOTS/DELSLOTS(RANGE)
// command while they are checked.
type SlotMark [slot.Count]uint8

// CheckSlots checks slots start..end for ADDSLOTS (del false) or
// DELSLOTS (del true) and marks them; the error carries Redis's reply
// (checkSlotAssignmentsOrReply).
func (s *State) CheckSlots(m *SlotMark, del bool, start, end int) error {
	for j := start; j <= end; j++ {
		if del && s.Owner[j] == nil {
			return fmt.Errorf("ERR Slot %d is already unassigned", j)
		} else if !del && s.Owner[j] != nil {
			return fmt.Errorf("ERR Slot %d is already busy", j)
		}
		m[j]++
		if m[j] == 2 {
			return fmt.Errorf("ERR Slot %d specified multiple times", j)
		}
	}
	return nil
}

// UpdateSlots assigns the marked slots to myself (or unassigns them with
// del) after CheckSlots passed (clusterUpdateSlots).
func (s *State) UpdateSlots(m *SlotMark, del bool) {
	for j := range m {
		if m[j] == 0 {
			continue
		}
		// Importing a slot ends when we own it (or nobody does).
		s.SetImporting(j, nil)
		if del {
			s.DelSlot(j)
		} else {
			s.AddSlot(s.Myself, j)
		}
	}
	s.Do(TodoUpdateState | TodoSaveConfig)
}

// FlushSlots unassigns every slot of myself (CLUSTER FLUSHSLOTS; the
// caller checks that the database is empty).
func (s *State) FlushSlots() {
	s.DelNodeSlots(s.Myself)
	s.Do(TodoUpdateState | TodoSaveConfig)
}

// IsReplica reports whether myself is a replica.
func (s *State) IsReplica() bool { return s.Myself.Flags&FlagSlave != 0 }

// SetSlotMigrating is CLUSTER SETSLOT slot MIGRATING name.
func (s *State) SetSlotMigrating(j int, name string) error {
	if s.Owner[j] != s.Myself {
		return fmt.Errorf("ERR I'm not the owner of hash slot %d", j)
	}
	n := s.Lookup(name)
	if n == nil {
		return fmt.Errorf("ERR I don't know about node %s", name)
	}
	if !n.IsMaster() {
		return errors.New("ERR Target node is not a master")
	}
	s.SetMigrating(j, n)
	s.Do(TodoSaveConfig | TodoUpdateState)
	return nil
}

// SetSlotImporting is CLUSTER SETSLOT slot IMPORTING name.
func (s *State) SetSlotImporting(j int, name string) error {
	if s.Owner[j] == s.Myself {
		return fmt.Errorf("ERR I'm already the owner of hash slot %d", j)
	}
	n := s.Lookup(name)
	if n == nil {
		return fmt.Errorf("ERR I don't know about node %s", name)
	}
	if !n.IsMaster() {
		return errors.New("ERR Target node is not a master")
	}
	s.SetImporting(j, n)
	s.Do(TodoSaveConfig | TodoUpdateState)
	return nil
}

// SetSlotStable is CLUSTER SETSLOT slot STABLE.
func (s *State) SetSlotStable(j int) {
	s.SetImporting(j, nil)
	s.SetMigrating(j, nil)
	s.Do(TodoSaveConfig | TodoUpdateState)
}

// SetSlotNode is CLUSTER SETSLOT slot NODE name; keys is the number of
// keys this node holds in the slot.
func (s *State) SetSlotNode(j int, name string, keys int) error {
	n := s.Lookup(name)
	if n == nil {
		return fmt.Errorf("ERR Unknown node %s", name)
	}
	if !n.IsMaster() {
		return errors.New("ERR Target node is not a master")
	}
	me := s.Myself
	if s.Owner[j] == me && n != me && keys != 0 {
		return fmt.Errorf("ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.", j)
	}
	// Migrating with no keys left here: the migration is over.
	if keys == 0 && s.MigratingTo(j) != nil {
		s.SetMigrating(j, nil)
	}
	wasMine := s.Owner[j] == me
	s.DelSlot(j)
	s.AddSlot(n, j)
	// A master left without slots follows them as a replica.
	if wasMine && n != me && me.Slots.Count() == 0 && s.Opts.AllowReplicaMigration {
		s.SetMaster(n)
		s.Do(TodoSaveConfig | TodoUpdateState | TodoFsyncConfig)
	}
	// Importing ends when the slot is ours: take a new epoch so the
	// cluster adopts the change.
	if n == me && s.ImportingFrom(j) != nil {
		s.BumpEpoch()
		s.SetImporting(j, nil)
		s.Do(TodoBroadcastPong)
	}
	s.Do(TodoSaveConfig | TodoUpdateState)
	return nil
}

// SetMaster makes myself a replica of n (clusterSetMaster). The driver
// starts replication on Ready.Replicate. A manual failover in progress
// ends.
func (s *State) SetMaster(n *Node) {
	me := s.Myself
	if me.IsMaster() {
		me.Flags &^= FlagMaster | FlagMigrateTo
		me.Flags |= FlagSlave
		s.CloseAllSlots()
	} else if me.ReplicaOf != nil {
		RemoveReplica(me.ReplicaOf, me)
	}
	me.ReplicaOf = n
	AddReplica(n, me)
	s.todo &^= TodoPromoted
	s.Do(TodoReplicate)
	s.resetManualFailover()
}

// SetNodeAsMaster turns n into a master (clusterSetNodeAsMaster).
func (s *State) SetNodeAsMaster(n *Node) {
	if n.IsMaster() {
		return
	}
	if n.ReplicaOf != nil {
		RemoveReplica(n.ReplicaOf, n)
		if n != s.Myself {
			n.Flags |= FlagMigrateTo
		}
	}
	n.Flags &^= FlagSlave
	n.Flags |= FlagMaster
	n.ReplicaOf = nil
	s.Do(TodoSaveConfig | TodoUpdateState)
}

// --- epochs ---

// MaxEpoch is the greatest configEpoch known, or currentEpoch if greater
// (clusterGetMaxEpoch).
func (s *State) MaxEpoch() uint64 {
	m := s.CurrentEpoch
	for _, n := range s.Nodes {
		m = max(m, n.ConfigEpoch)
	}
	return m
}

// BumpEpoch gives myself a new configEpoch without agreement from the
// cluster when it has none or does not hold the greatest; it reports
// whether it did (clusterBumpConfigEpochWithoutConsensus, CLUSTER
// BUMPEPOCH's BUMPED/STILL).
func (s *State) BumpEpoch() bool {
	me := s.Myself
	if me.ConfigEpoch == 0 || me.ConfigEpoch != s.MaxEpoch() {
		s.CurrentEpoch++
		me.ConfigEpoch = s.CurrentEpoch
		s.Do(TodoSaveConfig | TodoFsyncConfig)
		return true
	}
	return false
}

// SetConfigEpoch is CLUSTER SET-CONFIG-EPOCH: allowed only on a node
// that knows no other node and has epoch 0.
func (s *State) SetConfigEpoch(epoch int64) error {
	switch {
	case epoch < 0:
		return fmt.Errorf("ERR Invalid config epoch specified: %d", epoch)
	case len(s.Nodes) > 1:
		return errors.New("ERR The user can assign a config epoch only when the node does not know any other node.")
	case s.Myself.ConfigEpoch != 0:
		return errors.New("ERR Node config epoch is already non-zero")
	}
	s.Myself.ConfigEpoch = uint64(epoch)
	s.CurrentEpoch = max(s.CurrentEpoch, uint64(epoch))
	s.Do(TodoUpdateState | TodoSaveConfig)
	return nil
}

// MyEpoch is the configEpoch CLUSTER INFO reports: a replica shows its
// master's.
func (s *State) MyEpoch() uint64 {
	me := s.Myself
	if !me.IsMaster() && me.ReplicaOf != nil {
		return me.ReplicaOf.ConfigEpoch
	}
	return me.ConfigEpoch
}

// --- reset, forget, failure reports ---

// Reset is CLUSTER RESET (clusterReset): every other node is forgotten,
// slots are released, a replica becomes a master (the driver flushes its
// data), and with hard the epochs go to 0 and myself takes newName.
func (s *State) Reset(hard bool, newName string) {
	me := s.Myself
	if !me.IsMaster() {
		s.SetNodeAsMaster(me)
	}
	s.CloseAllSlots()
	for j := 0; j < slot.Count; j++ {
		s.DelSlot(j)
	}
	for _, n := range s.SortedNodes() {
		if n != me {
			s.DelNode(n)
		}
	}
	if hard {
		s.CurrentEpoch, s.LastVoteEpoch, me.ConfigEpoch = 0, 0, 0
		s.Rename(me, newName)
	}
	s.Do(TodoSaveConfig | TodoUpdateState | TodoFsyncConfig)
}

// Forget is CLUSTER FORGET: n is removed and banned from gossip for
// BlacklistTTL seconds from nowSec.
func (s *State) Forget(name string, nowSec int64) error {
	n := s.Lookup(name)
	switch {
	case n == nil:
		return fmt.Errorf("ERR Unknown node %s", name)
	case n == s.Myself:
		return errors.New("ERR I tried hard but I can't forget myself...")
	case s.IsReplica() && s.Myself.ReplicaOf == n:
		return errors.New("ERR Can't forget my master!")
	}
	s.CleanBlacklist(nowSec)
	s.Blacklist[n.Name] = nowSec + BlacklistTTL
	s.DelNode(n)
	s.Do(TodoUpdateState | TodoSaveConfig)
	return nil
}

// CleanBlacklist drops expired bans.
func (s *State) CleanBlacklist(nowSec int64) {
	for name, until := range s.Blacklist {
		if until < nowSec {
			delete(s.Blacklist, name)
		}
	}
}

// FailureReports drops reports about n older than the validity window
// and returns how many are left (clusterNodeFailureReportsCount).
func (s *State) FailureReports(n *Node, now int64) int {
	maxAge := s.Opts.NodeTimeout * FailReportValidityMult
	for who, at := range n.FailReports {
		if now-at > maxAge {
			delete(n.FailReports, who)
		}
	}
	return len(n.FailReports)
}

// --- cluster_state ---

// OK reports cluster_state:ok.
func (s *State) OK() bool { return s.ok }

// Size is the number of masters serving at least one slot (cluster_size).
// Until the first full evaluation (the writable delay) it is 1, as Redis.
func (s *State) Size() int {
	if !s.sizeKnown {
		return 1
	}
	return s.size
}

// UpdateState recomputes cluster_state (clusterUpdateState): fail when a
// slot is unassigned or on a failed node (with require-full-coverage) or
// when we cannot reach a majority of the masters; a master waits
// WritableDelay after its first evaluation, and a rejoin delay after
// being in a minority, before it turns ok.
func (s *State) UpdateState(now int64) {
	delay := int64(WritableDelay)
	if s.Opts.WritableDelay > 0 {
		delay = s.Opts.WritableDelay
	}
	if !s.updated {
		s.firstUpdate, s.updated = now, true
	}
	me := s.Myself
	if me.IsMaster() && !s.ok && now-s.firstUpdate < delay {
		return
	}
	ok := true
	if s.Opts.RequireFullCoverage {
		owners := s.owners()
		ok = !s.coverGap
		for _, n := range owners {
			if n.Flags&FlagFail != 0 {
				ok = false
				break
			}
		}
	}
	size, reachable := 0, 0
	for _, n := range s.Nodes {
		if n.IsMaster() && n.Slots.Count() > 0 {
			size++
			if n.Flags&(FlagFail|FlagPFail) == 0 {
				reachable++
			}
		}
	}
	s.size, s.sizeKnown = size, true
	if reachable < size/2+1 {
		ok = false
		s.minorityAt = now
	}
	if ok != s.ok {
		rejoin := min(max(s.Opts.NodeTimeout, minRejoinDelay), maxRejoinDelay)
		if ok && me.IsMaster() && now-s.minorityAt < rejoin {
			return
		}
		s.ok = ok
	}
}

// owners returns the distinct slot owners, and sets coverGap when a slot
// has none; both are computed again only after an owner changed.
func (s *State) owners() []*Node {
	if s.cover != nil && s.coverGen == s.ownerGen {
		return s.cover
	}
	s.cover, s.coverGap = s.cover[:0], false
	// Owners come in long runs: each is looked at once per run.
	var prev *Node
	var seen map[*Node]bool // past a few owners
	for j, n := range &s.Owner {
		if j > 0 && n == prev {
			continue
		}
		prev = n
		switch {
		case n == nil:
			s.coverGap = true
		case seen != nil:
			if !seen[n] {
				seen[n] = true
				s.cover = append(s.cover, n)
			}
		case !slices.Contains(s.cover, n):
			s.cover = append(s.cover, n)
			if len(s.cover) == 16 {
				seen = map[*Node]bool{}
				for _, o := range s.cover {
					seen[o] = true
				}
			}
		}
	}
	if s.cover == nil {
		s.cover = []*Node{}
	}
	s.coverGen = s.ownerGen
	return s.cover
}

// InfoText is the body of CLUSTER INFO.
func (s *State) InfoText() string {
	assigned, okSlots, pfail, fail := 0, 0, 0, 0
	for _, n := range s.Owner {
		if n == nil {
			continue
		}
		assigned++
		switch {
		case n.Flags&FlagFail != 0:
			fail++
		case n.Flags&FlagPFail != 0:
			pfail++
		default:
			okSlots++
		}
	}
	state := "fail"
	if s.ok {
		state = "ok"
	}
	var b strings.Builder
	field := func(k string, v uint64) {
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(v, 10))
		b.WriteString("\r\n")
	}
	b.WriteString("cluster_state:" + state + "\r\n")
	field("cluster_slots_assigned", uint64(assigned))
	field("cluster_slots_ok", uint64(okSlots))
	field("cluster_slots_pfail", uint64(pfail))
	field("cluster_slots_fail", uint64(fail))
	field("cluster_known_nodes", uint64(len(s.Nodes)))
	field("cluster_size", uint64(s.Size()))
	field("cluster_current_epoch", s.CurrentEpoch)
	field("cluster_my_epoch", s.MyEpoch())
	var sent, recv uint64
	for t, n := range s.Sent {
		if n > 0 {
			sent += n
			field("cluster_stats_messages_"+MsgType(t).String()+"_sent", n)
		}
	}
	field("cluster_stats_messages_sent", sent)
	for t, n := range s.Received {
		if n > 0 {
			recv += n
			field("cluster_stats_messages_"+MsgType(t).String()+"_received", n)
		}
	}
	field("cluster_stats_messages_received", recv)
	field("total_cluster_links_buffer_limit_exceeded", s.LinksBufferLimitExceeded)
	return b.String()
}

// --- slot ranges (CLUSTER SLOTS, SHARDS, NODES) ---

// SlotRange is a run of consecutive slots with one owner.
type SlotRange struct {
	Start, End int
	Node       *Node
}

// SlotRanges returns the assigned slots as maximal runs with one owner,
// in slot order (clusterReplyMultiBulkSlots).
func (s *State) SlotRanges() []SlotRange {
	var out []SlotRange
	for j := 0; j < slot.Count; {
		n := s.Owner[j]
		if n == nil {
			j++
			continue
		}
		k := j
		for k+1 < slot.Count && s.Owner[k+1] == n {
			k++
		}
		out = append(out, SlotRange{j, k, n})
		j = k + 1
	}
	return out
}

// NodeRanges returns the slots of n as [start, end] runs.
func NodeRanges(n *Node) [][2]int {
	var out [][2]int
	for j := 0; j < slot.Count; {
		if !n.Slots.Has(j) {
			j++
			continue
		}
		k := j
		for k+1 < slot.Count && n.Slots.Has(k+1) {
			k++
		}
		out = append(out, [2]int{j, k})
		j = k + 1
	}
	return out
}

// ShardNodes returns the nodes serving the slots of n's shard: its
// master first, then the master's replicas (clusterGetNodesServingMySlots).
func ShardNodes(n *Node) []*Node {
	m := n
	if !n.IsMaster() && n.ReplicaOf != nil {
		m = n.ReplicaOf
	}
	return append([]*Node{m}, m.Replicas...)
}

// PreferredEndpoint is what clients are told to connect to for a node
// with the given ip and hostname (getPreferredEndpoint).
func PreferredEndpoint(kind, ip, hostname string) string {
	switch kind {
	case "hostname":
		if hostname != "" {
			return hostname
		}
		return "?"
	case "unknown-endpoint":
		return ""
	}
	return ip
}

// ValidMeetAddr reports whether CLUSTER MEET may start a handshake with
// ip:port@cport: an IPv4 or IPv6 literal and ports in 1..65535
// (clusterStartHandshake's EINVAL cases).
func ValidMeetAddr(ip string, port, cport int64) bool {
	if net.ParseIP(ip) == nil {
		return false
	}
	return port > 0 && port <= 65535 && cport > 0 && cport <= 65535
}

// --- routing ---

// Redirect is how a command is routed (CLUSTER_REDIR_*).
type Redirect uint8

const (
	RouteHere      Redirect = iota // serve it here
	RouteCrossSlot                 // -CROSSSLOT
	RouteTryAgain                  // -TRYAGAIN: keys split by a migration
	RouteDown                      // -CLUSTERDOWN The cluster is down
	RouteDownRO                    // -CLUSTERDOWN ... only accepts read commands
	RouteUnbound                   // -CLUSTERDOWN Hash slot not served
	RouteMoved                     // -MOVED slot endpoint:port
	RouteAsk                       // -ASK slot endpoint:port
)

// Endpoint is a node's address as redirections report it.
type Endpoint struct {
	Name     string
	IP       string
	Hostname string
	Port     int
	PPort    int
}

// Routes is an immutable snapshot of what routing needs: slot owners,
// open slots, the cluster state and the relevant options.
type Routes struct {
	owner *[slot.Count]uint16 // 1+index into eps; 0 none (shared between snapshots: never written once built)
	// The open slots (usually none): slot -> 1+index into eps. Maps keep
	// the snapshot small, as it is rebuilt on every state change.
	migrating, importing       map[uint16]uint16
	eps                        []Endpoint
	myself, myMaster           uint16 // 1+index; myMaster 0 unless a replica
	ok                         bool
	allowReads, allowShardDown bool
	preferred                  string
}

// Routes builds the routing snapshot of the current state.
func (s *State) Routes() *Routes {
	r := &Routes{ok: s.ok, allowReads: s.Opts.AllowReadsWhenDown,
		allowShardDown: s.Opts.AllowPubsubShardDown, preferred: s.Opts.PreferredEndpoint}
	idx := map[*Node]uint16{}
	ref := func(n *Node) uint16 {
		if n == nil {
			return 0
		}
		if i, ok := idx[n]; ok {
			return i
		}
		r.eps = append(r.eps, Endpoint{Name: n.Name, IP: n.IP, Hostname: n.Hostname, Port: n.Port, PPort: n.PPort})
		i := uint16(len(r.eps))
		idx[n] = i
		return i
	}
	// Every CLUSTER command that changes the state rebuilds this (a
	// reshard: several per slot, and the bus's news of each), so the
	// loops stay cheap: the owner table is shared, or copied and patched
	// where owners changed, and built whole only after many changes
	// (owners come in long runs); only the open slots' bits are visited.
	if p := s.lastRoutes; p != nil && !s.ownerReset {
		// The last snapshot's nodes first, in its order: the same
		// indices, so its table holds but where owners changed.
		for _, n := range s.routeNodes {
			ref(n)
		}
		r.owner = p.owner
		if len(s.ownerMoved) > 0 {
			r.owner = new([slot.Count]uint16)
			*r.owner = *p.owner
			for _, j := range s.ownerMoved {
				r.owner[j] = ref(s.Owner[j])
			}
		}
	} else {
		var last *Node
		var lastIdx uint16
		owner := &s.ownerScratch
		for j := range slot.Count {
			if n := s.Owner[j]; n != last {
				last, lastIdx = n, ref(n)
			}
			owner[j] = lastIdx
		}
		if p != nil && *p.owner == *owner {
			r.owner = p.owner
		} else {
			r.owner = new([slot.Count]uint16)
			*r.owner = *owner
		}
	}
	r.myself = ref(s.Myself)
	if !s.Myself.IsMaster() {
		r.myMaster = ref(s.Myself.ReplicaOf)
	}
	for j := s.open.NextSet(0); j < slot.Count; j = s.open.NextSet(j + 1) {
		if n := s.migrating[j]; n != nil {
			if r.migrating == nil {
				r.migrating = map[uint16]uint16{}
			}
			r.migrating[uint16(j)] = ref(n)
		}
		if n := s.importing[j]; n != nil {
			if r.importing == nil {
				r.importing = map[uint16]uint16{}
			}
			r.importing[uint16(j)] = ref(n)
		}
	}
	s.lastRoutes, s.ownerMoved, s.ownerReset = r, s.ownerMoved[:0], false
	s.routeNodes = slices.Grow(s.routeNodes[:0], len(idx))[:len(idx)]
	for n, i := range idx {
		s.routeNodes[i-1] = n
	}
	return r
}

// OK reports cluster_state:ok as of the snapshot.
func (r *Routes) OK() bool { return r.ok }

// Owner returns the endpoint serving slot j, or nil.
func (r *Routes) Owner(j int) *Endpoint { return r.ep(r.owner[j]) }

// Open reports whether slot j is migrating or importing: where a key is
// served then depends on whether this node still has it.
func (r *Routes) Open(j int) bool {
	return len(r.migrating)+len(r.importing) > 0 && (r.migrating[uint16(j)] != 0 || r.importing[uint16(j)] != 0)
}

// Preferred returns the endpoint string to give clients for e.
func (r *Routes) Preferred(e *Endpoint) string {
	return PreferredEndpoint(r.preferred, e.IP, e.Hostname)
}

func (r *Routes) ep(i uint16) *Endpoint {
	if i == 0 {
		return nil
	}
	return &r.eps[i-1]
}

// RouteBlocked decides whether a client blocked on a key of slot j
// (BLPOP...) must be woken with a redirection because the slot moved,
// the cluster went down, or nobody serves it
// (clusterRedirectBlockedClientIfNeeded). readOnly is the client's
// READONLY flag, write whether its command writes.
func (r *Routes) RouteBlocked(j int, readOnly, write bool) (Redirect, *Endpoint) {
	if !r.ok {
		return RouteDown, nil
	}
	owner := r.owner[j]
	if readOnly && !write && r.myMaster != 0 && r.myMaster == owner {
		owner = r.myself
	}
	if owner == r.myself || r.importing[uint16(j)] != 0 {
		return RouteHere, nil
	}
	if owner == 0 {
		return RouteUnbound, nil
	}
	return RouteMoved, r.ep(owner)
}

// Query describes a command (or, for EXEC, a whole transaction) to route.
type Query struct {
	Keys [][]byte // every key (and shard channel), in order
	// Write: the command itself is a write (cmd->flags & CMD_WRITE; EXEC
	// is not). QueuedWrite: EXEC of a transaction holding a write.
	Write, QueuedWrite bool
	PubsubShard        bool // SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH
	Migrate            bool // MIGRATE works on open slots
	Asking             bool // the client sent ASKING, or the command has the asking flag
	ReadOnly           bool // the client sent READONLY
	// Missing counts, of keys (all in slot), those this node does not
	// have and those it has. Called only for a migrating or importing
	// slot.
	Missing func(slot int, keys [][]byte) (missing, existing int)
}

// Route decides where q must run (getNodeByQuery). It returns the
// redirection, the node to redirect to (MOVED, ASK) and the slot.
func (r *Routes) Route(q *Query) (Redirect, *Endpoint, int) {
	if len(q.Keys) == 0 {
		return RouteHere, nil, 0
	}
	first := q.Keys[0]
	j := slot.Of(first)
	multiple := false
	for _, k := range q.Keys[1:] {
		if string(k) == string(first) {
			continue
		}
		if slot.Of(k) != j {
			// An unassigned first slot is reported before a cross-slot.
			if r.owner[j] == 0 {
				return RouteUnbound, nil, j
			}
			return RouteCrossSlot, nil, j
		}
		multiple = true
	}
	owner := r.owner[j]
	if owner == 0 {
		return RouteUnbound, nil, j
	}
	migrating := owner == r.myself && r.migrating[uint16(j)] != 0
	importing := !migrating && r.importing[uint16(j)] != 0
	missing, existing := 0, 0
	if (migrating || importing) && !q.PubsubShard && q.Missing != nil {
		missing, existing = q.Missing(j, q.Keys)
	}
	if !r.ok {
		switch {
		case q.PubsubShard:
			if !r.allowShardDown {
				return RouteDown, nil, j
			}
		case !r.allowReads:
			return RouteDown, nil, j
		case q.Write:
			return RouteDownRO, nil, j
		}
	}
	if (migrating || importing) && q.Migrate {
		return RouteHere, nil, j
	}
	if migrating && missing > 0 {
		if existing > 0 {
			return RouteTryAgain, nil, j
		}
		return RouteAsk, r.ep(r.migrating[uint16(j)]), j
	}
	if importing && q.Asking {
		if multiple && missing > 0 {
			return RouteTryAgain, nil, j
		}
		return RouteHere, nil, j
	}
	write := q.Write || q.QueuedWrite
	if (q.ReadOnly || q.PubsubShard) && !write && r.myMaster != 0 && r.myMaster == owner {
		return RouteHere, nil, j
	}
	if owner != r.myself {
		return RouteMoved, r.ep(owner), j
	}
	return RouteHere, nil, j
}
