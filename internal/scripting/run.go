package scripting

import (
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

// Host runs the commands a script calls. The engine has already checked
// that the command exists, has a valid arity, is allowed in scripts and,
// for a read-only script, does not write.
type Host interface {
	// Call runs cmd with args for run r, appending its reply to w (which
	// speaks the script's protocol). It returns the text of an error that
	// stopped the command before it ran ("" when it ran): with a leading
	// '-' the text carries its own code, otherwise it gets ERR.
	Call(r *Run, cmd *commands.Command, args [][]byte, w *resp.Writer) string
}

// ACLChecker is implemented by a Host that enforces ACL rules:
// redis.acl_check_cmd asks whether the script's caller may run cmd.
type ACLChecker interface {
	ACLCheck(r *Run, cmd *commands.Command, args [][]byte) bool
}

// Propagation flags (redis.set_repl).
const (
	ReplNone    = 0
	ReplAOF     = 1
	ReplReplica = 2
	ReplAll     = ReplAOF | ReplReplica
)

// Run is one execution of a script or function.
type Run struct {
	Script   *Script   // the EVAL script (nil for a function)
	Function *Function // the function to call (FCALL), nil for EVAL
	Name     string    // the name errors give: the SHA1, or the function's name
	Keys     [][]byte
	Args     [][]byte
	Command  [][]byte // the call as sent (FUNCTION STATS shows it)
	ReadOnly bool     // EVAL_RO/FCALL_RO, or a no-writes script: no write commands
	Eval     bool     // an EVAL (SCRIPT KILL), not a function (FUNCTION KILL)
	// FromMaster: the script came from our master or the AOF; it cannot be
	// killed.
	FromMaster bool
	Host       Host
	// Ctx is free for the host (its client, the locks held...).
	Ctx any
	// Debug, when set, runs the script under the Lua debugger (SCRIPT
	// DEBUG): the session ends (its last lines sent) when Run returns.
	Debug *Debugger

	Resp  int // the protocol the script speaks to commands (redis.setresp)
	Repl  int // where its effects go (redis.set_repl)
	Start time.Time

	// ErrorCounted: the script's reply is an error the statistics already
	// counted (a command's error reply or refusal): the host counts the
	// call as failed without counting the error again.
	ErrorCounted bool

	wrote  atomic.Bool // a write command ran: SCRIPT KILL refuses
	killed atomic.Bool
	vm     *vm
	w      resp.Writer // replies of the commands called
}

// Wrote reports whether the script ran a write command.
func (r *Run) Wrote() bool { return r.wrote.Load() }

// Run executes r and appends the reply to w (the caller's protocol).
func (e *Engine) Run(r *Run, w *resp.Writer) {
	var v *vm
	if r.Function != nil {
		f := &e.fn
		f.mu.Lock()
		defer f.mu.Unlock()
		e.fnMu.Lock()
		v = e.fnState().vm
		e.fnMu.Unlock()
		e.mu.Lock()
		if !slices.Contains(e.all, v) {
			e.all = append(e.all, v)
		}
		e.mu.Unlock()
	} else {
		v = e.getVM()
		defer e.putVM(v)
	}
	L := v.L
	r.vm, r.Resp, r.Repl = v, 2, ReplAll
	r.w.Buf = v.wbuf[:0] // the state's buffer: no new one per run
	if r.Start.IsZero() {
		r.Start = time.Now()
	}
	v.ctx.reset()
	v.run.Store(r)
	if e.active.Add(1) == 1 {
		select {
		case e.started <- struct{}{}:
		default:
		}
	}
	defer e.active.Add(-1)
	if d := r.Debug; d != nil {
		L.SetContext(&debugCtx{killCtx: v.ctx, d: d, L: L})
		qh, _ := r.Host.(QuietHost)
		if d.Rollback && qh != nil {
			d.undo = &undoLog{saved: map[undoKey]undoValue{}}
		}
		defer func() {
			L.SetContext(v.ctx)
			if d.undo != nil {
				d.undo.restore(qh)
			}
			d.End()
		}()
	}
	var err error
	if r.Function != nil {
		L.Push(r.Function.fn)
		L.Push(stringArray(L, r.Keys))
		L.Push(stringArray(L, r.Args))
		err = L.PCall(2, 1, v.errh)
	} else {
		v.setArgTable("KEYS", &v.keys, r.Keys)
		v.setArgTable("ARGV", &v.argv, r.Args)
		fn := v.fns[r.Script]
		if fn == nil {
			fn = L.NewFunctionFromProto(r.Script.proto)
			fn.Env = v.env
			if len(v.fns) > 1000 {
				clear(v.fns)
			}
			v.fns[r.Script] = fn
		}
		L.Push(fn)
		err = L.PCall(0, 1, v.errh)
	}
	v.run.Store(nil)
	e.busy.CompareAndSwap(r, nil)
	v.wbuf, r.w.Buf = r.w.Buf[:0], nil
	if err != nil {
		r.ErrorCounted = writeError(w, r.Name, err)
	} else {
		ret := L.Get(-1)
		writeReply(w, ret, r.Resp == 3, 0)
		if t, ok := ret.(*lua.LTable); ok && lua.LVAsBool(t.RawGetString("ignore_error_stats_update")) {
			_, isErr := t.RawGetString("err").(lua.LString)
			r.ErrorCounted = isErr
		}
	}
	L.SetTop(0)
}

// writeError is the reply of a script that raised an error: the error
// table's text and, when the error handler found where it was raised,
// " script: <name>, on <source>:<line>.". It reports whether the error
// was counted already (the table's ignore_error_stats_update).
func writeError(w *resp.Writer, name string, err error) bool {
	ae, ok := err.(*lua.ApiError)
	if !ok {
		w.Error("ERR Error running script " + name + ", " + trunc(err.Error(), 100))
		return false
	}
	t, ok := ae.Object.(*lua.LTable)
	if !ok {
		msg := "execution failure"
		if s, ok := ae.Object.(lua.LString); ok {
			msg = string(s)
		}
		w.Error("ERR Error running script " + name + ", " + trunc(msg, 100))
		return false
	}
	msg := ""
	if s, ok := t.RawGetString("err").(lua.LString); ok {
		msg = string(s)
	} else if n, ok := t.RawGetString("err").(lua.LNumber); ok {
		msg = n.String()
	}
	src, okSrc := luaStringOf(t.RawGetString("source"))
	line, okLine := luaStringOf(t.RawGetString("line"))
	if okSrc && okLine {
		msg += " script: " + name + ", on " + src + ":" + line + "."
	}
	w.Error(msg)
	return lua.LVAsBool(t.RawGetString("ignore_error_stats_update"))
}

func luaStringOf(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return v.String(), true
	}
	return "", false
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func stringArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, a := range items {
		t.RawSetInt(i+1, lua.LString(a))
	}
	return t
}

