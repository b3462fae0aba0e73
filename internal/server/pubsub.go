package server

import (
	"sort"
	"strconv"
	"sync"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

// pubsub is the channel registry. Lock order: pubsub.mu before Client.mu.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*Client]struct{}
	patterns map[string]map[*Client]struct{}
	shard    map[string]map[*Client]struct{}
}

func newPubsub() *pubsub {
	return &pubsub{
		channels: map[string]map[*Client]struct{}{},
		patterns: map[string]map[*Client]struct{}{},
		shard:    map[string]map[*Client]struct{}{},
	}
}

func init() {
	commands.Register("subscribe", srvCmd(cmdSubscribe))
	commands.Register("psubscribe", srvCmd(cmdPsubscribe))
	commands.Register("unsubscribe", srvCmd(cmdUnsubscribe))
	commands.Register("punsubscribe", srvCmd(cmdPunsubscribe))
	commands.Register("publish", srvCmd(cmdPublish))
	commands.Register("ssubscribe", srvCmd(cmdSsubscribe))
	commands.Register("sunsubscribe", srvCmd(cmdSunsubscribe))
	commands.Register("spublish", srvCmd(cmdSpublish))
	commands.Register("pubsub|channels", srvCmd(cmdPubsubChannels))
	commands.Register("pubsub|numsub", cmdPubsubNumsub)
	commands.Register("pubsub|numpat", srvCmd(cmdPubsubNumpat))
	commands.Register("pubsub|shardchannels", srvCmd(cmdPubsubShardchannels))
	commands.Register("pubsub|shardnumsub", cmdPubsubShardnumsub)
	commands.Register("pubsub|help", cmdPubsubHelp)
}

// kind selects one of the three registries.
type subKind int

const (
	kChannel subKind = iota
	kPattern
	kShard
)

var subNames = [3][2]string{{"subscribe", "unsubscribe"}, {"psubscribe", "punsubscribe"}, {"ssubscribe", "sunsubscribe"}}

func (p *pubsub) reg(k subKind) map[string]map[*Client]struct{} {
	switch k {
	case kPattern:
		return p.patterns
	case kShard:
		return p.shard
	}
	return p.channels
}

func (c *Client) subsOf(k subKind) *map[string]struct{} {
	switch k {
	case kPattern:
		return &c.psubs
	case kShard:
		return &c.ssubs
	}
	return &c.subs
}

func (c *Client) subCount() int { return len(c.subs) + len(c.psubs) }

// subscriptionMem is what one subscription costs a client (a table
// entry and the name), in its memory for client eviction.
func subscriptionMem(name string) int64 { return int64(len(name)) + 48 }

// subscribe adds the client to each name and writes the confirmations
// straight into the client's shared output, under the registry lock, so
// a message published right after cannot overtake them.
func (c *Client) subscribe(k subKind, names [][]byte, inExec bool) {
	p := c.srv.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !inExec {
		c.mergeOutLocked()
	}
	m := c.subsOf(k)
	if *m == nil {
		*m = map[string]struct{}{}
	}
	w := resp.Writer{Proto: int(c.proto.Load())}
	for _, nb := range names {
		name := string(nb)
		if _, ok := (*m)[name]; !ok {
			(*m)[name] = struct{}{}
			c.addMem(subscriptionMem(name))
			r := p.reg(k)
			if r[name] == nil {
				r[name] = map[*Client]struct{}{}
			}
			r[name][c] = struct{}{}
		}
		w.Push(3)
		w.BulkString(subNames[k][0])
		w.BulkString(name)
		if k == kShard {
			w.Int(int64(len(c.ssubs)))
		} else {
			w.Int(int64(c.subCount()))
		}
	}
	c.nsubs.Store(int32(c.subCount() + len(c.ssubs)))
	if inExec {
		c.w.Buf = append(c.w.Buf, w.Buf...)
	} else {
		c.setOutLocked(append(c.out, w.Buf...))
	}
}

// unsubscribe removes the client from names (all when names is empty).
func (c *Client) unsubscribe(k subKind, names [][]byte, reply, inExec bool) {
	p := c.srv.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !inExec {
		c.mergeOutLocked()
	}
	m := c.subsOf(k)
	var list []string
	if len(names) == 0 {
		for n := range *m {
			list = append(list, n)
		}
		sort.Strings(list)
	} else {
		for _, n := range names {
			list = append(list, string(n))
		}
	}
	w := resp.Writer{Proto: int(c.proto.Load())}
	r := p.reg(k)
	for _, name := range list {
		if _, ok := (*m)[name]; ok {
			delete(*m, name)
			c.addMem(-subscriptionMem(name))
			delete(r[name], c)
			if len(r[name]) == 0 {
				delete(r, name)
			}
		}
		w.Push(3)
		w.BulkString(subNames[k][1])
		w.BulkString(name)
		if k == kShard {
			w.Int(int64(len(c.ssubs)))
		} else {
			w.Int(int64(c.subCount()))
		}
	}
	if len(list) == 0 {
		w.Push(3)
		w.BulkString(subNames[k][1])
		w.Null()
		if k == kShard {
			w.Int(int64(len(c.ssubs)))
		} else {
			w.Int(int64(c.subCount()))
		}
	}
	c.nsubs.Store(int32(c.subCount() + len(c.ssubs)))
	if reply && inExec {
		c.w.Buf = append(c.w.Buf, w.Buf...)
	} else if reply {
		c.setOutLocked(append(c.out, w.Buf...))
	}
}

