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
