package replication

import "testing"

// BenchmarkBacklogFeed is what a master feeds its backlog for one INCR.
func BenchmarkBacklogFeed(b *testing.B) {
	bl := NewBacklog(1<<20, 0)
	cmd := [][][]byte{{[]byte("INCR"), []byte("counter:000000012345")}}
	b.ReportAllocs()
	for b.Loop() {
		bl.Feed(0, cmd)
	}
}
