package server

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"redgo/internal/acl"
	"redgo/internal/commands"
	"redgo/internal/resp"
)

// CLIENT REPLY modes (Client.replyMode).
const (
	replyOn   = 0
	replyOff  = 1
	replySkip = 2 // the next command's reply is dropped
)

func init() {
	commands.Register("client|id", srvCmd(func(s *Server, cc *Client, c *commands.Ctx) { c.W.Int(cc.id) }))
	commands.Register("client|setname", srvCmd(cmdClientSetname))
	commands.Register("client|getname", srvCmd(cmdClientGetname))
	commands.Register("client|list", srvCmd(cmdClientList))
	commands.Register("client|info", srvCmd(cmdClientInfo))
	commands.Register("client|kill", srvCmd(cmdClientKill))
	commands.Register("client|pause", srvCmd(cmdClientPause))
	commands.Register("client|unpause", srvCmd(cmdClientUnpause))
	commands.Register("client|no-evict", srvCmd(cmdClientNoEvict))
	commands.Register("client|reply", srvCmd(cmdClientReply))
	commands.Register("client|unblock", srvCmd(cmdClientUnblock))
	commands.Register("client|tracking", srvCmd(cmdClientTracking))
	commands.Register("client|caching", srvCmd(cmdClientCaching))
	commands.Register("client|getredir", srvCmd(cmdClientGetredir))
	commands.Register("client|trackinginfo", srvCmd(cmdClientTrackinginfo))
	commands.Register("client|help", cmdClientHelp)
	// Redis 7.2 additions that client libraries send (go-redis sends
	// CLIENT SETINFO on connect); Redis 7.0 has no metadata for them.
	registerExtraSub("client", "setinfo", -4, srvCmd(cmdClientSetinfo),
		"Sets information specific to the client or connection.", "7.2.0", "O(1)",
		[]string{"request_policy:all_nodes", "response_policy:all_succeeded"})
	registerExtraSub("client", "no-touch", 3, srvCmd(cmdClientNoTouch),
		"Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "7.2.0", "O(1)", nil)
}

// registerExtraSub adds a subcommand newer than the Redis 7.0 metadata,
// with hand-written COMMAND INFO/DOCS entries in Redis's layout.
func registerExtraSub(parent, name string, arity int, h commands.Handler, summary, since, complexity string, tips []string) {
	p := commands.Lookup([]byte(parent))
	if p == nil || p.Sub == nil {
		panic("server: no container " + parent)
	}
	full := parent + "|" + name
	simple := func(s string) resp.Value { return resp.Value{Type: '+', Str: s} }
	bulk := func(s string) resp.Value { return resp.Value{Type: '$', Str: s} }
	integer := func(n int64) resp.Value { return resp.Value{Type: ':', Int: n} }
	tipVals := []resp.Value{}
	for _, t := range tips {
		tipVals = append(tipVals, bulk(t))
	}
	info := resp.Value{Type: '*', Elems: []resp.Value{
		bulk(full), integer(int64(arity)),
		{Type: '~', Elems: []resp.Value{simple("noscript"), simple("loading"), simple("stale")}},
		integer(0), integer(0), integer(0),
		{Type: '~', Elems: []resp.Value{simple("@slow"), simple("@connection")}},
		{Type: '~', Elems: tipVals},
		{Type: '~'},
		{Type: '~'},
	}}
	docs := resp.Value{Type: '%', Elems: []resp.Value{
		bulk("summary"), bulk(summary), bulk("since"), bulk(since),
		bulk("group"), bulk("connection"), bulk("complexity"), bulk(complexity),
	}}
	p.Sub[name] = &commands.Command{Name: full, Arity: arity, Handler: h, Info: info, Docs: docs, Parent: p,
		Flags: commands.FNoScript | commands.FLoading | commands.FStale}
}

// clientSnap is the part of a client's state that CLIENT LIST shows and
// only the connection goroutine may touch; it is republished after every
// command.
type clientSnap struct {
	db       atomic.Int32
	multi    atomic.Int32 // queued commands + 1; 0 outside MULTI (the zero value)
	multiMem atomic.Int64
	qbuf     atomic.Int64 // unprocessed query buffer bytes
	qbufCap  atomic.Int64
	flags    atomic.Uint32 // snapNoEvict | snapNoTouch
}

const (
	snapNoEvict = 1 << iota
	snapNoTouch
)

// publishSnap runs after every command; it only stores what changed, so
// the common case is a handful of plain loads.
func (c *Client) publishSnap() {
	sn := &c.snap
	if db := int32(c.db); sn.db.Load() != db {
		sn.db.Store(db)
	}
	if c.multi == nil {
		if sn.multi.Load() != 0 {
			sn.multi.Store(0)
			c.srv.cev.multiTotal.Add(-sn.multiMem.Swap(0))
		}
	} else {
		n := int32(len(c.multi.cmds))
		prev := sn.multi.Load() - 1
		mem := sn.multiMem.Load()
		if prev < 0 || prev > n {
			prev, mem = 0, 0
		}
		for _, q := range c.multi.cmds[prev:n] {
			mem += argvMem(q.args)
		}
		sn.multi.Store(n + 1)
		if old := sn.multiMem.Swap(mem); old != mem {
			c.srv.cev.multiTotal.Add(mem - old)
		}
	}
	if q := int64(len(c.qbuf) - c.qr); sn.qbuf.Load() != q {
		sn.qbuf.Store(q)
	}
	if q := int64(cap(c.qbuf)); sn.qbufCap.Load() != q {
		sn.qbufCap.Store(q)
	}
	var f uint32
	if c.noEvict {
		f |= snapNoEvict
	}
	if c.noTouch {
		f |= snapNoTouch
	}
	if sn.flags.Load() != f {
		sn.flags.Store(f)
	}
	c.checkEvict() // the command may have grown its buffers
}

func argvMem(args [][]byte) int64 {
	n := int64(0)
	for _, a := range args {
		n += int64(len(a))
	}
	return n
}

// requestLen is the size of args as a RESP multibulk request.
func requestLen(args [][]byte) int64 {
	n := int64(len(strconv.Itoa(len(args))) + 3)
	for _, a := range args {
		n += int64(len(strconv.Itoa(len(a)))+3) + int64(len(a)) + 2
	}
	return n
}

// silence applies CLIENT REPLY OFF|SKIP to the command being executed:
// the returned func drops what the command wrote. The reply of CLIENT
// REPLY ON itself is kept.
func (c *Client) silence(args [][]byte, mark, flushes int) func() {
	if c.replyMode == replySkip {
		c.replyMode = replyOn
	}
	return func() {
		if c.replyMode == replyOn && len(args) == 3 && commands.EqualFold(args[0], "client") &&
			commands.EqualFold(args[1], "reply") && commands.EqualFold(args[2], "on") {
			return
		}
		if c.flushes != flushes {
			mark = 0 // what came before was sent by a flush meanwhile
		}
		if mark <= len(c.w.Buf) {
			c.w.Buf = c.w.Buf[:mark]
		}
	}
}

func cmdClientReply(s *Server, cc *Client, c *commands.Ctx) {
	switch {
	case commands.EqualFold(c.Args[2], "on"):
		cc.replyMode = replyOn
		c.W.OK()
	case commands.EqualFold(c.Args[2], "off"):
		cc.replyMode = replyOff
	case commands.EqualFold(c.Args[2], "skip"):
		if cc.replyMode == replyOn {
			cc.replyMode = replySkip
		}
	default:
		c.Error(commands.ErrSyntax)
	}
}

func cmdClientSetname(s *Server, cc *Client, c *commands.Ctx) {
	if !validClientName(c.Args[2]) {
		c.Error(errClientName)
		return
	}
	cc.mu.Lock()
	cc.name = string(c.Args[2])
	cc.mu.Unlock()
	c.W.OK()
}

func cmdClientGetname(s *Server, cc *Client, c *commands.Ctx) {
	cc.mu.Lock()
	name := cc.name
	cc.mu.Unlock()
	if name == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(name)
}

func cmdClientSetinfo(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) != 4 {
		c.Error(commands.WrongArgs("client|setinfo"))
		return
	}
	attr := strings.ToLower(string(c.Args[2]))
	if attr != "lib-name" && attr != "lib-ver" {
		c.Error("ERR Unrecognized option '" + string(c.Args[2]) + "'")
		return
	}
	if !validClientName(c.Args[3]) {
		c.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		return
	}
	cc.mu.Lock()
	if attr == "lib-name" {
		cc.libName = string(c.Args[3])
	} else {
		cc.libVer = string(c.Args[3])
	}
	cc.mu.Unlock()
	c.W.OK()
}

