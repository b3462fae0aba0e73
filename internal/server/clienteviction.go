package server

// Client eviction (maxmemory-clients), as Redis 7.0: when the memory the
// normal and pub/sub clients hold (query buffers, output buffers, queued
// transactions) goes over the limit, the clients holding the most are
// disconnected until it is back under. Masters, replicas and clients
// that ran CLIENT NO-EVICT on are never evicted.

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"redgo/internal/config"
)

type clientEviction struct {
	limit      atomic.Int64 // bytes; 0: off
	multiTotal atomic.Int64 // bytes of queued transactions (clientSnap.multiMem)
	evicted    atomic.Int64 // INFO evicted_clients
	mu         sync.Mutex   // one eviction pass at a time
}

// initClientEviction reads maxmemory-clients: bytes, or a percentage of
// maxmemory. Its hook on maxmemory is set by initMaxmemory's (setMax).
func (s *Server) initClientEviction() {
	s.setClientLimit(s.Cfg.Get("maxmemory-clients"))
	s.Cfg.OnSet("maxmemory-clients", func(v string) error {
		s.setClientLimit(v) // (hooks run before the value is stored)
		s.evictClients(nil)
		return nil
	})
}

// setClientLimit computes the limit from maxmemory-clients' value v.
func (s *Server) setClientLimit(v string) {
	var lim int64
	if p, ok := strings.CutSuffix(v, "%"); ok {
		n, _ := strconv.ParseInt(p, 10, 64)
		lim = s.mem.max.Load() * n / 100
	} else {
		lim, _ = config.ParseMemory(v)
	}
	s.cev.limit.Store(lim)
}

// clientsMemory is what client eviction compares with the limit.
func (s *Server) clientsMemory() int64 {
	return s.mem.clients.Load() + s.cev.multiTotal.Load()
}

// evictionMem is what one client holds, for eviction.
func (c *Client) evictionMem() int64 {
	return c.memHeld.Load() + c.snap.multiMem.Load()
}

// checkEvict runs on the client's own goroutine, holding no lock, after
// its buffers grew (a read, a command): over the limit, clients are
// evicted, this one possibly first.
func (c *Client) checkEvict() {
	s := c.srv
	if lim := s.cev.limit.Load(); lim > 0 && s.clientsMemory() >= lim {
		s.evictClients(c)
	}
}

// evictClients disconnects the clients holding the most memory until
// the clients' total is under maxmemory-clients. self, when not nil, is
// the client whose goroutine runs this.
func (s *Server) evictClients(self *Client) {
	lim := s.cev.limit.Load()
	if lim <= 0 || s.clientsMemory() < lim {
		return
	}
	s.cev.mu.Lock()
	defer s.cev.mu.Unlock()
	type cand struct {
		c   *Client
		mem int64
	}
	var cands []cand
	for _, c := range s.clientList() {
		if c.killed.Load() || c.replicaLink.Load() || c.snap.flags.Load()&snapNoEvict != 0 {
			continue
		}
		if m := c.evictionMem(); m > 0 {
			cands = append(cands, cand{c, m})
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mem > cands[j].mem })
	total := s.clientsMemory()
	for _, x := range cands {
		if total < lim {
			return
		}
		s.Log.Printf("Evicting client: %s", s.clientInfoLine(x.c, self, nil))
		total -= x.mem
		s.cev.evicted.Add(1)
		x.c.kill()
		x.c.memRelease() // its buffers no longer count, as Redis frees it
		// Gone from CLIENT LIST at once, as Redis frees it; its goroutine
		// finishes the clean-up.
		s.removeClient(x.c)
	}
	if total >= lim {
		s.Log.Printf("# Over client maxmemory after evicting all evictable clients")
	}
}
