package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"sync"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
)

// DUMP payloads: the value's type byte and encoding, then the RDB version
// (2 bytes LE) and a CRC-64 of everything before it (8 bytes LE).

// Dump serializes o as DUMP does.
func Dump(o *keyspace.Object, compress bool) ([]byte, error) {
	return AppendDump(make([]byte, 0, 64), o, compress)
}

// AppendDump appends o's DUMP payload to b (a reused buffer: a slot
// migration dumps every key of its slots).
func AppendDump(b []byte, o *keyspace.Object, compress bool) ([]byte, error) {
	start := len(b)
	b, err := AppendObject(b, o, compress)
	if err != nil {
		return b[:start], err
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b[start:])), nil
}

// ErrBadPayload is a payload with a newer RDB version or a wrong checksum.
var ErrBadPayload = errors.New("DUMP payload version or checksum are wrong")

// VerifyDump checks a payload's version and checksum (Redis's
// verifyDumpPayload).
func VerifyDump(p []byte) error {
	if len(p) < 10 {
		return ErrBadPayload
	}
	footer := p[len(p)-10:]
	if int(binary.LittleEndian.Uint16(footer)) > Version {
		return ErrBadPayload
	}
	if CRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return ErrBadPayload
	}
	return nil
}

// restorer is the reusable reading state of Restore.
type restorer struct {
	src bytes.Reader
	br  *bufio.Reader
	d   Decoder
}

var restorers = sync.Pool{New: func() any {
	r := &restorer{}
	r.br = bufio.NewReaderSize(&r.src, 16)
	return r
}}

// Restore decodes a payload into a value encoded by lim's thresholds
// (nil: defaults). The whole body must be consumed by the value. A wrong
// version or checksum is ErrBadPayload (VerifyDump's check, done here).
func Restore(p []byte, lim *datatype.Limits) (*keyspace.Object, error) {
	if err := VerifyDump(p); err != nil {
		return nil, err
	}
	r := restorers.Get().(*restorer)
	defer func() {
		r.src.Reset(nil)
		r.br.Reset(&r.src)
		r.d = Decoder{}
		restorers.Put(r)
	}()
	body := p[:len(p)-10]
	r.src.Reset(body)
	r.br.Reset(&r.src)
	r.d = Decoder{r: r.br, Version: Version, Limits: lim}
	d := &r.d
	t, err := d.byte()
	if err != nil {
		return nil, err
	}
	o, err := d.Object(t)
	if err != nil {
		return nil, err
	}
	if d.off != int64(len(body)) {
		return nil, &Error{Offset: d.off, Msg: "trailing bytes after the value"}
	}
	return o, nil
}

// RestoreBorrowed is Restore whose plain strings (stored as they are, no
// integer or LZF encoding) alias p instead of being copied
// (keyspace.NewStringCopy): the object must be stored, DB.Set copying
// it, before p is reused. A slot migration's target stores each key so,
// the key and a short value in one allocation. Other values are decoded
// as Restore decodes them.
func RestoreBorrowed(p []byte, lim *datatype.Limits) (*keyspace.Object, error) {
	v, ok := plainString(p)
	if !ok {
		return Restore(p, lim)
	}
	if err := VerifyDump(p); err != nil {
		return nil, err
	}
	return keyspace.NewStringCopy(v), nil
}

// plainString returns the bytes of a payload that holds one string
// stored as it is, with nothing after it (false for any other payload).
func plainString(p []byte) ([]byte, bool) {
	if len(p) < 12 || p[0] != TypeString {
		return nil, false
	}
	body := p[1 : len(p)-10]
	c := body[0]
	var n, h int
	switch {
	case c>>6 == 0:
		n, h = int(c&0x3f), 1
	case c>>6 == 1 && len(body) >= 2:
		n, h = int(c&0x3f)<<8|int(body[1]), 2
	case c == 0x80 && len(body) >= 5:
		n, h = int(binary.BigEndian.Uint32(body[1:5])), 5
	default:
		return nil, false
	}
	if h+n != len(body) {
		return nil, false
	}
	return body[h:], true
}
