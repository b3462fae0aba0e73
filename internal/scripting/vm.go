package scripting

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func init() {
	// Lua 5.1's compatibility "arg" table of vararg functions: Redis's
	// scripts are vararg chunks that never use it, and building it costs
	// a table per call. (A gopher-lua setting; this package is its only
	// user in redgo.)
	lua.CompatVarArg = false
}

// vm is one sandboxed Lua state.
type vm struct {
	e       *Engine
	L       *lua.LState
	gen     int64
	global  *lua.LTable // the real globals (KEYS and ARGV are set here)
	env     *lua.LTable // the read-only view scripts see as _G
	errh    *lua.LFunction
	ctx     *killCtx
	run     atomic.Pointer[Run]        // the script running on it, nil when idle
	fns     map[*Script]*lua.LFunction // the scripts' closures on this state
	loadAPI *lua.LTable                // the globals of a library's code (FUNCTION LOAD)
	envMeta *lua.LTable                // env's metatable: its __index is g, or loadAPI while a library loads
	loading *libraryLoad               // set while FUNCTION LOAD runs the library code
	wbuf    []byte                     // the replies' buffer of the runs on this state (Run.w)
	keys    argTable                   // the KEYS and ARGV globals of EVAL scripts
	argv    argTable
	// redis.call's arguments are carved from these chunks (callArgs),
	// never twice from the same bytes: a command's arguments stay as they
	// are after the run (its effects are propagated then), and a new
	// chunk replaces a used-up one.
	argBytes []byte
	argSlots [][]byte
}

// Sizes of the chunks redis.call's arguments are carved from.
const (
	argChunk     = 4096
	argSlotChunk = 128
)

// carve returns n argument slots and a buffer of capacity size for
// their bytes, taken from the state's chunks.
func (v *vm) carve(n, size int) ([][]byte, []byte) {
	if cap(v.argBytes) < size {
		v.argBytes = make([]byte, 0, max(argChunk, size))
	}
	buf := v.argBytes[:0:size]
	v.argBytes = v.argBytes[size:size]
	if cap(v.argSlots) < n {
		v.argSlots = make([][]byte, 0, max(argSlotChunk, n))
	}
	args := v.argSlots[:n:n]
	v.argSlots = v.argSlots[n:n]
	return args, buf
}

// killCtx is the context gopher-lua checks before each instruction: SCRIPT
// KILL closes its channel. Once closed, every later instruction raises
// again, so a pcall in the script cannot catch the kill for long.
type killCtx struct {
	mu sync.Mutex
	ch chan struct{}
}

var errKilled = errors.New("Script killed by user with SCRIPT KILL...")

func (k *killCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (k *killCtx) Value(any) any               { return nil }
func (k *killCtx) Done() <-chan struct{}       { return k.ch }
func (k *killCtx) Err() error {
	select {
	case <-k.ch:
		return errKilled
	default:
		return nil
	}
}

func (k *killCtx) kill() {
	k.mu.Lock()
	select {
	case <-k.ch:
	default:
		close(k.ch)
	}
	k.mu.Unlock()
}

// reset gives the next run an open channel.
func (k *killCtx) reset() {
	select {
	case <-k.ch:
		k.ch = make(chan struct{})
	default:
	}
}

var _ context.Context = (*killCtx)(nil)

// Globals the sandbox keeps from Lua's base library (Redis 7.0's allow
// list); print, loadfile, dofile, module and require are not among them.
var baseAllowed = map[string]bool{
	"xpcall": true, "tostring": true, "setmetatable": true, "next": true,
	"assert": true, "tonumber": true, "rawequal": true, "collectgarbage": true,
	"getmetatable": true, "rawset": true, "pcall": true, "coroutine": true, "type": true,
	"_G": true, "select": true, "unpack": true, "gcinfo": true, "pairs": true, "rawget": true,
	"loadstring": true, "ipairs": true, "_VERSION": true, "load": true, "error": true,
}

// getVM takes an idle state from the pool or makes one.
func (e *Engine) getVM() *vm {
	e.mu.Lock()
	if n := len(e.free); n > 0 {
		v := e.free[n-1]
		e.free = e.free[:n-1]
		e.mu.Unlock()
		return v
	}
	gen := e.gen
	e.mu.Unlock()
	v := e.newVM(gen)
	e.mu.Lock()
	e.all = append(e.all, v)
	e.mu.Unlock()
	return v
}

// putVM returns a state to the pool (or drops it after a SCRIPT FLUSH).
func (e *Engine) putVM(v *vm) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v.gen != e.gen {
		v.L.Close()
		for i, x := range e.all {
			if x == v {
				e.all = append(e.all[:i], e.all[i+1:]...)
				break
			}
		}
		return
	}
	e.free = append(e.free, v)
}

