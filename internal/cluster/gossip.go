package cluster

// Membership and gossip (Redis 7.0 cluster.c: clusterProcessPacket,
// clusterProcessGossipSection, clusterSendPing, clusterCron): the MEET
// handshake, PING/PONG with gossip sections, ping scheduling, PFAIL and
// FAIL, epochs, slot ownership by configEpoch with UPDATE messages.
//
// Membership works on a *State through its exported API and is just as pure:
// the driver (internal/clusterbus, or a test network) calls
//
//  1. Step for every message that arrives, with the link it came on;
//  2. Tick every 100 ms (clusterCron);
//  3. LinkUp / LinkDown when an outbound link it asked for with OutDial
//     connects or goes away;
//  4. Drive (or Ready, then Advance) after each of those, and after a
//     change made through the State, and carries out the Ready in the
//     order its type documents: save nodes.conf before any message;
//  5. before each Tick and Step, sets Myself.ReplOffset: a replica's
//     processed replication offset, a master's master_repl_offset
//     (elections rank replicas by it; a manual failover waits on it);
//  6. MasterLink(false, t) when a replica's link to its master goes
//     down (t: when the master was last heard from, 0 if never synced)
//     and MasterLink(true, now) when it is up again: the election
//     measures the age of the data from it;
//  7. StartManualFailover for CLUSTER FAILOVER [FORCE|TAKEOVER].
//
// Failover effects come out of Ready: Replicate (follow Myself.ReplicaOf),
// Promoted (myself became a master: stop replicating, keep the data),
// PauseWritesUntil / UnpauseWrites (a master's write pause during a
// manual failover). The election itself is failover.go, the manual
// failover manual.go, replica migration migration.go, PFAIL to FAIL and
// back failure.go.

import (
	"fmt"
	"math/bits"
	"math/rand"
	"net"

	"redgo/internal/slot"
)

// LinkID names one bus connection; the driver chooses them (non-zero).
type LinkID uint64

// Link is the connection a message arrived on.
type Link struct {
	ID LinkID
	// Node is, for an outbound link (one we opened after OutDial), the
	// name of the node we opened it to; "" for an inbound link.
	Node string
	// IP is the peer's address as the socket reports it; a message whose
	// header has no IP is taken to come from there.
	IP string
	// LocalIP is our own address on the link: a MEET teaches us our IP.
	LocalIP string
}

// OutKind says what an Out asks the driver to do.
type OutKind uint8

const (
	// OutSend: send Msg on Link when Link != 0 (a reply on the link the
	// request came on), else on the outbound link to Node. Without such
	// a link the message is dropped, as Redis drops it.
	OutSend OutKind = iota
	// OutDial: open an outbound link to Node at IP:CPort and call LinkUp
	// (or LinkDown on failure).
	OutDial
	// OutClose: close the outbound link to Node (then call LinkDown).
	OutClose
	// OutRename: the outbound link of Node now belongs to NewName (a
	// handshake ended).
	OutRename
)

// Out is one thing for the driver to do.
type Out struct {
	Kind    OutKind
	Node    string
	Link    LinkID
	Msg     *Msg
	IP      string // OutDial
	CPort   int    // OutDial
	NewName string // OutRename
}

// link is Membership's view of the outbound link to a node (Redis's
// node->link).
type link struct {
	up      bool  // connected (LinkUp); false while dialing
	created int64 // ms, when it was asked for
}

// Membership runs membership and failure detection for one node.
type Membership struct {
	S    *State
	Rand *rand.Rand
	// AnnounceIP is cluster-announce-ip: sent in every header so peers
	// use it rather than the address our links come from.
	AnnounceIP string

	links map[*Node]*link
	// next gathers the effects of what ran since the last Ready; cur is
	// the Ready handed out and not yet acknowledged (inflight).
	next, cur Ready
	inflight  bool
	iteration int
	// handleManual and handleFailover ask for the manual failover and
	// election checks before Step returns (clusterBeforeSleep's
	// HANDLE_MANUALFAILOVER and HANDLE_FAILOVER).
	handleManual, handleFailover bool
	// DropType is DEBUG DROP-CLUSTER-PACKET-FILTER: received messages of
	// this type are counted and then ignored; -1 drops nothing
	// (server.cluster_drop_packet_filter).
	DropType int
}

