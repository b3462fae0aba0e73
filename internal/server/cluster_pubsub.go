package server

// Pub/Sub across the cluster: a PUBLISH delivered here goes over the bus
// to every node (PUBLISH, type 4), an SPUBLISH to the other nodes of our
// shard (PUBLISHSHARD, type 10); what arrives over the bus is delivered
// to local subscribers only and never forwarded. The reply of PUBLISH
// counts local receivers only, as in Redis.

import "redgo/internal/cluster"

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
