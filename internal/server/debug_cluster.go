package server

// DEBUG subcommands about the cluster bus (debug.c: DROP-CLUSTER-PACKET-FILTER).

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
	}
	return false
}
