package scripting

// Functions (FUNCTION LOAD, FCALL): libraries of Lua functions registered
// with redis.register_function. Every library lives in one Lua state of
// its own (functions are closures of that state), so FCALLs run one at a
// time.

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/resp"
)

// Function is a registered function.
type Function struct {
	Name  string
	Desc  string
	Flags Flags
	Lib   *Library
	fn    *lua.LFunction
}

// Library is a loaded library.
type Library struct {
	Name      string
	Code      string
	Functions map[string]*Function
}

// libraryLoad collects what a library's code registers while it loads.
type libraryLoad struct {
	lib *Library
	err string
}

type functions struct {
	mu   sync.Mutex // held while a function runs or a library loads
	vm   *vm
	libs map[string]*Library
	fns  map[string]*Function
}

func (e *Engine) fnState() *functions {
	if e.fn.vm == nil {
		e.fn.vm = e.newVM(-1)
		e.fn.libs = map[string]*Library{}
		e.fn.fns = map[string]*Function{}
	}
	return &e.fn
}

// Function returns the function called name, or nil.
func (e *Engine) Function(name []byte) *Function {
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	f := e.fnState()
	if fn, ok := f.fns[string(name)]; ok {
		return fn
	}
	return f.fns[strings.ToLower(string(name))]
}

// Libraries returns the loaded libraries sorted by name.
func (e *Engine) Libraries() []*Library {
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	f := e.fnState()
	out := make([]*Library, 0, len(f.libs))
	for _, l := range f.libs {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FunctionStats returns the number of libraries and of functions.
func (e *Engine) FunctionStats() (libs, fns int) {
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	f := e.fnState()
	return len(f.libs), len(f.fns)
}

// FunctionCount is the number of registered functions.
func (e *Engine) FunctionCount() int {
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	return len(e.fnState().fns)
}

// LoadLibrary is FUNCTION LOAD: it returns the library's name, or the
// error text.
func (e *Engine) LoadLibrary(code string, replace bool) (string, string) {
	name, body, engine, errText := libraryMeta(code)
	if errText != "" {
		return "", "ERR " + errText
	}
	if !validLibName(name) {
		return "", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	}
	if !strings.EqualFold(engine, "lua") {
		return "", "ERR Engine '" + engine + "' not found"
	}
	e.fn.mu.Lock() // no function runs while the library's code does
	defer e.fn.mu.Unlock()
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	f := e.fnState()
	old := f.libs[name]
	if old != nil && !replace {
		return "", "ERR Library '" + name + "' already exists"
	}
	proto, errText := compile(body, "user_function")
	if errText != "" {
		return "", "ERR Error compiling function: " + errText
	}
	v := f.vm
	L := v.L
	ld := &libraryLoad{lib: &Library{Name: name, Code: code, Functions: map[string]*Function{}}}
	v.loading = ld
	v.envMeta.RawSetString("__index", v.loadAPI)
	defer v.envMeta.RawSetString("__index", v.global)
	v.ctx.reset()
	fn := L.NewFunctionFromProto(proto)
	fn.Env = v.env
	L.Push(fn)
	// A library's code gets 500 ms (Redis's load timeout).
	var timedOut atomic.Bool
	timer := time.AfterFunc(500*time.Millisecond, func() { timedOut.Store(true); v.ctx.kill() })
	err := L.PCall(0, 0, nil)
	timer.Stop()
	v.loading = nil
	if timedOut.Load() {
		L.SetTop(0)
		return "", "ERR Error registering functions: ERR FUNCTION LOAD timeout"
	}
	L.SetTop(0)
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			if t, ok := ae.Object.(*lua.LTable); ok {
				if s, ok := t.RawGetString("err").(lua.LString); ok {
					msg = string(s)
				}
			} else if s, ok := ae.Object.(lua.LString); ok {
				msg = "ERR " + lua51Message(string(s))
			}
		}
		return "", "ERR Error registering functions: " + msg
	}
	if len(ld.lib.Functions) == 0 {
		return "", "ERR No functions registered"
	}
	for fname := range ld.lib.Functions {
		if other := f.fns[strings.ToLower(fname)]; other != nil && other.Lib != old {
			return "", "ERR Function " + fname + " already exists"
		}
	}
	if old != nil {
		for fname := range old.Functions {
			delete(f.fns, strings.ToLower(fname))
		}
	}
	f.libs[name] = ld.lib
	for fname, fn := range ld.lib.Functions {
		f.fns[strings.ToLower(fname)] = fn
	}
	return name, ""
}