// Timing of Redis 7.0's cron.
const (
	// TickMs is how often Tick must run (clusterCron: 10 times a second).
	TickMs = 100
	// minHandshakeTimeout bounds how long a handshake may take.
	minHandshakeTimeout = 1000
	// FailUndoTimeMult: a master with slots loses FAIL once reachable
	// and FAIL for node timeout * this (CLUSTER_FAIL_UNDO_TIME_MULT).
	FailUndoTimeMult = 2
)

// NewMembership returns the gossip machine of s, drawing randomness from r.
func NewMembership(s *State, r *rand.Rand) *Membership {
	return &Membership{S: s, Rand: r, links: map[*Node]*link{}, DropType: -1}
}

func (g *Membership) logf(format string, args ...any) {
	g.next.Logs = append(g.next.Logs, fmt.Sprintf(format, args...))
}

// RandomName returns a random node ID (getRandomHexChars).
func RandomName(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, NameLen)
	for i := range b {
		b[i] = hex[r.Intn(16)]
	}
	return string(b)
}

// --- links ---

// Linked reports whether the outbound link to n is connected.
func (g *Membership) Linked(n *Node) bool {
	l := g.links[n]
	return l != nil && l.up
}

// LinkUp tells that the outbound link to the node named name connected:
// it gets a PING, or a MEET if we are meeting the node
// (clusterLinkConnectHandler).
func (g *Membership) LinkUp(name string, now int64) {
	n := g.S.Lookup(name)
	l := g.links[n]
	if n == nil || l == nil {
		g.next.Out = append(g.next.Out, Out{Kind: OutClose, Node: name})
		return
	}
	l.up, n.Linked = true, true
	old := n.PingSent
	t := MsgPing
	if n.Flags&FlagMeet != 0 {
		t = MsgMeet
	}
	g.sendPing(n, 0, t, now)
	if old != 0 {
		// Keep the failure detection running across reconnects.
		n.PingSent = old
	}
	n.Flags &^= FlagMeet
}

// LinkRefused tells that dialing the node named name was refused: its
// host answered and nothing listens on its bus port, so its process is
// not running (a crash, kill -9). Redis waits for the node timeout all
// the same; with FastFailover (redgo's) the node is PFAIL once it has
// refused for half the node timeout (a process restarted at once, as a
// supervisor does, keeps its slots) and every node is pinged, so the
// failure reports reach a majority now and its replica can be elected
// without waiting for the rest of the timeout. A node that comes back
// answers a ping and loses PFAIL, as usual.
func (g *Membership) LinkRefused(name string, now int64) {
	g.LinkDown(name, now)
	s := g.S
	n := s.Lookup(name)
	if n == nil || !s.Opts.FastFailover || n.Flags&(FlagMyself|FlagHandshake|FlagNoAddr|FlagPFail|FlagFail) != 0 {
		return
	}
	if n.RefusedSince == 0 || n.RefusedSince < n.PongReceived {
		n.RefusedSince = now
	}
	if now-n.RefusedSince < s.Opts.NodeTimeout/2 {
		return // the transport dials again at the next Tick
	}
	g.logf("*** NODE %s possibly failing (its bus port refuses connections)", n.Name)
	n.Flags |= FlagPFail
	s.Do(TodoUpdateState)
	for _, x := range s.SortedNodes() {
		if x != n && x.Flags&(FlagMyself|FlagHandshake) == 0 && g.Linked(x) {
			g.sendPing(x, 0, MsgPing, now)
		}
	}
	g.markFailing(n, now)
}

// LinkDown tells that the outbound link to name failed to connect or
// closed; the next Tick asks for a new one.
func (g *Membership) LinkDown(name string, now int64) {
	if n := g.S.Lookup(name); n != nil {
		delete(g.links, n)
		n.Linked = false
	}
}

// freeLink drops the outbound link to n (freeClusterLink).
func (g *Membership) freeLink(n *Node) {
	if g.links[n] == nil {
		return
	}
	delete(g.links, n)
	n.Linked = false
	g.next.Out = append(g.next.Out, Out{Kind: OutClose, Node: n.Name})
}

