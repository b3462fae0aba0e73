package cluster

// Cluster bus messages as Go values. internal/clusterbus encodes them in
// Redis 7.0's wire format (clusterMsg, "RCmb"); this file only describes
// what they carry. Names are the raw 40-byte node names; an all-zero name
// on the wire is "" here.

// MsgType is the type of a bus message (clusterMsg.type).
type MsgType uint16

const (
	MsgPing                MsgType = 0  // liveness probe with gossip
	MsgPong                MsgType = 1  // reply to PING and MEET, same layout
	MsgMeet                MsgType = 2  // PING that makes the receiver add the sender
	MsgFail                MsgType = 3  // Fail.About is failing
	MsgPublish             MsgType = 4  // PUBLISH propagated to every node
	MsgFailoverAuthRequest MsgType = 5  // a replica asks masters for a vote
	MsgFailoverAuthAck     MsgType = 6  // a master grants its vote
	MsgUpdate              MsgType = 7  // Update carries a newer slot config
	MsgMFStart             MsgType = 8  // a replica asks its master to pause for a manual failover
	MsgModule              MsgType = 9  // module message (received and ignored)
	MsgPublishShard        MsgType = 10 // SPUBLISH propagated within one shard

	// MsgTypeCount is the number of message types (CLUSTERMSG_TYPE_COUNT).
	MsgTypeCount = 11
)

var msgTypeNames = [MsgTypeCount]string{
	"ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack",
	"update", "mfstart", "module", "publishshard",
}

// String returns the name Redis uses in CLUSTER INFO's
// cluster_stats_messages_<name>_sent/received.
func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return "unknown"
}

// Message flags, byte 0 of clusterMsg.mflags.
const (
	MFlagPaused   = 1 << 0 // master paused for a manual failover
	MFlagForceAck = 1 << 1 // vote even though the master is up (manual failover)
	MFlagExtData  = 1 << 2 // PING/PONG/MEET carries ping extensions
)

// Cluster state as sent in clusterMsg.state.
const (
	StateOK   = 0
	StateFail = 1
)

// Msg is one cluster bus message. The header fields describe the sender
// and are present in every type; at most one of the type-specific parts
// is used, chosen by Type:
//
//	PING, PONG, MEET          Gossip, Exts
//	FAIL                      Fail
//	PUBLISH, PUBLISHSHARD     Publish
//	UPDATE                    Update
//	MODULE                    Module
//	FAILOVER_AUTH_REQUEST,
//	FAILOVER_AUTH_ACK,
//	MFSTART                   header only
type Msg struct {
	Type MsgType

	Port         int    // sender's client port (the TLS port when TLS is on)
	PPort        int    // sender's plaintext port when TLS is on, else 0
	CPort        int    // sender's cluster bus port
	CurrentEpoch uint64 // sender's currentEpoch
	// ConfigEpoch is the sender's configEpoch, or its master's for a replica.
	ConfigEpoch uint64
	// Offset is the replication offset (master_repl_offset of a master,
	// processed offset of a replica).
	Offset uint64
	Sender string // sender's name
	// Slots are the slots the sender claims: its own, or its master's for
	// a replica.
	Slots     Slots
	ReplicaOf string // the sender's master, "" for a master
	// IP is the announced IP (cluster-announce-ip); "" means the receiver
	// uses the address the link comes from.
	IP     string
	Flags  Flags   // sender's node flags
	State  uint8   // StateOK or StateFail as the sender sees the cluster
	MFlags [3]byte // MFlag* in byte 0; bytes 1 and 2 are unused by Redis 7.0

	Gossip []Gossip  // PING, PONG, MEET: what the sender knows about other nodes
	Exts   []PingExt // PING, PONG, MEET: extensions, in wire order

	Fail    *Fail    // FAIL
	Publish *Publish // PUBLISH, PUBLISHSHARD
	Update  *Update  // UPDATE
	Module  *Module  // MODULE
}

// IsPing reports whether the message has the PING layout (PING, PONG, MEET).
func (m *Msg) IsPing() bool {
	return m.Type == MsgPing || m.Type == MsgPong || m.Type == MsgMeet
}

// Ext returns the first extension of type t.
func (m *Msg) Ext(t ExtType) (PingExt, bool) {
	for _, e := range m.Exts {
		if e.Type == t {
			return e, true
		}
	}
	return PingExt{}, false
}

// Gossip is one gossip entry (clusterMsgDataGossip): the sender's view
// of another node.
type Gossip struct {
	Name string
	// PingSent and PongReceived are Unix times in seconds as the sender
	// has them for that node (0: no ping pending / never).
	PingSent     uint32
	PongReceived uint32
	IP           string
	Port         int // client port
	CPort        int // cluster bus port
	PPort        int // plaintext port when TLS is on
	Flags        Flags
}

// Fail is the body of FAIL: the node the sender marked as failing.
type Fail struct {
	About string
}

// Publish is the body of PUBLISH and PUBLISHSHARD.
type Publish struct {
	Channel []byte
	Message []byte
}

// Update is the body of UPDATE: the slot configuration of Node at
// ConfigEpoch, sent to a node that advertises stale slots.
type Update struct {
	ConfigEpoch uint64
	Node        string
	Slots       Slots
}

// Module is the body of MODULE.
type Module struct {
	ModuleID uint64
	Type     uint8
	Data     []byte
}

// ExtType is the type of a ping extension (clusterMsgPingExt.type).
// Redis 7.0 sends and understands only ExtHostname; it logs and skips
// the others. The numbers of the others are those of Redis 7.2 and later.
type ExtType uint16

const (
	ExtHostname      ExtType = 0 // cluster-announce-hostname
	ExtHumanNodename ExtType = 1 // cluster-announce-human-nodename (7.2+)
	ExtForgottenNode ExtType = 2 // a node removed by CLUSTER FORGET, with its ban TTL (7.2+)
	ExtShardID       ExtType = 3 // the sender's shard ID (7.2+)
)

// PingExt is one ping extension.
type PingExt struct {
	Type ExtType
	// Value is the hostname (ExtHostname), the human node name
	// (ExtHumanNodename), the forgotten node's name (ExtForgottenNode) or
	// the shard ID (ExtShardID).
	Value string
	// TTL is the seconds left of a forgotten node's ban (ExtForgottenNode).
	TTL uint64
	// Data is the body of an extension of another type, padding included.
	Data []byte
}

// HostnameExt returns a HOSTNAME extension.
func HostnameExt(h string) PingExt { return PingExt{Type: ExtHostname, Value: h} }

// HumanNodenameExt returns a HUMAN_NODENAME extension.
func HumanNodenameExt(s string) PingExt { return PingExt{Type: ExtHumanNodename, Value: s} }

// ForgottenNodeExt returns a FORGOTTEN_NODE extension.
func ForgottenNodeExt(name string, ttl uint64) PingExt {
	return PingExt{Type: ExtForgottenNode, Value: name, TTL: ttl}
}

// ShardIDExt returns a SHARDID extension.
func ShardIDExt(id string) PingExt { return PingExt{Type: ExtShardID, Value: id} }
