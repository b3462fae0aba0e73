package datatype

// ZSet is a Redis zset. (Placeholder: the zset implementation replaces this file.)
type ZSet struct {
	_ int
}
