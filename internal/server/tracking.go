package server

// Wiring of client-side caching (internal/tracking): CLIENT TRACKING,
// CACHING, GETREDIR, TRACKINGINFO, and the delivery of invalidations
// (RESP3 push, or a message on __redis__:invalidate to a redirect
// client). Invalidations for the client running the command are sent
// after its reply, as Redis 7.0's tracking_pending_keys.

import (
	"redgo/internal/commands"
	"redgo/internal/resp"
	"redgo/internal/tracking"
)

func (s *Server) clientByID(id int64) *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// trackRead remembers the keys of a read-only command of a tracking
// client (the caller of a script for the script's reads), with the keys
// locked.
func (s *Server) trackRead(c *Client, ctx *commands.Ctx, pos []int) {
	if c == nil || !c.tracking.Load() || !ctx.Cmd.Has(commands.FReadonly) || ctx.Cmd.Has(commands.FPubSub) {
		return
	}
	switch ctx.Cmd.Name {
	case "eval_ro", "evalsha_ro", "fcall_ro":
		return // only the read commands they run count (scriptCall.trackRead)
	}
	keys := make([][]byte, len(pos))
	for i, p := range pos {
		keys[i] = ctx.Args[p]
		// Redis remembers the keys after the command ran: a key found
		// expired by it is invalidated before the reader is recorded.
		ctx.DB.Peek(keys[i])
	}
	s.track.Remember(c.id, keys)
}

// trackWrite invalidates the keys a write changed; writer is the client
// running it (nil for the server's own deletions).
func (s *Server) trackWrite(writer *Client, ctx *commands.Ctx, pos []int) {
	if s.track.Clients() == 0 { // one atomic load on the write path
		return
	}
	if ctx.Cmd.Name == "flushall" || ctx.Cmd.Name == "flushdb" {
		s.deliver(s.track.Flush(), writer)
		return
	}
	if !s.track.Active() {
		return
	}
	for _, p := range pos {
		s.invalidate(ctx.Args[p], writer)
	}
	for _, ref := range ctx.OtherDB {
		s.invalidate([]byte(ref.Key), writer)
	}
}

// invalidate tells the clients that read key (or watch its prefix).
func (s *Server) invalidate(key []byte, writer *Client) {
	if s.track.Clients() == 0 || !s.track.Active() {
		return
	}
	var id int64
	if writer != nil {
		id = writer.id
	}
	msgs := s.track.Invalidate(key, id)
	if writer != nil && writer.inCall {
		// BCAST messages wait for the end of the writer's command (or
		// transaction, or script), gathered per prefix and client as
		// Redis sends them once per event-loop turn.
		now := msgs[:0]
		for _, m := range msgs {
			if m.BCast {
				writer.bcastPending = append(writer.bcastPending, m)
			} else {
				now = append(now, m)
			}
		}
		msgs = now
	}
	s.deliver(msgs, writer)
}

// deliver sends invalidation messages; cur is the client running the
// command, whose own messages wait for its reply (trackFlush).
func (s *Server) deliver(msgs []tracking.Message, cur *Client) {
	for _, m := range msgs {
		c := s.clientByID(m.Target)
		if c == nil {
			continue
		}
		st := s.track.Get(m.Target)
		if st.Flags&tracking.On == 0 {
			continue
		}
		to, redirected := c, false
		if st.Redirect != 0 {
			if to = s.clientByID(st.Redirect); to == nil {
				s.track.Broken(c.id)
				if c.proto.Load() == 3 {
					w := resp.Writer{Proto: 3}
					w.Push(2)
					w.BulkString("tracking-redir-broken")
					w.Int(st.Redirect)
					s.sendTracking(c, w.Buf, cur)
				}
				continue
			}
			redirected = true
		}
		w := resp.Writer{Proto: int(to.proto.Load())}
		switch {
		case w.Proto == 3:
			w.Push(2)
			w.BulkString("invalidate")
		case redirected && to.nsubs.Load() > 0:
			w.Push(3)
			w.BulkString("message")
			w.BulkString("__redis__:invalidate")
		default:
			continue // RESP2 without a redirect: nowhere to send it
		}
		if m.Flush {
			// The null of the tracking client's protocol, as Redis.
			if c.proto.Load() == 3 {
				w.Buf = append(w.Buf, "_\r\n"...)
			} else {
				w.Buf = append(w.Buf, "$-1\r\n"...)
			}
		} else {
			w.Array(len(m.Keys))
			for _, k := range m.Keys {
				w.Bulk(k)
			}
		}
		s.sendTracking(to, w.Buf, cur)
	}
}

func (s *Server) sendTracking(to *Client, msg []byte, cur *Client) {
	if to == cur {
		to.trackPending = append(to.trackPending, msg...)
		return
	}
	to.push(msg)
}