func (p *pubsub) unsubscribeAll(c *Client) {
	c.unsubscribe(kChannel, nil, false, false)
	c.unsubscribe(kPattern, nil, false, false)
	c.unsubscribe(kShard, nil, false, false)
}

// publish delivers msg and returns the number of receivers.
func (s *Server) publish(k subKind, channel, msg []byte) int {
	p := s.pubsub
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	var w2, w3 []byte
	mk := func(proto int) []byte {
		w := resp.Writer{Proto: proto}
		w.Push(3)
		if k == kShard {
			w.BulkString("smessage")
		} else {
			w.BulkString("message")
		}
		w.Bulk(channel)
		w.Bulk(msg)
		return w.Buf
	}
	for c := range p.reg(k)[string(channel)] {
		if c.proto.Load() == 3 {
			if w3 == nil {
				w3 = mk(3)
			}
			c.push(w3)
		} else {
			if w2 == nil {
				w2 = mk(2)
			}
			c.push(w2)
		}
		n++
	}
	if k == kChannel {
		for pat, subs := range p.patterns {
			if !commands.GlobMatch([]byte(pat), channel, false) {
				continue
			}
			for c := range subs {
				w := resp.Writer{Proto: int(c.proto.Load())}
				w.Push(4)
				w.BulkString("pmessage")
				w.BulkString(pat)
				w.Bulk(channel)
				w.Bulk(msg)
				c.push(w.Buf)
				n++
			}
		}
	}
	s.stats.PubsubMessages.Add(1)
	return n
}

// In EXEC (c.NoBlock) confirmations go into the EXEC reply array.
func cmdSubscribe(s *Server, cc *Client, c *commands.Ctx) {
	cc.subscribe(kChannel, c.Args[1:], c.NoBlock)
}
func cmdPsubscribe(s *Server, cc *Client, c *commands.Ctx) {
	cc.subscribe(kPattern, c.Args[1:], c.NoBlock)
}
func cmdSsubscribe(s *Server, cc *Client, c *commands.Ctx) {
	cc.subscribe(kShard, c.Args[1:], c.NoBlock)
}
func cmdUnsubscribe(s *Server, cc *Client, c *commands.Ctx) {
	cc.unsubscribe(kChannel, c.Args[1:], true, c.NoBlock)
}
func cmdPunsubscribe(s *Server, cc *Client, c *commands.Ctx) {
	cc.unsubscribe(kPattern, c.Args[1:], true, c.NoBlock)
}
func cmdSunsubscribe(s *Server, cc *Client, c *commands.Ctx) {
	cc.unsubscribe(kShard, c.Args[1:], true, c.NoBlock)
}

func cmdPublish(s *Server, cc *Client, c *commands.Ctx) {
	c.W.Int(int64(s.publish(kChannel, c.Args[1], c.Args[2])))
	s.propagatePublish(kChannel, c.Args[1], c.Args[2])
	s.replicatePublish(cc, c)
}

func cmdSpublish(s *Server, cc *Client, c *commands.Ctx) {
	c.W.Int(int64(s.publish(kShard, c.Args[1], c.Args[2])))
	s.propagatePublish(kShard, c.Args[1], c.Args[2])
	s.replicatePublish(cc, c)
}

// replicatePublish sends a PUBLISH or SPUBLISH of a master outside cluster
// mode to its replicas (not to the AOF), so their subscribers get the
// message too, as Redis's forceCommandPropagation(c, PROPAGATE_REPL). In
// cluster mode the bus carries it; a replica's own replicas get its
// master's stream.
func (s *Server) replicatePublish(cc *Client, c *commands.Ctx) {
	rp := int(s.replProp.Load())
	if rp == 0 || s.cluster != nil || s.isReplica.Load() {
		return
	}
	s.feedOnly(cc, c.DB.Index(), [][][]byte{c.Args}, func(i int) bool { return i+1 == rp })
}

func (s *Server) channelNames(k subKind, pattern []byte) []string {
	p := s.pubsub
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []string
	for name := range p.reg(k) {
		if pattern == nil || commands.GlobMatch(pattern, []byte(name), false) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func cmdPubsubChannels(s *Server, cc *Client, c *commands.Ctx) {
	var pat []byte
	if len(c.Args) > 2 {
		pat = c.Args[2]
	}
	c.W.BulkStrings(s.channelNames(kChannel, pat))
}

func cmdPubsubShardchannels(s *Server, cc *Client, c *commands.Ctx) {
	var pat []byte
	if len(c.Args) > 2 {
		pat = c.Args[2]
	}
	c.W.BulkStrings(s.channelNames(kShard, pat))
}

func numsub(c *commands.Ctx, k subKind) {
	p := c.Srv.(*Server).pubsub
	p.mu.RLock()
	defer p.mu.RUnlock()
	c.W.Map(len(c.Args) - 2)
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		c.W.Int(int64(len(p.reg(k)[string(ch)])))
	}
}

func cmdPubsubNumsub(c *commands.Ctx)      { numsub(c, kChannel) }
func cmdPubsubShardnumsub(c *commands.Ctx) { numsub(c, kShard) }

func cmdPubsubNumpat(s *Server, cc *Client, c *commands.Ctx) {
	p := s.pubsub
	p.mu.RLock()
	defer p.mu.RUnlock()
	c.W.Int(int64(len(p.patterns)))
}

func cmdPubsubHelp(c *commands.Ctx) {
	help(c, "PUBSUB",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)")
}

// help writes a HELP reply the way Redis's addReplyHelp does.
func help(c *commands.Ctx, name string, lines ...string) {
	c.W.Array(len(lines) + 3)
	c.W.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}

var _ = strconv.Itoa
