package server

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/acl"
	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/resp"
)

// aclState is the server's side of ACL: its users, the ACL LOG and the
// settings (acl package for the rules; cmd_acl.go for the commands).
type aclState struct {
	users  *acl.Users
	log    acl.Log
	logMax atomic.Int64 // acllog-max-len
	file   string       // aclfile, "" when users come from the config file
}

var (
	aclCatalogOnce sync.Once
	aclCatalog     *acl.Catalog
)

// catalog is the ACL view of the command table: every Redis 7.0
// command and subcommand with its categories, built once.
func catalog() *acl.Catalog {
	aclCatalogOnce.Do(func() {
		var specs []acl.Spec
		commands.EachMeta(func(name string, info resp.Value) {
			sp := acl.Spec{Name: name}
			if len(info.Elems) > infoACL {
				for _, c := range info.Elems[infoACL].Elems {
					sp.Categories = append(sp.Categories, c.Str)
				}
			}
			for _, f := range info.Elems[2].Elems {
				if f.Str == "no_auth" {
					sp.NoAuth = true
				}
			}
			specs = append(specs, sp)
		})
		aclCatalog = acl.NewCatalog(specs, func(p, s []byte) bool { return commands.GlobMatch(p, s, false) })
	})
	return aclCatalog
}

const errACLBoth = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both."

// initACL creates the users: the default one tied to requirepass, then
// those of the config file's user lines or of the aclfile.
func (s *Server) initACL() error {
	cfg := s.Cfg
	s.acl.users = acl.NewUsers(catalog())
	s.acl.users.SetPubsubDefault(cfg.Get("acl-pubsub-default") == "allchannels")
	s.acl.logMax.Store(cfg.Int("acllog-max-len"))
	s.acl.file = cfg.Get("aclfile")
	if pass := cfg.Get("requirepass"); pass != "" {
		s.acl.users.SetDefaultPassword(pass)
	}
	cfg.OnSet("requirepass", func(v string) error { s.acl.users.SetDefaultPassword(v); return nil })
	cfg.OnSet("acl-pubsub-default", func(v string) error {
		s.acl.users.SetPubsubDefault(v == "allchannels")
		return nil
	})
	cfg.OnSet("acllog-max-len", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.acl.logMax.Store(n)
		s.acl.log.Trim(int(n))
		return nil
	})
	cfg.RewriteUsers = func() []string {
		if s.acl.file != "" {
			return nil
		}
		return s.acl.users.List()
	}
	var lines [][]string
	seen := map[string]bool{}
	for _, l := range cfg.Users {
		argv := append([]string{"user"}, l.Args...)
		if seen[l.Args[0]] {
			return &config.FileError{File: cfg.File, Line: l.Line, Text: l.Text,
				Msg: fmt.Sprintf("Error in user declaration '%s': Duplicate user found. A user can only be defined once in config files", l.Args[0])}
		}
		seen[l.Args[0]] = true
		if bad, msg, ok := s.acl.users.ValidateRules(l.Args[1:]); !ok {
			return &config.FileError{File: cfg.File, Line: l.Line, Text: l.Text,
				Msg: fmt.Sprintf("Error in user declaration '%s': %s", argv[min(bad, len(argv)-1)], msg)}
		}
		lines = append(lines, l.Args)
	}
	if s.acl.file != "" && len(cfg.Users) > 0 {
		return fmt.Errorf("%s", errACLBoth)
	}
	if err := s.acl.users.LoadConfigured(lines); err != nil {
		return err
	}
	if s.acl.file != "" {
		data, err := os.ReadFile(s.acl.file)
		if err != nil {
			return fmt.Errorf("Aborting Redis startup because of ACL errors: Error loading ACLs, opening file '%s': %s",
				s.acl.file, errnoText(err))
		}
		if _, err := s.acl.users.Load(s.acl.file, string(data)); err != nil {
			return fmt.Errorf("Aborting Redis startup because of ACL errors: %s", err)
		}
	}
	return nil
}

// errnoText is the strerror text of a file error.
func errnoText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	msg := err.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// authRequired reports whether an unauthenticated client must AUTH
// first: the default user has a password or is off.
func (s *Server) authRequired() bool {
	d := s.acl.users.Default()
	return !d.NoPass() || !d.Enabled()
}

// newClientAuth is the state a new connection starts in: the default
// user, authenticated when it needs no password.
func (s *Server) newClientAuth(c *Client) {
	c.user.Store(s.acl.users.Default())
	c.authed = !s.authRequired()
}

// aclLog adds an ACL LOG entry for a denial by client c (for a script,
// c is the caller).
func (s *Server) aclLog(c *Client, res acl.Result, ctx, object, username string, args [][]byte) {
	if username == "" {
		if u := c.user.Load(); u != nil {
			username = u.Name
		}
	}
	c.publishSnap()
	s.acl.log.Add(acl.LogEntry{Reason: acl.ReasonName(res), Context: ctx, Object: object,
		Username: username, CTimeMs: time.Now().UnixMilli(),
		ClientInfo: s.clientInfoLine(c, c, args)}, int(s.acl.logMax.Load()))
}

