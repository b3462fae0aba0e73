// Package keyspace stores the databases: key -> *Object, with expiry, split
// into shards by hash slot so commands on different shards run in parallel.
//
// Locking contract (the caller's duties):
//  1. Every DB method that takes a key requires the lock of that key's shard
//     (Keyspace.ShardOf) to be held by the caller.
//  2. Methods that span the whole database (Len, ForEach, Flush, Scan,
//     RandomKey, Swap) require every shard lock (LockAll).
//  3. Shard locks are always taken in ascending shard index (Lock does this).
//
// Inside a shard, each database keeps one hash table per hash slot
// (table.go), so counting or listing the keys of a slot (cluster
// GETKEYSINSLOT) and SCAN's cursor work without a full scan.
package keyspace

import (
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/datatype"
	"redgo/internal/notify"
	"redgo/internal/slot"
)

// NShards is the number of lock shards. Slot s lives in shard s % NShards.
const NShards = 64

const slotsPerShard = slot.Count / NShards

// Keyspace holds all databases.
type Keyspace struct {
	shards []*Shard
	ndb    int

	// serial is held while a thread takes more than one shard (Lock of
	// several, LockAll), and for the whole run of a holder that takes
	// shards as it goes (LockSerial: a script outside cluster mode). The
	// only thread that may wait for a shard while holding another out of
	// ascending order is serial's holder, and every other thread that
	// waits for a shard while holding one is in its ascending
	// acquisition, which cannot start while serial is taken: so no cycle.
	serial sync.Mutex

	// Now returns the current unix time in milliseconds. Tests may replace it.
	Now func() int64

	// Replica, when true, makes lookups treat expired keys as missing without
	// deleting them (a replica waits for the master's DEL), as Redis.
	Replica atomic.Bool

	Hits, Misses, ExpiredKeys atomic.Int64

	// Limits are the encoding thresholds (hash-max-listpack-entries...)
	// of the values made for this keyspace: commands and loaders pass them
	// to the structures they create.
	Limits *datatype.Limits

	// LazyFreed counts the values dropped that Redis would have freed
	// in the background (lazyfree.go): INFO's lazyfreed_objects.
	LazyFreed atomic.Int64
	// LazyUserDel and LazyUserFlush are lazyfree-lazy-user-del (DEL as
	// UNLINK) and lazyfree-lazy-user-flush (FLUSHDB/FLUSHALL as ASYNC).
	LazyUserDel, LazyUserFlush atomic.Bool
	// MaxBulkLen is proto-max-bulk-len: the longest string a command may
	// build (SETRANGE, APPEND, SETBIT...).
	MaxBulkLen atomic.Int64

	// OnExpire, if set, is called when a key is deleted because it expired
	// (lazily or by the active cycle), with its shard locked, so the
	// deletion can be propagated as a DEL to the AOF and replicas.
	OnExpire func(db int, key string)

	// Events fires keyspace notifications (nil: none). The keyspace
	// fires expired (a key found or sampled past its TTL), keymiss (a
	// Lookup that found nothing) and new (Set created the key); commands
	// fire the rest through their Ctx.
	Events *notify.Notifier

	// BeforeExpire, if set, is called just before a key is deleted
	// because it expired, with its shard locked (a running snapshot
	// captures it first).
	BeforeExpire func(db int, key string)

	// watchers counts registered WATCHes so Touch can skip the map lookup.
	watchers atomic.Int64

	views       []*DB // DB(i) without an allocation per command
	masterViews []*DB // MasterDB(i)

	lruClock atomic.Uint32 // cached LRUClock, see TickClock

	used atomic.Int64 // accounted bytes of every key (memory.go)

	// LFU, when set, makes an object's access field an LFU counter and
	// its time (lfu.go) instead of its last access time.
	LFU                       atomic.Bool
	LFULogFactor, LFUDecayMin atomic.Int64
}

// Shard owns the keys of NShards-th of the slots, in every database.
type Shard struct {
	mu    sync.Mutex
	index int
	dbs   []shardDB

	// watched: key -> the clients watching it (WATCH).
	watched map[KeyRef][]*watchEntry
	// blocked: key -> clients blocked on it (BLPOP...), FIFO.
	blocked map[KeyRef][]*Waiter
}

