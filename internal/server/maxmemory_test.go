package server

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func infoInt(t *testing.T, c *redis.Client, field string) int64 {
	t.Helper()
	v, err := c.InfoMap(ctx, "all").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range v {
		if s, ok := sec[field]; ok {
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
	}
	t.Fatalf("INFO has no %s", field)
	return 0
}

// fillPastLimit sets maxmemory 64 KiB above the current use and writes
// keys (volatile ones when ttl) until twice that much was written.
func fillPastLimit(t *testing.T, c *redis.Client, policy, prefix string, ttl bool) int64 {
	t.Helper()
	limit := infoInt(t, c, "used_memory") + 64<<10
	c.ConfigSet(ctx, "maxmemory-policy", policy)
	c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10))
	for i := 0; i < 3000; i++ {
		var err error
		if ttl {
			err = c.SetEx(ctx, fmt.Sprintf("%s%d", prefix, i), "xxxxxxxxxxxxxxxxxxxx", 1e9).Err()
		} else {
			err = c.Set(ctx, fmt.Sprintf("%s%d", prefix, i), "xxxxxxxxxxxxxxxxxxxx", 0).Err()
		}
		if err != nil {
			t.Fatalf("%s: write %d: %v", policy, i, err)
		}
	}
	return limit
}

func TestMaxmemoryPolicies(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			_, c := startServer(t)
			volatile := policy[:8] == "volatile"
			if volatile {
				// Keys without a TTL must survive any volatile policy.
				for i := 0; i < 50; i++ {
					c.Set(ctx, "keep"+strconv.Itoa(i), "v", 0)
				}
			}
			limit := fillPastLimit(t, c, policy, "k", true)
			// Slack for a client buffer counted meanwhile (the cron
			// refreshes that figure).
			if used := infoInt(t, c, "used_memory"); used > limit+32<<10 {
				t.Errorf("used_memory %d past maxmemory %d", used, limit)
			}
			if n := infoInt(t, c, "evicted_keys"); n == 0 {
				t.Error("no key evicted")
			}
			if volatile {
				for i := 0; i < 50; i++ {
					if c.Exists(ctx, "keep"+strconv.Itoa(i)).Val() != 1 {
						t.Fatalf("%s evicted keep%d, which has no TTL", policy, i)
					}
				}
			}
		})
	}
}

func TestMaxmemoryOOM(t *testing.T) {
	_, c := startServer(t)
	const oom = "OOM command not allowed when used memory > 'maxmemory'."
	fillPastLimit(t, c, "volatile-lru", "k", true)
	// No volatile key left to free room for more keys without a TTL.
	var err error
	for i := 0; i < 3000 && err == nil; i++ {
		err = c.Set(ctx, "plain"+strconv.Itoa(i), "xxxxxxxxxxxxxxxxxxxx", 0).Err()
	}
	if err == nil || err.Error() != oom {
		t.Fatalf("write past maxmemory with nothing to evict: %v", err)
	}
	c.ConfigSet(ctx, "maxmemory-policy", "noeviction")
	if err := c.Set(ctx, "x", "y", 0).Err(); err == nil || err.Error() != oom {
		t.Errorf("SET under noeviction: %v", err)
	}
	// Reads and deletions still run.
	if err := c.Get(ctx, "k1").Err(); err != nil && err != redis.Nil {
		t.Errorf("GET: %v", err)
	}
	// MULTI: queueing is refused, the transaction aborted.
	rc := dialRaw(t, c.Options().Addr)
	rc.do("MULTI")
	if v, _ := rc.do("GET", "k1"); v.Str != oom {
		t.Errorf("GET queued past maxmemory = %v", v)
	}
	if v, _ := rc.do("EXEC"); v.Str != "EXECABORT Transaction discarded because of previous errors." {
		t.Errorf("EXEC = %v", v)
	}
	// A script that writes first is refused; allow-oom lets it.
	if err := c.Eval(ctx, "return redis.call('set', 'a', 'b')", nil).Err(); err == nil || !strings.HasPrefix(err.Error(), oom+" script: ") {
		t.Errorf("EVAL writing past maxmemory: %v", err)
	}
	if err := c.Eval(ctx, "#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'b')", nil).Err(); err != nil {
		t.Errorf("allow-oom script: %v", err)
	}
	if err := c.Eval(ctx, "#!lua\nreturn 1", nil).Err(); err == nil || err.Error() != oom {
		t.Errorf("a script without allow-oom: %v", err)
	}
	c.ConfigSet(ctx, "maxmemory", "0")
	if err := c.Set(ctx, "x", "y", 0).Err(); err != nil {
		t.Errorf("SET after maxmemory 0: %v", err)
	}
}

// TestMaxmemoryEvictionPropagates: evicted keys leave the replica too.
func TestMaxmemoryEvictionPropagates(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t)
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	inSync(t, master, replica)
	fillPastLimit(t, master, "allkeys-random", "k", false)
	if infoInt(t, master, "evicted_keys") == 0 {
		t.Fatal("nothing evicted")
	}
	inSync(t, master, replica)
	eventually(t, 10e9, func() error {
		if m, r := master.DBSize(ctx).Val(), replica.DBSize(ctx).Val(); m != r {
			return fmt.Errorf("master has %d keys, replica %d", m, r)
		}
		return nil
	})
	if infoInt(t, replica, "evicted_keys") != 0 {
		t.Error("the replica evicted on its own")
	}
}

