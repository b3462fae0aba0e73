package datatype

import (
	"encoding/binary"
	"slices"
	"sort"
)

// Stream is a Redis stream: entries (an ID and field-value pairs) in ID
// order, plus consumer groups (stream_group.go).
//
// The entries live in blocks, kept in a slice sorted by ID, as Redis keeps
// listpacks in a radix tree. A block holds the entries from its master ID
// up to the next block's master ID, packed in one byte slice:
//
//	header: uvarint nfields, then each master field as uvarint length + bytes
//	entry:  flags byte (entryDeleted, entrySameFields)
//	        uvarint ms - master.Ms, uvarint seq
//	        sameFields: the values only, each uvarint length + bytes
//	        otherwise:  uvarint npairs, then field, value, field, value...
//
// The master fields are the fields of the block's first entry; an entry
// with exactly those fields stores only its values (Redis's SAMEFIELDS).
// XDEL and exact trimming mark entries deleted in place; a block whose
// entries are all deleted is dropped. A new block starts when the last
// one would reach stream-node-max-bytes (measured as the size Redis's
// listpack for it would have, so blocks split where Redis's nodes do and
// approximate trimming removes the same entries) or holds
// stream-node-max-entries entries.
//
// Slices handed to callbacks alias the stream's storage and are valid
// until the next change. A Stream is not safe for concurrent use.
type Stream struct {
	lim    *Limits
	blocks []*sblock
	length uint64

	// LastID is the largest ID ever added (or set by XSETID).
	LastID StreamID
	// FirstID is the first live entry's ID, 0-0 when empty.
	FirstID StreamID
	// MaxDeletedID is the largest ID deleted by XDEL (not by trimming).
	MaxDeletedID StreamID
	// EntriesAdded counts every entry ever added.
	EntriesAdded uint64

	groups []*StreamGroup // sorted by name
}

// Entry flags.
const (
	entryDeleted    = 1
	entrySameFields = 2
)

// sblock is one block of entries.
type sblock struct {
	master  StreamID // the ID the entries are delta-encoded against
	last    StreamID // the last entry's ID, deleted or not
	data    []byte
	hdr     int // length of the master fields header in data
	nfld    int // master field count
	live    int // entries not deleted
	dead    int // entries marked deleted
	lpSize  int // Redis's listpack size of the entries (header excluded)
	lpHead  int // Redis's listpack size of the master fields part
	lastOff int // offset of the last entry
}

// NewStream returns an empty stream whose blocks follow lim's
// stream-node-max-bytes and -entries (nil: defaults).
func NewStream(lim *Limits) *Stream { return &Stream{lim: lim} }

// Len returns the number of entries.
func (s *Stream) Len() uint64 { return s.length }

// Blocks returns the number of blocks (Redis's radix tree nodes).
func (s *Stream) Blocks() int { return len(s.blocks) }

// lpBytes is the size of Redis's listpack for b.
func (b *sblock) lpBytes() int {
	return 7 + lpIntSize(int64(b.live)) + lpIntSize(int64(b.dead)) + b.lpHead + b.lpSize
}

// Add appends an entry. id must be greater than LastID; fv holds
// field, value, field, value... (copied).
func (s *Stream) Add(id StreamID, fv [][]byte) {
	var b *sblock
	if n := len(s.blocks); n > 0 {
		b = s.blocks[n-1]
		if s.blockFull(b, fv) {
			if cap(b.data) > len(b.data) { // a sealed block keeps no spare room
				b.data = append([]byte(nil), b.data...)
			}
			b = nil
		}
	}
	if b == nil {
		b = newBlock(id, fv)
		s.blocks = append(s.blocks, b)
	}
	b.append(id, fv)
	if s.length == 0 {
		s.FirstID = id
	}
	s.length++
	s.LastID = id
	s.EntriesAdded++
}

// blockFull says whether an entry of fv must start a new block
// (streamAppendItem's rule).
func (s *Stream) blockFull(b *sblock, fv [][]byte) bool {
	maxBytes := s.lim.Get(StreamNodeMaxBytes)
	if maxBytes <= 0 || maxBytes > 1<<30 {
		maxBytes = 1 << 30
	}
	total := 0
	for _, x := range fv {
		total += len(x)
	}
	if b.lpBytes()+total >= maxBytes {
		return true
	}
	maxEntries := s.lim.Get(StreamNodeMaxEntries)
	return maxEntries > 0 && b.live+b.dead >= maxEntries
}

