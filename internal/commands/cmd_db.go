package commands

// Whole-database commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB. They see
// every shard, so they are registered with LockAll.

func init() {
	Register("dbsize", cmdDBSize, LockAll())
	Register("flushdb", cmdFlushDB, LockAll())
	Register("flushall", cmdFlushAll, LockAll())
	Register("swapdb", cmdSwapDB, LockAll())
}

const (
	errSwapFirst  = "ERR invalid first DB index"
	errSwapSecond = "ERR invalid second DB index"
)

func cmdDBSize(c *Ctx) { c.W.Int(int64(c.DB.Len())) }

// flushArgs checks FLUSHDB/FLUSHALL's optional ASYNC|SYNC and reports
// whether Redis would free the keys in the background (ASYNC, or neither
// with lazyfree-lazy-user-flush). Freeing is the same here either way:
// the Go collector reclaims the memory; only lazyfreed_objects differs.
func flushArgs(c *Ctx) (async, ok bool) {
	switch {
	case len(c.Args) == 1:
		return c.KS.LazyUserFlush.Load(), true
	case len(c.Args) == 2 && EqualFold(c.Args[1], "sync"):
		return false, true
	case len(c.Args) == 2 && EqualFold(c.Args[1], "async"):
		return true, true
	}
	c.Error(ErrSyntax)
	return false, false
}

// flushed counts the keys a flush removed in lazyfreed_objects when Redis
// would have freed them in the background (emptyDbAsync).
func flushed(c *Ctx, async bool, removed int) {
	if async {
		c.KS.LazyFreed.Add(int64(removed))
	}
}

func cmdFlushDB(c *Ctx) {
	async, ok := flushArgs(c)
	if !ok {
		return
	}
	removed := c.DB.Flush()
	flushed(c, async, removed)
	// Propagated even when the database was already empty, as Redis.
	c.Dirty += max(removed, 1)
	readyWaited(c, c.DB.Index())
	c.W.OK()
}

// readyWaited has the clients blocked on keys of database db served after
// a command replaced the database whole: a blocked XREADGROUP whose
// stream is gone fails, a blocked pop on a list that now exists gets it,
// the others block again (Redis's scanDatabaseForReadyKeys and
// scanDatabaseForDeletedStreams).
func readyWaited(c *Ctx, db int) {
	for _, k := range c.KS.WaitedKeys(db) {
		c.ReadyInDB(db, []byte(k))
	}
}

func cmdFlushAll(c *Ctx) {
	async, ok := flushArgs(c)
	if !ok {
		return
	}
	removed := 0
	for i := 0; i < c.KS.NumDB(); i++ {
		removed += c.KS.DB(i).Flush()
		readyWaited(c, i)
	}
	flushed(c, async, removed)
	c.Dirty += removed + 1
	c.W.OK()
}

// parseInt32Arg parses an int-sized argument, replying msg (or Redis's
// generic errors when msg is empty) if it is not one.
func parseInt32Arg(c *Ctx, arg []byte, msg string) (int, bool) {
	v, ok := ParseInt(arg)
	if ok && (v < -1<<31 || v > 1<<31-1) {
		ok = false
		if msg == "" {
			msg = errIntRange
		}
	}
	if !ok {
		if msg == "" {
			msg = ErrNotInt
		}
		c.Error(msg)
		return 0, false
	}
	return int(v), true
}

// SWAPDB index1 index2
func cmdSwapDB(c *Ctx) {
	a, ok := parseInt32Arg(c, c.Args[1], errSwapFirst)
	if !ok {
		return
	}
	b, ok := parseInt32Arg(c, c.Args[2], errSwapSecond)
	if !ok {
		return
	}
	n := c.KS.NumDB()
	if a < 0 || a >= n || b < 0 || b >= n {
		c.Error(ErrDBIndex)
		return
	}
	if a != b {
		c.KS.Swap(a, b)
		readyWaited(c, a)
		readyWaited(c, b)
	}
	c.Dirty++
	c.W.OK()
}