// TestMaxmemoryVsRedis compares the replies that do not depend on how
// much memory each server uses.
func TestMaxmemoryVsRedis(t *testing.T) {
	s, _ := startServer(t)
	r := startRedis(t)
	oracle(t, s.Addr().String(), r, [][]string{
		{"SET", "a", "x"},
		{"OBJECT", "FREQ", "a"},
		{"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"},
		{"SET", "b", "x"},
		{"OBJECT", "FREQ", "b"},
		{"OBJECT", "IDLETIME", "b"},
		{"OBJECT", "FREQ", "nokey"},
		{"CONFIG", "SET", "maxmemory-policy", "noeviction"},
		{"CONFIG", "SET", "maxmemory", "1"},
		{"SET", "c", "1"},
		{"GET", "a"},
		{"DEL", "a"},
		{"MULTI"},
		{"APPEND", "b", "y"},
		{"EXEC"},
		{"EVAL", "return redis.call('append', 'b', 'y')", "0"},
		{"EVAL", "return redis.pcall('append', 'b', 'y')['err']", "0"},
		{"EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'b')", "0"},
		{"EVAL", "#!lua\nreturn 1", "0"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"SET", "c", "1"},
	})
}

// TestClientBuffersCounted: a client's query buffer counts in used_memory
// while it holds a big partial command and stops counting when it leaves.
func TestClientBuffersCounted(t *testing.T) {
	s, c := startServer(t)
	c.Ping(ctx) // its connection is counted from here on
	before := s.mem.clients.Load()
	raw := dialRaw(t, s.Addr().String())
	raw.conn.Write([]byte("*2\r\n$3\r\nGET\r\n$4000000\r\n" + strings.Repeat("x", 3000000)))
	eventually(t, 5e9, func() error {
		if got := s.mem.clients.Load() - before; got < 3000000 {
			return fmt.Errorf("clients figure grew by %d", got)
		}
		return nil
	})
	if used := infoInt(t, c, "mem_clients_normal"); used < 3000000 {
		t.Errorf("mem_clients_normal = %d", used)
	}
	raw.conn.Close()
	eventually(t, 5e9, func() error {
		if got := s.mem.clients.Load(); got != before {
			return fmt.Errorf("clients figure %d after the client left, %d before", got, before)
		}
		return nil
	})
}

// RESTORE ... FREQ sets the LFU counter under an LFU policy, as Redis.
func TestRestoreFreq(t *testing.T) {
	s, _ := startServer(t)
	addrs := []string{s.Addr().String()}
	if _, err := exec.LookPath("redis-server"); err == nil {
		addrs = append(addrs, startRedis(t))
	}
	for _, addr := range addrs {
		c := dialRaw(t, addr)
		c.do("SET", "foo", "bar")
		dump, _ := c.do("DUMP", "foo")
		c.do("DEL", "foo")
		c.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
		if v, _ := c.do("RESTORE", "foo", "0", dump.Str, "FREQ", "100"); v.Str != "OK" {
			t.Fatalf("%s RESTORE: %+v", addr, v)
		}
		if v, _ := c.do("OBJECT", "FREQ", "foo"); v.Int != 100 {
			t.Fatalf("%s OBJECT FREQ after RESTORE FREQ 100: %+v", addr, v)
		}
	}
}

// A key already expired (but still stored) when it is WATCHed does not
// fail EXEC when it is then removed (by access, DEL or FLUSHDB), as Redis;
// a new value does.
func TestWatchStaleKeys(t *testing.T) {
	s, _ := startServer(t, "--enable-debug-command", "yes")
	addrs := []string{s.Addr().String()}
	if _, err := exec.LookPath("redis-server"); err == nil {
		addrs = append(addrs, startRedis(t))
	}
	for _, addr := range addrs {
		c := dialRaw(t, addr)
		c.do("DEBUG", "SET-ACTIVE-EXPIRE", "0")
		for _, between := range [][]string{nil, {"GET", "x"}, {"DEL", "x"}, {"FLUSHDB"}, {"SET", "x", "new"}} {
			c.do("DEL", "x")
			c.do("SET", "x", "foo", "PX", "1")
			time.Sleep(5 * time.Millisecond)
			c.do("WATCH", "x")
			if between != nil {
				c.do(between...)
			}
			c.do("MULTI")
			c.do("PING")
			v, _ := c.do("EXEC")
			failed := v.Null || v.Type == '*' && v.Elems == nil
			if want := len(between) > 0 && between[0] == "SET"; failed != want {
				t.Errorf("%s: WATCH stale key, %v, EXEC: %+v (failed %v, want %v)", addr, between, v, failed, want)
			}
		}
		c.do("DEBUG", "SET-ACTIVE-EXPIRE", "1")
	}
}