func newBlock(id StreamID, fv [][]byte) *sblock {
	b := &sblock{master: id, nfld: len(fv) / 2}
	b.data = binary.AppendUvarint(b.data, uint64(b.nfld))
	b.lpHead = lpIntSize(int64(b.nfld)) + lpIntSize(0)
	for i := 0; i < len(fv); i += 2 {
		b.data = appendBytes(b.data, fv[i])
		b.lpHead += lpStrSize(fv[i])
	}
	b.hdr = len(b.data)
	return b
}

func appendBytes(dst, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// sameFields reports whether fv's fields are the block's master fields.
func (b *sblock) sameFields(fv [][]byte) bool {
	if len(fv)/2 != b.nfld {
		return false
	}
	off := uvarintSkip(b.data, 0)
	for i := 0; i < len(fv); i += 2 {
		var f []byte
		f, off = readBytes(b.data, off)
		if string(f) != string(fv[i]) {
			return false
		}
	}
	return true
}

func (b *sblock) append(id StreamID, fv [][]byte) {
	same := b.sameFields(fv)
	flags := byte(0)
	if same {
		flags = entrySameFields
	}
	msDelta := id.Ms - b.master.Ms
	b.lastOff = len(b.data)
	b.data = append(b.data, flags)
	b.data = binary.AppendUvarint(b.data, msDelta)
	b.data = binary.AppendUvarint(b.data, id.Seq)
	// Redis's entry: flags, ms-diff, seq-diff, [num-fields, fields],
	// values, lp-count.
	lp := lpIntSize(int64(flags)) + lpIntSize(int64(msDelta)) + lpIntSize(int64(id.Seq-b.master.Seq))
	elems := len(fv) / 2
	if same {
		for i := 1; i < len(fv); i += 2 {
			b.data = appendBytes(b.data, fv[i])
			lp += lpStrSize(fv[i])
		}
		elems += 3
	} else {
		b.data = binary.AppendUvarint(b.data, uint64(len(fv)/2))
		lp += lpIntSize(int64(len(fv) / 2))
		for _, x := range fv {
			b.data = appendBytes(b.data, x)
			lp += lpStrSize(x)
		}
		elems = len(fv) + 4
	}
	lp += lpIntSize(int64(elems))
	b.lpSize += lp
	b.live++
	b.last = id
}

func uvarintSkip(b []byte, off int) int {
	for b[off] >= 0x80 {
		off++
	}
	return off + 1
}

func readUvarint(b []byte, off int) (uint64, int) {
	v, n := binary.Uvarint(b[off:])
	return v, off + n
}

func readBytes(b []byte, off int) ([]byte, int) {
	n, off := readUvarint(b, off)
	return b[off : off+int(n)], off + int(n)
}

// entry is one decoded entry of a block.
type entry struct {
	off   int // offset of the flags byte
	next  int // offset of the next entry
	flags byte
	id    StreamID
}

// decode reads the entry at off; when fv is non-nil its field-value
// pairs are appended to *fv.
func (b *sblock) decode(off int, fv *[][]byte) entry {
	e := entry{off: off, flags: b.data[off]}
	off++
	var ms, seq uint64
	ms, off = readUvarint(b.data, off)
	seq, off = readUvarint(b.data, off)
	e.id = StreamID{b.master.Ms + ms, seq}
	if e.flags&entrySameFields != 0 {
		foff := uvarintSkip(b.data, 0)
		for range b.nfld {
			var f, v []byte
			f, foff = readBytes(b.data, foff)
			v, off = readBytes(b.data, off)
			if fv != nil {
				*fv = append(*fv, f, v)
			}
		}
	} else {
		var n uint64
		n, off = readUvarint(b.data, off)
		for range 2 * n {
			var x []byte
			x, off = readBytes(b.data, off)
			if fv != nil {
				*fv = append(*fv, x)
			}
		}
	}
	e.next = off
	return e
}

// offsets returns the offsets of every entry of the block.
func (b *sblock) offsets() []int {
	out := make([]int, 0, b.live+b.dead)
	for off := b.hdr; off < len(b.data); {
		out = append(out, off)
		off = b.decode(off, nil).next
	}
	return out
}

// blockFor returns the index of the block that would hold id: the last
// block whose master is <= id (-1 when id is before every block).
func (s *Stream) blockFor(id StreamID) int {
	i := sort.Search(len(s.blocks), func(i int) bool { return id.Less(s.blocks[i].master) })
	return i - 1
}

// Range calls fn for each live entry with start <= ID <= end, in order
// (reverse order when rev), until fn returns false. fv holds field, value,
// field, value... and is reused between calls.
func (s *Stream) Range(start, end StreamID, rev bool, fn func(id StreamID, fv [][]byte) bool) {
	if end.Less(start) {
		return
	}
	var fv [][]byte
	if !rev {
		i := max(s.blockFor(start), 0)
		for ; i < len(s.blocks); i++ {
			b := s.blocks[i]
			if end.Less(b.master) {
				return
			}
			for off := b.hdr; off < len(b.data); {
				fv = fv[:0]
				e := b.decode(off, &fv)
				off = e.next
				if e.flags&entryDeleted != 0 || e.id.Less(start) {
					continue
				}
				if end.Less(e.id) || !fn(e.id, fv) {
					return
				}
			}
		}
		return
	}
	for i := s.blockFor(end); i >= 0; i-- {
		b := s.blocks[i]
		if b.last.Less(start) {
			return
		}
		offs := b.offsets()
		for k := len(offs) - 1; k >= 0; k-- {
			fv = fv[:0]
			e := b.decode(offs[k], &fv)
			if e.flags&entryDeleted != 0 || end.Less(e.id) {
				continue
			}
			if e.id.Less(start) || !fn(e.id, fv) {
				return
			}
		}
	}
}

// Get returns the fields of the live entry id (aliasing storage).
func (s *Stream) Get(id StreamID) ([][]byte, bool) {
	var out [][]byte
	found := false
	s.Range(id, id, false, func(_ StreamID, fv [][]byte) bool {
		out, found = append(out, fv...), true
		return false
	})
	return out, found
}

// First returns the first live entry's ID (false when empty).
func (s *Stream) First() (StreamID, bool) {
	var id StreamID
	ok := false
	s.Range(StreamID{}, MaxStreamID, false, func(x StreamID, _ [][]byte) bool { id, ok = x, true; return false })
	return id, ok
}

// Last returns the last live entry's ID (false when empty).
func (s *Stream) Last() (StreamID, bool) {
	var id StreamID
	ok := false
	s.Range(StreamID{}, MaxStreamID, true, func(x StreamID, _ [][]byte) bool { id, ok = x, true; return false })
	return id, ok
}

// markDeleted marks the entry at off of block i deleted, dropping the
// block when it has no live entry left.
func (s *Stream) markDeleted(i int, off int) {
	b := s.blocks[i]
	b.data[off] |= entryDeleted
	b.live--
	b.dead++
	s.length--
	if b.live == 0 {
		s.blocks = slices.Delete(s.blocks, i, i+1)
	}
}

// Delete deletes the live entry id (XDEL), reporting whether it existed.
// It updates MaxDeletedID and FirstID.
func (s *Stream) Delete(id StreamID) bool {
	i := s.blockFor(id)
	if i < 0 || s.blocks[i].last.Less(id) {
		return false
	}
	b := s.blocks[i]
	for off := b.hdr; off < len(b.data); {
		e := b.decode(off, nil)
		if e.id == id {
			if e.flags&entryDeleted != 0 {
				return false
			}
			s.markDeleted(i, off)
			if s.MaxDeletedID.Less(id) {
				s.MaxDeletedID = id
			}
			s.fixFirst()
			return true
		}
		if id.Less(e.id) {
			return false
		}
		off = e.next
	}
	return false
}

func (s *Stream) fixFirst() {
	if s.length == 0 {
		s.FirstID = StreamID{}
		return
	}
	s.FirstID, _ = s.First()
}

// TrimArgs say how to trim: by length (MaxLen) or by minimum ID (MinID),
// approximately (whole blocks only) and with at most Limit entries
// deleted (0 = no limit).
type TrimArgs struct {
	ByMinID bool
	MaxLen  uint64
	MinID   StreamID
	Approx  bool
	Limit   int64
}

// Trim deletes entries from the start as args say (streamTrim) and
// returns how many it deleted.
func (s *Stream) Trim(a TrimArgs) int64 {
	var deleted int64
	for len(s.blocks) > 0 {
		if !a.ByMinID && s.length <= a.MaxLen {
			break
		}
		b := s.blocks[0]
		entries := int64(b.live)
		if a.Limit != 0 && deleted+entries > a.Limit {
			break
		}
		var remove bool
		if a.ByMinID {
			remove = b.last.Less(a.MinID)
		} else {
			remove = s.length-uint64(entries) >= a.MaxLen
		}
		if remove {
			s.blocks = slices.Delete(s.blocks, 0, 1)
			s.length -= uint64(entries)
			deleted += entries
			continue
		}
		if a.Approx {
			break
		}
		deleted += s.trimInBlock(a)
		break
	}
	s.fixFirst()
	return deleted
}

// trimInBlock marks entries of the first block deleted until the trim
// condition stops it; the block keeps at least one live entry.
func (s *Stream) trimInBlock(a TrimArgs) int64 {
	b := s.blocks[0]
	var n int64
	for off := b.hdr; off < len(b.data); {
		e := b.decode(off, nil)
		if a.ByMinID && !e.id.Less(a.MinID) || !a.ByMinID && s.length <= a.MaxLen {
			break
		}
		if e.flags&entryDeleted == 0 {
			b.data[off] |= entryDeleted
			b.live--
			b.dead++
			s.length--
			n++
		}
		off = e.next
	}
	return n
}

// Clone returns a deep copy (entries, groups, consumers, PELs).
func (s *Stream) Clone() *Stream {
	c := *s
	c.blocks = make([]*sblock, len(s.blocks))
	for i, b := range s.blocks {
		nb := *b
		nb.data = append([]byte(nil), b.data...)
		c.blocks[i] = &nb
	}
	c.groups = nil
	for _, g := range s.groups {
		c.groups = append(c.groups, g.clone())
	}
	return &c
}

// MemoryUsage estimates the bytes the stream uses.
func (s *Stream) MemoryUsage() int {
	n := 96 + 8*cap(s.blocks)
	for _, b := range s.blocks {
		n += 96 + cap(b.data)
	}
	for _, g := range s.groups {
		n += g.memoryUsage()
	}
	return n
}

// lpIntSize is the size of an integer element in a listpack (encoding
// and back-length).
func lpIntSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 2
	case v >= -4096 && v <= 4095:
		return 3
	case v >= -32768 && v <= 32767:
		return 4
	case v >= -8388608 && v <= 8388607:
		return 5
	case v >= -2147483648 && v <= 2147483647:
		return 6
	}
	return 10
}

