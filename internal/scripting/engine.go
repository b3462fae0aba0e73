// Package scripting runs Lua scripts as Redis 7.0 does (EVAL, EVALSHA,
// SCRIPT ...) on gopher-lua, a Lua 5.1 virtual machine in Go.
//
// The package knows Lua and Redis's scripting rules; it knows nothing of
// locks, clusters or propagation. A caller (the server):
//
//  1. looks the script up or compiles it (Engine.Get, Engine.Load);
//  2. checks the script's flags against the server's state (Flags);
//  3. holds whatever locks make the script atomic, then calls Engine.Run
//     with a Host that runs each command the script calls (redis.call),
//     under those locks, and collects the effects;
//  4. feeds the collected effects (wrapped in MULTI/EXEC) to the AOF and
//     replicas.
//
// The engine keeps a pool of Lua states; a script runs on one state at a
// time, so scripts that hold disjoint locks may run at once. Every state
// is sandboxed as Redis 7.0's: the global table and the libraries are
// read-only, there is no os, io, loadfile, dofile or print, and
// math.random is Redis's own generator.
package scripting

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Flags are a script's shebang flags (#!lua flags=...).
type Flags uint16

const (
	FlagNoWrites Flags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlot
	// FlagEvalCompat: the script has no shebang (the behaviour of
	// Redis before 7.0: may write, no flag checks before it runs).
	FlagEvalCompat
)

var flagNames = []struct {
	name string
	flag Flags
}{
	{"no-writes", FlagNoWrites},
	{"allow-oom", FlagAllowOOM},
	{"allow-stale", FlagAllowStale},
	{"no-cluster", FlagNoCluster},
	{"allow-cross-slot-keys", FlagAllowCrossSlot},
}

// Error texts, as Redis 7.0 replies them.
const (
	ErrNoScript         = "NOSCRIPT No matching script. Please use EVAL."
	ErrNotBusy          = "NOTBUSY No scripts in execution right now."
	ErrUnkillable       = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	ErrUnkillableMaster = "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed."
	ErrBusyEval         = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	ErrBusyFunction     = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	ErrNoCluster        = "ERR Can not run script on cluster, 'no-cluster' flag is set."
	ErrROWriteFlag      = "ERR Can not execute a script with write flag using *_ro command."
	ErrNumkeysBig       = "ERR Number of keys can't be greater than number of args"
	ErrNumkeysNeg       = "ERR Number of keys can't be negative"
)

// Script is a compiled EVAL script.
type Script struct {
	SHA   string // lower-case hex SHA1 of Body
	Body  string
	Flags Flags
	proto *lua.FunctionProto
}

// Engine is the scripting state of one server: the script cache and the
// pool of Lua states.
type Engine struct {
	// Log writes a line to the server log at a Redis level (redis.log):
	// 0 debug, 1 verbose, 2 notice, 3 warning. May be nil.
	Log func(level int, msg string)
	// Verbosity returns the server's log level (redis.log drops lines
	// below it). May be nil (notice).
	Verbosity func() int
	// Version is REDIS_VERSION, VersionNum REDIS_VERSION_NUM.
	Version    string
	VersionNum int

	mu       sync.Mutex
	scripts  map[string]*Script
	memory   int64 // bytes of cached bodies (INFO used_memory_scripts)
	gen      int64 // SCRIPT FLUSH generation: states of older ones are dropped
	free     []*vm // idle Lua states
	all      []*vm // every state, for Tick and Kill
	nscripts atomic.Int64

	rngMu sync.Mutex
	rng   lrand48

	busy atomic.Pointer[Run] // the script over busy-reply-threshold
	// active counts the scripts running now; started wakes Watch when it
	// goes from 0 to 1, so an idle server has no ticker running.
	active  atomic.Int32
	started chan struct{}

	// AllowNoScript lets scripts call commands flagged noscript (DEBUG
	// SET-DISABLE-DENY-SCRIPTS, for tests).
	AllowNoScript atomic.Bool

	fnMu sync.Mutex // guards fn's registries
	fn   functions
}

// New returns an engine with an empty cache.
func New() *Engine {
	e := &Engine{scripts: map[string]*Script{}, Version: "7.0.15", VersionNum: 0x07000f, started: make(chan struct{}, 1)}
	e.rng.seed(0)
	e.rng.x = 0x1234ABCD330E // the generator's default state, as Redis starts
	return e
}

// SHA1Hex is the lower-case hex SHA1 of s, as scripts are named.
func SHA1Hex(s []byte) string {
	sum := sha1.Sum(s)
	return hex.EncodeToString(sum[:])
}

// Get returns the cached script whose SHA1 is sha (any case), or nil.
func (e *Engine) Get(sha []byte) *Script {
	if len(sha) != 40 {
		return nil
	}
	e.mu.Lock()
	s, ok := e.scripts[string(sha)]
	e.mu.Unlock()
	if !ok && bytes.ContainsFunc(sha, unicode.IsUpper) {
		return e.Get(bytes.ToLower(sha))
	}
	return s
}

