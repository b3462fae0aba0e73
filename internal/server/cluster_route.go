package server

// The cluster routing check repeated under the command's locks. execute
// routes a command before it locks anything (clusterRoute in cluster.go);
// between that check and the lock the slot may change hands (SETSLOT,
// gossip) or, in a migrating slot, its key may leave (MIGRATE deletes it
// under the same shard lock). Redis, single-threaded, has no such window;
// here Admit (run.go) and EXEC ask again once the locks are held, so a
// command never runs on a key that is no longer served here.

import (
	"redgo/internal/cluster"
)

// routed records a decision to run here, for rerouteLocked.
func (cc *clusterClient) routed(r *cluster.Routes, sl int, q cluster.Query) {
	q.Keys, q.Missing = nil, nil
	cc.routedBy, cc.routedSlot, cc.routedQ = r, sl, q
}

// rerouteLocked routes keys again with their shards locked and returns
// the redirection's error text, or "" to run here. When the routes are
// the ones the first check used and the slot is not open (migrating or
// importing), nothing can have changed: one atomic load.
func (c *Client) rerouteLocked(keys [][]byte) string {
	cm := c.srv.cluster
	r := cm.routes.Load()
	if c.cl.routedBy == nil || r == c.cl.routedBy && !r.Open(c.cl.routedSlot) {
		return ""
	}
	q := c.cl.routedQ
	q.Keys, q.Missing = keys, cm.missingLocked
	red, ep, sl := r.Route(&q)
	if red == cluster.RouteHere {
		return ""
	}
	return cm.redirectText(red, ep, sl)
}

// rerouteExec is rerouteLocked for a transaction, with every shard of its
// keys locked by EXEC.
func (c *Client) rerouteExec(m *multiState) string {
	if c.srv.cluster == nil || c == c.srv.masterClient {
		return ""
	}
	keys := c.cl.keys[:0]
	for _, q := range m.cmds {
		for _, p := range q.cmd.KeyPositions(q.args, nil) {
			keys = append(keys, q.args[p])
		}
	}
	msg := ""
	if len(keys) > 0 {
		msg = c.rerouteLocked(keys)
	}
	clear(keys)
	c.cl.keys = keys[:0]
	return msg
}

// countMissingLocked is countMissing for a caller that holds the slot's
// shard lock.
func (s *Server) countMissingLocked(sl int, keys [][]byte) (missing, existing int) {
	db := s.KS.DB(0)
	for _, k := range keys {
		if db.Exists(k) {
			existing++
		} else {
			missing++
		}
	}
	return missing, existing
}
