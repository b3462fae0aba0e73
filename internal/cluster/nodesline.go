package cluster

import (
	"strconv"

	"redgo/internal/slot"
)

// SlotMigration is a slot in the middle of a move: being migrated to
// Node (CLUSTER SETSLOT MIGRATING), or imported from it (IMPORTING).
type SlotMigration struct {
	Slot      int
	Node      string // name of the other node
	Importing bool
}

// The flag names of CLUSTER NODES, in Redis's order.
var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagMyself, "myself"},
	{FlagMaster, "master"},
	{FlagSlave, "slave"},
	{FlagPFail, "fail?"},
	{FlagFail, "fail"},
	{FlagHandshake, "handshake"},
	{FlagNoAddr, "noaddr"},
	{FlagNoFailover, "nofailover"},
}

// AppendFlags appends the flags as CLUSTER NODES shows them: the names
// joined by commas in the order myself, master, slave, fail?, fail,
// handshake, noaddr, nofailover; "noflags" if none of these is set.
// (MEET, MIGRATE_TO and EXTENSIONS are never shown.)
func AppendFlags(dst []byte, f Flags) []byte {
	n := len(dst)
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = append(dst, fn.name...)
		}
	}
	if len(dst) == n {
		dst = append(dst, "noflags"...)
	}
	return dst
}

// AppendNodeLine appends n's line of CLUSTER NODES, without the newline,
// as Redis 7.0's clusterGenNodeDescription writes it:
//
//	<id> <ip>:<port>@<cport>[,<hostname>] <flags> <master|-> <ping-sent> <pong-recv> <config-epoch> <connected|disconnected> [<slot>|<start>-<end>]... [[<slot>->-<id>]|[<slot>-<-<id>]]...
//
// usePPort shows the plaintext port instead of the TLS one when the node
// has one (a plaintext client in a TLS cluster). A replica shows its
// master's configEpoch. The migration markers are written only when n is
// myself, in the order given, which should be Redis's: ascending slots,
// and of two entries for one slot only the first is shown (Redis shows
// migrating over importing).
func AppendNodeLine(dst []byte, n *Node, usePPort bool, migrations []SlotMigration) []byte {
	dst = append(dst, n.Name...)
	dst = append(dst, ' ')
	dst = append(dst, n.IP...)
	dst = append(dst, ':')
	port := n.Port
	if usePPort && n.PPort != 0 {
		port = n.PPort
	}
	dst = strconv.AppendInt(dst, int64(port), 10)
	dst = append(dst, '@')
	dst = strconv.AppendInt(dst, int64(n.CPort), 10)
	if n.Hostname != "" {
		dst = append(dst, ',')
		dst = append(dst, n.Hostname...)
	}
	dst = append(dst, ' ')
	dst = AppendFlags(dst, n.Flags)
	dst = append(dst, ' ')
	if n.ReplicaOf != nil {
		dst = append(dst, n.ReplicaOf.Name...)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, n.PingSent, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, n.PongReceived, 10)
	dst = append(dst, ' ')
	epoch := n.ConfigEpoch
	if n.Flags&FlagSlave != 0 && n.ReplicaOf != nil {
		epoch = n.ReplicaOf.ConfigEpoch
	}
	dst = strconv.AppendUint(dst, epoch, 10)
	if n.Linked || n.Flags&FlagMyself != 0 {
		dst = append(dst, " connected"...)
	} else {
		dst = append(dst, " disconnected"...)
	}
	dst = AppendSlotRanges(dst, &n.Slots)
	if n.Flags&FlagMyself != 0 {
		seen := -1
		for _, m := range migrations {
			if m.Slot == seen {
				continue // Redis shows migrating, else importing
			}
			seen = m.Slot
			dst = append(dst, " ["...)
			dst = strconv.AppendInt(dst, int64(m.Slot), 10)
			if m.Importing {
				dst = append(dst, "-<-"...)
			} else {
				dst = append(dst, "->-"...)
			}
			dst = append(dst, m.Node...)
			dst = append(dst, ']')
		}
	}
	return dst
}

// AppendSlotRanges appends " <slot>" or " <start>-<end>" for each run of
// set slots, ascending.
func AppendSlotRanges(dst []byte, s *Slots) []byte {
	for i := s.NextSet(0); i < slot.Count; {
		j := s.NextClear(i) - 1
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(i), 10)
		if j > i {
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(j), 10)
		}
		i = s.NextSet(j + 1)
	}
	return dst
}
