package replication

// REPLCONF on the master side. Mirrors Redis 7.0's replconfCommand
// (replication.c), with the "fack" of Redis 7.2's REPLCONF ACK.

import (
	"strconv"
	"strings"
)

// Capa is a replica's capabilities (SLAVE_CAPA_*).
type Capa uint8

const (
	CapaEOF    Capa = 1 << iota // reads a diskless transfer's $EOF:<mark> framing
	CapaPSYNC2                  // understands +CONTINUE <new replid>
)

// Replies to REPLCONF (Redis's exact text).
const (
	ReplyOK         = "+OK"
	ReplySyntax     = "-ERR syntax error"
	ReplyRange01    = "-ERR value is out of range, value must between 0 and 1"
	replyIPTooLong  = "-ERR REPLCONF ip-address provided by replica instance is too long: "
	replyUnknownOpt = "-ERR Unrecognized REPLCONF option: "
	replyBadFilter  = "-ERR Unsupported rdb-filter-only option: "
)

// maxHostLen is NET_HOST_STR_LEN: an ip-address must be shorter.
const maxHostLen = 256

// ReplConf is what one REPLCONF said. Options are applied in order, as
// Redis applies them to the client: on an error, the fields parsed before
// it are set and the driver applies them too.
type ReplConf struct {
	Port       int64  // listening-port
	HasPort    bool   // listening-port was given
	IP         string // ip-address (replica-announce-ip)
	HasIP      bool
	Capa       Capa // capa eof / psync2 (others ignored), added to the client's
	RDBOnly    int  // rdb-only: 0 or 1; -1 not given
	FilterOnly bool // rdb-filter-only given: the RDB holds functions only if FilterFunctions, else nothing
	Functions  bool // rdb-filter-only includes "functions"

	// Ack: REPLCONF ACK <offset> [FACK <aofoffset>] from a replica. No
	// reply. Options after it are not read.
	Ack        bool
	AckOffset  int64
	FAck       bool
	FAckOffset int64
	// GetAck: REPLCONF GETACK from our master: send an ACK now. No reply.
	GetAck bool
}

// ParseREPLCONF reads REPLCONF's arguments (without the command name).
// isReplica: the client is a replica of ours (ACK is ignored from other
// clients). reply is the line to send ("+OK" or an error), or "" for ACK
// and GETACK, which get no reply (nor does a malformed ACK).
func ParseREPLCONF(args [][]byte, isReplica bool) (rc ReplConf, reply string) {
	rc.RDBOnly = -1
	if len(args)%2 != 0 {
		return rc, ReplySyntax
	}
	for j := 0; j < len(args); j += 2 {
		opt, val := strings.ToLower(string(args[j])), string(args[j+1])
		switch opt {
		case "listening-port":
			port, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return rc, ReplyNotInteger
			}
			rc.Port, rc.HasPort = port, true
		case "ip-address":
			if len(val) >= maxHostLen {
				return rc, replyIPTooLong + strconv.Itoa(len(val)) + " bytes"
			}
			rc.IP, rc.HasIP = val, true
		case "capa":
			rc.Capa |= parseCapa(val)
		case "ack":
			return parseAck(rc, args[j+1:], isReplica), ""
		case "getack":
			rc.GetAck = true
			return rc, ""
		case "rdb-only":
			v, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return rc, ReplyNotInteger
			} else if v < 0 || v > 1 {
				return rc, ReplyRange01
			}
			rc.RDBOnly = int(v)
		case "rdb-filter-only":
			if reply := parseFilter(&rc, val); reply != "" {
				return rc, reply
			}
		default:
			return rc, replyUnknownOpt + string(args[j])
		}
	}
	return rc, ReplyOK
}

func parseCapa(v string) Capa {
	switch strings.ToLower(v) {
	case "eof":
		return CapaEOF
	case "psync2":
		return CapaPSYNC2
	}
	return 0
}

// parseAck reads "<offset> [fack <aofoffset>]". A malformed offset or a
// client that is not a replica leaves Ack false.
func parseAck(rc ReplConf, rest [][]byte, isReplica bool) ReplConf {
	if !isReplica {
		return rc
	}
	off, err := strconv.ParseInt(string(rest[0]), 10, 64)
	if err != nil {
		return rc
	}
	rc.Ack, rc.AckOffset = true, off
	if len(rest) >= 3 && strings.EqualFold(string(rest[1]), "fack") {
		if f, err := strconv.ParseInt(string(rest[2]), 10, 64); err == nil {
			rc.FAck, rc.FAckOffset = true, f
		}
	}
	return rc
}

// parseFilter reads rdb-filter-only's space separated filters: only
// "functions" is known; "" asks for an empty RDB.
func parseFilter(rc *ReplConf, val string) string {
	rc.FilterOnly = true
	for _, f := range strings.Fields(val) {
		if !strings.EqualFold(f, "functions") {
			return replyBadFilter + f
		}
		rc.Functions = true
	}
	return ""
}
