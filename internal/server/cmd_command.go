package server

import (
	"strings"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

func init() {
	commands.Register("command", cmdCommand)
	commands.Register("command|count", func(c *commands.Ctx) { c.W.Int(int64(len(commands.All()))) })
	commands.Register("command|info", cmdCommandInfo)
	commands.Register("command|docs", cmdCommandDocs)
	commands.Register("command|list", cmdCommandList)
	commands.Register("command|getkeys", func(c *commands.Ctx) { commandGetkeys(c, false) })
	commands.Register("command|getkeysandflags", func(c *commands.Ctx) { commandGetkeys(c, true) })
	commands.Register("command|help", cmdCommandHelp)
}

// cmdCommand is COMMAND with no subcommand: every command's info. (The
// table routes COMMAND <sub> to the subcommand handlers.)
func cmdCommand(c *commands.Ctx) { writeAllInfo(c.W) }

func writeAllInfo(w *resp.Writer) {
	all := commands.All()
	w.Array(len(all))
	for _, cmd := range all {
		writeInfo(w, cmd)
	}
}

// Indexes into a COMMAND INFO entry.
const (
	infoACL  = 6
	infoKeys = 8
	infoSubs = 9
)

// commandInfo is cmd's COMMAND INFO entry listing only the registered
// subcommands.
func commandInfo(cmd *commands.Command) resp.Value {
	info := cmd.Info
	if cmd.Sub == nil || len(info.Elems) <= infoSubs {
		return info
	}
	elems := append([]resp.Value(nil), info.Elems...)
	subs := resp.Value{Type: '*'}
	for _, sc := range orderedSubs(cmd, info.Elems[infoSubs].Elems, func(v resp.Value) string {
		if len(v.Elems) > 0 {
			return v.Elems[0].Str
		}
		return ""
	}) {
		subs.Elems = append(subs.Elems, sc.Info)
	}
	elems[infoSubs] = subs
	info.Elems = elems
	return info
}

// orderedSubs returns cmd's registered subcommands in the order of Redis's
// metadata list, then any later additions.
func orderedSubs(cmd *commands.Command, meta []resp.Value, name func(resp.Value) string) []*commands.Command {
	var out []*commands.Command
	used := map[*commands.Command]bool{}
	for _, v := range meta {
		full := name(v)
		_, sub, _ := strings.Cut(full, "|")
		if sc := cmd.Sub[sub]; sc != nil && sc.Name == full && !used[sc] {
			used[sc] = true
			out = append(out, sc)
		}
	}
	for _, sc := range cmd.SubCommands() {
		if !used[sc] {
			out = append(out, sc)
		}
	}
	return out
}

func writeInfo(w *resp.Writer, cmd *commands.Command) {
	v := commandInfo(cmd)
	v.Write(w)
}

// commandDocs is cmd's COMMAND DOCS value listing only the registered
// subcommands.
func commandDocs(cmd *commands.Command) resp.Value {
	d := cmd.Docs
	if cmd.Sub == nil {
		return d
	}
	elems := append([]resp.Value(nil), d.Elems...)
	for i := 0; i+1 < len(elems); i += 2 {
		if elems[i].Str != "subcommands" {
			continue
		}
		metaSubs := elems[i+1].Elems
		var names []resp.Value
		for j := 0; j+1 < len(metaSubs); j += 2 {
			names = append(names, metaSubs[j])
		}
		subs := resp.Value{Type: elems[i+1].Type}
		for _, sc := range orderedSubs(cmd, names, func(v resp.Value) string { return v.Str }) {
			subs.Elems = append(subs.Elems, resp.Value{Type: '$', Str: sc.Name}, sc.Docs)
		}
		elems[i+1] = subs
	}
	d.Elems = elems
	return d
}

// lookupFullName finds "get" or "config|get", case-insensitively.
func lookupFullName(name []byte) *commands.Command {
	parent, sub, ok := strings.Cut(strings.ToLower(string(name)), "|")
	cmd := commands.Lookup([]byte(parent))
	if cmd == nil || !ok {
		return cmd
	}
	if cmd.Sub == nil {
		return nil
	}
	return cmd.Sub[sub]
}

func cmdCommandInfo(c *commands.Ctx) {
	if len(c.Args) == 2 {
		writeAllInfo(c.W)
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, name := range c.Args[2:] {
		if cmd := lookupFullName(name); cmd != nil {
			writeInfo(c.W, cmd)
		} else {
			c.W.Null()
		}
	}
}

func cmdCommandDocs(c *commands.Ctx) {
	var found []*commands.Command
	if len(c.Args) == 2 {
		found = commands.All()
	} else {
		for _, name := range c.Args[2:] {
			if cmd := lookupFullName(name); cmd != nil {
				found = append(found, cmd)
			}
		}
	}
	c.W.Map(len(found))
	for _, cmd := range found {
		c.W.BulkString(cmd.Name)
		d := commandDocs(cmd)
		d.Write(c.W)
	}
}

func aclCategories(cmd *commands.Command) []resp.Value {
	if len(cmd.Info.Elems) > infoACL {
		return cmd.Info.Elems[infoACL].Elems
	}
	return nil
}

func cmdCommandList(c *commands.Ctx) {
	var match func(cmd *commands.Command) bool
	switch {
	case len(c.Args) == 2:
		match = func(*commands.Command) bool { return true }
	case len(c.Args) == 5 && commands.EqualFold(c.Args[2], "filterby"):
		val := c.Args[4]
		switch {
		case commands.EqualFold(c.Args[3], "module"):
			match = func(*commands.Command) bool { return false } // no modules
		case commands.EqualFold(c.Args[3], "aclcat"):
			cat := "@" + strings.ToLower(string(val))
			match = func(cmd *commands.Command) bool {
				for _, v := range aclCategories(cmd) {
					if v.Str == cat {
						return true
					}
				}
				return false
			}
		case commands.EqualFold(c.Args[3], "pattern"):
			match = func(cmd *commands.Command) bool { return commands.GlobMatch(val, []byte(cmd.Name), true) }
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	default:
		c.Error(commands.ErrSyntax)
		return
	}
	var names []string
	for _, cmd := range allCommands() {
		if match(cmd) {
			names = append(names, cmd.Name)
		}
	}
	c.W.BulkStrings(names)
}

// commandGetkeys is COMMAND GETKEYS and GETKEYSANDFLAGS: the key positions
// come from the command table (what the dispatcher locks and routes by),
// the flags from the key spec that covers each position.
func commandGetkeys(c *commands.Ctx, withFlags bool) {
	args := c.Args[2:]
	var cmd *commands.Command
	if s, ok := c.Srv.(*Server); ok {
		cmd = s.lookupCommand(args[0]) // after rename-command
	} else {
		cmd = commands.Lookup(args[0])
	}
	if cmd != nil && cmd.Sub != nil && len(args) > 1 {
		cmd = cmd.Sub[strings.ToLower(string(args[1]))]
	}
	if cmd == nil {
		c.Error("ERR Invalid command specified")
		return
	}
	specs := keySpecs(cmd)
	if len(specs) == 0 && cmd.KeysFn == nil && cmd.First <= 0 {
		c.Error("ERR The command has no key arguments")
		return
	}
	if (cmd.Arity > 0 && cmd.Arity != len(args)) || len(args) < -cmd.Arity {
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	pos := cmd.KeyPositions(args, nil)
	if len(pos) == 0 {
		if cmd.Has(commands.FNoMandatoryKeys) {
			c.W.Array(0)
		} else {
			c.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	var flags map[int][]resp.Value
	if withFlags {
		flags = specFlags(specs, args)
		if vf := variableKeyFlags(cmd.Name, args); vf != nil {
			flags = map[int][]resp.Value{1: vf}
		}
		if cmd.Name == "sort" && len(pos) == 2 { // STORE: its spec is incomplete, sortGetKeys flags it
			flags[pos[1]] = []resp.Value{{Type: '+', Str: "OW"}, {Type: '+', Str: "update"}}
		}
	}
	c.W.Array(len(pos))
	for _, p := range pos {
		if !withFlags {
			c.W.Bulk(args[p])
			continue
		}
		c.W.Array(2)
		c.W.Bulk(args[p])
		f, ok := flags[p]
		if !ok && len(specs) > 0 {
			f = specs[0].flags
		}
		c.W.Set(len(f))
		for _, x := range f {
			c.W.Simple(x.Str)
		}
	}
}

// variableKeyFlags gives the key flags of the commands whose key spec
// says variable_flags, as their Redis getkeys functions (setGetKeys,
// bitfieldGetKeys) decide them.
func variableKeyFlags(name string, args [][]byte) []resp.Value {
	flags := func(fs ...string) []resp.Value {
		out := make([]resp.Value, len(fs))
		for i, f := range fs {
			out[i] = resp.Value{Type: '+', Str: f}
		}
		return out
	}
	switch name {
	case "set":
		for _, a := range args[min(3, len(args)):] {
			if commands.EqualFold(a, "get") {
				return flags("RW", "access", "update")
			}
		}
		return flags("OW", "update")
	case "bitfield":
		for i := 2; i < len(args); i++ {
			rem := len(args) - i - 1
			switch {
			case commands.EqualFold(args[i], "get") && rem >= 2:
				i += 2
			case commands.EqualFold(args[i], "overflow") && rem >= 1:
				i++
			default:
				return flags("RW", "access", "update")
			}
		}
		return flags("RO", "access")
	}
	return nil
}

// keySpec is one decoded key specification of COMMAND INFO.
type keySpec struct {
	flags []resp.Value
	// begin_search
	bsType    string // index, keyword, unknown
	index     int
	keyword   string
	startfrom int
	// find_keys
	fkType                      string // range, keynum, unknown
	lastkey, keystep, limit     int
	keynumidx, firstkey, kstep2 int
}

// mapGet returns the value of key in a RESP3 map value.
func mapGet(v resp.Value, key string) (resp.Value, bool) {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == key {
			return v.Elems[i+1], true
		}
	}
	return resp.Value{}, false
}

func mapInt(v resp.Value, key string) int {
	x, _ := mapGet(v, key)
	return int(x.Int)
}

func keySpecs(cmd *commands.Command) []keySpec {
	if len(cmd.Info.Elems) <= infoKeys {
		return nil
	}
	var out []keySpec
	for _, sv := range cmd.Info.Elems[infoKeys].Elems {
		var ks keySpec
		f, _ := mapGet(sv, "flags")
		ks.flags = f.Elems
		bs, _ := mapGet(sv, "begin_search")
		t, _ := mapGet(bs, "type")
		ks.bsType = t.Str
		spec, _ := mapGet(bs, "spec")
		ks.index = mapInt(spec, "index")
		kw, _ := mapGet(spec, "keyword")
		ks.keyword = kw.Str
		ks.startfrom = mapInt(spec, "startfrom")
		fk, _ := mapGet(sv, "find_keys")
		t, _ = mapGet(fk, "type")
		ks.fkType = t.Str
		spec, _ = mapGet(fk, "spec")
		ks.lastkey, ks.keystep, ks.limit = mapInt(spec, "lastkey"), mapInt(spec, "keystep"), mapInt(spec, "limit")
		ks.keynumidx, ks.firstkey = mapInt(spec, "keynumidx"), mapInt(spec, "firstkey")
		out = append(out, ks)
	}
	return out
}

// specFlags runs the key specs over args as Redis's getKeysUsingKeySpecs
// and returns the flags of the spec that finds each key position.
func specFlags(specs []keySpec, args [][]byte) map[int][]resp.Value {
	out := map[int][]resp.Value{}
	argc := len(args)
	for _, sp := range specs {
		first := 0
		switch sp.bsType {
		case "index":
			first = sp.index
		case "keyword":
			start, end := sp.startfrom, argc-1
			if sp.startfrom <= 0 {
				start, end = argc+sp.startfrom, 0
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if commands.EqualFold(args[i], sp.keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			continue
		}
		var last, step int
		switch sp.fkType {
		case "range":
			step = sp.keystep
			switch {
			case sp.lastkey >= 0:
				last = first + sp.lastkey
			case sp.limit == 0:
				last = argc + sp.lastkey
			default:
				last = first + ((argc-first)/sp.limit + sp.lastkey)
			}
		case "keynum":
			step = sp.keystep
			if sp.keynumidx >= argc-first {
				continue
			}
			n, ok := commands.ParseInt(args[first+sp.keynumidx])
			if !ok || n < 0 {
				continue
			}
			first += sp.firstkey
			last = first + int(n) - 1
		default:
			continue
		}
		if step <= 0 {
			step = 1
		}
		for i := first; i <= last && i < argc; i += step {
			if _, ok := out[i]; !ok {
				out[i] = sp.flags
			}
		}
	}
	return out
}

func cmdCommandHelp(c *commands.Ctx) {
	help(c, "COMMAND",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.")
}
