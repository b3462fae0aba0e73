package replication

// The replica's part of INFO replication. Mirrors the replica fields of
// Redis 7.0's genRedisInfoString (server.c).

// LinkInfo is what INFO replication shows of a replica's link.
type LinkInfo struct {
	Up             bool  // master_link_status: up
	LastIO         int64 // master_last_io_seconds_ago; -1 without a master
	SyncInProgress bool  // master_sync_in_progress
	Offset         int64 // slave_repl_offset: the master's, the cached one's, else 1
	// During a transfer (SyncInProgress): master_sync_total_bytes (-1
	// for an EOF mark: unknown), master_sync_read_bytes and
	// master_sync_last_io_seconds_ago.
	SyncTotal, SyncRead, SyncLastIO int64
	// DownSince is master_link_down_since_seconds, shown when !Up; -1
	// when the link was never up.
	DownSince int64
}

// Info returns the link's INFO fields at now (Unix ms; INFO shows
// seconds).
func (r *Replica) Info(now int64) LinkInfo {
	li := LinkInfo{Up: r.state == StateConnected, LastIO: -1, SyncInProgress: r.state == StateTransfer,
		Offset: 1, DownSince: -1}
	switch {
	case r.master != nil:
		li.Offset, li.LastIO = r.master.Offset, (now-r.lastHeard)/1000
	case r.cached != nil:
		li.Offset = r.cached.Offset
	}
	if li.SyncInProgress {
		li.SyncTotal, li.SyncRead, li.SyncLastIO = -1, r.received, (now-r.lastIO)/1000
		if r.bulkSeen && r.bulk.Mark == "" {
			li.SyncTotal = r.bulk.Size
		}
	}
	if r.downSince != 0 {
		li.DownSince = (now - r.downSince) / 1000
	}
	return li
}
