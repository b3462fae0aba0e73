// Package commands holds the command table, the single source of truth for
// every command's arity, flags and key positions, and the handlers of the
// data commands, one file per family (cmd_<family>.go).
//
// Metadata (arity, flags, key specs, docs) comes from redis_commands.json,
// captured from redis-server 7.0 by ./gen, so COMMAND answers exactly as
// Redis does for every command redgo implements. A handler file registers
// its handlers by name in init(); only registered commands are served and
// listed.
package commands

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"redgo/internal/latency"
	"redgo/internal/resp"
)

// Flags are command flags, as COMMAND reports them.
type Flags uint32

const (
	FWrite Flags = 1 << iota
	FReadonly
	FDenyOOM
	FAdmin
	FPubSub
	FNoScript
	FBlocking
	FLoading
	FStale
	FSkipMonitor
	FSkipSlowlog
	FFast
	FNoAuth
	FMayReplicate
	FNoMulti
	FMovableKeys
	FAllowBusy
	FNoMandatoryKeys
	FAsking
)

var flagNames = map[string]Flags{
	"write": FWrite, "readonly": FReadonly, "denyoom": FDenyOOM, "admin": FAdmin,
	"pubsub": FPubSub, "noscript": FNoScript, "blocking": FBlocking, "loading": FLoading,
	"stale": FStale, "skip_monitor": FSkipMonitor, "skip_slowlog": FSkipSlowlog,
	"fast": FFast, "no_auth": FNoAuth, "may_replicate": FMayReplicate, "no_multi": FNoMulti,
	"movablekeys": FMovableKeys, "allow_busy": FAllowBusy, "no_mandatory_keys": FNoMandatoryKeys,
	"asking": FAsking,
}

// Handler executes a command. It writes exactly one reply to c.W (unless
// it calls c.Block).
type Handler func(c *Ctx)

// Command is one entry of the command table.
type Command struct {
	Name              string // lower case; "config|get" for a subcommand
	Arity             int    // >0 exact, <0 at least -Arity (counting the name)
	Flags             Flags
	First, Last, Step int
	Handler           Handler
	KeysFn            func(args [][]byte) []int // key positions, for movable-key commands
	LockAll           bool                      // needs every shard locked (KEYS, FLUSHDB...)
	// LockAllIf, when set, says whether this call needs every shard
	// locked (a script outside cluster mode may touch any key); srv is
	// Ctx.Srv.
	LockAllIf func(srv any, args [][]byte) bool
	// SerialIf, when set, says whether this call, run by itself (not in
	// EXEC), locks only its keys' shards under the keyspace's serial lock
	// and takes the shards of any other key it touches as it goes
	// (Held.Serial: a script outside cluster mode); it is asked before
	// LockAllIf.
	SerialIf func(srv any, args [][]byte) bool
	// WakeOnDelete: a client blocked by this command is served (and gets
	// an error) when a key it waits on is deleted (XREADGROUP).
	WakeOnDelete bool
	// StringsOnly: an @string command, whose keys hold strings or
	// nothing once it ran (no collection changed in place to account).
	StringsOnly bool
	Info        resp.Value          // COMMAND INFO entry
	Docs        resp.Value          // COMMAND DOCS value
	Sub         map[string]*Command // subcommands by lower-case name
	Parent      *Command
	Extra       bool // not a Redis 7.0 command (RegisterExtra): its metadata is redgo's

	Calls, Usec, RejectedCalls, FailedCalls atomic.Int64
	// Latency is the command's latency histogram (latency-tracking),
	// made on its first call.
	Latency atomic.Pointer[latency.Histogram]
}

// FullName is the name as error messages and stats show it: "get", "config|get".
func (c *Command) FullName() string { return c.Name }

// Has reports whether every flag in f is set.
func (c *Command) Has(f Flags) bool { return c.Flags&f == f }

// Option modifies a command at registration.
type Option func(*Command)

// LockAll marks a command that needs every shard (it sees the whole DB).
func LockAll() Option { return func(c *Command) { c.LockAll = true } }

// LockAllWhen makes a command lock every shard when fn says so for the
// call at hand (scripts: outside cluster mode, or without keys).
func LockAllWhen(fn func(srv any, args [][]byte) bool) Option {
	return func(c *Command) { c.LockAllIf = fn }
}

// LockSerialWhen makes a call run by itself lock its keys' shards under
// the keyspace's serial lock and take more as it goes when fn says so
// (Held.Serial).
func LockSerialWhen(fn func(srv any, args [][]byte) bool) Option {
	return func(c *Command) { c.SerialIf = fn }
}

// NeedsAll reports whether this call of the command locks every shard.
func (c *Command) NeedsAll(srv any, args [][]byte) bool {
	return c.LockAll || c.LockAllIf != nil && c.LockAllIf(srv, args)
}

// WakesOnDelete marks a blocking command whose clients are served when
// a key they wait on is deleted, as Redis unblocks XREADGROUP.
func WakesOnDelete() Option { return func(c *Command) { c.WakeOnDelete = true } }

// KeysFunc gives the key positions of a command whose keys move
// (numkeys arguments and the like).
func KeysFunc(fn func(args [][]byte) []int) Option { return func(c *Command) { c.KeysFn = fn } }

//go:embed redis_commands.json
var metaJSON []byte

var (
	meta     map[string]metaEntry // all of Redis's commands, by full name
	table    = map[string]*Command{}
	tableAll []*Command
)

type metaEntry struct {
	info resp.Value
	docs resp.Value
}

