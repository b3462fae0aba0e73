package keyspace

// ForSlot calls fn for every live key of hash slot s until fn returns
// false (shard of s locked). fn must not add or delete keys.
func (db *DB) ForSlot(s int, fn func(key string, o *Object) bool) {
	db.forSlot(s, db.now(), fn)
}
