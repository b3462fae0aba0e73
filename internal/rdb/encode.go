// Package rdb reads and writes Redis's RDB format, version 10 as written
// by Redis 7.0: whole snapshot files (dump.rdb) and the DUMP/RESTORE
// serialization of a single value.
//
// A file is the magic "REDIS0010", auxiliary fields, then for each
// non-empty database a SELECTDB and RESIZEDB opcode followed by its keys,
// then EOF and a CRC-64 of everything before it (8 bytes, little-endian).
// A key is optional EXPIRETIME_MS / IDLE / FREQ opcodes, a value type
// byte, the key as a string and the value in that type's encoding.
//
// Lengths are 1, 2, 5 or 9 bytes (00xxxxxx, 01xxxxxx xxxxxxxx,
// 0x80 + uint32 BE, 0x81 + uint64 BE). A string is a length and its bytes,
// or a "special" byte 11xxxxxx: an 8/16/32-bit integer (little-endian)
// to be read back as its decimal text, or an LZF-compressed blob
// (compressed length, original length, data).
//
// The writer produces what Redis 7.0 produces for the same data: lists as
// quicklists of listpacks, small hashes and sorted sets as one listpack,
// integer sets as an intset, larger ones as plain element lists (sorted
// sets with binary scores), streams as listpack nodes (stream.go). The reader also accepts the encodings older
// releases wrote (ziplists, zipmaps, quicklists of ziplists, string
// scores). Corrupt or truncated input gives an *Error with its offset;
// it never panics.
package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
)

// Version is the RDB version written (Redis 7.0's).
const Version = 10

// Value types.
const (
	TypeString          = 0
	TypeList            = 1
	TypeSet             = 2
	TypeZSet            = 3
	TypeHash            = 4
	TypeZSet2           = 5
	TypeModule          = 6
	TypeModule2         = 7
	TypeHashZipmap      = 9
	TypeListZiplist     = 10
	TypeSetIntset       = 11
	TypeZSetZiplist     = 12
	TypeHashZiplist     = 13
	TypeListQuicklist   = 14
	TypeStreamListpacks = 15
	TypeHashListpack    = 16
	TypeZSetListpack    = 17
	TypeListQuicklist2  = 18
	TypeStreamListpack2 = 19
	TypeSetListpack     = 20 // Redis 7.2; read only
	TypeStreamListpack3 = 21 // Redis 7.2
)

// Opcodes.
const (
	opFunction2   = 245
	opFunctionPre = 246
	opModuleAux   = 247
	opIdle        = 248
	opFreq        = 249
	opAux         = 250
	opResizeDB    = 251
	opExpireMS    = 252
	opExpireSec   = 253
	opSelectDB    = 254
	opEOF         = 255
)

// String encodings (after the 11 prefix bits).
const (
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Quicklist node containers.
const (
	qlPlain  = 1
	qlPacked = 2
)

// plainThreshold: list elements this large get a node of their own
// (Redis's packed_threshold default, 1 GB).
const plainThreshold = 1 << 30

// ErrUnsupported is returned for values redgo cannot hold (modules).
var ErrUnsupported = errors.New("unsupported value type")

// AppendLen appends an RDB length.
func AppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
	b = append(b, 0x81)
	return binary.BigEndian.AppendUint64(b, n)
}

// AppendString appends s as Redis's rdbSaveRawString does: as an integer
// when s is the canonical text of one that fits 32 bits, LZF-compressed
// when compress is set, s is longer than 20 bytes and compression saves
// at least 4 bytes; else as is.
func AppendString(b, s []byte, compress bool) []byte {
	return appendString(b, s, Comp{On: compress})
}

// Comp says how strings longer than 20 bytes are written: plain (On
// false), LZF-compressed now, or, when Spans is set, plain but recorded in
// Spans so that CompressDeferred compresses them later (a snapshot encodes
// under a shard lock and compresses after releasing it).
type Comp struct {
	On    bool
	Spans *[]Span
}

