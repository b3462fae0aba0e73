package commands

import (
	"strings"
	"testing"

	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/resp"
)

// TestNotifyOrder checks a few events and their order without a server
// (the full comparison with redis-server is in internal/server).
func TestNotifyOrder(t *testing.T) {
	ks := keyspace.New(2)
	var got []string
	ks.Events = notify.New(func(ch, msg []byte) { got = append(got, string(ch)+" "+string(msg)) })
	f, _ := notify.Parse("Kgln")
	ks.Events.SetClasses(f)
	w := &resp.Writer{}
	for _, cmd := range []string{"RPUSH l a", "LMOVE l m LEFT RIGHT", "SET s v", "RENAME s t", "MOVE t 1"} {
		var args [][]byte
		for _, a := range strings.Fields(cmd) {
			args = append(args, []byte(a))
		}
		Exec(ks, 0, w, args)
	}
	want := []string{
		"__keyspace@0__:l new", "__keyspace@0__:l rpush",
		"__keyspace@0__:m new", "__keyspace@0__:m rpush", "__keyspace@0__:l lpop", "__keyspace@0__:l del",
		"__keyspace@0__:s new", // SET's own event is $ (not enabled)
		"__keyspace@0__:t new", "__keyspace@0__:s rename_from", "__keyspace@0__:t rename_to",
		"__keyspace@1__:t new", "__keyspace@0__:t move_from", "__keyspace@1__:t move_to",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// BenchmarkStringSetGetNotifyOff is BenchmarkStringSetGet with a
// Notifier wired but no class enabled: the cost of the hooks on the hot
// path.
func BenchmarkStringSetGetNotifyOff(b *testing.B) {
	ks := keyspace.New(1)
	ks.Events = notify.New(func(ch, msg []byte) {})
	set := [][]byte{[]byte("SET"), []byte("key:1234"), []byte("some value of moderate size")}
	get := [][]byte{[]byte("GET"), []byte("key:1234")}
	incr := [][]byte{[]byte("INCR"), []byte("counter")}
	w := &resp.Writer{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Buf = w.Buf[:0]
		Exec(ks, 0, w, set)
		Exec(ks, 0, w, get)
		Exec(ks, 0, w, incr)
	}
}
