package server

import (
	"strings"
	"testing"

	"redgo/internal/resp"
)

// LATENCY against redis-server: the same script gives the same replies
// where they do not depend on time, and the same shapes where they do.
func TestLatencyMatchesRedis(t *testing.T) {
	s, _ := startServer(t, "--enable-debug-command", "yes")
	ra := startRedis(t)
	oracle(t, s.Addr().String(), ra, [][]string{
		{"CONFIG", "RESETSTAT"}, // the command table (and its histograms) is the process's
		{"LATENCY", "HELP"},
		{"LATENCY", "LATEST"},
		{"LATENCY", "HISTORY", "command"},
		{"LATENCY", "GRAPH", "command"},
		{"LATENCY", "RESET"},
		{"LATENCY", "DOCTOR"},
		{"LATENCY", "NOPE"},
		{"LATENCY", "HISTORY"},
		{"LATENCY", "HISTOGRAM", "nosuchcommand"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "50 200"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "50 x"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.90"},
		{"CONFIG", "GET", "latency-tracking-info-percentiles"},
		{"CONFIG", "SET", "latency-monitor-threshold", "20"},
		{"~DEBUG", "SLEEP", "0.05"},
		{"~DEBUG", "SLEEP", "0"},
	})
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	for _, c := range []*rawConn{a, b} {
		for range 10 {
			c.do("SET", "k", "v")
		}
	}
	both := func(args ...string) (resp.Value, resp.Value) {
		va, _ := a.do(args...)
		vb, _ := b.do(args...)
		return va, vb
	}

	// One "command" spike (DEBUG SLEEP 0.05): DEBUG is not a fast command.
	// (Other events may show up on a loaded machine: look for this one.)
	la0, lb0 := both("LATENCY", "LATEST")
	for i, v := range []resp.Value{la0, lb0} {
		found := false
		for _, e := range v.Elems {
			found = found || e.Elems[0].Str == "command" && e.Elems[2].Int >= 50
		}
		if !found {
			t.Fatalf("server %d LATENCY LATEST: %+v", i, v)
		}
	}
	ha, hb := both("LATENCY", "HISTORY", "command")
	if len(ha.Elems) != 1 || len(hb.Elems) != 1 {
		t.Fatalf("HISTORY: %+v / %+v", ha, hb)
	}
	ga, gb := both("LATENCY", "GRAPH", "command")
	la, lb := strings.Split(ga.Str, "\n"), strings.Split(gb.Str, "\n")
	if len(la) != len(lb) || !strings.HasPrefix(la[0], "command - high ") || la[1] != lb[1] || la[6] != lb[6] {
		t.Fatalf("GRAPH:\n%s\nredis:\n%s", ga.Str, gb.Str)
	}
	da, db := both("LATENCY", "DOCTOR")
	if !strings.Contains(da.Str, ". command: 1 latency spikes") || !strings.Contains(db.Str, ". command: 1 latency spikes") ||
		!strings.HasPrefix(da.Str, "Dave, I have observed latency spikes") {
		t.Fatalf("DOCTOR:\n%s\nredis:\n%s", da.Str, db.Str)
	}

	// Histograms: SET was called 10 times; keys are powers of two in µs.
	xa, xb := both("LATENCY", "HISTOGRAM", "set", "config")
	for i, v := range []resp.Value{xa, xb} {
		m := map[string]resp.Value{}
		for j := 0; j+1 < len(v.Elems); j += 2 {
			m[v.Elems[j].Str] = v.Elems[j+1]
		}
		set, ok := m["set"]
		if !ok || set.Elems[0].Str != "calls" || set.Elems[1].Int != 10 || set.Elems[2].Str != "histogram_usec" {
			t.Fatalf("server %d HISTOGRAM set: %+v", i, v)
		}
		if _, ok := m["config|set"]; !ok {
			t.Fatalf("server %d HISTOGRAM config: no config|set in %+v", i, v)
		}
		buckets := set.Elems[3].Elems
		if last := buckets[len(buckets)-1]; last.Int != 10 {
			t.Fatalf("server %d: last cumulative count %+v", i, last)
		}
	}
	ia, ib := both("INFO", "latencystats")
	for i, txt := range []string{ia.Str, ib.Str} {
		if !strings.Contains(txt, "\r\nlatency_percentiles_usec_set:p50=") || !strings.Contains(txt, ",p99.9=") {
			t.Fatalf("server %d INFO latencystats:\n%s", i, txt)
		}
	}
	ra1, rb1 := both("LATENCY", "RESET", "COMMAND", "nope", "command")
	if ra1.Int != 1 || rb1.Int != 1 {
		t.Fatalf("RESET: %d / %d", ra1.Int, rb1.Int)
	}
	both("CONFIG", "RESETSTAT")
	xa, xb = both("LATENCY", "HISTOGRAM", "set")
	if len(xa.Elems) != 0 || len(xb.Elems) != 0 {
		t.Fatalf("HISTOGRAM after RESETSTAT: %+v / %+v", xa, xb)
	}
}