// delNode removes n and its link (clusterDelNode).
func (g *Membership) delNode(n *Node) {
	g.freeLink(n)
	g.S.DelNode(n)
}

// Forget is CLUSTER FORGET with the link closed too.
func (g *Membership) Forget(name string, nowSec int64) error {
	n := g.S.Lookup(name)
	if err := g.S.Forget(name, nowSec); err != nil {
		return err
	}
	g.freeLink(n)
	return nil
}

// --- MEET ---

// Meet starts a handshake with the node at ip:port@cport (CLUSTER MEET,
// clusterStartHandshake): a node with a random name, in handshake, that
// gets a MEET once the link is up. A handshake already under way to the
// same address makes it a no-op. The error is for an invalid address.
func (g *Membership) Meet(ip string, port, cport int, now int64) error {
	p := net.ParseIP(ip)
	if p == nil || port <= 0 || port > 65535 || cport <= 0 || cport > 65535 {
		return fmt.Errorf("Invalid node address specified: %s:%d", ip, port)
	}
	if p4 := p.To4(); p4 != nil {
		ip = p4.String()
	} else {
		ip = p.String()
	}
	for _, n := range g.S.Nodes {
		if n.Flags&FlagHandshake != 0 && n.IP == ip && n.Port == port && n.CPort == cport {
			return nil
		}
	}
	n := NewNode(RandomName(g.Rand), FlagHandshake|FlagMeet, now)
	n.IP, n.Port, n.CPort = ip, port, cport
	g.S.AddNode(n)
	return nil
}

// --- sending ---

// header fills the header of a message from myself (clusterBuildMessageHdr).
func (g *Membership) header(t MsgType) *Msg {
	s := g.S
	me := s.Myself
	master := me
	if me.Flags&FlagSlave != 0 && me.ReplicaOf != nil {
		master = me.ReplicaOf
	}
	m := &Msg{Type: t, Port: me.Port, PPort: me.PPort, CPort: me.CPort,
		CurrentEpoch: s.CurrentEpoch, ConfigEpoch: master.ConfigEpoch, Offset: me.ReplOffset,
		Sender: me.Name, Slots: master.Slots, IP: g.AnnounceIP, Flags: me.Flags}
	if me.Flags&FlagSlave != 0 && me.ReplicaOf != nil {
		m.ReplicaOf = me.ReplicaOf.Name
	}
	if !s.OK() {
		m.State = StateFail
	}
	if me.IsMaster() && s.mf.end != 0 && s.mf.paused {
		m.MFlags[0] |= MFlagPaused
	}
	return m
}

// send queues m to n's outbound link, or on link id when id != 0.
func (g *Membership) send(n *Node, id LinkID, m *Msg) {
	o := Out{Kind: OutSend, Link: id, Msg: m}
	if id == 0 && !g.Linked(n) {
		return
	}
	if n != nil {
		o.Node = n.Name // on Link when set; names the receiver either way
	}
	g.S.Sent[m.Type]++
	g.next.Out = append(g.next.Out, o)
}

// gossipEntry is what we tell others about n (clusterSetGossipEntry).
func gossipEntry(n *Node) Gossip {
	return Gossip{Name: n.Name, PingSent: uint32(n.PingSent / 1000),
		PongReceived: uint32(n.PongReceived / 1000), IP: n.IP, Port: n.Port,
		CPort: n.CPort, PPort: n.PPort, Flags: n.Flags}
}

