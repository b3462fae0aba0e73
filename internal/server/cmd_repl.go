package server

// Replication commands (Redis 7.0 replication.c: syncCommand,
// replconfCommand, replicaofCommand, roleCommand, waitCommand) and INFO's
// replication section (genRedisInfoString). They only translate between
// the client and internal/replication.

import (
	"strconv"
	"strings"

	"redgo/internal/commands"
	"redgo/internal/replication"
)

func init() {
	commands.Register("sync", srvCmd(cmdSync))
	commands.Register("psync", srvCmd(cmdSync))
	commands.Register("replconf", srvCmd(cmdReplconf))
	commands.Register("replicaof", srvCmd(cmdReplicaof))
	commands.Register("slaveof", srvCmd(cmdReplicaof))
	commands.Register("role", srvCmd(cmdRole))
	commands.Register("wait", srvCmd(cmdWait))
	commands.Register("failover", srvCmd(cmdFailover))
}

// cmdFailover is FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]
// (failoverCommand).
func cmdFailover(s *Server, cc *Client, c *commands.Ctx) {
	if s.cluster != nil {
		c.Error("ERR FAILOVER not allowed in cluster mode.")
		return
	}
	if len(c.Args) == 2 && commands.EqualFold(c.Args[1], "abort") {
		if msg := s.repl.AbortFailover(); msg != "" {
			c.Error(msg)
			return
		}
		c.W.OK()
		return
	}
	var host string
	var port, timeout int64
	var force, hasTimeout bool
	args := c.Args[1:]
	for i := 0; i < len(args); i++ {
		switch {
		case commands.EqualFold(args[i], "to") && i+2 < len(args) && host == "":
			p, ok := commands.ParseInt(args[i+2])
			if !ok {
				c.Error("ERR value is not an integer or out of range")
				return
			}
			host, port = string(args[i+1]), p
			i += 2
		case commands.EqualFold(args[i], "force") && !force:
			force = true
		case commands.EqualFold(args[i], "timeout") && i+1 < len(args) && !hasTimeout:
			t, ok := commands.ParseInt(args[i+1])
			if !ok {
				c.Error("ERR value is not an integer or out of range")
				return
			}
			if t <= 0 {
				c.Error("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout, hasTimeout = t, true
			i++
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	if msg := s.repl.Failover(host, int(port), force, timeout); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

// cmdSync is SYNC and PSYNC: the connection becomes a replica's link.
func cmdSync(s *Server, cc *Client, c *commands.Ctx) {
	if cc == nil || cc.conn == nil || cc == s.masterClient {
		return
	}
	if cc.replicaLink.Load() {
		return // a replica asking twice: ignored, as Redis
	}
	if cc.multi != nil || cc.inExec {
		c.Error("ERR Command not allowed inside a transaction")
		return
	}
	if cc.replyStart > 0 || len(cc.out) > 0 {
		c.Error(strings.TrimPrefix(replication.ReplyPendingOutput, "-"))
		return
	}
	req := replication.SyncRequest{ID: cc.id, Conn: cc.conn, PeerIP: peerIP(cc.addr), HS: cc.replHS}
	if commands.EqualFold(c.Args[0], "psync") {
		req.PSYNC = c.Args[1:]
	}
	cc.replicaLink.Store(true) // from here on nothing we buffer reaches the connection
	if reply := s.repl.Sync(req); reply != "" {
		cc.replicaLink.Store(false)
		c.Error(strings.TrimPrefix(reply, "-"))
	}
}

func cmdReplconf(s *Server, cc *Client, c *commands.Ctx) {
	if cc == nil {
		return
	}
	switch reply := s.repl.ReplConf(cc.id, &cc.replHS, c.Args[1:]); {
	case reply == "":
	case reply[0] == '+':
		c.W.Simple(reply[1:])
	default:
		c.Error(reply[1:])
	}
}

// cmdReplicaof is REPLICAOF / SLAVEOF host port | NO ONE.
func cmdReplicaof(s *Server, cc *Client, c *commands.Ctx) {
	if s.cluster != nil {
		c.Error("ERR REPLICAOF not allowed in cluster mode.")
		return
	}
	who := ""
	if cc != nil {
		who = "id=" + strconv.FormatInt(cc.id, 10) + " addr=" + cc.addr + " laddr=" + cc.laddr
	}
	if commands.EqualFold(c.Args[1], "no") && commands.EqualFold(c.Args[2], "one") {
		if s.repl.IsReplica() {
			s.repl.NoOne()
			s.Log.Printf("MASTER MODE enabled (user request from '%s')", who)
		}
		c.W.OK()
		return
	}
	if cc != nil && cc.replicaLink.Load() {
		c.Error("ERR Command is not valid when client is a replica.")
		return
	}
	port, ok := c.IntArg(2)
	if !ok {
		return
	}
	if port < 0 || port > 65535 {
		c.Error("ERR Invalid master port")
		return
	}
	host := string(c.Args[1])
	if !s.repl.ReplicaOf(host, int(port), s.Cfg.Get("masterauth"), s.Cfg.Get("masteruser")) {
		s.Log.Printf("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
		c.W.Simple("OK Already connected to specified master")
		return
	}
	s.Log.Printf("REPLICAOF %s:%d enabled (user request from '%s')", host, port, who)
	c.W.OK()
}

// roleStates are ROLE's names of the link states (roleCommand).
func roleState(st replication.State) string {
	switch st {
	case replication.StateNone:
		return "none"
	case replication.StateConnect:
		return "connect"
	case replication.StateConnecting:
		return "connecting"
	case replication.StateTransfer:
		return "sync"
	case replication.StateConnected:
		return "connected"
	}
	return "handshake"
}

func cmdRole(s *Server, cc *Client, c *commands.Ctx) {
	if mi, ok := s.repl.Following(); ok {
		c.W.Array(5)
		c.W.BulkString("slave")
		c.W.BulkString(mi.Host)
		c.W.Int(int64(mi.Port))
		c.W.BulkString(roleState(mi.State))
		off := int64(-1)
		if mi.State == replication.StateConnected {
			off = mi.Link.Offset
		}
		c.W.Int(off)
		return
	}
	reps := s.repl.Replicas()
	c.W.Array(3)
	c.W.BulkString("master")
	c.W.Int(s.repl.Offset())
	var online []replication.ReplicaInfo
	for _, r := range reps {
		if r.State == "online" {
			online = append(online, r)
		}
	}
	c.W.Array(len(online))
	for _, r := range online {
		c.W.Array(3)
		c.W.BulkString(r.IP)
		c.W.BulkString(strconv.FormatInt(r.Port, 10))
		c.W.BulkString(strconv.FormatInt(r.Offset, 10))
	}
}

// cmdWait is WAIT numreplicas timeout.
func cmdWait(s *Server, cc *Client, c *commands.Ctx) {
	num, ok := c.IntArg(1)
	if !ok {
		return
	}
	t, ok := commands.ParseInt(c.Args[2])
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if t < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	if s.repl.IsReplica() {
		c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	var woff int64 // the offset of the client's last write (c->woff)
	if i := s.replProp.Load(); cc != nil && i > 0 && int(i) <= len(cc.durable) {
		woff = cc.durable[i-1]
	}
	if cc == nil || cc.inExec || cc == s.masterClient {
		t = -1 // in a transaction: no waiting
	}
	c.W.Int(s.repl.Wait(woff, num, t))
}

// infoReplication is INFO's replication section.
func infoReplication(s *Server, add func(k, v string)) {
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	ids := s.repl.IDs()
	off := s.repl.Offset()
	if mi, ok := s.repl.Following(); ok {
		li := mi.Link
		add("role", "slave")
		add("master_host", mi.Host)
		add("master_port", strconv.Itoa(mi.Port))
		if li.Up {
			add("master_link_status", "up")
		} else {
			add("master_link_status", "down")
		}
		add("master_last_io_seconds_ago", itoa(li.LastIO))
		add("master_sync_in_progress", b01(li.SyncInProgress))
		add("slave_read_repl_offset", itoa(li.Offset))
		add("slave_repl_offset", itoa(li.Offset))
		if li.SyncInProgress {
			add("master_sync_total_bytes", itoa(li.SyncTotal))
			add("master_sync_read_bytes", itoa(li.SyncRead))
			left, perc := int64(-1), "0.00"
			if li.SyncTotal > 0 {
				left = li.SyncTotal - li.SyncRead
				perc = strconv.FormatFloat(float64(li.SyncRead)*100/float64(li.SyncTotal), 'f', 2, 64)
			}
			add("master_sync_left_bytes", itoa(left))
			add("master_sync_perc", perc)
			add("master_sync_last_io_seconds_ago", itoa(li.SyncLastIO))
		}
		if !li.Up {
			add("master_link_down_since_seconds", itoa(li.DownSince))
		}
		add("slave_priority", s.Cfg.Get("replica-priority"))
		add("slave_read_only", b01(s.Cfg.Bool("replica-read-only")))
		add("replica_announced", b01(s.Cfg.Bool("replica-announced")))
	} else {
		add("role", "master")
	}
	reps := s.repl.Replicas()
	add("connected_slaves", strconv.Itoa(len(reps)))
	if need := s.Cfg.Int("min-replicas-to-write"); need > 0 && !s.repl.IsReplica() {
		add("min_slaves_good_slaves", itoa(s.repl.GoodReplicas(s.Cfg.Int("min-replicas-max-lag"))))
	}
	for i, r := range reps {
		add("slave"+strconv.Itoa(i), "ip="+r.IP+",port="+itoa(r.Port)+",state="+r.State+
			",offset="+itoa(r.Offset)+",lag="+itoa(r.Lag))
	}
	add("master_failover_state", s.repl.FailoverState())
	add("master_replid", ids.ID)
	add("master_replid2", ids.ID2)
	add("master_repl_offset", itoa(off))
	add("second_repl_offset", itoa(ids.SecondOffset))
	bl, ok := s.repl.BacklogInfo()
	add("repl_backlog_active", b01(ok))
	add("repl_backlog_size", s.Cfg.Get("repl-backlog-size"))
	if ok {
		add("repl_backlog_first_byte_offset", itoa(bl.FirstByte))
		add("repl_backlog_histlen", itoa(bl.HistLen))
	} else {
		add("repl_backlog_first_byte_offset", "0")
		add("repl_backlog_histlen", "0")
	}
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