type shardDB struct {
	// slots holds the tables themselves, not pointers to them: a lookup
	// goes from the slot number straight to the table's array, one
	// dependent memory load fewer. nil until the first key.
	slots    *[slotsPerShard]table
	count    int
	used     int64              // accounted bytes of the keys (memory.go)
	volatile map[string]*Object // keys with an expiry
}

// KeyRef names a key in a database.
type KeyRef struct {
	DB  int
	Key string
}

// New returns an empty keyspace with ndb databases.
func New(ndb int) *Keyspace {
	ks := &Keyspace{ndb: ndb, Now: func() int64 { return time.Now().UnixMilli() }, Limits: datatype.NewLimits()}
	ks.MaxBulkLen.Store(512 << 20)
	ks.shards = make([]*Shard, NShards)
	for i := range ks.shards {
		ks.shards[i] = &Shard{index: i, dbs: make([]shardDB, ndb)}
	}
	ks.views = make([]*DB, ndb)
	ks.masterViews = make([]*DB, ndb)
	for i := range ks.views {
		ks.views[i] = &DB{ks: ks, idx: i}
		ks.masterViews[i] = &DB{ks: ks, idx: i, master: true}
	}
	return ks
}

// NewLike returns an empty keyspace with ks's databases, limits and
// clock, for a dataset loaded aside (a replica's swapdb load).
func (ks *Keyspace) NewLike() *Keyspace {
	n := New(ks.ndb)
	n.Now, n.Limits = ks.Now, ks.Limits
	n.MaxBulkLen.Store(ks.MaxBulkLen.Load())
	return n
}

// ReplaceWith makes the contents of other ks's own and leaves ks's
// former contents in other. Requires every shard of ks locked; nobody
// else may use other. Watchers of any key are touched.
func (ks *Keyspace) ReplaceWith(other *Keyspace) {
	for i, sh := range ks.shards {
		if ks.watchers.Load() > 0 {
			for ref := range sh.watched {
				ks.touch(sh, ref.DB, ref.Key)
			}
		}
		sh.dbs, other.shards[i].dbs = other.shards[i].dbs, sh.dbs
	}
	mine := ks.used.Load()
	ks.used.Store(other.used.Load())
	other.used.Store(mine)
}

// NumDB returns the number of databases.
func (ks *Keyspace) NumDB() int { return ks.ndb }

// ShardOf returns the shard index of key.
func ShardOf(key []byte) int { return slot.Of(key) % NShards }

// Shard returns shard i.
func (ks *Keyspace) Shard(i int) *Shard { return ks.shards[i] }

// Lock locks the given shards in ascending order. idx must be sorted and
// free of duplicates (see SortShards). The caller holds no shard.
func (ks *Keyspace) Lock(idx []int) {
	switch len(idx) {
	case 0:
		return
	case 1:
		ks.shards[idx[0]].mu.Lock()
		return
	}
	ks.serial.Lock()
	for _, i := range idx {
		ks.shards[i].mu.Lock()
	}
	ks.serial.Unlock()
}

// LockSerial locks the given shards (sorted, no duplicates) and keeps
// the serial lock until UnlockSerial: meanwhile the caller may take
// more shards, in any order, with LockMore (a script's undeclared keys).
// The caller holds no shard.
func (ks *Keyspace) LockSerial(idx []int) {
	ks.serial.Lock()
	for _, i := range idx {
		ks.shards[i].mu.Lock()
	}
}

// LockMore locks shard i for a LockSerial holder, whatever it holds.
func (ks *Keyspace) LockMore(i int) { ks.shards[i].mu.Lock() }

// UnlockSerial unlocks what LockSerial took (the shards LockMore took
// are the caller's to unlock first).
func (ks *Keyspace) UnlockSerial(idx []int) {
	ks.Unlock(idx)
	ks.serial.Unlock()
}

// Unlock unlocks the given shards.
func (ks *Keyspace) Unlock(idx []int) {
	for j := len(idx) - 1; j >= 0; j-- {
		ks.shards[idx[j]].mu.Unlock()
	}
}

// TryLock locks shard i if no one holds it, and reports whether it did.
func (ks *Keyspace) TryLock(i int) bool { return ks.shards[i].mu.TryLock() }

// LockAll locks every shard. The caller holds no shard.
func (ks *Keyspace) LockAll() {
	ks.serial.Lock()
	for _, s := range ks.shards {
		s.mu.Lock()
	}
	ks.serial.Unlock()
}

