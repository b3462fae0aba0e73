package cluster

// The master's side of a replica election (Redis 7.0 cluster.c:
// clusterSendFailoverAuthIfNeeded, clusterSendFailoverAuth): a master
// serving slots grants at most one vote per epoch, to a replica of a
// failed master, and not for that master twice within 2 * node timeout.
// The vote (lastVoteEpoch) asks for nodes.conf to be saved and fsynced;
// the Ready that carries the FAILOVER_AUTH_ACK carries that save, and
// the driver saves before it sends (ready.go). The replica's side (asking
// for votes, counting them, taking over) is not here yet.

import "fmt"

// Log texts of clusterSendFailoverAuthIfNeeded.
const (
	logAuthGranted   = "Failover auth granted to %.40s for epoch %d"
	logAuthOldEpoch  = "Failover auth denied to %.40s: reqEpoch (%d) < curEpoch(%d)"
	logAuthVoted     = "Failover auth denied to %.40s: already voted for epoch %d"
	logAuthMaster    = "Failover auth denied to %.40s: it is a master node"
	logAuthNoMaster  = "Failover auth denied to %.40s: I don't know its master"
	logAuthMasterUp  = "Failover auth denied to %.40s: its master is up"
	logAuthTooSoon   = "Failover auth denied to %.40s: can't vote about this master before %d milliseconds"
	logAuthSlotEpoch = "Failover auth denied to %.40s: slot %d epoch (%d) > reqEpoch (%d)"
	voteTimeoutMult  = 2 // no second vote about one master within node timeout * this
)

// stepAuthRequest answers a FAILOVER_AUTH_REQUEST; one from an unknown
// node is ignored (clusterProcessPacket). The ACK goes back on the link
// the request came on: Redis sends it on its own link to the replica and
// loses the vote when that link is down (it is rebuilt on a loaded
// machine), and the replica then waits for the retry time.
func (g *Membership) stepAuthRequest(l Link, m *Msg, sender *Node, now int64) {
	if sender == nil {
		return
	}
	if ok, why := g.mayVote(m, sender, now); !ok {
		if why != "" {
			g.logf("%s", why)
		}
		return
	}
	s := g.S
	s.LastVoteEpoch = s.CurrentEpoch
	sender.ReplicaOf.VotedTime = now
	s.Do(TodoSaveConfig | TodoFsyncConfig)
	g.send(sender, l.ID, g.header(MsgFailoverAuthAck))
	g.logf(logAuthGranted, sender.Name, s.CurrentEpoch)
}

// mayVote reports whether myself may vote for sender and, if not, the
// line to log ("" when Redis refuses silently): the checks of
// clusterSendFailoverAuthIfNeeded, in its order.
func (g *Membership) mayVote(m *Msg, sender *Node, now int64) (bool, string) {
	why := g.voteRefusal(m, sender, now)
	return why == "" && g.canVote(), why
}

// canVote: only masters serving slots vote; they make the quorum.
func (g *Membership) canVote() bool {
	me := g.S.Myself
	return me.IsMaster() && me.Slots.Count() > 0
}

// voteRefusal returns why a master serving slots must not vote for
// sender, or "" when it may.
func (g *Membership) voteRefusal(m *Msg, sender *Node, now int64) string {
	s := g.S
	if !g.canVote() {
		return ""
	}
	if m.CurrentEpoch < s.CurrentEpoch {
		return fmt.Sprintf(logAuthOldEpoch, sender.Name, m.CurrentEpoch, s.CurrentEpoch)
	}
	if s.LastVoteEpoch == s.CurrentEpoch {
		return fmt.Sprintf(logAuthVoted, sender.Name, s.CurrentEpoch)
	}
	master := sender.ReplicaOf
	forceAck := m.MFlags[0]&MFlagForceAck != 0
	switch {
	case sender.IsMaster():
		return fmt.Sprintf(logAuthMaster, sender.Name)
	case master == nil:
		return fmt.Sprintf(logAuthNoMaster, sender.Name)
	case master.Flags&FlagFail == 0 && !forceAck:
		return fmt.Sprintf(logAuthMasterUp, sender.Name)
	}
	if wait := s.Opts.NodeTimeout*voteTimeoutMult - (now - master.VotedTime); wait > 0 {
		return fmt.Sprintf(logAuthTooSoon, sender.Name, wait)
	}
	for j := range s.Owner {
		if o := s.Owner[j]; m.Slots.Has(j) && o != nil && o.ConfigEpoch > m.ConfigEpoch {
			return fmt.Sprintf(logAuthSlotEpoch, sender.Name, j, o.ConfigEpoch, m.ConfigEpoch)
		}
	}
	return ""
}
