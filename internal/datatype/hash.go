package datatype

// Hash is a Redis hash. (Placeholder: the hash implementation replaces this file.)
type Hash struct {
	_ int
}
