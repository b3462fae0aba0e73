package scripting

import (
	"strings"
	"testing"
)

// Runtime errors are worded as Lua 5.1 words them, with the variable's name
// (the texts are what redis-server 7.0 replies to the same scripts).
var luaErrorCases = []struct{ body, want string }{
	{"local t = {} t.x()", "ERR user_script:1: attempt to call field 'x' (a nil value)"},
	{"local t = {} t:x()", "ERR user_script:1: attempt to call method 'x' (a nil value)"},
	{"foo()", "ERR user_script:1: Script attempted to access nonexistent global variable 'foo'"},
	{"local a; a()", "ERR user_script:1: attempt to call local 'a' (a nil value)"},
	{"local t={} t.x.y = 1", "ERR user_script:1: attempt to index field 'x' (a nil value)"},
	{"return #nil", "ERR user_script:1: attempt to get length of a nil value"},
	{"return {} .. 'x'", "ERR user_script:1: attempt to concatenate a table value"},
	{"local t = {} return t.a.b", "ERR user_script:1: attempt to index field 'a' (a nil value)"},
	{"return nil + 1", "ERR user_script:1: attempt to perform arithmetic on a nil value"},
	{"local x = 'a' return x + 1", "ERR user_script:1: attempt to perform arithmetic on local 'x' (a string value)"},
	{"return -{}", "ERR user_script:1: attempt to perform arithmetic on a table value"},
	{"return ('x'):bad()", "ERR user_script:1: attempt to call method 'bad' (a nil value)"},
	{"return redis.nope()", "ERR user_script:1: attempt to call field 'nope' (a nil value)"},
	{"local t = {} local u = t.a.b", "ERR user_script:1: attempt to index field 'a' (a nil value)"},
	{"local up = nil; local function f() return up.x end return f()", "ERR user_script:1: attempt to index upvalue 'up' (a nil value)"},
	{"local t = {} return t[1]()", "ERR user_script:1: attempt to call field '?' (a nil value)"},
	{"return KEYS.x()", "ERR user_script:1: attempt to call field 'x' (a nil value)"},
	{"local t={a={}} t.a.b()", "ERR user_script:1: attempt to call field 'b' (a nil value)"},
	{"local s='x' return s.y.z", "ERR user_script:1: attempt to index field 'y' (a nil value)"},
	{"return (nil)()", "ERR user_script:1: attempt to call a nil value"},
	{"local t = {} return t.x + 1", "ERR user_script:1: attempt to perform arithmetic on field 'x' (a nil value)"},
	{"local t={} local k='x' return t[k]()", "ERR user_script:1: attempt to call field '?' (a nil value)"},
	{"local t = {} return 'x' .. t", "ERR user_script:1: attempt to concatenate local 't' (a table value)"},
	{"local t = {} return t .. 'x'", "ERR user_script:1: attempt to concatenate local 't' (a table value)"},
	{"local t = {} return 1 + t", "ERR user_script:1: attempt to perform arithmetic on local 't' (a table value)"},
	{"local t = {} return '10' + t", "ERR user_script:1: attempt to perform arithmetic on local 't' (a table value)"},
	{"local t = {} return t + '10'", "ERR user_script:1: attempt to perform arithmetic on local 't' (a table value)"},
	{"return KEYS()", "ERR user_script:1: attempt to call global 'KEYS' (a table value)"},
	{"local n = nil return #n", "ERR user_script:1: attempt to get length of local 'n' (a nil value)"},
	{"local t = {} return -t", "ERR user_script:1: attempt to perform arithmetic on local 't' (a table value)"},
	{"local t = {} for i=1,2 do t.f() end", "ERR user_script:1: attempt to call field 'f' (a nil value)"},
	{"local t = {x=1} return t.x.y", "ERR user_script:1: attempt to index field 'x' (a number value)"},
	{"local a, b = 1 return a + b", "ERR user_script:1: attempt to perform arithmetic on local 'b' (a nil value)"},
	{"local f = function() end return f().x", "ERR user_script:1: attempt to index a nil value"},
	{"return ARGV[1] + 1", "ERR user_script:1: attempt to perform arithmetic on field '?' (a nil value)"},
	{"local t = setmetatable({}, {}) return t()", "ERR user_script:1: attempt to call local 't' (a table value)"},
}

func TestLuaErrorWording(t *testing.T) {
	e := New()
	for _, c := range luaErrorCases {
		got := eval(t, e, c.body)
		got, _, _ = strings.Cut(strings.TrimPrefix(got, "-"), " script: ")
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.body, got, c.want)
		}
	}
	// Inside pcall the message carries the names too.
	got := eval(t, e, "local ok, e = pcall(function() local z; return z.q end) return e")
	if want := "user_script:1: attempt to index local 'z' (a nil value)"; !strings.Contains(got, want) {
		t.Errorf("pcall: %q, want %q", got, want)
	}
}
