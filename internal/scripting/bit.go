package scripting

// bit: the LuaBitOp library Redis exposes. Numbers are taken modulo 2^32
// as signed 32-bit integers and results are returned the same way.

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// tobit normalizes a Lua number to int32 as LuaBitOp does (rounding to
// the nearest integer, then keeping the low 32 bits).
func tobit(f float64) int32 {
	if f != f || math.IsInf(f, 0) {
		return 0
	}
	f = math.Mod(math.RoundToEven(f), 4294967296)
	return int32(uint32(int64(f)))
}

func openBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	arg := func(L *lua.LState, i int) int32 { return tobit(float64(L.CheckNumber(i))) }
	ret := func(L *lua.LState, v int32) int { L.Push(lua.LNumber(v)); return 1 }
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := arg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = op(v, arg(L, i))
			}
			return ret(L, v)
		}
	}
	shift := func(op func(v int32, n uint) int32) lua.LGFunction {
		return func(L *lua.LState) int { return ret(L, op(arg(L, 1), uint(arg(L, 2))&31)) }
	}
	fns := map[string]lua.LGFunction{
		"tobit":   func(L *lua.LState) int { return ret(L, arg(L, 1)) },
		"bnot":    func(L *lua.LState) int { return ret(L, ^arg(L, 1)) },
		"band":    fold(func(a, b int32) int32 { return a & b }),
		"bor":     fold(func(a, b int32) int32 { return a | b }),
		"bxor":    fold(func(a, b int32) int32 { return a ^ b }),
		"lshift":  shift(func(v int32, n uint) int32 { return int32(uint32(v) << n) }),
		"rshift":  shift(func(v int32, n uint) int32 { return int32(uint32(v) >> n) }),
		"arshift": shift(func(v int32, n uint) int32 { return v >> n }),
		"rol":     shift(func(v int32, n uint) int32 { return int32(bits.RotateLeft32(uint32(v), int(n))) }),
		"ror":     shift(func(v int32, n uint) int32 { return int32(bits.RotateLeft32(uint32(v), -int(n))) }),
		"bswap":   func(L *lua.LState) int { return ret(L, int32(bits.ReverseBytes32(uint32(arg(L, 1))))) },
		"tohex": func(L *lua.LState) int {
			v := uint32(arg(L, 1))
			n := int32(8)
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				n = arg(L, 2)
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n, digits = -n, "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[v&15]
				v >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}
