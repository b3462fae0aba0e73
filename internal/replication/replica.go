package replication

// The replica side of the link to a master, as a state machine. Mirrors
// Redis 7.0's connectWithMaster, syncWithMaster,
// slaveTryPartialResynchronization, the header half of
// readSyncBulkPayload, cancelReplicationHandshake,
// replicationCacheMaster, replicationResurrectCachedMaster,
// replicationHandleMasterDisconnection, replicationSendAck and the
// replica half of replicationCron (replication.c).

import (
	"net"
	"strconv"
)

// State is the replica's link state (REPL_STATE_*).
type State int

const (
	StateNone              State = iota // not a replica
	StateConnect                        // must connect (the next Tick dials)
	StateConnecting                     // dialing
	StateReceivePingReply               // PING sent
	StateSendHandshake                  // (passed through at once)
	StateReceiveAuthReply               // AUTH, REPLCONFs sent
	StateReceivePortReply               // waiting for REPLCONF listening-port's reply
	StateReceiveIPReply                 // waiting for REPLCONF ip-address's reply
	StateReceiveCapaReply               // waiting for REPLCONF capa's reply
	StateSendPSYNC                      // (passed through at once)
	StateReceivePSYNCReply              // PSYNC sent
	StateTransfer                       // receiving the snapshot
	StateConnected                      // applying the stream
)

var stateNames = [...]string{"none", "connect", "connecting", "receive_ping_reply", "send_handshake",
	"receive_auth_reply", "receive_port_reply", "receive_ip_reply", "receive_capa_reply",
	"send_psync", "receive_psync_reply", "transfer", "connected"}

func (s State) String() string { return stateNames[s] }

// handshake reports whether s is a handshake state (slaveIsInHandshakeState).
func (s State) handshake() bool { return s >= StateReceivePingReply && s <= StateReceivePSYNCReply }

// Log lines of the replica (Redis's exact text; "# " marks a warning).
// Lines with arguments are built where they are logged.
const (
	LogSyncStarted       = "MASTER <-> REPLICA sync started"
	LogConnectFired      = "Non blocking connect for SYNC fired the event."
	LogPingOK            = "Master replied to PING, replication can continue..."
	LogNoCachedMaster    = "Partial resynchronization not possible (no cached master)"
	LogPartialOK         = "Successful partial resynchronization with master."
	LogPartialAccepted   = "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."
	LogRetrySYNC         = "Retrying with SYNC..."
	LogBadFullResync     = "# Master replied with wrong +FULLRESYNC syntax."
	LogNoResponse        = "# Master did not respond to command during SYNC handshake"
	LogNoPSYNCReply      = "# Master did not reply to PSYNC, will try later"
	LogFlushing          = "MASTER <-> REPLICA sync: Flushing old data"     // the driver's, before loading
	LogLoading           = "MASTER <-> REPLICA sync: Loading DB in memory"  // the driver's, before loading
	LogSyncDone          = "MASTER <-> REPLICA sync: Finished with success" // after loading
	LogConnectionLost    = "# Connection with master lost."
	LogCaching           = "Caching the disconnected master state."
	LogDiscardCached     = "Discarding previously cached master state."
	LogTimeoutConnecting = "# Timeout connecting to the MASTER..."
	LogTimeoutTransfer   = "# Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
	LogTimeoutMaster     = "# MASTER timeout: no data nor PING received..."
	LogCachedMyself      = "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer."
)

// ReplicaConfig is what the handshake sends and how long it waits.
type ReplicaConfig struct {
	Host       string // the master (replicaof)
	Port       int
	MasterUser string // masteruser: AUTH <user> <pass> when set
	MasterAuth string // masterauth: AUTH is sent when set
	// ListeningPort is sent as REPLCONF listening-port:
	// replica-announce-port, else the port we listen on.
	ListeningPort int
	AnnounceIP    string // replica-announce-ip; "" sends no REPLCONF ip-address
	Timeout       int64  // repl-timeout, in milliseconds
	DisklessLoad  bool   // the driver loads the snapshot as it arrives (logs "to parser")
	SwapDB        bool   // repl-diskless-load swapdb: the snapshot is loaded aside (LoadAside, LoadAsync)
	// Failover: we are a master handing over to this replica (FAILOVER):
	// the first PSYNC carries FAILOVER, which makes it promote itself.
	Failover bool
}

