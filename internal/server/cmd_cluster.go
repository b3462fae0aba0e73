package server

// CLUSTER subcommands, READONLY, READWRITE and ASKING, with Redis 7.0's
// replies and error texts (cluster.c clusterCommand). The state changes
// are cluster.State's; these handlers parse, lock, reply and commit.
// MEET and FORGET go through the bus (clusterbus.go); REPLICATE and
// FAILOVER check their arguments as Redis does, then refuse: replication
// is not there yet.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"redgo/internal/cluster"
	"redgo/internal/commands"
	"redgo/internal/slot"
)

func init() {
	reg := func(sub string, h commands.Handler, opts ...commands.Option) {
		commands.Register("cluster|"+sub, clusterOnly(h), opts...)
	}
	reg("help", cmdClusterHelp)
	reg("keyslot", cmdClusterKeyslot)
	// Commands that read or check the keyspace take every shard: they
	// have no keys for the dispatcher to lock, and inside EXEC a handler
	// must not lock on its own.
	reg("countkeysinslot", cmdClusterCountKeys, commands.LockAll())
	reg("getkeysinslot", cmdClusterGetKeys, commands.LockAll())
	reg("myid", cmdClusterMyID)
	reg("nodes", cmdClusterNodes)
	reg("slots", cmdClusterSlots)
	reg("shards", cmdClusterShards)
	reg("info", cmdClusterInfo)
	reg("addslots", cmdClusterAddSlots)
	reg("delslots", cmdClusterAddSlots)
	reg("addslotsrange", cmdClusterAddSlotsRange)
	reg("delslotsrange", cmdClusterAddSlotsRange)
	reg("flushslots", cmdClusterFlushSlots, commands.LockAll())
	reg("setslot", cmdClusterSetSlot, commands.LockAll())
	reg("bumpepoch", cmdClusterBumpEpoch)
	reg("set-config-epoch", cmdClusterSetConfigEpoch)
	reg("saveconfig", srvCmd(cmdClusterSaveConfig))
	reg("reset", cmdClusterReset, commands.LockAll())
	reg("count-failure-reports", cmdClusterFailureReports)
	reg("links", cmdClusterLinks)
	reg("replicas", cmdClusterReplicas)
	reg("slaves", cmdClusterReplicas)
	reg("meet", cmdClusterMeet)
	reg("forget", cmdClusterForget)
	reg("replicate", cmdClusterReplicate, commands.LockAll())
	reg("failover", cmdClusterFailover)
	commands.Register("readonly", clusterOnly(srvCmd(func(s *Server, cc *Client, c *commands.Ctx) { cc.cl.readonly.Store(true); c.W.OK() })))
	commands.Register("readwrite", clusterOnly(srvCmd(func(s *Server, cc *Client, c *commands.Ctx) { cc.cl.readonly.Store(false); c.W.OK() })))
	commands.Register("asking", clusterOnly(srvCmd(func(s *Server, cc *Client, c *commands.Ctx) { cc.cl.asking = true; c.W.OK() })))
	refuseInCluster()
}

// refuseInCluster layers Redis's cluster-mode refusals over data commands
// of other databases (registered by package commands, already initialized):
// MOVE and SWAPDB, and COPY to a database other than 0.
func refuseInCluster() {
	wrap := func(name string, refuse func(c *commands.Ctx) string) {
		cmd := commands.Lookup([]byte(name))
		h := cmd.Handler
		cmd.Handler = func(c *commands.Ctx) {
			if c.Srv.(*Server).cluster != nil {
				if msg := refuse(c); msg != "" {
					c.Error(msg)
					return
				}
			}
			h(c)
		}
	}
	wrap("move", func(*commands.Ctx) string { return "ERR MOVE is not allowed in cluster mode" })
	wrap("swapdb", func(*commands.Ctx) string { return "ERR SWAPDB is not allowed in cluster mode" })
	wrap("copy", func(c *commands.Ctx) string {
		// Only once every option parsed (else COPY's own error comes first).
		db := int64(c.DB.Index())
		for j := 3; j < len(c.Args); j++ {
			switch {
			case strings.EqualFold(string(c.Args[j]), "replace"):
			case strings.EqualFold(string(c.Args[j]), "db") && j+1 < len(c.Args):
				n, ok := commands.ParseInt(c.Args[j+1])
				if !ok || n < 0 || n >= int64(c.KS.NumDB()) {
					return ""
				}
				db = n
				j++
			default:
				return ""
			}
		}
		if db != 0 || c.DB.Index() != 0 {
			return "ERR Copying to another database is not allowed in cluster mode"
		}
		return ""
	})
}

