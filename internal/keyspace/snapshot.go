package keyspace

import (
	"sync/atomic"

	"redgo/internal/slot"
)

// Snapshot is a point-in-time view of the keyspace read while writes go
// on, for BGSAVE (and later full syncs): "serialize before first write".
//
// The instant is when BeginSnapshot runs (all shards locked). A reader
// then walks the slots with TakeSlot. Before any command writes a key, the
// dispatcher calls BeforeWrite (with the key's shard held): if the key's
// slot was not taken yet and the key was not seen yet, its value as of
// the instant is handed to the capture function first and the key is
// remembered, so TakeSlot skips it later. A key that did not exist at the
// instant is remembered too (a later write creates it after the instant).
// So a writer pauses for at most one value's serialization, never for a
// slot's or the dataset's.
//
// A flush (FLUSHDB/FLUSHALL) detaches the maps of the untaken slots for
// the reader (BeforeFlush: constant work per slot, values are not
// copied). Writes that move whole databases (SWAPDB) call CaptureDB,
// which hands out every remaining value at once.
//
// Keys past their expiry but not deleted yet are part of the snapshot,
// as Redis's rdbSave writes every key of its dictionaries (a master
// restarted from the file deletes them again, and tells its replicas).
// Whoever deletes an expired key while a snapshot runs calls BeforeWrite
// first (Keyspace.BeforeExpire).
//
// All methods require the lock of the shard involved (BeginSnapshot,
// BeforeFlush and CaptureDB: every shard).
type Snapshot struct {
	ks      *Keyspace
	at      int64
	ndb     int
	shards  [NShards]snapShard
	capture func(shard, db int, key string, o *Object)

	scratch  map[string]struct{} // TakeSlot's set of handed-out keys, reused slot after slot
	marked   atomic.Int64        // keys remembered by BeforeWrite
	captured atomic.Int64        // of which values handed to capture
}

// Slot states.
const (
	snapPending uint8 = iota
	snapFrozen        // detached by a flush: read from frozen
	snapDone
)

// snapShard is the snapshot's state for one shard, guarded by its lock.
type snapShard struct {
	state  []uint8               // [db*slotsPerShard + si]
	early  []map[string]struct{} // keys captured (or absent) before their first write
	frozen []table               // slot tables detached by a flush
	// TakeSlot is walking slot walkI of this shard (and may pause in it):
	// the snapshot's scratch set holds the keys it handed out so far.
	walking bool
	walkI   int
}

// BeginSnapshot starts a snapshot of the keyspace as it is now. Every
// shard must be locked. capture receives, with the key's shard locked, the
// values handed out before their first write; it must not keep o past the
// call (o is about to change) and must not call back into the keyspace.
func (ks *Keyspace) BeginSnapshot(capture func(shard, db int, key string, o *Object)) *Snapshot {
	sn := &Snapshot{ks: ks, at: ks.Now(), ndb: ks.ndb, capture: capture}
	for i, sh := range ks.shards {
		st := make([]uint8, ks.ndb*slotsPerShard)
		for db := range sh.dbs {
			for si := 0; si < slotsPerShard; si++ {
				if sh.dbs[db].tab(si).n == 0 {
					st[db*slotsPerShard+si] = snapDone
				}
			}
		}
		sn.shards[i].state = st
	}
	return sn
}

// At returns the snapshot's instant (unix ms).
func (sn *Snapshot) At() int64 { return sn.at }

// walked returns the keys TakeSlot handed out so far if it is paused in
// slot i of shard ss, else nil.
func (sn *Snapshot) walked(ss *snapShard, i int) map[string]struct{} {
	if ss.walking && ss.walkI == i {
		return sn.scratch
	}
	return nil
}

// BeforeWrite is called before a command writes key in database db, with
// the key's shard locked.
func (sn *Snapshot) BeforeWrite(db int, key []byte) {
	if db < 0 || db >= sn.ndb {
		return
	}
	s := slot.Of(key)
	sh, si := s%NShards, s/NShards
	ss := &sn.shards[sh]
	i := db*slotsPerShard + si
	if ss.state[i] != snapPending {
		return
	}
	if ss.early == nil {
		ss.early = make([]map[string]struct{}, len(ss.state))
	}
	seen := ss.early[i]
	if seen == nil {
		seen = map[string]struct{}{}
		ss.early[i] = seen
	}
	if _, ok := seen[string(key)]; ok {
		return
	}
	if _, ok := sn.walked(ss, i)[string(key)]; ok {
		return // handed out by the walk before it paused
	}
	k := string(key)
	seen[k] = struct{}{}
	sn.marked.Add(1)
	if o := sn.ks.shards[sh].dbs[db].tab(si).get(k); o != nil {
		sn.captured.Add(1)
		sn.capture(sh, db, k, o)
	}
}

// EarlyKeys returns how many keys were remembered before their first
// write, and how many of those had a value to capture.
func (sn *Snapshot) EarlyKeys() (marked, captured int64) {
	return sn.marked.Load(), sn.captured.Load()
}

// BeforeFlush is called before database db (every database when db < 0)
// is emptied, with every shard locked.
func (sn *Snapshot) BeforeFlush(db int) {
	for i, sh := range sn.ks.shards {
		ss := &sn.shards[i]
		for d := range sh.dbs {
			if db >= 0 && d != db {
				continue
			}
			for si := 0; si < slotsPerShard; si++ {
				j := d*slotsPerShard + si
				if ss.state[j] != snapPending {
					continue
				}
				if ss.frozen == nil {
					ss.frozen = make([]table, len(ss.state))
				}
				// The flush replaces the database's tables: this one
				// is not changed again.
				ss.frozen[j] = *sh.dbs[d].tab(si)
				ss.state[j] = snapFrozen
			}
		}
	}
}

