package datatype

// Encoding thresholds, as the redis.conf directives of the same names.
// The config layer sets them; the structures read them when they decide
// how to lay out data.
var (
	// ListMaxListpackSize is list-max-listpack-size: a negative value -1..-5
	// caps each list node at 4, 8, 16, 32 or 64 KiB; a positive value caps
	// it at that many entries (and 8 KiB).
	ListMaxListpackSize = -2
)

// Sorted set encoding thresholds (zset-max-listpack-entries,
// zset-max-listpack-value).
var (
	ZSetMaxListpackEntries = 128
	ZSetMaxListpackValue   = 64
)

// Hash and set encoding thresholds (hash-max-listpack-entries,
// hash-max-listpack-value, set-max-intset-entries), with the defaults
// redis-server 7.0 reports (its hash entry limit is 512, not 128).
var (
	HashMaxListpackEntries = 512
	HashMaxListpackValue   = 64
	SetMaxIntsetEntries    = 512
)
