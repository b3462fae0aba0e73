package datatype

// Encoding thresholds, as the redis.conf directives of the same names
// (Redis keeps them in server.list_max_listpack_size and its siblings).
// Each keyspace has its own Limits; a structure keeps the Limits it was
// made with and reads them when it decides how to lay out data.

import "sync/atomic"

// Limits are one keyspace's encoding thresholds. A nil *Limits means
// Redis 7.0's defaults. The values are atomic: CONFIG SET may change them
// while structures read them.
type Limits struct {
	listMaxListpackSize    atomic.Int64 // list-max-listpack-size
	zsetMaxListpackEntries atomic.Int64 // zset-max-listpack-entries
	zsetMaxListpackValue   atomic.Int64 // zset-max-listpack-value
	hashMaxListpackEntries atomic.Int64 // hash-max-listpack-entries
	hashMaxListpackValue   atomic.Int64 // hash-max-listpack-value
	setMaxIntsetEntries    atomic.Int64 // set-max-intset-entries
	hllSparseMaxBytes      atomic.Int64 // hll-sparse-max-bytes
}

// The defaults redis-server 7.0 reports (its hash entry limit is 512, not
// 128).
const (
	defListMaxListpackSize    = -2
	defZSetMaxListpackEntries = 128
	defZSetMaxListpackValue   = 64
	defHashMaxListpackEntries = 512
	defHashMaxListpackValue   = 64
	defSetMaxIntsetEntries    = 512
	defHLLSparseMaxBytes      = 3000
)

// NewLimits returns Limits holding the defaults.
func NewLimits() *Limits {
	l := &Limits{}
	for _, d := range l.fields() {
		d.v.Store(d.def)
	}
	return l
}

type limitField struct {
	name string
	v    *atomic.Int64
	def  int64
}

func (l *Limits) fields() []limitField {
	return []limitField{
		{"list-max-listpack-size", &l.listMaxListpackSize, defListMaxListpackSize},
		{"zset-max-listpack-entries", &l.zsetMaxListpackEntries, defZSetMaxListpackEntries},
		{"zset-max-listpack-value", &l.zsetMaxListpackValue, defZSetMaxListpackValue},
		{"hash-max-listpack-entries", &l.hashMaxListpackEntries, defHashMaxListpackEntries},
		{"hash-max-listpack-value", &l.hashMaxListpackValue, defHashMaxListpackValue},
		{"set-max-intset-entries", &l.setMaxIntsetEntries, defSetMaxIntsetEntries},
		{"hll-sparse-max-bytes", &l.hllSparseMaxBytes, defHLLSparseMaxBytes},
	}
}

// Names are the directives Limits holds.
func (l *Limits) Names() []string {
	var out []string
	for _, f := range l.fields() {
		out = append(out, f.name)
	}
	return out
}

// Set sets the directive name to v, reporting whether Limits holds it.
func (l *Limits) Set(name string, v int64) bool {
	for _, f := range l.fields() {
		if f.name == name {
			f.v.Store(v)
			return true
		}
	}
	return false
}

func (l *Limits) get(v func(*Limits) *atomic.Int64, def int) int {
	if l == nil {
		return def
	}
	return int(v(l).Load())
}

// ListMaxListpackSize is list-max-listpack-size: a negative value -1..-5
// caps each list node at 4, 8, 16, 32 or 64 KiB; a positive value caps it
// at that many entries (and 8 KiB).
func (l *Limits) ListMaxListpackSize() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.listMaxListpackSize }, defListMaxListpackSize)
}

// ZSetMaxListpackEntries is zset-max-listpack-entries.
func (l *Limits) ZSetMaxListpackEntries() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.zsetMaxListpackEntries }, defZSetMaxListpackEntries)
}

// ZSetMaxListpackValue is zset-max-listpack-value.
func (l *Limits) ZSetMaxListpackValue() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.zsetMaxListpackValue }, defZSetMaxListpackValue)
}

// HashMaxListpackEntries is hash-max-listpack-entries.
func (l *Limits) HashMaxListpackEntries() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.hashMaxListpackEntries }, defHashMaxListpackEntries)
}

// HashMaxListpackValue is hash-max-listpack-value.
func (l *Limits) HashMaxListpackValue() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.hashMaxListpackValue }, defHashMaxListpackValue)
}

// SetMaxIntsetEntries is set-max-intset-entries.
func (l *Limits) SetMaxIntsetEntries() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.setMaxIntsetEntries }, defSetMaxIntsetEntries)
}

// HLLSparseMaxBytes is hll-sparse-max-bytes: the largest sparse
// HyperLogLog before it becomes dense.
func (l *Limits) HLLSparseMaxBytes() int {
	return l.get(func(l *Limits) *atomic.Int64 { return &l.hllSparseMaxBytes }, defHLLSparseMaxBytes)
}

// listNode returns the byte and entry caps of one list node.
func (l *Limits) listNode() (maxBytes, maxEntries int) {
	f := l.ListMaxListpackSize()
	if f >= 0 {
		if f == 0 {
			f = 1
		}
		return 8192, f
	}
	if f < -5 {
		f = -5
	}
	return 4096 << (-f - 1), 1<<31 - 1
}
