package scripting

import (
	"testing"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

// cannedHost answers every command with a fixed reply by name, so the
// benchmarks measure the engine's own cost per call.
type cannedHost struct{}

func (cannedHost) Call(r *Run, cmd *commands.Command, args [][]byte, w *resp.Writer) string {
	switch cmd.Name {
	case "get":
		w.BulkString("41")
	default:
		w.Int(1)
	}
	return ""
}

const benchBody = "local v = redis.call('GET', KEYS[1]) redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 100) return v"

// BenchmarkEvalsha is the engine's part of the EVALSHA of docs/benchmarks.md.
func BenchmarkEvalsha(b *testing.B) {
	e := New()
	sc, msg := e.Load([]byte(benchBody))
	if sc == nil {
		b.Fatal(msg)
	}
	keys := [][]byte{[]byte("key:000000012345")}
	var w resp.Writer
	b.ReportAllocs()
	for b.Loop() {
		w.Buf = w.Buf[:0]
		r := &Run{Script: sc, Name: sc.SHA, Keys: keys, Eval: true, Host: cannedHost{}}
		e.Run(r, &w)
	}
	if string(w.Buf) != "$2\r\n41\r\n" {
		b.Fatalf("reply %q", w.Buf)
	}
}