// UnlockAll unlocks every shard.
func (ks *Keyspace) UnlockAll() {
	for j := len(ks.shards) - 1; j >= 0; j-- {
		ks.shards[j].mu.Unlock()
	}
}

// SortShards sorts and deduplicates shard indexes in place.
func SortShards(idx []int) []int {
	if len(idx) < 2 {
		return idx
	}
	sort.Ints(idx)
	out := idx[:1]
	for _, v := range idx[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// DB returns a view of database i.
func (ks *Keyspace) DB(i int) *DB { return ks.views[i] }

// MasterDB returns database i as a replica's master client sees it: on a
// replica (Replica set), a key past its expiry is still there (expireIfNeeded
// with server.current_client == server.master).
func (ks *Keyspace) MasterDB(i int) *DB { return ks.masterViews[i] }

// LRUClock returns the current LRU clock in seconds. It is a cached value
// refreshed by TickClock (the server's cron, 10 times a second), as Redis
// caches its LRU clock, so lookups do not read the system clock.
func (ks *Keyspace) LRUClock() uint32 {
	if v := ks.lruClock.Load(); v != 0 {
		return v
	}
	return uint32(ks.Now() / 1000)
}

// TickClock refreshes the cached LRU clock; until it is first called,
// LRUClock reads Now.
func (ks *Keyspace) TickClock() { ks.lruClock.Store(uint32(ks.Now() / 1000)) }

// DB is a view of one database. See the package doc for locking.
type DB struct {
	ks  *Keyspace
	idx int
	// master: the view of a replica's master client, to which a key
	// past its expiry still exists until the master's DEL arrives.
	master bool
	// at, when not 0, is the time (unix ms) expiry is judged at instead of
	// the clock: a script's commands all see the instant it started.
	at int64
}

// At returns a view of db whose expiry decisions use the time now (unix
// ms) instead of the clock, as Redis freezes time while a script runs.
func (db *DB) At(now int64) *DB {
	v := *db
	v.at = now
	return &v
}

// AtIn is At writing the view into v, which it returns: no allocation
// when v lives in a longer-lived structure (a script's host).
func (db *DB) AtIn(v *DB, now int64) *DB {
	*v = *db
	v.at = now
	return v
}

// now is the time expiry is judged at.
func (db *DB) now() int64 {
	if db.at != 0 {
		return db.at
	}
	return db.ks.Now()
}

// Index returns the database number.
func (db *DB) Index() int { return db.idx }

// Keyspace returns the keyspace the DB belongs to.
func (db *DB) Keyspace() *Keyspace { return db.ks }

func (db *DB) loc(key []byte) (*shardDB, *Shard, int) {
	s := slot.Of(key)
	sh := db.ks.shards[s%NShards]
	return &sh.dbs[db.idx], sh, s / NShards
}

// noKeys stands for the table of a slot without keys (only read).
var noKeys table

// tab returns slot si's table (read only while the database has no keys
// in this shard).
func (d *shardDB) tab(si int) *table {
	if d.slots != nil {
		return &d.slots[si]
	}
	return &noKeys
}

// Lookup returns the live value at key, or nil. An expired key is deleted
// (on a master) and reported missing. It updates the access time and the
// keyspace hit/miss counters; use Peek to avoid that.
func (db *DB) Lookup(key []byte) *Object {
	o := db.lookup(key)
	if o == nil {
		db.ks.Misses.Add(1)
		db.ks.Events.Fire(notify.KeyMiss, "keymiss", db.idx, key)
		return nil
	}
	db.ks.Hits.Add(1)
	o.lru = db.ks.access(o.lru)
	return o
}

// LookupWrite is Lookup for a key about to be modified: no hit/miss stats.
func (db *DB) LookupWrite(key []byte) *Object {
	o := db.lookup(key)
	if o != nil {
		o.lru = db.ks.access(o.lru)
	}
	return o
}

// Peek is Lookup without side effects other than expiring the key.
func (db *DB) Peek(key []byte) *Object { return db.lookup(key) }

func (db *DB) lookup(key []byte) *Object {
	d, sh, si := db.loc(key)
	o := d.tab(si).getBytes(key)
	if o == nil {
		return nil
	}
	if o.expire != 0 && o.expire <= db.now() {
		if db.ks.Replica.Load() {
			if db.master {
				return o
			}
			return nil
		}
		k := o.key
		if db.ks.BeforeExpire != nil {
			db.ks.BeforeExpire(db.idx, k)
		}
		db.deleteIn(d, sh, si, k, o)
		db.ks.ExpiredKeys.Add(1)
		if db.ks.OnExpire != nil {
			db.ks.OnExpire(db.idx, k)
		}
		db.ks.Events.Fire(notify.Expired, "expired", db.idx, key)
		return nil
	}
	return o
}

// Exists reports whether key holds a live value (no stats, no LRU update).
func (db *DB) Exists(key []byte) bool { return db.lookup(key) != nil }

// Set stores o at key, replacing any value. The new value has no expiry
// unless o.expire was set with SetExpireAt before, or keepTTL is true and
// the old value had one. o must not be stored at another key (an object
// holds its key): delete it there first.
func (db *DB) Set(key []byte, o *Object, keepTTL bool) { db.set(key, o, keepTTL, true) }

// Load is Set for a loader (an RDB file): no keyspace events, as Redis
// loads keys silently.
func (db *DB) Load(key []byte, o *Object) { db.set(key, o, false, false) }

func (db *DB) set(key []byte, o *Object, keepTTL, events bool) {
	d, sh, si := db.loc(key)
	if d.slots == nil {
		d.slots = new([slotsPerShard]table)
	}
	t := &d.slots[si]
	i := t.findBytes(key)
	var old *Object
	var k string
	had := i >= 0
	switch {
	case had:
		old = t.ents()[i].obj()
		k = old.key
		if o.Flags&strBorrowed != 0 {
			o.own(nil)
		}
	case o.Flags&strBorrowed != 0:
		k = o.own(key)
	default:
		k = string(key)
	}
	o.lru = db.ks.newAccess(old)
	isNew := !had
	if had {
		db.ks.account(d, -KeyCost(k, old))
		if old.expire != 0 && old.expire <= db.now() && !db.ks.Replica.Load() {
			isNew = true
			if events {
				db.ks.Events.Fire(notify.Expired, "expired", db.idx, key)
			}
			old.expire = 0 // logically gone: do not keep its TTL
			delete(d.volatile, k)
		}
		if keepTTL && old.expire != 0 {
			o.expire = old.expire
		}
		if old.expire != 0 && o.expire == 0 {
			delete(d.volatile, k)
		}
	}
	o.key = k
	if had {
		o.h16 = old.h16
		t.replace(i, o)
	} else {
		t.insert(o)
		d.count++
	}
	o.compact()
	o.measure()
	db.ks.account(d, KeyCost(k, o))
	if o.expire != 0 {
		if d.volatile == nil {
			d.volatile = make(map[string]*Object)
		}
		d.volatile[k] = o
	}
	_ = sh
	if isNew && events {
		db.ks.Events.Fire(notify.NewKey, "new", db.idx, key)
	}
}

// Delete removes key. It reports whether a live value was removed.
func (db *DB) Delete(key []byte) bool {
	d, sh, si := db.loc(key)
	t := d.tab(si)
	i := t.findBytes(key)
	if i < 0 {
		return false
	}
	o := t.ents()[i].obj()
	live := o.expire == 0 || o.expire > db.now()
	db.deleteAt(d, sh, si, i, o)
	return live
}

// deleteIn removes key, stored with object o, from slot table si.
func (db *DB) deleteIn(d *shardDB, sh *Shard, si int, key string, o *Object) {
	db.deleteAt(d, sh, si, d.tab(si).find(key), o)
}

// deleteAt removes object o, at index i of slot table si.
func (db *DB) deleteAt(d *shardDB, sh *Shard, si, i int, o *Object) {
	key := o.key
	d.slots[si].deleteAt(i)
	if o.expire != 0 {
		delete(d.volatile, key)
	}
	d.count--
	db.ks.account(d, -KeyCost(key, o))
	db.ks.touch(sh, db.idx, key)
}

// SetExpireAt sets the absolute expiry (unix ms) of the value at key, which
// must exist (o is the object returned by a lookup). at == 0 removes it.
func (db *DB) SetExpireAt(key []byte, o *Object, at int64) {
	d, _, _ := db.loc(key)
	if o.expire != 0 && at != 0 && o.key != "" {
		// A stored key with an expiry is in volatile already (set keeps
		// it there): only the time changes.
		o.expire = at
		return
	}
	if (o.expire == 0) != (at == 0) {
		if at == 0 {
			db.ks.account(d, -volatileOverhead)
		} else {
			db.ks.account(d, volatileOverhead)
		}
	}
	o.expire = at
	k := o.key
	if k == "" { // not stored yet
		k = string(key)
	}
	if at == 0 {
		delete(d.volatile, k)
		return
	}
	if d.volatile == nil {
		d.volatile = make(map[string]*Object)
	}
	d.volatile[k] = o
}

// SetExpire sets the expiry of a new object before it is stored with Set.
func (o *Object) SetExpire(at int64) { o.expire = at }

// Len returns the number of keys (including not yet reclaimed expired
// ones, as Redis's DBSIZE). Requires all shards locked, or tolerates a
// racy count when called without (INFO keyspace).
func (db *DB) Len() int {
	n := 0
	for _, sh := range db.ks.shards {
		n += sh.dbs[db.idx].count
	}
	return n
}

// Expires returns the number of keys with an expiry.
func (db *DB) Expires() int {
	n := 0
	for _, sh := range db.ks.shards {
		n += len(sh.dbs[db.idx].volatile)
	}
	return n
}

// ForEach calls fn for every live key until fn returns false. Requires all
// shards locked. fn must not add or delete keys.
func (db *DB) ForEach(fn func(key string, o *Object) bool) {
	now := db.now()
	for s := 0; s < slot.Count; s++ {
		if !db.forSlot(s, now, fn) {
			return
		}
	}
}

func (db *DB) forSlot(s int, now int64, fn func(string, *Object) bool) bool {
	t := db.ks.shards[s%NShards].dbs[db.idx].tab(s / NShards)
	if t.n == 0 {
		return true
	}
	for _, r := range t.ents() {
		o := r.obj()
		if o == nil || o == tomb || o.expire != 0 && o.expire <= now {
			continue
		}
		if !fn(o.key, o) {
			return false
		}
	}
	return true
}

// SlotLen returns the number of keys in hash slot s (shard of s locked).
func (db *DB) SlotLen(s int) int {
	return int(db.ks.shards[s%NShards].dbs[db.idx].tab(s / NShards).n)
}

// SlotKeys returns up to count live keys of slot s (shard of s locked).
func (db *DB) SlotKeys(s int, count int) []string {
	var out []string
	db.forSlot(s, db.now(), func(k string, _ *Object) bool {
		if len(out) >= count {
			return false
		}
		out = append(out, k)
		return true
	})
	return out
}

// Scan visits whole hash slots starting at cursor (a slot number, stored
// bit-reversed as Redis does not need, but kept plain here) until at least
// count live keys were visited or the slots run out. It returns the next
// cursor, 0 when done. A key of those slots that is past its expiry is
// passed with a nil object: the caller filters it as it filters the
// others (SCAN's MATCH) and expires the ones it keeps with Peek, as
// Redis's SCAN does, once Scan returned. Requires all shards locked.
func (db *DB) Scan(cursor uint64, count int, fn func(key string, o *Object)) uint64 {
	if cursor >= slot.Count {
		return 0
	}
	now := db.now()
	seen := 0
	s := int(cursor)
	for ; s < slot.Count && seen < count; s++ {
		t := db.ks.shards[s%NShards].dbs[db.idx].tab(s / NShards)
		if t.n == 0 {
			continue
		}
		for _, r := range t.ents() {
			switch o := r.obj(); {
			case o == nil || o == tomb:
			case o.expire != 0 && o.expire <= now:
				fn(o.key, nil)
			default:
				fn(o.key, o)
				seen++
			}
		}
	}
	if s >= slot.Count {
		return 0
	}
	return uint64(s)
}

// RandomKey returns a random live key, or "" and false. As Redis's
// RANDOMKEY, a key it picks that is past its expiry is deleted (a master
// expires it) and it picks again; a replica, which keeps such keys until
// its master deletes them, picks among the live keys only. Requires all
// shards locked.
func (db *DB) RandomKey() (string, bool) {
	if db.ks.Replica.Load() {
		return db.randomKey(true)
	}
	for {
		k, ok := db.randomKey(false)
		if !ok {
			return "", false
		}
		if db.Peek([]byte(k)) != nil { // deletes it when it is due
			return k, true
		}
	}
}

// randomKey picks a random key, a live one only when live is set.
func (db *DB) randomKey(live bool) (string, bool) {
	total := db.Len()
	if total == 0 {
		return "", false
	}
	now := db.now()
	for tries := 0; tries < 100; tries++ {
		s := rand.IntN(slot.Count)
		t := db.ks.shards[s%NShards].dbs[db.idx].tab(s / NShards)
		if t.n == 0 {
			if total < 1000 {
				break // sparse: fall back to a walk
			}
			continue
		}
		if k, ok := t.randomKey(live, now); ok {
			return k, true
		}
	}
	// Walk from a random slot.
	start := rand.IntN(slot.Count)
	for i := 0; i < slot.Count; i++ {
		s := (start + i) % slot.Count
		if k, ok := db.ks.shards[s%NShards].dbs[db.idx].tab(s/NShards).randomKey(live, now); ok {
			return k, true
		}
	}
	return "", false
}

// randomKey returns the first key (live when live is set) from a random
// position of t.
func (t *table) randomKey(live bool, now int64) (string, bool) {
	if t.n == 0 {
		return "", false
	}
	start := t.randomStart()
	for j, size := 0, len(t.ents()); j < size; j++ {
		o := t.at((start + j) & (size - 1))
		if o == nil || live && o.expire != 0 && o.expire <= now {
			continue
		}
		return o.key, true
	}
	return "", false
}

// Flush removes every key. Requires all shards locked. Watched keys that
// existed are touched, as Redis's FLUSHDB.
func (db *DB) Flush() int {
	removed := 0
	for _, sh := range db.ks.shards {
		d := &sh.dbs[db.idx]
		if db.ks.watchers.Load() > 0 {
			for ref := range sh.watched {
				if ref.DB == db.idx && db.existsIn(d, ref.Key) {
					db.ks.touch(sh, db.idx, ref.Key)
				}
			}
		}
		removed += d.count
		db.ks.used.Add(-d.used)
		*d = shardDB{}
	}
	return removed
}

func (db *DB) existsIn(d *shardDB, key string) bool {
	s := slot.OfString(key)
	o := d.tab(s / NShards).get(key)
	return o != nil && (o.expire == 0 || o.expire > db.now())
}

// Swap exchanges the contents of databases a and b. Requires all shards
// locked. Watchers of keys in either database are touched.
func (ks *Keyspace) Swap(a, b int) {
	for _, sh := range ks.shards {
		if ks.watchers.Load() > 0 {
			for ref := range sh.watched {
				if ref.DB == a || ref.DB == b {
					ks.touch(sh, ref.DB, ref.Key)
				}
			}
		}
		sh.dbs[a], sh.dbs[b] = sh.dbs[b], sh.dbs[a]
	}
}

// ActiveExpire samples keys with an expiry in each shard, deleting expired
// ones, Redis's active expire cycle in small form. It locks one shard at a
// time and returns the number of keys deleted. Call it ~10 times a second.
func (ks *Keyspace) ActiveExpire(budget int) int {
	n, _ := ks.ActiveExpireTimed(budget)
	return n
}

// ActiveExpireTimed is ActiveExpire that also returns how long it held
// shard locks (the latency the cycle caused, the "expire-cycle" event),
// leaving out the time it waited for them.
func (ks *Keyspace) ActiveExpireTimed(budget int) (int, time.Duration) {
	if ks.Replica.Load() {
		return 0, 0
	}
	total := 0
	var held time.Duration
	for _, sh := range ks.shards {
		sh.mu.Lock()
		start := time.Now()
		now := ks.Now()
		for dbi := range sh.dbs {
			d := &sh.dbs[dbi]
			if len(d.volatile) == 0 {
				continue
			}
			for round := 0; round < 16; round++ {
				sampled, expired := 0, 0
				for k, o := range d.volatile {
					if sampled >= 20 {
						break
					}
					sampled++
					if o.expire <= now {
						if ks.BeforeExpire != nil {
							ks.BeforeExpire(dbi, k)
						}
						s := slot.OfString(k)
						ks.DB(dbi).deleteIn(d, sh, s/NShards, k, o)
						ks.ExpiredKeys.Add(1)
						if ks.OnExpire != nil {
							ks.OnExpire(dbi, k)
						}
						if ks.Events.Enabled(notify.Expired) {
							ks.Events.Fire(notify.Expired, "expired", dbi, []byte(k))
						}
						expired++
					}
				}
				total += expired
				// Keep going only while more than a quarter of the sample was stale.
				if expired*4 <= sampled || total > budget {
					break
				}
			}
		}
		held += time.Since(start)
		sh.mu.Unlock()
	}
	return total, held
}
