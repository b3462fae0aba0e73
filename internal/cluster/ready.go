package cluster

// The one way effects leave the cluster core (after etcd raft's Ready and
// Redis 7.0's clusterBeforeSleep / clusterSaveConfigOrDie): Ready gathers
// the messages, the nodes.conf save, the cluster_state recomputation, the
// dirty slots, the publishes and the log lines of everything that ran
// since the last Advance; Drive carries one out in the only safe order.

// Ready is what the driver owes the core after Step, Tick, LinkUp,
// LinkDown or a change made through the State (CLUSTER commands). The
// driver carries it out in this order:
//
//  1. if SaveConfig, write Config to nodes.conf;
//  2. if FsyncConfig, make that write durable (fsync) before going on;
//  3. send Out: the messages, and the links to open, close or rename;
//  4. apply the rest: recompute cluster_state (UpdateState), delete the
//     keys of DirtySlots, deliver Publishes, start replicating
//     (Replicate) or stop it as a new master (Promoted), pause or
//     unpause client writes (PauseWritesUntil, UnpauseWrites), write
//     Logs;
//  5. call Membership.Advance.
//
// A message must never leave before the state it reflects is durable:
// a master that sent FAILOVER_AUTH_ACK and crashed before lastVoteEpoch
// reached the disk would vote again in the same epoch after a restart.
// When step 1 or 2 fails, the driver sends nothing and stops, as Redis
// exits (clusterSaveConfigOrDie). Membership.Drive does steps 1-5 in
// this order through a Driver.
type Ready struct {
	// SaveConfig: nodes.conf must hold Config before Out is sent.
	SaveConfig bool
	// FsyncConfig: ... and be fsynced (a vote, an epoch change).
	FsyncConfig bool
	// Config is the nodes.conf content to write when SaveConfig is set.
	Config []byte
	// Out are the messages to send and the link changes, in order.
	Out []Out
	// UpdateState: cluster_state must be recomputed (State.UpdateState).
	UpdateState bool
	// Replicate: myself became a replica of Myself.ReplicaOf, or
	// switched to that master (a failover elsewhere, an UPDATE that took
	// our slots, replica migration, CLUSTER REPLICATE): replicate from
	// it (REPLICAOF ip port), dropping what it does not have. It
	// also ends a write pause of a manual failover (UnpauseWrites comes
	// with it when one was on).
	Replicate bool
	// Promoted: myself, a replica, became a master by a failover
	// (automatic, CLUSTER FAILOVER [FORCE|TAKEOVER]): stop replicating
	// and keep the data, as REPLICAOF NO ONE does (a new replication ID,
	// the old one kept as the second so the siblings can PSYNC). Never
	// set together with Replicate.
	Promoted bool
	// PauseWritesUntil, when non-zero, is the Unix ms until which client
	// writes must be paused (CLIENT PAUSE WRITE; replicas keep reading
	// the stream): a replica asked us, its master, for a manual failover.
	// It replaces an earlier such pause. Once no write is in flight any
	// more, the driver sets Myself.ReplOffset (master_repl_offset) and
	// calls Membership.WritesPaused: the core then sends the replica that
	// offset to reach.
	PauseWritesUntil int64
	// UnpauseWrites: the manual failover that paused writes ended (done,
	// timed out, or we became a replica): lift that pause now. Never set
	// together with PauseWritesUntil.
	UnpauseWrites bool
	// DirtySlots are slots this node served and lost to a newer
	// configuration: their keys must be deleted (clusterUpdateSlotsConfigWith).
	DirtySlots []int
	// ChannelSlots are slots that left this node's shard (unassigned, or
	// given to another master than ours): the subscribers of their shard
	// channels are unsubscribed, each told with a sunsubscribe
	// (removeChannelsInSlot).
	ChannelSlots []int
	// Publishes are the PUBLISH and PUBLISHSHARD messages received from
	// known nodes, for the local subscribers.
	Publishes []Delivery
	// Logs are the log lines, in order.
	Logs []string
}

// A Driver carries out Readys for Drive, one step per method.
type Driver interface {
	// SaveConfig writes nodes.conf and, with fsync, makes it durable
	// (steps 1 and 2). An error stops Drive before anything is sent.
	SaveConfig(conf []byte, fsync bool) error
	// Send carries out the messages and link changes (step 3).
	Send(out []Out)
	// Apply does the rest of rd (step 4).
	Apply(rd *Ready)
}

// maxDriveRounds bounds the Readys one Drive carries out (a Send that
// calls back into the core, as LinkUp does in tests, makes another).
const maxDriveRounds = 64

// HasReady reports whether a Ready is waiting.
func (g *Membership) HasReady() bool {
	n := &g.next
	return g.inflight || g.S.todo != 0 || g.S.pauseUntil != 0 || len(n.Out) > 0 || len(n.Logs) > 0 ||
		len(n.DirtySlots) > 0 || len(n.Publishes) > 0 || len(g.S.channelSlots) > 0
}

// Ready returns what the driver must do now. Until Advance, it returns
// the same Ready again (a driver whose save failed retries it); what
// happens meanwhile waits for the next one.
func (g *Membership) Ready() Ready {
	if g.inflight {
		return g.cur
	}
	t := g.S.takeTodo()
	if t&TodoBroadcastPong != 0 {
		g.BroadcastPong(0) // a PONG does not start a ping timer: no time needed
	}
	rd := g.next
	g.next = Ready{}
	rd.SaveConfig = t&(TodoSaveConfig|TodoFsyncConfig) != 0
	rd.FsyncConfig = t&TodoFsyncConfig != 0
	if rd.SaveConfig {
		rd.Config = g.S.Conf().Append(nil)
	}
	rd.UpdateState = t&TodoUpdateState != 0
	rd.Replicate = t&TodoReplicate != 0
	rd.Promoted = t&TodoPromoted != 0
	rd.UnpauseWrites = t&TodoUnpauseWrites != 0
	rd.PauseWritesUntil, g.S.pauseUntil = g.S.pauseUntil, 0
	rd.ChannelSlots, g.S.channelSlots = g.S.channelSlots, nil
	g.cur, g.inflight = rd, true
	return rd
}

// Advance acknowledges the last Ready: it was carried out (step 5).
func (g *Membership) Advance() {
	g.cur, g.inflight = Ready{}, false
}

// Drive carries out every waiting Ready through d in the order Ready
// documents: save, fsync, send, apply, advance. When the save fails it
// returns the error at once: nothing of that Ready was sent, and it stays
// unacknowledged.
func (g *Membership) Drive(d Driver) error {
	for range maxDriveRounds {
		if !g.HasReady() {
			return nil
		}
		rd := g.Ready()
		if rd.SaveConfig {
			if err := d.SaveConfig(rd.Config, rd.FsyncConfig); err != nil {
				return err
			}
		}
		d.Send(rd.Out)
		d.Apply(&rd)
		g.Advance()
	}
	return nil
}
