package server

// MEMORY STATS and MEMORY DOCTOR, and the memory figures they share with
// INFO memory.

import (
	"runtime"
	"strconv"

	"redgo/internal/commands"
)

// memFigures are the server's memory figures, as Redis's
// getMemoryOverheadData gathers them. used is the accounted figure
// maxmemory compares (maxmemory.go); the allocator figures are the Go
// heap's.
type memFigures struct {
	used, peak, startup, rss    int64
	clientsNormal, dataset      int64
	overhead                    int64
	allocated, active, resident int64
	keys                        int64
	scripts                     int64
}

func (s *Server) memFigures() memFigures {
	m := readMemStats()
	f := memFigures{used: s.usedMemory(), rss: processRSS(), startup: s.admin.startupMem}
	f.peak = s.admin.peakMem.Load()
	for f.used > f.peak {
		if s.admin.peakMem.CompareAndSwap(f.peak, f.used) {
			f.peak = f.used
			break
		}
		f.peak = s.admin.peakMem.Load()
	}
	f.clientsNormal = s.mem.clients.Load()
	f.overhead = f.startup + f.clientsNormal
	f.dataset = s.KS.Used()
	f.allocated = int64(m.HeapAlloc)
	f.active = int64(m.HeapInuse)
	f.resident = int64(m.HeapSys - m.HeapReleased)
	f.scripts = s.scripts.Memory()
	for i := range s.KS.NumDB() {
		f.keys += int64(s.KS.DB(i).Len())
	}
	return f
}

// datasetPerc is the dataset's share of the memory used above start-up.
func (f memFigures) datasetPerc() float64 {
	if net := f.used - f.startup; net > 0 {
		return float64(f.dataset) * 100 / float64(net)
	}
	return 0
}

func fratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func init() {
	// LockAll: the key counts are read under every shard's lock, as INFO.
	commands.Register("memory|stats", srvCmd(cmdMemoryStats), commands.LockAll())
	commands.Register("memory|doctor", srvCmd(cmdMemoryDoctor), commands.LockAll())
}

// cmdMemoryStats is MEMORY STATS: Redis's fields, in its order.
func cmdMemoryStats(s *Server, _ *Client, c *commands.Ctx) {
	f := s.memFigures()
	type dbOverhead struct {
		index int
		main  int64
		exp   int64
	}
	var dbs []dbOverhead
	for i := range s.KS.NumDB() {
		db := s.KS.DB(i)
		if n := db.Len(); n > 0 {
			// The key tables' own cost: one slot (pointer and hash
			// bits) per key and per volatile key, as Redis's dict
			// entries are counted there.
			dbs = append(dbs, dbOverhead{i, int64(n) * 24, int64(db.Expires()) * 24})
		}
	}
	w := c.W
	w.Map(27 + len(dbs))
	num := func(k string, v int64) { w.BulkString(k); w.Int(v) }
	dbl := func(k string, v float64) { w.BulkString(k); w.Double(v) }
	num("peak.allocated", f.peak)
	num("total.allocated", f.used)
	num("startup.allocated", f.startup)
	num("replication.backlog", 0)
	num("clients.slaves", 0)
	num("clients.normal", f.clientsNormal)
	num("cluster.links", 0)
	num("aof.buffer", 0)
	num("lua.caches", f.scripts)
	num("functions.caches", 0)
	var dbsOverhead int64
	for _, d := range dbs {
		w.BulkString("db." + strconv.Itoa(d.index))
		w.Map(3)
		num("overhead.hashtable.main", d.main)
		num("overhead.hashtable.expires", d.exp)
		num("overhead.hashtable.slot-to-keys", 0)
		dbsOverhead += d.main + d.exp
	}
	num("overhead.total", f.overhead+dbsOverhead)
	num("keys.count", f.keys)
	perKey := int64(0)
	if f.keys > 0 {
		perKey = (f.used - f.startup) / f.keys
	}
	num("keys.bytes-per-key", perKey)
	num("dataset.bytes", f.dataset)
	dbl("dataset.percentage", f.datasetPerc())
	dbl("peak.percentage", fratio(f.used*100, f.peak))
	num("allocator.allocated", f.allocated)
	num("allocator.active", f.active)
	num("allocator.resident", f.resident)
	dbl("allocator-fragmentation.ratio", fratio(f.active, f.used))
	num("allocator-fragmentation.bytes", f.active-f.used)
	dbl("allocator-rss.ratio", fratio(f.resident, f.active))
	num("allocator-rss.bytes", f.resident-f.active)
	dbl("rss-overhead.ratio", fratio(f.rss, f.resident))
	num("rss-overhead.bytes", f.rss-f.resident)
	dbl("fragmentation", fratio(f.rss, f.used))
	num("fragmentation.bytes", f.rss-f.used)
}

// cmdMemoryDoctor is MEMORY DOCTOR: Redis's checks on the same figures,
// with its wording.
func cmdMemoryDoctor(s *Server, _ *Client, c *commands.Ctx) {
	f := s.memFigures()
	var found []string
	// Redis calls an instance under 5 MB empty; redgo's own start-up
	// heap is about that size, so the data above it is what counts.
	empty := f.used-f.startup < 5<<20
	if !empty {
		const tenMB = 10 << 20
		if fratio(f.peak, f.used) > 1.5 {
			found = append(found, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
		}
		if r := fratio(f.rss, f.used); r > 1.4 && f.rss-f.used > tenMB {
			found = append(found, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \""+runtime.Version()+"\".\n\n")
		}
		if r := fratio(f.active, f.used); r > 1.1 && f.active-f.used > tenMB {
			found = append(found, " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n")
		}
		if r := fratio(f.resident, f.active); r > 1.1 && f.resident-f.active > tenMB {
			found = append(found, " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n")
		}
		if r := fratio(f.rss, f.resident); r > 1.1 && f.rss-f.resident > tenMB {
			found = append(found, " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n")
		}
		s.mu.Lock()
		n := len(s.clients)
		s.mu.Unlock()
		if n > 0 && f.clientsNormal/int64(n) > 200<<10 {
			found = append(found, " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n")
		}
		if s.scripts.Len() > 1000 {
			found = append(found, " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n")
		}
	}
	var text string
	switch {
	case empty:
		text = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. " +
			"Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	case len(found) == 0:
		text = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	default:
		text = "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
		for _, f := range found {
			text += f
		}
		text += "I'm here to keep you safe, Sam. I want to help you.\n"
	}
	c.W.Verbatim(text, "txt")
}