// Master is a master's history as the replica knows it: the ID and the
// offset of the last byte applied (the master client's replid/reploff).
type Master struct {
	ReplID string
	Offset int64
}

// Replica is the replica's side of replication (the REPL_STATE_* machine).
// Pure: it owns no connection, reads no clock (times are Unix
// milliseconds passed in) and returns what to do as Actions. Not safe for
// concurrent use: the driver serializes calls. See the package doc for
// the driver's duties.
type Replica struct {
	load  LoadMode // how the snapshot being received is loaded
	cfg   ReplicaConfig
	ids   *IDs // the server's history, shared with its master side
	state State

	master  *Master // the master being applied (CONNECTED)
	cached  *Master // the master of a lost link, for PSYNC
	preSYNC bool    // the master did not take PSYNC: no ACKs
	// failoverSent: the PSYNC awaiting its reply carried FAILOVER.
	failoverSent bool

	fullID     string // +FULLRESYNC's replid ("" if bad or SYNC)
	fullOffset int64  // +FULLRESYNC's offset (master_initial_offset); -1 unknown
	bulk       Bulk   // the transfer's framing, once announced
	bulkSeen   bool
	received   int64 // the transfer's bytes read (repl_transfer_read)

	lastIO    int64 // repl_transfer_lastio
	lastHeard int64 // the master client's lastinteraction
	downSince int64 // repl_down_since (0: never up, or up)
}

// NewReplica returns a replica of cfg's master in StateConnect: the first
// Tick dials. ids is the server's history, which the replica updates
// (after a full resync it is the master's; after a +CONTINUE with a new
// ID the old one becomes the secondary).
func NewReplica(cfg ReplicaConfig, ids *IDs) *Replica {
	return &Replica{cfg: cfg, ids: ids, state: StateConnect, fullOffset: -1}
}

// CacheMyself is replicationCacheMasterUsingMyself: a former master (its
// stream ending at offset) keeps its own history as the cached master, to
// PSYNC with the replica that took its place.
func (r *Replica) CacheMyself(offset int64) []Action {
	r.cached = &Master{ReplID: r.ids.ID, Offset: offset}
	return []Action{logAct(LogCachedMyself)}
}

// State returns the link state.
func (r *Replica) State() State { return r.state }

// Master returns the master being applied, if connected.
func (r *Replica) Master() (Master, bool) {
	if r.master == nil {
		return Master{}, false
	}
	return *r.master, true
}

// Cached returns the cached master, if any.
func (r *Replica) Cached() (Master, bool) {
	if r.cached == nil {
		return Master{}, false
	}
	return *r.cached, true
}

// DownSince returns when the link went down (0: never up, or up).
func (r *Replica) DownSince() int64 { return r.downSince }

// LastInteraction returns when the master was last heard from.
func (r *Replica) LastInteraction() int64 { return r.lastHeard }

func (r *Replica) addr() string { return net.JoinHostPort(r.cfg.Host, strconv.Itoa(r.cfg.Port)) }

// SetAuth changes the credentials the next handshake sends (masterauth,
// masteruser).
func (r *Replica) SetAuth(auth, user string) { r.cfg.MasterAuth, r.cfg.MasterUser = auth, user }

func (r *Replica) masterName() string { return r.cfg.Host + ":" + strconv.Itoa(r.cfg.Port) }

// connect is connectWithMaster.
func (r *Replica) connect(now int64) []Action {
	r.lastIO = now
	r.state = StateConnecting
	return []Action{{Kind: ActDial, Addr: r.addr()}, logAct(LogSyncStarted)}
}

// fail is the error path of syncWithMaster: close, and let the next Tick
// reconnect.
func (r *Replica) fail(acts ...Action) []Action {
	r.state = StateConnect
	r.bulkSeen = false
	return append(acts, Action{Kind: ActClose})
}

// cancel is cancelReplicationHandshake(1): close and reconnect at once.
func (r *Replica) cancel(now int64, acts ...Action) []Action {
	acts = r.fail(acts...)
	acts = append(acts, logAct("Reconnecting to MASTER "+r.masterName()+" after failure"))
	return append(acts, r.connect(now)...)
}
