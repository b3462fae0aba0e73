package cluster

// Manual failover, CLUSTER FAILOVER [FORCE|TAKEOVER] (Redis 7.0
// cluster.c: the FAILOVER branch of clusterCommand, clusterSendMFStart,
// the MFSTART case and the PAUSED offset of clusterProcessPacket,
// clusterHandleManualFailover, manualFailoverCheckTimeout,
// resetManualFailover, clusterBumpConfigEpochWithoutConsensus).
//
// Default: the replica sends MFSTART to its master; the master pauses
// client writes (Ready.PauseWritesUntil) and pings the replica with the
// PAUSED flag and its offset; once the replica has processed that much
// of the stream it runs an election whose requests carry FORCEACK, so
// masters vote although its master is up. FORCE skips the master and
// elects at once. TAKEOVER elects nobody: it takes a new configEpoch
// without consensus and the slots. Either side gives up after
// MFTimeout.

import "errors"

// Manual failover timing (CLUSTER_MF_TIMEOUT, CLUSTER_MF_PAUSE_MULT).
const (
	MFTimeout   = 5000 // ms a manual failover may take
	mfPauseMult = 2    // the master pauses writes for MFTimeout * this
)

// ManualMode is the mode of CLUSTER FAILOVER.
type ManualMode uint8

const (
	ManualDefault  ManualMode = iota // agree on the offset with the master, then elect
	ManualForce                      // elect at once, without the master
	ManualTakeover                   // no election: bump the epoch, take the slots
)

// manualFailover is the state of a manual failover on either side
// (clusterState's mf_* fields).
type manualFailover struct {
	end      int64 // ms when it is abandoned; 0: none in progress
	canStart bool  // replica: the election may start
	replica  *Node // master: the replica that asked (mf_slave)
	// paused: master, the driver reported the write pause in force
	// (WritesPaused): only then do our PINGs carry MFlagPaused and an
	// offset the replica may wait for.
	paused bool
	// offset is, on the replica, the master's offset once it paused.
	offset    uint64
	offsetSet bool
}

// Log texts.
const (
	logMFAccepted  = "Manual failover user request accepted."
	logMFForced    = "Forced failover user request accepted."
	logMFTakeover  = "Taking over the master (user request)."
	logMFRequested = "Manual failover requested by replica %.40s."
	logMFOffset    = "Received replication offset for paused master manual failover: %d"
	logMFCanStart  = "All master replication stream processed, manual failover can start."
	logMFTimedOut  = "Manual failover timed out."
	logNewEpoch    = "New configEpoch set to %d"
)

// StartManualFailover is CLUSTER FAILOVER [FORCE|TAKEOVER] on myself, a
// replica. The error is Redis's reply.
func (g *Membership) StartManualFailover(mode ManualMode, now int64) error {
	s := g.S
	me := s.Myself
	master := me.ReplicaOf
	force := mode != ManualDefault
	switch {
	case me.IsMaster():
		return errors.New("ERR You should send CLUSTER FAILOVER to a replica")
	case master == nil:
		return errors.New("ERR I'm a replica but my master is unknown to me")
	case !force && (master.Flags&FlagFail != 0 || !g.Linked(master)):
		return errors.New("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE")
	}
	s.resetManualFailover()
	s.mf.end = now + MFTimeout
	switch mode {
	case ManualTakeover:
		g.logf(logMFTakeover)
		if s.BumpEpoch() {
			g.logf(logNewEpoch, me.ConfigEpoch)
		}
		g.replaceMaster()
	case ManualForce:
		g.logf(logMFForced)
		s.mf.canStart = true
	default:
		g.logf(logMFAccepted)
		g.send(master, 0, g.header(MsgMFStart))
	}
	return nil
}

// stepMFStart: a replica of ours asks for a manual failover. We pause
// client writes for twice the timeout and ping it with our offset.
func (g *Membership) stepMFStart(l Link, sender *Node, now int64) {
	s := g.S
	if sender == nil || sender.ReplicaOf != s.Myself {
		return
	}
	s.resetManualFailover()
	s.mf.end = now + MFTimeout
	s.mf.replica = sender
	s.todo &^= TodoUnpauseWrites
	s.pauseUntil = now + MFTimeout*mfPauseMult
	g.logf(logMFRequested, sender.Name)
}

// WritesPaused is the driver's answer to Ready.PauseWritesUntil: client
// writes are paused and none is still in flight, so Myself.ReplOffset
// (which the driver set just before) is final until the pause ends. Only
// now does the master tell its replica the offset to reach (a PING with
// MFlagPaused): Redis pauses inside its single-threaded event loop and
// can send it at once; a server whose writes run in parallel must first
// let the writes already past the pause check finish.
func (g *Membership) WritesPaused(now int64) {
	s := g.S
	if s.mf.end == 0 || s.mf.replica == nil || !s.Myself.IsMaster() {
		return
	}
	s.mf.paused = true
	if g.Linked(s.mf.replica) {
		g.sendPing(s.mf.replica, 0, MsgPing, now)
	}
}

// pausedOffset records the offset a paused master sends during our
// manual failover (the header part of clusterProcessPacket).
func (g *Membership) pausedOffset(m *Msg, sender *Node) {
	s := g.S
	if s.mf.end == 0 || !s.IsReplica() || s.Myself.ReplicaOf != sender ||
		m.MFlags[0]&MFlagPaused == 0 || s.mf.offsetSet {
		return
	}
	s.mf.offset, s.mf.offsetSet = sender.ReplOffset, true
	g.handleManual = true
	g.logf(logMFOffset, s.mf.offset)
}

// handleManualFailover is clusterHandleManualFailover: once we have
// processed the paused master's whole stream, the election may start.
// Our offset is Myself.ReplOffset, which the driver keeps current.
func (g *Membership) handleManualFailover(now int64) {
	s := g.S
	if s.mf.end == 0 || s.mf.canStart || !s.mf.offsetSet {
		return
	}
	if s.mf.offset == s.Myself.ReplOffset {
		s.mf.canStart = true
		g.logf(logMFCanStart)
		g.handleFailover = true
	}
}

// manualFailoverCheckTimeout abandons a manual failover past its end.
func (g *Membership) manualFailoverCheckTimeout(now int64) {
	if s := g.S; s.mf.end != 0 && s.mf.end < now {
		g.logf(logMFTimedOut)
		s.resetManualFailover()
	}
}

// resetManualFailover ends a manual failover on either side; a master
// that paused writes for it lets them go (Ready.UnpauseWrites).
func (s *State) resetManualFailover() {
	if s.mf.replica != nil {
		s.pauseUntil = 0
		s.Do(TodoUnpauseWrites)
	}
	s.mf = manualFailover{}
}

// ManualFailoverInProgress reports whether a manual failover runs, on
// either side, and when it will be abandoned.
func (s *State) ManualFailoverInProgress() (bool, int64) {
	return s.mf.end != 0, s.mf.end
}
