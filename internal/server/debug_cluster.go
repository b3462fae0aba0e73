package server

// DEBUG subcommands about the cluster bus (debug.c: DROP-CLUSTER-PACKET-FILTER,
// CLUSTERLINK KILL).

import (
	"strconv"
	"strings"

	"redgo/internal/commands"
)

// debugCluster runs the DEBUG subcommands that act on the cluster bus and
// reports whether sub was one of them.
func debugCluster(s *Server, c *commands.Ctx) bool {
	sub := strings.ToLower(string(c.Args[1]))
	switch {
	case sub == "drop-cluster-packet-filter" && len(c.Args) == 3:
		// getLongFromObjectOrReply
		t, err := strconv.ParseInt(string(c.Args[2]), 10, 64)
		if err != nil {
			c.Error("ERR value is not an integer or out of range")
			return true
		}
		if cm := s.cluster; cm != nil {
			cm.mu.Lock()
			cm.m.DropType = int(t)
			cm.mu.Unlock()
		}
		c.W.OK()
		return true
	case sub == "clusterlink" && len(c.Args) == 5 && strings.EqualFold(string(c.Args[2]), "kill"):
		cm := s.cluster
		if cm == nil {
			c.Error("ERR Debug option only available for cluster mode enabled setup!")
			return true
		}
		name := string(c.Args[4])
		cm.mu.Lock()
		defer cm.mu.Unlock()
		if cm.st.Lookup(name) == nil {
			c.Error("ERR Unknown node " + name)
			return true
		}
		var to, from bool
		switch strings.ToLower(string(c.Args[3])) {
		case "to":
			to = true
		case "from":
			from = true
		case "all":
			to, from = true, true
		default:
			c.Error("ERR Unknown direction " + string(c.Args[3]))
			return true
		}
		if cm.bus != nil && cm.bus.tr != nil {
			cm.bus.tr.KillLinks(name, to, from)
		}
		c.W.OK()
		return true
	}
	return false
}
