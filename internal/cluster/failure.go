package cluster

// Failure detection (Redis 7.0 cluster.c: markNodeAsFailingIfNeeded,
// clearNodeFailureIfNeeded, the FAIL case of clusterProcessPacket;
// clusterNodeFailureReportsCount is State.FailureReports). Tick marks a
// node PFAIL when it has not answered for the node timeout; gossip from
// masters adds failure reports, valid for node timeout *
// FailReportValidityMult; PFAIL turns FAIL when a majority of the masters
// serving slots (myself included when a master) report it, and the FAIL
// is broadcast. FAIL is lifted when the node answers again: at once for a
// replica or a master without slots, after node timeout *
// FailUndoTimeMult for a master whose slots nobody took.

// clearFailure lifts FAIL from a node we reach again
// (clearNodeFailureIfNeeded).
func (g *Membership) clearFailure(n *Node, now int64) {
	s := g.S
	slots := n.Slots.Count()
	if !n.IsMaster() || slots == 0 {
		what := "master without slots"
		if !n.IsMaster() {
			what = "replica"
		}
		g.logf("Clear FAIL state for node %s: %s is reachable again.", n.Name, what)
		n.Flags &^= FlagFail
		s.Do(TodoUpdateState | TodoSaveConfig)
		return
	}
	if now-n.FailTime > s.Opts.NodeTimeout*FailUndoTimeMult {
		g.logf("Clear FAIL state for node %s: is reachable again and nobody is serving its slots after some time.", n.Name)
		n.Flags &^= FlagFail
		s.Do(TodoUpdateState | TodoSaveConfig)
	}
}

// markFailing turns PFAIL into FAIL once enough masters agree and tells
// everyone (markNodeAsFailingIfNeeded).
func (g *Membership) markFailing(n *Node, now int64) {
	s := g.S
	if n.Flags&FlagPFail == 0 || n.Flags&FlagFail != 0 {
		return
	}
	quorum := s.Size()/2 + 1
	failures := s.FailureReports(n, now)
	if s.Myself.IsMaster() {
		failures++
	}
	if failures < quorum {
		return
	}
	g.logf("Marking node %s as failing (quorum reached).", n.Name)
	n.Flags &^= FlagPFail
	n.Flags |= FlagFail
	n.FailTime = now
	m := g.header(MsgFail)
	m.Fail = &Fail{About: n.Name}
	g.broadcast(m)
	s.Do(TodoUpdateState | TodoSaveConfig)
	g.masterFailed(n)
}

// stepFail: another node marked a node FAIL; we follow (a FAIL from an
// unknown node is ignored).
func (g *Membership) stepFail(m *Msg, sender *Node, now int64) {
	s := g.S
	if sender == nil {
		g.logf("Ignoring FAIL message from unknown node %s about %s", m.Sender, m.Fail.About)
		return
	}
	n := s.Lookup(m.Fail.About)
	if n == nil || n.Flags&(FlagFail|FlagMyself) != 0 {
		return
	}
	g.logf("FAIL message received from %s about %s", sender.Name, n.Name)
	n.Flags |= FlagFail
	n.FailTime = now
	n.Flags &^= FlagPFail
	s.Do(TodoUpdateState | TodoSaveConfig)
	g.masterFailed(n)
}
