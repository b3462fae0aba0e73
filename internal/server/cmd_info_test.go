package server

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseInfo splits INFO text into section titles (in order) and the
// field names of each section (in order).
func parseInfo(text string) (titles []string, fields map[string][]string) {
	fields = map[string][]string{}
	cur := ""
	for _, line := range strings.Split(text, "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			cur = line[2:]
			titles = append(titles, cur)
		case line == "":
		default:
			k, _, _ := strings.Cut(line, ":")
			fields[cur] = append(fields[cur], k)
		}
	}
	return titles, fields
}

func TestInfoSectionsMatchRedis(t *testing.T) {
	s, rc := startServer(t)
	ra := startRedis(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	for _, args := range [][]string{{}, {"default"}, {"all"}, {"everything"}, {"server"}, {"SERVER", "clients"},
		{"keyspace"}, {"modules"}, {"foo"}, {"cpu", "memory", "cpu"}, {"commandstats"}, {"errorstats"},
		{"persistence", "stats", "replication", "cluster"}} {
		cmd := append([]string{"INFO"}, args...)
		va, rawA := a.do(cmd...)
		vb, _ := b.do(cmd...)
		if va.Type != '$' {
			t.Fatalf("%q: reply type %c", cmd, va.Type)
		}
		ta, fa := parseInfo(va.Str)
		tb, fb := parseInfo(vb.Str)
		if strings.Join(ta, ",") != strings.Join(tb, ",") {
			t.Errorf("%q sections: redgo %v, redis %v", cmd, ta, tb)
		}
		for _, sec := range []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
			"Cluster"} {
			if got, want := strings.Join(fa[sec], ","), strings.Join(fb[sec], ","); got != want {
				t.Errorf("%q section %s fields:\n redgo %s\n redis %s", cmd, sec, got, want)
			}
		}
		if len(ta) > 0 && !strings.HasSuffix(va.Str, "\r\n") {
			t.Errorf("%q: INFO text must end with CRLF: %q", cmd, rawA[len(rawA)-10:])
		}
	}
	// RESP3 (go-redis's default) replies a verbatim string.
	txt, err := rc.Info(ctx, "server").Result()
	if err != nil || !strings.HasPrefix(txt, "# Server\r\nredis_version:7.0.15\r\n") {
		t.Fatalf("go-redis INFO: %q %v", txt, err)
	}
	r3 := dialRaw(t, s.Addr().String())
	r3.do("HELLO", "3")
	if _, raw := r3.do("INFO", "cluster"); string(raw) != "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n" {
		t.Errorf("RESP3 INFO cluster = %q", raw)
	}
	if _, raw := r3.do("INFO", "nosuch"); string(raw) != "=4\r\ntxt:\r\n" {
		t.Errorf("RESP3 empty INFO = %q", raw)
	}
}

func infoField(t *testing.T, text, field string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	t.Fatalf("INFO has no %s in\n%s", field, text)
	return ""
}

