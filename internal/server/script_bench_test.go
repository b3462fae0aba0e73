package server

import (
	"io"
	"net"
	"strconv"
	"testing"

	"redgo/internal/config"
)

// benchScriptBody is the script of docs/benchmarks.md's EVALSHA row.
const benchScriptBody = "local v = redis.call('GET', KEYS[1]) redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 100) return v"

// BenchmarkScriptCalls is the server's side of the EVALSHA and FCALL rows
// of docs/benchmarks.md without the sockets: a client's execute of each
// call, from dispatch to the reply in its buffer (keys drawn from 100000
// as redis-benchmark -r does).
func BenchmarkScriptCalls(b *testing.B) {
	s, c := benchClient(b)
	sc, msg := s.scripts.Load([]byte(benchScriptBody))
	if sc == nil {
		b.Fatal(msg)
	}
	c.execute(bulks("FUNCTION", "LOAD", "#!lua name=benchlib\nredis.register_function('bump', function(keys) "+
		"local v = redis.call('GET', keys[1]) redis.call('INCR', keys[1]) redis.call('EXPIRE', keys[1], 100) return v end)"))
	if string(c.w.Buf) != "$8\r\nbenchlib\r\n" {
		b.Fatalf("FUNCTION LOAD: %q", c.w.Buf)
	}
	for _, tc := range []struct{ name, cmd, target string }{
		{"evalsha", "EVALSHA", sc.SHA},
		{"fcall", "FCALL", "bump"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			args := bulks(tc.cmd, tc.target, "1", "key:000000000000")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.w.Buf = c.w.Buf[:0]
				args[3] = strconv.AppendInt(args[3][:4], int64(i%100000), 10)
				c.execute(args)
				i++
			}
			if len(c.w.Buf) == 0 || c.w.Buf[0] == '-' {
				b.Fatalf("reply %q", c.w.Buf)
			}
		})
	}
}

// benchClient starts a server that listens nowhere and returns it with a
// client on one end of a pipe, for benchmarks of the command path.
func benchClient(b *testing.B) (*Server, *Client) {
	cfg, err := config.Load("", []string{"--port", "0", "--save", "", "--dir", b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	s.Log.SetOutput(io.Discard)
	b.Cleanup(func() { s.Close() })
	here, there := net.Pipe()
	b.Cleanup(func() { here.Close(); there.Close() })
	return s, newClient(s, here)
}

func bulks(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}