// clusterOnly refuses h outside cluster mode.
func clusterOnly(h commands.Handler) commands.Handler {
	return func(c *commands.Ctx) {
		if c.Srv.(*Server).cluster == nil {
			c.Error(errClusterDisabled)
			return
		}
		h(c)
	}
}

// withState runs fn with the cluster state locked, then carries out the
// core's Ready for what fn changed (nodes.conf saved before any message
// goes, then cluster_state and routes), before the reply leaves.
func withState(c *commands.Ctx, fn func(cm *clusterMode, st *cluster.State)) {
	cm := c.Srv.(*Server).cluster
	cm.mu.Lock()
	defer cm.mu.Unlock()
	mark := len(c.W.Buf)
	fn(cm, cm.st)
	if err := cm.commitForReplyLocked(); err != nil {
		// The save failed and the node is stopping (Redis exits): the
		// change is not durable, so its reply must not say it is.
		c.W.Buf = c.W.Buf[:mark]
		c.Error("ERR can't update cluster config file: " + err.Error())
	}
}

// syntaxErr is addReplySubcommandSyntaxError.
func syntaxErr(c *commands.Ctx) {
	c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try CLUSTER HELP.", c.Args[1]))
}

// slotArg parses a slot as getSlotOrReply.
func slotArg(c *commands.Ctx, a []byte) (int, bool) {
	n, ok := commands.ParseInt(a)
	if !ok || n < 0 || n >= slot.Count {
		c.Error("ERR Invalid or out of range slot")
		return 0, false
	}
	return int(n), true
}

func cmdClusterHelp(c *commands.Ctx) {
	help(c, "CLUSTER",
		"ADDSLOTS <slot> [<slot> ...]",
		"    Assign slots to current node.",
		"ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
		"    Assign slots which are between <start-slot> and <end-slot> to current node.",
		"BUMPEPOCH",
		"    Advance the cluster config epoch.",
		"COUNT-FAILURE-REPORTS <node-id>",
		"    Return number of failure reports for <node-id>.",
		"COUNTKEYSINSLOT <slot>",
		"    Return the number of keys in <slot>.",
		"DELSLOTS <slot> [<slot> ...]",
		"    Delete slots information from current node.",
		"DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
		"    Delete slots information which are between <start-slot> and <end-slot> from current node.",
		"FAILOVER [FORCE|TAKEOVER]",
		"    Promote current replica node to being a master.",
		"FORGET <node-id>",
		"    Remove a node from the cluster.",
		"GETKEYSINSLOT <slot> <count>",
		"    Return key names stored by current node in a slot.",
		"FLUSHSLOTS",
		"    Delete current node own slots information.",
		"INFO",
		"    Return information about the cluster.",
		"KEYSLOT <key>",
		"    Return the hash slot for <key>.",
		"MEET <ip> <port> [<bus-port>]",
		"    Connect nodes into a working cluster.",
		"MYID",
		"    Return the node id.",
		"NODES",
		"    Return cluster configuration seen by node. Output format:",
		"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
		"REPLICATE <node-id>",
		"    Configure current node as replica to <node-id>.",
		"RESET [HARD|SOFT]",
		"    Reset current node (default: soft).",
		"SET-CONFIG-EPOCH <epoch>",
		"    Set config epoch of current node.",
		"SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
		"    Set slot state.",
		"REPLICAS <node-id>",
		"    Return <node-id> replicas.",
		"SAVECONFIG",
		"    Force saving cluster configuration on disk.",
		"SLOTS",
		"    Return information about slots range mappings. Each range is made of:",
		"    start, end, master and replicas IP addresses, ports and ids",
		"SHARDS",
		"    Return information about slot range mappings and the nodes associated with them.",
		"LINKS",
		"    Return information about all network links between this node and its peers.",
		"    Output format is an array where each array element is a map containing attributes of a link")
}

