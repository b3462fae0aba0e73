package server

import (
	"sort"
	"strings"
	"testing"
	"time"
)

// TestScanRandomkeyExpireMatchesRedis: SCAN and RANDOMKEY delete the
// keys they meet past their expiry, as Redis's lazy expiry does (SCAN
// only those its MATCH keeps), so DBSIZE, which counts such keys until
// they are deleted, answers the same on both after them.
func TestScanRandomkeyExpireMatchesRedis(t *testing.T) {
	s, _ := startServer(t, "--enable-debug-command", "yes")
	redisAddr := startRedis(t)
	setup := [][]string{
		{"DEBUG", "SET-ACTIVE-EXPIRE", "0"}, {"FLUSHALL"},
		{"SET", "foo1", "bar", "PX", "1"}, {"SET", "foo2", "bar", "PX", "1"},
		{"SET", "other", "x", "PX", "1"}, {"SET", "live", "y"},
	}
	oracle(t, s.Addr().String(), redisAddr, setup)
	time.Sleep(10 * time.Millisecond)
	oracle(t, s.Addr().String(), redisAddr, [][]string{
		{"DBSIZE"},                     // 4: nothing deleted yet
		{"SCAN", "0", "MATCH", "foo*"}, // [0, []]: foo1 and foo2 deleted
		{"DBSIZE"},                     // 2
		{"RANDOMKEY"},                  // live, after deleting other if it picked it
		{"~RANDOMKEY"}, {"~RANDOMKEY"}, {"~RANDOMKEY"}, {"~RANDOMKEY"}, {"~RANDOMKEY"},
		{"~RANDOMKEY"}, {"~RANDOMKEY"}, {"~RANDOMKEY"}, {"~RANDOMKEY"}, {"~RANDOMKEY"},
		{"DEL", "live"},
		{"RANDOMKEY"}, // nil: other is deleted now if it was not before
		{"DBSIZE"},    // 0
		{"DEBUG", "SET-ACTIVE-EXPIRE", "1"},
	})
}

// TestScanRandomkeyLazyExpirePropagation: each key SCAN or RANDOMKEY
// expires reaches the AOF and replicas as a DEL of its own, not wrapped
// in MULTI/EXEC (unit/expire "Lazy-expire should not be wrapped").
func TestScanRandomkeyLazyExpirePropagation(t *testing.T) {
	for _, cmd := range []string{"SCAN 0", "RANDOMKEY"} {
		s, _ := startServer(t, "--enable-debug-command", "yes")
		rec := &propRecorder{}
		c := dialRaw(t, s.Addr().String())
		c.do("DEBUG", "SET-ACTIVE-EXPIRE", "0")
		c.do("SET", "foo1", "bar", "PX", "1")
		c.do("SET", "foo2", "bar", "PX", "1")
		time.Sleep(10 * time.Millisecond)
		s.AddPropagator(rec)
		c.do(strings.Fields(cmd)...)
		got := rec.lines()
		sort.Strings(got)
		if want := "0 DEL foo1|0 DEL foo2"; strings.Join(got, "|") != want {
			t.Errorf("%s propagated %q, want %q", cmd, got, want)
		}
	}
}
