package server

// Keys written with a TTL by clients of a writable replica
// (replica-read-only no). A replica does not expire the keys of its
// master's stream (the master's DEL does), but nobody would ever delete
// these: they are remembered and deleted once expired, as Redis's
// rememberSlaveKeyWithExpire and expireSlaveKeys do.

import (
	"sync"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
)

type replicaExpires struct {
	mu   sync.Mutex
	keys map[keyspace.KeyRef]struct{}
}

// noteReplicaWrite remembers the keys a client's write left with a TTL on
// a replica. The write's shards are locked.
func (s *Server) noteReplicaWrite(c *Client, ctx *commands.Ctx, pos []int) {
	if c == s.masterClient || !s.isReplica.Load() || ctx.DB == nil {
		return
	}
	for _, p := range pos {
		if o := ctx.DB.RawGet(ctx.Args[p]); o != nil && o.Expire() != 0 {
			re := &s.replicaExpires
			re.mu.Lock()
			if re.keys == nil {
				re.keys = map[keyspace.KeyRef]struct{}{}
			}
			re.keys[keyspace.KeyRef{DB: ctx.DB.Index(), Key: string(ctx.Args[p])}] = struct{}{}
			re.mu.Unlock()
		}
	}
}

// expireReplicaKeys deletes the remembered keys that expired, and forgets
// those that are gone or lost their TTL (the cron, on a replica).
func (s *Server) expireReplicaKeys() {
	re := &s.replicaExpires
	re.mu.Lock()
	if len(re.keys) == 0 {
		re.mu.Unlock()
		return
	}
	refs := make([]keyspace.KeyRef, 0, len(re.keys))
	for r := range re.keys {
		refs = append(refs, r)
	}
	re.mu.Unlock()
	for _, r := range refs {
		key := []byte(r.Key)
		sh := keyspace.ShardOf(key)
		s.KS.ShardLock(sh)
		db := s.KS.DB(r.DB)
		o := db.RawGet(key)
		done := o == nil || o.Expire() == 0
		if !done && o.Expire() <= s.KS.Now() {
			db.Delete(key)
			s.KS.ExpiredKeys.Add(1)
			done = true
		}
		s.KS.ShardUnlock(sh)
		if done {
			re.mu.Lock()
			delete(re.keys, r)
			re.mu.Unlock()
		}
	}
}
