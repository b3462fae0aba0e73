package server

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestDebugMatchesRedis(t *testing.T) {
	s, _ := startServer(t, "--enable-debug-command", "yes")
	ra := startRedis(t)
	script := [][]string{
		{"DEBUG", "foo"},
		{"DEBUG", "object", "nokey"},
		{"DEBUG", "sleep", "0"},
		{"DEBUG", "sleep", "abc"},
		{"DEBUG", "sleep", "0", "1"},
		{"DEBUG", "object"},
		{"DEBUG", "populate", "abc"},
		{"DEBUG", "populate", "-1"},
		{"DEBUG", "populate", "0"},
		{"DEBUG", "populate", "1", "2", "3", "4"},
		{"DEBUG", "populate", "3", "k", "-1"},
		{"DEBUG", "digest"},
		{"DEBUG", "populate", "10"},
		{"DEBUG", "populate", "5", "k", "10"},
		{"DEBUG", "populate", "5", "big", "100"},
		{"DEBUG", "populate", "20", "key"},
		{"SET", "int", "12345"},
		{"SET", "neg", "-7"},
		{"SET", "ttl", "v", "EX", "100"},
		{"SELECT", "2"},
		{"SET", "other", "db"},
		{"DEBUG", "digest"},
		{"DEBUG", "digest-value", "other", "nosuch"},
		{"SELECT", "0"},
		{"DEBUG", "digest-value", "key:0", "k:1", "int", "ttl", "big:4"},
		{"DEBUG", "digest-value"},
		{"DEBUG", "set-active-expire", "0"},
		{"DEBUG", "set-active-expire", "1"},
		{"DEBUG", "error", "foo"},
		{"DEBUG", "error", "ERR x y"},
		{"DEBUG", "error"},
		{"DEBUG", "change-repl-id"},
		{"DEBUG", "reload"},
		{"DEBUG", "log", "hello"},
		{"DEBUG", "jmap"},
		{"DEBUG", "protocol", "foo"},
		{"DEBUG", "quicklist-packed-threshold", "1b"},
		{"DEBUG", "quicklist-packed-threshold", "0"},
		{"DEBUG", "quicklist-packed-threshold", "1k"},
		{"DEBUG", "quicklist-packed-threshold", "5gb"},
		{"DEBUG", "quicklist-packed-threshold", "4gb"},
		{"DEBUG", "quicklist-packed-threshold", "-1"},
		{"DEBUG", "quicklist-packed-threshold", "abc"},
		{"DEBUG", "quicklist-packed-threshold"},
	}
	for _, p := range []string{"string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
		"push", "verbatim", "true", "false"} {
		script = append(script, []string{"DEBUG", "protocol", p})
	}
	script = append(script, []string{"~HELLO", "3"})
	for _, p := range []string{"string", "integer", "double", "bignum", "null", "array", "set", "map",
		"verbatim", "true", "false"} {
		script = append(script, []string{"DEBUG", "protocol", p})
	}
	oracle(t, s.Addr().String(), ra, script)

	// attrib and push are followed by a second reply: compare the bytes.
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	for _, p := range []string{"attrib", "push"} {
		_, x := a.do("DEBUG", "PROTOCOL", p)
		_, y := b.do("DEBUG", "PROTOCOL", p)
		if p == "push" {
			_, x2 := a.read()
			_, y2 := b.read()
			x, y = append(x, x2...), append(y, y2...)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("DEBUG PROTOCOL %s: redgo %q, redis %q", p, x, y)
		}
	}
}