func TestInfoValues(t *testing.T) {
	s, rc := startServer(t, "--appendonly", "yes", "--maxmemory", "4gb")
	rc.Set(ctx, "a", "1", 0)
	rc.Set(ctx, "b", "2", time.Hour)
	rc.Get(ctx, "a")
	rc.Get(ctx, "nokey")
	rc.Do(ctx, "SELECT", "3")
	raw := dialRaw(t, s.Addr().String())
	raw.do("SELECT", "3")
	raw.do("SET", "x", "y")
	raw.do("NOSUCHCOMMAND")
	raw.do("GET", "x", "y")
	raw.do("CONFIG", "GET")
	raw.do("INCR", "x")

	info := rc.Info(ctx, "everything").Val()
	for field, want := range map[string]string{
		"redis_version":          "7.0.15",
		"redis_mode":             "standalone",
		"arch_bits":              "64",
		"role":                   "master",
		"connected_slaves":       "0",
		"master_repl_offset":     "0",
		"cluster_enabled":        "0",
		"loading":                "0",
		"aof_enabled":            "1",
		"maxmemory":              "4294967296",
		"maxmemory_human":        "4.00G",
		"maxmemory_policy":       "noeviction",
		"keyspace_hits":          "1",
		"keyspace_misses":        "1",
		"blocked_clients":        "0",
		"connected_clients":      "2",
		"tcp_port":               itoa(int64(s.Port())),
		"rdb_last_bgsave_status": "ok",
	} {
		if got := infoField(t, info, field); got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	for _, line := range []string{
		"db0:keys=2,expires=1,avg_ttl=0",
		"db3:keys=1,expires=0,avg_ttl=0",
		"errorstat_ERR:count=4",
	} {
		if !strings.Contains(info, "\r\n"+line+"\r\n") {
			t.Errorf("INFO lacks %q", line)
		}
	}
	for _, re := range []string{
		`\r\nrun_id:[0-9a-f]{40}\r\n`,
		`\r\nmaster_replid:[0-9a-f]{40}\r\n`,
		`\r\nused_memory:[1-9][0-9]*\r\nused_memory_human:[0-9.]+[BKMG]\r\nused_memory_rss:[1-9][0-9]*\r\n`,
		`\r\nused_cpu_sys:[0-9]+\.[0-9]{6}\r\nused_cpu_user:[0-9]+\.[0-9]{6}\r\n`,
		`\r\ncmdstat_set:calls=[0-9]+,usec=[0-9]+,usec_per_call=[0-9]+\.[0-9]{2},rejected_calls=0,failed_calls=0\r\n`,
		`\r\ncmdstat_get:calls=[0-9]+,usec=[0-9]+,usec_per_call=[0-9]+\.[0-9]{2},rejected_calls=1,failed_calls=0\r\n`,
		`\r\ncmdstat_config\|get:calls=[0-9]+,usec=[0-9]+,usec_per_call=[0-9]+\.[0-9]{2},rejected_calls=1,failed_calls=0\r\n`,
		`\r\ncmdstat_incr:calls=[0-9]+,usec=[0-9]+,usec_per_call=[0-9]+\.[0-9]{2},rejected_calls=0,failed_calls=[1-9]`,
		`\r\nprocess_id:[0-9]+\r\n`,
		`\r\nuptime_in_seconds:[0-9]+\r\n`,
		`\r\ntotal_commands_processed:[1-9][0-9]*\r\n`,
		`\r\ntotal_error_replies:[4-9]\r\n`,
	} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("INFO does not match %s", re)
		}
	}

	// instantaneous_ops_per_sec follows traffic within a couple of samples.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3000; i++ {
			raw.do("PING")
		}
	}()
	eventually(t, 5*time.Second, func() error {
		if v := infoField(t, rc.Info(ctx, "stats").Val(), "instantaneous_ops_per_sec"); v == "0" {
			return errorf("instantaneous_ops_per_sec still 0")
		}
		return nil
	})
	<-done
}

type testErr string

func (e testErr) Error() string { return string(e) }

func errorf(s string) error { return testErr(s) }

// TestBlockedCommandStats: a blocked command is counted when its wait
// ends, as Redis's updateStatsOnUnblock: CLIENT UNBLOCK ... ERROR makes it
// a failed call, and one served by another client's push reaches the
// slow log then (unit/info's and unit/slowlog's cases).
func TestBlockedCommandStats(t *testing.T) {
	s, _ := startServer(t, "--slowlog-log-slower-than", "0")
	addr := s.Addr().String()
	r := dialRaw(t, addr)
	r.do("CONFIG", "RESETSTAT")
	b := dialRaw(t, addr)
	v, _ := b.do("CLIENT", "ID")
	id := strconv.FormatInt(v.Int, 10)
	b.send("BLPOP", "list1", "0")
	waitBlocked := func() {
		eventually(t, 5*time.Second, func() error {
			if _, raw := r.do("INFO", "clients"); !strings.Contains(string(raw), "blocked_clients:1") {
				return fmt.Errorf("not blocked yet")
			}
			return nil
		})
	}
	waitBlocked()
	r.do("CLIENT", "UNBLOCK", id, "ERROR")
	if v, _ := b.read(); v.Type != '-' || !strings.HasPrefix(v.Str, "UNBLOCKED") {
		t.Fatalf("unblocked BLPOP replied %+v", v)
	}
	_, raw := r.do("INFO", "commandstats")
	if got := infoField(t, string(raw), "cmdstat_blpop"); !strings.HasPrefix(got, "calls=1,") || !strings.HasSuffix(got, ",rejected_calls=0,failed_calls=1") {
		t.Fatalf("cmdstat_blpop:%s", got)
	}
	_, raw = r.do("INFO", "stats")
	if got := infoField(t, string(raw), "total_error_replies"); got != "1" {
		t.Fatalf("total_error_replies:%s", got)
	}

	b.send("BLPOP", "l", "0")
	waitBlocked()
	r.do("MULTI")
	r.do("LPUSH", "l", "foo")
	r.do("SLOWLOG", "RESET")
	r.do("EXEC")
	b.read()
	v, _ = r.do("SLOWLOG", "GET")
	if len(v.Elems) == 0 || len(v.Elems[0].Elems) < 4 {
		t.Fatalf("SLOWLOG GET: %+v", v)
	}
	var got []string
	for _, a := range v.Elems[0].Elems[3].Elems {
		got = append(got, a.Str)
	}
	if !strings.EqualFold(strings.Join(got, " "), "blpop l 0") {
		t.Fatalf("latest slow log entry %q, want the served BLPOP", got)
	}
}
