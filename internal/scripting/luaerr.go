package scripting

// Lua 5.1 words a runtime error with the variable the bad value came
// from ("attempt to call field 'x' (a nil value)", "attempt to index
// local 't' (a nil value)"); gopher-lua says "attempt to call a
// non-function object". At the error handler, while the faulting frame is
// still on the stack, errorNames finds the instruction that failed and,
// as Lua 5.1's getobjname, the instruction that last loaded the bad
// register: a local's name, a global, a field (constant key), a method or
// an upvalue. gopher-lua compiles to Lua 5.1's instruction set, so the
// same reading applies. gopher-lua does not export a frame's function,
// program counter or registers: they are read with reflect (read-only).

import (
	"reflect"
	"regexp"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Instruction fields (Lua 5.1's layout, as gopher-lua's opcode.go).
func opCode(i uint32) int { return int(i >> 26) }
func opA(i uint32) int    { return int(i>>18) & 0xff }
func opB(i uint32) int    { return int(i & 0x1ff) }
func opC(i uint32) int    { return int(i>>9) & 0x1ff }
func opBx(i uint32) int   { return int(i & 0x3ffff) }
func opSBx(i uint32) int  { return opBx(i) - 0x1ffff }

const rkBit = 1 << 8 // an RK operand naming a constant

// faultFrame is the Lua function running at stack level, its program
// counter (the failing instruction is code[pc-1]) and where its
// registers start.
type faultFrame struct {
	proto *lua.FunctionProto
	pc    int
	base  int
	idx   int // the frame's depth in the call stack
}

func frameAt(L *lua.LState, level int) (faultFrame, bool) {
	dbg, ok := L.GetStack(level)
	if !ok {
		return faultFrame{}, false
	}
	cf := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !cf.IsValid() || cf.IsNil() {
		return faultFrame{}, false
	}
	cf = cf.Elem()
	fnv := cf.FieldByName("Fn")
	if !fnv.IsValid() || fnv.IsNil() {
		return faultFrame{}, false
	}
	fn := (*lua.LFunction)(unsafe.Pointer(fnv.Pointer()))
	if fn.IsG || fn.Proto == nil {
		return faultFrame{}, false
	}
	pc, base, idx := cf.FieldByName("Pc"), cf.FieldByName("LocalBase"), cf.FieldByName("Idx")
	if !pc.IsValid() || !base.IsValid() || !idx.IsValid() {
		return faultFrame{}, false
	}
	f := faultFrame{proto: fn.Proto, pc: int(pc.Int()), base: int(base.Int()), idx: int(idx.Int())}
	if f.pc < 1 || f.pc > len(f.proto.Code) {
		return faultFrame{}, false
	}
	return f, true
}

// register reads R(r) of frame f (nil when out of range).
func register(L *lua.LState, f faultFrame, r int) lua.LValue {
	reg := reflect.ValueOf(L).Elem().FieldByName("reg")
	if !reg.IsValid() || reg.IsNil() {
		return nil
	}
	arr := reg.Elem().FieldByName("array")
	i := f.base + r
	if !arr.IsValid() || i < 0 || i >= arr.Len() {
		return nil
	}
	return *(*lua.LValue)(unsafe.Pointer(arr.Index(i).UnsafeAddr()))
}

// localName is the name of the local in register r at pc, or "".
func localName(p *lua.FunctionProto, r, pc int) string {
	n := r + 1
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc < l.EndPc {
			n--
			if n == 0 {
				return l.Name
			}
		}
	}
	return ""
}

// lastSetter is the pc of the last instruction before lastpc that set
// register r (Lua 5.1's symbexec for one register), -1 if none.
func lastSetter(p *lua.FunctionProto, lastpc, r int) int {
	last := -1
	for pc := 0; pc < lastpc; pc++ {
		i := p.Code[pc]
		a := opA(i)
		switch opCode(i) {
		case lua.OP_MOVE, lua.OP_LOADK, lua.OP_LOADBOOL, lua.OP_GETUPVAL, lua.OP_GETGLOBAL,
			lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_NEWTABLE, lua.OP_ADD, lua.OP_SUB, lua.OP_MUL,
			lua.OP_DIV, lua.OP_MOD, lua.OP_POW, lua.OP_UNM, lua.OP_NOT, lua.OP_LEN, lua.OP_CONCAT,
			lua.OP_TESTSET, lua.OP_CLOSURE:
			if a == r {
				last = pc
			}
		case lua.OP_MOVEN:
			if r >= a && r <= a+opC(i) {
				last = pc
			}
		case lua.OP_SELF:
			if r == a || r == a+1 {
				last = pc
			}
		case lua.OP_LOADNIL:
			if a <= r && r <= opB(i) {
				last = pc
			}
		case lua.OP_CALL, lua.OP_TAILCALL:
			if r >= a {
				last = pc
			}
		case lua.OP_TFORLOOP:
			if r >= a+2 {
				last = pc
			}
		case lua.OP_FORLOOP, lua.OP_FORPREP:
			if r >= a && r <= a+3 {
				last = pc
			}
		case lua.OP_VARARG:
			if r >= a && (opB(i) == 0 || r <= a+opB(i)-2) {
				last = pc
			}
		case lua.OP_JMP:
			// A forward jump that does not skip lastpc is followed.
			if dest := pc + 1 + opSBx(i); pc < dest && dest <= lastpc {
				pc = dest - 1
			}
		}
	}
	return last
}

