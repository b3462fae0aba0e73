package cluster

// Replica migration (Redis 7.0 cluster.c: clusterHandleSlaveMigration,
// clusterCountNonFailingSlaves and the orphaned-master count of
// clusterCron): a master serving slots that had replicas and has no
// working one left (orphaned) gets one from a master with the most
// working replicas, provided that master keeps more than
// cluster-migration-barrier of them. Of the replicas of those masters
// the one with the smallest name moves, once the orphan has been
// orphaned for ReplicaMigrationDelay. The effect is Ready.Replicate.

// ReplicaMigrationDelay is how long a master must stay orphaned before a
// replica migrates to it (CLUSTER_SLAVE_MIGRATION_DELAY, ms).
const ReplicaMigrationDelay = 5000

const logMigrating = "Migrating to orphaned master %.40s"

// okReplicas counts the replicas of n not FAIL (clusterCountNonFailingSlaves).
func okReplicas(n *Node) int {
	ok := 0
	for _, r := range n.Replicas {
		if r.Flags&FlagFail == 0 {
			ok++
		}
	}
	return ok
}

// migrationCheck is the part of clusterCron that finds orphaned masters;
// a replica among those of a master with the most working replicas
// considers migrating.
func (g *Membership) migrationCheck(now int64) {
	s := g.S
	me := s.Myself
	if !s.IsReplica() {
		return
	}
	orphaned, maxReplicas, mine := 0, 0, 0
	for _, n := range s.SortedNodes() {
		if n.Flags&(FlagMyself|FlagNoAddr|FlagHandshake) != 0 || !n.IsMaster() || n.Flags&FlagFail != 0 {
			continue
		}
		ok := okReplicas(n)
		if ok == 0 && n.Slots.Count() > 0 && n.Flags&FlagMigrateTo != 0 {
			orphaned++
		}
		maxReplicas = max(maxReplicas, ok)
		if me.ReplicaOf == n {
			mine = ok
		}
	}
	if orphaned > 0 && maxReplicas >= 2 && mine == maxReplicas && s.Opts.AllowReplicaMigration {
		g.handleReplicaMigration(maxReplicas, now)
	}
}

// handleReplicaMigration is clusterHandleSlaveMigration.
func (g *Membership) handleReplicaMigration(maxReplicas int, now int64) {
	s := g.S
	me := s.Myself
	if !s.OK() {
		return
	}
	// My master must keep more than the barrier.
	mine := me.ReplicaOf
	if mine == nil {
		return
	}
	ok := 0
	for _, r := range mine.Replicas {
		if r.Flags&(FlagFail|FlagPFail) == 0 {
			ok++
		}
	}
	if ok <= s.Opts.MigrationBarrier {
		return
	}
	// The target: the first orphaned master with slots. The candidate:
	// the smallest-named replica of the masters with the most working
	// replicas.
	var target *Node
	candidate := me
	for _, n := range s.SortedNodes() {
		okn, orphan := 0, true
		if !n.IsMaster() || n.Flags&FlagFail != 0 || n.Flags&FlagMigrateTo == 0 {
			orphan = false
		}
		if n.IsMaster() {
			okn = okReplicas(n)
		}
		if okn > 0 {
			orphan = false
		}
		if orphan {
			if target == nil && n.Slots.Count() > 0 {
				target = n
			}
			if n.OrphanedTime == 0 {
				n.OrphanedTime = now
			}
		} else {
			n.OrphanedTime = 0
		}
		if okn == maxReplicas {
			for _, r := range n.Replicas {
				if r.Name < candidate.Name {
					candidate = r
				}
			}
		}
	}
	if target != nil && candidate == me && now-target.OrphanedTime > ReplicaMigrationDelay {
		g.logf(logMigrating, target.Name)
		s.SetMaster(target)
		s.Do(TodoSaveConfig | TodoUpdateState)
	}
}
