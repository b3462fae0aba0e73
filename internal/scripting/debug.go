package scripting

// The Lua debugger (SCRIPT DEBUG YES|SYNC, redis-cli --ldb), speaking
// Redis 7.0's protocol: the client sends commands as RESP arrays ("s",
// "c", "p v", "b 5", "e <code>", "r <cmd>"...) and gets every answer as an
// array of status lines ("* Stopped at 2, stop reason = step over",
// "-> 2   redis.call(...)", "<redis> GET k", "<reply> \"5\""...). At the
// end of the script it gets the remaining lines with "<endsession>", then
// the script's reply; the host closes the connection after it.
//
// gopher-lua has no line hook. It asks its context for Done() before
// every instruction, so a debugged run gets a context whose Done() looks
// at the running frame (as luaerr.go does) and stops when a new line of
// the script starts (Lua 5.1's rule: the first instruction of a call, a
// jump back, or another line), at a breakpoint or after redis.breakpoint().

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/resp"
)

const (
	ldbMaxBreakpoints = 64
	ldbMaxLenDefault  = 256
	ldbMaxDepth       = 10 // nesting shown of a table (LUA_MINSTACK/2)
	ldbMaxQuery       = 1 << 20
)

// Debugger is one debugging session: the client's connection and the
// debugger's state. The host makes it (NewDebugger) and sets Run.Debug.
type Debugger struct {
	conn io.ReadWriter
	cbuf []byte   // bytes read from the client, not yet parsed
	src  []string // the script's lines

	bp         []int
	step       bool // stop at the next line (and log redis.call)
	luabp      bool // redis.breakpoint() was called
	maxlen     int
	maxlenHint bool
	logs       []string
	line       int // the current line
	gone       bool
	inHook     bool

	marks []lineMark // per call depth: where the last hook saw that frame
	count int
	start time.Time
	// Limit is how long the script may run without stopping before the
	// debugger stops it ("timeout reached, infinite loop?").
	Limit time.Duration
	// Rollback undoes the script's writes when it ends (SCRIPT DEBUG
	// YES); the run's Host must be a QuietHost.
	Rollback bool
	undo     *undoLog
}

type lineMark struct {
	proto *lua.FunctionProto
	pc    int
	line  int
}

// NewDebugger starts a session over conn for the EVAL of body. pending
// is what the client sent after EVAL and the host already read.
func NewDebugger(conn io.ReadWriter, pending []byte, body string) *Debugger {
	body = strings.TrimRight(body, "\r\n")
	d := &Debugger{conn: conn, cbuf: append([]byte(nil), pending...), src: strings.Split(body, "\n"),
		step: true, maxlen: ldbMaxLenDefault, start: time.Now(), Limit: 5 * time.Second}
	return d
}

// debugCtx is the kill context of a debugged run with the line hook.
type debugCtx struct {
	*killCtx
	d *Debugger
	L *lua.LState
}

func (c *debugCtx) Done() <-chan struct{} {
	c.d.hook(c.L)
	return c.killCtx.Done()
}

func (d *Debugger) log(s string) { d.logs = append(d.logs, s) }

// logMax logs s cut at maxlen, with the hint the first time.
func (d *Debugger) logMax(s string) {
	if d.maxlen > 0 && len(s) > d.maxlen {
		d.log(s[:d.maxlen] + " ...")
		if !d.maxlenHint {
			d.maxlenHint = true
			d.log("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.")
		}
		return
	}
	d.log(s)
}

// send writes the pending log lines as an array of status replies.
func (d *Debugger) send() {
	b := []byte("*" + strconv.Itoa(len(d.logs)) + "\r\n")
	for _, l := range d.logs {
		b = append(b, '+')
		b = append(b, strings.NewReplacer("\r", " ", "\n", " ").Replace(l)...)
		b = append(b, '\r', '\n')
	}
	d.logs = d.logs[:0]
	if !d.gone {
		d.conn.Write(b)
	}
}

// End sends the last lines of the session and its end mark.
func (d *Debugger) End() {
	d.log("<endsession>")
	d.send()
}

func (d *Debugger) sourceLine(n int) string {
	if n < 1 || n > len(d.src) {
		return "<out of range source code line>"
	}
	return d.src[n-1]
}

func (d *Debugger) isBreakpoint(n int) bool {
	for _, b := range d.bp {
		if b == n {
			return true
		}
	}
	return false
}

