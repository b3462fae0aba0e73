package scripting

// struct: Roberto Ierusalimschy's struct library Redis exposes (pack,
// unpack, size). Formats: '<' '>' '=' endianness, '!n' alignment, 'x'
// padding, 'b' 'B' 'h' 'H' 'l' 'L' 'T' 'i[n]' 'I[n]' integers, 'f' 'd'
// floats, 's' zero-terminated string, 'c[n]' fixed string (c0: the
// length is the previous integer).

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

type structFmt struct {
	L      *lua.LState
	f      string
	i      int
	little bool
	align  int
}

func (s *structFmt) num(def int) int {
	if s.i >= len(s.f) || s.f[s.i] < '0' || s.f[s.i] > '9' {
		return def
	}
	n := 0
	for s.i < len(s.f) && s.f[s.i] >= '0' && s.f[s.i] <= '9' {
		n = n*10 + int(s.f[s.i]-'0')
		s.i++
	}
	return n
}

// next reads one option: its letter and size (0 for s, x has 1).
func (s *structFmt) next() (byte, int) {
	for s.i < len(s.f) {
		c := s.f[s.i]
		s.i++
		switch c {
		case ' ':
		case '<', '=':
			s.little = true
		case '>':
			s.little = false
		case '!':
			s.align = s.num(8)
		case 'x', 'b', 'B':
			return c, 1
		case 'h', 'H':
			return c, 2
		case 'l', 'L', 'T':
			return c, 8
		case 'f':
			return c, 4
		case 'd':
			return c, 8
		case 'i', 'I':
			n := s.num(4)
			if n > 8 || n < 1 {
				s.L.RaiseError("integral size %d is larger than limit of 8", n)
			}
			return c, n
		case 'c':
			return c, s.num(1)
		case 's':
			return c, 0
		default:
			s.L.RaiseError("invalid format option '%c'", c)
		}
	}
	return 0, 0
}

func (s *structFmt) pad(total, size int) int {
	a := size
	if a > s.align {
		a = s.align
	}
	if a <= 1 || size == 0 {
		return 0
	}
	return (a - total%a) % a
}

func openStruct(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

func (s *structFmt) putInt(b []byte, v uint64, n int) []byte {
	buf := make([]byte, 8)
	if s.little {
		binary.LittleEndian.PutUint64(buf, v)
		return append(b, buf[:n]...)
	}
	binary.BigEndian.PutUint64(buf, v)
	return append(b, buf[8-n:]...)
}

func structPack(L *lua.LState) int {
	s := &structFmt{L: L, f: L.CheckString(1), little: true, align: 1}
	var b []byte
	arg := 2
	for {
		c, size := s.next()
		if c == 0 {
			break
		}
		for p := s.pad(len(b), size); p > 0; p-- {
			b = append(b, 0)
		}
		switch c {
		case 'x':
			b = append(b, 0)
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			f := float64(L.CheckNumber(arg))
			arg++
			var v uint64
			if f < 0 {
				v = uint64(int64(f))
			} else {
				v = uint64(f)
			}
			b = s.putInt(b, v, size)
		case 'f':
			b = s.putInt(b, uint64(math.Float32bits(float32(L.CheckNumber(arg)))), 4)
			arg++
		case 'd':
			b = s.putInt(b, math.Float64bits(float64(L.CheckNumber(arg))), 8)
			arg++
		case 'c', 's':
			str := L.CheckString(arg)
			arg++
			if c == 's' {
				b = append(append(b, str...), 0)
				continue
			}
			if size == 0 {
				size = len(str)
			}
			if len(str) < size {
				L.ArgError(arg-1, "string too short")
			}
			b = append(b, str[:size]...)
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func structUnpack(L *lua.LState) int {
	s := &structFmt{L: L, f: L.CheckString(1), little: true, align: 1}
	data := L.CheckString(2)
	pos := L.OptInt(3, 1) - 1
	if pos < 0 || pos > len(data) {
		L.ArgError(3, "offset must be 1 or greater")
	}
	n := 0
	var last float64
	for {
		c, size := s.next()
		if c == 0 {
			break
		}
		pos += s.pad(pos, size)
		if c != 's' && pos+size > len(data) {
			L.ArgError(2, "data string too short")
		}
		switch c {
		case 'x':
			pos++
			continue
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			buf := make([]byte, 8)
			var v uint64
			if s.little {
				copy(buf, data[pos:pos+size])
				v = binary.LittleEndian.Uint64(buf)
			} else {
				copy(buf[8-size:], data[pos:pos+size])
				v = binary.BigEndian.Uint64(buf)
			}
			signed := c == 'b' || c == 'h' || c == 'l' || c == 'i'
			if signed && size < 8 && v&(1<<(uint(size)*8-1)) != 0 {
				v |= ^uint64(0) << (uint(size) * 8)
			}
			if signed {
				last = float64(int64(v))
			} else {
				last = float64(v)
			}
			L.Push(lua.LNumber(last))
		case 'f':
			buf := []byte(data[pos : pos+4])
			if s.little {
				L.Push(lua.LNumber(math.Float32frombits(binary.LittleEndian.Uint32(buf))))
			} else {
				L.Push(lua.LNumber(math.Float32frombits(binary.BigEndian.Uint32(buf))))
			}
		case 'd':
			buf := []byte(data[pos : pos+8])
			if s.little {
				L.Push(lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(buf))))
			} else {
				L.Push(lua.LNumber(math.Float64frombits(binary.BigEndian.Uint64(buf))))
			}
		case 'c':
			if size == 0 {
				if n == 0 {
					L.ArgError(1, "format 'c0' needs a previous size")
				}
				L.Pop(1)
				n--
				size = int(last)
				if pos+size > len(data) {
					L.ArgError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
		case 's':
			end := pos
			for end < len(data) && data[end] != 0 {
				end++
			}
			if end >= len(data) {
				L.ArgError(2, "unfinished string in data")
			}
			L.Push(lua.LString(data[pos:end]))
			size = end - pos + 1
		}
		pos += size
		n++
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	s := &structFmt{L: L, f: L.CheckString(1), little: true, align: 1}
	total := 0
	for {
		c, size := s.next()
		if c == 0 {
			break
		}
		if c == 's' || c == 'c' && size == 0 {
			L.ArgError(1, "options 'c0' - 's' have undefined sizes")
		}
		total += s.pad(total, size) + size
	}
	L.Push(lua.LNumber(total))
	return 1
}
