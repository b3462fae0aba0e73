package server

import (
	"sync"

	"redgo/internal/acl"
	"redgo/internal/commands"
	"redgo/internal/resp"
)

// aclCmd is what the ACL check needs of a command, worked out once.
type aclCmd struct {
	ac    *acl.Command
	specs []keySpec
	// perm is the access every key of the command needs when one key
	// spec covers them all (-1: decided per call from the specs).
	perm  int
	keys  bool // the command has key arguments
	chans bool // PUBLISH, SUBSCRIBE and the like
}

var aclCmds sync.Map // *commands.Command -> *aclCmd

func aclInfo(cmd *commands.Command) *aclCmd {
	if v, ok := aclCmds.Load(cmd); ok {
		return v.(*aclCmd)
	}
	ci := &aclCmd{ac: catalog().Get(cmd.Name), specs: keySpecs(cmd), perm: -1,
		keys: cmd.First > 0 || cmd.KeysFn != nil, chans: hasChannels(cmd)}
	if len(ci.specs) == 1 && !ci.specs[0].variable() && cmd.Name != "sort" {
		if p, notKey := specPerm(ci.specs[0].flags); !notKey {
			ci.perm = p
		}
	}
	aclCmds.Store(cmd, ci)
	return ci
}

func (ks keySpec) variable() bool {
	for _, f := range ks.flags {
		if f.Str == "variable_flags" {
			return true
		}
	}
	return false
}

// specPerm turns key spec flags into the permission a key needs: read
// for "access", write for "insert", "delete" or "update". notKey marks a
// spec that names no key (the shard channel of SPUBLISH).
func specPerm(flags []resp.Value) (perm int, notKey bool) {
	for _, x := range flags {
		switch x.Str {
		case "access":
			perm |= acl.PermRead
		case "insert", "delete", "update":
			perm |= acl.PermWrite
		case "not_key":
			notKey = true
		}
	}
	return perm, notKey
}

// aclKeyRefs appends to out the key arguments of a call with what the
// command does to each (from the key specs, as COMMAND GETKEYSANDFLAGS).
func aclKeyRefs(ci *aclCmd, cmd *commands.Command, args [][]byte, out []acl.KeyRef) []acl.KeyRef {
	var buf [8]int
	pos := cmd.KeyPositions(args, buf[:0])
	if len(pos) == 0 {
		return out
	}
	perm := ci.perm
	if perm < 0 && len(ci.specs) == 1 && (cmd.Name == "set" || cmd.Name == "bitfield") {
		perm = variableKeyPerm(cmd.Name, args)
	}
	if perm >= 0 {
		for _, p := range pos {
			out = append(out, acl.KeyRef{Pos: p, Perm: perm})
		}
		return out
	}
	flags := specFlags(ci.specs, args)
	if vf := variableKeyFlags(cmd.Name, args); vf != nil {
		for _, p := range pos {
			flags[p] = vf
		}
	}
	for i, p := range pos {
		f, ok := flags[p]
		if !ok && len(ci.specs) > 0 {
			f = ci.specs[0].flags
		}
		perm, notKey := specPerm(f)
		if cmd.Name == "sort" && i == 1 { // STORE: its spec is incomplete
			perm, notKey = acl.PermWrite, false
		}
		if !notKey {
			out = append(out, acl.KeyRef{Pos: p, Perm: perm})
		}
	}
	return out
}

// variableKeyPerm is the permission the key of SET or BITFIELD needs, as
// variableKeyFlags decides its flags: read too with SET ... GET or a
// BITFIELD that only GETs.
func variableKeyPerm(name string, args [][]byte) int {
	switch name {
	case "set":
		for _, a := range args[min(3, len(args)):] {
			if commands.EqualFold(a, "get") {
				return acl.PermRead | acl.PermWrite
			}
		}
		return acl.PermWrite
	}
	p, _ := specPerm(variableKeyFlags(name, args))
	return p
}

// aclChanRefs appends the channels a pub/sub call publishes or
// subscribes to.
func aclChanRefs(cmd *commands.Command, args [][]byte, out []acl.ChanRef) []acl.ChanRef {
	n, pattern := len(args), false
	switch cmd.Name {
	case "publish", "spublish":
		n = min(n, 2)
	case "psubscribe":
		pattern = true
	}
	for i := 1; i < n; i++ {
		out = append(out, acl.ChanRef{Pos: i, Pattern: pattern})
	}
	return out
}

func hasChannels(cmd *commands.Command) bool {
	switch cmd.Name {
	case "publish", "spublish", "subscribe", "ssubscribe", "psubscribe":
		return true
	}
	return false
}

// aclRequest fills r for cmd with args, with the keys and channels when
// u's rules limit them; false for a command ACL does not know.
func aclRequest(r *acl.Request, u *acl.User, cmd *commands.Command, args [][]byte) bool {
	ci := aclInfo(cmd)
	if ci.ac == nil {
		return false
	}
	r.Cmd, r.Args = ci.ac, args
	if ci.keys && u.NeedsKeys() {
		r.Keys = aclKeyRefs(ci, cmd, args, r.Keys)
	}
	if ci.chans && u.NeedsChannels() {
		r.Channels = aclChanRefs(cmd, args, r.Channels)
	}
	return true
}

// aclCheck checks that user u may run cmd with args. Clients without a
// user (the master link, the AOF loader) may run anything. r, when not
// nil, is a request to reuse (a client's).
func aclCheck(u *acl.User, cmd *commands.Command, args [][]byte, r *acl.Request) (acl.Result, int) {
	if u == nil || u.Unrestricted() {
		return acl.OK, 0
	}
	if r == nil {
		r = &acl.Request{}
	}
	r.Keys, r.Channels = r.Keys[:0], r.Channels[:0]
	if !aclRequest(r, u, cmd, args) {
		return acl.DeniedCmd, 0
	}
	res, pos := u.Check(r)
	r.Args = nil
	return res, pos
}

// AllKeysReadable is commands.KeyReader: whether c's client may read
// every key (SORT BY and GET patterns).
func (s *Server) AllKeysReadable(c *commands.Ctx) bool {
	cc, _ := c.Client.(*Client)
	if cc == nil {
		return true
	}
	u := cc.user.Load()
	if u == nil || u.Unrestricted() {
		return true
	}
	var r acl.Request
	if !aclRequest(&r, u, c.Cmd, c.Args) {
		return false
	}
	return u.CheckWithAllKeys(&r, acl.PermRead)
}
