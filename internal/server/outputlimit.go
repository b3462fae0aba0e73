package server

// Output buffer limits (client-output-buffer-limit) for normal and
// pub/sub clients; replicas' are the replication package's. As Redis, a
// client whose unsent output reaches the hard limit, or stays past the
// soft one too long, is closed without being sent any of it.

import (
	"strings"

	"redgo/internal/config"
	"redgo/internal/obuf"
)

// initOutputLimits keeps the parsed limits in step with the directive.
func (s *Server) initOutputLimits() {
	set := func(v string) error {
		l, err := obuf.Parse(strings.Fields(v), obuf.Limits{}, config.ParseMemory)
		if err == nil {
			s.obufLimits.Store(&l)
		}
		return err
	}
	_ = set(s.Cfg.Get("client-output-buffer-limit"))
	s.Cfg.OnSet("client-output-buffer-limit", set)
}

// outputClass is the client's class for the limits.
func (c *Client) outputClass() obuf.Class {
	if c.nsubs.Load() > 0 {
		return obuf.Pubsub
	}
	return obuf.Normal
}

// outputHardLimit is the client's hard limit (0: none), for handlers
// that stop a reply without bound (commands.Ctx.OutputLimit).
func (c *Client) outputHardLimit() int64 {
	return c.srv.obufLimits.Load().Of(c.outputClass()).Hard
}

// outputOverLocked reports whether used bytes of unsent output close the
// client now. Callers hold c.mu.
func (c *Client) outputOverLocked(used int64) bool {
	lim := c.srv.obufLimits.Load().Of(c.outputClass())
	if lim.Hard == 0 && lim.Soft == 0 {
		return false
	}
	return c.obuf.Over(used, lim, c.srv.clockSec.Load())
}

// closeForOutput closes a client past its output limit.
func (c *Client) closeForOutput() {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	c.srv.Log.Printf("# Client id=%d addr=%s name=%s closed for overcoming of output buffer limits.", c.id, c.addr, name)
	c.kill()
}

// checkOutputLimits applies the soft limits to clients whose output
// waits while no new output comes (the cron, once a second).
func (s *Server) checkOutputLimits() {
	s.mu.Lock()
	all := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.mu.Lock()
		over := (len(c.out) > 0 || c.inflight > 0) && c.outputOverLocked(int64(len(c.out)+c.inflight))
		c.mu.Unlock()
		if over {
			c.closeForOutput()
		}
	}
}
