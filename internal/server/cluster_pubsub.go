package server

// Pub/Sub across the cluster: a PUBLISH delivered here goes over the bus
// to every node (PUBLISH, type 4), an SPUBLISH to the other nodes of our
// shard (PUBLISHSHARD, type 10); what arrives over the bus is delivered
// to local subscribers only and never forwarded. The reply of PUBLISH
// counts local receivers only, as in Redis.

import (
	"sort"

	"redgo/internal/cluster"
	"redgo/internal/resp"
	"redgo/internal/slot"
)

// propagatePublish sends a message published here to the other nodes;
// nothing outside cluster mode or while the bus is down.
func (s *Server) propagatePublish(k subKind, channel, msg []byte) {
	cm := s.cluster
	if cm == nil {
		return
	}
	cm.mu.Lock()
	if b := cm.bus; b != nil && b.tr != nil {
		// The message keeps the slices: copy them out of the request buffer.
		ch := append([]byte(nil), channel...)
		m := append([]byte(nil), msg...)
		cm.m.Publish(k == kShard, ch, m)
		cm.commitLocked()
	}
	cm.mu.Unlock()
}

// busPublish delivers a PUBLISH or PUBLISHSHARD received over the bus
// (cluster.Ready.Publishes; runs in the driver under cm.mu).
func (s *Server) busPublish(d cluster.Delivery) {
	k := kChannel
	if d.Shard {
		k = kShard
	}
	s.publish(k, d.Channel, d.Message)
}

// dropShardChannels unsubscribes every subscriber of the shard channels
// of slots, which left this node's shard (cluster.Ready.ChannelSlots;
// Redis's removeChannelsInSlot): each gets a sunsubscribe push with the
// number of shard channels it still has. Runs in the driver under cm.mu.
func (s *Server) dropShardChannels(slots []int) {
	p := s.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.shard) == 0 {
		return
	}
	gone := make(map[int]bool, len(slots))
	for _, j := range slots {
		gone[j] = true
	}
	var names []string
	for name := range p.shard {
		if gone[slot.OfString(name)] {
			names = append(names, name)
		}
	}
	sort.Strings(names) // Redis walks them in byte order
	for _, name := range names {
		for c := range p.shard[name] {
			c.mu.Lock()
			delete(c.ssubs, name)
			left := len(c.ssubs)
			c.nsubs.Store(int32(c.subCount() + left))
			c.mu.Unlock()
			w := resp.Writer{Proto: int(c.proto.Load())}
			w.Push(3)
			w.BulkString("sunsubscribe")
			w.BulkString(name)
			w.Int(int64(left))
			c.push(w.Buf)
		}
		delete(p.shard, name)
	}
}
