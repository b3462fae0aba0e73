package datatype

import (
	"errors"
	"slices"
)

// Access to a stream's blocks for the RDB codec, which writes each block
// as one of Redis's listpack nodes and reads them back, so a stream keeps
// its node boundaries (and so XINFO and approximate trimming agree)
// through a save and load.

// StreamBlockEntry is one entry of a block: its ID, whether it is marked
// deleted, and its field-value pairs (aliasing the stream's storage).
type StreamBlockEntry struct {
	ID      StreamID
	Deleted bool
	FV      [][]byte
}

// StreamBlock is one block as a file stores it.
type StreamBlock struct {
	Master  StreamID
	Fields  [][]byte // the master fields
	Live    int
	Dead    int
	Entries []StreamBlockEntry
}

// ForEachBlock calls fn with each block in order until it returns false.
func (s *Stream) ForEachBlock(fn func(b *StreamBlock) bool) {
	for _, b := range s.blocks {
		sb := StreamBlock{Master: b.master, Live: b.live, Dead: b.dead}
		off := uvarintSkip(b.data, 0)
		for range b.nfld {
			var f []byte
			f, off = readBytes(b.data, off)
			sb.Fields = append(sb.Fields, f)
		}
		for off := b.hdr; off < len(b.data); {
			var fv [][]byte
			e := b.decode(off, &fv)
			sb.Entries = append(sb.Entries, StreamBlockEntry{ID: e.id, Deleted: e.flags&entryDeleted != 0, FV: fv})
			off = e.next
		}
		if !fn(&sb) {
			return
		}
	}
}

// SameFields reports whether an entry's fields are the block's master
// fields (Redis then stores only its values).
func (b *StreamBlock) SameFields(fv [][]byte) bool {
	if len(fv)/2 != len(b.Fields) {
		return false
	}
	for i, f := range b.Fields {
		if string(f) != string(fv[2*i]) {
			return false
		}
	}
	return true
}

// Errors of LoadBlock and FinishLoad.
var (
	ErrStreamBlockOrder = errors.New("stream blocks or entries out of order")
	ErrStreamLength     = errors.New("stream length does not match its entries")
)

// LoadBlock appends a block read from a file (copied). Its entries must
// follow every entry loaded before; a block whose entries are all
// deleted is dropped.
func (s *Stream) LoadBlock(b *StreamBlock) error {
	if len(b.Entries) == 0 {
		return ErrStreamBlockOrder
	}
	if n := len(s.blocks); n > 0 && !s.blocks[n-1].last.Less(b.Master) {
		return ErrStreamBlockOrder
	}
	fields := make([][]byte, 0, 2*len(b.Fields))
	for _, f := range b.Fields {
		fields = append(fields, f, nil)
	}
	nb := newBlock(b.Master, fields)
	prev := b.Master
	for i, e := range b.Entries {
		if e.ID.Less(b.Master) || i > 0 && !prev.Less(e.ID) {
			return ErrStreamBlockOrder
		}
		prev = e.ID
		nb.append(e.ID, e.FV)
		if e.Deleted {
			nb.data[nb.lastOff] |= entryDeleted
			nb.live--
			nb.dead++
		}
	}
	nb.data = slices.Clip(nb.data)
	if nb.live > 0 {
		s.blocks = append(s.blocks, nb)
		s.length += uint64(nb.live)
	}
	return nil
}

// FinishLoad sets the stream's metadata after its blocks were loaded,
// checking the length against the entries.
func (s *Stream) FinishLoad(length uint64, last, first, maxDeleted StreamID, entriesAdded uint64) error {
	if length != s.length {
		return ErrStreamLength
	}
	if n := len(s.blocks); n > 0 && last.Less(s.blocks[n-1].last) {
		return ErrStreamBlockOrder
	}
	s.LastID, s.MaxDeletedID, s.EntriesAdded = last, maxDeleted, entriesAdded
	s.FirstID = first
	if s.length == 0 {
		s.FirstID = StreamID{}
	} else if f, _ := s.First(); f != first {
		s.FirstID = f
	}
	return nil
}

// LoadGroup adds a group read from a file; nil when the name repeats.
func (s *Stream) LoadGroup(name []byte, last StreamID, entriesRead int64) *StreamGroup {
	return s.CreateGroup(name, last, entriesRead)
}