// Span locates a deferred string in an encoded buffer: its length prefix
// at Start, its bytes from Data to End.
type Span struct{ Start, Data, End int }

// CompressDeferred appends src to dst with the strings of spans (from a
// Comp with Spans, in order) LZF-compressed where Redis would compress.
func CompressDeferred(dst, src []byte, spans []Span) []byte {
	last := 0
	for _, sp := range spans {
		dst = append(dst, src[last:sp.Start]...)
		if out, ok := appendLZF(dst, src[sp.Data:sp.End]); ok {
			dst = out
		} else {
			dst = append(dst, src[sp.Start:sp.End]...)
		}
		last = sp.End
	}
	return append(dst, src[last:]...)
}

func appendString(b, s []byte, c Comp) []byte {
	if len(s) <= 11 {
		if v, ok := parseInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(b, 0xc0|encInt8, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				return append(b, 0xc0|encInt16, byte(v), byte(v>>8))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				return append(b, 0xc0|encInt32, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
			}
		}
	}
	if c.On && len(s) > 20 {
		if c.Spans != nil {
			start := len(b)
			b = AppendLen(b, uint64(len(s)))
			data := len(b)
			b = append(b, s...)
			*c.Spans = append(*c.Spans, Span{start, data, len(b)})
			return b
		}
		if out, ok := appendLZF(b, s); ok {
			return out
		}
	}
	b = AppendLen(b, uint64(len(s)))
	return append(b, s...)
}

// appendLZF appends s as an LZF blob if compression saves at least 4
// bytes (Redis's rule).
func appendLZF(b, s []byte) ([]byte, bool) {
	// Reserve the worst-case header (1 + 9 + 9) and compress after it,
	// then move the data down behind the real header.
	start := len(b)
	b = append(b, make([]byte, 19)...)
	out := lzfCompress(b, s, len(s)-4)
	if out == nil {
		return b[:start], false
	}
	data := out[start+19:]
	var hdr [19]byte
	h := append(hdr[:0], 0xc0|encLZF)
	h = AppendLen(h, uint64(len(data)))
	h = AppendLen(h, uint64(len(s)))
	n := copy(out[start:], h)
	copy(out[start+n:], data)
	return out[:start+n+len(data)], true
}

// appendStr is AppendString for a string (read through, not copied).
func appendStr(b []byte, s string, c Comp) []byte {
	return appendString(b, unsafe.Slice(unsafe.StringData(s), len(s)), c)
}