func cmdClusterKeyslot(c *commands.Ctx) { c.W.Int(int64(slot.Of(c.Args[2]))) }

func cmdClusterCountKeys(c *commands.Ctx) {
	n, ok := commands.ParseInt(c.Args[2])
	if !ok {
		c.Error(commands.ErrNotInt)
		return
	}
	if n < 0 || n >= slot.Count {
		c.Error("ERR Invalid slot")
		return
	}
	c.W.Int(int64(c.KS.DB(0).SlotLen(int(n))))
}

func cmdClusterGetKeys(c *commands.Ctx) {
	n, ok := commands.ParseInt(c.Args[2])
	if !ok {
		c.Error(commands.ErrNotInt)
		return
	}
	count, ok := commands.ParseInt(c.Args[3])
	if !ok {
		c.Error(commands.ErrNotInt)
		return
	}
	if n < 0 || n >= slot.Count || count < 0 {
		c.Error("ERR Invalid slot or number of keys")
		return
	}
	db := c.KS.DB(0)
	count = min(count, int64(db.SlotLen(int(n))))
	c.W.BulkStrings(db.SlotKeys(int(n), int(count)))
}

func cmdClusterMyID(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) { c.W.BulkString(st.Myself.Name) })
}

func cmdClusterNodes(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		var b []byte
		mig := st.Migrations()
		for _, n := range st.SortedNodes() {
			b = cluster.AppendNodeLine(b, n, false, mig)
			b = append(b, '\n')
		}
		c.W.Verbatim(string(b), "txt")
	})
}

func cmdClusterInfo(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) { c.W.Verbatim(st.InfoText(), "txt") })
}

// writeSlotsNode is one node entry of CLUSTER SLOTS: endpoint, port, id
// and the other known addresses as a map (addNodeToNodeReply).
func writeSlotsNode(c *commands.Ctx, pref string, n *cluster.Node) {
	c.W.Array(4)
	switch pref {
	case "hostname":
		c.W.BulkString(cluster.PreferredEndpoint(pref, n.IP, n.Hostname))
	case "unknown-endpoint":
		c.W.Null()
	default:
		c.W.BulkString(n.IP)
	}
	c.W.Int(int64(n.Port))
	c.W.BulkString(n.Name)
	ip := pref != "ip"
	host := pref != "hostname" && n.Hostname != ""
	c.W.Map(boolN(ip) + boolN(host))
	if ip {
		c.W.BulkString("ip")
		c.W.BulkString(n.IP)
	}
	if host {
		c.W.BulkString("hostname")
		c.W.BulkString(n.Hostname)
	}
}

func boolN(b bool) int {
	if b {
		return 1
	}
	return 0
}

// replicaAvailable: replicas appear in CLUSTER SLOTS once they are not
// failing and have replicated something (isReplicaAvailable).
func replicaAvailable(n *cluster.Node) bool {
	return n.Flags&cluster.FlagFail == 0 && n.ReplOffset != 0
}

