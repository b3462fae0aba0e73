package cluster

// Pub/Sub over the bus (Redis 7.0 clusterPropagatePublish,
// clusterPropagatePublishShard, and the PUBLISH branch of
// clusterProcessPacket): a PUBLISH goes to every linked node, a
// PUBLISHSHARD to the other nodes serving myself's slots (myself's
// master and its replicas); a received one goes to Ready.Publishes and is
// never forwarded.

// PublishMsg builds a PUBLISH (shard false) or PUBLISHSHARD message from
// myself.
func (g *Membership) PublishMsg(shard bool, channel, message []byte) *Msg {
	t := MsgPublish
	if shard {
		t = MsgPublishShard
	}
	m := g.header(t)
	m.Publish = &Publish{Channel: channel, Message: message}
	return m
}

// Publish queues channel and message for the nodes that must see them:
// every linked node for PUBLISH, the other nodes of myself's shard for
// PUBLISHSHARD (none while the shard has no replicas).
func (g *Membership) Publish(shard bool, channel, message []byte) {
	m := g.PublishMsg(shard, channel, message)
	if !shard {
		g.broadcast(m)
		return
	}
	me := g.S.Myself
	master := me
	if me.Flags&FlagSlave != 0 && me.ReplicaOf != nil {
		master = me.ReplicaOf
	}
	for _, n := range g.S.SortedNodes() {
		if n == me || n.Flags&FlagHandshake != 0 {
			continue
		}
		if n == master || (n.Flags&FlagSlave != 0 && n.ReplicaOf == master) {
			g.send(n, 0, m)
		}
	}
}

// PublishBody returns the channel and message of a PUBLISH or
// PUBLISHSHARD message, and whether it is one.
func PublishBody(m *Msg) (shard bool, channel, message []byte, ok bool) {
	if m == nil || m.Publish == nil || (m.Type != MsgPublish && m.Type != MsgPublishShard) {
		return false, nil, nil, false
	}
	return m.Type == MsgPublishShard, m.Publish.Channel, m.Publish.Message, true
}

// Delivery is a PUBLISH (Shard false) or PUBLISHSHARD received over the
// bus, for the local subscribers.
type Delivery struct {
	Shard            bool
	Channel, Message []byte
}

// stepPublish queues a received PUBLISH or PUBLISHSHARD for the Ready;
// one from an unknown node is ignored, as Redis does.
func (g *Membership) stepPublish(m *Msg, sender *Node) {
	if sender == nil {
		return
	}
	if shard, ch, msg, ok := PublishBody(m); ok {
		g.next.Publishes = append(g.next.Publishes, Delivery{Shard: shard, Channel: ch, Message: msg})
	}
}
