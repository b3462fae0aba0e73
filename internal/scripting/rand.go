package scripting

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// lrand48 is the 48-bit linear congruential generator of POSIX lrand48,
// which Redis's math.random uses, so a seeded script draws the same
// numbers on every platform and on redgo as on Redis.
type lrand48 struct{ x uint64 }

const randMax = math.MaxInt32

func (r *lrand48) seed(s int32) { r.x = uint64(uint32(s))<<16 | 0x330E }

func (r *lrand48) next() int32 {
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	return int32(r.x >> 17)
}

// mathRandom is math.random: Lua 5.1's over Redis's generator.
func (e *Engine) mathRandom(L *lua.LState) int {
	e.rngMu.Lock()
	n := e.rng.next()
	e.rngMu.Unlock()
	r := float64(n%randMax) / float64(randMax)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1), checkInt(L, 2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (e *Engine) mathRandomseed(L *lua.LState) int {
	s := checkInt(L, 1)
	e.rngMu.Lock()
	e.rng.seed(int32(s))
	e.rngMu.Unlock()
	return 0
}

// checkInt is luaL_checkint: a number, or a string that converts to one
// (truncated toward zero).
func checkInt(L *lua.LState, i int) int {
	switch v := L.Get(i).(type) {
	case lua.LNumber:
		return int(v)
	case lua.LString:
		if f, ok := parseLuaNumber(string(v)); ok {
			return int(f)
		}
	}
	L.TypeError(i, lua.LTNumber)
	return 0
}
