package server

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/resp"
)

// scriptCorpus is run on redgo and on redis-server; every reply must be
// the same bytes. Each entry is one command; "FLUSHALL" entries reset
// both sides between groups.
var scriptCorpus = [][]string{
	// counters
	{"EVAL", "return redis.call('INCR', KEYS[1])", "1", "counter"},
	{"EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", "1", "counter", "41"},
	{"EVAL", "local v = redis.call('GET', KEYS[1]) return tonumber(v) * 2", "1", "counter"},
	// compare-and-set
	{"SET", "cas", "old"},
	{"EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2]) end return false", "1", "cas", "old", "new"},
	{"EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2]) end return false", "1", "cas", "old", "newer"},
	{"GET", "cas"},
	// token bucket rate limiter
	{"EVAL", tokenBucket, "1", "bucket", "10", "1", "1000", "3"},
	{"EVAL", tokenBucket, "1", "bucket", "10", "1", "1000", "8"},
	{"EVAL", tokenBucket, "1", "bucket", "10", "1", "1000", "1"},
	{"HGET", "bucket", "tokens"},
	// lock with expiry
	{"EVAL", "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])", "1", "lock", "owner1", "10000"},
	{"EVAL", "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])", "1", "lock", "owner2", "10000"},
	{"EVAL", unlock, "1", "lock", "owner2"},
	{"EVAL", unlock, "1", "lock", "owner1"},
	{"EXISTS", "lock"},
	// the EVAL documentation's examples
	{"EVAL", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "key1", "key2", "first", "second"},
	{"EVAL", "return redis.call('SET',KEYS[1],'bar')", "1", "foo"},
	{"EVAL", "return redis.call('GET',KEYS[1])", "1", "foo"},
	{"EVAL", "return {1,2,3.3333,'foo',nil,'bar'}", "0"},
	{"EVAL", "return {1,2,3,'ciao',{1,2}}", "0"},
	{"EVAL", "return redis.pcall('INCR', KEYS[1])", "1", "foo"},
	{"EVAL", "return redis.call('INCR', KEYS[1])", "1", "foo"},
	{"EVAL", "return redis.error_reply('My Error')", "0"},
	{"EVAL", "return redis.status_reply('TOTALLY OK')", "0"},
	{"EVAL", "return {err='My Error'}", "0"},
	{"EVAL", "return {ok='fine'}", "0"},
	{"EVAL", "return redis.sha1hex('')", "0"},
	{"EVAL", "redis.log(redis.LOG_WARNING, 'Something is wrong with this script.')", "0"},
	{"EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", "1", "foo"},
	{"EVAL", "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'x')", "1", "foo"},
	{"EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "foo"},
	{"EVAL_RO", "return redis.call('DEL', KEYS[1])", "1", "foo"},
	{"EVAL", "#!lua flags=bogus\nreturn 1", "0"},
	{"EVAL", "#!other\nreturn 1", "0"},
	{"EVAL", "#!lua name=x\nreturn 1", "0"},
	// runtime errors as Lua 5.1 words them
	{"EVAL", "local t = {} t.x()", "0"},
	{"EVAL", "local t = {} return t:m()", "0"},
	{"EVAL", "local a; return a.b", "0"},
	{"EVAL", "local t = {} return t.x + 1", "0"},
	{"EVAL", "local ok, e = pcall(function() return redis.nope() end) return e", "0"},
	// a table's hash part packs in Lua's order
	{"EVAL", "local a = {x=nil,y=5} local b = {x=a} a['x'] = b return cmsgpack.pack(a)", "0"},
	// conversions, Lua -> RESP
	{"EVAL", "return 1", "0"},
	{"EVAL", "return 1.99", "0"},
	{"EVAL", "return -1.99", "0"},
	{"EVAL", "return 'str'", "0"},
	{"EVAL", "return true", "0"},
	{"EVAL", "return false", "0"},
	{"EVAL", "return nil", "0"},
	{"EVAL", "return {}", "0"},
	{"EVAL", "return {1,{2,{3}},'x'}", "0"},
	{"EVAL", "return {double=3.5}", "0"},
	{"EVAL", "return {double=1/0}", "0"},
	{"EVAL", "return {big_number='1234567890123456789012'}", "0"},
	{"EVAL", "return {map={k='v'}}", "0"},
	{"EVAL", "return {set={m=true}}", "0"},
	{"EVAL", "return {verbatim_string={format='txt',string='hello'}}", "0"},
	{"EVAL", "redis.setresp(3) return true", "0"},
	{"EVAL", "redis.setresp(3) return false", "0"},
	{"EVAL", "return math.huge", "0"},
	{"EVAL", "return 0/0", "0"},
	{"EVAL", "return _G", "0"},
	// conversions, RESP -> Lua
	{"RPUSH", "list", "a", "b"},
	{"HSET", "hash", "f", "v"},
	{"SADD", "set", "m"},
	{"ZADD", "zset", "1.5", "m"},
	{"EVAL", "return redis.call('LRANGE', KEYS[1], 0, -1)", "1", "list"},
	{"EVAL", "return type(redis.call('GET', 'nokey'))", "0"},
	{"EVAL", "return redis.call('GET', 'nokey')", "0"},
	{"EVAL", "return type(redis.call('LPOP', 'nolist', 1))", "0"},
	{"EVAL", "local r = redis.call('PING') return {type(r), r.ok}", "0"},
	{"EVAL", "local r = redis.pcall('INCR', 'list') return {type(r), r.err}", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('HGETALL', 'hash')", "0"},
	{"EVAL", "redis.setresp(3) local r = redis.call('HGETALL', 'hash') return r.map.f", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('SMEMBERS', 'set')", "0"},
	{"EVAL", "redis.setresp(3) local r = redis.call('SMEMBERS', 'set') return tostring(r.set.m)", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'zset', 'm')", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'zset', 'm').double * 2", "0"},
	{"EVAL", "redis.setresp(3) return type(redis.call('GET', 'nokey'))", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('GET', 'nokey')", "0"},
	{"EVAL", "return redis.call('ZSCORE', 'zset', 'm')", "0"},
	{"EVAL", "redis.call('SET', 'n', 0.1) return redis.call('GET', 'n')", "0"},
	{"EVAL", "redis.call('SET', 'n', 9007199254740991) return redis.call('GET', 'n')", "0"},
	{"EVAL", "redis.call('SET', 'n', 1e20) return redis.call('GET', 'n')", "0"},
	{"EVAL", "return redis.call('SET', 'n', {})", "0"},
	// errors
	{"EVAL", "return redis.call('NOSUCH')", "0"},
	{"EVAL", "return redis.call('GET')", "0"},
	{"EVAL", "return redis.call('CONFIG', 'NOSUCH')", "0"},
	{"EVAL", "return redis.call('BLPOP', 'x', 0)", "0"},
	{"EVAL", "return redis.call()", "0"},
	{"EVAL", "return redis.pcall()", "0"},
	{"EVAL", "return nosuch", "0"},
	{"EVAL", "nosuch = 1", "0"},
	{"EVAL", "redis.call = nil", "0"},
	{"EVAL", "print('x')", "0"},
	{"EVAL", "return os.time()", "0"},
	{"EVAL", "return loadfile", "0"},
	{"EVAL", "return dofile", "0"},
	{"EVAL", "error('boom')", "0"},
	{"EVAL", "error({err='CODE boom'})", "0"},
	{"EVAL", "local ok, e = pcall(redis.call, 'NOSUCH') return {tostring(ok), e}", "0"},
	{"EVAL", "return 1 + nil", "0"},
	{"EVAL", "return redis.setresp(4)", "0"},
	{"EVAL", "return redis.set_repl(99)", "0"},
	{"EVAL", "return redis.log()", "0"},
	{"EVAL", "return redis.log('x', 'y')", "0"},
	{"EVAL", "return 1", "-1"},
	{"EVAL", "return 1", "5"},
	{"EVAL", "return 1", "x"},
	{"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"},
	{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
	{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"},
	// SCRIPT
	{"SCRIPT", "LOAD", "return 'loaded'"},
	{"EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"},
	{"EVALSHA_RO", "b534286061d4b9e4026607613b95c06c06015ae8", "0"},
	{"SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "ffffffffffffffffffffffffffffffffffffffff"},
	{"SCRIPT", "KILL"},
	{"SCRIPT", "FLUSH", "BAD"},
	{"SCRIPT", "FLUSH", "ASYNC"},
	{"SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"},
	// libraries
	{"EVAL", "return cjson.encode({1,2,'x/y',cjson.null,3.14159265358979,{a=1}})", "0"},
	{"EVAL", "local t = cjson.decode('[1,2.5,\"s\",{\"a\":[true]}]') return {t[1], t[3], tostring(t[4].a[1])}", "0"},
	{"EVAL", "return cjson.decode('{bad')", "0"},
	{"EVAL", "return cjson.encode({[1]=1,[30]=2})", "0"},
	{"EVAL", "return {bit.band(0xff, 0x0f), bit.bor(1,2,4), bit.tohex(255), bit.tohex(-1, -4), bit.bnot(0)}", "0"},
	{"EVAL", "math.randomseed(42) return {math.random(100), math.random(100), math.random(1, 6)}", "0"},
	{"EVAL", "math.randomseed(ARGV[1]) return tostring(math.random())", "0", "10"},
	{"EVAL", "return {tostring(0.1), tostring(1/3), tostring(-0.5), tostring(1e100)}", "0"},
	{"EVAL", "return tostring()", "0"},
	{"EVAL", "local s = struct.pack('>I2', 258) return {#s, struct.unpack('>I2', s)}", "0"},
	{"EVAL", "local t = cmsgpack.unpack(cmsgpack.pack({1, 2, 'x', 0.5})) return {t[1], t[3], tostring(t[4])}", "0"},
}

// functionCorpus is scriptCorpus for FUNCTION and FCALL. (Lua syntax
// errors are left out: gopher-lua's parser words them its own way.)
var functionCorpus = [][]string{
	{"FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('knock', function(keys, args) return 'who' end)"},
	{"FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('knock', function() return 1 end)"},
	{"FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nredis.register_function{function_name='knock', callback=function(keys, args) return redis.call('INCR', keys[1]) end, flags={'no-writes'}, description='d'}"},
	{"FCALL", "knock", "1", "k"},
	{"FCALL_RO", "knock", "1", "k"},
	{"FCALL", "KNOCK", "0"},
	{"FCALL", "nosuch", "0"},
	{"FCALL", "knock", "x"},
	{"FCALL", "knock", "-1"},
	{"FCALL", "knock", "3", "a"},
	{"FUNCTION", "LOAD", "return 1"},
	{"FUNCTION", "LOAD", "#!lua\nreturn 1"},
	{"FUNCTION", "LOAD", "#!lua name=a-b\nreturn 1"},
	{"FUNCTION", "LOAD", "#!lua name=x foo=bar\nreturn 1"},
	{"FUNCTION", "LOAD", "#!nolua name=x\nreturn 1"},
	{"FUNCTION", "LOAD", "#!lua name=x\nreturn 1"},
	{"FUNCTION", "LOAD", "#!lua name=x\nredis.call('PING')"},
	{"FUNCTION", "LOAD", "#!lua name=x\nreturn math.random()"},
	{"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f')"},
	{"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f', 1)"},
	{"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bogus'}}"},
	{"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('knock', function() end)"},
	{"FUNCTION", "LOAD", "#!lua name=y\nlocal a = 1\nredis.register_function('f1', function() error('boom') end)"},
	{"FCALL", "f1", "0"},
	{"FUNCTION", "LIST", "LIBRARYNAME", "my*"},
	{"FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "y"},
	{"FUNCTION", "STATS"},
	{"FUNCTION", "KILL"},
	{"FUNCTION", "DELETE", "nosuch"},
	{"FUNCTION", "DELETE", "y"},
	{"FUNCTION", "FLUSH", "BAD"},
	{"FUNCTION", "FLUSH"},
	{"FUNCTION", "LIST"},
}

// TestFunctionOracle runs functionCorpus on redgo and redis-server.
func TestFunctionOracle(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, s.Addr().String()), dialRaw(t, redisAddr)
		for _, c := range [][]string{{"HELLO", proto}, {"FLUSHALL"}, {"FUNCTION", "FLUSH"}} {
			a.do(c...)
			b.do(c...)
		}
		for _, cmd := range functionCorpus {
			_, ra := a.do(cmd...)
			_, rb := b.do(cmd...)
			if !bytes.Equal(ra, rb) {
				t.Errorf("RESP%s %q:\n redgo: %q\n redis: %q", proto, cmd, ra, rb)
			}
		}
	}
}

const tokenBucket = `
local cap, rate, now, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + (now - ts) * rate)
local ok = 0
if tokens >= want then tokens = tokens - want ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return {ok, tokens}`

const unlock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

// TestScriptOracle runs the corpus on redgo and redis-server, in RESP2
// and RESP3, and compares the reply bytes.
func TestScriptOracle(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, s.Addr().String()), dialRaw(t, redisAddr)
		for _, c := range [][]string{{"HELLO", proto}, {"FLUSHALL"}, {"SCRIPT", "FLUSH"}} {
			a.do(c...)
			b.do(c...)
		}
		for _, cmd := range scriptCorpus {
			_, ra := a.do(cmd...)
			_, rb := b.do(cmd...)
			if !bytes.Equal(ra, rb) {
				t.Errorf("RESP%s %q:\n redgo: %q\n redis: %q", proto, cmd, ra, rb)
			}
		}
	}
}

// TestScriptEffectsAOF checks that what scripts wrote survives an AOF
// reload and reaches the AOF wrapped in MULTI/EXEC.
func TestScriptEffectsAOF(t *testing.T) {
	dir := t.TempDir()
	s, _, err := startAOF(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.Addr().String())
	c.do("EVAL", "redis.call('SET', 'a', '1') redis.call('INCR', 'a') redis.call('RPUSH', 'l', 'x', 'y') return redis.call('SPOP', 's')", "0")
	c.do("SADD", "s", "m1", "m2", "m3")
	c.do("EVAL", "redis.call('SPOP', 's') redis.call('EXPIRE', 'a', 1000) return 1", "0")
	c.do("SELECT", "2")
	c.do("EVAL", "redis.call('SET', 'db2', 'v') redis.call('SELECT', 0) redis.call('SET', 'db0', 'v') return 1", "0")
	c.do("SELECT", "0")
	c.do("MULTI")
	c.do("EVAL", "return redis.call('SET', 'inmulti', 'v')", "0")
	c.do("SET", "after", "v")
	c.do("EXEC")
	_, want := c.do("DEBUG", "DIGEST")
	_, smembers := c.do("SMEMBERS", "s")
	s.Close()

	s2, _, err := startAOF(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	c2 := dialRaw(t, s2.Addr().String())
	_, got := c2.do("SMEMBERS", "s")
	if !bytes.Equal(got, smembers) {
		t.Errorf("after reload SMEMBERS = %q, want %q", got, smembers)
	}
	if _, v := c2.do("DEBUG", "DIGEST"); !bytes.Equal(v, want) {
		t.Errorf("digest after reload %q, want %q", v, want)
	}
	for _, k := range []string{"a", "l", "db0", "inmulti", "after"} {
		if _, v := c2.do("EXISTS", k); string(v) != ":1\r\n" {
			t.Errorf("key %q lost in the AOF reload", k)
		}
	}
	c2.do("SELECT", "2")
	if _, v := c2.do("GET", "db2"); string(v) != "$1\r\nv\r\n" {
		t.Errorf("db2 key after reload: %q", v)
	}
}

// TestScriptBusyKill: a looping script makes others get -BUSY; SCRIPT
// KILL stops it when it has not written, refuses when it has.
func TestScriptBusyKill(t *testing.T) {
	s, _ := startServer(t, "--busy-reply-threshold", "20")
	addr := s.Addr().String()
	runner, other := dialRaw(t, addr), dialRaw(t, addr)
	runner.send("EVAL", "local i = 0 while true do i = i + 1 end", "0")
	waitBusy(t, other)
	if _, v := other.do("SCRIPT", "KILL"); string(v) != "+OK\r\n" {
		t.Fatalf("SCRIPT KILL = %q", v)
	}
	_, v := runner.read()
	if !strings.HasPrefix(string(v), "-ERR Script killed by user with SCRIPT KILL...") {
		t.Fatalf("killed script replied %q", v)
	}
	if _, v := other.do("PING"); string(v) != "+PONG\r\n" {
		t.Fatalf("PING after kill = %q", v)
	}
	if _, v := other.do("SCRIPT", "KILL"); !strings.HasPrefix(string(v), "-NOTBUSY") {
		t.Fatalf("SCRIPT KILL with nothing running = %q", v)
	}
	// pcall cannot catch a kill.
	runner.send("EVAL", "while true do pcall(function() while true do end end) end", "0")
	waitBusy(t, other)
	other.do("SCRIPT", "KILL")
	if _, v := runner.read(); !strings.Contains(string(v), "Script killed") {
		t.Fatalf("pcall-protected script replied %q", v)
	}
	// A script that wrote cannot be killed; SHUTDOWN NOSAVE ends it.
	runner.send("EVAL", "redis.call('SET', 'x', 1) while true do end", "0")
	waitBusy(t, other)
	if _, v := other.do("SCRIPT", "KILL"); !strings.HasPrefix(string(v), "-UNKILLABLE") {
		t.Fatalf("SCRIPT KILL of a writer = %q", v)
	}
	if _, v := other.do("SHUTDOWN"); !strings.HasPrefix(string(v), "-BUSY") {
		t.Fatalf("SHUTDOWN without NOSAVE = %q", v)
	}
	other.send("SHUTDOWN", "NOSAVE")
	other.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := other.r.ReadByte(); err == nil {
		t.Fatal("SHUTDOWN NOSAVE replied")
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SHUTDOWN NOSAVE did not stop the server")
	}
}

func waitBusy(t *testing.T, c *rawConn) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if _, v := c.do("PING"); !strings.HasPrefix(string(v), "-BUSY") {
			return fmt.Errorf("PING = %q", v)
		}
		return nil
	})
}

var _ = resp.Writer{}

// TestFunctionsRDBWithRedis: libraries saved by redgo load in
// redis-server from dump.rdb, and the other way round.
func TestFunctionsRDBWithRedis(t *testing.T) {
	lib := "#!lua name=mylib\nredis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)"
	dir := t.TempDir()
	s := mustStartRDB(t, dir)
	c := dialRaw(t, s.Addr().String())
	if _, v := c.do("FUNCTION", "LOAD", lib); string(v) != "$5\r\nmylib\r\n" {
		t.Fatalf("FUNCTION LOAD = %q", v)
	}
	c.do("SET", "k", "v")
	if _, v := c.do("SAVE"); string(v) != "+OK\r\n" {
		t.Fatalf("SAVE = %q", v)
	}
	s.Close()
	r := dialRaw(t, startRedis(t, "--dir", dir))
	if _, v := r.do("FCALL", "hello", "0", "redis"); string(v) != "$11\r\nhello redis\r\n" {
		t.Fatalf("redis-server FCALL of redgo's library = %q", v)
	}
	lib2 := "#!lua name=lib2\nredis.register_function{function_name='bye', callback=function() return 'bye' end, flags={'no-writes'}}"
	r.do("FUNCTION", "LOAD", lib2)
	r.do("SAVE")

	s2 := mustStartRDB(t, dir)
	c2 := dialRaw(t, s2.Addr().String())
	if _, v := c2.do("FCALL_RO", "bye", "0"); string(v) != "$3\r\nbye\r\n" {
		t.Fatalf("FCALL_RO of redis's library = %q", v)
	}
	if _, v := c2.do("FCALL", "hello", "0", "again"); string(v) != "$11\r\nhello again\r\n" {
		t.Fatalf("FCALL after the round trip = %q", v)
	}
	if _, v := c2.do("GET", "k"); string(v) != "$1\r\nv\r\n" {
		t.Fatalf("GET k = %q", v)
	}
}

// TestScriptEffectsReplica: a script's effects (random choices included)
// and a library reach a replica; the replica ends with the same data.
func TestScriptEffectsReplica(t *testing.T) {
	ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t, "--enable-debug-command", "yes")
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	inSync(t, master, replica)
	master.SAdd(ctx, "s", "a", "b", "c", "d", "e")
	for _, script := range []string{
		"return redis.call('SPOP', 's')",
		"redis.call('SET', 'r', math.random(1000)) redis.call('EXPIRE', 'r', 100) return redis.call('SRANDMEMBER', 's')",
		"for i = 1, 10 do redis.call('RPUSH', 'l', i) end return redis.call('LLEN', 'l')",
		"redis.call('set','foo1','bar1') redis.call('select','10') redis.call('incr','x') redis.call('select','11') redis.call('incr','z')",
		"redis.call('set','foo1','bar1') redis.call('select','10') redis.call('incr','x') redis.call('select','11') redis.call('incr','z')",
	} {
		if err := master.Eval(ctx, script, nil).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%s: %v", script, err)
		}
	}
	lib := "#!lua name=rl\nredis.register_function('inc', function(keys) return redis.call('INCR', keys[1]) end)"
	master.Do(ctx, "FUNCTION", "LOAD", lib)
	master.Do(ctx, "FCALL", "inc", "1", "counter")
	if n, err := master.Do(ctx, "WAIT", "1", "5000").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	sameDigest(t, master, replica)
	if v, err := replica.Do(ctx, "FCALL_RO", "inc", "1", "counter").Result(); err == nil {
		t.Errorf("FCALL_RO of a write function on the replica = %v", v)
	}
	if fns, err := replica.Do(ctx, "FUNCTION", "LIST").Slice(); err != nil || len(fns) != 1 {
		t.Errorf("FUNCTION LIST on the replica = %v, %v", fns, err)
	}
}

