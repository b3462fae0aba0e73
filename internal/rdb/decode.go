package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
)

// Error is a failure to read RDB data: what went wrong and where.
type Error struct {
	Offset int64 // byte offset in the file or payload
	Msg    string
	Err    error // underlying error (io.ErrUnexpectedEOF, ErrUnsupported...), may be nil
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return fmt.Sprintf("%v at offset %d", e.Err, e.Offset)
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %v at offset %d", e.Msg, e.Err, e.Offset)
	}
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrEmptyKey marks a value with no elements (Redis skips such keys when
// loading a file and refuses them in RESTORE).
var ErrEmptyKey = errors.New("empty key")

// maxString bounds one string (the keyspace stores int32 lengths).
const maxString = math.MaxInt32

// Decoder reads RDB data from a buffered reader, consuming exactly the
// bytes it parses (a file embedded in a longer stream, such as an AOF
// preamble, can be followed by other data).
type Decoder struct {
	r   *bufio.Reader
	off int64
	crc uint64
	sum bool // keep the checksum
	// Version is the RDB version from the header (Version for payloads).
	Version int
	// Limits are the encoding thresholds of the values made (nil: the
	// defaults); a loader sets its keyspace's.
	Limits *datatype.Limits
	buf    [16]byte
}

// NewDecoder returns a decoder on r.
func NewDecoder(r *bufio.Reader) *Decoder { return &Decoder{r: r, sum: true, Version: Version} }

// Offset returns the number of bytes consumed.
func (d *Decoder) Offset() int64 { return d.off }

func (d *Decoder) fail(off int64, msg string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &Error{Offset: off, Msg: msg, Err: err}
}

func (d *Decoder) read(p []byte) error {
	n, err := io.ReadFull(d.r, p)
	if d.sum {
		d.crc = CRC64(d.crc, p[:n])
	}
	d.off += int64(n)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return &Error{Offset: d.off, Err: err}
	}
	return nil
}

func (d *Decoder) byte() (byte, error) {
	c, err := d.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, &Error{Offset: d.off, Err: err}
	}
	if d.sum {
		d.crc = crcTable[0][byte(d.crc)^c] ^ d.crc>>8
	}
	d.off++
	return c, nil
}

// readLen reads a length; special reports an 11xxxxxx encoding byte
// (whose low 6 bits are returned).
func (d *Decoder) readLen() (n uint64, special bool, err error) {
	c, err := d.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		c2, err := d.byte()
		if err != nil {
			return 0, false, err
		}
		return uint64(c&0x3f)<<8 | uint64(c2), false, nil
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		if err := d.read(d.buf[:4]); err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(d.buf[:4])), false, nil
	case 0x81:
		if err := d.read(d.buf[:8]); err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(d.buf[:8]), false, nil
	}
	return 0, false, d.fail(d.off-1, fmt.Sprintf("unknown length encoding 0x%02x", c), nil)
}

// length reads a plain length (no string encodings allowed).
func (d *Decoder) length() (uint64, error) {
	off := d.off
	n, special, err := d.readLen()
	if err == nil && special {
		err = d.fail(off, "unexpected encoded string where a length belongs", nil)
	}
	return n, err
}

// count reads an element count, bounded to something that fits an int.
func (d *Decoder) count() (int, error) {
	off := d.off
	n, err := d.length()
	if err != nil {
		return 0, err
	}
	if n > 1<<40 {
		return 0, d.fail(off, fmt.Sprintf("implausible length %d", n), nil)
	}
	return int(n), nil
}

// bytesN reads n bytes into a new slice, growing it as data arrives so
// that a corrupt huge length cannot allocate more than the input holds.
func (d *Decoder) bytesN(n int) ([]byte, error) {
	const step = 1 << 20
	if n <= step {
		b := make([]byte, n)
		return b, d.read(b)
	}
	b := make([]byte, 0, step)
	for len(b) < n {
		k := min(n-len(b), step)
		if cap(b)-len(b) < k {
			nb := make([]byte, len(b), min(n, 2*cap(b)+k))
			copy(nb, b)
			b = nb
		}
		if err := d.read(b[len(b) : len(b)+k]); err != nil {
			return nil, err
		}
		b = b[:len(b)+k]
	}
	return b, nil
}

