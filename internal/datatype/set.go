package datatype

// Set is a Redis set. (Placeholder: the set implementation replaces this file.)
type Set struct {
	_ int
}