func onOff(c *commands.Ctx, i int) (bool, bool) {
	switch {
	case commands.EqualFold(c.Args[i], "on"):
		return true, true
	case commands.EqualFold(c.Args[i], "off"):
		return false, true
	}
	c.Error(commands.ErrSyntax)
	return false, false
}

func cmdClientNoEvict(s *Server, cc *Client, c *commands.Ctx) {
	if v, ok := onOff(c, 2); ok {
		cc.noEvict = v
		c.W.OK()
	}
}

// srvCmd(cmdClientNoTouch) records the flag; the keyspace does not consult it
// yet (lookups still update the access time).
func cmdClientNoTouch(s *Server, cc *Client, c *commands.Ctx) {
	if v, ok := onOff(c, 2); ok {
		cc.noTouch = v
		c.W.OK()
	}
}

func cmdClientPause(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 4 {
		subSyntaxError(c)
		return
	}
	all := true
	if len(c.Args) == 4 {
		switch {
		case commands.EqualFold(c.Args[3], "write"):
			all = false
		case commands.EqualFold(c.Args[3], "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := commands.ParseInt(c.Args[2])
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	s.pause.set(pauseClient, time.Now().Add(time.Duration(ms)*time.Millisecond), all)
	c.W.OK()
}

func cmdClientUnpause(s *Server, cc *Client, c *commands.Ctx) {
	s.pause.unpause(pauseClient)
	c.W.OK()
}

func cmdClientUnblock(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 4 {
		subSyntaxError(c)
		return
	}
	id, ok := c.IntArg(2)
	if !ok {
		return
	}
	reason := wakeUnblockTimeout
	if len(c.Args) == 4 {
		switch {
		case commands.EqualFold(c.Args[3], "timeout"):
		case commands.EqualFold(c.Args[3], "error"):
			reason = wakeUnblockError
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	s.mu.Lock()
	target := s.clients[id]
	s.mu.Unlock()
	if target != nil {
		if st := target.blocked.Load(); st != nil && st.cancel(reason) {
			c.W.Int(1)
			return
		}
	}
	c.W.Int(0)
}

func cmdClientHelp(c *commands.Ctx) {
	help(c, "CLIENT",
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.")
}

// ---- CLIENT LIST / INFO / KILL ----

// clientType is the CLIENT LIST/KILL TYPE of c. Our master's link is
// not among the clients: CLIENT KILL TYPE master reaches it through
// replication.
func clientType(c *Client) string {
	if c.replicaLink.Load() {
		return "replica"
	}
	if c.nsubs.Load() > 0 {
		return "pubsub"
	}
	return "normal"
}

// parseClientType validates a TYPE argument; "slave" is "replica".
func parseClientType(b []byte) (string, bool) {
	switch t := strings.ToLower(string(b)); t {
	case "normal", "master", "replica", "pubsub":
		return t, true
	case "slave":
		return "replica", true
	}
	return "", false
}

func connFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if raw.Control(func(f uintptr) { fd = int(f) }) != nil {
		return -1
	}
	return fd
}

// clientInfoLine renders c as one CLIENT LIST line (without the newline),
// field for field as Redis 7.0. self is the client running the command.
func (s *Server) clientInfoLine(c *Client, self *Client, selfArgs [][]byte) string {
	now := time.Now()
	c.mu.Lock()
	name, lastCmd, omem := c.name, c.lastCmd, len(c.out)+c.inflight
	c.mu.Unlock()
	s.pubsub.mu.RLock()
	sub, psub, ssub := len(c.subs), len(c.psubs), len(c.ssubs)
	s.pubsub.mu.RUnlock()
	sn := &c.snap
	multi := sn.multi.Load() - 1
	snapFlags := sn.flags.Load()
	var flags []byte
	if c.monitor.Load() {
		flags = append(flags, 'O')
	}
	if c.nsubs.Load() > 0 {
		flags = append(flags, 'P')
	}
	if multi >= 0 {
		flags = append(flags, 'x')
	}
	if c.blocked.Load() != nil {
		flags = append(flags, 'b')
	}
	if c.watch.dirty.Load() {
		flags = append(flags, 'd')
	}
	if c.closeErr.Load() {
		flags = append(flags, 'c')
	}
	if snapFlags&snapNoEvict != 0 {
		flags = append(flags, 'e')
	}
	if snapFlags&snapNoTouch != 0 {
		flags = append(flags, 'T')
	}
	if len(flags) == 0 {
		flags = append(flags, 'N')
	}
	qbuf, qcap := sn.qbuf.Load(), sn.qbufCap.Load()
	var argMem, obl int64
	if c == self {
		// The running command is still "in" the query buffer, as Redis
		// shows it.
		qbuf += requestLen(selfArgs)
		argMem = argvMem(selfArgs)
		obl = int64(len(c.w.Buf))
	}
	qfree := max(qcap-qbuf, 0)
	events := "r"
	if omem > 0 || obl > 0 {
		events = "rw"
	}
	if lastCmd == "" {
		lastCmd = "NULL"
	}
	totMem := qcap + argMem + sn.multiMem.Load() + int64(omem) + obl + 16*1024
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d "+
		"multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=%d rbp=%d obl=%d oll=0 omem=%d tot-mem=%d "+
		"events=%s cmd=%s user=%s redir=-1 resp=%d",
		c.id, c.addr, c.laddr, connFD(c.conn), name, int64(now.Sub(c.createdAt).Seconds()),
		max(now.Unix()-c.lastInteraction.Load(), 0), flags, sn.db.Load(), sub, psub, ssub,
		multi, qbuf, qfree, argMem, sn.multiMem.Load(), qcap, qcap, obl, omem, totMem,
		events, lastCmd, clientUser(c), c.proto.Load())
}

func cmdClientInfo(s *Server, cc *Client, c *commands.Ctx) {
	cc.publishSnap()
	c.W.Verbatim(s.clientInfoLine(cc, cc, c.Args)+"\n", "txt")
}

func cmdClientList(s *Server, cc *Client, c *commands.Ctx) {
	var typ string
	var ids map[int64]bool
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 4 && commands.EqualFold(c.Args[2], "type"):
		t, ok := parseClientType(c.Args[3])
		if !ok {
			c.Error("ERR Unknown client type '" + string(c.Args[3]) + "'")
			return
		}
		typ = t
	case len(c.Args) > 3 && commands.EqualFold(c.Args[2], "id"):
		ids = map[int64]bool{}
		for _, a := range c.Args[3:] {
			id, ok := commands.ParseInt(a)
			if !ok || id <= 0 {
				c.Error("ERR Invalid client ID")
				return
			}
			ids[id] = true
		}
	default:
		c.Error(commands.ErrSyntax)
		return
	}
	cc.publishSnap()
	var b strings.Builder
	for _, x := range s.clientList() {
		if typ != "" && clientType(x) != typ {
			continue
		}
		if ids != nil && !ids[x.id] {
			continue
		}
		b.WriteString(s.clientInfoLine(x, cc, c.Args))
		b.WriteByte('\n')
	}
	c.W.Verbatim(b.String(), "txt")
}

// killFilter is CLIENT KILL's new-style filter.
type killFilter struct {
	id          int64
	addr, laddr string
	typ         string
	user        *acl.User
	skipme      bool
}

func (f *killFilter) match(c *Client) bool {
	return (f.id == 0 || c.id == f.id) && (f.addr == "" || c.addr == f.addr) &&
		(f.laddr == "" || c.laddr == f.laddr) && (f.typ == "" || clientType(c) == f.typ) &&
		(f.user == nil || c.user.Load() == f.user)
}

// clientUser is the user= field of CLIENT LIST.
func clientUser(c *Client) string {
	if u := c.user.Load(); u != nil {
		return u.Name
	}
	return "(superuser)" // internal clients, as Redis shows them
}

func cmdClientKill(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) == 3 {
		// Old form: CLIENT KILL addr:port.
		addr := string(c.Args[2])
		for _, x := range s.clientList() {
			if x.addr == addr {
				c.W.OK()
				s.killClient(x, cc)
				return
			}
		}
		if a, _, ok := s.repl.MasterLink(); ok && a == addr && s.repl.DropMasterLink() {
			c.W.OK()
			return
		}
		c.Error("ERR No such client")
		return
	}
	if len(c.Args)%2 != 0 {
		c.Error(commands.ErrSyntax)
		return
	}
	f := killFilter{skipme: true}
	for i := 2; i < len(c.Args); i += 2 {
		opt, val := c.Args[i], c.Args[i+1]
		switch {
		case commands.EqualFold(opt, "id"):
			id, ok := commands.ParseInt(val)
			if !ok || id <= 0 {
				c.Error("ERR client-id should be greater than 0")
				return
			}
			f.id = id
		case commands.EqualFold(opt, "type"):
			t, ok := parseClientType(val)
			if !ok {
				c.Error("ERR Unknown client type '" + string(val) + "'")
				return
			}
			f.typ = t
		case commands.EqualFold(opt, "addr"):
			f.addr = string(val)
		case commands.EqualFold(opt, "laddr"):
			f.laddr = string(val)
		case commands.EqualFold(opt, "user"):
			f.user = s.acl.users.Get(string(val))
			if f.user == nil {
				c.Error("ERR No such user '" + string(val) + "'")
				return
			}
		case commands.EqualFold(opt, "skipme"):
			switch {
			case commands.EqualFold(val, "yes"):
				f.skipme = true
			case commands.EqualFold(val, "no"):
				f.skipme = false
			default:
				c.Error(commands.ErrSyntax)
				return
			}
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	n := 0
	for _, x := range s.clientList() {
		if !f.match(x) || (x == cc && f.skipme) {
			continue
		}
		s.killClient(x, cc)
		n++
	}
	// The master's client (flags M) is killed like any other that matches.
	if a, la, ok := s.repl.MasterLink(); ok && f.id == 0 && f.user == nil && (f.typ == "" || f.typ == "master") &&
		(f.addr == "" || f.addr == a) && (f.laddr == "" || f.laddr == la) && s.repl.DropMasterLink() {
		n++
	}
	c.W.Int(int64(n))
}

// killClient disconnects x; the calling client is closed after its reply.
func (s *Server) killClient(x, self *Client) {
	if x == self {
		x.closeErr.Store(true)
		return
	}
	x.kill()
}
