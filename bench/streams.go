package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"redgo/internal/resp"
)

// The streams comparison (issue 14): XADD throughput (redis-benchmark, to
// one stream and to random streams), XREADGROUP + XACK throughput (Go
// consumers reading a filled stream in batches and acknowledging each
// batch) and memory per entry after XADDing to one stream, each server
// started fresh per round on ports 44000-44999. Its section of
// docs/benchmarks.md sits between markers so `go run ./bench -streams`
// rewrites only its part.

var (
	streamsOnly      = flag.Bool("streams", false, "run only the streams comparison and update its section of the report")
	streamsRounds    = flag.Int("streams-rounds", 2, "alternating rounds per server for the streams comparison")
	streamsN         = flag.Int("streams-n", 200000, "XADDs per throughput test, and entries read by the XREADGROUP test")
	streamsMem       = flag.Int("streams-mem", 1000000, "entries added for the memory per entry test")
	streamsConsumers = flag.Int("streams-consumers", 10, "concurrent consumers in the XREADGROUP + XACK test")
)

const (
	streamsBegin = "<!-- streams:begin -->"
	streamsEnd   = "<!-- streams:end -->"
	streamsPort  = 44100 // + round*2 + server
)

// streamsSection runs the comparison and returns its markdown.
func streamsSection(bin string) string {
	n, memN, rounds := *streamsN, *streamsMem, *streamsRounds
	if *quick {
		n, memN, rounds = 30000, 100000, 1
	}
	tests := []string{"XADD (one stream)", "XADD (random streams)", "XREADGROUP COUNT 10 + XACK (entries/s)"}
	best := map[string]map[string]float64{"redgo": {}, "redis": {}}
	mem := map[string][2]float64{} // used_memory and RSS growth per entry, best (lowest) of the rounds
	for r := 0; r < rounds; r++ {
		for i, name := range []string{"redgo", "redis"} {
			s := startOn(name, serverBin(name, bin), streamsPort+2*r+i)
			res := map[string]float64{
				tests[0]: benchCommand(s, n, []string{"XADD", "bench:one", "*", "field", "value:__rand_int__"}),
				tests[1]: benchCommand(s, n, []string{"XADD", "bench:__rand_int__", "*", "field", "value:__rand_int__"}),
			}
			s.cli("FLUSHALL")
			res[tests[2]] = readGroupRate(s, n, *streamsConsumers)
			for k, v := range res {
				if v > best[name][k] {
					best[name][k] = v
				}
			}
			s.stop()
			s = startOn(name, serverBin(name, bin), streamsPort+2*r+i)
			used, rss := streamMemory(s, memN)
			if m, ok := mem[name]; !ok || used < m[0] {
				mem[name] = [2]float64{used, rss}
			}
			s.stop()
		}
		fmt.Fprintf(os.Stderr, "streams: round %d/%d\n", r+1, rounds)
	}
	var b strings.Builder
	b.WriteString(streamsBegin + "\n")
	b.WriteString("## Streams\n\n")
	b.WriteString(producedBy("streams"))
	fmt.Fprintf(&b, "\nBest of %d alternating rounds, a fresh server per round. XADD: redis-benchmark -c %d -n %d -r 100000\n", rounds, *clients, n)
	b.WriteString("(`XADD bench:one * field value:N`, and the same to `bench:N`). XREADGROUP + XACK: the stream is\n")
	fmt.Fprintf(&b, "filled with %d entries, then %d consumers of one group loop `XREADGROUP GROUP g cI COUNT 10 STREAMS s >`\n", n, *streamsConsumers)
	b.WriteString("followed by `XACK` of the IDs read, until the stream is drained; the rate is entries delivered and\n")
	b.WriteString("acknowledged per second. The machine is shared and noisy: read the ratios, not the absolute numbers.\n\n")
	b.WriteString("| test | redgo | redis | redgo/redis |\n|---|---|---|---|\n")
	for _, test := range tests {
		g, rd := best["redgo"][test], best["redis"][test]
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | **%.2f** |\n", test, g, rd, ratio(g, rd))
	}
	fmt.Fprintf(&b, "\nMemory per entry after %d `XADD bench:mem * field value:N` to one stream (growth of\n", memN)
	b.WriteString("used_memory and of RSS over an empty server, divided by the entries; MEMORY PURGE before each reading):\n\n")
	b.WriteString("| | used_memory per entry | RSS per entry |\n|---|---|---|\n")
	g, rd := mem["redgo"], mem["redis"]
	fmt.Fprintf(&b, "| redgo | %.1f B | %.1f B |\n| redis | %.1f B | %.1f B |\n", g[0], g[1], rd[0], rd[1])
	fmt.Fprintf(&b, "| **redgo/redis** | **%.2f** | **%.2f** |\n", ratio(g[0], rd[0]), ratio(g[1], rd[1]))
	b.WriteString(streamsEnd + "\n")
	return b.String()
}

