package scripting

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"redgo/internal/resp"
)

func TestParseShebang(t *testing.T) {
	for _, c := range []struct {
		body  string
		flags Flags
		skip  int
		err   string
	}{
		{"return 1", FlagEvalCompat, 0, ""},
		{"#!lua\nreturn 1", 0, 5, ""},
		{"#!lua flags=no-writes,allow-oom\nreturn 1", FlagNoWrites | FlagAllowOOM, 31, ""},
		{"#!lua flags=\nreturn 1", 0, 12, ""},
		{"#!lua flags=bogus\n", 0, 0, "ERR Unexpected flag in script shebang: bogus"},
		{"#!lua name=x\n", 0, 0, "ERR Unknown lua shebang option: name=x"},
		{"#!js\n", 0, 0, "ERR Unexpected engine in script shebang: #!js"},
		{"#!lua", 0, 0, "ERR Invalid script shebang"},
		{"#!lua flags=no-writes,,allow-oom\n", 0, 0, "ERR Unexpected flag in script shebang: "},
		{"#!lua \"flags=no-writes\"\nreturn 1", FlagNoWrites, 23, ""},
		{"#!\"lua\"\nreturn 1", 0, 7, ""},
		{"#!lua flags=\"no-writes\n", 0, 0, "ERR Invalid engine in script shebang"},
	} {
		f, skip, err := ParseShebang(c.body)
		if f != c.flags || skip != c.skip || err != c.err {
			t.Errorf("%q: got %v %d %q, want %v %d %q", c.body, f, skip, err, c.flags, c.skip, c.err)
		}
	}
}

// decodeWith runs lib.fn(input) in a fresh state and returns the error.
func decodeWith(open func(*lua.LState) *lua.LTable, fn string, input string) error {
	L := lua.NewState()
	defer L.Close()
	lib := open(L)
	L.Push(L.GetField(lib, fn))
	L.Push(lua.LString(input))
	return L.PCall(1, lua.MultRet, nil)
}

// FuzzCjsonDecode: cjson.decode of any input returns a value or raises a
// Lua error; it never panics or hangs. A value re-encodes and decodes.
func FuzzCjsonDecode(f *testing.F) {
	for _, s := range []string{`[1,2.5,"x",null,{"a":[true,false]}]`, `{"k":"\u00e9\ud83d\ude00"}`, `1e400`,
		`[[[[[[1]]]]]]`, `{bad`, `"\x01"`, `-0`, `0x10`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		L := lua.NewState()
		defer L.Close()
		lib := openCjson(L)
		L.Push(L.GetField(lib, "decode"))
		L.Push(lua.LString(s))
		if err := L.PCall(1, 1, nil); err != nil {
			return
		}
		v := L.Get(-1)
		L.Push(L.GetField(lib, "encode"))
		L.Push(v)
		if err := L.PCall(1, 1, nil); err != nil {
			return // sparse arrays, NaN: refused by encode
		}
		enc := L.Get(-1)
		L.Push(L.GetField(lib, "decode"))
		L.Push(enc)
		if err := L.PCall(1, 1, nil); err != nil {
			t.Fatalf("%q encoded as %q, which does not decode: %v", s, enc, err)
		}
	})
}

// FuzzCmsgpackUnpack: cmsgpack.unpack of any input returns values or
// raises a Lua error, never panics.
func FuzzCmsgpackUnpack(f *testing.F) {
	for _, s := range []string{"\x93\x01\x02\x03", "\x81\xa1a\x01", "\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", "\xdd\xff\xff\xff\xff", "\xc1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		decodeWith(openCmsgpack, "unpack", s)
	})
}

// eval runs body as an EVAL script and returns its RESP2 reply.
func eval(t *testing.T, e *Engine, body string, keys ...string) string {
	t.Helper()
	sc, msg := e.Load([]byte(body))
	if sc == nil {
		t.Fatalf("load: %s", msg)
	}
	var k [][]byte
	for _, s := range keys {
		k = append(k, []byte(s))
	}
	var w resp.Writer
	e.Run(&Run{Script: sc, Name: sc.SHA, Keys: k, Eval: true, Host: cannedHost{}}, &w)
	return string(w.Buf)
}

// A table's hash part packs in one order on every call, the order Redis's
// Lua gives this table (unit/scripting "cmsgpack can pack and unpack
// circular references?").
func TestCmsgpackHashOrder(t *testing.T) {
	e := New()
	const body = `local a = {x=nil,y=5}
local b = {x=a}
a['x'] = b
local encoded = cmsgpack.pack(a)
local h = ""
for i = 1, #encoded do h = h .. string.format("%02x",string.byte(encoded,i)) end
return h`
	want := "82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0"
	for i := 0; i < 20; i++ {
		if got := eval(t, e, body); got != "$"+itoa(len(want))+"\r\n"+want+"\r\n" {
			t.Fatalf("got %q, want %s", got, want)
		}
	}
}
