package server

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/config"
)

func TestConfigMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	oracle(t, s.Addr().String(), ra, [][]string{
		{"CONFIG", "GET", "MAXMEMORY"},
		{"CONFIG", "GET", "slave-read-only"},
		{"CONFIG", "GET", "replica-read-only"},
		{"CONFIG", "GET", "*read-only"},
		{"CONFIG", "GET", "nosuch"},
		{"CONFIG", "GET", "slowlog-max-len"},
		{"CONFIG", "GET", "bind"},
		{"CONFIG", "GET", "save"},
		{"CONFIG", "GET", "appendonly", "APPENDONLY"},
		{"CONFIG", "GET", "zset-max-listpack-*"},
		{"CONFIG", "GET", "slowlog*", "*log-slower-than"},
		{"CONFIG", "SET", "maxmemory"},
		{"CONFIG", "SET", "maxmemory", "10", "port"},
		{"CONFIG", "SET", "foo", "bar"},
		{"CONFIG", "SET", "maxmemory", "abc"},
		{"CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"},
		{"CONFIG", "SET", "daemonize", "yes"},
		{"CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "5"},
		{"CONFIG", "GET", "slowlog-log-slower-than", "slowlog-max-len"},
		{"CONFIG", "SET", "MAXMEMORY", "1000"},
		{"CONFIG", "GET", "maxmemory"},
		// maxmemory-clients: bytes or a percentage up to 100, checked in
		// argument order (unit/introspection "CONFIG SET rollback on set
		// error"). No maxmemory: a percentage of it would evict this
		// connection.
		{"CONFIG", "SET", "shutdown-on-sigint", "now force nosave"},
		{"CONFIG", "GET", "shutdown-on-sigint"},
		{"CONFIG", "SET", "shutdown-on-sigint", "default now"},
		{"CONFIG", "GET", "shutdown-on-sigint"},
		{"CONFIG", "SET", "shutdown-on-sigint", "save nosave"},
		{"CONFIG", "SET", "shutdown-on-sigint", "bogus"},
		{"CONFIG", "SET", "shutdown-on-sigint", ""},
		{"CONFIG", "SET", "shutdown-on-sigterm", "NOW now"},
		{"CONFIG", "GET", "shutdown-on-sigterm"},
		{"CONFIG", "SET", "shutdown-on-sigint", "default", "shutdown-on-sigterm", "default"},
		{"CONFIG", "GET", "shutdown-on-sig*"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"CONFIG", "SET", "maxmemory-clients", "200%"},
		{"CONFIG", "SET", "maxmemory-clients", "-5%"},
		{"CONFIG", "SET", "maxmemory-clients", "abc"},
		{"CONFIG", "SET", "maxmemory-clients", "-1"},
		{"CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients", "200%", "client-query-buffer-limit", "invalid"},
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "GET", "maxmemory-clients"},
		{"CONFIG", "SET", "maxmemory-clients", "1gb"},
		{"CONFIG", "GET", "maxmemory-clients"},
		{"CONFIG", "SET", "maxmemory-clients", "10%"},
		{"CONFIG", "GET", "maxmemory-clients"},
		{"CONFIG", "SET", "maxmemory-clients", "0"},
		// Protected directives with enable-protected-configs no (the
		// default).
		{"CONFIG", "SET", "dir", "somedir"},
		{"CONFIG", "SET", "dbfilename", "x.rdb"},
		{"CONFIG", "SET", "maxmemory", "5mb", "dir", "somedir"},
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"CONFIG", "SET", "maxmemory", "2mb", "timeout", "x"},
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "SET", "maxmemory", "0", "slowlog-log-slower-than", "10000"},
		{"CONFIG", "REWRITE"},
		{"CONFIG", "RESETSTAT"},
		{"CONFIG", "foo"},
		{"CONFIG", "GET"},
		{"CONFIG", "HELP"},
		{"~HELLO", "3"},
		{"CONFIG", "GET", "maxmemory", "timeout"},
		{"CONFIG", "GET", "nosuch"},
	})
}