// objName is how Lua 5.1 names register r at the failing instruction:
// kind ("local", "global", "field", "method", "upvalue") and name, or "".
func objName(p *lua.FunctionProto, pc, r int, depth int) (string, string) {
	if name := localName(p, r, pc); name != "" {
		return "local", name
	}
	if depth > 8 {
		return "", ""
	}
	at := lastSetter(p, pc, r)
	if at < 0 {
		return "", ""
	}
	i := p.Code[at]
	switch opCode(i) {
	case lua.OP_GETGLOBAL:
		if k := opBx(i); k < len(p.Constants) {
			if s, ok := p.Constants[k].(lua.LString); ok {
				return "global", string(s)
			}
		}
	case lua.OP_MOVE:
		if b := opB(i); b < opA(i) {
			return objName(p, pc, b, depth+1)
		}
	case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
		return "field", constName(p, opC(i))
	case lua.OP_GETUPVAL:
		if b := opB(i); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
		return "upvalue", "?"
	case lua.OP_SELF:
		if r == opA(i) {
			return "method", constName(p, opC(i))
		}
	}
	return "", ""
}

// constName is the name a constant key gives ("?" for anything but a
// constant string).
func constName(p *lua.FunctionProto, rk int) string {
	if rk&rkBit != 0 {
		if k := rk &^ rkBit; k < len(p.Constants) {
			if s, ok := p.Constants[k].(lua.LString); ok {
				return string(s)
			}
		}
	}
	return "?"
}

var (
	reCall   = regexp.MustCompile(`attempt to call a non-function object$`)
	reIndex2 = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '[^']*'$`)
	reArith2 = regexp.MustCompile(`cannot perform (?:add|sub|mul|div|mod|pow) operation between (\w+) and (\w+)$`)
	reConc2  = regexp.MustCompile(`cannot perform concat operation between (\w+) and (\w+)$`)
	reUnm    = regexp.MustCompile(`__unm undefined$`)
	reLen    = regexp.MustCompile(`__len undefined$`)
)

// errorNames rewrites gopher-lua's wording of a runtime error raised by
// the Lua function at stack level into Lua 5.1's, with the variable's
// name when Lua 5.1 would give it; other messages get lua51Message.
func errorNames(L *lua.LState, msg string, level int) string {
	f, ok := frameAt(L, level)
	if !ok {
		return lua51Message(msg)
	}
	ins := f.proto.Code[f.pc-1]
	op := opCode(ins)
	pc := f.pc - 1
	// describe is Lua 5.1's luaG_typeerror for operand rk (a register
	// unless rkBit) holding a value of type typ.
	describe := func(what string, rk int, typ string) string {
		if rk&rkBit == 0 {
			if kind, name := objName(f.proto, pc, rk, 0); kind != "" {
				return "attempt to " + what + " " + kind + " '" + name + "' (a " + typ + " value)"
			}
		}
		return "attempt to " + what + " a " + typ + " value"
	}
	typeOf := func(r int) string {
		if v := register(L, f, r); v != nil {
			return v.Type().String()
		}
		return "nil"
	}
	switch {
	case reCall.MatchString(msg) && (op == lua.OP_CALL || op == lua.OP_TAILCALL):
		a := opA(ins)
		return strings.TrimSuffix(msg, "attempt to call a non-function object") + describe("call", a, typeOf(a))
	case reIndex2.MatchString(msg):
		m := reIndex2.FindStringSubmatchIndex(msg)
		typ := msg[m[2]:m[3]]
		obj := -1
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			obj = opB(ins)
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			obj = opA(ins)
		}
		if obj < 0 {
			return msg[:m[0]] + "attempt to index a " + typ + " value"
		}
		return msg[:m[0]] + describe("index", obj, typ)
	case reArith2.MatchString(msg) && op >= lua.OP_ADD && op <= lua.OP_POW:
		m := reArith2.FindStringSubmatchIndex(msg)
		lhs, rhs := msg[m[2]:m[3]], msg[m[4]:m[5]]
		// Lua 5.1 blames the first operand unless it is a number (or a
		// string that converts to one).
		rk, typ := opB(ins), lhs
		if lhs == "number" || lhs == "string" && rhs != "string" && numericOperand(L, f, opB(ins)) {
			rk, typ = opC(ins), rhs
		}
		return msg[:m[0]] + describe("perform arithmetic on", rk, typ)
	case reConc2.MatchString(msg) && op == lua.OP_CONCAT:
		m := reConc2.FindStringSubmatchIndex(msg)
		lhs, rhs := msg[m[2]:m[3]], msg[m[4]:m[5]]
		b, c := opB(ins), opC(ins)
		if c != b+1 { // which pair of a longer chain failed is not known
			return lua51Message(msg)
		}
		rk, typ := b, lhs
		if lhs == "string" || lhs == "number" {
			rk, typ = c, rhs
		}
		return msg[:m[0]] + describe("concatenate", rk, typ)
	case reUnm.MatchString(msg) && op == lua.OP_UNM:
		b := opB(ins)
		return strings.TrimSuffix(msg, "__unm undefined") + describe("perform arithmetic on", b, typeOf(b))
	case reLen.MatchString(msg) && op == lua.OP_LEN:
		b := opB(ins)
		return strings.TrimSuffix(msg, "__len undefined") + describe("get length of", b, typeOf(b))
	}
	return lua51Message(msg)
}

// numericOperand reports whether RK operand rk holds a string that
// converts to a number.
func numericOperand(L *lua.LState, f faultFrame, rk int) bool {
	var v lua.LValue
	if rk&rkBit != 0 {
		if k := rk &^ rkBit; k < len(f.proto.Constants) {
			v = f.proto.Constants[k]
		}
	} else {
		v = register(L, f, rk)
	}
	s, ok := v.(lua.LString)
	if !ok {
		return false
	}
	_, isNum := parseLuaNumber(string(s))
	return isNum
}