// AppendDouble appends a score in binary form (ZSET_2): IEEE 754 LE.
func appendBinaryDouble(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// FormatScore formats a score as Redis 7.0's d2string: integers in
// (-2^52, 2^52) as integers, else %.17g; "inf", "-inf", "nan"; "-0".
func FormatScore(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	case f > -4503599627370495 && f < 4503599627370496 && f == float64(int64(f)):
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// ObjectType returns the RDB type byte Redis 7.0 writes for o.
func ObjectType(o *keyspace.Object) (byte, error) {
	switch o.Type() {
	case keyspace.TString:
		return TypeString, nil
	case keyspace.TList:
		return TypeListQuicklist2, nil
	case keyspace.THash:
		if o.Hash().Encoding() == "listpack" {
			return TypeHashListpack, nil
		}
		return TypeHash, nil
	case keyspace.TSet:
		if o.Set().Encoding() == "intset" {
			return TypeSetIntset, nil
		}
		return TypeSet, nil
	case keyspace.TZSet:
		if o.ZSet().Encoding() == "listpack" {
			return TypeZSetListpack, nil
		}
		return TypeZSet2, nil
	case keyspace.TStream:
		return TypeStreamListpack2, nil
	}
	return 0, fmt.Errorf("%w: %s", ErrUnsupported, o.Type())
}

// AppendObject appends o's type byte and value.
func AppendObject(b []byte, o *keyspace.Object, compress bool) ([]byte, error) {
	t, err := ObjectType(o)
	if err != nil {
		return b, err
	}
	b = append(b, t)
	return appendValue(b, t, o, Comp{On: compress}), nil
}

// AppendValue appends o's value in encoding t (from ObjectType).
func AppendValue(b []byte, t byte, o *keyspace.Object, compress bool) []byte {
	return appendValue(b, t, o, Comp{On: compress})
}

func appendValue(b []byte, t byte, o *keyspace.Object, c Comp) []byte {
	switch t {
	case TypeString:
		return appendString(b, o.Bytes(), c)
	case TypeListQuicklist2:
		return appendQuicklist(b, o.List(), c)
	case TypeHashListpack:
		lp := newListpack(make([]byte, 0, 64))
		o.Hash().ForEach(func(f, v []byte) bool {
			lp.add(f)
			lp.add(v)
			return true
		})
		return appendString(b, lp.finish(), c)
	case TypeHash:
		h := o.Hash()
		b = AppendLen(b, uint64(h.Len()))
		h.ForEach(func(f, v []byte) bool {
			b = appendString(b, f, c)
			b = appendString(b, v, c)
			return true
		})
		return b
	case TypeSetIntset:
		s := o.Set()
		vals := make([]int64, 0, s.Len())
		s.ForEach(func(m []byte) bool {
			v, _ := parseInt(m)
			vals = append(vals, v)
			return true
		})
		return appendString(b, appendIntset(nil, vals), c)
	case TypeSet:
		s := o.Set()
		b = AppendLen(b, uint64(s.Len()))
		s.ForEach(func(m []byte) bool {
			b = appendString(b, m, c)
			return true
		})
		return b
	case TypeZSetListpack:
		lp := newListpack(make([]byte, 0, 64))
		var sb [32]byte
		o.ZSet().ForEach(func(e datatype.ZEntry) bool {
			lp.add([]byte(e.Member))
			lp.add(FormatScore(sb[:0], e.Score))
			return true
		})
		return appendString(b, lp.finish(), c)
	case TypeZSet2:
		z := o.ZSet()
		b = AppendLen(b, uint64(z.Len()))
		// Greatest first, as Redis writes them (cheaper to load).
		it := z.IterAt(z.Len()-1, true)
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			b = appendStr(b, e.Member, c)
			b = appendBinaryDouble(b, e.Score)
		}
		return b
	case TypeStreamListpack2:
		return appendStream(b, o.Stream(), c)
	}
	panic("rdb: bad value type")
}

// appendQuicklist writes a list as QUICKLIST_2: the node count, then per
// node its container and a listpack (or, for a huge element, the element
// itself), nodes filled as Redis fills them under list-max-listpack-size.
func appendQuicklist(b []byte, l *datatype.List, c Comp) []byte {
	maxBytes, maxEntries := 8192, 1<<31-1
	if f := l.Limits().Get(datatype.ListMaxListpackSize); f < 0 {
		if f < -5 {
			f = -5
		}
		maxBytes = 4096 << (-f - 1)
	} else if f > 0 {
		maxEntries = f
	} else {
		maxEntries = 1
	}
	type node struct {
		plain []byte
		lp    []byte
	}
	var nodes []node
	var cur listpack
	open := false
	closeNode := func() {
		if open {
			nodes = append(nodes, node{lp: cur.finish()})
			open = false
		}
	}
	for v := range l.All() {
		if len(v) >= plainThreshold {
			closeNode()
			nodes = append(nodes, node{plain: v})
			continue
		}
		// Redis's _quicklistNodeAllowInsert: the node's bytes plus the
		// element's length plus an 8-byte estimate of the entry overhead.
		if open {
			newSize := len(cur.b) + 1 + len(v) + 8
			if maxEntries < 1<<31-1 {
				if cur.n+1 > maxEntries || newSize > 8192 {
					closeNode()
				}
			} else if newSize > maxBytes {
				closeNode()
			}
		}
		if !open {
			cur = newListpack(make([]byte, 0, min(maxBytes, 7+lpEntrySize(v))))
			open = true
		}
		cur.add(v)
	}
	closeNode()
	b = AppendLen(b, uint64(len(nodes)))
	for _, nd := range nodes {
		if nd.plain != nil {
			b = AppendLen(b, qlPlain)
			b = appendString(b, nd.plain, c)
			continue
		}
		b = AppendLen(b, qlPacked)
		b = appendString(b, nd.lp, c)
	}
	return b
}

// EntryOptions are the per-key extras of a file entry.
type EntryOptions struct {
	Compress bool
	Deferred *[]Span // with Compress: record strings to compress later (see Comp)
	Idle     int64   // seconds since last access, written when >= 0 (LRU policies)
	Freq     int     // LFU counter, written when >= 0 (LFU policies)
}

// AppendEntry appends one key of a file: expiry, LRU/LFU, type, key, value.
func AppendEntry(b []byte, key string, o *keyspace.Object, opt EntryOptions) ([]byte, error) {
	t, err := ObjectType(o)
	if err != nil {
		return b, err
	}
	if e := o.Expire(); e != 0 {
		b = append(b, opExpireMS)
		b = binary.LittleEndian.AppendUint64(b, uint64(e))
	}
	if opt.Idle >= 0 {
		b = append(b, opIdle)
		b = AppendLen(b, uint64(opt.Idle))
	}
	if opt.Freq >= 0 {
		b = append(b, opFreq, byte(opt.Freq))
	}
	c := Comp{On: opt.Compress, Spans: opt.Deferred}
	b = append(b, t)
	b = appendStr(b, key, c)
	return appendValue(b, t, o, c), nil
}

// AppendSelectDB appends SELECTDB db.
func AppendSelectDB(b []byte, db int) []byte {
	return AppendLen(append(b, opSelectDB), uint64(db))
}

// AppendResizeDB appends the RESIZEDB hint (keys, keys with an expiry).
func AppendResizeDB(b []byte, size, expires int) []byte {
	b = AppendLen(append(b, opResizeDB), uint64(size))
	return AppendLen(b, uint64(expires))
}

// AppendFunction appends a function library (FUNCTION2 opcode).
func AppendFunction(b []byte, code []byte, compress bool) []byte {
	return appendString(append(b, opFunction2), code, Comp{On: compress})
}

// Aux is one auxiliary field of a file header.
type Aux struct{ Key, Val string }

// Writer writes an RDB file: the caller writes the header, then entries
// (whole encoded chunks from the Append functions) and closes it with
// Finish. It keeps the running checksum.
type Writer struct {
	w        io.Writer
	buf      []byte
	crc      uint64
	n        int64
	err      error
	Checksum bool // write the CRC-64 (rdbchecksum); else 8 zero bytes
}

// NewWriter returns a Writer on w with the checksum on.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, 256<<10), Checksum: true}
}

