package cluster

// The replica's side of a failover (Redis 7.0 cluster.c:
// clusterHandleSlaveFailover, clusterGetSlaveRank, clusterLogCantFailover,
// clusterRequestFailoverAuth, the FAILOVER_AUTH_ACK case of
// clusterProcessPacket, clusterFailoverReplaceYourMaster). A replica whose
// master is FAIL (and serves slots), or that runs a manual failover,
// schedules an election after a delay that grows with its rank (how many
// sibling replicas have a better replication offset), then bumps
// currentEpoch, asks every master for its vote and, with the votes of a
// majority of the masters serving slots, takes its master's slots with
// the election's epoch as configEpoch.
//
// Timing: Redis waits 500 ms + random(0..500) + rank * 1000 ms. With
// Options.FastFailover (redgo's default) the step is
// min(500, node timeout / 30): rank 0 waits one step, rank r > 0 waits
// (r+1) steps plus random(0..step); and learning that the master is FAIL
// runs the election check at once rather than at the next Tick. The
// messages are Redis's either way, so a mixed cluster works.

// Election timing and log texts (clusterHandleSlaveFailover,
// clusterLogCantFailover).
const (
	minAuthTimeout       = 2000   // auth timeout is max(2 * node timeout, this)
	cantFailoverRelogMs  = 300000 // CLUSTER_CANT_FAILOVER_RELOG_PERIOD, 5 min
	cantFailoverQuietMs  = 5000   // no such log until node timeout + this after FAIL
	redisElectionFixed   = 500    // fixed delay: let the FAIL message spread
	redisElectionRandom  = 500    // random delay on top
	redisElectionRankMs  = 1000   // per rank
	fastElectionMaxStep  = 500    // FastFailover: step = min(this, node timeout / 30)
	fastElectionStepDivs = 30

	logElectionDelayed = "Start of election delayed for %d milliseconds (rank #%d, offset %d)."
	logRankUpdated     = "Replica rank updated to #%d, added %d milliseconds of delay."
	logElectionStart   = "Starting a failover election for epoch %d."
	logElectionWon     = "Failover election won: I'm the new master."
	logEpochAfterWin   = "configEpoch set to %d after successful failover"
	logCantFailover    = "Currently unable to failover: %s"
)

// Why a replica cannot fail over (CLUSTER_CANT_FAILOVER_*).
const (
	cantNone = iota
	cantDataAge
	cantWaitingDelay
	cantExpired
	cantWaitingVotes
)

var cantFailoverText = [...]string{
	cantNone:         "Unknown reason code.",
	cantDataAge:      "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.",
	cantWaitingDelay: "Waiting the delay before I can start a new failover.",
	cantExpired:      "Failover attempt expired.",
	cantWaitingVotes: "Waiting for votes, but majority still not reached.",
}

// election is the replica's election state (clusterState's failover_auth_*
// fields, cant_failover_reason).
type election struct {
	authTime  int64  // ms: when the election starts (or started)
	authCount int    // votes received
	authSent  bool   // the requests went out
	authRank  int    // our rank when it was scheduled
	authEpoch uint64 // the epoch we ask votes for

	cantReason int   // the last reason logged by logCantFailover
	cantLogAt  int64 // ms of that log (Redis's static lastlog_time)

	// masterDown: the link to our master is down (MasterLink), since
	// masterDownSince: the age of our data.
	masterDown      bool
	masterDownSince int64
}

// MasterLink tells the core that the replication link to our master went
// down (up false) or came back (up true). For a link that goes down, now
// is the last time the master was heard from (Redis uses the last
// interaction with a master whose link still looks connected, else the
// time the link went down); a later "down" moves it only forward, and 0
// says never (a replica that has not synced yet: Redis will not fail it
// over). The election takes the time since then as the age of our data
// (cluster-replica-validity-factor); a driver that never calls it makes
// the data count as fresh.
func (g *Membership) MasterLink(up bool, now int64) {
	e := &g.S.el
	switch {
	case up:
		e.masterDown, e.masterDownSince = false, 0
	case !e.masterDown || now > e.masterDownSince:
		// The most recent time we heard from the master counts: a
		// driver that samples the link may have missed a short up.
		e.masterDown, e.masterDownSince = true, now
	}
}

// dataAge is how long, in ms, our data may lag the master's.
func (g *Membership) dataAge(now int64) int64 {
	if e := &g.S.el; e.masterDown {
		return now - e.masterDownSince
	}
	return 0
}

