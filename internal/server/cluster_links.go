package server

import (
	"redgo/internal/cluster"
	"redgo/internal/clusterbus"
	"redgo/internal/commands"
)

// writeLinks is CLUSTER LINKS (addReplyClusterLinksDescription): for each
// node, our link to it ("to") and its link to us ("from"), as maps.
// Callers hold cm.mu.
func (cm *clusterMode) writeLinks(c *commands.Ctx, st *cluster.State) {
	if cm.bus == nil || cm.bus.tr == nil {
		c.W.Array(0)
		return
	}
	byNode := map[string][]clusterbus.LinkInfo{}
	for _, l := range cm.bus.tr.Links() {
		if l.To {
			byNode[l.Node] = append([]clusterbus.LinkInfo{l}, byNode[l.Node]...)
		} else {
			byNode[l.Node] = append(byNode[l.Node], l)
		}
	}
	var links []clusterbus.LinkInfo
	for _, n := range st.SortedNodes() {
		if n != st.Myself {
			links = append(links, byNode[n.Name]...)
		}
	}
	c.W.Array(len(links))
	for _, l := range links {
		dir := "from"
		if l.To {
			dir = "to"
		}
		c.W.Map(6)
		c.W.BulkString("direction")
		c.W.BulkString(dir)
		c.W.BulkString("node")
		c.W.BulkString(l.Node)
		c.W.BulkString("create-time")
		c.W.Int(l.Created)
		c.W.BulkString("events")
		c.W.BulkString(l.Events)
		c.W.BulkString("send-buffer-allocated")
		c.W.Int(l.SendBufAllocated)
		c.W.BulkString("send-buffer-used")
		c.W.Int(l.SendBufUsed)
	}
}
