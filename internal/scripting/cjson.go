package scripting

// cjson: the Lua CJSON 2.1 library Redis exposes. encoding/json cannot be
// used underneath: cjson writes numbers with %.14g, escapes '/', decides
// between array and object from the table's keys and words its errors its
// own way, and scripts compare those bytes.

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

type cjsonConf struct {
	encodeMaxDepth, decodeMaxDepth int
	precision                      int
	sparseConvert                  bool
	sparseRatio, sparseSafe        int
	encodeInvalid, decodeInvalid   bool
	null                           *lua.LUserData
}

func openCjson(L *lua.LState) *lua.LTable {
	cf := &cjsonConf{encodeMaxDepth: 1000, decodeMaxDepth: 1000, precision: 14, sparseRatio: 2, sparseSafe: 10, decodeInvalid: true}
	cf.null = L.NewUserData()
	t := L.NewTable()
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("encode", cf.encode)
	set("decode", cf.decode)
	set("encode_keep_buffer", func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
	set("encode_max_depth", func(L *lua.LState) int { return intOpt(L, &cf.encodeMaxDepth) })
	set("decode_max_depth", func(L *lua.LState) int { return intOpt(L, &cf.decodeMaxDepth) })
	set("encode_number_precision", func(L *lua.LState) int { return intOpt(L, &cf.precision) })
	set("encode_sparse_array", func(L *lua.LState) int {
		if L.GetTop() > 0 {
			cf.sparseConvert = L.ToBool(1)
		}
		if L.GetTop() > 1 {
			cf.sparseRatio = L.ToInt(2)
		}
		if L.GetTop() > 2 {
			cf.sparseSafe = L.ToInt(3)
		}
		L.Push(lua.LBool(cf.sparseConvert))
		L.Push(lua.LNumber(cf.sparseRatio))
		L.Push(lua.LNumber(cf.sparseSafe))
		return 3
	})
	set("encode_invalid_numbers", func(L *lua.LState) int { return boolOpt(L, &cf.encodeInvalid) })
	set("decode_invalid_numbers", func(L *lua.LState) int { return boolOpt(L, &cf.decodeInvalid) })
	t.RawSetString("null", cf.null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

func intOpt(L *lua.LState, v *int) int {
	if L.GetTop() > 0 {
		*v = L.CheckInt(1)
	}
	L.Push(lua.LNumber(*v))
	return 1
}

func boolOpt(L *lua.LState, v *bool) int {
	if L.GetTop() > 0 {
		*v = L.ToBool(1)
	}
	L.Push(lua.LBool(*v))
	return 1
}

func (cf *cjsonConf) encode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	var b []byte
	b = cf.encodeValue(L, b, L.Get(1), 0)
	L.Push(lua.LString(b))
	return 1
}

func (cf *cjsonConf) encodeValue(L *lua.LState, b []byte, v lua.LValue, depth int) []byte {
	switch v := v.(type) {
	case lua.LString:
		return appendJSONString(b, string(v))
	case lua.LNumber:
		return cf.appendNumber(L, b, float64(v))
	case lua.LBool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *lua.LNilType:
		return append(b, "null"...)
	case *lua.LUserData:
		if v == cf.null {
			return append(b, "null"...)
		}
	case *lua.LTable:
		depth++
		if depth > cf.encodeMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		n := cf.arrayLength(L, v)
		if n > 0 {
			b = append(b, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b = append(b, ',')
				}
				b = cf.encodeValue(L, b, v.RawGetInt(i), depth)
			}
			return append(b, ']')
		}
		b = append(b, '{')
		first := true
		eachPair(v, func(k, val lua.LValue) {
			if !first {
				b = append(b, ',')
			}
			first = false
			switch k := k.(type) {
			case lua.LString:
				b = appendJSONString(b, string(k))
			case lua.LNumber:
				b = append(b, '"')
				b = cf.appendNumber(L, b, float64(k))
				b = append(b, '"')
			default:
				L.RaiseError("Cannot serialise %s: table key must be a number or string", k.Type().String())
			}
			b = append(b, ':')
			b = cf.encodeValue(L, b, val, depth)
		})
		return append(b, '}')
	}
	L.RaiseError("Cannot serialise %s: type not supported", luaTypeName(v))
	return b
}

func luaTypeName(v lua.LValue) string {
	if v.Type() == lua.LTUserData {
		return "userdata"
	}
	return v.Type().String()
}

// arrayLength is the length of a table that encodes as an array, 0 when
// it is an object (or empty); too sparse an array raises an error.
func (cf *cjsonConf) arrayLength(L *lua.LState, t *lua.LTable) int {
	max, items := 0, 0
	object := false
	eachPair(t, func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != float64(int(n)) {
			object = true
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if object {
		return 0
	}
	if cf.sparseRatio > 0 && max > items*cf.sparseRatio && max > cf.sparseSafe {
		if !cf.sparseConvert {
			L.RaiseError("Cannot serialise table: excessively sparse array")
		}
		return 0
	}
	return max
}

func (cf *cjsonConf) appendNumber(L *lua.LState, b []byte, f float64) []byte {
	if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		if !cf.encodeInvalid {
			L.RaiseError("Cannot serialise number: must not be NaN or Inf")
		}
	}
	return appendG(b, f, cf.precision)
}

// appendG formats f as C's printf("%.<prec>g").
func appendG(b []byte, f float64, prec int) []byte {
	switch {
	case f != f && math.Signbit(f):
		return append(b, "-nan"...)
	case f != f:
		return append(b, "nan"...)
	case f > 1.7976931348623157e308:
		return append(b, "inf"...)
	case f < -1.7976931348623157e308:
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', prec, 64)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '\\', '/')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// ---- decode ----

type jsonDecoder struct {
	cf    *cjsonConf
	L     *lua.LState
	s     string
	pos   int
	depth int
}

func (cf *cjsonConf) decode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	d := &jsonDecoder{cf: cf, L: L, s: L.CheckString(1)}
	tok, v := d.next()
	val := d.value(tok, v)
	tok, _ = d.next()
	if tok.kind != tEnd {
		d.fail("the end", tok)
	}
	L.Push(val)
	return 1
}

const (
	tObjBegin = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBool
	tNull
	tColon
	tComma
	tEnd
	tError
)

var tokenNames = []string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER",
	"T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "invalid token"}

type jsonToken struct {
	kind int
	at   int // character index (1-based) where the token starts
	msg  string
}

func (d *jsonDecoder) fail(expected string, tok jsonToken) {
	found := tokenNames[tok.kind]
	if tok.kind == tError && tok.msg != "" {
		found = tok.msg
	}
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, tok.at)
}

func (d *jsonDecoder) next() (jsonToken, lua.LValue) {
	s := d.s
	for d.pos < len(s) && (s[d.pos] == ' ' || s[d.pos] == '\t' || s[d.pos] == '\n' || s[d.pos] == '\r') {
		d.pos++
	}
	at := d.pos + 1
	if d.pos >= len(s) {
		return jsonToken{kind: tEnd, at: at}, nil
	}
	c := s[d.pos]
	switch c {
	case '{':
		d.pos++
		return jsonToken{kind: tObjBegin, at: at}, nil
	case '}':
		d.pos++
		return jsonToken{kind: tObjEnd, at: at}, nil
	case '[':
		d.pos++
		return jsonToken{kind: tArrBegin, at: at}, nil
	case ']':
		d.pos++
		return jsonToken{kind: tArrEnd, at: at}, nil
	case ':':
		d.pos++
		return jsonToken{kind: tColon, at: at}, nil
	case ',':
		d.pos++
		return jsonToken{kind: tComma, at: at}, nil
	case '"':
		return d.str(at)
	}
	for _, lit := range []struct {
		s string
		k int
		v lua.LValue
	}{{"true", tBool, lua.LTrue}, {"false", tBool, lua.LFalse}, {"null", tNull, d.cf.null}} {
		if strings.HasPrefix(s[d.pos:], lit.s) {
			d.pos += len(lit.s)
			return jsonToken{kind: lit.k, at: at}, lit.v
		}
	}
	if c == '-' || c >= '0' && c <= '9' || d.cf.decodeInvalid && (c == 'i' || c == 'I' || c == 'n' || c == 'N' || c == '+') {
		end := d.pos
		for end < len(s) && strings.IndexByte("0123456789+-.eExXabcdefABCDEFinftyINFTYnN", s[end]) >= 0 {
			end++
		}
		f, err := strconv.ParseFloat(s[d.pos:end], 64)
		if err != nil {
			if v, ok := parseHexInt(s[d.pos:end]); ok {
				f, err = v, nil
			}
		}
		if err == nil || isRangeErr(err) {
			d.pos = end
			return jsonToken{kind: tNumber, at: at}, lua.LNumber(f)
		}
	}
	return jsonToken{kind: tError, at: at}, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func parseHexInt(s string) (float64, bool) {
	neg := strings.HasPrefix(s, "-")
	t := strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(t, "0x") && !strings.HasPrefix(t, "0X") {
		return 0, false
	}
	v, err := strconv.ParseUint(t[2:], 16, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		return -float64(v), true
	}
	return float64(v), true
}

func (d *jsonDecoder) str(at int) (jsonToken, lua.LValue) {
	s := d.s
	var b []byte
	i := d.pos + 1
	for {
		if i >= len(s) {
			return jsonToken{kind: tError, at: at, msg: "unexpected end of string"}, nil
		}
		c := s[i]
		if c == '"' {
			break
		}
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return jsonToken{kind: tError, at: at, msg: "invalid escape code"}, nil
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n := decodeU(s[i:])
			if n == 0 {
				return jsonToken{kind: tError, at: at, msg: "invalid unicode escape code"}, nil
			}
			b = utf8.AppendRune(b, r)
			i += n
		default:
			return jsonToken{kind: tError, at: at, msg: "invalid escape code"}, nil
		}
	}
	d.pos = i + 1
	return jsonToken{kind: tString, at: at}, lua.LString(b)
}

// decodeU decodes the XXXX of \uXXXX (and a following low surrogate).
func decodeU(s string) (rune, int) {
	if len(s) < 4 {
		return 0, 0
	}
	v, err := strconv.ParseUint(s[:4], 16, 32)
	if err != nil {
		return 0, 0
	}
	r := rune(v)
	if r >= 0xD800 && r < 0xDC00 {
		if len(s) < 10 || s[4] != '\\' || s[5] != 'u' {
			return 0, 0
		}
		lo, err := strconv.ParseUint(s[6:10], 16, 32)
		if err != nil || lo < 0xDC00 || lo > 0xDFFF {
			return 0, 0
		}
		return 0x10000 + (r-0xD800)<<10 + rune(lo-0xDC00), 10
	}
	if r >= 0xDC00 && r <= 0xDFFF {
		return 0, 0
	}
	return r, 4
}

func (d *jsonDecoder) value(tok jsonToken, v lua.LValue) lua.LValue {
	switch tok.kind {
	case tString, tNumber, tBool, tNull:
		return v
	case tObjBegin:
		return d.object(tok)
	case tArrBegin:
		return d.array(tok)
	}
	d.fail("value", tok)
	return nil
}

func (d *jsonDecoder) nest(tok jsonToken) {
	d.depth++
	if d.depth > d.cf.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, tok.at)
	}
}

func (d *jsonDecoder) object(open jsonToken) lua.LValue {
	d.nest(open)
	t := d.L.NewTable()
	tok, v := d.next()
	if tok.kind == tObjEnd {
		d.depth--
		return t
	}
	for {
		if tok.kind != tString {
			d.fail("object key string", tok)
		}
		key := v
		tok, _ = d.next()
		if tok.kind != tColon {
			d.fail("colon", tok)
		}
		tok, v = d.next()
		t.RawSet(key, d.value(tok, v))
		tok, _ = d.next()
		if tok.kind == tObjEnd {
			d.depth--
			return t
		}
		if tok.kind != tComma {
			d.fail("comma or object end", tok)
		}
		tok, v = d.next()
	}
}

func (d *jsonDecoder) array(open jsonToken) lua.LValue {
	d.nest(open)
	t := d.L.NewTable()
	tok, v := d.next()
	if tok.kind == tArrEnd {
		d.depth--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(tok, v))
		tok, _ = d.next()
		if tok.kind == tArrEnd {
			d.depth--
			return t
		}
		if tok.kind != tComma {
			d.fail("comma or array end", tok)
		}
		tok, v = d.next()
	}
}