// DeleteLibrary is FUNCTION DELETE.
func (e *Engine) DeleteLibrary(name string) bool {
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	f := e.fnState()
	l := f.libs[name]
	if l == nil {
		return false
	}
	for fname := range l.Functions {
		delete(f.fns, strings.ToLower(fname))
	}
	delete(f.libs, name)
	return true
}

// FlushFunctions is FUNCTION FLUSH.
func (e *Engine) FlushFunctions() {
	e.fnMu.Lock()
	defer e.fnMu.Unlock()
	f := e.fnState()
	f.libs = map[string]*Library{}
	f.fns = map[string]*Function{}
}

// libraryMeta reads a library's "#!<engine> name=<name>" first line: the
// name, the code after the line (its newline kept, so line numbers stay
// right), the engine, or the error text.
func libraryMeta(code string) (name, body, engine, errText string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", "Missing library metadata"
	}
	nl := strings.IndexByte(code, '\n')
	if nl < 0 {
		return "", "", "", "Invalid library metadata"
	}
	parts, ok := splitArgs(code[:nl])
	if !ok || len(parts) == 0 {
		return "", "", "", "Invalid library metadata"
	}
	named := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(p[:5], "name=") {
			if named {
				return "", "", "", "Invalid metadata value, name argument was given multiple times"
			}
			name, named = p[5:], true
			continue
		}
		return "", "", "", "Invalid metadata value given: " + p
	}
	if !named {
		return "", "", "", "Library name was not given"
	}
	return name, code[nl:], parts[0][2:], ""
}

// splitArgs splits a shebang line as Redis's sdssplitargs (quotes and
// their escapes), false when its quotes are unbalanced.
func splitArgs(line string) ([]string, bool) {
	args, ok := resp.SplitArgs([]byte(line), nil)
	if !ok {
		return nil, false
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out, true
}

func validLibName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// register is redis.register_function while a library loads.
func (ld *libraryLoad) register(L *lua.LState) int {
	var name string
	var cb *lua.LFunction
	var flags Flags
	desc := ""
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			raise(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var bad string
		eachPair(t, func(k, v lua.LValue) {
			if bad != "" {
				return
			}
			key, _ := k.(lua.LString)
			switch string(key) {
			case "function_name":
				s, ok := v.(lua.LString)
				if !ok {
					bad = "function_name argument given to redis.register_function must be a string"
				}
				name = string(s)
			case "description":
				s, ok := v.(lua.LString)
				if !ok {
					bad = "description argument given to redis.register_function must be a string"
				}
				desc = string(s)
			case "callback":
				f, ok := v.(*lua.LFunction)
				if !ok {
					bad = "callback argument given to redis.register_function must be a function"
				}
				cb = f
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					bad = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				var names []string
				eachPair(ft, func(_, fv lua.LValue) { names = append(names, lua.LVAsString(fv)) })
				f, unknown := ParseFlags(names, false)
				if unknown != "" || len(names) > 0 && f == 0 && names[0] == "" {
					bad = "unknown flag given"
				}
				flags = f
			default:
				bad = "unknown argument given to redis.register_function"
			}
		})
		if bad != "" {
			raise(L, bad)
		}
		if name == "" {
			raise(L, "redis.register_function must get a function name argument")
		}
		if cb == nil {
			raise(L, "redis.register_function must get a callback argument")
		}
	case 2:
		s, ok := L.Get(1).(lua.LString)
		if !ok {
			raise(L, "first argument to redis.register_function must be a string")
		}
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			raise(L, "second argument to redis.register_function must be a function")
		}
		name, cb = string(s), f
	default:
		raise(L, "wrong number of arguments to redis.register_function")
	}
	if !validLibName(name) {
		raise(L, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
	}
	if ld.lib.Functions[name] != nil {
		raise(L, "Function already exists in the library")
	}
	ld.lib.Functions[name] = &Function{Name: name, Desc: desc, Flags: flags, Lib: ld.lib, fn: cb}
	return 0
}

// LibraryMeta is libraryMeta for the server (FUNCTION RESTORE).
func LibraryMeta(code string) (name, body, engine, errText string) { return libraryMeta(code) }
