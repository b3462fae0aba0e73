package server

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"redgo/internal/keyspace"
)

// keyInShard returns a key named prefix<n> whose shard is sh.
func keyInShard(prefix string, sh int) string {
	for n := 0; ; n++ {
		k := prefix + strconv.Itoa(n)
		if keyspace.ShardOf([]byte(k)) == sh {
			return k
		}
	}
}

// TestScriptUndeclaredKeyAtomic: outside cluster mode a script locks its
// declared key's shard only, and the shard of an undeclared key when it
// touches it (an out-of-order one here: a lower shard than the declared
// key's). Its read-modify-write of the undeclared key must stay atomic
// against clients incrementing that key at the same time (no update is
// lost), and the shard taken out of order must not deadlock against
// clients that take several shards (MSET, MULTI/EXEC, KEYS) or against
// FCALL of the same body.
func TestScriptUndeclaredKeyAtomic(t *testing.T) {
	s, rc := startServer(t)
	addr := s.Addr().String()
	declared := keyInShard("declared", 40)
	undeclared := keyInShard("undeclared", 3)
	near := keyInShard("near", 3) // the undeclared key's shard, another key
	// GET then SET of the undeclared key with a busy loop between: the
	// window where a concurrent INCR would be lost if its shard were not
	// held from the GET on.
	body := `local v = tonumber(redis.call('GET', ARGV[1]) or '0')
for i = 1, 2000 do end
redis.call('SET', ARGV[1], v + 1)
redis.call('INCR', KEYS[1])
return v`
	sha, err := rc.ScriptLoad(ctx, body).Result()
	if err != nil {
		t.Fatal(err)
	}
	lib := "#!lua name=lockslib\nredis.register_function('bump', function(KEYS, ARGV)\n" + body + "\nend)"
	if err := rc.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	const rounds = 300
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	run := func(fn func(c *redis.Client) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := goRedis(t, addr)
			for i := 0; i < rounds; i++ {
				if err := fn(c); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 2 {
		run(func(c *redis.Client) error { return c.EvalSha(ctx, sha, []string{declared}, undeclared).Err() })
		run(func(c *redis.Client) error { return c.FCall(ctx, "bump", []string{declared}, undeclared).Err() })
		run(func(c *redis.Client) error { return c.Incr(ctx, undeclared).Err() })
	}
	// Clients taking the undeclared key's shard and the declared key's
	// together, in ascending order.
	run(func(c *redis.Client) error { return c.MSet(ctx, near, "1", declared+"x", "y").Err() })
	run(func(c *redis.Client) error {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, near)
			p.Exists(ctx, declared)
			return nil
		})
		return err
	})
	run(func(c *redis.Client) error { return c.Keys(ctx, "declared*").Err() })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := strconv.Itoa(6 * rounds) // 2 EVALSHA + 2 FCALL + 2 INCR clients
	if got, _ := rc.Get(ctx, undeclared).Result(); got != want {
		t.Fatalf("undeclared key %s = %s, want %s: an update was lost", undeclared, got, want)
	}
	if got, _ := rc.Get(ctx, declared).Result(); got != strconv.Itoa(4*rounds) {
		t.Fatalf("declared key = %s, want %d", got, 4*rounds)
	}
	// A script that needs every shard (KEYS) takes the rest as it goes.
	n, err := rc.Eval(ctx, "return #redis.call('KEYS', '*')", []string{declared}).Int()
	if err != nil || n != 4 {
		t.Fatalf("KEYS from a script: %d %v, want 4 keys", n, err)
	}
	// Nothing is left locked: a command on every shard goes through.
	if err := rc.FlushAll(ctx).Err(); err != nil {
		t.Fatal(fmt.Errorf("FLUSHALL after the scripts: %w", err))
	}
}