// TestFunctionDumpRestoreWithRedis: FUNCTION DUMP payloads are the same
// bytes as Redis's and restore on either side; the errors match.
func TestFunctionDumpRestoreWithRedis(t *testing.T) {
	s, _ := startServer(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, startRedis(t))
	lib := "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)"
	a.do("FUNCTION", "LOAD", lib)
	b.do("FUNCTION", "LOAD", lib)
	va, ra := a.do("FUNCTION", "DUMP")
	_, rb := b.do("FUNCTION", "DUMP")
	if !bytes.Equal(ra, rb) {
		t.Fatalf("FUNCTION DUMP:\n redgo: %q\n redis: %q", ra, rb)
	}
	payload := va.Str
	for _, cmd := range [][]string{
		{"FUNCTION", "RESTORE", payload},
		{"FUNCTION", "RESTORE", payload, "BAD"},
		{"FUNCTION", "RESTORE", "garbage"},
		{"FUNCTION", "RESTORE", payload, "REPLACE"},
		{"FUNCTION", "FLUSH"},
		{"FUNCTION", "RESTORE", payload},
		{"FCALL", "f1", "0"},
		{"FUNCTION", "RESTORE", payload, "FLUSH"},
		{"FUNCTION", "LIST"},
	} {
		_, ra := a.do(cmd...)
		_, rb := b.do(cmd...)
		if !bytes.Equal(ra, rb) {
			t.Errorf("%q:\n redgo: %q\n redis: %q", cmd[:2], ra, rb)
		}
	}
}