// ReplicaRank is clusterGetSlaveRank: how many other replicas of our
// master, that may fail over, claim a greater replication offset than
// ours. 0 for a master or a replica without a known master.
func (s *State) ReplicaRank() int {
	me := s.Myself
	master := me.ReplicaOf
	if me.IsMaster() || master == nil {
		return 0
	}
	rank := 0
	for _, r := range master.Replicas {
		if r != me && r.Flags&FlagNoFailover == 0 && r.ReplOffset > me.ReplOffset {
			rank++
		}
	}
	return rank
}

// electionStep is the delay each rank adds: 1000 ms in Redis, the fast
// policy's step otherwise.
func electionStep(o *Options) int64 {
	if !o.FastFailover {
		return redisElectionRankMs
	}
	return fastStep(o.NodeTimeout)
}

func fastStep(nodeTimeout int64) int64 {
	return min(fastElectionMaxStep, nodeTimeout/fastElectionStepDivs)
}

// ElectionDelay is how long a replica of the given rank waits before it
// asks for votes, rnd(n) drawing a number in [0, n).
func ElectionDelay(o *Options, rank int, rnd func(int64) int64) int64 {
	if !o.FastFailover {
		return redisElectionFixed + rnd(redisElectionRandom) + int64(rank)*redisElectionRankMs
	}
	step := fastStep(o.NodeTimeout)
	d := step + int64(rank)*step
	if rank > 0 && step > 0 {
		d += rnd(step)
	}
	return d
}

func (g *Membership) rnd(n int64) int64 { return g.Rand.Int63n(n) }

// authTimeouts are how long an election may wait for votes and after how
// long a new one may start.
func authTimeouts(o *Options) (timeout, retry int64) {
	timeout = max(o.NodeTimeout*2, minAuthTimeout)
	return timeout, timeout * 2
}

// handleReplicaFailover is clusterHandleSlaveFailover: it runs on every
// Tick of a replica, when votes arrive, and (FastFailover) as soon as
// our master is FAIL.
func (g *Membership) handleReplicaFailover(now int64) {
	s := g.S
	me := s.Myself
	e := &s.el
	authAge := now - e.authTime
	quorum := s.Size()/2 + 1
	manual := s.mf.end != 0 && s.mf.canStart
	authTimeout, authRetry := authTimeouts(&s.Opts)

	master := me.ReplicaOf
	if me.IsMaster() || master == nil || (master.Flags&FlagFail == 0 && !manual) ||
		(s.Opts.ReplicaNoFailover && !manual) || master.Slots.Count() == 0 {
		e.cantReason = cantNone
		return
	}

	// Being cut from the master for the node timeout is the baseline.
	age := g.dataAge(now)
	if age > s.Opts.NodeTimeout {
		age -= s.Opts.NodeTimeout
	}
	if f := s.Opts.ReplicaValidityFactor; f != 0 && age > s.Opts.ReplPingPeriod+s.Opts.NodeTimeout*f && !manual {
		g.logCantFailover(cantDataAge, now)
		return
	}

	if authAge > authRetry {
		e.authRank = s.ReplicaRank()
		e.authTime = now + ElectionDelay(&s.Opts, e.authRank, g.rnd)
		e.authCount, e.authSent = 0, false
		if s.mf.end != 0 {
			// A manual failover does not wait.
			e.authTime, e.authRank = now, 0
			g.handleFailover = true
		}
		g.logf(logElectionDelayed, e.authTime-now, e.authRank, me.ReplOffset)
		// Our siblings learn our offset and so their rank.
		g.broadcastPongLocalReplicas(now)
		return
	}

	// Siblings may have told us better offsets since: a worse rank
	// waits longer.
	if !e.authSent && s.mf.end == 0 {
		if rank := s.ReplicaRank(); rank > e.authRank {
			added := int64(rank-e.authRank) * electionStep(&s.Opts)
			e.authTime += added
			e.authRank = rank
			g.logf(logRankUpdated, rank, added)
		}
	}

	if now < e.authTime {
		g.logCantFailover(cantWaitingDelay, now)
		return
	}
	if authAge > authTimeout {
		g.logCantFailover(cantExpired, now)
		return
	}

	if !e.authSent {
		s.CurrentEpoch++
		e.authEpoch = s.CurrentEpoch
		g.logf(logElectionStart, s.CurrentEpoch)
		g.requestFailoverAuth()
		e.authSent = true
		s.Do(TodoSaveConfig | TodoUpdateState | TodoFsyncConfig)
		return
	}

	if e.authCount >= quorum {
		g.logf(logElectionWon)
		if me.ConfigEpoch < e.authEpoch {
			me.ConfigEpoch = e.authEpoch
			g.logf(logEpochAfterWin, me.ConfigEpoch)
		}
		g.replaceMaster()
		return
	}
	g.logCantFailover(cantWaitingVotes, now)
}

