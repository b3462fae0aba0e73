package datatype

import (
	"sort"
)

// InvalidEntriesRead is a group's entries-read counter when it is not
// known (Redis's SCG_INVALID_ENTRIES_READ).
const InvalidEntriesRead = -1

// StreamGroup is a consumer group: the last ID delivered, the count of
// entries read (Redis 7.0's lag accounting), the pending entries list
// (PEL: delivered, not yet acknowledged) and the consumers.
type StreamGroup struct {
	Name        string
	LastID      StreamID
	EntriesRead int64
	PEL         IDMap[*StreamNACK]
	consumers   []*StreamConsumer // sorted by name
}

// StreamNACK is one pending entry.
type StreamNACK struct {
	DeliveryTime  int64 // unix ms of the last delivery
	DeliveryCount uint64
	Consumer      *StreamConsumer
}

// StreamConsumer is a consumer of a group with its own PEL (the same
// NACKs as the group's).
type StreamConsumer struct {
	Name     string
	SeenTime int64 // unix ms of the last interaction
	PEL      IDMap[*StreamNACK]
}

// Groups returns the groups sorted by name.
func (s *Stream) Groups() []*StreamGroup { return s.groups }

// Group returns the group called name, or nil.
func (s *Stream) Group(name []byte) *StreamGroup {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		return s.groups[i]
	}
	return nil
}

// CreateGroup adds a group; nil when the name is taken.
func (s *Stream) CreateGroup(name []byte, last StreamID, entriesRead int64) *StreamGroup {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		return nil
	}
	g := &StreamGroup{Name: string(name), LastID: last, EntriesRead: entriesRead}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g
}

// DestroyGroup removes the group called name, reporting whether it existed.
func (s *Stream) DestroyGroup(name []byte) bool {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		s.groups = append(s.groups[:i], s.groups[i+1:]...)
		return true
	}
	return false
}

// Consumers returns the group's consumers sorted by name.
func (g *StreamGroup) Consumers() []*StreamConsumer { return g.consumers }

func (g *StreamGroup) consumerIndex(name []byte) (int, bool) {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].Name >= string(name) })
	return i, i < len(g.consumers) && g.consumers[i].Name == string(name)
}

// Consumer returns the consumer called name, or nil.
func (g *StreamGroup) Consumer(name []byte) *StreamConsumer {
	if i, ok := g.consumerIndex(name); ok {
		return g.consumers[i]
	}
	return nil
}

// CreateConsumer adds a consumer seen at now; nil when it exists.
func (g *StreamGroup) CreateConsumer(name []byte, now int64) *StreamConsumer {
	i, ok := g.consumerIndex(name)
	if ok {
		return nil
	}
	c := &StreamConsumer{Name: string(name), SeenTime: now}
	g.consumers = append(g.consumers, nil)
	copy(g.consumers[i+1:], g.consumers[i:])
	g.consumers[i] = c
	return c
}

// DeleteConsumer removes the consumer and its pending entries from the
// group's PEL, returning how many were pending (-1: no such consumer).
func (g *StreamGroup) DeleteConsumer(name []byte) int {
	i, ok := g.consumerIndex(name)
	if !ok {
		return -1
	}
	c := g.consumers[i]
	n := c.PEL.Len()
	for k := 0; k < c.PEL.Len(); k++ {
		g.PEL.Delete(c.PEL.KeyAt(k))
	}
	g.consumers = append(g.consumers[:i], g.consumers[i+1:]...)
	return n
}

// Ack removes id from the PEL, reporting whether it was pending.
func (g *StreamGroup) Ack(id StreamID) bool {
	nack, ok := g.PEL.Get(id)
	if !ok {
		return false
	}
	g.PEL.Delete(id)
	nack.Consumer.PEL.Delete(id)
	return true
}

// Deliver records that id was delivered to c at now (XREADGROUP): a new
// NACK, or an existing one moved to c with its time and count reset to
// one delivery, as Redis does when SETID made a group deliver again.
func (g *StreamGroup) Deliver(id StreamID, c *StreamConsumer, now int64) {
	if nack, ok := g.PEL.Get(id); ok {
		if nack.Consumer != c {
			nack.Consumer.PEL.Delete(id)
			nack.Consumer = c
			c.PEL.Set(id, nack)
		}
		nack.DeliveryTime, nack.DeliveryCount = now, 1
		return
	}
	nack := &StreamNACK{DeliveryTime: now, DeliveryCount: 1, Consumer: c}
	g.PEL.Set(id, nack)
	c.PEL.Set(id, nack)
}

// Claim moves the pending entry id to c (XCLAIM, XAUTOCLAIM), creating it
// when missing and create is set. It returns the NACK or nil.
func (g *StreamGroup) Claim(id StreamID, c *StreamConsumer, create bool) *StreamNACK {
	nack, ok := g.PEL.Get(id)
	if !ok {
		if !create {
			return nil
		}
		nack = &StreamNACK{Consumer: c}
		g.PEL.Set(id, nack)
		c.PEL.Set(id, nack)
		return nack
	}
	if nack.Consumer != c {
		nack.Consumer.PEL.Delete(id)
		nack.Consumer = c
		c.PEL.Set(id, nack)
	}
	return nack
}

// Read is the bookkeeping when the group delivers id, greater than its
// last ID (streamReplyWithRange): the entries-read counter goes up while
// it is valid and no deleted entry lies ahead, else it is estimated.
func (g *StreamGroup) Read(s *Stream, id StreamID) {
	if g.EntriesRead != InvalidEntriesRead && !s.RangeHasTombstones(id, MaxStreamID) {
		g.EntriesRead++
	} else if s.EntriesAdded != 0 {
		g.EntriesRead = s.EstimateEntriesRead(id)
	}
	g.LastID = id
}