// trackEnd runs after a client's command: its own invalidations follow
// the reply, and CLIENT CACHING's flag lasts one command (or one
// transaction).
func (c *Client) trackEnd(cmd *commands.Command) {
	if len(c.bcastPending) > 0 {
		msgs := tracking.Gather(c.bcastPending)
		c.bcastPending = c.bcastPending[:0]
		c.srv.deliver(msgs, c)
	}
	if len(c.trackPending) > 0 {
		c.w.Buf = append(c.w.Buf, c.trackPending...)
		c.trackPending = c.trackPending[:0]
	}
	if c.tracking.Load() && c.multi == nil && cmd.Name != "client" && !isClientSub(cmd.Name) {
		c.srv.track.EndCommand(c.id)
	}
}

func isClientSub(name string) bool { return len(name) > 7 && name[:7] == "client|" }

// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]
func cmdClientTracking(s *Server, cc *Client, c *commands.Ctx) {
	var redirect int64
	var opts tracking.Flags
	var prefixes []string
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch a := c.Args[j]; {
		case commands.EqualFold(a, "redirect") && more > 0:
			j++
			if redirect != 0 {
				c.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := commands.ParseInt(c.Args[j])
			if !ok {
				c.Error(commands.ErrNotInt)
				return
			}
			if s.clientByID(id) == nil {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redirect = id
		case commands.EqualFold(a, "bcast"):
			opts |= tracking.BCast
		case commands.EqualFold(a, "optin"):
			opts |= tracking.OptIn
		case commands.EqualFold(a, "optout"):
			opts |= tracking.OptOut
		case commands.EqualFold(a, "noloop"):
			opts |= tracking.NoLoop
		case commands.EqualFold(a, "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(c.Args[j]))
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	switch {
	case commands.EqualFold(c.Args[2], "on"):
		if cc == nil {
			c.W.OK()
			return
		}
		if msg := s.track.Enable(cc.id, redirect, opts, prefixes); msg != "" {
			c.Error(msg)
			return
		}
		cc.tracking.Store(true)
		cc.setPrefixMem(s.track.Get(cc.id).Prefixes)
	case commands.EqualFold(c.Args[2], "off"):
		if cc != nil {
			s.track.Off(cc.id)
			cc.tracking.Store(false)
			cc.setPrefixMem(nil)
		}
	default:
		c.Error(commands.ErrSyntax)
		return
	}
	c.W.OK()
}

// setPrefixMem counts the client's BCAST prefixes in its memory (client
// eviction, maxmemory-clients), as Redis counts the nodes of its prefix
// tree: a node's overhead and the prefix's bytes each.
func (c *Client) setPrefixMem(prefixes []string) {
	var m int64
	for _, p := range prefixes {
		m += int64(len(p)) + 32
	}
	c.addMem(m - c.prefixMem)
	c.prefixMem = m
}

// CLIENT CACHING YES|NO
func cmdClientCaching(s *Server, cc *Client, c *commands.Ctx) {
	if cc == nil || !cc.tracking.Load() {
		c.Error(tracking.ErrCachingMode)
		return
	}
	var msg string
	switch {
	case commands.EqualFold(c.Args[2], "yes"):
		msg = s.track.SetCaching(cc.id, true)
	case commands.EqualFold(c.Args[2], "no"):
		msg = s.track.SetCaching(cc.id, false)
	default:
		msg = commands.ErrSyntax
	}
	if msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

func cmdClientGetredir(s *Server, cc *Client, c *commands.Ctx) {
	if cc == nil || !cc.tracking.Load() {
		c.W.Int(-1)
		return
	}
	c.W.Int(s.track.Get(cc.id).Redirect)
}

func cmdClientTrackinginfo(s *Server, cc *Client, c *commands.Ctx) {
	var st tracking.State
	if cc != nil {
		st = s.track.Get(cc.id)
	}
	c.W.Map(3)
	c.W.BulkString("flags")
	var flags []string
	if st.Flags&tracking.On != 0 {
		flags = append(flags, "on")
	} else {
		flags = append(flags, "off")
	}
	for _, f := range []struct {
		f    tracking.Flags
		name string
	}{{tracking.BCast, "bcast"}, {tracking.OptIn, "optin"}, {tracking.OptOut, "optout"}} {
		if st.Flags&f.f == 0 {
			continue
		}
		flags = append(flags, f.name)
		if f.f != tracking.BCast && st.Flags&tracking.Caching != 0 {
			flags = append(flags, map[tracking.Flags]string{tracking.OptIn: "caching-yes", tracking.OptOut: "caching-no"}[f.f])
		}
	}
	if st.Flags&tracking.NoLoop != 0 {
		flags = append(flags, "noloop")
	}
	if st.Flags&tracking.BrokenRedir != 0 {
		flags = append(flags, "broken_redirect")
	}
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("redirect")
	if st.Flags&tracking.On != 0 {
		c.W.Int(st.Redirect)
	} else {
		c.W.Int(-1)
	}
	c.W.BulkString("prefixes")
	c.W.Array(len(st.Prefixes))
	for _, p := range st.Prefixes {
		c.W.BulkString(p)
	}
}