func (d *Debugger) logSourceLine(n int) {
	cur, bp := n == d.line, d.isBreakpoint(n)
	prefix := "   "
	switch {
	case cur && bp:
		prefix = "->#"
	case cur:
		prefix = "-> "
	case bp:
		prefix = "  #"
	}
	d.log(fmt.Sprintf("%s%-3d %s", prefix, n, d.sourceLine(n)))
}

func (d *Debugger) list(around, context int) {
	for j := 1; j <= len(d.src); j++ {
		if around != 0 && abs(around-j) > context {
			continue
		}
		d.logSourceLine(j)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// hook runs before each instruction of a debugged run.
func (d *Debugger) hook(L *lua.LState) {
	if d.inHook { // as Lua, no hook while the hook runs (eval, redis)
		return
	}
	f, ok := frameAt(L, 0)
	if !ok {
		return
	}
	pc := f.pc - 1 // the instruction about to run
	line := 0
	if pc < len(f.proto.DbgSourcePositions) {
		line = f.proto.DbgSourcePositions[pc]
	}
	if leadingNil(f.proto, pc) {
		// Lua 5.1 emits no LOADNIL at a function's start (its registers
		// are nil already): no line starts here.
		return
	}
	if i := f.proto.Code[pc]; opCode(i) == lua.OP_CLOSURE && opBx(i) < len(f.proto.FunctionPrototypes) {
		// Lua 5.1 makes a closure on the line of its "end".
		line = f.proto.FunctionPrototypes[opBx(i)].LastLineDefined
	}
	for len(d.marks) <= f.idx {
		d.marks = append(d.marks, lineMark{})
	}
	m := &d.marks[f.idx]
	newLine := m.proto != f.proto || pc == 0 || pc <= m.pc || line != m.line
	*m = lineMark{f.proto, pc, line}
	timeout := false
	if d.count++; d.count >= 100000 {
		d.count = 0
		if !d.step && !d.isBreakpoint(line) && !d.luabp && time.Since(d.start) >= d.Limit {
			timeout, d.step = true, true
		}
	}
	if !newLine && !timeout {
		return
	}
	d.line = line
	if f.proto.SourceName != "user_script" {
		return
	}
	bp := d.isBreakpoint(line) || d.luabp
	if !d.step && !bp {
		return
	}
	reason := "step over"
	switch {
	case bp && d.luabp:
		reason = "redis.breakpoint() called"
	case bp:
		reason = "break point"
	case timeout:
		reason = "timeout reached, infinite loop?"
	}
	d.step, d.luabp = false, false
	d.log(fmt.Sprintf("* Stopped at %d, stop reason = %s", line, reason))
	d.logSourceLine(line)
	d.send()
	d.inHook = true
	ok = d.repl(L)
	d.inHook = false
	if !ok && timeout {
		raise(L, "timeout during Lua debugging with client closing connection")
	}
	d.start = time.Now()
}

// leadingNil reports whether the instruction at pc is a LOADNIL with only
// LOADNILs before it.
func leadingNil(p *lua.FunctionProto, pc int) bool {
	for i := 0; i <= pc; i++ {
		if opCode(p.Code[i]) != lua.OP_LOADNIL {
			return false
		}
	}
	return true
}

// active reports whether redis.call should log its command and reply.
func (d *Debugger) active() bool { return d != nil && d.step }

// parse takes one command off cbuf: nil without a complete one, an
// error text for a malformed one (Redis's forgiving reader).
func (d *Debugger) parse() ([]string, string) {
	b := d.cbuf
	if len(b) == 0 {
		return nil, ""
	}
	i := bytes.IndexByte(b, '*')
	if i < 0 {
		return nil, "protocol error"
	}
	b = b[i+1:]
	nl := bytes.Index(b, []byte("\r\n"))
	if nl < 0 {
		return nil, ""
	}
	argc := atoiC(b[:nl])
	if argc <= 0 || argc > 1024 {
		return nil, "protocol error"
	}
	b = b[nl+2:]
	args := make([]string, 0, argc)
	for len(args) < argc {
		if len(b) == 0 {
			return nil, ""
		}
		if b[0] != '$' {
			return nil, "protocol error"
		}
		nl := bytes.Index(b, []byte("\r\n"))
		if nl < 0 {
			return nil, ""
		}
		n := atoiC(b[1:nl])
		if n <= 0 || n > 1024 {
			return nil, "protocol error"
		}
		b = b[nl+2:]
		if len(b) < n+2 {
			return nil, ""
		}
		args = append(args, string(b[:n]))
		if b[n] != '\r' || b[n+1] != '\n' {
			return nil, "protocol error"
		}
		b = b[n+2:]
	}
	return args, ""
}

// atoiC is C's atoi: leading digits (and sign), 0 for none.
func atoiC(b []byte) int {
	s := strings.TrimLeft(string(b), " \t")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// repl reads and runs debugger commands until one resumes the script;
// false when the client went away (the script then runs to its end).
func (d *Debugger) repl(L *lua.LState) bool {
	for {
		args, perr := d.parse()
		for args == nil {
			if perr != "" {
				raise(L, perr)
			}
			if d.gone {
				return false
			}
			buf := make([]byte, 1024)
			n, err := d.conn.Read(buf)
			if n <= 0 || err != nil && n == 0 {
				d.gone, d.step, d.bp = true, false, nil
				return false
			}
			d.cbuf = append(d.cbuf, buf[:n]...)
			if len(d.cbuf) > ldbMaxQuery {
				d.cbuf = nil
				raise(L, "max client buffer reached")
			}
			args, perr = d.parse()
		}
		d.cbuf = nil
		switch name := strings.ToLower(args[0]); {
		case name == "h" || name == "help":
			for _, l := range ldbHelp {
				d.log(l)
			}
			d.send()
		case name == "s" || name == "step" || name == "n" || name == "next":
			d.step = true
			return true
		case name == "c" || name == "continue":
			return true
		case name == "t" || name == "trace":
			d.trace(L)
			d.send()
		case name == "m" || name == "maxlen":
			if len(args) == 2 {
				n := atoiC([]byte(args[1]))
				d.maxlenHint = true
				if n != 0 && n <= 60 {
					n = 60
				}
				d.maxlen = n
			}
			if d.maxlen != 0 {
				d.log(fmt.Sprintf("<value> replies are truncated at %d bytes.", d.maxlen))
			} else {
				d.log("<value> replies are unlimited.")
			}
			d.send()
		case name == "b" || name == "break":
			d.breakCmd(args)
			d.send()
		case name == "e" || name == "eval":
			d.eval(L, args)
			d.send()
		case name == "a" || name == "abort":
			raise(L, "script aborted for user request")
		case len(args) > 1 && (name == "r" || name == "redis"):
			d.redis(L, args)
			d.send()
		case name == "p" || name == "print":
			if len(args) == 2 {
				d.print(L, args[1])
			} else {
				d.printAll(L)
			}
			d.send()
		case name == "l" || name == "list":
			around, ctx := d.line, 5
			if len(args) > 1 {
				if n := atoiC([]byte(args[1])); n > 0 {
					around = n
				}
			}
			if len(args) > 2 {
				ctx = atoiC([]byte(args[2]))
			}
			d.list(around, ctx)
			d.send()
		case name == "w" || name == "whole":
			d.list(1, 1000000)
			d.send()
		default:
			d.log("<error> Unknown Redis Lua debugger command or wrong number of arguments.")
			d.send()
		}
	}
}

var ldbHelp = []string{
	"Redis Lua debugger help:",
	"[h]elp               Show this help.",
	"[s]tep               Run current line and stop again.",
	"[n]ext               Alias for step.",
	"[c]ontinue           Run till next breakpoint.",
	"[l]ist               List source code around current line.",
	"[l]ist [line]        List source code around [line].",
	"                     line = 0 means: current position.",
	"[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
	"                     to show before/after [line].",
	"[w]hole              List all source code. Alias for 'list 1 1000000'.",
	"[p]rint              Show all the local variables.",
	"[p]rint <var>        Show the value of the specified variable.",
	"                     Can also show global vars KEYS and ARGV.",
	"[b]reak              Show all breakpoints.",
	"[b]reak <line>       Add a breakpoint to the specified line.",
	"[b]reak -<line>      Remove breakpoint from the specified line.",
	"[b]reak 0            Remove all breakpoints.",
	"[t]race              Show a backtrace.",
	"[e]val <code>        Execute some Lua code (in a different callframe).",
	"[r]edis <cmd>        Execute a Redis command.",
	"[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
	"                     Specifying zero as <len> means unlimited.",
	"[a]bort              Stop the execution of the script. In sync",
	"                     mode dataset changes will be retained.",
	"",
	"Debugger functions you can call from Lua scripts:",
	"redis.debug()        Produce logs in the debugger console.",
	"redis.breakpoint()   Stop execution like if there was a breakpoint in the",
	"                     next line of code.",
}

func (d *Debugger) breakCmd(args []string) {
	if len(args) == 1 {
		if len(d.bp) == 0 {
			d.log("No breakpoints set. Use 'b <line>' to add one.")
			return
		}
		d.log(fmt.Sprintf("%d breakpoints set:", len(d.bp)))
		for _, b := range d.bp {
			d.logSourceLine(b)
		}
		return
	}
	for _, a := range args[1:] {
		line, err := strconv.ParseInt(a, 10, 64)
		switch {
		case err != nil:
			d.log("Invalid argument:'" + a + "'")
		case line == 0:
			d.bp = nil
			d.log("All breakpoints removed.")
		case line > 0:
			switch {
			case len(d.bp) == ldbMaxBreakpoints:
				d.log("Too many breakpoints set.")
			case line <= int64(len(d.src)) && !d.isBreakpoint(int(line)):
				d.bp = append(d.bp, int(line))
				d.list(int(line), 1)
			default:
				d.log("Wrong line number.")
			}
		default:
			removed := false
			for i, b := range d.bp {
				if int64(b) == -line {
					d.bp = append(d.bp[:i], d.bp[i+1:]...)
					removed = true
					break
				}
			}
			if removed {
				d.log("Breakpoint removed.")
			} else {
				d.log("No breakpoint in the specified line.")
			}
		}
	}
}

// locals lists the active locals of the Lua function at stack level (as
// Lua 5.1's lua_getlocal: active at the frame's current instruction),
// false when there is no frame at that level.
func locals(L *lua.LState, level int, fn func(name string, v lua.LValue) bool) bool {
	if _, ok := L.GetStack(level); !ok {
		return false
	}
	f, ok := frameAt(L, level)
	if !ok {
		return true
	}
	for r := 0; ; r++ {
		name := localName(f.proto, r, f.pc-1)
		if name == "" {
			return true
		}
		v := register(L, f, r)
		if v == nil {
			v = lua.LNil
		}
		if !fn(name, v) {
			return true
		}
	}
}

// print shows the first local named name from the current frame up,
// or KEYS / ARGV.
func (d *Debugger) print(L *lua.LState, name string) {
	found := false
	for level := 0; !found; level++ {
		more := locals(L, level, func(n string, v lua.LValue) bool {
			if n == name {
				d.logMax("<value> " + ldbRepr(v, 0))
				found = true
				return false
			}
			return true
		})
		if !more {
			break
		}
	}
	if found {
		return
	}
	if name == "KEYS" || name == "ARGV" {
		d.logMax("<value> " + ldbRepr(L.G.Global.RawGetString(name), 0))
		return
	}
	d.log("No such variable.")
}

func (d *Debugger) printAll(L *lua.LState) {
	vars := 0
	locals(L, 0, func(n string, v lua.LValue) bool {
		d.logMax("<value> " + n + " = " + ldbRepr(v, 0))
		vars++
		return true
	})
	if vars == 0 {
		d.log("No local variables in the current context.")
	}
}

func (d *Debugger) trace(L *lua.LState) {
	level := 0
	for ; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		L.GetInfo("Snl", dbg, lua.LNil)
		if strings.Contains(dbg.Source, "user_script") {
			where := "From"
			if level == 0 {
				where = "In"
			}
			name := dbg.Name
			if name == "" || name == "main chunk" {
				name = "top level"
			}
			d.log(where + " " + name + ":")
			d.logSourceLine(dbg.CurrentLine)
		}
	}
	if level == 0 {
		d.log("<error> Can't retrieve Lua stack.")
	}
}

// eval runs code as an expression ("return <code>") or else a statement,
// in its own call frame.
func (d *Debugger) eval(L *lua.LState, args []string) {
	code := strings.Join(args[1:], " ")
	proto, msg := compile("return "+code, "ldb_eval")
	if proto == nil {
		if proto, msg = compile(code, "ldb_eval"); proto == nil {
			d.log("<error> " + msg)
			return
		}
	}
	fn := L.NewFunctionFromProto(proto)
	fn.Env = L.Env
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		text := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			text = lua.LVAsString(L.ToStringMeta(ae.Object))
			if t, ok := ae.Object.(*lua.LTable); ok {
				text = lua.LVAsString(t.RawGetString("err"))
			}
		}
		d.log("<error> " + lua51Message(text))
		L.SetTop(top)
		return
	}
	d.logMax("<retval> " + ldbRepr(L.Get(-1), 0))
	L.SetTop(top)
}

