package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
)

// DUMP payloads: the value's type byte and encoding, then the RDB version
// (2 bytes LE) and a CRC-64 of everything before it (8 bytes LE).

// Dump serializes o as DUMP does.
func Dump(o *keyspace.Object, compress bool) ([]byte, error) {
	b, err := AppendObject(make([]byte, 0, 64), o, compress)
	if err != nil {
		return nil, err
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b)), nil
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

// Restore decodes a verified payload into a value encoded by lim's
// thresholds (nil: defaults). The whole body must be consumed by the value.
func Restore(p []byte, lim *datatype.Limits) (*keyspace.Object, error) {
	if err := VerifyDump(p); err != nil {
		return nil, err
	}
	body := p[:len(p)-10]
	d := NewDecoder(bufio.NewReaderSize(bytes.NewReader(body), 16))
	d.sum = false
	d.Limits = lim
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