// TestScriptClusterOracle compares scripts' cluster rules with a
// single-node redis-server cluster that serves slots 0-10000 only.
func TestScriptClusterOracle(t *testing.T) {
	args := []string{"--cluster-require-full-coverage", "no"}
	redisAddr := startRedisCluster(t, args...)
	_, addr := startCluster(t, "", args...)
	a, b := dialRaw(t, addr), dialRaw(t, redisAddr)
	for _, c := range []*rawConn{a, b} {
		c.do("CLUSTER", "ADDSLOTSRANGE", "0", "10000")
	}
	eventually(t, 10*time.Second, func() error {
		for _, c := range []*rawConn{a, b} {
			if v := c.str("CLUSTER", "INFO"); !strings.Contains(v, "cluster_state:ok") {
				return fmt.Errorf("cluster not ok: %s", v)
			}
		}
		return nil
	})
	// foo: slot 12182 (not served); bar: 5061; {bar}x: 5061; key: 12539 (not served); a: 15495; b: 3300.
	for _, cmd := range [][]string{
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "bar"},
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "foo"},
		{"EVAL", "return 1", "2", "bar", "b"},
		{"EVAL", "return redis.call('SET', '{bar}x', 1)", "1", "bar"},
		{"EVAL", "return redis.call('SET', 'b', 1)", "1", "bar"},
		{"EVAL", "#!lua\nreturn redis.call('SET', 'b', 1)", "1", "bar"},
		{"EVAL", "return redis.call('GET', 'foo')", "0"},
		{"EVAL", "redis.call('SET', 'bar', 1) return redis.call('SET', 'b', 1)", "0"},
		{"EVAL", "#!lua\nredis.call('SET', 'bar', 1) return redis.call('SET', 'b', 1)", "0"},
		{"EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('SET', 'bar', 1) return redis.call('SET', 'b', 1)", "0"},
		{"EVAL", "#!lua flags=no-cluster\nreturn 1", "0"},
		{"EVAL", "return redis.call('MGET', 'bar', 'b')", "0"},
		{"EVAL", "return redis.call('SELECT', 1)", "0"},
		{"FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('f', function(k) redis.call('SET', 'bar', 1) return redis.call('SET', 'b', 1) end)"},
		{"FCALL", "f", "0"},
		{"FCALL", "f", "1", "foo"},
	} {
		_, ra := a.do(cmd...)
		_, rb := b.do(cmd...)
		if !bytes.Equal(ra, rb) {
			t.Errorf("%q:\n redgo: %q\n redis: %q", cmd, ra, rb)
		}
	}
}