func loadMeta() {
	if meta != nil {
		return
	}
	var raw struct {
		Info resp.Value `json:"info"`
		Docs resp.Value `json:"docs"`
	}
	if err := json.Unmarshal(metaJSON, &raw); err != nil {
		panic(err)
	}
	meta = map[string]metaEntry{}
	var walk func(v resp.Value)
	walk = func(v resp.Value) {
		name := v.Elems[0].Str
		e := meta[name]
		e.info = v
		meta[name] = e
		if len(v.Elems) > 9 {
			for _, sub := range v.Elems[9].Elems {
				walk(sub)
			}
		}
	}
	for _, v := range raw.Info.Elems {
		walk(v)
	}
	var walkDocs func(d resp.Value)
	walkDocs = func(d resp.Value) {
		for i := 0; i+1 < len(d.Elems); i += 2 {
			name := d.Elems[i].Str
			e := meta[name]
			e.docs = d.Elems[i+1]
			meta[name] = e
			body := d.Elems[i+1]
			for j := 0; j+1 < len(body.Elems); j += 2 {
				if body.Elems[j].Str == "subcommands" {
					walkDocs(body.Elems[j+1])
				}
			}
		}
	}
	walkDocs(raw.Docs)
}

// Register adds a handler for a command or subcommand ("config|get") that
// Redis 7.0 has. It panics on an unknown name: the table holds real
// commands only.
func Register(name string, h Handler, opts ...Option) {
	loadMeta()
	name = strings.ToLower(name)
	e, ok := meta[name]
	if !ok {
		panic("commands: no metadata for " + name)
	}
	c := &Command{Name: name, Handler: h, Info: e.info, Docs: e.docs}
	in := e.info.Elems
	c.Arity = int(in[1].Int)
	for _, f := range in[2].Elems {
		c.Flags |= flagNames[f.Str]
	}
	c.First, c.Last, c.Step = int(in[3].Int), int(in[4].Int), int(in[5].Int)
	for _, cat := range in[6].Elems {
		c.StringsOnly = c.StringsOnly || cat.Str == "@string"
	}
	for _, o := range opts {
		o(c)
	}
	if c.Has(FMovableKeys) && c.KeysFn == nil {
		panic("commands: " + name + " has movable keys and needs KeysFunc")
	}
	if parent, sub, ok := strings.Cut(name, "|"); ok {
		p := table[parent]
		if p == nil {
			// Register the container so the subcommand can hang off it.
			pe := meta[parent]
			p = &Command{Name: parent, Info: pe.info, Docs: pe.docs}
			pi := pe.info.Elems
			p.Arity = int(pi[1].Int)
			for _, f := range pi[2].Elems {
				p.Flags |= flagNames[f.Str]
			}
			table[parent] = p
			tableAll = append(tableAll, p)
		}
		if p.Sub == nil {
			p.Sub = map[string]*Command{}
		}
		c.Parent = p
		p.Sub[sub] = c
		return
	}
	if old := table[name]; old != nil {
		// container registered earlier by a subcommand
		old.Handler, old.KeysFn, old.LockAll = h, c.KeysFn, c.LockAll
		old.First, old.Last, old.Step = c.First, c.Last, c.Step
		return
	}
	table[name] = c
	tableAll = append(tableAll, c)
}

// Lookup finds a command by name, case-insensitively.
func Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return table[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return table[string(buf[:len(name)])]
}

// All returns every registered top-level command, sorted by name.
func All() []*Command {
	out := append([]*Command(nil), tableAll...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SubCommands returns c's subcommands sorted by name.
func (c *Command) SubCommands() []*Command {
	var out []*Command
	for _, s := range c.Sub {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Resolve returns the command to run for args: the subcommand when c has
// subcommands. It returns an error text (without the leading '-') when the
// subcommand is unknown or the arity is wrong.
func Resolve(c *Command, args [][]byte) (*Command, string) {
	if !arityOK(c.Arity, len(args)) {
		return c, WrongArgs(c.Name)
	}
	// A container runs its own handler only when called without a
	// subcommand (COMMAND alone).
	if c.Sub != nil && (c.Handler == nil || len(args) >= 2) {
		if len(args) < 2 {
			return c, WrongArgs(c.Name)
		}
		sub := c.Sub[strings.ToLower(string(args[1]))]
		if sub == nil {
			return c, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", args[1], strings.ToUpper(c.Name))
		}
		if !arityOK(sub.Arity, len(args)) {
			return sub, WrongArgs(sub.Name)
		}
		return sub, ""
	}
	return c, ""
}

func arityOK(arity, n int) bool {
	return (arity > 0 && n == arity) || (arity < 0 && n >= -arity)
}

// KeyPositions returns the indexes in args of the command's keys.
func (c *Command) KeyPositions(args [][]byte, buf []int) []int {
	if c.KeysFn != nil {
		return c.KeysFn(args)
	}
	out := buf[:0]
	if c.First <= 0 {
		return out
	}
	last := c.Last
	if last < 0 {
		last = len(args) + last
	}
	step := c.Step
	if step <= 0 {
		step = 1
	}
	for i := c.First; i <= last && i < len(args); i += step {
		out = append(out, i)
	}
	return out
}

// EachMeta calls fn with the full name and COMMAND INFO entry of every
// command Redis 7.0 has and of redgo's extras, served or not (the ACL
// catalog covers them all, as Redis's rules do).
func EachMeta(fn func(name string, info resp.Value)) {
	loadMeta()
	for name, e := range meta {
		if len(e.info.Elems) > 0 {
			fn(name, e.info)
		}
	}
}