// Exists reports whether a script with that SHA1 is cached.
func (e *Engine) Exists(sha []byte) bool { return e.Get(sha) != nil }

// Len is the number of cached scripts.
func (e *Engine) Len() int { return int(e.nscripts.Load()) }

// Memory is the size of the cached bodies, in bytes.
func (e *Engine) Memory() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.memory
}

// Load compiles body and caches it (a cached script is returned as is).
// The error is the reply text of a body that does not compile or has a
// bad shebang.
func (e *Engine) Load(body []byte) (*Script, string) {
	sha := SHA1Hex(body)
	e.mu.Lock()
	s := e.scripts[sha]
	e.mu.Unlock()
	if s != nil {
		return s, ""
	}
	flags, skip, errText := ParseShebang(string(body))
	if errText != "" {
		return nil, errText
	}
	proto, err := compile(string(body[skip:]), "user_script")
	if err != "" {
		return nil, "ERR Error compiling script (new function): " + err
	}
	s = &Script{SHA: sha, Body: string(body), Flags: flags, proto: proto}
	e.mu.Lock()
	if old := e.scripts[sha]; old != nil {
		s = old
	} else {
		e.scripts[sha] = s
		e.memory += int64(len(body) + 40)
		e.nscripts.Add(1)
	}
	e.mu.Unlock()
	return s, ""
}

// Flush empties the script cache and resets the Lua states (SCRIPT
// FLUSH): states in use are dropped when their script returns.
func (e *Engine) Flush() {
	e.mu.Lock()
	e.scripts = map[string]*Script{}
	e.memory = 0
	e.nscripts.Store(0)
	e.gen++
	for _, v := range e.free {
		v.L.Close()
	}
	e.free = nil
	keep := e.all[:0]
	for _, v := range e.all {
		if v.run.Load() != nil {
			keep = append(keep, v)
		}
	}
	e.all = keep
	e.mu.Unlock()
}

// ParseShebang reads the "#!lua flags=..." first line of a script: its
// flags, the number of bytes to skip (the line without its newline, so
// line numbers stay right) and the error text of a bad one.
func ParseShebang(body string) (Flags, int, string) {
	if !strings.HasPrefix(body, "#!") {
		return FlagEvalCompat, 0, ""
	}
	n := strings.IndexByte(body, '\n')
	if n < 0 {
		return 0, 0, "ERR Invalid script shebang"
	}
	parts, ok := splitArgs(body[:n])
	if !ok || len(parts) == 0 {
		return 0, 0, "ERR Invalid engine in script shebang"
	}
	if parts[0] != "#!lua" {
		return 0, 0, "ERR Unexpected engine in script shebang: " + parts[0]
	}
	var flags Flags
	for _, p := range parts[1:] {
		list, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return 0, 0, "ERR Unknown lua shebang option: " + p
		}
		if list == "" {
			continue
		}
		names := strings.Split(list, ",")
		if slices.Contains(names, "") {
			return 0, 0, "ERR Unexpected flag in script shebang: "
		}
		f, bad := ParseFlags(names, false)
		if bad != "" {
			return 0, 0, "ERR Unexpected flag in script shebang: " + bad
		}
		flags |= f
	}
	return flags, n, ""
}

// ParseFlags parses flag names; the first unknown one is returned.
// skipEmpty ignores empty names ("flags=" and "a,,b" in a shebang).
func ParseFlags(names []string, skipEmpty bool) (Flags, string) {
	var flags Flags
next:
	for _, name := range names {
		if name == "" && skipEmpty {
			continue
		}
		for _, f := range flagNames {
			if f.name == name {
				flags |= f.flag
				continue next
			}
		}
		return 0, name
	}
	return flags, ""
}

// FlagNames lists the names of flags f, in Redis's order.
func FlagNames(f Flags) []string {
	var out []string
	for _, n := range flagNames {
		if f&n.flag != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// compile parses and compiles Lua source; the error is as Lua words it
// ("user_script:1: ...").
func compile(src, name string) (*lua.FunctionProto, string) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, syntaxError(err, name, src)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, err.Error()
	}
	return proto, ""
}

// syntaxError words a gopher-lua parse error as Lua 5.1 does:
// "<name>:<line>: <message> near '<token>'".
func syntaxError(err error, name, src string) string {
	if pe, ok := err.(*parse.Error); ok {
		msg := pe.Message
		if msg == "syntax error" || msg == "" {
			msg = "unexpected symbol"
		}
		if msg == "unterminated string" {
			msg = "unfinished string"
		}
		if pe.Pos.Line < 0 { // at the end of the source
			return name + ":" + itoa(strings.Count(src, "\n")+1) + ": " + msg + " near '<eof>'"
		}
		if pe.Token == "" || pe.Token == "EOF" {
			return name + ":" + itoa(pe.Pos.Line) + ": " + msg + " near '<eof>'"
		}
		return name + ":" + itoa(pe.Pos.Line) + ": " + msg + " near '" + pe.Token + "'"
	}
	return err.Error()
}
