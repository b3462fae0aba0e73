package cluster

// OutLink reports the outbound link to n as CLUSTER LINKS shows it:
// whether one exists (connected or dialing) and when it was asked for
// (ms).
func (g *Membership) OutLink(n *Node) (created int64, ok bool) {
	l := g.links[n]
	if l == nil {
		return 0, false
	}
	return l.created, true
}
