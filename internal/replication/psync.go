package replication

// The master's answer to PSYNC. Mirrors Redis 7.0's syncCommand (the
// PSYNC argument and refusals), masterTryPartialResynchronization,
// replicationSetupSlaveForFullResync (the +FULLRESYNC line) and
// addReplyReplicationBacklog (what a partial resync sends).

import (
	"net"
	"strconv"
	"strings"
)

// Replies and errors of SYNC and PSYNC (Redis's exact text).
const (
	// ReplyNotInteger is the reply to a PSYNC offset that is not a number
	// (getLongLongFromObjectOrReply).
	ReplyNotInteger = "-ERR value is not an integer or out of range"
	// ReplyNoMasterLink: a replica whose own link is not up refuses SYNC.
	ReplyNoMasterLink = "-NOMASTERLINK Can't SYNC while not connected with my master"
	// ReplyFailingOver: a master failing over refuses SYNC.
	ReplyFailingOver = "-NOMASTERLINK Can't SYNC while failing over"
	// ReplyPendingOutput: SYNC sent by a client with replies not yet sent.
	ReplyPendingOutput = "-ERR SYNC and PSYNC are invalid with pending output"
)

// PSYNC is one PSYNC request: the replica's history (ID "?" and offset -1
// to ask for a full resynchronization) and its capabilities.
type PSYNC struct {
	ReplID  string // the replication ID the replica follows, or "?"
	Offset  int64  // the first byte it lacks: its offset + 1
	Capa    Capa   // from REPLCONF capa
	Replica string // its name in log lines: "ip:port" (replicationGetSlaveName)
}

// ParsePSYNC reads PSYNC <replid> <offset> (args without the command
// name). On a bad offset it returns the error reply and Redis's log line.
func ParsePSYNC(args [][]byte, replica string) (p PSYNC, reply, logLine string) {
	if len(args) < 2 {
		return p, "-ERR wrong number of arguments for 'psync' command", ""
	}
	off, err := strconv.ParseInt(string(args[1]), 10, 64)
	if err != nil {
		return p, ReplyNotInteger, "# Replica " + replica + " asks for synchronization but with a wrong offset"
	}
	return PSYNC{ReplID: string(args[0]), Offset: off, Replica: replica}, "", ""
}

// Decision is the master's answer to a PSYNC.
type Decision struct {
	// Continue: a partial resynchronization. Reply is then the line to
	// send ("+CONTINUE <replid>\r\n", or "+CONTINUE\r\n" for a replica
	// without capa psync2), followed by the backlog after offset From
	// (Len bytes at the time of the decision) and the stream after it.
	// Otherwise the driver starts a full resynchronization: at the
	// snapshot's instant it sends FullResyncReply(ids.ID,
	// backlog.MarkFullSync()).
	Continue bool
	Reply    string
	From     int64
	Len      int64
	// PartialErr: a refusal that counts in sync_partial_err (the replica
	// did not ask for a full resync with "?").
	PartialErr bool
	Log        []string // Redis's log lines; "# " marks a warning
}

// Decide is masterTryPartialResynchronization: can the replica continue
// from p.Offset with our history ids and backlog bl (hasBacklog false:
// none exists)?
func Decide(ids IDs, bl BacklogInfo, hasBacklog bool, p PSYNC) Decision {
	idOK := strings.EqualFold(p.ReplID, ids.ID) ||
		strings.EqualFold(p.ReplID, ids.ID2) && p.Offset <= ids.SecondOffset
	if !idOK {
		return Decision{PartialErr: !strings.HasPrefix(p.ReplID, "?"), Log: []string{idRefusal(ids, p)}}
	}
	if !hasBacklog || p.Offset < bl.FirstByte || p.Offset > bl.FirstByte+bl.HistLen {
		d := Decision{PartialErr: !strings.HasPrefix(p.ReplID, "?"), Log: []string{"Unable to partial resync with replica " + p.Replica +
			" for lack of backlog (Replica request was: " + itoa(p.Offset) + ")."}}
		if p.Offset > bl.Offset {
			d.Log = append(d.Log, "# Warning: replica "+p.Replica+
				" tried to PSYNC with an offset that is greater than the master replication offset.")
		}
		return d
	}
	d := Decision{Continue: true, Reply: "+CONTINUE\r\n", From: p.Offset - 1, Len: bl.Offset + 1 - p.Offset}
	if p.Capa&CapaPSYNC2 != 0 {
		d.Reply = "+CONTINUE " + ids.ID + "\r\n"
	}
	d.Log = []string{"Partial resynchronization request from " + p.Replica + " accepted. Sending " +
		itoa(d.Len) + " bytes of backlog starting from offset " + itoa(p.Offset) + "."}
	return d
}

// idRefusal is the log line of a PSYNC whose history is not ours.
func idRefusal(ids IDs, p PSYNC) string {
	switch {
	case strings.HasPrefix(p.ReplID, "?"):
		return "Full resync requested by replica " + p.Replica
	case !strings.EqualFold(p.ReplID, ids.ID) && !strings.EqualFold(p.ReplID, ids.ID2):
		return "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '" +
			p.ReplID + "', my replication IDs are '" + ids.ID + "' and '" + ids.ID2 + "')"
	default:
		return "Partial resynchronization not accepted: Requested offset for second ID was " +
			itoa(p.Offset) + ", but I can reply up to " + itoa(ids.SecondOffset)
	}
}

// FullResyncReply is the line that starts a full resynchronization: the
// history the snapshot belongs to and the offset it covers.
func FullResyncReply(replid string, offset int64) string {
	return "+FULLRESYNC " + replid + " " + itoa(offset) + "\r\n"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ReplicaName is how log lines name a replica (replicationGetSlaveName):
// its REPLCONF ip-address, else the connection's peer IP, with its
// REPLCONF listening-port.
func ReplicaName(peerIP, announcedIP string, port int64) string {
	ip := peerIP
	if announcedIP != "" {
		ip = announcedIP
	}
	if port == 0 {
		return ip + ":<unknown-replica-port>"
	}
	return net.JoinHostPort(ip, strconv.FormatInt(port, 10))
}