// logCantFailover logs why we cannot fail over, rate limited as Redis
// does: not the same reason twice within 5 minutes, and nothing until
// the master has been FAIL for node timeout + 5 s.
func (g *Membership) logCantFailover(reason int, now int64) {
	s := g.S
	e := &s.el
	if reason == e.cantReason && now/1000-e.cantLogAt/1000 < cantFailoverRelogMs/1000 {
		return
	}
	e.cantReason = reason
	if m := s.Myself.ReplicaOf; m != nil && m.Flags&FlagFail != 0 && now-m.FailTime < s.Opts.NodeTimeout+cantFailoverQuietMs {
		return
	}
	e.cantLogAt = now
	g.logf(logCantFailover, cantFailoverText[reason])
}

// requestFailoverAuth sends FAILOVER_AUTH_REQUEST to every node; only
// masters answer (clusterRequestFailoverAuth). A manual failover asks
// for the vote even though the master is up (FORCEACK).
func (g *Membership) requestFailoverAuth() {
	m := g.header(MsgFailoverAuthRequest)
	if g.S.mf.end != 0 {
		m.MFlags[0] |= MFlagForceAck
	}
	g.broadcast(m)
}

// stepAuthAck counts a vote: from a master serving slots whose
// currentEpoch reached our election's; the election is checked at once.
func (g *Membership) stepAuthAck(m *Msg, sender *Node, now int64) {
	if sender == nil {
		return
	}
	if sender.IsMaster() && sender.Slots.Count() > 0 && m.CurrentEpoch >= g.S.el.authEpoch {
		g.S.el.authCount++
		g.handleFailover = true
	}
}

// replaceMaster is clusterFailoverReplaceYourMaster: myself becomes a
// master with every slot of its old master, saves (fsync), tells every
// node, and ends any manual failover. The driver stops replicating and
// keeps the data (Ready.Promoted).
func (g *Membership) replaceMaster() {
	s := g.S
	me := s.Myself
	old := me.ReplicaOf
	if me.IsMaster() || old == nil {
		return
	}
	s.SetNodeAsMaster(me)
	s.todo &^= TodoReplicate
	s.el.masterDown, s.el.masterDownSince = false, 0 // replicationUnsetMaster
	for j := range len(s.Owner) {
		if old.Slots.Has(j) {
			s.DelSlot(j)
			s.AddSlot(me, j)
		}
	}
	s.Do(TodoPromoted | TodoUpdateState | TodoSaveConfig | TodoFsyncConfig | TodoBroadcastPong)
	s.resetManualFailover()
}

// broadcastPongLocalReplicas sends a PONG to the other replicas of our
// master (clusterBroadcastPong with CLUSTER_BROADCAST_LOCAL_SLAVES).
func (g *Membership) broadcastPongLocalReplicas(now int64) {
	me := g.S.Myself
	for _, n := range g.S.SortedNodes() {
		if n.Flags&(FlagMyself|FlagHandshake) != 0 || !g.Linked(n) {
			continue
		}
		if n.Flags&FlagSlave != 0 && n.ReplicaOf != nil && n.ReplicaOf == me.ReplicaOf {
			g.sendPing(n, 0, MsgPong, now)
		}
	}
}

// beforeSleep runs what a message asked to run at once
// (clusterBeforeSleep's HANDLE_MANUALFAILOVER and HANDLE_FAILOVER): the
// manual failover check, the election check. One may ask for the other.
func (g *Membership) beforeSleep(now int64) {
	for range 4 {
		mf, fo := g.handleManual, g.handleFailover
		if !mf && !fo {
			return
		}
		g.handleManual, g.handleFailover = false, false
		if mf {
			if g.S.IsReplica() {
				g.handleManualFailover(now)
				g.handleReplicaFailover(now)
			}
		} else {
			g.handleReplicaFailover(now)
		}
	}
}

// masterFailed is called when myself's master turns FAIL: with
// FastFailover the election check runs now rather than at the next Tick.
func (g *Membership) masterFailed(n *Node) {
	if g.S.Opts.FastFailover && g.S.IsReplica() && g.S.Myself.ReplicaOf == n {
		g.handleFailover = true
	}
}

// updateMyselfFlags keeps FlagNoFailover on myself in step with
// cluster-replica-no-failover (clusterUpdateMyselfFlags).
func (g *Membership) updateMyselfFlags() {
	me := g.S.Myself
	old := me.Flags
	me.Flags &^= FlagNoFailover
	if g.S.Opts.ReplicaNoFailover {
		me.Flags |= FlagNoFailover
	}
	if me.Flags != old {
		g.S.Do(TodoSaveConfig | TodoUpdateState)
	}
}