// aclObject is the object an ACL LOG entry names for a denial.
func aclObject(res acl.Result, cmd *commands.Command, args [][]byte, pos int) string {
	switch res {
	case acl.DeniedKey, acl.DeniedChannel:
		return string(args[pos])
	}
	return cmd.Name
}

// aclDenied checks c's user for the command and logs a denial in
// context ctx (logArgs: the client's own request); acl.OK when allowed.
func (c *Client) aclDenied(cmd *commands.Command, args [][]byte, req *acl.Request, ctx string, logArgs [][]byte) acl.Result {
	u := c.user.Load()
	if u == nil || u.Unrestricted() {
		return acl.OK
	}
	res, pos := aclCheck(u, cmd, args, req)
	if res != acl.OK {
		c.srv.aclLog(c, res, ctx, aclObject(res, cmd, args, pos), "", logArgs)
	}
	return res
}

// aclRefusal is dispatch's check: "" when c may run the command,
// otherwise the -NOPERM text (the denial is logged).
func (c *Client) aclRefusal(cmd *commands.Command, args [][]byte) string {
	ctx := acl.CtxTopLevel
	if c.multi != nil {
		ctx = acl.CtxMulti
	}
	switch res := c.aclDenied(cmd, args, &c.aclReq, ctx, args); res {
	case acl.OK:
		return ""
	case acl.DeniedCmd:
		return "NOPERM this user has no permissions to run the '" + cmd.Name + "' command"
	case acl.DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case acl.DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return "ERR no permission"
}

// aclExecRefusal re-checks a queued command when EXEC runs it, in case
// the rules changed since it was queued.
func (c *Client) aclExecRefusal(cmd *commands.Command, args [][]byte) string {
	res := c.aclDenied(cmd, args, nil, acl.CtxMulti, args)
	if res == acl.OK {
		return ""
	}
	reason := "no permission"
	switch res {
	case acl.DeniedCmd:
		reason = "no permission to execute the command or subcommand"
	case acl.DeniedKey:
		reason = "no permission to touch the specified keys"
	case acl.DeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
}

// aclScriptRefusal checks a command called by a script of caller; the
// text gets ERR from the script engine.
func (s *Server) aclScriptRefusal(caller *Client, cmd *commands.Command, args [][]byte) string {
	if caller == nil {
		return ""
	}
	res := caller.aclDenied(cmd, args, nil, acl.CtxLua, caller.args)
	if res == acl.OK {
		return ""
	}
	msg := "lacking the permissions for the command"
	switch res {
	case acl.DeniedCmd:
		msg = "can't run this command or subcommand"
	case acl.DeniedKey:
		msg = "can't access at least one of the keys mentioned in the command arguments"
	case acl.DeniedChannel:
		msg = "can't publish to the channel mentioned in the command"
	}
	return "The user executing the script " + msg
}

// authenticate is AUTH and HELLO AUTH: on success c becomes the user,
// otherwise the failure is logged.
func (s *Server) authenticate(c *Client, name string, pass []byte, cmdName []byte) bool {
	u := s.acl.users.Authenticate(name, pass)
	if u == nil {
		ctx := acl.CtxTopLevel
		if c.multi != nil {
			ctx = acl.CtxMulti
		}
		s.aclLog(c, acl.DeniedAuth, ctx, string(cmdName), name, nil)
		return false
	}
	c.user.Store(u)
	c.authed = true
	return true
}

// dropUserClients disconnects the clients authenticated as any of the
// users (deleted, or replaced by ACL LOAD); self is closed after its
// reply.
func (s *Server) dropUserClients(users []*acl.User, self *Client) {
	if len(users) == 0 {
		return
	}
	gone := map[*acl.User]bool{}
	for _, u := range users {
		gone[u] = true
	}
	for _, x := range s.clientList() {
		if gone[x.user.Load()] {
			s.killClient(x, self)
		}
	}
}

// dropRevokedSubscribers disconnects the clients of u subscribed to a
// channel or pattern u may no longer use, as Redis does after ACL
// SETUSER.
func (s *Server) dropRevokedSubscribers(u *acl.User, self *Client) {
	var kill []*Client
	clients := s.clientList() // before pubsub.mu: clientList takes s.mu
	p := s.pubsub
	p.mu.RLock()
	for _, x := range clients {
		if x.user.Load() != u || x.nsubs.Load() == 0 {
			continue
		}
		bad := false
		for ch := range x.subs {
			bad = bad || !u.ChannelAllowed([]byte(ch), false)
		}
		for ch := range x.ssubs {
			bad = bad || !u.ChannelAllowed([]byte(ch), false)
		}
		for ch := range x.psubs {
			bad = bad || !u.ChannelAllowed([]byte(ch), true)
		}
		if bad {
			kill = append(kill, x)
		}
	}
	p.mu.RUnlock()
	for _, x := range kill {
		s.killClient(x, self)
	}
}