// redis runs a command through redis.call, logged as a step would.
func (d *Debugger) redis(L *lua.LState, args []string) {
	redis, _ := L.GetGlobal("redis").(*lua.LTable)
	if redis == nil {
		return
	}
	call := L.GetField(redis, "call")
	top := L.GetTop()
	L.Push(call)
	for _, a := range args[1:] {
		L.Push(lua.LString(a))
	}
	d.step = true
	L.PCall(len(args)-1, 1, nil)
	d.step = false
	L.SetTop(top)
}

// logCommand logs a command redis.call runs ("<redis> GET k").
func (d *Debugger) logCommand(args [][]byte) {
	var b strings.Builder
	b.WriteString("<redis>")
	for j, a := range args {
		if j == 10 {
			fmt.Fprintf(&b, " ... (%d more)", len(args)-j-1)
			break
		}
		b.WriteByte(' ')
		b.Write(a)
	}
	d.log(b.String())
}

// logReply logs a command's reply in a human form ("<reply> \"5\"").
func (d *Debugger) logReply(reply []byte) {
	var b strings.Builder
	b.WriteString("<reply> ")
	replyToHuman(&b, reply)
	d.logMax(b.String())
}

// logDebug is redis.debug().
func (d *Debugger) logDebug(L *lua.LState) {
	var b strings.Builder
	fmt.Fprintf(&b, "<debug> line %d: ", d.line)
	n := L.GetTop()
	for i := 1; i <= n; i++ {
		b.WriteString(ldbRepr(L.Get(i), 0))
		if i != n {
			b.WriteString(", ")
		}
	}
	d.log(b.String())
}