// TestFunctionsSurviveAOFRewrite: libraries are in the AOF after a
// rewrite, with an RDB base and with a RESP base.
func TestFunctionsSurviveAOFRewrite(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		dir := t.TempDir()
		s, _, err := startAOF(t, dir, "--aof-use-rdb-preamble", preamble)
		if err != nil {
			t.Fatal(err)
		}
		c := dialRaw(t, s.Addr().String())
		c.do("FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('f', function() return 'f' end)")
		c.do("FCALL", "f", "0")
		c.do("BGREWRITEAOF")
		eventually(t, 10*time.Second, func() error {
			if v := c.str("INFO", "persistence"); !strings.Contains(v, "aof_rewrite_in_progress:0") ||
				!strings.Contains(v, "aof_rewrites:1") {
				return fmt.Errorf("rewrite not done")
			}
			return nil
		})
		s.Close()
		s2, _, err := startAOF(t, dir, "--aof-use-rdb-preamble", preamble)
		if err != nil {
			t.Fatal(err)
		}
		if _, v := dialRaw(t, s2.Addr().String()).do("FCALL", "f", "0"); string(v) != "$1\r\nf\r\n" {
			t.Errorf("preamble %s: FCALL after rewrite and restart = %q", preamble, v)
		}
	}
}

// TestScriptStreamBlockVsRedis: a script may not block on a stream.
func TestScriptStreamBlockVsRedis(t *testing.T) {
	s, _ := startServer(t)
	r := startRedis(t)
	oracle(t, s.Addr().String(), r, [][]string{
		{"EVAL", "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", "1", "s"},
		{"EVAL", "return redis.pcall('XREADGROUP','group','g','c','BLOCK',0,'STREAMS','s','>')", "1", "s"},
		{"EVAL", "return redis.pcall('xread','COUNT',1,'STREAMS','s','0')", "1", "s"},
	})
}