// streamMemory adds n entries to one stream and returns the growth of
// used_memory and RSS per entry.
func streamMemory(s *server, n int) (used, rss float64) {
	time.Sleep(300 * time.Millisecond)
	s.cli("MEMORY", "PURGE")
	used0, rss0 := s.info("used_memory"), s.rss()
	c := dial(s)
	defer c.close()
	const batch = 1000
	for i := 0; i < n; i += batch {
		for j := i; j < min(i+batch, n); j++ {
			c.send("XADD", "bench:mem", "*", "field", "value:"+strconv.Itoa(j))
		}
		for j := i; j < min(i+batch, n); j++ {
			c.read()
		}
	}
	time.Sleep(time.Second)
	s.cli("MEMORY", "PURGE") // both allocators hand back what they can (Go: a GC and FreeOSMemory)
	return float64(s.info("used_memory")-used0) / float64(n), float64(s.rss()-rss0) / float64(n)
}

// readGroupRate fills a stream with n entries and returns the entries per
// second that k consumers of one group read and acknowledge.
func readGroupRate(s *server, n, k int) float64 {
	c := dial(s)
	for i := 0; i < n; i += 1000 {
		for j := i; j < min(i+1000, n); j++ {
			c.send("XADD", "bench:s", "*", "field", "value:"+strconv.Itoa(j))
		}
		for j := i; j < min(i+1000, n); j++ {
			c.read()
		}
	}
	c.send("XGROUP", "CREATE", "bench:s", "g", "0")
	c.read()
	c.close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	start := time.Now()
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cc := dial(s)
			defer cc.close()
			name := "c" + strconv.Itoa(i)
			got := 0
			for {
				cc.send("XREADGROUP", "GROUP", "g", name, "COUNT", "10", "STREAMS", "bench:s", ">")
				v := cc.read()
				if v.Null || len(v.Elems) == 0 {
					break
				}
				ents := v.Elems[0].Elems[1].Elems
				args := []string{"XACK", "bench:s", "g"}
				for _, e := range ents {
					args = append(args, e.Elems[0].Str)
				}
				cc.send(args...)
				if a := cc.read(); a.Int != int64(len(ents)) {
					fail("XACK acknowledged %d of %d", a.Int, len(ents))
				}
				got += len(ents)
			}
			mu.Lock()
			total += got
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if total != n {
		fail("consumers read %d entries of %d", total, n)
	}
	return float64(total) / time.Since(start).Seconds()
}

// benchConn is a plain RESP connection.
type benchConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dial(s *server) *benchConn {
	c, err := net.Dial("tcp", s.addr())
	if err != nil {
		fail("dial %s: %v", s.name, err)
	}
	return &benchConn{c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
}

func (c *benchConn) send(args ...string) {
	var w resp.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	c.w.Write(w.Buf)
}

func (c *benchConn) read() resp.Value {
	c.w.Flush()
	v, err := resp.ReadValue(c.r)
	if err != nil {
		fail("read: %v", err)
	}
	if v.Type == '-' {
		fail("error reply: %s", v.Str)
	}
	return v
}

func (c *benchConn) close() { c.c.Close() }
