package replication

// What an RDB file records of replication, so that a restarted node can
// continue its history (Redis's rdbSaveInfo: the aux fields
// repl-stream-db, repl-id and repl-offset; rdbPopulateSaveInfo and the
// end of loadDataFromDisk).

import "crypto/rand"

// SaveInfo is a history as an RDB file records it: the replication ID,
// the offset the dataset corresponds to, and the database the stream
// had selected there.
type SaveInfo struct {
	ID     string
	Offset int64
	DB     int
}

// SaveInfo returns what an RDB file made now records: a master's own
// history if it has a backlog (it is in a replication chain), a
// replica's master's (applied, or cached while the link is down). ok is
// false when there is nothing worth keeping. The offset is the one of
// the dataset only if no write is in flight: call it at a snapshot's
// instant. DB is -1 on a replica: the driver knows the stream's
// database.
func (n *Node) SaveInfo() (SaveInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link == nil {
		if n.backlog == nil {
			return SaveInfo{}, false
		}
		db := n.backlog.SelectedDB()
		if db < 0 {
			db = 0 // the next write selects its database anyway
		}
		return SaveInfo{ID: n.ids.ID, Offset: n.backlog.Offset(), DB: db}, true
	}
	if n.loadingSync {
		return SaveInfo{}, false
	}
	if m, ok := n.link.r.Master(); ok {
		return SaveInfo{ID: m.ReplID, Offset: m.Offset, DB: -1}, true
	}
	if m, ok := n.link.r.Cached(); ok {
		return SaveInfo{ID: m.ReplID, Offset: m.Offset, DB: -1}, true
	}
	return SaveInfo{}, false
}

// Restore continues the history an RDB file recorded, before replication
// starts (loadDataFromDisk). A replica takes it as its own, so that it
// asks its master for a partial resync from there
// (replicationCacheMasterUsingMyself once it follows a master). A master
// keeps it as its secondary ID, valid up to the offset, under a new ID of
// its own, with a backlog starting there, so that its former replicas
// continue partially.
func (n *Node) Restore(si SaveInfo, replica bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link != nil || n.backlog != nil {
		return
	}
	n.backlog = NewBacklog(n.backlogSize(), si.Offset)
	if replica {
		n.ids.ID = si.ID
		n.ids.ClearID2()
		return
	}
	n.ids.Change(rand.Reader)
	n.ids.ID2, n.ids.SecondOffset = si.ID, si.Offset+1
	n.lastFree = nowMs() // repl-backlog-ttl counts from now
	n.feedTo.Store(n.backlog)
	n.propagateLocked()
}

// FeedAtStart appends a command to the history a master restored
// (Restore), before any replica connects: the DELs of the keys its RDB
// file held past their expiry.
func (n *Node) FeedAtStart(db int, args ...[]byte) {
	if b := n.feedTo.Load(); b != nil {
		b.Feed(db, [][][]byte{args})
	}
}