// staleCorpus runs on a replica whose link is down with
// replica-serve-stale-data no (REPLICAOF a port nobody listens on).
var staleCorpus = [][]string{
	{"FUNCTION", "LOAD", "REPLACE", "#!lua name=test\n" +
		"redis.register_function{function_name='f1', callback=function() return 'hello' end, flags={'no-writes'}}\n" +
		"redis.register_function{function_name='f2', callback=function() return 'hello' end, flags={'allow-stale', 'no-writes'}}\n" +
		"redis.register_function{function_name='f3', callback=function() return redis.call('get', 'x') end, flags={'allow-stale', 'no-writes'}}\n" +
		"redis.register_function{function_name='f4', callback=function() return redis.call('ping') end, flags={'allow-stale', 'no-writes'}}\n" +
		"redis.register_function{function_name='f5', callback=function() return 1 end}"},
	{"CONFIG", "SET", "replica-serve-stale-data", "no"},
	{"REPLICAOF", "127.0.0.1", "1"},
	{"FCALL", "f1", "0"},
	{"FCALL", "f2", "0"},
	{"FCALL", "f3", "0"},
	{"FCALL", "f4", "0"},
	{"FCALL", "f5", "0"},
	{"EVAL", "return 1", "0"},
	{"EVAL", "#!lua\nreturn 1", "0"},
	{"EVAL", "#!lua flags=no-writes\nreturn 1", "0"},
	{"EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.pcall('get', 'x')", "0"},
	{"EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.pcall('set', 'x', '1')", "0"},
	{"EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.pcall('nosuch')", "0"},
	{"REPLICAOF", "NO", "ONE"},
	{"CONFIG", "SET", "replica-serve-stale-data", "yes"},
	{"FUNCTION", "FLUSH"},
}

