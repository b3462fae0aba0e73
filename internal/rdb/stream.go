package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
)

// Streams as Redis 7.0 writes them (RDB_TYPE_STREAM_LISTPACKS_2):
//
//	len   number of nodes; per node the master ID as a 16-byte big-endian
//	      string and the node as a listpack string:
//	        master entry: count, deleted, nfields, field..., 0
//	        per entry:    flags, ms-delta, seq-delta, [nfields, field...],
//	                      value..., lp-count
//	len   length, last ID ms, seq, first ID ms, seq, max deleted ID ms, seq,
//	      entries added
//	len   number of groups; per group its name, last ID ms, seq, entries
//	      read (-1 as 2^64-1), the PEL (len, then per entry the raw 16-byte
//	      ID, the delivery time as 8 bytes little-endian and the delivery
//	      count as a len) and the consumers (len, then per consumer its
//	      name, seen time as 8 bytes little-endian and its PEL: len and raw
//	      IDs)
//
// Type 15 (Redis 5-6) lacks the first ID, max deleted ID, entries added
// and entries read; type 21 (Redis 7.2) adds each consumer's active time.

// Stream entry flags in Redis's listpack.
const (
	lpFlagDeleted    = 1
	lpFlagSameFields = 2
)

func appendStream(b []byte, s *datatype.Stream, c Comp) []byte {
	b = AppendLen(b, uint64(s.Blocks()))
	s.ForEachBlock(func(blk *datatype.StreamBlock) bool {
		var key [16]byte
		putID(key[:], blk.Master)
		b = appendString(b, key[:], c)
		b = appendString(b, streamListpack(blk), c)
		return true
	})
	b = AppendLen(b, s.Len())
	for _, x := range []uint64{s.LastID.Ms, s.LastID.Seq, s.FirstID.Ms, s.FirstID.Seq,
		s.MaxDeletedID.Ms, s.MaxDeletedID.Seq, s.EntriesAdded} {
		b = AppendLen(b, x)
	}
	b = AppendLen(b, uint64(len(s.Groups())))
	for _, g := range s.Groups() {
		b = appendStr(b, g.Name, c)
		b = AppendLen(b, g.LastID.Ms)
		b = AppendLen(b, g.LastID.Seq)
		b = AppendLen(b, uint64(g.EntriesRead))
		b = AppendLen(b, uint64(g.PEL.Len()))
		for i := 0; i < g.PEL.Len(); i++ {
			b = appendRawID(b, g.PEL.KeyAt(i))
			nack := g.PEL.ValAt(i)
			b = binary.LittleEndian.AppendUint64(b, uint64(nack.DeliveryTime))
			b = AppendLen(b, nack.DeliveryCount)
		}
		b = AppendLen(b, uint64(len(g.Consumers())))
		for _, cons := range g.Consumers() {
			b = appendStr(b, cons.Name, c)
			b = binary.LittleEndian.AppendUint64(b, uint64(cons.SeenTime))
			b = AppendLen(b, uint64(cons.PEL.Len()))
			for i := 0; i < cons.PEL.Len(); i++ {
				b = appendRawID(b, cons.PEL.KeyAt(i))
			}
		}
	}
	return b
}

func putID(dst []byte, id datatype.StreamID) {
	binary.BigEndian.PutUint64(dst, id.Ms)
	binary.BigEndian.PutUint64(dst[8:], id.Seq)
}

func appendRawID(b []byte, id datatype.StreamID) []byte {
	b = binary.BigEndian.AppendUint64(b, id.Ms)
	return binary.BigEndian.AppendUint64(b, id.Seq)
}

// streamListpack encodes one block as Redis's stream listpack.
func streamListpack(blk *datatype.StreamBlock) []byte {
	lp := newListpack(make([]byte, 0, 256))
	lp.addInt(int64(blk.Live))
	lp.addInt(int64(blk.Dead))
	lp.addInt(int64(len(blk.Fields)))
	for _, f := range blk.Fields {
		lp.add(f)
	}
	lp.addInt(0)
	for _, e := range blk.Entries {
		same := blk.SameFields(e.FV)
		flags := int64(0)
		if e.Deleted {
			flags |= lpFlagDeleted
		}
		if same {
			flags |= lpFlagSameFields
		}
		lp.addInt(flags)
		lp.addInt(int64(e.ID.Ms - blk.Master.Ms))
		lp.addInt(int64(e.ID.Seq - blk.Master.Seq))
		n := len(e.FV) / 2
		if same {
			for i := 1; i < len(e.FV); i += 2 {
				lp.add(e.FV[i])
			}
			lp.addInt(int64(n + 3))
			continue
		}
		lp.addInt(int64(n))
		for _, x := range e.FV {
			lp.add(x)
		}
		lp.addInt(int64(2*n + 4))
	}
	return lp.finish()
}

