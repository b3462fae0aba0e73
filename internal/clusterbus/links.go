package clusterbus

// Links as CLUSTER LINKS reports them (clusterGetLinkInfo of Redis 7.0's
// addReplyClusterLinksDescription), and which node an inbound link
// belongs to.

import "redgo/internal/cluster"

// notePeer ties an inbound link to the node its messages come from, on
// the first message from a known node (getNodeFromLinkAndMsg's
// setClusterNodeToInboundClusterLink).
func (t *Transport) notePeer(c *conn, m *cluster.Msg) {
	if c.outbound || c.peer != "" || m == nil {
		return
	}
	if n := t.cfg.M.S.Lookup(m.Sender); n != nil && n.Flags&cluster.FlagHandshake == 0 {
		c.peer = n.Name
	}
}

// LinkInfo is one link as CLUSTER LINKS shows it.
type LinkInfo struct {
	// To: our outbound link to Node ("to"); else Node's inbound link
	// ("from").
	To   bool
	Node string
	// Created is when the link was created, in ms.
	Created int64
	// Events: "r", or "rw" while messages wait to be written.
	Events string
	// SendBufAllocated and SendBufUsed are the bytes of the messages
	// waiting to be written (0 for an idle link, as Redis shows).
	SendBufAllocated, SendBufUsed int64
}

// Links returns the connected links that belong to a node: for each node
// (in no particular order) its outbound link and its newest inbound link.
// The caller holds Config.Mu.
func (t *Transport) Links() []LinkInfo {
	var out []LinkInfo
	from := map[string]*conn{}
	for _, c := range t.links {
		if c.c == nil {
			continue
		}
		if c.outbound {
			if t.out[c.name] == c {
				out = append(out, info(c, true, c.name))
			}
		} else if c.peer != "" {
			if o := from[c.peer]; o == nil || o.ctime < c.ctime || (o.ctime == c.ctime && o.id < c.id) {
				from[c.peer] = c
			}
		}
	}
	for name, c := range from {
		out = append(out, info(c, false, name))
	}
	return out
}

func info(c *conn, to bool, name string) LinkInfo {
	q := c.queued.Load()
	l := LinkInfo{To: to, Node: name, Created: c.ctime, Events: "r", SendBufAllocated: q, SendBufUsed: q}
	if len(c.sendq) > 0 {
		l.Events = "rw"
	}
	return l
}

// KillLinks frees our link to node (to) and its links to us (from), as
// DEBUG CLUSTERLINK KILL does; they are made again as usual. The caller
// holds Config.Mu.
func (t *Transport) KillLinks(node string, to, from bool) {
	now := t.cfg.Now()
	for _, c := range t.links {
		if to && c.outbound && c.name == node || from && !c.outbound && c.peer == node {
			t.drop(c, now)
		}
	}
}