func cmdClusterSlots(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		pref := st.Opts.PreferredEndpoint
		ranges := st.SlotRanges()
		c.W.Array(len(ranges))
		for _, r := range ranges {
			var reps []*cluster.Node
			for _, x := range r.Node.Replicas {
				if replicaAvailable(x) {
					reps = append(reps, x)
				}
			}
			c.W.Array(3 + len(reps))
			c.W.Int(int64(r.Start))
			c.W.Int(int64(r.End))
			writeSlotsNode(c, pref, r.Node)
			for _, x := range reps {
				writeSlotsNode(c, pref, x)
			}
		}
	})
}

func cmdClusterShards(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		var masters []*cluster.Node
		for _, n := range st.SortedNodes() {
			if n.IsMaster() {
				masters = append(masters, n)
			}
		}
		c.W.Array(len(masters))
		for _, m := range masters {
			c.W.Map(2)
			c.W.BulkString("slots")
			ranges := cluster.NodeRanges(m)
			c.W.Array(2 * len(ranges))
			for _, r := range ranges {
				c.W.Int(int64(r[0]))
				c.W.Int(int64(r[1]))
			}
			c.W.BulkString("nodes")
			nodes := cluster.ShardNodes(m)
			c.W.Array(len(nodes))
			for _, n := range nodes {
				writeShardNode(c, st, n)
			}
		}
	})
}

// writeShardNode is one node of CLUSTER SHARDS (addNodeDetailsToShardReply).
func writeShardNode(c *commands.Ctx, st *cluster.State, n *cluster.Node) {
	fields := 6
	if n.Port != 0 {
		fields++
	}
	if n.Hostname != "" {
		fields++
	}
	c.W.Map(fields)
	c.W.BulkString("id")
	c.W.BulkString(n.Name)
	if n.Port != 0 {
		c.W.BulkString("port")
		c.W.Int(int64(n.Port))
	}
	c.W.BulkString("ip")
	c.W.BulkString(n.IP)
	c.W.BulkString("endpoint")
	c.W.BulkString(cluster.PreferredEndpoint(st.Opts.PreferredEndpoint, n.IP, n.Hostname))
	if n.Hostname != "" {
		c.W.BulkString("hostname")
		c.W.BulkString(n.Hostname)
	}
	// Ours is kept current by the cluster cron (syncReplicationLocked),
	// the others' come with their pings.
	offset := int64(n.ReplOffset)
	replica := !n.IsMaster()
	c.W.BulkString("role")
	if replica {
		c.W.BulkString("replica")
	} else {
		c.W.BulkString("master")
	}
	c.W.BulkString("replication-offset")
	c.W.Int(offset)
	c.W.BulkString("health")
	switch {
	case n.Flags&cluster.FlagFail != 0:
		c.W.BulkString("fail")
	case replica && offset == 0:
		c.W.BulkString("loading")
	default:
		c.W.BulkString("online")
	}
}

// cmdClusterAddSlots is ADDSLOTS and DELSLOTS: every argument is parsed
// before any is checked, as Redis.
func cmdClusterAddSlots(c *commands.Ctx) {
	del := strings.EqualFold(string(c.Args[1]), "delslots")
	slots := make([]int, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		j, ok := slotArg(c, a)
		if !ok {
			return
		}
		slots = append(slots, j)
	}
	withState(c, func(_ *clusterMode, st *cluster.State) {
		var m cluster.SlotMark
		for _, j := range slots {
			if err := st.CheckSlots(&m, del, j, j); err != nil {
				c.Error(err.Error())
				return
			}
		}
		st.UpdateSlots(&m, del)
		c.W.OK()
	})
}