// replyToHuman writes one RESP reply as the debugger shows it and
// returns the bytes it used.
func replyToHuman(b *strings.Builder, r []byte) int {
	if len(r) < 3 {
		return len(r)
	}
	end := lineEnd(r)
	if end < 1 {
		return len(r)
	}
	line := r[1:end]
	next := min(end+2, len(r))
	switch r[0] {
	case ':':
		b.Write(line)
	case '$':
		n := atoiC(line)
		if n < 0 {
			b.WriteString("NULL")
			return next
		}
		if n > len(r)-next {
			return len(r)
		}
		b.Write(resp.AppendRepr(nil, r[next:next+n]))
		return min(next+n+2, len(r))
	case '+', '-':
		b.Write(resp.AppendRepr(nil, r[:end]))
	case '*', '~', '%':
		n := atoiC(line)
		if n < 0 {
			b.WriteString("NULL")
			return next
		}
		open, sep, close := "[", ",", "]"
		switch r[0] {
		case '~':
			open, close = "~(", ")"
		case '%':
			open, close = "{", "}"
		}
		b.WriteString(open)
		pos := next
		for j := 0; j < n && pos < len(r); j++ {
			pos += replyToHuman(b, r[pos:])
			if r[0] == '%' {
				b.WriteString(" => ")
				pos += replyToHuman(b, r[pos:])
			}
			if j != n-1 {
				b.WriteString(sep)
			}
		}
		b.WriteString(close)
		return pos
	case '_':
		b.WriteString("(null)")
	case '#':
		if len(line) > 0 && line[0] == 't' {
			b.WriteString("#true")
		} else {
			b.WriteString("#false")
		}
	case ',':
		b.WriteString("(double) ")
		b.Write(line)
	}
	return next
}