func (e *Engine) newVM(gen int64) *vm {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 1024})
	v := &vm{e: e, L: L, gen: gen, ctx: &killCtx{ch: make(chan struct{})}, fns: map[*Script]*lua.LFunction{}}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	// Keep the allowed base functions only.
	var drop []lua.LValue
	g.ForEach(func(k, val lua.LValue) {
		if s, ok := k.(lua.LString); ok {
			switch string(s) {
			case "string", "table", "math", "coroutine":
				return
			}
			if !baseAllowed[string(s)] {
				drop = append(drop, k)
			}
		}
	})
	for _, k := range drop {
		g.RawSet(k, lua.LNil)
	}
	g.RawSetString("_VERSION", lua.LString("Lua 5.1"))
	namer := L.NewFunction(func(L *lua.LState) int {
		obj := L.Get(1)
		if s, ok := obj.(lua.LString); ok {
			obj = lua.LString(errorNames(L, string(s), 1))
		}
		L.Push(obj)
		return 1
	})
	g.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int { return luaPcall(L, namer) }))
	// tostring of a number as Lua 5.1 (%.14g), not gopher-lua's shortest form.
	tostr := g.RawGetString("tostring").(*lua.LFunction)
	g.RawSetString("tostring", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() == 0 {
			L.RaiseError("bad argument #1 to 'tostring' (value expected)")
		}
		if n, ok := L.Get(1).(lua.LNumber); ok {
			L.Push(lua.LString(appendG(nil, float64(n), 14)))
			return 1
		}
		L.Insert(tostr, 1)
		L.Call(L.GetTop()-1, 1)
		return 1
	}))
	g.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(0))
		return 1
	}))
	// Binary chunks do not load (Redis's Lua refuses them): a dump is a
	// string loadstring cannot compile.
	g.RawGetString("string").(*lua.LTable).RawSetString("dump", L.NewFunction(func(L *lua.LState) int {
		L.CheckFunction(1)
		L.Push(lua.LString("\x1bLua"))
		return 1
	}))
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(e.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(e.mathRandomseed))
	g.RawSetString("redis", v.redisLib())
	g.RawSetString("cjson", openCjson(L))
	g.RawSetString("cmsgpack", openCmsgpack(L))
	g.RawSetString("bit", openBit(L))
	g.RawSetString("struct", openStruct(L))
	v.errh = L.NewFunction(v.errorHandler)

	// Read-only view: an empty table whose reads fall through to the real
	// globals (an error for a missing one) and whose writes fail; the
	// libraries get the same treatment.
	readonly := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	})
	missing := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	})
	ro := map[*lua.LTable]bool{}
	// protect returns an empty table whose reads fall through to t and
	// whose writes fail; its metatable, as getmetatable shows it, is
	// read-only too.
	var protect func(t *lua.LTable) *lua.LTable
	protect = func(t *lua.LTable) *lua.LTable {
		proxy, mt := L.NewTable(), L.NewTable()
		mt.RawSetString("__index", t)
		mt.RawSetString("__newindex", readonly)
		shown, smt := L.NewTable(), L.NewTable()
		smt.RawSetString("__index", mt)
		smt.RawSetString("__newindex", readonly)
		L.SetMetatable(shown, smt)
		mt.RawSetString("__metatable", shown)
		L.SetMetatable(proxy, mt)
		ro[proxy], ro[shown] = true, true
		return proxy
	}
	for _, name := range []string{"string", "table", "math", "coroutine", "redis", "cjson", "cmsgpack", "bit", "struct"} {
		g.RawSetString(name, protect(g.RawGetString(name).(*lua.LTable)))
	}
	gmt := L.NewTable()
	gmt.RawSetString("__index", missing)
	L.SetMetatable(g, gmt)
	env := protect(g)
	// What a library's code sees while FUNCTION LOAD runs it: only
	// redis.register_function, redis.log and the version (the library
	// API); anything else is a missing global.
	apiRedis := L.NewTable()
	apiRedis.RawSetString("register_function", L.NewFunction(v.registerFunction))
	lib := g.RawGetString("redis").(*lua.LTable)
	for _, k := range []string{"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"} {
		apiRedis.RawSetString(k, L.GetField(lib, k))
	}
	missingMT := L.NewTable()
	missingMT.RawSetString("__index", missing)
	L.SetMetatable(apiRedis, missingMT)
	api := L.NewTable()
	api.RawSetString("redis", protect(apiRedis))
	L.SetMetatable(api, missingMT)
	v.loadAPI = api
	setmt := g.RawGetString("setmetatable").(*lua.LFunction)
	g.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok && ro[t] {
			L.Error(lua.LString("Attempt to modify a readonly table"), 0)
		}
		L.Insert(setmt, 1)
		L.Call(L.GetTop()-1, 1)
		return 1
	}))
	rawset := g.RawGetString("rawset").(*lua.LFunction)
	g.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok && ro[t] {
			L.Error(lua.LString("Attempt to modify a readonly table"), 0)
		}
		L.Insert(rawset, 1)
		L.Call(L.GetTop()-1, 1)
		return 1
	}))
	g.RawSetString("_G", env)
	L.Env = env
	v.global, v.env = g, env
	v.envMeta = env.Metatable.(*lua.LTable)
	L.SetContext(v.ctx)
	return v
}

// luaPcall is Lua's pcall, except that an error raised as a table with an
// err field (what redis.call raises) is returned as that table, as
// Redis 7.0's (the message alone in earlier versions).
// namer words a runtime error as Lua 5.1 (errorNames) while the frame
// that raised it is still on the stack.
func luaPcall(L *lua.LState, namer *lua.LFunction) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(1, "value expected")
	}
	err := L.PCall(n-1, lua.MultRet, namer)
	if err != nil {
		L.SetTop(0)
		L.Push(lua.LFalse)
		if ae, ok := err.(*lua.ApiError); ok {
			obj := ae.Object
			if t, ok := obj.(*lua.LTable); ok {
				if msg, ok := t.RawGetString("err").(lua.LString); ok {
					obj = msg
				}
			}
			if s, ok := obj.(lua.LString); ok {
				obj = lua.LString(lua51Message(string(s)))
			}
			L.Push(obj)
		} else {
			L.Push(lua.LString(err.Error()))
		}
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}