// String reads one string in any of its encodings.
func (d *Decoder) String() ([]byte, error) {
	off := d.off
	n, special, err := d.readLen()
	if err != nil {
		return nil, err
	}
	if !special {
		if n > maxString {
			return nil, d.fail(off, fmt.Sprintf("string length %d too large", n), nil)
		}
		return d.bytesN(int(n))
	}
	switch n {
	case encInt8:
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(c)), 10), nil
	case encInt16:
		if err := d.read(d.buf[:2]); err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(d.buf[:2]))), 10), nil
	case encInt32:
		if err := d.read(d.buf[:4]); err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(d.buf[:4]))), 10), nil
	case encLZF:
		clen, err := d.length()
		if err != nil {
			return nil, err
		}
		ulen, err := d.length()
		if err != nil {
			return nil, err
		}
		// One input byte expands to at most lzfMaxExp output bytes.
		if clen > maxString || ulen > maxString || ulen > clen*lzfMaxExp+64 || clen == 0 {
			return nil, d.fail(off, fmt.Sprintf("bad LZF lengths %d/%d", clen, ulen), nil)
		}
		c, err := d.bytesN(int(clen))
		if err != nil {
			return nil, err
		}
		out, err := lzfDecompress(c, int(ulen))
		if err != nil {
			return nil, d.fail(off, "invalid LZF compressed string", nil)
		}
		return out, nil
	}
	return nil, d.fail(off, fmt.Sprintf("unknown string encoding %d", n), nil)
}

// stringDouble reads a score in the old text form: a length byte (253 nan,
// 254 +inf, 255 -inf) and the text.
func (d *Decoder) stringDouble() (float64, error) {
	off := d.off
	c, err := d.byte()
	if err != nil {
		return 0, err
	}
	switch c {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	var text [255]byte
	if err := d.read(text[:c]); err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(text[:c]), 64)
	if err != nil && !isRangeErr(err) {
		return 0, d.fail(off, "invalid double", nil)
	}
	return f, nil
}

func (d *Decoder) binaryDouble() (float64, error) {
	if err := d.read(d.buf[:8]); err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(d.buf[:8])), nil
}

// Object reads a value of type t.
func (d *Decoder) Object(t byte) (*keyspace.Object, error) {
	off := d.off
	o, err := d.object(t)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		if errors.Is(err, ErrEmptyKey) {
			return nil, &Error{Offset: off, Err: ErrEmptyKey}
		}
		return nil, d.fail(off, fmt.Sprintf("invalid value of type %d", t), err)
	}
	return o, nil
}