// lpStrSize is the size of a string element in a listpack: strings that
// read as integers are stored as integers, as lpAppend does.
func lpStrSize(v []byte) int {
	if len(v) <= 20 {
		if i, ok := parseLL(v); ok {
			return lpIntSize(i)
		}
	}
	var enc int
	switch n := len(v); {
	case n < 64:
		enc = 1 + n
	case n < 4096:
		enc = 2 + n
	default:
		enc = 5 + n
	}
	return enc + lpBacklenSize(enc)
}

func lpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// RaxNodes is the number of nodes Redis's radix tree of the blocks'
// master IDs (16-byte big-endian keys) has, as XINFO STREAM reports
// radix-tree-nodes: a compressed trie, one node for the head.
func (s *Stream) RaxNodes() int {
	if len(s.blocks) == 0 {
		return 1
	}
	keys := make([][16]byte, len(s.blocks))
	for i, b := range s.blocks {
		binary.BigEndian.PutUint64(keys[i][:8], b.master.Ms)
		binary.BigEndian.PutUint64(keys[i][8:], b.master.Seq)
	}
	return raxCount(keys, 0)
}

// raxCount counts the nodes below depth d of sorted keys sharing their
// first d bytes.
func raxCount(keys [][16]byte, d int) int {
	if d == 16 {
		return 1
	}
	first, last := keys[0], keys[len(keys)-1]
	l := d
	for l < 16 && first[l] == last[l] {
		l++
	}
	if l > d {
		return 1 + raxCount(keys, l)
	}
	n := 1
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j][d] == keys[i][d] {
			j++
		}
		n += raxCount(keys[i:j], d+1)
		i = j
	}
	return n
}

// ApproxMemory is MemoryUsage with the blocks sampled at both ends, in
// time independent of the stream's length (for the maxmemory accounting,
// which measures after every write).
func (s *Stream) ApproxMemory() int {
	nb := len(s.blocks)
	if nb <= 8 {
		return s.MemoryUsage()
	}
	sum := 0
	for i := 0; i < 4; i++ {
		sum += cap(s.blocks[i].data) + cap(s.blocks[nb-1-i].data)
	}
	n := 96 + 8*cap(s.blocks) + nb*96 + sum*nb/8
	for _, g := range s.groups {
		n += g.memoryUsage()
	}
	return n
}
