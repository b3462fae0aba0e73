package datatype

// List is a Redis list. (Placeholder: the list implementation replaces this file.)
type List struct {
	_ int
}
