package server

// maxmemory: what counts as used memory, the Store the evictor works on
// (internal/evict), and the refusal of commands that may grow the dataset
// when nothing more can be evicted, as Redis's processCommand.

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/commands"
	"redgo/internal/evict"
	"redgo/internal/keyspace"
	"redgo/internal/memlimit"
	"redgo/internal/notify"
)

const errOOM = "OOM command not allowed when used memory > 'maxmemory'."

type memState struct {
	mu sync.Mutex // one eviction at a time; taken before any shard lock
	ev *evict.Evictor

	max                atomic.Int64
	policy             atomic.Uint32 // evict.Policy
	samples, tenacity  atomic.Int64
	lazy, ignoreOnRepl atomic.Bool

	clients atomic.Int64 // bytes in clients' query and output buffers (Client.addMem)
	evicted atomic.Int64
	over    atomic.Bool        // the last eviction ran out of time: the cron goes on
	gov     *memlimit.Governor // GOGC from the live heap, GOMEMLIMIT from maxmemory
}

// usedMemory is Redis's used_memory: the heap at start-up, the accounted
// dataset (keyspace/memory.go) and the clients' buffers.
func (s *Server) usedMemory() int64 {
	return s.admin.startupMem + s.KS.Used() + s.mem.clients.Load()
}

func (s *Server) initMaxmemory() {
	cfg, m := s.Cfg, &s.mem
	m.ev = evict.New(evictStore{s})
	m.gov = memlimit.New()
	num := func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }
	setMax := func(v string) error {
		m.max.Store(num(v))
		s.setMemoryLimit()
		return nil
	}
	setPolicy := func(v string) error {
		p, _ := evict.ParsePolicy(v)
		m.policy.Store(uint32(p))
		s.KS.LFU.Store(p.LFU())
		m.mu.Lock()
		m.ev.Reset()
		m.mu.Unlock()
		return nil
	}
	setMax(cfg.Get("maxmemory"))
	setPolicy(cfg.Get("maxmemory-policy"))
	m.samples.Store(cfg.Int("maxmemory-samples"))
	m.tenacity.Store(cfg.Int("maxmemory-eviction-tenacity"))
	m.lazy.Store(cfg.Bool("lazyfree-lazy-eviction"))
	m.ignoreOnRepl.Store(cfg.Bool("replica-ignore-maxmemory"))
	s.KS.LFULogFactor.Store(cfg.Int("lfu-log-factor"))
	s.KS.LFUDecayMin.Store(cfg.Int("lfu-decay-time"))
	cfg.OnSet("maxmemory", func(v string) error {
		setMax(v)
		s.setClientLimit(s.Cfg.Get("maxmemory-clients")) // it may be a percentage of maxmemory
		s.evictClients(nil)
		if m.max.Load() > 0 && s.usedMemory() > m.max.Load() {
			s.Log.Printf("# WARNING: the new maxmemory value set via CONFIG SET (%d) is smaller than the current memory usage (%d). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.", m.max.Load(), s.usedMemory())
			// CONFIG SET runs with every shard locked and an eviction
			// locks the shard of each key it evicts: the cron evicts
			// (calling performEvictions here deadlocked).
			m.over.Store(true)
		}
		return nil
	})
	cfg.OnSet("maxmemory-policy", setPolicy)
	cfg.OnSet("maxmemory-samples", func(v string) error { m.samples.Store(num(v)); return nil })
	cfg.OnSet("maxmemory-eviction-tenacity", func(v string) error { m.tenacity.Store(num(v)); return nil })
	cfg.OnSet("lazyfree-lazy-eviction", func(v string) error { m.lazy.Store(v == "yes"); return nil })
	cfg.OnSet("replica-ignore-maxmemory", func(v string) error { m.ignoreOnRepl.Store(v == "yes"); return nil })
	cfg.OnSet("lfu-log-factor", func(v string) error { s.KS.LFULogFactor.Store(num(v)); return nil })
	cfg.OnSet("lfu-decay-time", func(v string) error { s.KS.LFUDecayMin.Store(num(v)); return nil })
}

// setMemoryLimit hands maxmemory to the GC governor (internal/memlimit),
// which keeps the garbage waiting for a collection to a fraction of the
// live data and caps the heap past maxmemory.
func (s *Server) setMemoryLimit() { s.mem.gov.SetMax(s.mem.max.Load()) }

// oomRefusal evicts what the policy allows when used memory is past
// maxmemory, and returns the OOM error for a command that may grow the
// dataset if that was not enough, or "".
func (s *Server) oomRefusal(c *Client, cmd *commands.Command) string {
	c.oomAtStart = false
	if s.mem.max.Load() == 0 || c == s.masterClient || c.replicaLink.Load() {
		return ""
	}
	if s.performEvictions() != evict.Failed {
		return ""
	}
	// A script's first deny-oom command is refused too (scriptCall).
	c.oomAtStart = true
	switch {
	case cmd.Has(commands.FDenyOOM), cmd.Name == "exec" && c.multi.has(commands.FDenyOOM):
		return errOOM
	case c.multi != nil && !isMultiEnd(cmd):
		// Queueing takes memory too: refused, as Redis, except what ends
		// the transaction.
		return errOOM
	}
	return ""
}

