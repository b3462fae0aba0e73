package scripting

// Redis's conversion rules between RESP and Lua, both ways.
//
// A command's reply (RESP2 or RESP3, as the script chose with
// redis.setresp) becomes a Lua value:
//
//	integer        number
//	bulk string    string
//	null bulk/array false (RESP2); RESP3 null: nil
//	array          table (1..n)
//	status         {ok=<status>}
//	error          {err=<error>}
//	map            {map={k=v,...}}
//	set            {set={member=true,...}}
//	boolean        boolean
//	double         {double=<number>}
//	big number     {big_number=<string>}
//	verbatim       {verbatim_string={format=<3 chars>, string=<text>}}
//	attribute      skipped (the value after it is returned)
//
// A script's return value becomes the reply: number -> integer
// (truncated), string -> bulk, true -> 1 (RESP2 script) or #t, false ->
// null (RESP2 script) or #f, nil -> null, a table with err -> error, ok ->
// status, double, big_number, verbatim_string, map, set -> their RESP3
// types (RESP2 equivalents for a RESP2 caller), any other table -> an
// array of its 1..n elements up to the first nil.

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/resp"
)

// respToLua converts one complete reply at the start of b and returns the
// value and the bytes consumed. The reply comes from a command run here,
// so it is well formed; a malformed one gives nil.
func respToLua(L *lua.LState, b []byte) (lua.LValue, int) {
	if len(b) < 3 {
		return lua.LNil, len(b)
	}
	end := lineEnd(b)
	line := b[1:end]
	next := end + 2
	switch b[0] {
	case ':':
		return luaInt(parseInt(line)), next
	case '$':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, next
		}
		return lua.LString(b[next : next+n]), next + n + 2
	case '+':
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(line))
		return t, next
	case '-':
		return counted(errorTable(L, string(line), true)), next
	case '*', '~', '%', '>', '|':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, next
		}
		return aggregateToLua(L, b[0], n, b, next)
	case '_':
		return lua.LNil, next
	case '#':
		return lua.LBool(len(line) > 0 && line[0] == 't'), next
	case ',':
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(parseDouble(string(line))))
		return t, next
	case '(':
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(line))
		return t, next
	case '=':
		n, _ := strconv.Atoi(string(line))
		s := b[next : next+n]
		t := L.CreateTable(0, 1)
		v := L.CreateTable(0, 2)
		if len(s) >= 4 {
			v.RawSetString("string", lua.LString(s[4:]))
			v.RawSetString("format", lua.LString(s[:3]))
		}
		t.RawSetString("verbatim_string", v)
		return t, next + n + 2
	}
	return lua.LNil, len(b)
}

func aggregateToLua(L *lua.LState, kind byte, n int, b []byte, pos int) (lua.LValue, int) {
	switch kind {
	case '%':
		m := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			k, used := respToLua(L, b[pos:])
			pos += used
			v, used := respToLua(L, b[pos:])
			pos += used
			if k != lua.LNil {
				m.RawSet(k, v)
			}
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("map", m)
		return t, pos
	case '~':
		m := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			k, used := respToLua(L, b[pos:])
			pos += used
			if k != lua.LNil {
				m.RawSet(k, lua.LTrue)
			}
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("set", m)
		return t, pos
	case '|': // attribute: skip it, return what follows
		for i := 0; i < 2*n; i++ {
			_, used := respToLua(L, b[pos:])
			pos += used
		}
		v, used := respToLua(L, b[pos:])
		return v, pos + used
	}
	t := L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		v, used := respToLua(L, b[pos:])
		pos += used
		t.RawSetInt(i, v)
	}
	return t, pos
}

// smallInts holds boxed numbers 0..1023: a reply's small integer becomes
// a Lua value without an allocation.
var smallInts = func() (t [1024]lua.LValue) {
	for i := range t {
		t[i] = lua.LNumber(i)
	}
	return t
}()

func luaInt(n int64) lua.LValue {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return lua.LNumber(n)
}

// parseInt parses a reply's integer line (well formed: it comes from a
// command run here).
func parseInt(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

func lineEnd(b []byte) int {
	for i := 1; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return i
		}
	}
	return len(b) - 2
}

