package datatype

// Encoding thresholds, as the redis.conf directives of the same names
// (Redis keeps them in server.list_max_listpack_size and its siblings).
// Each keyspace has its own Limits; a structure keeps the Limits it was
// made with and reads them when it decides how to lay out data.

import "sync/atomic"

// Limit names one threshold.
type Limit int

const (
	// ListMaxListpackSize is list-max-listpack-size: a negative value
	// -1..-5 caps each list node at 4, 8, 16, 32 or 64 KiB; a positive
	// value caps it at that many entries (and 8 KiB).
	ListMaxListpackSize Limit = iota
	ZSetMaxListpackEntries
	ZSetMaxListpackValue
	HashMaxListpackEntries
	HashMaxListpackValue
	SetMaxIntsetEntries
	// HLLSparseMaxBytes is the largest sparse HyperLogLog (header
	// included) before it becomes dense.
	HLLSparseMaxBytes
	// StreamNodeMaxBytes and StreamNodeMaxEntries cap a stream block
	// (0: no cap on entries; bytes are capped at 1 GiB).
	StreamNodeMaxBytes
	StreamNodeMaxEntries
	nLimits
)

// limitDefs are the directives and the defaults redis-server 7.0 reports
// (its hash entry limit is 512, not 128).
var limitDefs = [nLimits]struct {
	name string
	def  int64
}{
	{"list-max-listpack-size", -2},
	{"zset-max-listpack-entries", 128},
	{"zset-max-listpack-value", 64},
	{"hash-max-listpack-entries", 512},
	{"hash-max-listpack-value", 64},
	{"set-max-intset-entries", 512},
	{"hll-sparse-max-bytes", 3000},
	{"stream-node-max-bytes", 4096},
	{"stream-node-max-entries", 100},
}

// Limits are one keyspace's encoding thresholds. A nil *Limits means
// Redis 7.0's defaults. The values are atomic: CONFIG SET may change them
// while structures read them.
type Limits struct {
	v [nLimits]atomic.Int64
}

// NewLimits returns Limits holding the defaults.
func NewLimits() *Limits {
	l := &Limits{}
	for i, d := range limitDefs {
		l.v[i].Store(d.def)
	}
	return l
}

// Get returns the value of k.
func (l *Limits) Get(k Limit) int {
	if l == nil {
		return int(limitDefs[k].def)
	}
	return int(l.v[k].Load())
}

// Names are the directives Limits holds.
func (l *Limits) Names() []string {
	var out []string
	for _, d := range limitDefs {
		out = append(out, d.name)
	}
	return out
}

// Set sets the directive name to v, reporting whether Limits holds it.
func (l *Limits) Set(name string, v int64) bool {
	for i, d := range limitDefs {
		if d.name == name {
			l.v[i].Store(v)
			return true
		}
	}
	return false
}

// listNode returns the byte and entry caps of one list node.
func (l *Limits) listNode() (maxBytes, maxEntries int) {
	f := l.Get(ListMaxListpackSize)
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