func TestConfigSetAppliesAtRunTime(t *testing.T) {
	s, rc := startServer(t)
	if err := rc.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err(); err != nil {
		t.Fatal(err)
	}
	rc.Do(ctx, "SLOWLOG", "RESET")
	rc.Set(ctx, "a", "b", 0)
	if n := rc.Do(ctx, "SLOWLOG", "LEN").Val(); n.(int64) < 1 {
		t.Errorf("slowlog-log-slower-than 0 did not log: LEN %v", n)
	}
	rc.ConfigSet(ctx, "slowlog-max-len", "2")
	for i := 0; i < 5; i++ {
		rc.Ping(ctx)
	}
	if n := rc.Do(ctx, "SLOWLOG", "LEN").Val(); n.(int64) != 2 {
		t.Errorf("slowlog-max-len 2: LEN %v", n)
	}
	rc.ConfigSet(ctx, "slowlog-log-slower-than", "-1")
	rc.Do(ctx, "SLOWLOG", "RESET")
	rc.Ping(ctx)
	if n := rc.Do(ctx, "SLOWLOG", "LEN").Val(); n.(int64) != 0 {
		t.Errorf("slowlog disabled but LEN %v", n)
	}

	// maxclients acts on new connections.
	rc.ConfigSet(ctx, "maxclients", "1")
	c := dialRaw(t, s.Addr().String())
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := c.r.ReadString('\n')
	if line != "-ERR max number of clients reached\r\n" {
		t.Errorf("over maxclients got %q", line)
	}
	rc.ConfigSet(ctx, "maxclients", "100")

	// Encoding thresholds reach the data types.
	_, rc2 := startServer(t, "--enable-debug-command", "yes")
	t.Cleanup(func() { rc2.ConfigSet(ctx, "zset-max-listpack-entries", "128") })
	rc2.ZAdd(ctx, "z1", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"})
	if err := rc2.ConfigSet(ctx, "zset-max-listpack-entries", "1").Err(); err != nil {
		t.Fatal(err)
	}
	rc2.ZAdd(ctx, "z2", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"})
	for key, enc := range map[string]string{"z1": "listpack", "z2": "skiplist"} {
		if v := rc2.Do(ctx, "DEBUG", "OBJECT", key).Val(); !strings.Contains(v.(string), " encoding:"+enc+" ") {
			t.Errorf("DEBUG OBJECT %s = %v, want encoding %s", key, v, enc)
		}
	}

	// CONFIG GET returns a map (go-redis reads RESP3).
	m, err := rc.ConfigGet(ctx, "*max-*-entries*").Result()
	if err != nil || m["zset-max-listpack-entries"] != "128" {
		t.Errorf("CONFIG GET pattern = %v %v", m, err)
	}

	// RESETSTAT clears the counters INFO shows.
	rc.Get(ctx, "nokey")
	rc.Do(ctx, "NOSUCH")
	if err := rc.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	info := rc.Info(ctx, "stats", "commandstats", "errorstats").Val()
	for _, f := range []string{"keyspace_misses:0", "total_error_replies:0", "total_connections_received:0"} {
		if !strings.Contains(info, "\r\n"+f+"\r\n") {
			t.Errorf("after RESETSTAT INFO lacks %s", f)
		}
	}
	if strings.Contains(info, "cmdstat_get") || strings.Contains(info, "errorstat_") {
		t.Errorf("after RESETSTAT INFO still has stats:\n%s", info)
	}
}

func TestConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "redis.conf")
	os.WriteFile(path, []byte("# my config\nport 0\nmaxmemory 1mb\n"), 0o644)
	cfg, err := config.Load(path, []string{"--save", ""})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Log.SetOutput(io.Discard)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	rc := goRedis(t, s.Addr().String())
	rc.ConfigSet(ctx, "maxmemory", "2mb")
	rc.ConfigSet(ctx, "slowlog-max-len", "77")
	if err := rc.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	for _, want := range []string{"# my config", "maxmemory 2097152", "slowlog-max-len 77"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("rewritten config lacks %q:\n%s", want, got)
		}
	}
	if cfg2, err := config.Load(path, nil); err != nil || cfg2.Get("slowlog-max-len") != "77" {
		t.Errorf("rewritten config does not load back: %v", err)
	}
}