// TestScriptStaleOracle: scripts on a stale replica get Redis's errors
// ("FUNCTION - allow stale" of Redis's unit/functions).
func TestScriptStaleOracle(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, redisAddr)
	for _, cmd := range staleCorpus {
		_, ra := a.do(cmd...)
		_, rb := b.do(cmd...)
		if !bytes.Equal(ra, rb) {
			t.Errorf("%q:\n redgo: %q\n redis: %q", cmd, ra, rb)
		}
	}
}

// A command a script calls that is refused before it runs counts as a
// rejected call of that command, as Redis ("Consistent eval error
// reporting" of Redis's unit/scripting).
func TestScriptRejectedCallsOracle(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	var out [2]string
	for j, addr := range []string{s.Addr().String(), redisAddr} {
		c := dialRaw(t, addr)
		for _, cmd := range [][]string{
			{"CONFIG", "RESETSTAT"},
			{"EVAL", "return redis.pcall('get')", "0"},
			{"EVAL", "return redis.pcall('multi')", "0"},
			{"EVAL_RO", "return redis.pcall('set', 'x', 'y')", "0"},
			{"EVAL", "#!lua flags=no-writes\nreturn redis.pcall('del', 'x')", "0"},
			{"CONFIG", "SET", "maxmemory", "1"},
			{"EVAL", "return redis.pcall('set', 'x', 'y')", "1", "x"},
			{"CONFIG", "SET", "maxmemory", "0"},
			{"EVAL", "return redis.pcall('select', 99)", "0"},
			{"EVAL", "return redis.call('select', 99)", "0"},
			{"EVAL", "local t = redis.pcall('select', 99) return 1", "0"},
			{"EVAL", "return redis.error_reply('MY err')", "0"},
			{"EVAL", "error('boom')", "0"},
			{"EVAL", "return redis.pcall('nosuch')", "0"},
		} {
			c.do(cmd...)
		}
		e, _ := c.do("INFO", "errorstats")
		for _, line := range strings.Split(e.Str, "\r\n") {
			if strings.HasPrefix(line, "errorstat_") {
				out[j] += line + "\n"
			}
		}
		st, _ := c.do("INFO", "stats")
		for _, line := range strings.Split(st.Str, "\r\n") {
			if strings.HasPrefix(line, "total_error_replies:") {
				out[j] += line + "\n"
			}
		}
		v, _ := c.do("INFO", "commandstats")
		for _, line := range strings.Split(v.Str, "\r\n") {
			for _, name := range []string{"get", "multi", "set", "del", "select", "eval", "eval_ro"} {
				if strings.HasPrefix(line, "cmdstat_"+name+":") {
					f := strings.Split(line, ",")
					out[j] += f[0][:strings.Index(f[0], ":")] + " " + f[0][strings.Index(f[0], ":")+1:] + " " + f[3] + " " + f[4] + "\n"
				}
			}
		}
	}
	for j := range out { // INFO's order of commands is not Redis's
		lines := strings.Split(out[j], "\n")
		sort.Strings(lines)
		out[j] = strings.Join(lines, "\n")
	}
	if out[0] != out[1] || !strings.Contains(out[0], "cmdstat_set calls=0 rejected_calls=2") {
		t.Errorf("redgo:\n%s\nredis:\n%s", out[0], out[1])
	}
}