func parseDouble(s string) float64 {
	switch s {
	case "inf":
		return inf
	case "-inf":
		return -inf
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// errorTable is Redis's error table {err="CODE message"}: text without a
// leading '-' gets the code ERR unless dash says it carries its code;
// trailing CR/LF are trimmed.
func errorTable(L *lua.LState, text string, hasCode bool) *lua.LTable {
	t := L.CreateTable(0, 2)
	t.RawSetString("err", lua.LString(errorText(text, hasCode)))
	return t
}

// counted marks an error table whose error the statistics already
// counted (a command's error reply, a command refused before it ran):
// the script's reply with it does not count it again.
func counted(t *lua.LTable) *lua.LTable {
	t.RawSetString("ignore_error_stats_update", lua.LTrue)
	return t
}

// errorText builds the "CODE message" of an error table.
func errorText(text string, hasCode bool) string {
	code, msg := "ERR", text
	if hasCode {
		if i := strings.IndexByte(text, ' '); i >= 0 {
			code, msg = text[:i], text[i+1:]
		} else {
			msg = text
		}
	}
	msg = strings.TrimRight(strings.TrimLeft(msg, "\r\n"), "\r\n")
	return code + " " + msg
}

// writeReply converts the script's return value into the caller's reply.
// resp3 is the script's protocol (redis.setresp): it decides how booleans
// convert; w speaks the caller's protocol. depth bounds recursion (a table
// that contains itself).
func writeReply(w *resp.Writer, v lua.LValue, resp3 bool, depth int) {
	switch v := v.(type) {
	case lua.LString:
		w.BulkString(string(v))
	case lua.LBool:
		switch {
		case resp3:
			w.Bool(bool(v))
		case bool(v):
			w.Int(1)
		default:
			w.Null()
		}
	case lua.LNumber:
		w.Int(luaToInt(float64(v)))
	case *lua.LTable:
		if depth > 1000 {
			w.Error("ERR reached lua stack limit")
			return
		}
		writeTable(w, v, resp3, depth)
	default:
		w.Null()
	}
}

func writeTable(w *resp.Writer, t *lua.LTable, resp3 bool, depth int) {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(string(e))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.Simple(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		s := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s))
		if w.Proto == 3 {
			w.Buf = append(w.Buf, '(')
			w.Buf = append(w.Buf, s...)
			w.Buf = append(w.Buf, '\r', '\n')
		} else {
			w.BulkString(s)
		}
		return
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, okf := vt.RawGetString("format").(lua.LString)
		s, oks := vt.RawGetString("string").(lua.LString)
		if okf && oks {
			w.Verbatim(string(s), string(f))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		n := 0
		eachPair(m, func(_, _ lua.LValue) { n++ })
		w.Map(n)
		eachPair(m, func(k, v lua.LValue) {
			writeReply(w, k, resp3, depth+1)
			writeReply(w, v, resp3, depth+1)
		})
		return
	}
	if m, ok := t.RawGetString("set").(*lua.LTable); ok {
		n := 0
		eachPair(m, func(_, _ lua.LValue) { n++ })
		w.Set(n)
		eachPair(m, func(k, _ lua.LValue) { writeReply(w, k, resp3, depth+1) })
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.Array(n)
	for i := 1; i <= n; i++ {
		writeReply(w, t.RawGetInt(i), resp3, depth+1)
	}
}

// luaToInt is C's (long long) cast of a Lua number (toward zero).
func luaToInt(f float64) int64 {
	if f != f || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18 {
		return -1 << 63
	}
	return int64(f)
}

// argString converts a redis.call argument: a number with %.17g, a
// string as is; anything else is not an argument.
func argString(v lua.LValue) ([]byte, bool) {
	switch v := v.(type) {
	case lua.LString:
		return []byte(v), true
	case lua.LNumber:
		return appendNumberArg(nil, float64(v)), true
	}
	return nil, false
}

func itoa(n int) string { return strconv.Itoa(n) }

var inf = math.Inf(1)

// eachPair calls fn for each pair of t in the order next() gives them (the
// array part, then the keys in the order they were first set), not
// gopher-lua's ForEach, whose hash part order is random: cmsgpack, cjson
// and RESP3 maps of the same table come out the same on every call.
func eachPair(t *lua.LTable, fn func(k, v lua.LValue)) {
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		fn(k, v)
	}
}