func isMultiEnd(cmd *commands.Command) bool {
	switch cmd.Name {
	case "exec", "discard", "quit", "reset":
		return true
	}
	return false
}

// performEvictions frees memory down to maxmemory, as Redis's function
// of that name. A replica leaves its dataset to its master unless
// replica-ignore-maxmemory is off.
func (s *Server) performEvictions() evict.Result {
	m := &s.mem
	max := m.max.Load()
	if max == 0 || s.isReplica.Load() && m.ignoreOnRepl.Load() {
		return evict.Freed
	}
	if s.usedMemory() <= max {
		m.over.Store(false)
		return evict.Freed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	need := s.usedMemory() - max
	start := time.Now()
	_, _, res := m.ev.Free(evict.Policy(m.policy.Load()), need, int(m.samples.Load()), evict.TimeBudget(int(m.tenacity.Load())))
	s.latency.sample("eviction-cycle", time.Since(start))
	m.over.Store(res == evict.Running)
	if res == evict.Running {
		return evict.Freed // the cron goes on; commands run meanwhile, as Redis's timer proc
	}
	return res
}

// cronMaxmemory goes on with an eviction that ran out of time.
func (s *Server) cronMaxmemory() {
	s.mem.gov.Tick(s.KS.Used())
	if s.mem.over.Load() || s.mem.max.Load() > 0 && s.usedMemory() > s.mem.max.Load() {
		s.performEvictions()
	}
}

// addMem counts a change of what the client's buffers hold in
// used_memory's clients figure, until the client is gone.
func (c *Client) addMem(d int64) {
	if d != 0 {
		c.memHeld.Add(d)
		c.srv.mem.clients.Add(d)
	}
}

// setOutLocked replaces the shared output buffer, counting the change of
// its size. c.mu is held.
func (c *Client) setOutLocked(b []byte) {
	if !c.memGone {
		c.addMem(int64(cap(b)) - int64(cap(c.out)))
	}
	c.out = b
}

// qbufResized counts a new query buffer (the connection's goroutine).
func (c *Client) qbufResized() {
	n := int64(cap(c.qbuf))
	if d := n - c.qbufCap.Swap(n); d != 0 {
		c.snap.qbufCap.Store(n) // CLIENT LIST shows it before the request completes
		c.addMem(d)
		if d > 0 {
			c.checkEvict()
		}
	}
}

// memRelease takes what the client still holds out of the figure.
func (c *Client) memRelease() {
	c.mu.Lock()
	c.memGone = true
	c.mu.Unlock()
	c.srv.mem.clients.Add(-c.memHeld.Swap(0))
	c.srv.cev.multiTotal.Add(-c.snap.multiMem.Swap(0))
}

// evictStore is the keyspace as the evictor sees it.
type evictStore struct{ s *Server }

func (st evictStore) Sample(volatile bool, n int, fn func(evict.Key)) bool {
	return st.s.KS.Sample(volatile, n, func(db int, key string, o *keyspace.Object) {
		fn(evict.Key{DB: db, Key: key, Access: o.LRU(), Expire: o.Expire()})
	})
}

// Evict deletes an evicted key with its shard held: a running snapshot
// captures it first, watchers are touched, and the deletion goes to the
// AOF and replicas as DEL (UNLINK with lazyfree-lazy-eviction).
func (st evictStore) Evict(dbi int, key string, volatile bool) (int64, bool) {
	s, k := st.s, []byte(key)
	idx := []int{keyspace.ShardOf(k)}
	s.KS.Lock(idx)
	defer s.KS.Unlock(idx)
	db := s.KS.DB(dbi)
	o := db.RawGet(k)
	if o == nil || volatile && o.Expire() == 0 {
		return 0, false
	}
	if s.persist.Snapshotting() {
		s.persist.BeforeExpire(dbi, key)
	}
	cost := keyspace.KeyCost(key, o)
	db.Delete(k)
	if s.mem.lazy.Load() {
		s.KS.FreedLazily(o)
	}
	s.mem.evicted.Add(1)
	s.KS.Events.Fire(notify.Evicted, "evicted", dbi, k)
	s.invalidate(k, nil)
	if s.hasProps.Load() {
		del := "DEL"
		if s.mem.lazy.Load() {
			del = "UNLINK"
		}
		s.feed(nil, dbi, [][][]byte{{[]byte(del), k}})
	}
	return cost, true
}

func (st evictStore) Idle(access uint32) uint64      { return st.s.KS.Idle(access) }
func (st evictStore) LFUCounter(access uint32) uint8 { return st.s.KS.LFUCounter(access) }
