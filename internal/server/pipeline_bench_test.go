package server

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"redgo/internal/replication"
)

// BenchmarkPipeline is the server's side of redis-benchmark -P 16 -r 100000
// without the sockets: a batch of 16 requests parsed and run from the query
// buffer (processBuffer), replies left in the client's buffer; keys drawn
// from 100000 as redis-benchmark -r does. Per op: one request.
func BenchmarkPipeline(b *testing.B) {
	s, c := benchClient(b)
	s.KS.TickClock() // as the cron does: lookups read the cached clock
	for _, tc := range []struct{ name, format string }{
		{"set", "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n"},
		{"get", "*2\r\n$3\r\nGET\r\n$16\r\nkey:%012d\r\n"},
		{"incr", "*2\r\n$4\r\nINCR\r\n$16\r\ncnt:%012d\r\n"},
		// With a replication backlog fed every write, as on a master
		// with a replica.
		{"incr-backlog", "*2\r\n$4\r\nINCR\r\n$16\r\ncnt:%012d\r\n"},
	} {
		if tc.name == "incr-backlog" {
			s.AddPropagator(replication.NewBacklog(1<<20, 0))
		}
		b.Run(tc.name, func(b *testing.B) {
			// 8192 batches of 16 requests on random keys, cycled.
			rng := rand.New(rand.NewPCG(1, 2))
			var batches [][]byte
			for i := 0; i < 8192; i++ {
				var batch []byte
				for j := 0; j < 16; j++ {
					batch = fmt.Appendf(batch, tc.format, rng.IntN(100000))
				}
				batches = append(batches, batch)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i%16 == 0 {
					c.qbuf = append(c.qbuf[:0], batches[i/16%len(batches)]...)
					c.qr = 0
					c.w.Buf = c.w.Buf[:0]
					if !c.processBuffer() {
						b.Fatalf("closed: %q", c.w.Buf)
					}
				}
				i++
			}
			if len(c.w.Buf) == 0 || c.w.Buf[0] == '-' {
				b.Fatalf("reply %q", c.w.Buf)
			}
		})
	}
}