// ldbRepr shows a Lua value as the debugger does.
func ldbRepr(v lua.LValue, level int) string {
	if level == ldbMaxDepth {
		return "<max recursion level reached! Nested table?>"
	}
	level++
	switch v := v.(type) {
	case lua.LString:
		return resp.Repr(string(v))
	case lua.LBool:
		if v {
			return "true"
		}
		return "false"
	case lua.LNumber:
		return strconv.FormatFloat(float64(v), 'g', 6, 64)
	case *lua.LNilType:
		return "nil"
	case *lua.LTable:
		var arr, full []string
		isArray, expect := true, 1
		eachPair(v, func(k, val lua.LValue) {
			if n, ok := k.(lua.LNumber); !ok || float64(n) != float64(expect) {
				isArray = false
			}
			arr = append(arr, ldbRepr(val, level))
			full = append(full, "["+ldbRepr(k, level)+"]="+ldbRepr(val, level))
			expect++
		})
		if isArray {
			return "{" + strings.Join(arr, "; ") + "}"
		}
		return "{" + strings.Join(full, "; ") + "}"
	case *lua.LFunction:
		return fmt.Sprintf(`"function@%p"`, v)
	case *lua.LUserData:
		return fmt.Sprintf(`"userdata@%p"`, v)
	case *lua.LState:
		return fmt.Sprintf(`"thread@%p"`, v)
	}
	return `"<unknown-lua-type>"`
}