// TestQueuedScriptWriteFlags: a script queued in MULTI whose shebang does
// not say no-writes makes EXEC a write, as Redis's evalGetCommandFlags:
// once the server became a read-only replica, EXEC aborts (unit/scripting
// "no-writes shebang flag on replica").
func TestQueuedScriptWriteFlags(t *testing.T) {
	s, _ := startServer(t)
	for _, tc := range []struct {
		script string
		want   string
	}{
		{"#!lua\nreturn 1", "-EXECABORT Transaction discarded because of: READONLY You can't write against a read only replica.\r\n"},
		{"#!lua flags=no-writes\nreturn 1", "*1\r\n:1\r\n"},
		{"return 1", "*1\r\n:1\r\n"}, // no shebang: judged by what it runs
	} {
		r := dialRaw(t, s.Addr().String())
		r.do("REPLICAOF", "NO", "ONE")
		r.do("MULTI")
		if v, raw := r.do("EVAL", tc.script, "0"); v.Str != "QUEUED" {
			t.Fatalf("EVAL in MULTI: %q", raw)
		}
		r2 := dialRaw(t, s.Addr().String())
		r2.do("REPLICAOF", "127.0.0.1", "1") // a master nobody serves: a replica all the same
		if _, raw := r.do("EXEC"); string(raw) != tc.want {
			t.Errorf("%q: EXEC on a replica = %q, want %q", tc.script, raw, tc.want)
		}
	}
}

