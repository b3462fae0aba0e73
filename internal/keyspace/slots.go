package keyspace

// ForSlot calls fn for every live key of hash slot s until fn returns
// false (shard of s locked). fn must not add or delete keys.
func (db *DB) ForSlot(s int, fn func(key string, o *Object) bool) {
	db.forSlot(s, db.now(), fn)
}

// ReserveSlot makes room in hash slot s's table for n more keys (shard of
// s locked), so a batch of keys stored in the slot does not grow the
// table, rehashing it, step by step. A table that a walk has pinned is
// left as it is.
func (db *DB) ReserveSlot(s, n int) {
	d := &db.ks.shards[s%NShards].dbs[db.idx]
	if d.slots == nil {
		d.slots = new([slotsPerShard]table)
	}
	t := &d.slots[s/NShards]
	need, size := int(t.n+t.dead)+n, len(t.ents())
	if t.pins > 0 || need*4 <= size*3 {
		return
	}
	for need*4 > size*3 {
		size = max(2, size*2)
	}
	t.resize(size)
}

// DropSlot deletes every key of hash slot s, expired ones included (shard
// of s locked), calling fn with each key just before it goes. It returns
// how many keys went. The slot's table is freed at once, not shrunk key by
// key; while a walk has it pinned, the keys go one by one.
func (db *DB) DropSlot(s int, fn func(key string)) int {
	sh := db.ks.shards[s%NShards]
	d := &sh.dbs[db.idx]
	si := s / NShards
	t := d.tab(si)
	n := int(t.n)
	if n == 0 {
		return 0
	}
	if t.pins > 0 {
		for i, r := range t.ents() {
			if o := r.obj(); o != nil && o != tomb {
				fn(o.key)
				db.deleteAt(d, sh, si, i, o)
			}
		}
		return n
	}
	e := t.ents()
	for _, r := range e {
		if o := r.obj(); o != nil {
			fn(o.key)
		}
	}
	t.setEnts(nil)
	t.n, t.dead = 0, 0
	t.ver++
	d.count -= n
	for _, r := range e { // gone from the table: WATCH sees them deleted
		o := r.obj()
		if o == nil {
			continue
		}
		if o.expire != 0 {
			delete(d.volatile, o.key)
		}
		db.ks.account(d, -KeyCost(o.key, o))
		db.ks.touch(sh, db.idx, o.key)
	}
	return n
}
