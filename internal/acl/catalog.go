package acl

import (
	"sort"
	"strings"
)

// Categories are the ACL command categories in Redis's order, the order
// ACL CAT lists them and the order the rule renderer tries them in.
var Categories = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting",
}

// CategoryBit returns the bit of a category name (case-insensitive), 0
// when there is no such category.
func CategoryBit(name string) uint32 {
	for i, c := range Categories {
		if strings.EqualFold(c, name) {
			return 1 << i
		}
	}
	return 0
}

// Spec describes one command (or subcommand, "config|get") for the
// catalog: its ACL categories as COMMAND INFO lists them ("@read"...).
type Spec struct {
	Name       string
	Categories []string
	NoAuth     bool // the no_auth flag: runs before AUTH, never denied
}

// Command is one entry of the catalog.
type Command struct {
	ID       int    // bit index in a selector's command bitmap
	Name     string // full lower-case name: "get", "config|get"
	Cats     uint32 // category bits
	NoAuth   bool
	Parent   *Command
	Subs     []*Command // sorted by name
	subIndex map[string]*Command
}

// Catalog is the command table as ACL rules see it. It is built once and
// never changes.
type Catalog struct {
	top    []*Command // top-level commands sorted by name
	all    []*Command // by ID
	byName map[string]*Command
	match  func(pattern, s []byte) bool
}

// NewCatalog builds a catalog from command specs (parents may be listed
// after their subcommands or not at all); match is the glob matcher used
// for key and channel patterns (KEYS's).
func NewCatalog(specs []Spec, match func(pattern, s []byte) bool) *Catalog {
	c := &Catalog{byName: map[string]*Command{}, match: match}
	get := func(name string) *Command {
		cmd := c.byName[name]
		if cmd == nil {
			cmd = &Command{Name: name}
			c.byName[name] = cmd
		}
		return cmd
	}
	for _, sp := range specs {
		name := strings.ToLower(sp.Name)
		cmd := get(name)
		cmd.NoAuth = sp.NoAuth
		for _, cat := range sp.Categories {
			cmd.Cats |= CategoryBit(strings.TrimPrefix(cat, "@"))
		}
		if p, sub, ok := strings.Cut(name, "|"); ok {
			parent := get(p)
			if parent.subIndex == nil {
				parent.subIndex = map[string]*Command{}
			}
			if parent.subIndex[sub] == nil {
				parent.subIndex[sub] = cmd
				parent.Subs = append(parent.Subs, cmd)
			}
			cmd.Parent = parent
		}
	}
	for _, cmd := range c.byName {
		if cmd.Parent == nil {
			c.top = append(c.top, cmd)
		}
		sort.Slice(cmd.Subs, func(i, j int) bool { return cmd.Subs[i].Name < cmd.Subs[j].Name })
	}
	sort.Slice(c.top, func(i, j int) bool { return c.top[i].Name < c.top[j].Name })
	c.walk(func(cmd *Command) {
		cmd.ID = len(c.all)
		c.all = append(c.all, cmd)
	})
	return c
}

// walk calls fn for every command, a parent before its subcommands.
func (c *Catalog) walk(fn func(*Command)) {
	for _, cmd := range c.top {
		fn(cmd)
		for _, s := range cmd.Subs {
			fn(s)
		}
	}
}

// Len is the number of commands (and subcommands).
func (c *Catalog) Len() int { return len(c.all) }

// Get returns the command of a full lower-case name ("config|get").
func (c *Catalog) Get(name string) *Command { return c.byName[name] }

// Lookup finds a command by a name as rules write it: "get", "config|get"
// (case-insensitive). A "name|x" where name has no subcommands is not a
// command.
func (c *Catalog) Lookup(name string) *Command {
	name = strings.ToLower(name)
	base, sub, two := strings.Cut(name, "|")
	cmd := c.byName[base]
	if cmd == nil || cmd.Parent != nil {
		return nil
	}
	if !two {
		return cmd
	}
	if strings.Contains(sub, "|") || cmd.subIndex == nil {
		return nil
	}
	return cmd.subIndex[sub]
}

// InCategory returns the full names of the commands in a category, in
// catalog order.
func (c *Catalog) InCategory(bit uint32) []string {
	var out []string
	c.walk(func(cmd *Command) {
		if cmd.Cats&bit != 0 {
			out = append(out, cmd.Name)
		}
	})
	return out
}