// cmdClusterAddSlotsRange is ADDSLOTSRANGE and DELSLOTSRANGE: each pair
// is parsed and checked in turn.
func cmdClusterAddSlotsRange(c *commands.Ctx) {
	if len(c.Args)%2 == 1 {
		c.Error(commands.WrongArgs(c.Cmd.Name))
		return
	}
	del := strings.EqualFold(string(c.Args[1]), "delslotsrange")
	withState(c, func(_ *clusterMode, st *cluster.State) {
		var m cluster.SlotMark
		for i := 2; i < len(c.Args); i += 2 {
			start, ok := slotArg(c, c.Args[i])
			if !ok {
				return
			}
			end, ok := slotArg(c, c.Args[i+1])
			if !ok {
				return
			}
			if start > end {
				c.Error(fmt.Sprintf("ERR start slot number %d is greater than end slot number %d", start, end))
				return
			}
			if err := st.CheckSlots(&m, del, start, end); err != nil {
				c.Error(err.Error())
				return
			}
		}
		st.UpdateSlots(&m, del)
		c.W.OK()
	})
}

func cmdClusterFlushSlots(c *commands.Ctx) {
	if c.KS.DB(0).Len() != 0 {
		c.Error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
		return
	}
	withState(c, func(_ *clusterMode, st *cluster.State) {
		st.FlushSlots()
		c.W.OK()
	})
}

func cmdClusterSetSlot(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		if st.IsReplica() {
			c.Error("ERR Please use SETSLOT only with masters.")
			return
		}
		j, ok := slotArg(c, c.Args[2])
		if !ok {
			return
		}
		var err error
		action := strings.ToLower(string(c.Args[3]))
		switch {
		case action == "migrating" && len(c.Args) == 5:
			err = st.SetSlotMigrating(j, string(c.Args[4]))
		case action == "importing" && len(c.Args) == 5:
			err = st.SetSlotImporting(j, string(c.Args[4]))
		case action == "stable" && len(c.Args) == 4:
			st.SetSlotStable(j)
		case action == "node" && len(c.Args) == 5:
			err = st.SetSlotNode(j, string(c.Args[4]), c.KS.DB(0).SlotLen(j))
		default:
			c.Error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
			return
		}
		if err != nil {
			c.Error(err.Error())
			return
		}
		c.W.OK()
	})
}

func cmdClusterBumpEpoch(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		word := "STILL "
		if st.BumpEpoch() {
			word = "BUMPED "
		}
		c.W.Simple(word + strconv.FormatUint(st.Myself.ConfigEpoch, 10))
	})
}

func cmdClusterSetConfigEpoch(c *commands.Ctx) {
	epoch, ok := commands.ParseInt(c.Args[2])
	if !ok {
		c.Error(commands.ErrNotInt)
		return
	}
	withState(c, func(_ *clusterMode, st *cluster.State) {
		if err := st.SetConfigEpoch(epoch); err != nil {
			c.Error(err.Error())
			return
		}
		c.W.OK()
	})
}

func cmdClusterSaveConfig(s *Server, cc *Client, c *commands.Ctx) {
	cm := s.cluster
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if err := cm.save(); err != nil {
		c.Error("ERR error saving the cluster node config: " + errText(err))
		return
	}
	c.W.OK()
}

func cmdClusterReset(c *commands.Ctx) {
	if len(c.Args) > 3 {
		syntaxErr(c)
		return
	}
	hard := false
	if len(c.Args) == 3 {
		switch strings.ToLower(string(c.Args[2])) {
		case "hard":
			hard = true
		case "soft":
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	withState(c, func(_ *clusterMode, st *cluster.State) {
		replica := st.IsReplica()
		if !replica && c.DB.Len() != 0 {
			c.Error("ERR CLUSTER RESET can't be called with master nodes containing keys")
			return
		}
		st.Reset(hard, randomHex(cluster.NameLen))
		if replica {
			c.Srv.(*Server).repl.NoOne()
			// A replica turned master drops the data it replicated (not
			// propagated: Redis's emptyData).
			for i := 0; i < c.KS.NumDB(); i++ {
				c.KS.DB(i).Flush()
			}
		}
		c.W.OK()
	})
}

func cmdClusterFailureReports(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		n := st.Lookup(string(c.Args[2]))
		if n == nil {
			c.Error("ERR Unknown node " + string(c.Args[2]))
			return
		}
		c.W.Int(int64(st.FailureReports(n, time.Now().UnixMilli())))
	})
}

