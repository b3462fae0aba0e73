package scripting

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

// Log levels of redis.log (Redis's LL_*).
const (
	LogDebug   = 0
	LogVerbose = 1
	LogNotice  = 2
	LogWarning = 3
)

// redisLib builds the redis table.
func (v *vm) redisLib() *lua.LTable {
	L := v.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":        func(L *lua.LState) int { return v.call(L, true) },
		"pcall":       func(L *lua.LState) int { return v.call(L, false) },
		"log":         v.log,
		"setresp":     v.setresp,
		"sha1hex":     sha1hex,
		"error_reply": errorReply,
		"status_reply": func(L *lua.LState) int {
			if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
				L.Push(errorTable(L, "wrong number or type of arguments", false))
				return 1
			}
			r := L.CreateTable(0, 1)
			r.RawSetString("ok", L.Get(1))
			L.Push(r)
			return 1
		},
		"set_repl":           v.setRepl,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint": func(L *lua.LState) int {
			if r := v.run.Load(); r != nil && r.Debug != nil {
				r.Debug.luabp = true
				L.Push(lua.LTrue)
				return 1
			}
			L.Push(lua.LFalse)
			return 1
		},
		"debug": func(L *lua.LState) int {
			if r := v.run.Load(); r != nil && r.Debug != nil {
				r.Debug.logDebug(L)
			}
			return 0
		},
		"acl_check_cmd": v.aclCheckCmd,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, n := range map[string]int{
		"LOG_DEBUG": LogDebug, "LOG_VERBOSE": LogVerbose, "LOG_NOTICE": LogNotice, "LOG_WARNING": LogWarning,
		"REPL_NONE": ReplNone, "REPL_AOF": ReplAOF, "REPL_SLAVE": ReplReplica, "REPL_REPLICA": ReplReplica,
		"REPL_ALL": ReplAll,
	} {
		t.RawSetString(name, lua.LNumber(n))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(v.e.Version))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(v.e.VersionNum))
	return t
}

// raise raises Redis's error table for msg (code ERR unless msg starts
// with '-CODE').
func raise(L *lua.LState, msg string) {
	L.Error(errorTable(L, strings.TrimPrefix(msg, "-"), strings.HasPrefix(msg, "-")), 0)
}

