package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"redgo/internal/acl"
	"redgo/internal/commands"
	"redgo/internal/vfs"
)

func init() {
	commands.Register("acl|setuser", srvCmd(cmdACLSetuser))
	commands.Register("acl|deluser", srvCmd(cmdACLDeluser))
	commands.Register("acl|getuser", srvCmd(cmdACLGetuser))
	commands.Register("acl|users", srvCmd(cmdACLUsers))
	commands.Register("acl|list", srvCmd(cmdACLList))
	commands.Register("acl|whoami", srvCmd(cmdACLWhoami))
	commands.Register("acl|cat", srvCmd(cmdACLCat))
	commands.Register("acl|genpass", srvCmd(cmdACLGenpass))
	commands.Register("acl|log", srvCmd(cmdACLLog))
	commands.Register("acl|save", srvCmd(cmdACLSave))
	commands.Register("acl|load", srvCmd(cmdACLLoad))
	commands.Register("acl|dryrun", srvCmd(cmdACLDryrun))
	commands.Register("acl|help", cmdACLHelp)
}

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func aclSyntax(c *commands.Ctx) {
	c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try ACL HELP.", c.Args[1]))
}

func cmdACLSetuser(s *Server, cc *Client, c *commands.Ctx) {
	rules := make([]string, len(c.Args)-3)
	for i, a := range c.Args[3:] {
		rules[i] = string(a)
	}
	u, err := s.acl.users.SetUser(string(c.Args[2]), rules)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	s.dropRevokedSubscribers(u, cc)
	c.W.OK()
}

func cmdACLDeluser(s *Server, cc *Client, c *commands.Ctx) {
	names := make([]string, len(c.Args)-2)
	for i, a := range c.Args[2:] {
		names[i] = string(a)
	}
	gone, err := s.acl.users.Delete(names)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	s.dropUserClients(gone, cc)
	c.W.Int(int64(len(gone)))
}

func cmdACLGetuser(s *Server, cc *Client, c *commands.Ctx) {
	u := s.acl.users.Get(string(c.Args[2]))
	if u == nil {
		c.W.Null()
		return
	}
	in := u.Info()
	c.W.Map(6)
	c.W.BulkString("flags")
	c.W.Set(len(in.Flags))
	for _, f := range in.Flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("passwords")
	c.W.BulkStrings(in.Passwords)
	writeSelector(c, in.Root)
	c.W.BulkString("selectors")
	c.W.Array(len(in.Selectors))
	for _, si := range in.Selectors {
		c.W.Map(3)
		writeSelector(c, si)
	}
}

func writeSelector(c *commands.Ctx, si acl.SelectorInfo) {
	c.W.BulkString("commands")
	c.W.BulkString(si.Commands)
	c.W.BulkString("keys")
	c.W.BulkString(si.Keys)
	c.W.BulkString("channels")
	c.W.BulkString(si.Channels)
}

func cmdACLUsers(s *Server, cc *Client, c *commands.Ctx) { c.W.BulkStrings(s.acl.users.Names()) }

func cmdACLList(s *Server, cc *Client, c *commands.Ctx) { c.W.BulkStrings(s.acl.users.List()) }

func cmdACLWhoami(s *Server, cc *Client, c *commands.Ctx) {
	if cc == nil || cc.user.Load() == nil {
		c.W.Null()
		return
	}
	c.W.BulkString(cc.user.Load().Name)
}

func cmdACLCat(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 {
		aclSyntax(c)
		return
	}
	if len(c.Args) == 2 {
		c.W.BulkStrings(acl.Categories)
		return
	}
	bit := acl.CategoryBit(string(c.Args[2]))
	if bit == 0 {
		c.Error(fmt.Sprintf("ERR Unknown category '%.128s'", c.Args[2]))
		return
	}
	c.W.BulkStrings(s.acl.users.Catalog().InCategory(bit))
}