// Lag is the number of entries the group has not read yet; false when it
// cannot be known (streamReplyWithCGLag).
func (s *Stream) Lag(g *StreamGroup) (int64, bool) {
	if s.EntriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != InvalidEntriesRead && !s.RangeHasTombstones(g.LastID, MaxStreamID) {
		return int64(s.EntriesAdded) - g.EntriesRead, true
	}
	if n := s.EstimateEntriesRead(g.LastID); n != InvalidEntriesRead {
		return int64(s.EntriesAdded) - n, true
	}
	return 0, false
}

// RangeHasTombstones reports whether an entry deleted by XDEL may lie in
// [start, end] (streamRangeHasTombstones).
func (s *Stream) RangeHasTombstones(start, end StreamID) bool {
	if s.length == 0 || s.MaxDeletedID.IsZero() {
		return false
	}
	if s.MaxDeletedID.Less(s.FirstID) {
		return false
	}
	return !s.MaxDeletedID.Less(start) && !end.Less(s.MaxDeletedID)
}

// EstimateEntriesRead is the entries-read counter of a group whose last
// ID is id, or InvalidEntriesRead when it cannot be told
// (streamEstimateDistanceFromFirstEverEntry).
func (s *Stream) EstimateEntriesRead(id StreamID) int64 {
	if s.EntriesAdded == 0 {
		return 0
	}
	added := int64(s.EntriesAdded)
	if s.length == 0 && id.Cmp(s.LastID) < 1 {
		return added
	}
	switch id.Cmp(s.LastID) {
	case 0:
		return added
	case 1:
		return InvalidEntriesRead
	}
	if s.MaxDeletedID.IsZero() || s.MaxDeletedID.Less(s.FirstID) {
		switch id.Cmp(s.FirstID) {
		case -1:
			return added - int64(s.length)
		case 0:
			return added - int64(s.length) + 1
		}
	}
	return InvalidEntriesRead
}

func (g *StreamGroup) clone() *StreamGroup {
	ng := &StreamGroup{Name: g.Name, LastID: g.LastID, EntriesRead: g.EntriesRead}
	byOld := map[*StreamConsumer]*StreamConsumer{}
	for _, c := range g.consumers {
		nc := &StreamConsumer{Name: c.Name, SeenTime: c.SeenTime}
		byOld[c] = nc
		ng.consumers = append(ng.consumers, nc)
	}
	for i := 0; i < g.PEL.Len(); i++ {
		id, n := g.PEL.KeyAt(i), g.PEL.ValAt(i)
		nn := &StreamNACK{DeliveryTime: n.DeliveryTime, DeliveryCount: n.DeliveryCount, Consumer: byOld[n.Consumer]}
		ng.PEL.Set(id, nn)
		nn.Consumer.PEL.Set(id, nn)
	}
	return ng
}

func (g *StreamGroup) memoryUsage() int {
	n := 96 + len(g.Name) + g.PEL.Len()*(24+48)
	for _, c := range g.consumers {
		n += 64 + len(c.Name) + c.PEL.Len()*24
	}
	return n
}

// IDMap is a map from stream IDs to values kept in ID order (a sorted
// slice: PELs are filled in ID order and mostly emptied from the front).
type IDMap[V any] struct {
	keys []StreamID
	vals []V
}

// Len returns the number of keys.
func (m *IDMap[V]) Len() int { return len(m.keys) }

// KeyAt and ValAt return the i-th key and value in ID order.
func (m *IDMap[V]) KeyAt(i int) StreamID { return m.keys[i] }
func (m *IDMap[V]) ValAt(i int) V        { return m.vals[i] }

// Seek returns the index of the first key >= id.
func (m *IDMap[V]) Seek(id StreamID) int {
	n := len(m.keys)
	if n == 0 || m.keys[n-1].Less(id) {
		return n
	}
	return sort.Search(n, func(i int) bool { return !m.keys[i].Less(id) })
}

// Get returns the value at id.
func (m *IDMap[V]) Get(id StreamID) (V, bool) {
	i := m.Seek(id)
	if i < len(m.keys) && m.keys[i] == id {
		return m.vals[i], true
	}
	var zero V
	return zero, false
}

// Set sets id to v.
func (m *IDMap[V]) Set(id StreamID, v V) {
	i := m.Seek(id)
	if i < len(m.keys) && m.keys[i] == id {
		m.vals[i] = v
		return
	}
	m.keys = append(m.keys, StreamID{})
	m.vals = append(m.vals, v)
	if i < len(m.keys)-1 {
		copy(m.keys[i+1:], m.keys[i:])
		copy(m.vals[i+1:], m.vals[i:])
		m.keys[i], m.vals[i] = id, v
	}
	m.keys[i] = id
}

// Delete removes id, reporting whether it was there.
func (m *IDMap[V]) Delete(id StreamID) bool {
	i := m.Seek(id)
	if i == len(m.keys) || m.keys[i] != id {
		return false
	}
	if i == 0 { // the common case: the oldest entry is acknowledged
		var zero V
		m.vals[0] = zero
		m.keys, m.vals = m.keys[1:], m.vals[1:]
		return true
	}
	last := len(m.keys) - 1
	copy(m.keys[i:], m.keys[i+1:])
	copy(m.vals[i:], m.vals[i+1:])
	var zero V
	m.vals[last] = zero
	m.keys, m.vals = m.keys[:last], m.vals[:last]
	return true
}