// call is redis.call (raise) and redis.pcall.
func (v *vm) call(L *lua.LState, raiseErr bool) int {
	r := v.run.Load()
	if r == nil {
		raise(L, "redis.call/pcall can only be called inside a script invocation")
	}
	n := L.GetTop()
	d := r.Debug
	fail := func(msg string) int {
		t := errorTable(L, strings.TrimPrefix(msg, "-"), strings.HasPrefix(msg, "-"))
		if d.active() {
			d.log("<error> " + msg)
		}
		if raiseErr {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	if n == 0 {
		return fail("Please specify at least one argument for this redis lib call")
	}
	args, ok := callArgs(L, n, r)
	if !ok {
		return fail("Lua redis lib command arguments must be strings or integers")
	}
	L.SetTop(0)
	if d.active() {
		d.logCommand(args)
	}
	cmd, msg := r.check(args)
	if msg != "" {
		if d.active() {
			d.log("<error> " + msg)
		}
		t := r.rejected(L, msg)
		if raiseErr {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	r.w.Proto = r.Resp
	r.w.Buf = r.w.Buf[:0]
	if cmd.Has(commands.FWrite) {
		r.wrote.Store(true)
		if d != nil && d.undo != nil {
			d.undo.save(r.Host.(QuietHost), cmd, args)
		}
	}
	if msg := r.Host.Call(r, cmd, args, &r.w); msg != "" {
		if d.active() {
			d.log("<error> " + msg)
		}
		t := r.rejected(L, msg)
		if raiseErr {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	if len(r.w.Buf) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	val, _ := respToLua(L, r.w.Buf)
	if d.active() {
		if r.w.Buf[0] == '-' { // as the error table is made
			d.log("<error> " + string(r.w.Buf[:lineEnd(r.w.Buf)]))
		}
		d.logReply(r.w.Buf)
	}
	isErr := r.w.Buf[0] == '-'
	if cap(r.w.Buf) > 1<<20 {
		r.w.Buf = nil
	}
	if raiseErr && isErr {
		L.Error(val, 0)
	}
	L.Push(val)
	return 1
}

// callArgs converts the n arguments on L's stack, false when one is not
// a string or a number. The bytes and the slice are carved from the
// state's chunks (vm.carve), never reused: a command's arguments stay as
// they are after the run (its effects are propagated then).
func callArgs(L *lua.LState, n int, r *Run) ([][]byte, bool) {
	size := 0
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			size += len(v)
		case lua.LNumber:
			size += 24
		default:
			return nil, false
		}
	}
	var args [][]byte
	var buf []byte
	if r.vm != nil {
		args, buf = r.vm.carve(n, size)
	} else {
		args, buf = make([][]byte, n), make([]byte, 0, size)
	}
	for i := 1; i <= n; i++ {
		start := len(buf)
		switch v := L.Get(i).(type) {
		case lua.LString:
			buf = append(buf, v...)
		case lua.LNumber:
			buf = appendNumberArg(buf, float64(v))
		}
		args[i-1] = buf[start:len(buf):len(buf)]
	}
	return args, true
}

// appendNumberArg appends a number argument as %.17g does: a whole
// number below 1e15 is its digits (the common case, formatted fast).
func appendNumberArg(b []byte, f float64) []byte {
	if f == math.Trunc(f) && f != 0 && f > -1e15 && f < 1e15 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return resp.AppendG17(b, f)
}

// ErrorCounter, when a Host implements it, counts the error of a command
// refused before it ran ("CODE message"), as Redis counts it then; the
// script's reply with that error is not counted again (Run.ErrorCounted).
type ErrorCounter interface {
	CountError(text string)
}

// rejected is the error table of a command refused before it ran, its
// error counted by the host.
func (r *Run) rejected(L *lua.LState, msg string) *lua.LTable {
	t := errorTable(L, strings.TrimPrefix(msg, "-"), strings.HasPrefix(msg, "-"))
	if ec, ok := r.Host.(ErrorCounter); ok {
		ec.CountError(lua.LVAsString(t.RawGetString("err")))
	}
	return counted(t)
}

// StaleHost, when a Host implements it, refuses a command on a stale
// replica ("" to run it): Redis checks that after the command's
// existence, arity and noscript flag and before the write rules.
type StaleHost interface {
	Stale(cmd *commands.Command) string
}

// check is what Redis checks before a script's command runs, in its
// order: it exists, its arity, it is allowed in scripts, the replica is
// not stale (StaleHost), a read-only script does not write. A command
// refused here counts as a rejected call of it (a StaleHost counts its
// own).
func (r *Run) check(args [][]byte) (*commands.Command, string) {
	allowNoScript := r.vm != nil && r.vm.e.AllowNoScript.Load()
	cmd := commands.Lookup(args[0])
	if cmd == nil {
		return nil, "Unknown Redis command called from script"
	}
	cmd, errText := commands.Resolve(cmd, args)
	if errText != "" {
		if strings.Contains(errText, "unknown subcommand") {
			return nil, "Unknown Redis command called from script"
		}
		cmd.RejectedCalls.Add(1)
		return nil, "Wrong number of args calling Redis command from script"
	}
	if cmd.Has(commands.FNoScript) && !allowNoScript {
		cmd.RejectedCalls.Add(1)
		return nil, "This Redis command is not allowed from script"
	}
	if sh, ok := r.Host.(StaleHost); ok {
		if msg := sh.Stale(cmd); msg != "" {
			return nil, msg
		}
	}
	if r.ReadOnly && (cmd.Has(commands.FWrite) || cmd.Has(commands.FMayReplicate)) {
		cmd.RejectedCalls.Add(1)
		return nil, "Write commands are not allowed from read-only scripts."
	}
	return cmd, ""
}

func (v *vm) log(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		raise(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		if s, isStr := L.Get(1).(lua.LString); isStr {
			if f, err := parseLuaNumber(string(s)); err {
				lv, ok = lua.LNumber(f), true
			}
		}
	}
	if !ok {
		raise(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < LogDebug || level > LogWarning {
		raise(L, "Invalid debug level.")
	}
	verb := LogNotice
	if v.e.Verbosity != nil {
		verb = v.e.Verbosity()
	}
	if level < verb || v.e.Log == nil {
		return 0
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		s, ok := argString(L.Get(i))
		if !ok {
			continue
		}
		if i != 2 {
			b.WriteByte(' ')
		}
		b.Write(s)
	}
	v.e.Log(level, b.String())
	return 0
}

func parseLuaNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

func (v *vm) setresp(L *lua.LState) int {
	r := v.run.Load()
	if r == nil {
		raise(L, "redis.setresp can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.setresp() requires one argument.")
	}
	n := int(L.ToNumber(1))
	if n != 2 && n != 3 {
		raise(L, "RESP version must be 2 or 3.")
	}
	r.Resp = n
	return 0
}

func (v *vm) setRepl(L *lua.LState) int {
	r := v.run.Load()
	if r == nil {
		raise(L, "redis.set_repl can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.set_repl() requires two arguments.")
	}
	n := int(L.ToNumber(1))
	if n&^ReplAll != 0 {
		raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	r.Repl = n
	return 0
}

// aclCheckCmd is redis.acl_check_cmd: whether the script's caller may
// run the command, as the host's ACLChecker says (true without one).
func (v *vm) aclCheckCmd(L *lua.LState) int {
	r := v.run.Load()
	if r == nil {
		raise(L, "redis.acl_check_cmd can only be called inside a script invocation")
	}
	n := L.GetTop()
	if n == 0 {
		raise(L, "Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := range args {
		a, ok := argString(L.Get(i + 1))
		if !ok {
			raise(L, "Lua redis lib command arguments must be strings or integers")
		}
		args[i] = a
	}
	cmd, _ := commands.Find(args)
	if cmd == nil {
		raise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	if ck, ok := r.Host.(ACLChecker); ok {
		L.Push(lua.LBool(ck.ACLCheck(r, cmd, args)))
		return 1
	}
	L.Push(lua.LTrue)
	return 1
}

func sha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		raise(L, "wrong number of arguments")
	}
	s, _ := argString(L.Get(1))
	L.Push(lua.LString(SHA1Hex(s)))
	return 1
}

func errorReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(errorTable(L, "wrong number or type of arguments", false))
		return 1
	}
	s := L.ToString(1)
	L.Push(errorTable(L, strings.TrimPrefix(s, "-"), true))
	return 1
}

// registerFunction is redis.register_function outside FUNCTION LOAD.
func (v *vm) registerFunction(L *lua.LState) int {
	if v.loading == nil {
		raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	return v.loading.register(L)
}
