package keyspace

import (
	"sync/atomic"

	"redgo/internal/slot"
)

// Touch marks key as modified: every client WATCHing it will fail its EXEC.
// The key's shard must be locked. Deletes and flushes touch by themselves;
// the dispatcher touches the keys of every write command that changed data.
func (db *DB) Touch(key []byte) {
	if db.ks.watchers.Load() == 0 {
		return
	}
	_, sh, _ := db.loc(key)
	db.ks.touch(sh, db.idx, string(key))
}

// watchEntry is one client watching one key. stale: the key had
// expired (but was still stored) when WATCH ran; its deletion is then no
// change (Redis's watchedKey.expired), only a new value is.
type watchEntry struct {
	flag  *atomic.Bool
	stale bool
}

func (ks *Keyspace) touch(sh *Shard, dbi int, key string) {
	if ks.watchers.Load() == 0 || sh.watched == nil {
		return
	}
	for _, w := range sh.watched[KeyRef{dbi, key}] {
		if w.stale {
			if sh.dbs[dbi].tab(slot.OfString(key)/NShards).get(key) == nil {
				w.stale = false // the stale key is gone: logically nothing changed
				continue
			}
		}
		w.flag.Store(true)
	}
}

// Watch registers flag to be set when key is modified, and reports
// whether the key is live (stored and not expired). A stale key (expired,
// not yet removed) is not expired here, and its removal later is no
// modification. The key's shard must be locked.
func (db *DB) Watch(key []byte, flag *atomic.Bool) (live bool) {
	d, sh, si := db.loc(key)
	stale := false
	if o := d.tab(si).getBytes(key); o != nil {
		stale = o.expire != 0 && o.expire <= db.now()
		live = !stale
	}
	if sh.watched == nil {
		sh.watched = make(map[KeyRef][]*watchEntry)
	}
	ref := KeyRef{db.idx, string(key)}
	sh.watched[ref] = append(sh.watched[ref], &watchEntry{flag: flag, stale: stale})
	db.ks.watchers.Add(1)
	return live
}

// Unwatch removes flag from key's watchers. It locks the key's shard itself.
func (ks *Keyspace) Unwatch(ref KeyRef, flag *atomic.Bool) {
	sh := ks.shards[ShardOf([]byte(ref.Key))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.watched[ref]
	for i, w := range list {
		if w.flag == flag {
			list = append(list[:i], list[i+1:]...)
			ks.watchers.Add(-1)
			break
		}
	}
	if len(list) == 0 {
		delete(sh.watched, ref)
	} else {
		sh.watched[ref] = list
	}
}

// Waiter is a client blocked on one or more keys (BLPOP and friends).
// Whoever sets Done first (server, timeout, disconnect) owns the outcome.
type Waiter struct {
	Done   atomic.Bool
	Client any // owned by the server
	Keys   []KeyRef
}

// Block registers w as waiting on key, after any earlier waiters. The
// key's shard must be locked.
func (db *DB) Block(key []byte, w *Waiter) {
	_, sh, _ := db.loc(key)
	if sh.blocked == nil {
		sh.blocked = make(map[KeyRef][]*Waiter)
	}
	ref := KeyRef{db.idx, string(key)}
	sh.blocked[ref] = append(sh.blocked[ref], w)
}

// Waiters returns the live waiters on key in FIFO order, dropping finished
// ones. The key's shard must be locked.
func (db *DB) Waiters(key []byte) []*Waiter {
	_, sh, _ := db.loc(key)
	if len(sh.blocked) == 0 {
		return nil
	}
	ref := KeyRef{db.idx, string(key)}
	list := sh.blocked[ref]
	live := list[:0]
	for _, w := range list {
		if !w.Done.Load() {
			live = append(live, w)
		}
	}
	for i := len(live); i < len(list); i++ {
		list[i] = nil
	}
	if len(live) == 0 {
		delete(sh.blocked, ref)
		return nil
	}
	sh.blocked[ref] = live
	return live
}

// HasWaiters reports whether any client may be blocked on key. The key's
// shard must be locked.
func (db *DB) HasWaiters(key []byte) bool {
	_, sh, _ := db.loc(key)
	if len(sh.blocked) == 0 {
		return false
	}
	return len(sh.blocked[KeyRef{db.idx, string(key)}]) > 0
}

// Unblock removes w from the waiters of ref. It locks the shard itself.
func (ks *Keyspace) Unblock(ref KeyRef, w *Waiter) {
	sh := ks.shards[ShardOf([]byte(ref.Key))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.blocked[ref]
	for i, x := range list {
		if x == w {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(sh.blocked, ref)
	} else {
		sh.blocked[ref] = list
	}
}

// WaitedKeys returns the keys of database db that clients are blocked
// on. Requires every shard locked (FLUSHALL, FLUSHDB, SWAPDB serve them
// afterwards: a list may now hold elements, a stream may be gone).
func (ks *Keyspace) WaitedKeys(db int) []string {
	var keys []string
	for _, sh := range ks.shards {
		for ref := range sh.blocked {
			if ref.DB == db {
				keys = append(keys, ref.Key)
			}
		}
	}
	return keys
}