// argTable is the KEYS or ARGV table of the scripts run on a state,
// refilled for each run while it is as the last run left it but for
// its elements: nothing an EVAL script does outlives its run (the
// globals and libraries are read-only), so no script can tell.
type argTable struct {
	t *lua.LTable
	n int // the elements set by the last run
}

// setArgTable makes global name the array of items.
func (v *vm) setArgTable(name string, a *argTable, items [][]byte) {
	if a.t == nil || a.t.Metatable != lua.LNil || !onlyArray(a.t, a.n) {
		// A new table (the script set a metatable, or a key beyond the
		// array it was given).
		a.t, a.n = v.L.CreateTable(len(items), 0), 0
		v.global.RawSetString(name, a.t)
	}
	for i := len(items) + 1; i <= a.n; i++ {
		a.t.RawSetInt(i, lua.LNil)
	}
	for i, item := range items {
		a.t.RawSetInt(i+1, lua.LString(item))
	}
	a.n = len(items)
}

// onlyArray reports whether t is the array 1..n and has no other key.
func onlyArray(t *lua.LTable, n int) bool {
	if t.Len() != n { // elements added or removed
		return false
	}
	from := lua.LValue(lua.LNil) // Next(0) is not the first key
	if n > 0 {
		from = luaInt(int64(n)) // preboxed: no allocation
	}
	k, _ := t.Next(from)
	return k == lua.LNil
}

// errorHandler is the message handler of a script's pcall (Redis's
// __redis__err__handler): a plain error becomes {err="ERR <message>"},
// and the table gets the source and line where the error was raised.
func (v *vm) errorHandler(L *lua.LState) int {
	obj := L.Get(1)
	r := v.run.Load()
	if r != nil && r.killed.Load() {
		obj = errorTable(L, errKilled.Error(), false)
	}
	t, ok := obj.(*lua.LTable)
	if !ok {
		t = L.CreateTable(0, 3)
		msg := lua.LVAsString(L.ToStringMeta(obj))
		if _, isStr := obj.(lua.LString); isStr {
			msg = errorNames(L, msg, 1) // level 1: where it was raised
		} else {
			msg = lua51Message(msg)
		}
		t.RawSetString("err", lua.LString("ERR "+msg))
	}
	level := 1
	dbg, ok := L.GetStack(level)
	if ok {
		L.GetInfo("Sl", dbg, lua.LNil)
		if dbg.What == "G" {
			if dbg, ok = L.GetStack(level + 1); ok {
				L.GetInfo("Sl", dbg, lua.LNil)
			}
		}
	}
	if ok && dbg.What != "G" {
		src := dbg.Source
		if src == "user_script" || src == "user_function" {
			src = "@" + src
		}
		t.RawSetString("source", lua.LString(src))
		t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
	}
	L.Push(t)
	return 1
}