// TestExecOfReadsOnStaleReplica: EXEC of queued reads on a replica that
// became stale meanwhile (replica-serve-stale-data no) is refused as the
// reads would be (unit/multi).
func TestExecOfReadsOnStaleReplica(t *testing.T) {
	s, _ := startServer(t, "--replica-serve-stale-data", "no")
	r := dialRaw(t, s.Addr().String())
	r.do("SET", "xx", "1")
	r.do("MULTI")
	r.do("GET", "xx")
	r2 := dialRaw(t, s.Addr().String())
	r2.do("REPLICAOF", "127.0.0.1", "1")
	want := "-EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
	if _, raw := r.do("EXEC"); string(raw) != want {
		t.Fatalf("EXEC = %q, want %q", raw, want)
	}
	r2.do("REPLICAOF", "NO", "ONE")
	r.do("MULTI")
	r.do("GET", "xx")
	if _, raw := r.do("EXEC"); string(raw) != "*1\r\n$1\r\n1\r\n" {
		t.Fatalf("EXEC on a master = %q", raw)
	}
}

// TestScriptWritesAccounted: a collection a script grows counts in
// used_memory as when a client grows it (maxmemory sees it).
func TestScriptWritesAccounted(t *testing.T) {
	_, c := startServer(t)
	before := infoInt(t, c, "used_memory")
	body := "for i = 1, 2000 do redis.call('HSET', KEYS[1], 'field' .. i, 'value' .. i) end"
	if err := c.Eval(ctx, body, []string{"h"}).Err(); err != redis.Nil {
		t.Fatal(err)
	}
	grown := infoInt(t, c, "used_memory") - before
	usage, err := c.MemoryUsage(ctx, "h").Result()
	if err != nil {
		t.Fatal(err)
	}
	if grown < usage*9/10 {
		t.Errorf("used_memory grew by %d for a hash of %d bytes", grown, usage)
	}
}
