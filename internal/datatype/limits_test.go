package datatype

import "testing"

// def is the default of k.
func def(k Limit) int { return (*Limits)(nil).Get(k) }

// TestLimits: new Limits hold the defaults, Set changes one keyspace's
// value only, and every directive has a name.
func TestLimits(t *testing.T) {
	a, b := NewLimits(), NewLimits()
	for k := Limit(0); k < nLimits; k++ {
		if a.Get(k) != def(k) {
			t.Errorf("limit %d: %d, default %d", k, a.Get(k), def(k))
		}
	}
	if !a.Set("hash-max-listpack-entries", 1) || a.Get(HashMaxListpackEntries) != 1 {
		t.Fatal("Set hash-max-listpack-entries")
	}
	if b.Get(HashMaxListpackEntries) != 512 {
		t.Fatal("Set changed another Limits")
	}
	if a.Set("no-such-directive", 1) || len(a.Names()) != int(nLimits) {
		t.Fatal("names")
	}
	h := NewHash(a)
	h.Set([]byte("f1"), []byte("v"))
	h.Set([]byte("f2"), []byte("v"))
	if h.Encoding() != "hashtable" || h.Clone().Encoding() != "hashtable" {
		t.Fatalf("a hash made with a limit of 1: %s", h.Encoding())
	}
}