// sendPing sends a PING, PONG or MEET with a gossip section to n's
// outbound link, or on link id (clusterSendPing).
func (g *Membership) sendPing(n *Node, id LinkID, t MsgType, now int64) {
	s := g.S
	nodes := s.SortedNodes()
	fresh := len(nodes) - 2
	wanted := max(len(nodes)/10, 3)
	wanted = min(wanted, fresh)
	m := g.header(t)
	in := map[*Node]bool{}
	for tries := wanted * 3; fresh > 0 && len(m.Gossip) < wanted && tries > 0; tries-- {
		x := nodes[g.Rand.Intn(len(nodes))]
		if x == s.Myself || x.Flags&FlagPFail != 0 {
			continue
		}
		if x.Flags&(FlagHandshake|FlagNoAddr) != 0 || (!g.Linked(x) && x.Slots.Count() == 0) {
			fresh--
			continue
		}
		if in[x] {
			continue
		}
		in[x] = true
		m.Gossip = append(m.Gossip, gossipEntry(x))
		fresh--
	}
	// Every PFAIL node goes in, so failure reports spread fast.
	for _, x := range nodes {
		if x.Flags&FlagPFail != 0 && x.Flags&(FlagHandshake|FlagNoAddr) == 0 {
			m.Gossip = append(m.Gossip, gossipEntry(x))
		}
	}
	if h := s.Myself.Hostname; h != "" {
		m.Exts = append(m.Exts, HostnameExt(h))
	}
	if t == MsgPing && id == 0 && n != nil {
		n.PingSent = now
	}
	g.send(n, id, m)
}

// broadcast sends m to every node we have a link to (clusterBroadcastMessage).
func (g *Membership) broadcast(m *Msg) {
	for _, n := range g.S.SortedNodes() {
		if n.Flags&(FlagMyself|FlagHandshake) == 0 {
			g.send(n, 0, m)
		}
	}
}

// BroadcastPong tells every linked node our configuration now
// (clusterBroadcastPong).
func (g *Membership) BroadcastPong(now int64) {
	for _, n := range g.S.SortedNodes() {
		if n.Flags&(FlagMyself|FlagHandshake) == 0 && g.Linked(n) {
			g.sendPing(n, 0, MsgPong, now)
		}
	}
}

// --- receiving ---

// senderIP is the address of a message's sender: the announced one, or
// the link's (nodeIp2String).
func senderIP(l Link, m *Msg) string {
	if m.IP != "" {
		return m.IP
	}
	return l.IP
}

// Step processes one message received on link l (clusterProcessPacket).
func (g *Membership) Step(l Link, m *Msg, now int64) {
	s := g.S
	if int(m.Type) < MsgTypeCount {
		s.Received[m.Type]++
	}
	if int(m.Type) == g.DropType {
		g.logf("Dropping packet that matches debug drop filter")
		return
	}
	sender := s.Lookup(m.Sender)
	if sender != nil && sender.Flags&FlagHandshake == 0 {
		if m.CurrentEpoch > s.CurrentEpoch {
			// Saved, not fsynced: Redis 7.0 does not even save here
			// (clusterProcessPacket); what must be durable (a vote, our
			// own or a sender's configEpoch) fsyncs on its own.
			s.CurrentEpoch = m.CurrentEpoch
			s.Do(TodoSaveConfig)
		}
		if m.ConfigEpoch > sender.ConfigEpoch {
			sender.ConfigEpoch = m.ConfigEpoch
			s.Do(TodoSaveConfig | TodoFsyncConfig)
		}
		sender.ReplOffset = m.Offset
		g.pausedOffset(m, sender)
	}
	if sender != nil {
		sender.DataReceived = now
	}
	switch m.Type {
	case MsgPing, MsgPong, MsgMeet:
		g.stepPing(l, m, sender, now)
	case MsgFail:
		g.stepFail(m, sender, now)
	case MsgUpdate:
		g.stepUpdate(m, sender)
	case MsgPublish, MsgPublishShard:
		g.stepPublish(m, sender)
	case MsgFailoverAuthRequest:
		g.stepAuthRequest(l, m, sender, now)
	case MsgFailoverAuthAck:
		g.stepAuthAck(m, sender, now)
	case MsgMFStart:
		g.stepMFStart(l, sender, now)
	}
	g.beforeSleep(now)
}