// Running returns the scripts running now.
func (e *Engine) Running() []*Run {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*Run
	for _, v := range e.all {
		if r := v.run.Load(); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// Tick marks the first script running for longer than threshold as the
// busy one (other clients then get -BUSY); the server calls it often (its
// cron). A threshold of 0 disables it.
func (e *Engine) Tick(now time.Time, threshold time.Duration) {
	if threshold <= 0 || e.busy.Load() != nil {
		return
	}
	for _, r := range e.Running() {
		// A debugged script waits for its user: the others wait for it,
		// as Redis's synchronous session leaves them waiting.
		if r.Debug == nil && now.Sub(r.Start) >= threshold {
			if e.busy.CompareAndSwap(nil, r) && (r.vm == nil || r.vm.run.Load() != r) {
				// It ended between Running and here (after Run's own
				// clearing): never leave a finished script busy.
				e.busy.CompareAndSwap(r, nil)
			}
			return
		}
	}
}

// Busy returns the script past busy-reply-threshold, or nil.
func (e *Engine) Busy() *Run { return e.busy.Load() }

// Kill stops the busy script (SCRIPT KILL when eval, FUNCTION KILL
// otherwise) and returns the reply's error text, "" for OK.
func (e *Engine) Kill(eval bool) string {
	r := e.busy.Load()
	if r == nil {
		return ErrNotBusy
	}
	switch {
	case r.FromMaster:
		return ErrUnkillableMaster
	case r.wrote.Load():
		return ErrUnkillable
	case eval && !r.Eval:
		return ErrBusyFunction
	case !eval && r.Eval:
		return ErrBusyEval
	}
	r.killed.Store(true)
	if v := r.vm; v != nil {
		v.ctx.kill()
	}
	return ""
}

// KillAll stops every running script whatever it did (SHUTDOWN NOSAVE).
func (e *Engine) KillAll() {
	for _, r := range e.Running() {
		r.killed.Store(true)
		if v := r.vm; v != nil {
			v.ctx.kill()
		}
	}
}

// Killed reports whether the run was stopped by SCRIPT KILL, FUNCTION
// KILL or a shutdown.
func (r *Run) Killed() bool { return r.killed.Load() }

// Watch marks a script running past threshold() as busy, checking every
// few milliseconds while scripts run, until quit closes. It takes no lock
// a script holds. It keeps ticking for a second after the last script
// ended, so that a load of short scripts does not wake it (and make it a
// new ticker) for each one; with no script for that long it sleeps on a
// channel: an idle server wakes for nothing here.
func (e *Engine) Watch(quit <-chan struct{}, threshold func() time.Duration) {
	const tick, linger = 10 * time.Millisecond, 100 // ticks without a script before sleeping
	for {
		if e.active.Load() == 0 {
			select {
			case <-quit:
				return
			case <-e.started:
			}
		}
		t := time.NewTicker(tick)
		for idle := 0; idle < linger; {
			select {
			case <-quit:
				t.Stop()
				return
			case now := <-t.C:
				select {
				case <-e.started: // a script started since the last tick
					idle = 0
				default:
				}
				if e.active.Load() > 0 {
					idle = 0
					e.Tick(now, threshold())
				} else {
					idle++
				}
			}
		}
		t.Stop()
	}
}

var (
	reArith  = regexp.MustCompile(`cannot perform (?:add|sub|mul|div|mod|pow|unm) operation between (\w+) and (\w+)`)
	reConcat = regexp.MustCompile(`cannot perform concat operation between (\w+) and (\w+)`)
	reIndex  = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '[^']*'`)
	reBadArg = regexp.MustCompile(`bad argument #(\d+) to ([\w.]+) \(`)
)

// lua51Message words gopher-lua's runtime errors as Lua 5.1 does (without
// the variable names Lua 5.1 adds when it knows them).
func lua51Message(msg string) string {
	if m := reArith.FindStringSubmatchIndex(msg); m != nil {
		bad := msg[m[2]:m[3]]
		if bad == "number" {
			bad = msg[m[4]:m[5]]
		}
		return msg[:m[0]] + "attempt to perform arithmetic on a " + bad + " value" + msg[m[1]:]
	}
	if m := reConcat.FindStringSubmatchIndex(msg); m != nil {
		bad := msg[m[2]:m[3]]
		if bad == "number" || bad == "string" {
			bad = msg[m[4]:m[5]]
		}
		return msg[:m[0]] + "attempt to concatenate a " + bad + " value" + msg[m[1]:]
	}
	if m := reBadArg.FindStringSubmatchIndex(msg); m != nil {
		return msg[:m[0]] + "bad argument #" + msg[m[2]:m[3]] + " to '" + msg[m[4]:m[5]] + "' (" + msg[m[1]:]
	}
	if m := reIndex.FindStringSubmatchIndex(msg); m != nil {
		return msg[:m[0]] + "attempt to index a " + msg[m[2]:m[3]] + " value" + msg[m[1]:]
	}
	return strings.Replace(msg, "attempt to call a non-function object", "attempt to call a nil value", 1)
}
