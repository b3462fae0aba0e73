package server

import (
	"strings"

	"redgo/internal/commands"
	"redgo/internal/config"
)

func init() {
	commands.Register("ping", srvCmd(cmdPing))
	commands.Register("echo", cmdEcho)
	commands.Register("quit", srvCmd(cmdQuit))
	commands.Register("auth", srvCmd(cmdAuth))
	commands.Register("select", srvCmd(cmdSelect))
	commands.Register("hello", srvCmd(cmdHello))
	commands.Register("reset", srvCmd(cmdReset))
}

func cmdPing(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 2 {
		c.WrongArgs()
		return
	}
	if cc.nsubs.Load() > 0 && cc.proto.Load() == 2 {
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Args) == 2 {
			c.W.Bulk(c.Args[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.Bulk(c.Args[1])
		return
	}
	c.W.Simple("PONG")
}

func cmdEcho(c *commands.Ctx) { c.W.Bulk(c.Args[1]) }

func cmdQuit(s *Server, cc *Client, c *commands.Ctx) {
	c.W.OK()
	cc.closeErr.Store(true)
}

const (
	errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."
	errNoPass    = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
)

func cmdAuth(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 {
		c.Error(commands.ErrSyntax)
		return
	}
	user, pass := "default", c.Args[1]
	if len(c.Args) == 3 {
		user, pass = string(c.Args[1]), c.Args[2]
	} else if s.acl.users.Default().NoPass() {
		c.Error(errNoPass)
		return
	}
	if !s.authenticate(cc, user, pass, c.Args[0]) {
		c.Error(errWrongPass)
		return
	}
	c.W.OK()
}

func cmdSelect(s *Server, cc *Client, c *commands.Ctx) {
	n, ok := commands.ParseInt(c.Args[1])
	if !ok {
		c.Error(commands.ErrNotInt)
		return
	}
	if n != 0 && s.cluster != nil {
		c.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	if n < 0 || n >= int64(c.KS.NumDB()) {
		c.Error(commands.ErrDBIndex)
		return
	}
	cc.db = int(n)
	c.DB = c.KS.DB(int(n))
	c.W.OK()
}

func cmdHello(s *Server, cc *Client, c *commands.Ctx) {
	proto := int64(0)
	i := 1
	if len(c.Args) > 1 {
		v, ok := commands.ParseInt(c.Args[1])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		proto = v
		i = 2
		if proto < 2 || proto > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
	}
	var setName []byte
	haveName := false
	for ; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		switch {
		case commands.EqualFold(c.Args[i], "AUTH") && more >= 2:
			if !s.authenticate(cc, string(c.Args[i+1]), c.Args[i+2], c.Args[0]) {
				c.Error(errWrongPass)
				return
			}
			i += 2
		case commands.EqualFold(c.Args[i], "SETNAME") && more >= 1:
			setName, haveName = c.Args[i+1], true
			i++
		default:
			c.Error("ERR Syntax error in HELLO option '" + string(c.Args[i]) + "'")
			return
		}
	}
	if !cc.authed {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if haveName {
		if !validClientName(setName) {
			c.Error(errClientName)
			return
		}
		cc.mu.Lock()
		cc.name = string(setName)
		cc.mu.Unlock()
	}
	if proto != 0 {
		cc.proto.Store(int32(proto))
		c.W.Proto = int(proto)
	}
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(config.Version)
	c.W.BulkString("proto")
	c.W.Int(int64(cc.proto.Load()))
	c.W.BulkString("id")
	c.W.Int(cc.id)
	c.W.BulkString("mode")
	if s.cluster != nil {
		c.W.BulkString("cluster")
	} else {
		c.W.BulkString("standalone")
	}
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

const errClientName = "ERR Client names cannot contain spaces, newlines or special characters."

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdReset(s *Server, cc *Client, c *commands.Ctx) {
	cc.multi = nil
	cc.unwatchAll()
	if cc.nsubs.Load() > 0 {
		s.pubsub.unsubscribeAll(cc)
	}
	if cc.monitor.Load() {
		s.monitors.remove(cc)
		cc.monitor.Store(false)
	}
	if cc.tracking.Load() { // RESET turns client-side caching off
		s.track.Off(cc.id)
		cc.tracking.Store(false)
	}
	cc.db = 0
	cc.proto.Store(2)
	c.W.Proto = 2
	cc.mu.Lock()
	cc.name = ""
	cc.mu.Unlock()
	cc.replyMode = 0
	cc.noEvict, cc.noTouch = false, false
	cc.cl.readonly.Store(false) // cluster.go
	cc.cl.asking = false
	s.newClientAuth(cc)
	c.W.Simple("RESET")
}

var _ = strings.ToLower