func (g *Membership) stepPing(l Link, m *Msg, sender *Node, now int64) {
	s := g.S
	me := s.Myself
	if m.Type == MsgPing || m.Type == MsgMeet {
		// A MEET tells us our own address (or any PING while we have none).
		if (m.Type == MsgMeet || me.IP == "") && g.AnnounceIP == "" && l.LocalIP != "" && me.IP != l.LocalIP {
			me.IP = l.LocalIP
			g.logf("IP address for this node updated to %s", me.IP)
			s.Do(TodoSaveConfig)
		}
		if sender == nil && m.Type == MsgMeet {
			n := NewNode(RandomName(g.Rand), FlagHandshake, now)
			n.IP, n.Port, n.PPort, n.CPort = senderIP(l, m), m.Port, m.PPort, m.CPort
			s.AddNode(n)
			s.Do(TodoSaveConfig)
			g.gossipSection(m, nil, now)
		}
		g.sendPing(nil, l.ID, MsgPong, now)
	}

	linkNode := l.Node // the link's node; renamed when a handshake completes
	if l.Node != "" {
		ln := s.Lookup(l.Node)
		switch {
		case ln == nil:
		case ln.Flags&FlagHandshake != 0:
			if sender != nil {
				// We met a node we already know: keep the known one,
				// at the address we reached it at.
				if g.updateAddress(sender, l, m) {
					s.Do(TodoSaveConfig | TodoUpdateState)
				}
				g.delNode(ln)
				return
			}
			old := ln.Name
			s.Rename(ln, m.Sender)
			linkNode = m.Sender
			g.next.Out = append(g.next.Out, Out{Kind: OutRename, Node: old, NewName: m.Sender})
			g.logf("Handshake with node %s completed.", m.Sender)
			ln.Flags &^= FlagHandshake
			ln.Flags |= m.Flags & (FlagMaster | FlagSlave)
			s.Do(TodoSaveConfig)
		case ln.Name != m.Sender:
			// The node at this address has another ID now.
			g.logf("PONG contains mismatching sender ID. About node %s added %d ms ago, having flags %d",
				ln.Name, now-ln.CreatedAt, ln.Flags)
			ln.Flags |= FlagNoAddr
			ln.IP, ln.Port, ln.PPort, ln.CPort = "", 0, 0, 0
			g.freeLink(ln)
			s.Do(TodoSaveConfig)
			return
		}
	}

	if sender != nil {
		sender.Flags = sender.Flags&^FlagNoFailover | m.Flags&FlagNoFailover
	}
	if sender != nil && m.Type == MsgPing && sender.Flags&FlagHandshake == 0 && g.updateAddress(sender, l, m) {
		s.Do(TodoSaveConfig | TodoUpdateState)
	}

	if linkNode != "" && m.Type == MsgPong {
		if n := s.Lookup(linkNode); n != nil {
			n.PongReceived = now
			n.PingSent = 0
			if n.Flags&FlagPFail != 0 {
				n.Flags &^= FlagPFail
				s.Do(TodoSaveConfig | TodoUpdateState)
			} else if n.Flags&FlagFail != 0 {
				g.clearFailure(n, now)
			}
		}
	}
	if sender == nil {
		return
	}
	g.updateRole(sender, m)

	// Slots: adopt newer claims, tell the sender about stale ones.
	master := sender
	if !sender.IsMaster() {
		master = sender.ReplicaOf
	}
	dirty := master != nil && master.Slots != m.Slots
	if dirty && sender.IsMaster() {
		g.updateSlots(sender, m.ConfigEpoch, &m.Slots)
	}
	if dirty {
		for j := m.Slots.NextSet(0); j < slot.Count; j = m.Slots.NextSet(j + 1) {
			o := s.Owner[j]
			if o == nil || o == sender {
				continue
			}
			if o.ConfigEpoch > m.ConfigEpoch {
				g.logf("Node %s has old slots configuration, sending an UPDATE message about %s", sender.Name, o.Name)
				g.sendUpdate(sender, o)
				break
			}
		}
	}
	if me.IsMaster() && sender.IsMaster() && m.ConfigEpoch == me.ConfigEpoch {
		g.epochCollision(sender)
	}
	g.gossipSection(m, sender, now)
	g.pingExts(m, sender)
}

