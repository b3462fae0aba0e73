package server

// Pub/Sub across the cluster: a PUBLISH delivered here goes over the bus
// to every node (PUBLISH, type 4), an SPUBLISH to the other nodes of our
// shard (PUBLISHSHARD, type 10); what arrives over the bus is delivered
// to local subscribers only and never forwarded. The reply of PUBLISH
// counts local receivers only, as in Redis.

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
		b.m.Publish(k == kShard, ch, m)
		b.tr.Kick()
	}
	cm.mu.Unlock()
}

// busPublish delivers a PUBLISH or PUBLISHSHARD received over the bus
// (Membership.OnPublish; runs in the bus loop under cm.mu).
func (s *Server) busPublish(shard bool, channel, msg []byte) {
	k := kChannel
	if shard {
		k = kShard
	}
	s.publish(k, channel, msg)
}
