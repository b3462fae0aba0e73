// Package cluster is the Redis Cluster state machine of one node: the
// nodes it knows, slot ownership, epochs, failure reports, elections. It
// is pure: no sockets, no clocks, no goroutines. Messages and ticks (with
// the current time passed in) go in; one Ready (ready.go) comes out:
// nodes.conf to save, messages to send, effects to apply, in that order.
// internal/clusterbus drives it over TCP; tests drive it over an
// in-memory network.
package cluster

import (
	"encoding/binary"
	"math/bits"

	"redgo/internal/slot"
)

// NameLen is the length of a node ID (40 hex characters).
const NameLen = 40

// Flags of a node, as on the bus (clusterMsg.flags, gossip flags) and in
// CLUSTER NODES.
type Flags uint16

const (
	FlagMaster     Flags = 1 << 0
	FlagSlave      Flags = 1 << 1
	FlagPFail      Flags = 1 << 2
	FlagFail       Flags = 1 << 3
	FlagMyself     Flags = 1 << 4
	FlagHandshake  Flags = 1 << 5
	FlagNoAddr     Flags = 1 << 6
	FlagMeet       Flags = 1 << 7
	FlagMigrateTo  Flags = 1 << 8
	FlagNoFailover Flags = 1 << 9
	FlagExtensions Flags = 1 << 10 // CLUSTER_NODE_EXTENSIONS_SUPPORTED
)

// Slots is a bitmap of the 16384 hash slots (same bit order as Redis's
// myslots: slot s is bit s%8 of byte s/8).
type Slots [slot.Count / 8]byte

func (b *Slots) Has(s int) bool { return b[s>>3]&(1<<(s&7)) != 0 }
func (b *Slots) Set(s int)      { b[s>>3] |= 1 << (s & 7) }
func (b *Slots) Clear(s int)    { b[s>>3] &^= 1 << (s & 7) }

// word returns slots 64w..64w+63, slot 64w+k as bit k.
func (b *Slots) word(w int) uint64 { return binary.LittleEndian.Uint64(b[w*8:]) }

// Count returns the number of slots set.
func (b *Slots) Count() int {
	n := 0
	for w := range len(b) / 8 {
		n += bits.OnesCount64(b.word(w))
	}
	return n
}

// NextSet returns the first slot from i on that is set, slot.Count if
// none is.
func (b *Slots) NextSet(i int) int {
	for i < slot.Count {
		if w := b.word(i>>6) >> (i & 63); w != 0 {
			return i + bits.TrailingZeros64(w)
		}
		i = (i>>6 + 1) << 6
	}
	return slot.Count
}

// NextClear returns the first slot from i on that is not set, slot.Count
// if every one is.
func (b *Slots) NextClear(i int) int {
	for i < slot.Count {
		// The zeros shifted in at the top are not clear slots: the next
		// round reads the next word.
		if w := ^b.word(i>>6) >> (i & 63); w != 0 {
			return i + bits.TrailingZeros64(w)
		}
		i = (i>>6 + 1) << 6
	}
	return slot.Count
}

// Node is what this node knows about one cluster node (itself included).
type Node struct {
	Name        string // 40 hex chars
	Flags       Flags
	ConfigEpoch uint64
	Slots       Slots
	ReplicaOf   *Node   // master, for a replica
	Replicas    []*Node // for a master
	IP          string
	Port        int // client port (TCP; the TLS port when TLS is on)
	PPort       int // plaintext client port when TLS is on, else 0
	CPort       int // cluster bus port
	Hostname    string
	HumanName   string
	ShardID     string // 40 hex chars

	CreatedAt    int64 // ms
	PingSent     int64 // ms; 0 when no ping is pending
	PongReceived int64 // ms
	DataReceived int64 // ms
	FailTime     int64 // ms, when FAIL was set
	VotedTime    int64 // ms, last time we voted for a replica of this master
	ReplOffset   uint64
	OrphanedTime int64

	// FailReports: who (by name) reports this node as failing, and when.
	FailReports map[string]int64
	// Linked is set by the transport while a bus link to the node is up.
	Linked bool
	// RefusedSince: ms, when dialing the node was first refused since it
	// was last heard from (LinkRefused); 0 otherwise.
	RefusedSince int64
}

// IsMaster reports whether the node is a master.
func (n *Node) IsMaster() bool { return n.Flags&FlagMaster != 0 }

// Failing reports FAIL or PFAIL.
func (n *Node) Failing() bool { return n.Flags&(FlagFail|FlagPFail) != 0 }