var errStream = errors.New("invalid stream")

// stream reads a stream value of type t (15, 19 or 21).
func (d *Decoder) stream(t byte) (*keyspace.Object, error) {
	s := datatype.NewStream(d.Limits)
	nodes, err := d.count()
	if err != nil {
		return nil, err
	}
	for range nodes {
		key, err := d.String()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, fmt.Errorf("%w: node key of %d bytes", errStream, len(key))
		}
		lp, err := d.String()
		if err != nil {
			return nil, err
		}
		blk, err := parseStreamListpack(lp, getID(key))
		if err != nil {
			return nil, err
		}
		if err := s.LoadBlock(blk); err != nil {
			return nil, err
		}
	}
	nums, err := d.lengths(3)
	if err != nil {
		return nil, err
	}
	length, last := nums[0], datatype.StreamID{Ms: nums[1], Seq: nums[2]}
	first, _ := s.First()
	var maxDel datatype.StreamID
	added := length
	if t != TypeStreamListpacks {
		v2, err := d.lengths(5)
		if err != nil {
			return nil, err
		}
		first = datatype.StreamID{Ms: v2[0], Seq: v2[1]}
		maxDel = datatype.StreamID{Ms: v2[2], Seq: v2[3]}
		added = v2[4]
	}
	if err := s.FinishLoad(length, last, first, maxDel, added); err != nil {
		return nil, err
	}
	if err := d.streamGroups(s, t); err != nil {
		return nil, err
	}
	return keyspace.NewStream(s), nil
}