func TestDebugObject(t *testing.T) {
	s, _ := startServer(t, "--enable-debug-command", "yes")
	ra := startRedis(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	re := regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) serializedlength:(\d+) lru:\d+ lru_seconds_idle:\d+$`)
	for _, cmd := range [][]string{
		{"SET", "s", "value"},
		{"SET", "n", "12345"},
		{"SET", "small", "7"},
		{"SET", "big", "12345678901234"},
		{"SET", "long", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*"}, // LZF cannot shrink it
		{"DEBUG", "POPULATE", "2"},
	} {
		a.do(cmd...)
		b.do(cmd...)
	}
	for _, key := range []string{"s", "n", "small", "big", "long", "key:1"} {
		va, _ := a.do("DEBUG", "OBJECT", key)
		vb, _ := b.do("DEBUG", "OBJECT", key)
		ma, mb := re.FindStringSubmatch(va.Str), re.FindStringSubmatch(vb.Str)
		if va.Type != '+' || ma == nil || mb == nil {
			t.Fatalf("DEBUG OBJECT %s: redgo %v, redis %v", key, va, vb)
		}
		if strings.Join(ma[1:], " ") != strings.Join(mb[1:], " ") {
			t.Errorf("DEBUG OBJECT %s: redgo %q, redis %q", key, va.Str, vb.Str)
		}
	}
}

func TestDebugPermission(t *testing.T) {
	s, _ := startServer(t) // enable-debug-command no (the default)
	c := dialRaw(t, s.Addr().String())
	if v, _ := c.do("DEBUG", "HELP"); v.Str != errDebugNotAllowed {
		t.Errorf("DEBUG with enable-debug-command no: %v", v)
	}
	s2, _ := startServer(t, "--enable-debug-command", "local")
	c2 := dialRaw(t, s2.Addr().String())
	if v, _ := c2.do("DEBUG", "SLEEP", "0"); v.Str != "OK" {
		t.Errorf("DEBUG from loopback with enable-debug-command local: %v", v)
	}
	if v, _ := c2.do("DEBUG", "HELP"); v.Type != '*' || len(v.Elems) < 10 {
		t.Errorf("DEBUG HELP = %v", v)
	}
	if debugAllowed(s2, &Client{addr: "10.1.2.3:5555"}) {
		t.Error("enable-debug-command local allowed a remote client")
	}
}

func TestDebugActiveExpireAndSleep(t *testing.T) {
	s, rc := startServer(t, "--enable-debug-command", "yes")
	rc.Do(ctx, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	rc.Set(ctx, "k", "v", 50*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	if n := infoField(t, rc.Info(ctx, "keyspace").Val()+"\r\nx:1", "db0"); n != "keys=1,expires=1,avg_ttl=0" {
		t.Errorf("with active expire off the key was reclaimed: db0:%s", n)
	}
	rc.Do(ctx, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	eventually(t, 5*time.Second, func() error {
		if strings.Contains(rc.Info(ctx, "keyspace").Val(), "db0:") {
			return errorf("expired key not reclaimed")
		}
		return nil
	})
	// DEBUG SLEEP holds the keyspace: a GET waits for it.
	c := dialRaw(t, s.Addr().String())
	c.send("DEBUG", "SLEEP", "0.2")
	time.Sleep(20 * time.Millisecond)
	t0 := time.Now()
	rc.Get(ctx, "x")
	if d := time.Since(t0); d < 100*time.Millisecond {
		t.Errorf("GET ran during DEBUG SLEEP (%v)", d)
	}
	if v, _ := c.read(); v.Str != "OK" {
		t.Errorf("DEBUG SLEEP = %v", v)
	}
}

// TestDebugSegfault runs a server in a child process and crashes it.
func TestDebugSegfault(t *testing.T) {
	if os.Getenv("REDGO_SEGFAULT_CHILD") == "1" {
		s, rc := startServer(t, "--enable-debug-command", "yes")
		os.WriteFile(os.Getenv("REDGO_SEGFAULT_PORT"), []byte(strconv.Itoa(s.Port())), 0o644)
		rc.Do(ctx, "DEBUG", "SEGFAULT")
		time.Sleep(5 * time.Second)
		os.Exit(0) // not reached when DEBUG SEGFAULT works
	}
	portFile := t.TempDir() + "/port"
	cmd := exec.Command(os.Args[0], "-test.run=^TestDebugSegfault$")
	cmd.Env = append(os.Environ(), "REDGO_SEGFAULT_CHILD=1", "REDGO_SEGFAULT_PORT="+portFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if err == nil {
		t.Fatalf("child survived DEBUG SEGFAULT:\n%s", out.String())
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("crash took %v", time.Since(start))
	}
	if !strings.Contains(out.String(), "nil pointer dereference") {
		t.Errorf("unexpected crash output:\n%s", out.String())
	}
}

func TestSlowlog(t *testing.T) {
	s, rc := startServer(t)
	ra := startRedis(t)
	oracle(t, s.Addr().String(), ra, [][]string{
		{"SLOWLOG", "GET", "abc"},
		{"SLOWLOG", "GET", "-2"},
		{"SLOWLOG", "GET", "0"},
		{"SLOWLOG", "GET", "1", "2"},
		{"SLOWLOG", "RESET"},
		{"SLOWLOG", "LEN"},
		{"SLOWLOG", "foo"},
		{"SLOWLOG", "HELP"},
		{"SLOWLOG"},
	})
	rc.ConfigSet(ctx, "slowlog-log-slower-than", "0")
	rc.Do(ctx, "SLOWLOG", "RESET")
	c := dialRaw(t, s.Addr().String())
	c.do("CLIENT", "SETNAME", "slowpoke")
	c.do("ECHO", "hello")
	v, _ := c.do("SLOWLOG", "GET", "1")
	if len(v.Elems) != 1 || len(v.Elems[0].Elems) != 6 {
		t.Fatalf("SLOWLOG GET 1 = %v", v)
	}
	e := v.Elems[0].Elems
	if e[1].Int < time.Now().Unix()-5 || e[2].Type != ':' || e[3].Elems[0].Str != "ECHO" ||
		e[3].Elems[1].Str != "hello" || !strings.HasPrefix(e[4].Str, "127.0.0.1:") || e[5].Str != "slowpoke" {
		t.Errorf("slowlog entry = %v", e)
	}
	all, _ := c.do("SLOWLOG", "GET", "-1")
	if n, _ := c.do("SLOWLOG", "LEN"); int64(len(all.Elems))+1 != n.Int || n.Int < 3 {
		t.Errorf("SLOWLOG GET -1 has %d entries, LEN %d", len(all.Elems), n.Int)
	}
	if all.Elems[0].Elems[0].Int <= all.Elems[1].Elems[0].Int {
		t.Error("SLOWLOG GET is not newest first")
	}
	// Long arguments are trimmed as Redis does.
	long := []string{"CONFIG", "GET"}
	for i := 0; i < 39; i++ {
		long = append(long, strings.Repeat("a", 130))
	}
	c.do(long...)
	v, _ = c.do("SLOWLOG", "GET", "1")
	got := v.Elems[0].Elems[3].Elems
	if len(got) != 32 || got[31].Str != "... (10 more arguments)" ||
		got[2].Str != strings.Repeat("a", 128)+"... (2 more bytes)" {
		t.Errorf("trimmed args = %v", got)
	}
	if v, _ := c.do("SLOWLOG", "RESET"); v.Str != "OK" {
		t.Error(v)
	}
	if n, _ := c.do("SLOWLOG", "LEN"); n.Int > 1 {
		t.Errorf("after RESET LEN = %d", n.Int)
	}
}

func TestAdminMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	oracle(t, s.Addr().String(), ra, [][]string{
		{"LATENCY", "LATEST"},
		{"LATENCY", "HISTORY", "foo"},
		{"LATENCY", "RESET"},
		{"LATENCY", "RESET", "foo", "bar"},
		{"LATENCY", "DOCTOR"},
		{"LATENCY", "GRAPH", "foo"},
		{"LATENCY", "foo"},
		{"TIME", "x"},
		{"LASTSAVE", "x"},
		{"WAIT", "0", "0"},
		{"WAIT", "a", "0"},
		{"WAIT", "0", "a"},
		{"WAIT", "0", "-1"},
		{"WAIT", "1", "0", "x"},
		{"MONITOR", "x"},
		{"SHUTDOWN", "foo"},
		{"SHUTDOWN", "abort"},
		{"SHUTDOWN", "nosave", "save"},
		{"SHUTDOWN", "abort", "now"},
		{"MULTI"},
		{"SHUTDOWN"},
		{"MONITOR"},
		{"EXEC"},
		{"~HELLO", "3"},
		{"LATENCY", "DOCTOR"},
	})
	c := dialRaw(t, s.Addr().String())
	v, _ := c.do("TIME")
	sec, _ := strconv.ParseInt(v.Elems[0].Str, 10, 64)
	us, _ := strconv.ParseInt(v.Elems[1].Str, 10, 64)
	if len(v.Elems) != 2 || sec < time.Now().Unix()-2 || us < 0 || us >= 1e6 {
		t.Errorf("TIME = %v", v)
	}
	if v, _ := c.do("LASTSAVE"); v.Type != ':' || v.Int > time.Now().Unix() || v.Int < time.Now().Unix()-60 {
		t.Errorf("LASTSAVE = %v", v)
	}
	// Without replicas, WAIT returns 0 when its timeout passes (with
	// timeout 0 it would block for ever, as Redis).
	if v, _ := c.do("WAIT", "1", "50"); v.Type != ':' || v.Int != 0 {
		t.Errorf("WAIT 1 50 = %v", v)
	}
}

func TestMonitor(t *testing.T) {
	s, rc := startServer(t)
	rc.Ping(ctx) // connection set up (HELLO, CLIENT SETINFO) before MONITOR
	m := dialRaw(t, s.Addr().String())
	if v, _ := m.do("MONITOR"); v.Str != "OK" {
		t.Fatalf("MONITOR = %v", v)
	}
	rc.Do(ctx, "SET", "foo", "b\"a\nr")
	rc.Do(ctx, "CONFIG", "GET", "port") // admin commands are not fed
	rc.Do(ctx, "GET", "foo")
	re := regexp.MustCompile(`^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] `)
	for _, want := range []string{`"SET" "foo" "b\"a\nr"`, `"GET" "foo"`} {
		v, _ := m.read()
		if v.Type != '+' || !re.MatchString(v.Str) || !strings.HasSuffix(v.Str, want) {
			t.Errorf("monitor line %q, want suffix %s", v.Str, want)
		}
	}
	if !strings.Contains(rc.ClientList(ctx).Val(), "flags=O ") {
		t.Error("monitor client lacks flag O")
	}
}

func TestShutdown(t *testing.T) {
	s, rc := startServer(t)
	c := dialRaw(t, s.Addr().String())
	if v, _ := c.do("SHUTDOWN", "ABORT"); v.Str != "ERR No shutdown in progress." {
		t.Errorf("SHUTDOWN ABORT = %v", v)
	}
	c.send("SHUTDOWN", "NOSAVE")
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := c.r.ReadByte(); err == nil {
		t.Errorf("SHUTDOWN replied %q", b)
	}
	eventually(t, 5*time.Second, func() error {
		if rc.Ping(ctx).Err() == nil {
			return errorf("server still answers after SHUTDOWN")
		}
		return nil
	})
}

func TestRedisCli(t *testing.T) {
	// A slow log threshold no command here reaches, even under -race
	// (SLOWLOG LEN below).
	s, _ := startServer(t, "--enable-debug-command", "yes", "--slowlog-log-slower-than", "1000000")
	addr := s.Addr().String()
	out := redisCli(t, addr, "", "INFO", "server")
	if !strings.Contains(out, "redis_version:7.0.15") || !strings.Contains(out, "tcp_port:"+strconv.Itoa(s.Port())) {
		t.Errorf("redis-cli INFO:\n%s", out)
	}
	if out := redisCli(t, addr, "", "CLIENT", "LIST"); !clientLineRE.MatchString(strings.TrimSpace(out)) {
		t.Errorf("redis-cli CLIENT LIST:\n%s", out)
	}
	if out := redisCli(t, addr, "", "CONFIG", "GET", "maxmemory"); out != "maxmemory\n0\n" {
		t.Errorf("redis-cli CONFIG GET:\n%q", out)
	}
	if out := redisCli(t, addr, "", "--no-raw", "COMMAND", "INFO", "get"); !strings.Contains(out, `1) "get"`) {
		t.Errorf("redis-cli COMMAND INFO:\n%s", out)
	}
	// Interactive-style session on stdin: the replies in order.
	out = redisCli(t, addr, "DEBUG POPULATE 3\nECHO hi\nCLIENT SETNAME cli\nCLIENT GETNAME\nSLOWLOG LEN\n")
	if out != "OK\nhi\nOK\ncli\n0\n" {
		t.Errorf("redis-cli session:\n%q", out)
	}
	// redis-cli -3 speaks RESP3 (HELLO 3) and prints maps.
	if out := redisCli(t, addr, "", "-3", "CONFIG", "GET", "port"); !strings.Contains(out, "port") {
		t.Errorf("redis-cli -3 CONFIG GET:\n%s", out)
	}
}

// TestDebugDigestAllTypes checks that DEBUG DIGEST and DIGEST-VALUE give
// Redis's own values for every data type redgo has.
func TestDebugDigestAllTypes(t *testing.T) {
	s, _ := startServer(t, "--enable-debug-command", "yes")
	ra := startRedis(t)
	var script [][]string
	add := func(cmd ...string) {
		if registered(cmd[0]) {
			script = append(script, cmd)
		}
	}
	add("RPUSH", "list", "a", "b", "1", "c")
	add("RPUSH", "biglist", strings.Repeat("x", 100), "y")
	add("HSET", "hash", "f1", "v1", "f2", "2")
	add("HSET", "bighash", "f", strings.Repeat("v", 100))
	add("SADD", "intset", "1", "2", "-3")
	add("SADD", "set", "a", "b", "c")
	add("ZADD", "zset", "1", "a", "0.1", "b", "-2.5", "c", "1e20", "d")
	add("ZADD", "bigzset", "1", strings.Repeat("m", 100), "3.75", "n", "0.1", "o", "1e20", "p")
	add("SET", "str", "v")
	add("PEXPIRE", "list", "100000")
	script = append(script,
		[]string{"DEBUG", "DIGEST-VALUE", "list", "biglist", "hash", "bighash", "intset", "set", "zset", "bigzset", "str"},
		[]string{"DEBUG", "DIGEST"})
	oracle(t, s.Addr().String(), ra, script)
}

// TestGoRedisParsers drives the server commands through go-redis's typed
// helpers, which parse the replies (CLIENT INFO fields, COMMAND entries,
// SLOWLOG entries, INFO maps).
func TestGoRedisParsers(t *testing.T) {
	_, rc := startServer(t, "--enable-debug-command", "yes")
	rc.Do(ctx, "CLIENT", "SETNAME", "gr")
	ci, err := rc.ClientInfo(ctx).Result()
	if err != nil || ci.Name != "gr" || ci.ID <= 0 || ci.LastCmd != "client|info" || ci.Resp != 3 {
		t.Errorf("ClientInfo = %+v %v", ci, err)
	}
	cmds, err := rc.Command(ctx).Result()
	if err != nil || cmds["get"] == nil || cmds["get"].Arity != 2 || cmds["get"].FirstKeyPos != 1 || !cmds["get"].ReadOnly {
		t.Errorf("Command = %v %v", cmds["get"], err)
	}
	if n, err := rc.CommandList(ctx, &redis.FilterBy{Pattern: "client*"}).Result(); err != nil || len(n) < 10 {
		t.Errorf("CommandList = %v %v", n, err)
	}
	if keys, err := rc.CommandGetKeys(ctx, "mset", "a", "1", "b", "2").Result(); err != nil || strings.Join(keys, ",") != "a,b" {
		t.Errorf("CommandGetKeys = %v %v", keys, err)
	}
	if kf, err := rc.CommandGetKeysAndFlags(ctx, "set", "a", "b").Result(); err != nil || len(kf) != 1 ||
		kf[0].Key != "a" || strings.Join(kf[0].Flags, ",") != "OW,update" {
		t.Errorf("CommandGetKeysAndFlags = %v %v", kf, err)
	}
	rc.ConfigSet(ctx, "slowlog-log-slower-than", "0")
	rc.Echo(ctx, "hi")
	sl, err := rc.SlowLogGet(ctx, 2).Result()
	if err != nil || len(sl) != 2 || sl[0].Args[0] != "echo" || sl[0].ClientName != "gr" {
		t.Errorf("SlowLogGet = %+v %v", sl, err)
	}
	if tm, err := rc.Time(ctx).Result(); err != nil || time.Since(tm) > time.Minute {
		t.Errorf("Time = %v %v", tm, err)
	}
	m, err := rc.InfoMap(ctx, "server", "keyspace").Result()
	if err != nil || m["Server"]["redis_version"] != "7.0.15" {
		t.Errorf("InfoMap = %v %v", m, err)
	}
	rc.Set(ctx, "k", "v", 0)
	if s, err := rc.DebugObject(ctx, "k").Result(); err != nil || !strings.Contains(s, "encoding:embstr") {
		t.Errorf("DebugObject = %q %v", s, err)
	}
	if n, err := rc.ClientKillByFilter(ctx, "TYPE", "pubsub").Result(); err != nil || n != 0 {
		t.Errorf("ClientKillByFilter = %d %v", n, err)
	}
	if err := rc.ClientPause(ctx, time.Millisecond).Err(); err != nil {
		t.Error(err)
	}
	if ok, err := rc.ClientUnpause(ctx).Result(); err != nil || !ok {
		t.Errorf("ClientUnpause = %v %v", ok, err)
	}
	if n, err := rc.ClientUnblockWithError(ctx, 99999).Result(); err != nil || n != 0 {
		t.Errorf("ClientUnblock = %d %v", n, err)
	}
	if ts, err := rc.LastSave(ctx).Result(); err != nil || ts <= 0 {
		t.Errorf("LastSave = %d %v", ts, err)
	}
	if n, err := rc.Wait(ctx, 0, time.Second).Result(); err != nil || n != 0 {
		t.Errorf("Wait = %d %v", n, err)
	}
}

// TestMonitorReset: a monitor's RESET answers RESET without the monitor
// seeing its own command, and ends MONITOR (unit/other "RESET clears
// MONITOR state"); another monitor sees it.
func TestMonitorReset(t *testing.T) {
	s, _ := startServer(t)
	m, other := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	for _, c := range []*rawConn{m, other} {
		if v, _ := c.do("MONITOR"); v.Str != "OK" {
			t.Fatalf("MONITOR = %+v", v)
		}
	}
	if v, raw := m.do("RESET"); v.Str != "RESET" {
		t.Fatalf("RESET from a monitor read %q", raw)
	}
	if v, _ := other.read(); !strings.HasSuffix(strings.ToLower(v.Str), `"reset"`) {
		t.Fatalf("the other monitor read %q", v.Str)
	}
	if _, raw := m.do("CLIENT", "INFO"); strings.Contains(string(raw), "flags=O") {
		t.Fatalf("still a monitor: %q", raw)
	}
}

// TestMonitorAsRedis: what MONITOR shows of scripts (EVAL before the
// script's commands, those as "lua"), of a transaction (EXEC after its
// commands, also when refused) and of MIGRATE's passwords, compared with
// redis-server (unit/introspection's MONITOR tests).
func TestMonitorAsRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	run := func(addr string) []string {
		m, c := dialRaw(t, addr), dialRaw(t, addr)
		c.do("FUNCTION", "LOAD", "REPLACE", "#!lua name=mon\nredis.register_function('test', function() return redis.call('set', 'foo', 'bar') end)")
		m.do("MONITOR")
		for _, cmd := range [][]string{
			{"EVAL", "redis.call('set',KEYS[1],ARGV[1])", "1", "foo", "bar"},
			{"FCALL", "test", "0"},
			{"MIGRATE", "127.0.0.1", "1", "key", "9", "50", "AUTH", "pw"},
			{"MIGRATE", "127.0.0.1", "1", "key", "9", "50", "AUTH2", "u", "pw"},
			{"MULTI"}, {"SET", "foo", "bar"}, {"EXEC"},
			{"MULTI"}, {"NOSUCHCMD"}, {"EXEC"},
			{"PING"},
		} {
			c.do(cmd...)
		}
		var out []string
		for {
			v, _ := m.read()
			// timestamp and client address differ: keep the db and the arguments
			f := strings.SplitN(v.Str, " ", 4)
			addr := f[2]
			if addr != "lua]" {
				addr = "addr]"
			}
			out = append(out, f[1]+" "+addr+" "+f[3])
			if strings.HasSuffix(v.Str, `"PING"`) {
				return out
			}
		}
	}
	got, want := run(s.Addr().String()), run(ra)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("MONITOR:\n redgo:\n%s\n redis:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