// Header writes the magic and the auxiliary fields.
func (w *Writer) Header(aux []Aux, compress bool) error {
	b := append(w.buf, fmt.Sprintf("REDIS%04d", Version)...)
	for _, a := range aux {
		b = append(b, opAux)
		b = appendStr(b, a.Key, Comp{On: compress})
		b = appendStr(b, a.Val, Comp{On: compress})
	}
	w.buf = b
	return w.flushIf()
}

// Write appends encoded bytes.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	return len(p), w.flushIf()
}

// Written returns the bytes written so far (buffered included).
func (w *Writer) Written() int64 { return w.n + int64(len(w.buf)) }

func (w *Writer) flushIf() error {
	if len(w.buf) >= 128<<10 {
		return w.flush()
	}
	return w.err
}

func (w *Writer) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	if w.Checksum {
		w.crc = CRC64(w.crc, w.buf)
	}
	n, err := w.w.Write(w.buf)
	w.n += int64(n)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return w.err
}

// Finish writes EOF and the checksum and flushes.
func (w *Writer) Finish() error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, opEOF)
	if err := w.flush(); err != nil {
		return err
	}
	var sum [8]byte
	if w.Checksum {
		binary.LittleEndian.PutUint64(sum[:], w.crc)
	}
	n, err := w.w.Write(sum[:])
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return w.err
}