// updateAddress moves n to the address a PING came from when it differs
// (nodeUpdateAddressIfNeeded). Not for n's own outbound link.
func (g *Membership) updateAddress(n *Node, l Link, m *Msg) bool {
	if l.Node == n.Name {
		return false
	}
	ip := senderIP(l, m)
	if ip == "" || n.IP == ip && n.Port == m.Port && n.CPort == m.CPort && n.PPort == m.PPort {
		return false
	}
	n.IP, n.Port, n.CPort, n.PPort = ip, m.Port, m.CPort, m.PPort
	g.freeLink(n)
	n.Flags &^= FlagNoAddr
	g.logf("Address updated for node %s, now %s:%d", n.Name, n.IP, n.Port)
	return true
}

// updateRole follows a master becoming a replica and the reverse.
func (g *Membership) updateRole(n *Node, m *Msg) {
	s := g.S
	if m.ReplicaOf == "" {
		s.SetNodeAsMaster(n)
		return
	}
	master := s.Lookup(m.ReplicaOf)
	if n.IsMaster() {
		s.DelNodeSlots(n)
		n.Flags &^= FlagMaster | FlagMigrateTo
		n.Flags |= FlagSlave
		s.Do(TodoSaveConfig | TodoUpdateState)
	}
	if master != nil && n.ReplicaOf != master {
		if n.ReplicaOf != nil {
			RemoveReplica(n.ReplicaOf, n)
		}
		AddReplica(master, n)
		n.ReplicaOf = master
		s.Do(TodoSaveConfig)
	}
}

// epochCollision: two masters with one configEpoch; the one with the
// smaller name takes a new epoch (clusterHandleConfigEpochCollision).
func (g *Membership) epochCollision(sender *Node) {
	s := g.S
	me := s.Myself
	if sender.ConfigEpoch != me.ConfigEpoch || !sender.IsMaster() || !me.IsMaster() {
		return
	}
	if sender.Name <= me.Name {
		return
	}
	s.CurrentEpoch++
	me.ConfigEpoch = s.CurrentEpoch
	s.Do(TodoSaveConfig | TodoFsyncConfig)
	g.logf("WARNING: configEpoch collision with node %s. configEpoch set to %d", sender.Name, me.ConfigEpoch)
}

// gossipSection reads what the sender knows about other nodes
// (clusterProcessGossipSection). sender is nil for a MEET from a node we
// do not know yet.
func (g *Membership) gossipSection(m *Msg, sender *Node, now int64) {
	s := g.S
	for i := range m.Gossip {
		e := &m.Gossip[i]
		n := s.Lookup(e.Name)
		if n == nil {
			if sender != nil && e.Flags&FlagNoAddr == 0 && ValidName(e.Name) && !g.banned(e.Name, now) {
				n = NewNode(e.Name, e.Flags&^(FlagMyself|FlagMeet), now)
				n.IP, n.Port, n.PPort, n.CPort = e.IP, e.Port, e.PPort, e.CPort
				s.AddNode(n)
				s.Do(TodoSaveConfig)
			}
			continue
		}
		if sender != nil && sender.IsMaster() && n != s.Myself {
			if e.Flags&(FlagFail|FlagPFail) != 0 {
				if n.FailReports == nil {
					n.FailReports = map[string]int64{}
				}
				if _, had := n.FailReports[sender.Name]; !had {
					g.logf("Node %s reported node %s as not reachable.", sender.Name, n.Name)
				}
				n.FailReports[sender.Name] = now
				g.markFailing(n, now)
			} else if _, had := n.FailReports[sender.Name]; had {
				delete(n.FailReports, sender.Name)
				g.logf("Node %s reported node %s is back online.", sender.Name, n.Name)
			}
		}
		// Others' pongs count for a node we have no doubt about.
		if e.Flags&(FlagFail|FlagPFail) == 0 && n.PingSent == 0 && s.FailureReports(n, now) == 0 {
			pong := int64(e.PongReceived) * 1000
			if pong <= now+500 && pong > n.PongReceived {
				n.PongReceived = pong
			}
		}
		// A node we cannot reach, seen elsewhere at another address.
		if n.Flags&(FlagFail|FlagPFail) != 0 && e.Flags&(FlagNoAddr|FlagFail|FlagPFail) == 0 &&
			(n.IP != e.IP || n.Port != e.Port || n.CPort != e.CPort) {
			g.freeLink(n)
			n.IP, n.Port, n.PPort, n.CPort = e.IP, e.Port, e.PPort, e.CPort
			n.Flags &^= FlagNoAddr
			s.Do(TodoSaveConfig) // and the routes follow the new address
		}
	}
}