// CaptureDB hands every value of database db not yet taken to the
// capture function (every database when db < 0). Every shard locked.
func (sn *Snapshot) CaptureDB(db int) {
	for i := range sn.ks.shards {
		for d := 0; d < sn.ndb; d++ {
			if db >= 0 && d != db {
				continue
			}
			for si := 0; si < slotsPerShard; si++ {
				sn.take(i, d, si, func(k string, o *Object) { sn.capture(i, d, k, o) })
			}
		}
	}
}

// TakeSlot calls fn with every key of hash slot s in database db that the
// snapshot holds and that was not handed out before, then marks the slot
// taken. The slot's shard must be locked. It returns the number of keys.
//
// When chunk > 0, TakeSlot calls pause (shard still locked) after every
// chunk keys it looked at; pause may unlock the shard, let writers in and
// lock it again, so the lock is never held for a whole slot. Keys already
// handed out are remembered meanwhile (a write to one of them is not
// captured again), and a slot handed out whole during a pause (CaptureDB)
// ends the walk of it.
func (sn *Snapshot) TakeSlot(db, s int, fn func(key string, o *Object), chunk int, pause func()) int {
	if chunk <= 0 {
		return sn.take(s%NShards, db, s/NShards, fn)
	}
	sh, si := s%NShards, s/NShards
	ss := &sn.shards[sh]
	i := db*slotsPerShard + si
	if ss.state[i] == snapDone {
		return 0
	}
	cur := func() *table {
		if ss.state[i] == snapFrozen {
			return &ss.frozen[i]
		}
		return sn.ks.shards[sh].dbs[db].tab(si)
	}
	// The keys handed out go to the walk's own set, reused slot after slot
	// (one walker per snapshot), which BeforeWrite consults during pauses;
	// keys that writers captured first are in ss.early[i] (which a writer
	// may create during a pause). Adding the walk's keys to ss.early[i]
	// instead would build a map as big as the slot per slot: garbage the
	// size of the dataset per snapshot.
	if sn.scratch == nil {
		sn.scratch = map[string]struct{}{}
	}
	seen := sn.scratch
	ss.walking, ss.walkI = true, i
	defer func() {
		ss.walking = false
		clear(seen)
	}()
	n, looked := 0, 0
	t := cur()
	if ss.state[i] == snapPending && t != &noKeys {
		// Keep the keys in place while the walk pauses (a flush
		// detaches the table, which then stays as it is).
		pinned := t
		pinned.pin()
		defer pinned.unpin()
	}
	ver, e := t.ver, t.ents()
	for x := 0; x < len(e); x++ {
		if looked == chunk {
			looked = 0
			pause()
			if ss.state[i] == snapDone {
				return n // CaptureDB handed out the rest
			}
			if t = cur(); t.ver != ver || len(t.ents()) != len(e) || len(e) > 0 && &t.ents()[0] != &e[0] {
				// Writers moved keys (a deletion's shift, a resize):
				// walk the table again; seen skips what was handed out.
				ver, e, x = t.ver, t.ents(), -1
				continue
			}
		}
		o := e[x].obj()
		if o == nil || o == tomb {
			continue
		}
		looked++
		k := o.key
		if _, ok := seen[k]; ok {
			continue
		}
		if ss.early != nil {
			if _, ok := ss.early[i][k]; ok {
				continue
			}
		}
		seen[k] = struct{}{}
		fn(k, o)
		n++
	}
	ss.state[i] = snapDone
	if ss.early != nil {
		ss.early[i] = nil
	}
	if ss.frozen != nil {
		ss.frozen[i] = table{}
	}
	return n
}

// take hands out a whole slot at once (the shard locked).
func (sn *Snapshot) take(sh, db, si int, fn func(key string, o *Object)) int {
	ss := &sn.shards[sh]
	i := db*slotsPerShard + si
	var t table
	switch ss.state[i] {
	case snapDone:
		return 0
	case snapFrozen:
		t = ss.frozen[i]
		ss.frozen[i] = table{}
	default:
		t = *sn.ks.shards[sh].dbs[db].tab(si)
	}
	var seen map[string]struct{}
	if ss.early != nil {
		seen = ss.early[i]
		ss.early[i] = nil
	}
	ss.state[i] = snapDone
	walked := sn.walked(ss, i) // CaptureDB while the walk pauses in this slot
	n := 0
	for _, r := range t.ents() {
		o := r.obj()
		if o == nil || o == tomb {
			continue
		}
		k := o.key
		if _, ok := seen[k]; ok {
			continue
		}
		if _, ok := walked[k]; ok {
			continue
		}
		fn(k, o)
		n++
	}
	return n
}

// SlotTaken reports whether slot s of database db needs no more work
// (taken, or empty at the instant). The slot's shard must be locked.
func (sn *Snapshot) SlotTaken(db, s int) bool {
	return sn.shards[s%NShards].state[db*slotsPerShard+s/NShards] == snapDone
}

// ShardLock locks shard i alone (a snapshot reader taking one slot).
func (ks *Keyspace) ShardLock(i int) { ks.shards[i].mu.Lock() }

// ShardUnlock unlocks shard i.
func (ks *Keyspace) ShardUnlock(i int) { ks.shards[i].mu.Unlock() }

// RawGet returns the object stored at key, expired or not, without any
// side effect (no expiry, no stats). The key's shard must be locked.
func (db *DB) RawGet(key []byte) *Object {
	d, _, si := db.loc(key)
	return d.tab(si).getBytes(key)
}
