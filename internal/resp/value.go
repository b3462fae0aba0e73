package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Value is a parsed reply of any RESP2/RESP3 type, for clients and tools.
// Type is the RESP type byte: '+', '-', ':', '$', '*', '%', '~', '>', '_',
// ',', '#', '=', '('. A null bulk or array in RESP2 has Null set.
type Value struct {
	Type  byte    `json:"t"`
	Str   string  `json:"s,omitempty"` // simple, error, bulk, verbatim, big number, double text
	Int   int64   `json:"i,omitempty"` // integer, boolean (0/1)
	Elems []Value `json:"e,omitempty"` // array, set, push; map as k1,v1,k2,v2...
	Null  bool    `json:"n,omitempty"`
}

// ReadValue reads one reply.
func ReadValue(r *bufio.Reader) (Value, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return Value{}, errors.New("resp: line too long")
		}
		return Value{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Value{}, fmt.Errorf("resp: malformed line %q", line)
	}
	t := line[0]
	body := string(line[1 : len(line)-2])
	v := Value{Type: t}
	switch t {
	case '+', '-', ',', '(':
		v.Str = body
	case ':':
		v.Int, err = strconv.ParseInt(body, 10, 64)
	case '#':
		v.Int = 0
		if body == "t" {
			v.Int = 1
		}
	case '_':
		v.Null = true
	case '$', '=', '!':
		n, e := strconv.Atoi(body)
		if e != nil {
			return v, e
		}
		if n < 0 {
			v.Null = true
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err = io.ReadFull(r, buf); err != nil {
			return v, err
		}
		v.Str = string(buf[:n])
	case '*', '~', '>', '%', '|':
		n, e := strconv.Atoi(body)
		if e != nil {
			return v, e
		}
		if n < 0 {
			v.Null = true
			return v, nil
		}
		if t == '%' || t == '|' {
			n *= 2
		}
		v.Elems = make([]Value, n)
		for i := range v.Elems {
			if v.Elems[i], err = ReadValue(r); err != nil {
				return v, err
			}
		}
		if t == '|' { // attribute: skip it, return the value that follows
			return ReadValue(r)
		}
	default:
		return v, fmt.Errorf("resp: unknown type %q", t)
	}
	return v, err
}

// Write encodes v with w's protocol (maps and sets degrade to arrays in RESP2).
func (v *Value) Write(w *Writer) {
	switch v.Type {
	case '+':
		w.Simple(v.Str)
	case '-':
		w.Error(v.Str)
	case ':':
		w.Int(v.Int)
	case '$':
		if v.Null {
			w.Null()
		} else {
			w.BulkString(v.Str)
		}
	case '_':
		w.Null()
	case '*':
		if v.Null {
			w.NullArray()
			return
		}
		w.Array(len(v.Elems))
		v.writeElems(w)
	case '~':
		w.Set(len(v.Elems))
		v.writeElems(w)
	case '>':
		w.Push(len(v.Elems))
		v.writeElems(w)
	case '%':
		w.Map(len(v.Elems) / 2)
		v.writeElems(w)
	case '#':
		w.Bool(v.Int != 0)
	case ',':
		f, _ := strconv.ParseFloat(v.Str, 64)
		w.Double(f)
	case '=':
		w.Verbatim(v.Str[min(4, len(v.Str)):], v.Str[:min(3, len(v.Str))])
	default:
		w.BulkString(v.Str)
	}
}

func (v *Value) writeElems(w *Writer) {
	for i := range v.Elems {
		v.Elems[i].Write(w)
	}
}

// String renders v for debugging.
func (v Value) String() string {
	switch v.Type {
	case '*', '~', '>', '%':
		s := "["
		for i, e := range v.Elems {
			if i > 0 {
				s += " "
			}
			s += e.String()
		}
		return s + "]"
	case ':', '#':
		return strconv.FormatInt(v.Int, 10)
	case '_':
		return "(nil)"
	}
	if v.Null {
		return "(nil)"
	}
	return strconv.Quote(v.Str)
}