// banned reports whether name is on the CLUSTER FORGET ban list
// (clusterBlacklistExists).
func (g *Membership) banned(name string, now int64) bool {
	g.S.CleanBlacklist(now / 1000)
	_, ok := g.S.Blacklist[name]
	return ok
}

// pingExts applies the extensions; a missing hostname clears it.
func (g *Membership) pingExts(m *Msg, sender *Node) {
	host := ""
	for _, e := range m.Exts {
		switch e.Type {
		case ExtHostname:
			host = e.Value
		case ExtHumanNodename:
			sender.HumanName = e.Value
		case ExtShardID:
			sender.ShardID = e.Value
		}
	}
	if sender.Hostname != host {
		sender.Hostname = host
		g.S.Do(TodoSaveConfig)
	}
}

func (g *Membership) stepUpdate(m *Msg, sender *Node) {
	s := g.S
	if sender == nil || m.Update == nil {
		return
	}
	n := s.Lookup(m.Update.Node)
	if n == nil || n.ConfigEpoch >= m.Update.ConfigEpoch {
		return
	}
	if !n.IsMaster() {
		s.SetNodeAsMaster(n)
	}
	n.ConfigEpoch = m.Update.ConfigEpoch
	g.updateSlots(n, m.Update.ConfigEpoch, &m.Update.Slots)
}

// sendUpdate tells to that n serves its slots at n's configEpoch
// (clusterSendUpdate).
func (g *Membership) sendUpdate(to, n *Node) {
	m := g.header(MsgUpdate)
	m.Update = &Update{ConfigEpoch: n.ConfigEpoch, Node: n.Name, Slots: n.Slots}
	g.send(to, 0, m)
}

// updateSlots rebinds the slots sender claims at epoch where our owner's
// configEpoch is older (clusterUpdateSlotsConfigWith). When myself (or
// our master) lost its last slot to sender, myself follows sender as a
// replica.
func (g *Membership) updateSlots(sender *Node, epoch uint64, slots *Slots) {
	s := g.S
	me := s.Myself
	if sender == me {
		g.logf("Discarding UPDATE message about myself.")
		return
	}
	cur := me
	if !me.IsMaster() {
		cur = me.ReplicaOf
	}
	var newMaster *Node
	senderSlots, migrated := slots.Count(), 0
	var dirty []int
	// Only the claimed slots we do not give the sender already (its
	// Slots are exactly the slots it owns here), a word at a time.
	for w := range slot.Count / 64 {
		for d := slots.word(w) &^ sender.Slots.word(w); d != 0; d &= d - 1 {
			j := w*64 + bits.TrailingZeros64(d)
			o := s.Owner[j]
			if o == sender || s.ImportingFrom(j) != nil {
				continue
			}
			if o == nil || o.ConfigEpoch < epoch {
				if o == me {
					dirty = append(dirty, j)
				}
				if o != nil && o == cur {
					newMaster = sender
					migrated++
				}
				s.DelSlot(j)
				s.AddSlot(sender, j)
				s.Do(TodoSaveConfig | TodoUpdateState | TodoFsyncConfig)
			}
		}
	}
	if newMaster != nil && cur.Slots.Count() == 0 && (s.Opts.AllowReplicaMigration || senderSlots == migrated) {
		g.logf("Configuration change detected. Reconfiguring myself as a replica of %s", sender.Name)
		s.SetMaster(sender)
		s.Do(TodoSaveConfig | TodoUpdateState | TodoFsyncConfig)
		return
	}
	// Our master became a replica itself: follow its master, unless a
	// takeover made that myself (then an operator must repair it).
	if m := me.ReplicaOf; !me.IsMaster() && m != nil && m.ReplicaOf != nil && m.ReplicaOf != me {
		g.logf("I'm a sub-replica! Reconfiguring myself as a replica of grandmaster %s", m.ReplicaOf.Name)
		s.SetMaster(m.ReplicaOf)
		s.Do(TodoSaveConfig | TodoUpdateState | TodoFsyncConfig)
		return
	}
	for _, j := range dirty {
		g.logf("Deleting keys in dirty slot %d on node %s", j, me.Name)
	}
	g.next.DirtySlots = append(g.next.DirtySlots, dirty...)
}