// lengths reads n lengths.
func (d *Decoder) lengths(n int) ([]uint64, error) {
	out := make([]uint64, n)
	for i := range out {
		v, err := d.length()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func getID(b []byte) datatype.StreamID {
	return datatype.StreamID{Ms: binary.BigEndian.Uint64(b), Seq: binary.BigEndian.Uint64(b[8:])}
}

func (d *Decoder) rawID() (datatype.StreamID, error) {
	var b [16]byte
	if err := d.read(b[:]); err != nil {
		return datatype.StreamID{}, err
	}
	return getID(b[:]), nil
}

func (d *Decoder) msTime() (int64, error) {
	var b [8]byte
	if err := d.read(b[:]); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

func (d *Decoder) streamGroups(s *datatype.Stream, t byte) error {
	n, err := d.count()
	if err != nil {
		return err
	}
	for range n {
		name, err := d.String()
		if err != nil {
			return err
		}
		ids, err := d.lengths(2)
		if err != nil {
			return err
		}
		last := datatype.StreamID{Ms: ids[0], Seq: ids[1]}
		read := int64(datatype.InvalidEntriesRead)
		if t == TypeStreamListpacks {
			read = s.EstimateEntriesRead(last)
		} else {
			v, err := d.length()
			if err != nil {
				return err
			}
			read = int64(v)
		}
		g := s.LoadGroup(name, last, read)
		if g == nil {
			return fmt.Errorf("%w: duplicated consumer group name %q", errStream, name)
		}
		if err := d.streamPEL(g); err != nil {
			return err
		}
		if err := d.streamConsumers(g, t); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) streamPEL(g *datatype.StreamGroup) error {
	n, err := d.count()
	if err != nil {
		return err
	}
	for range n {
		id, err := d.rawID()
		if err != nil {
			return err
		}
		at, err := d.msTime()
		if err != nil {
			return err
		}
		count, err := d.length()
		if err != nil {
			return err
		}
		if _, dup := g.PEL.Get(id); dup {
			return fmt.Errorf("%w: duplicated global PEL entry", errStream)
		}
		g.PEL.Set(id, &datatype.StreamNACK{DeliveryTime: at, DeliveryCount: count})
	}
	return nil
}

func (d *Decoder) streamConsumers(g *datatype.StreamGroup, t byte) error {
	n, err := d.count()
	if err != nil {
		return err
	}
	for range n {
		name, err := d.String()
		if err != nil {
			return err
		}
		seen, err := d.msTime()
		if err != nil {
			return err
		}
		if t == TypeStreamListpack3 {
			if _, err := d.msTime(); err != nil { // active time (7.2)
				return err
			}
		}
		cons := g.CreateConsumer(name, seen)
		if cons == nil {
			return fmt.Errorf("%w: duplicated consumer name %q", errStream, name)
		}
		k, err := d.count()
		if err != nil {
			return err
		}
		for range k {
			id, err := d.rawID()
			if err != nil {
				return err
			}
			nack, ok := g.PEL.Get(id)
			if !ok || nack.Consumer != nil {
				return fmt.Errorf("%w: consumer PEL entry not in the group PEL (or owned twice)", errStream)
			}
			nack.Consumer = cons
			cons.PEL.Set(id, nack)
		}
	}
	for i := 0; i < g.PEL.Len(); i++ {
		if g.PEL.ValAt(i).Consumer == nil {
			return fmt.Errorf("%w: a PEL entry without a consumer", errStream)
		}
	}
	return nil
}

// parseStreamListpack reads one node (streamValidateListpackIntegrity's
// checks) into a block.
func parseStreamListpack(lp []byte, master datatype.StreamID) (*datatype.StreamBlock, error) {
	var elems [][]byte
	if _, err := walkListpack(lp, func(s []byte, i int64) error {
		if s == nil {
			s = strconv.AppendInt(nil, i, 10)
		}
		elems = append(elems, s)
		return nil
	}); err != nil {
		return nil, err
	}
	p := &lpReader{elems: elems}
	blk := &datatype.StreamBlock{Master: master}
	live, dead, nf := p.int(), p.int(), p.int()
	if p.err != nil || live < 0 || dead < 0 || nf < 0 || nf > int64(len(elems)) {
		return nil, fmt.Errorf("%w: bad master entry", errStream)
	}
	for range nf {
		blk.Fields = append(blk.Fields, p.next())
	}
	if p.int() != 0 || p.err != nil {
		return nil, fmt.Errorf("%w: bad master entry", errStream)
	}
	for range live + dead {
		e, err := p.entry(blk)
		if err != nil {
			return nil, err
		}
		if e.Deleted {
			blk.Dead++
		} else {
			blk.Live++
		}
		blk.Entries = append(blk.Entries, e)
	}
	if p.i != len(elems) || int64(blk.Live) != live || int64(blk.Dead) != dead || live+dead == 0 {
		return nil, fmt.Errorf("%w: node entry counts", errStream)
	}
	return blk, nil
}

// lpReader walks the elements of a stream listpack.
type lpReader struct {
	elems [][]byte
	i     int
	err   error
}

func (p *lpReader) next() []byte {
	if p.i >= len(p.elems) {
		p.err = errStream
		return nil
	}
	p.i++
	return p.elems[p.i-1]
}

func (p *lpReader) int() int64 {
	v, ok := parseInt(p.next())
	if !ok && p.err == nil {
		p.err = errStream
	}
	return v
}

func (p *lpReader) entry(blk *datatype.StreamBlock) (datatype.StreamBlockEntry, error) {
	var e datatype.StreamBlockEntry
	flags, msd, seqd := p.int(), p.int(), p.int()
	e.ID = datatype.StreamID{Ms: blk.Master.Ms + uint64(msd), Seq: blk.Master.Seq + uint64(seqd)}
	e.Deleted = flags&lpFlagDeleted != 0
	n, extra := int64(len(blk.Fields)), int64(3)
	if flags&lpFlagSameFields != 0 {
		for _, f := range blk.Fields {
			e.FV = append(e.FV, f, p.next())
		}
	} else {
		n = p.int()
		if n < 0 || n > int64(len(p.elems)) || p.err != nil {
			return e, fmt.Errorf("%w: bad entry", errStream)
		}
		for range 2 * n { // field, value, field, value...
			e.FV = append(e.FV, p.next())
		}
		extra += n + 1
	}
	if p.int() != n+extra || p.err != nil {
		return e, fmt.Errorf("%w: bad entry", errStream)
	}
	return e, nil
}