func (d *Decoder) object(t byte) (*keyspace.Object, error) {
	switch t {
	case TypeString:
		s, err := d.String()
		if err != nil {
			return nil, err
		}
		return keyspace.NewString(s), nil
	case TypeList:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		l := datatype.NewList(d.Limits)
		for i := 0; i < n; i++ {
			s, err := d.String()
			if err != nil {
				return nil, err
			}
			l.PushBack(s)
		}
		return listObject(l)
	case TypeListQuicklist, TypeListQuicklist2:
		return d.quicklist(t == TypeListQuicklist2)
	case TypeListZiplist:
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		l := datatype.NewList(d.Limits)
		if _, err := walkZiplist(b, func(s []byte, i int64) error { l.PushBack(elemBytes(s, i)); return nil }); err != nil {
			return nil, err
		}
		return listObject(l)
	case TypeSet:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		s := datatype.NewSet(d.Limits)
		for i := 0; i < n; i++ {
			m, err := d.String()
			if err != nil {
				return nil, err
			}
			if !s.Add(m) {
				return nil, errors.New("duplicate set member")
			}
		}
		return setObject(s)
	case TypeSetIntset:
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		s := datatype.NewSet(d.Limits)
		var buf [20]byte
		if _, err := walkIntset(b, func(v int64) error {
			s.Add(strconv.AppendInt(buf[:0], v, 10))
			return nil
		}); err != nil {
			return nil, err
		}
		return setObject(s)
	case TypeSetListpack:
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		s := datatype.NewSet(d.Limits)
		if _, err := walkListpack(b, func(m []byte, i int64) error {
			if !s.Add(elemBytes(m, i)) {
				return errors.New("duplicate set member")
			}
			return nil
		}); err != nil {
			return nil, err
		}
		return setObject(s)
	case TypeHash:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		h := datatype.NewHash(d.Limits)
		for i := 0; i < n; i++ {
			f, err := d.String()
			if err != nil {
				return nil, err
			}
			v, err := d.String()
			if err != nil {
				return nil, err
			}
			if !h.Set(f, v) {
				return nil, errors.New("duplicate hash field")
			}
		}
		return hashObject(h)
	case TypeHashZipmap:
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		h := datatype.NewHash(d.Limits)
		if _, err := walkZipmap(b, func(f, v []byte) error {
			if !h.Set(f, v) {
				return errors.New("duplicate hash field")
			}
			return nil
		}); err != nil {
			return nil, err
		}
		return hashObject(h)
	case TypeHashZiplist, TypeHashListpack:
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		h := datatype.NewHash(d.Limits)
		var field []byte
		walk := walkListpack
		if t == TypeHashZiplist {
			walk = walkZiplist
		}
		n, err := walk(b, func(s []byte, i int64) error {
			if field == nil {
				field = elemBytes(s, i)
				return nil
			}
			if !h.Set(field, elemBytes(s, i)) {
				return errors.New("duplicate hash field")
			}
			field = nil
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n%2 != 0 {
			return nil, errors.New("odd element count in hash")
		}
		return hashObject(h)
	case TypeZSet, TypeZSet2:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		entries := make([]datatype.ZEntry, 0, min(n, 4096))
		for i := 0; i < n; i++ {
			m, err := d.String()
			if err != nil {
				return nil, err
			}
			var f float64
			if t == TypeZSet2 {
				f, err = d.binaryDouble()
			} else {
				f, err = d.stringDouble()
			}
			if err != nil {
				return nil, err
			}
			entries = append(entries, datatype.ZEntry{Member: string(m), Score: f})
		}
		return zsetObject(d.Limits, entries)
	case TypeZSetZiplist, TypeZSetListpack:
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		var entries []datatype.ZEntry
		var member []byte
		walk := walkListpack
		if t == TypeZSetZiplist {
			walk = walkZiplist
		}
		n, err := walk(b, func(s []byte, i int64) error {
			if member == nil {
				member = elemBytes(s, i)
				return nil
			}
			f := float64(i)
			if s != nil {
				var err error
				f, err = strconv.ParseFloat(string(s), 64)
				if err != nil && !isRangeErr(err) {
					return errors.New("invalid score")
				}
			}
			entries = append(entries, datatype.ZEntry{Member: string(member), Score: f})
			member = nil
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n%2 != 0 {
			return nil, errors.New("odd element count in sorted set")
		}
		return zsetObject(d.Limits, entries)
	case TypeModule, TypeModule2:
		return nil, fmt.Errorf("%w: module value", ErrUnsupported)
	case TypeStreamListpacks, TypeStreamListpack2, TypeStreamListpack3:
		return d.stream(t)
	}
	return nil, fmt.Errorf("unknown value type %d", t)
}

func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

func (d *Decoder) quicklist(v2 bool) (*keyspace.Object, error) {
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	l := datatype.NewList(d.Limits)
	push := func(s []byte, i int64) error { l.PushBack(elemBytes(s, i)); return nil }
	for i := 0; i < n; i++ {
		container := uint64(qlPacked)
		if v2 {
			off := d.off
			container, err = d.length()
			if err != nil {
				return nil, err
			}
			if container != qlPlain && container != qlPacked {
				return nil, d.fail(off, fmt.Sprintf("unknown quicklist container %d", container), nil)
			}
		}
		off := d.off
		b, err := d.String()
		if err != nil {
			return nil, err
		}
		if container == qlPlain {
			l.PushBack(b)
			continue
		}
		walk := walkListpack
		if !v2 {
			walk = walkZiplist
		}
		if _, err := walk(b, push); err != nil {
			return nil, d.fail(off, "invalid quicklist node", err)
		}
	}
	return listObject(l)
}

func listObject(l *datatype.List) (*keyspace.Object, error) {
	if l.Len() == 0 {
		return nil, ErrEmptyKey
	}
	return keyspace.NewList(l), nil
}

func setObject(s *datatype.Set) (*keyspace.Object, error) {
	if s.Len() == 0 {
		return nil, ErrEmptyKey
	}
	return keyspace.NewSet(s), nil
}

func hashObject(h *datatype.Hash) (*keyspace.Object, error) {
	if h.Len() == 0 {
		return nil, ErrEmptyKey
	}
	return keyspace.NewHash(h), nil
}

func zsetObject(lim *datatype.Limits, entries []datatype.ZEntry) (*keyspace.Object, error) {
	if len(entries) == 0 {
		return nil, ErrEmptyKey
	}
	seen := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		if math.IsNaN(e.Score) {
			return nil, errors.New("NaN score")
		}
		if _, dup := seen[e.Member]; dup {
			return nil, errors.New("duplicate sorted set member")
		}
		seen[e.Member] = struct{}{}
	}
	return keyspace.NewZSet(datatype.BuildZSet(lim, entries)), nil
}

// Entry is one key read from a file.
type Entry struct {
	DB     int
	Key    []byte
	Obj    *keyspace.Object // expiry already set on it
	Expire int64            // unix ms, 0 = none
	Idle   int64            // seconds idle (IDLE opcode), -1 = not given
	Freq   int              // LFU counter (FREQ opcode), -1 = not given
}

// Handler receives what a file holds. Nil funcs are skipped.
type Handler struct {
	Aux      func(key, val []byte) error
	SelectDB func(db int) error
	ResizeDB func(size, expires uint64) error
	// Entry receives each key. Returning an error stops the load.
	Entry    func(e *Entry) error
	Function func(code []byte) error
	// EmptyKey is called for a key whose value has no elements (skipped).
	EmptyKey func(key []byte)
}

// Info summarizes a file read by Load.
type Info struct {
	Version  int
	Keys     int64
	Expires  int64
	Checksum uint64 // as stored (0 = written without one)
	Bytes    int64  // bytes consumed, checksum included
}

// Load reads a whole RDB file, calling h for what it holds, and verifies
// the checksum. It consumes the input up to and including the checksum.
func (d *Decoder) Load(h Handler) (Info, error) {
	var info Info
	if err := d.read(d.buf[:9]); err != nil {
		return info, d.fail(0, "truncated header", io.ErrUnexpectedEOF)
	}
	if !bytes.Equal(d.buf[:5], []byte("REDIS")) {
		return info, d.fail(0, "wrong signature trying to load DB from file", nil)
	}
	ver, err := strconv.Atoi(string(d.buf[5:9]))
	if err != nil || ver < 1 || ver > Version {
		return info, d.fail(5, fmt.Sprintf("can't handle RDB format version %s", d.buf[5:9]), nil)
	}
	d.Version, info.Version = ver, ver
	db := 0
	expire, idle, freq := int64(0), int64(-1), -1
	for {
		off := d.off
		t, err := d.byte()
		if err != nil {
			return info, err
		}
		switch t {
		case opExpireMS:
			if err := d.read(d.buf[:8]); err != nil {
				return info, err
			}
			expire = int64(binary.LittleEndian.Uint64(d.buf[:8]))
			continue
		case opExpireSec:
			if err := d.read(d.buf[:4]); err != nil {
				return info, err
			}
			expire = int64(int32(binary.LittleEndian.Uint32(d.buf[:4]))) * 1000
			continue
		case opIdle:
			v, err := d.length()
			if err != nil {
				return info, err
			}
			idle = int64(min(v, math.MaxInt64))
			continue
		case opFreq:
			c, err := d.byte()
			if err != nil {
				return info, err
			}
			freq = int(c)
			continue
		case opEOF:
			info.Bytes = d.off
			if ver >= 5 {
				want := d.crc
				d.sum = false
				if err := d.read(d.buf[:8]); err != nil {
					return info, d.fail(d.off, "truncated checksum", io.ErrUnexpectedEOF)
				}
				got := binary.LittleEndian.Uint64(d.buf[:8])
				info.Checksum = got
				info.Bytes = d.off
				if got != 0 && got != want {
					return info, d.fail(off+1, fmt.Sprintf("wrong RDB checksum expected: (%016x) got (%016x)", got, want), nil)
				}
			}
			return info, nil
		case opSelectDB:
			n, err := d.length()
			if err != nil {
				return info, err
			}
			if n > math.MaxInt32 {
				return info, d.fail(off, fmt.Sprintf("invalid database number %d", n), nil)
			}
			db = int(n)
			if h.SelectDB != nil {
				if err := h.SelectDB(db); err != nil {
					return info, d.fail(off, "SELECTDB", err)
				}
			}
			continue
		case opResizeDB:
			a, err := d.length()
			if err != nil {
				return info, err
			}
			b, err := d.length()
			if err != nil {
				return info, err
			}
			if h.ResizeDB != nil {
				if err := h.ResizeDB(a, b); err != nil {
					return info, d.fail(off, "RESIZEDB", err)
				}
			}
			continue
		case opAux:
			k, err := d.String()
			if err != nil {
				return info, err
			}
			v, err := d.String()
			if err != nil {
				return info, err
			}
			if h.Aux != nil {
				if err := h.Aux(k, v); err != nil {
					return info, d.fail(off, "AUX", err)
				}
			}
			continue
		case opFunction2:
			code, err := d.String()
			if err != nil {
				return info, err
			}
			if h.Function != nil {
				if err := h.Function(code); err != nil {
					return info, d.fail(off, "FUNCTION", err)
				}
			}
			continue
		case opFunctionPre:
			return info, d.fail(off, "pre-release function format not supported", nil)
		case opModuleAux:
			return info, d.fail(off, "module auxiliary data", ErrUnsupported)
		}
		// A key.
		key, err := d.String()
		if err != nil {
			return info, err
		}
		o, err := d.Object(t)
		if err != nil {
			if errors.Is(err, ErrEmptyKey) {
				if h.EmptyKey != nil {
					h.EmptyKey(key)
				}
				expire, idle, freq = 0, -1, -1
				continue
			}
			var e *Error
			if errors.As(err, &e) && e.Msg == "" && e.Err != nil {
				e.Msg = fmt.Sprintf("reading key %q", truncKey(key))
			} else if errors.As(err, &e) {
				e.Msg = fmt.Sprintf("key %q: %s", truncKey(key), e.Msg)
			}
			return info, err
		}
		if expire != 0 {
			o.SetExpire(expire)
			info.Expires++
		}
		info.Keys++
		if h.Entry != nil {
			e := Entry{DB: db, Key: key, Obj: o, Expire: expire, Idle: idle, Freq: freq}
			if err := h.Entry(&e); err != nil {
				return info, d.fail(off, fmt.Sprintf("key %q", truncKey(key)), err)
			}
		}
		expire, idle, freq = 0, -1, -1
	}
}

func truncKey(k []byte) string {
	if len(k) > 64 {
		return string(k[:64]) + "..."
	}
	return string(k)
}