// cmdClusterLinks lists the bus links (cluster_links.go).
func cmdClusterLinks(c *commands.Ctx) {
	withState(c, func(cm *clusterMode, st *cluster.State) { cm.writeLinks(c, st) })
}

func cmdClusterReplicas(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		n := st.Lookup(string(c.Args[2]))
		if n == nil {
			c.Error("ERR Unknown node " + string(c.Args[2]))
			return
		}
		if !n.IsMaster() {
			c.Error("ERR The specified node is not a master")
			return
		}
		c.W.Array(len(n.Replicas))
		for _, r := range n.Replicas {
			c.W.Bulk(cluster.AppendNodeLine(nil, r, false, nil))
		}
	})
}

func cmdClusterMeet(c *commands.Ctx) {
	if len(c.Args) > 5 {
		syntaxErr(c)
		return
	}
	port, ok := commands.ParseInt(c.Args[3])
	if !ok {
		c.Error("ERR Invalid TCP base port specified: " + string(c.Args[3]))
		return
	}
	cport := port + 10000
	if len(c.Args) == 5 {
		if cport, ok = commands.ParseInt(c.Args[4]); !ok {
			c.Error("ERR Invalid TCP bus port specified: " + string(c.Args[4]))
			return
		}
	}
	if !cluster.ValidMeetAddr(string(c.Args[2]), port, cport) {
		c.Error("ERR Invalid node address specified: " + string(c.Args[2]) + ":" + string(c.Args[3]))
		return
	}
	withState(c, func(cm *clusterMode, _ *cluster.State) {
		if err := cm.meet(string(c.Args[2]), int(port), int(cport)); err != nil {
			if _, ok := err.(busErr); ok {
				c.Error(err.Error())
			} else {
				c.Error("ERR Invalid node address specified: " + string(c.Args[2]) + ":" + string(c.Args[3]))
			}
			return
		}
		c.W.OK()
	})
}

func cmdClusterForget(c *commands.Ctx) {
	withState(c, func(cm *clusterMode, _ *cluster.State) {
		if err := cm.forget(string(c.Args[2])); err != nil {
			c.Error(err.Error())
			return
		}
		c.W.OK()
	})
}

func cmdClusterReplicate(c *commands.Ctx) {
	withState(c, func(_ *clusterMode, st *cluster.State) {
		n := st.Lookup(string(c.Args[2]))
		switch {
		case n == nil:
			c.Error("ERR Unknown node " + string(c.Args[2]))
		case n == st.Myself:
			c.Error("ERR Can't replicate myself")
		case !n.IsMaster():
			c.Error("ERR I can only replicate a master, not a replica.")
		case st.Myself.IsMaster() && (st.Myself.Slots.Count() != 0 || c.KS.DB(0).Len() != 0):
			c.Error("ERR To set a master the node must be empty and without assigned slots.")
		default:
			st.SetMaster(n) // replication starts when the Ready is applied
			st.Do(cluster.TodoSaveConfig | cluster.TodoUpdateState)
			c.W.OK()
		}
	})
}

func cmdClusterFailover(c *commands.Ctx) {
	if len(c.Args) > 3 {
		syntaxErr(c)
		return
	}
	mode := cluster.ManualDefault
	if len(c.Args) == 3 {
		switch strings.ToLower(string(c.Args[2])) {
		case "force":
			mode = cluster.ManualForce
		case "takeover":
			mode = cluster.ManualTakeover
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	withState(c, func(cm *clusterMode, _ *cluster.State) {
		cm.syncReplicationLocked()
		if err := cm.m.StartManualFailover(mode, time.Now().UnixMilli()); err != nil {
			c.Error(err.Error())
			return
		}
		c.W.OK()
	})
}
