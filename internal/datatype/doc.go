// Package datatype holds the value structures behind the keyspace: lists,
// hashes, sets, sorted sets and streams. They know nothing of keys, locks or
// protocol; the command handlers in package commands drive them.
package datatype