// --- cron ---

// Tick is clusterCron: handshakes time out, links are opened, a few
// nodes are pinged, nodes without a pong for the node timeout become
// PFAIL, and the Ready asks for cluster_state to be recomputed when
// something changed or the state is fail.
func (g *Membership) Tick(now int64) {
	s := g.S
	g.iteration++
	timeout := s.Opts.NodeTimeout
	g.updateMyselfFlags()
	handshakeTimeout := max(timeout, minHandshakeTimeout)
	nodes := s.SortedNodes()

	// Nodes removed behind our back (CLUSTER RESET, State.Forget) lose
	// their links.
	for n := range g.links {
		if s.Nodes[n.Name] != n {
			delete(g.links, n)
			g.next.Out = append(g.next.Out, Out{Kind: OutClose, Node: n.Name})
		}
	}

	for _, n := range nodes {
		if n.Flags&(FlagMyself|FlagNoAddr) != 0 {
			continue
		}
		if n.Flags&FlagHandshake != 0 && now-n.CreatedAt > handshakeTimeout {
			g.logf("Handshake with node %s at %s:%d timed out.", n.Name, n.IP, n.Port)
			g.delNode(n)
			continue
		}
		if g.links[n] == nil && n.IP != "" && n.CPort != 0 {
			g.links[n] = &link{created: now}
			g.next.Out = append(g.next.Out, Out{Kind: OutDial, Node: n.Name, IP: n.IP, CPort: n.CPort})
			// The first ping goes out as soon as the link is up; count
			// from now so an unreachable node still times out.
			if n.PingSent == 0 {
				n.PingSent = now
			}
		}
	}
	nodes = s.SortedNodes()

	// Once a second, ping the node with the oldest pong of 5 random ones.
	if g.iteration%10 == 0 && len(nodes) > 0 {
		var best *Node
		for range 5 {
			n := nodes[g.Rand.Intn(len(nodes))]
			if !g.Linked(n) || n.PingSent != 0 || n.Flags&(FlagMyself|FlagHandshake) != 0 {
				continue
			}
			if best == nil || n.PongReceived < best.PongReceived {
				best = n
			}
		}
		if best != nil {
			g.sendPing(best, 0, MsgPing, now)
		}
	}

	update := false
	for _, n := range nodes {
		if n.Flags&(FlagMyself|FlagNoAddr|FlagHandshake) != 0 {
			continue
		}
		pingDelay := now - n.PingSent
		dataDelay := now - n.DataReceived
		// A link that carries nothing for half the timeout is rebuilt.
		if l := g.links[n]; l != nil && l.up && now-l.created > timeout && n.PingSent != 0 &&
			pingDelay > timeout/2 && dataDelay > timeout/2 {
			g.freeLink(n)
		}
		if g.Linked(n) && n.PingSent == 0 && now-n.PongReceived > timeout/2 {
			g.sendPing(n, 0, MsgPing, now)
			continue
		}
		// A master in a manual failover pings the replica every tick.
		if s.mf.end != 0 && s.Myself.IsMaster() && s.mf.replica == n && g.Linked(n) {
			g.sendPing(n, 0, MsgPing, now)
			continue
		}
		if n.PingSent == 0 {
			continue
		}
		if min(pingDelay, dataDelay) > timeout && n.Flags&(FlagPFail|FlagFail) == 0 {
			g.logf("*** NODE %s possibly failing", n.Name)
			n.Flags |= FlagPFail
			update = true
		}
	}

	g.manualFailoverCheckTimeout(now)
	if s.IsReplica() {
		g.handleManualFailover(now)
		g.handleReplicaFailover(now)
		g.migrationCheck(now)
	}
	g.beforeSleep(now)
	if update || !s.OK() {
		s.Do(TodoUpdateState)
	}
}