func cmdACLGenpass(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 {
		aclSyntax(c)
		return
	}
	bits := int64(256)
	if len(c.Args) == 3 {
		n, ok := commands.ParseInt(c.Args[2])
		if !ok {
			c.Error(commands.ErrNotInt)
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		c.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
		return
	}
	c.W.BulkString(randomHex(int((bits + 3) / 4)))
}

func cmdACLLog(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 {
		aclSyntax(c)
		return
	}
	count := int64(10)
	if len(c.Args) == 3 {
		if commands.EqualFold(c.Args[2], "reset") {
			s.acl.log.Reset()
			c.W.OK()
			return
		}
		n, ok := commands.ParseInt(c.Args[2])
		if !ok {
			c.Error(commands.ErrNotInt)
			return
		}
		count = max(n, 0)
	}
	entries := s.acl.log.Entries(int(min(count, 1<<20)))
	now := time.Now().UnixMilli()
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Map(7)
		c.W.BulkString("count")
		c.W.Int(e.Count)
		c.W.BulkString("reason")
		c.W.BulkString(e.Reason)
		c.W.BulkString("context")
		c.W.BulkString(e.Context)
		c.W.BulkString("object")
		c.W.BulkString(e.Object)
		c.W.BulkString("username")
		c.W.BulkString(e.Username)
		c.W.BulkString("age-seconds")
		c.W.Double(float64(now-e.CTimeMs) / 1000)
		c.W.BulkString("client-info")
		c.W.BulkString(e.ClientInfo)
	}
}

func cmdACLSave(s *Server, cc *Client, c *commands.Ctx) {
	if s.acl.file == "" {
		c.Error(errNoACLFile)
		return
	}
	// As Redis: a temporary file, fsynced, renamed over the ACL file.
	dir, name := filepath.Split(s.acl.file)
	tmp := name + ".tmp-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	err := vfs.WriteAtomic(s.fs, dir, tmp, name, func(w io.Writer) error {
		_, err := io.WriteString(w, s.acl.users.Render())
		return err
	})
	if err != nil {
		s.Log.Printf("Saving the ACL file: %v", err)
		c.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.W.OK()
}

func cmdACLLoad(s *Server, cc *Client, c *commands.Ctx) {
	if s.acl.file == "" {
		c.Error(errNoACLFile)
		return
	}
	data, err := os.ReadFile(s.acl.file)
	if err != nil {
		c.Error(fmt.Sprintf("ERR Error loading ACLs, opening file '%s': %s", s.acl.file, errnoText(err)))
		return
	}
	gone, err := s.acl.users.Load(s.acl.file, string(data))
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	s.dropUserClients(gone, cc)
	c.W.OK()
}

func cmdACLDryrun(s *Server, cc *Client, c *commands.Ctx) {
	u := s.acl.users.Get(string(c.Args[2]))
	if u == nil {
		c.Error(fmt.Sprintf("ERR User '%s' not found", c.Args[2]))
		return
	}
	args := c.Args[3:]
	cmd := s.lookupCommand(args[0])
	if cmd != nil && cmd.Sub != nil && len(args) > 1 {
		cmd = cmd.Sub[string(lower(args[1]))]
	}
	if cmd == nil {
		c.Error(fmt.Sprintf("ERR Command '%s' not found", args[0]))
		return
	}
	if (cmd.Arity > 0 && cmd.Arity != len(args)) || len(args) < -cmd.Arity {
		c.Error(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name))
		return
	}
	res, pos := aclCheck(u, cmd, args, nil)
	switch res {
	case acl.OK:
		c.W.OK()
	case acl.DeniedCmd:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to run the '%s' command", cmd.Name))
	case acl.DeniedKey:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' key", args[pos]))
	default:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' channel", args[pos]))
	}
}

func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}

func cmdACLHelp(c *commands.Ctx) {
	help(c, "ACL",
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.")
}
