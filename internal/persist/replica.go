package persist

// What replication needs from persistence: a master's full sync sends a
// point-in-time snapshot of the live keyspace (the fork-free snapshot of
// snapshot.go, as Redis forks for rdbSaveToSlavesSockets or a BGSAVE for
// replication), and a replica loads what its master sent in place of its
// dataset (readSyncBulkPayload's emptyData + rdbLoadRio).

import (
	"io"
	"time"
)

// Snapshot starts a point-in-time snapshot of the keyspace: atInstant
// runs at its instant, with every shard locked (the replication stream's
// offset is taken there). The function returned writes the snapshot as an
// RDB image to w; it must be called exactly once. Snapshots run alongside
// BGSAVE and each other.
func (p *Persist) Snapshot(atInstant func()) func(w io.Writer) error {
	st := p.rdbOf()
	j := st.newJobAt(true, atInstant)
	return func(w io.Writer) error {
		defer st.removeHook(j)
		return j.run(w)
	}
}

// LoadReplicated empties every database and loads the RDB image read
// from r, with every shard locked meanwhile: clients wait rather than see
// a half-loaded dataset. After an error the keyspace is left empty. An
// AOF that is on is rewritten from the new dataset afterwards.
func (p *Persist) LoadReplicated(r io.Reader) error {
	ks := p.h.Keyspace()
	ks.LockAll()
	start := time.Now()
	for i := 0; i < ks.NumDB(); i++ {
		ks.DB(i).Flush()
	}
	p.flushFunctions()
	_, info, err := loadRDBInto(ks, r, loadOpts{locked: true, keepExpired: true, logf: p.h.Logf,
		function: p.loadFunction})
	if err != nil {
		for i := 0; i < ks.NumDB(); i++ {
			ks.DB(i).Flush()
		}
	}
	ks.UnlockAll()
	if err != nil {
		return err
	}
	p.h.Logf("Done loading RDB, keys loaded: %d, keys expired: %d.", info.loaded, info.expired)
	p.h.Logf("MASTER <-> REPLICA sync: Loaded in %.3f seconds", time.Since(start).Seconds())
	if p.h.Config().Bool("appendonly") {
		if err := p.Rewrite(); err != nil && err != ErrRewriteInProgress {
			p.h.Logf("# Failed restarting the AOF after the sync with the master: %v", err)
		}
	}
	return nil
}
