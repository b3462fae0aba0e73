package server

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"redgo/internal/config"
	"redgo/internal/resp"
)

// aclNormalize makes an ACL reply comparable across servers: Redis lists
// single-command rules and ACL CAT's commands in hash table order, and
// ACL LOG's age and client line differ by nature.
func aclNormalize(cmd []string, v *resp.Value) {
	if len(cmd) < 2 || !strings.EqualFold(cmd[0], "acl") {
		return
	}
	var walk func(v *resp.Value)
	walk = func(v *resp.Value) {
		if v.Type == '$' || v.Type == '+' {
			v.Str = sortSingleRules(v.Str)
		}
		for i := range v.Elems {
			walk(&v.Elems[i])
		}
	}
	switch strings.ToLower(cmd[1]) {
	case "list", "getuser":
		walk(v)
	case "cat":
		sort.Slice(v.Elems, func(i, j int) bool { return v.Elems[i].Str < v.Elems[j].Str })
	case "log":
		for i := range v.Elems {
			e := &v.Elems[i]
			for j := 0; j+1 < len(e.Elems); j += 2 {
				switch e.Elems[j].Str {
				case "age-seconds", "client-info":
					e.Elems[j+1] = resp.Value{Type: '$', Str: "?"}
				}
			}
		}
	}
}

// sortSingleRules sorts each run of +cmd/-cmd rules (not categories) in
// a rule string.
func sortSingleRules(s string) string {
	f := strings.Split(s, " ")
	single := func(x string) bool {
		return len(x) > 1 && (x[0] == '+' || x[0] == '-') && x[1] != '@'
	}
	for i := 0; i < len(f); {
		j := i
		for j < len(f) && single(f[j]) {
			j++
		}
		sort.Strings(f[i:j])
		i = j + 1
	}
	return strings.Join(f, " ")
}

// aclOracle runs script on both servers over one connection each and
// compares normalized replies; a command name starting with "~" is run
// without comparing.
func aclOracle(t *testing.T, redgoAddr, redisAddr string, script [][]string) {
	t.Helper()
	a, b := dialRaw(t, redgoAddr), dialRaw(t, redisAddr)
	for _, cmd := range script {
		skip := strings.HasPrefix(cmd[0], "~")
		if skip {
			cmd = append([]string{cmd[0][1:]}, cmd[1:]...)
		}
		va, _ := a.do(cmd...)
		vb, _ := b.do(cmd...)
		if skip {
			continue
		}
		aclNormalize(cmd, &va)
		aclNormalize(cmd, &vb)
		if !reflect.DeepEqual(va, vb) {
			t.Errorf("%q:\n redgo: %v\n redis: %v", cmd, va, vb)
		}
	}
}

func TestACLRulesOracle(t *testing.T) {
	s, _ := startServer(t)
	r := startRedis(t)
	hash := "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" // "password"
	c := func(args ...string) []string { return args }
	script := [][]string{
		c("ACL", "LIST"), c("ACL", "USERS"), c("ACL", "WHOAMI"), c("ACL", "GETUSER", "default"),
		c("ACL", "SETUSER", "u1"), c("ACL", "GETUSER", "u1"), c("ACL", "LIST"),
		c("ACL", "SETUSER", "u1", "on", ">p1", ">p2", "<p1", "~k*", "%R~r*", "%W~w*", "%RW~rw*", "&ch*", "+get", "+set"),
		c("ACL", "GETUSER", "u1"), c("ACL", "LIST"),
		c("ACL", "SETUSER", "u1", "%R~w*"), c("ACL", "GETUSER", "u1"),
		c("ACL", "SETUSER", "u1", "<nope"), c("ACL", "SETUSER", "u1", "#abc"), c("ACL", "SETUSER", "u1", "!"+hash),
		c("ACL", "SETUSER", "u1", "#"+hash), c("ACL", "SETUSER", "u1", "!"+hash), c("ACL", "GETUSER", "u1"),
		c("ACL", "SETUSER", "u1", "%X~a"), c("ACL", "SETUSER", "u1", "~a b"), c("ACL", "SETUSER", "u1", "bogus"),
		c("ACL", "SETUSER", "u1", "allkeys", "~foo"), c("ACL", "SETUSER", "u1", "allchannels", "&foo"),
		c("ACL", "SETUSER", "u1", "+nosuch"), c("ACL", "SETUSER", "u1", "-nosuch"), c("ACL", "SETUSER", "u1", "+@nosuch"),
		c("ACL", "SETUSER", "u1", "+config|nosuch"), c("ACL", "SETUSER", "u1", "+config|get|x"), c("ACL", "SETUSER", "u1", "+get|"),
		c("ACL", "SETUSER", "u1", "-get|x"), c("ACL", "SETUSER", "u1", "+"), c("ACL", "SETUSER", "u1", "+@"),
		c("ACL", "GETUSER", "u1"),
		c("ACL", "SETUSER", "u2", "on", "nopass", "-@all", "+@read", "+@write", "-del"), c("ACL", "LIST"),
		c("ACL", "SETUSER", "u3", "+@all", "-@dangerous", "+config|get", "-@admin"), c("ACL", "GETUSER", "u3"),
		c("ACL", "SETUSER", "u4", "+@hash", "+@set", "-hset", "+select|0", "+select|1"), c("ACL", "GETUSER", "u4"),
		c("ACL", "SETUSER", "u5", "allcommands", "-@keyspace", "+del", "-client", "+client|id"), c("ACL", "GETUSER", "u5"),
		c("ACL", "SETUSER", "u6", "on", "skip-sanitize-payload", "nocommands", "+@pubsub", "allchannels", "resetkeys", "~x"),
		c("ACL", "GETUSER", "u6"),
		c("ACL", "SETUSER", "u6", "reset"), c("ACL", "GETUSER", "u6"),
		c("ACL", "SETUSER", "u7", "on", "(~sel* +get)", "(+set", "~w*", "%R~z)", "&c"), c("ACL", "GETUSER", "u7"), c("ACL", "LIST"),
		c("ACL", "SETUSER", "u7", "(+get"), c("ACL", "SETUSER", "u7", "(nosuch)"), c("ACL", "SETUSER", "u7", "(on)"),
		c("ACL", "SETUSER", "u7", "clearselectors"), c("ACL", "GETUSER", "u7"),
		c("ACL", "SETUSER", "bad user"), c("ACL", "GETUSER", "nosuch"),
		c("ACL", "DELUSER", "default"), c("ACL", "DELUSER", "u6", "nosuch"), c("ACL", "USERS"),
		c("ACL", "CAT"), c("ACL", "CAT", "geo"), c("ACL", "CAT", "scripting"), c("ACL", "CAT", "nosuch"), c("ACL", "CAT", "a", "b"),
		c("ACL", "GENPASS", "0"), c("ACL", "GENPASS", "5000"), c("ACL", "GENPASS", "x"), c("ACL", "GENPASS", "1", "2"),
		c("ACL", "DRYRUN", "u1", "get", "k1"), c("ACL", "DRYRUN", "u1", "get", "x"), c("ACL", "DRYRUN", "u1", "del", "k1"),
		c("ACL", "DRYRUN", "u1", "set", "r1", "v"), c("ACL", "DRYRUN", "u1", "get", "w1"), c("ACL", "DRYRUN", "u1", "get", "rw1"),
		c("ACL", "DRYRUN", "nosuch", "get", "x"), c("ACL", "DRYRUN", "u1", "nosuch"), c("ACL", "DRYRUN", "u1", "get"),
		c("ACL", "DRYRUN", "u2", "set", "a", "b"), c("ACL", "DRYRUN", "u7", "set", "a", "b"),
		c("ACL", "SAVE"), c("ACL", "LOAD"), c("ACL", "LOG", "x"), c("ACL", "LOG", "1", "2"), c("ACL", "NOSUCH"),
		c("ACL", "HELP"),
	}
	aclOracle(t, s.Addr().String(), r, script)
}

func TestACLEnforcementOracle(t *testing.T) {
	s, _ := startServer(t)
	r := startRedis(t)
	c := func(args ...string) []string { return args }
	script := [][]string{
		c("ACL", "LOG", "RESET"),
		c("ACL", "SETUSER", "alice", "on", ">pw", "~k*", "%R~ro*", "&news*", "+get", "+set", "+publish", "+subscribe",
			"+psubscribe", "+multi", "+exec", "+sort", "+acl|whoami", "+client|id", "+eval"),
		c("AUTH", "alice", "wrong"), c("AUTH", "nosuch", "pw"), c("AUTH", "alice", "pw", "x"),
		c("ACL", "LOG"),
		c("AUTH", "alice", "pw"), c("ACL", "WHOAMI"),
		c("SET", "k1", "v"), c("GET", "k1"), c("GET", "x"), c("SET", "ro1", "v"), c("GET", "ro1"), c("DEL", "k1"),
		c("PUBLISH", "news.1", "m"), c("PUBLISH", "sport", "m"), c("SORT", "k1", "STORE", "ro1"),
		c("CLIENT", "KILL", "ID", "1"),
		c("EVAL", "return redis.call('get', KEYS[1])", "1", "k1"),
		c("EVAL", "return redis.call('del', 'k1')", "0"), c("EVAL", "return redis.call('get', 'x')", "0"),
		c("EVAL", "return redis.call('publish', 'zz', 'm')", "0"),
		c("EVAL", "return {redis.acl_check_cmd('get', 'k1'), redis.acl_check_cmd('get', 'x'), redis.acl_check_cmd('del', 'k')}", "0"),
		c("EVAL", "return redis.acl_check_cmd('nosuch')", "0"),
		c("EVAL", "return redis.call('acl', 'whoami')", "0"),
		c("MULTI"), c("GET", "k1"), c("DEL", "k1"), c("EXEC"),
		c("AUTH", "default", "x"), c("ACL", "WHOAMI"),
		c("ACL", "LOG", "3"),
		c("ACL", "SETUSER", "bob", "on", "nopass", "+@all", "~*", "resetchannels", "&a"),
		c("HELLO", "2", "AUTH", "alice", "wrong"), c("HELLO", "2", "AUTH", "bob"), c("AUTH", "bob", "anything"),
		c("PUBLISH", "a", "m"), c("PUBLISH", "b", "m"), c("PSUBSCRIBE", "a*"),
		c("AUTH", "default", "x"),
		c("ACL", "SETUSER", "default", "resetpass"), c("AUTH", "x"), c("AUTH", "default", "x"),
		c("ACL", "SETUSER", "default", "nopass"), c("AUTH", "x"),
		c("ACL", "LOG", "20"),
		c("~HELLO", "3"), c("ACL", "LOG", "2"), c("ACL", "GETUSER", "alice"), c("ACL", "GETUSER", "nosuch"),
		c("ACL", "SETUSER", "sel", "(+get ~x)"), c("ACL", "GETUSER", "sel"), c("ACL", "USERS"),
	}
	aclOracle(t, s.Addr().String(), r, script)
}

// A user line of the config file and requirepass set the users at
// startup; a bad user line is a config error naming it, as Redis.
func TestACLConfigUsers(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	os.WriteFile(conf, []byte("user alice on >pw ~a* +get\nuser bob off\nrequirepass secret\n"), 0o644)
	s, _ := startServerConf(t, conf)
	want := []string{
		"user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get",
		"user bob off resetchannels -@all",
		"user default on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all",
	}
	if got := s.acl.users.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("ACL LIST:\n%q\nwant\n%q", got, want)
	}
	os.WriteFile(conf, []byte("user alice on bogus\n"), 0o644)
	cfg, err := config.Load(conf, []string{"--port", "0", "--save", ""})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Error in user declaration 'alice': Syntax error") {
		t.Errorf("bad user line: %v", err)
	}
	os.WriteFile(conf, []byte("user alice on\naclfile "+filepath.Join(dir, "users.acl")+"\n"), 0o644)
	cfg, _ = config.Load(conf, []string{"--port", "0", "--save", ""})
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "please define either an ACL file or declare users") {
		t.Errorf("user lines with aclfile: %v", err)
	}
}

// ACL SAVE writes the users to the aclfile and ACL LOAD reads them back;
// a bad line is named in LOAD's error and changes nothing.
func TestACLFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.acl")
	os.WriteFile(file, []byte("user default on nopass ~* &* +@all\n"), 0o644)
	s, rc := startServer(t, "--aclfile", file)
	ctx := t.Context()
	must := func(args ...any) {
		t.Helper()
		if err := rc.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	must("ACL", "SETUSER", "alice", "on", ">pw", "~a*", "&c", "+@read", "-keys", "(+set ~w*)")
	must("ACL", "SETUSER", "bob", "off", "+config|get")
	before := s.acl.users.List()
	must("ACL", "SAVE")
	data, _ := os.ReadFile(file)
	if string(data) != strings.Join(before, "\n")+"\n" {
		t.Errorf("saved file:\n%s\nwant ACL LIST:\n%s", data, strings.Join(before, "\n"))
	}
	must("ACL", "DELUSER", "bob")
	must("ACL", "LOAD")
	if got := s.acl.users.List(); !reflect.DeepEqual(got, before) {
		t.Errorf("after LOAD:\n%q\nwant\n%q", got, before)
	}
	os.WriteFile(file, append(data, []byte("user carol on +nosuch\nuser dave on bogus\nnotuser x\n")...), 0o644)
	err := rc.Do(ctx, "ACL", "LOAD").Err()
	want := "ERR " + file + ":4: Error in applying operation '+nosuch': Unknown command or category name in ACL. " +
		file + ":5: Syntax error. " + file + ":6 should start with user keyword followed by the username. " +
		"WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	if err == nil || err.Error() != want {
		t.Errorf("bad file: %v\nwant %s", err, want)
	}
	if got := s.acl.users.List(); !reflect.DeepEqual(got, before) {
		t.Errorf("a failed LOAD changed the users: %q", got)
	}
}

// Connection-level effects: EXEC re-checks queued commands, DELUSER and
// a revoked channel disconnect the user's clients, CLIENT LIST names the
// user and CLIENT KILL USER picks its clients.
func TestACLClientEffects(t *testing.T) {
	s, _ := startServer(t)
	addr := s.Addr().String()
	admin := dialRaw(t, addr)
	admin.do("ACL", "SETUSER", "alice", "on", ">pw", "~*", "&news", "+@all")
	a := dialRaw(t, addr)
	if v, _ := a.do("AUTH", "alice", "pw"); v.Str != "OK" {
		t.Fatalf("AUTH: %v", v)
	}
	if v, _ := admin.do("CLIENT", "LIST"); !strings.Contains(v.Str, "user=alice") || !strings.Contains(v.Str, "user=default") {
		t.Errorf("CLIENT LIST: %s", v.Str)
	}
	a.do("MULTI")
	a.do("SET", "k", "v")
	a.do("GET", "k")
	admin.do("ACL", "SETUSER", "alice", "-set")
	v, _ := a.do("EXEC")
	want := "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
		"This command is no longer allowed for the following reason: no permission to execute the command or subcommand"
	if len(v.Elems) != 2 || v.Elems[0].Str != want || v.Elems[0].Type != '-' {
		t.Errorf("EXEC: %v", v)
	}
	if v, _ := admin.do("ACL", "LOG", "1"); len(v.Elems) != 1 || v.Elems[0].Elems[5].Str != "multi" {
		t.Errorf("ACL LOG: %v", v)
	}

	sub := dialRaw(t, addr)
	sub.do("AUTH", "alice", "pw")
	sub.do("SUBSCRIBE", "news")
	admin.do("ACL", "SETUSER", "alice", "resetchannels", "&other")
	eventually(t, 5*time.Second, func() error {
		if n := len(s.clientList()); n != 2 {
			return fmt.Errorf("%d clients, want 2 (the subscriber killed)", n)
		}
		return nil
	})
	if v, _ := admin.do("CLIENT", "KILL", "USER", "nosuch"); v.Str != "ERR No such user 'nosuch'" {
		t.Errorf("CLIENT KILL USER nosuch: %v", v)
	}
	if v, _ := admin.do("CLIENT", "KILL", "USER", "default"); v.Int != 0 {
		t.Errorf("CLIENT KILL USER default (skipme): %v", v)
	}
	b := dialRaw(t, addr)
	b.do("AUTH", "alice", "pw")
	if v, _ := admin.do("ACL", "DELUSER", "alice"); v.Int != 1 {
		t.Errorf("DELUSER: %v", v)
	}
	eventually(t, 5*time.Second, func() error {
		if n := len(s.clientList()); n != 1 {
			return fmt.Errorf("%d clients, want 1 (alice's gone)", n)
		}
		return nil
	})
}

// A replica authenticates to its master with masteruser/masterauth as a
// user allowed only what replication needs (the master's default user
// may not PSYNC); the master's stream then runs on the replica
// unchecked (its link has no user).
func TestACLReplicaMasterUser(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0",
		"--user", "repl", "on", ">rpw", "+psync", "+replconf", "+ping",
		"--user", "default", "on", "nopass", "~*", "&*", "+@all", "-psync", "-sync")
	host, port := hostPort(t, ms.Addr().String())
	_, replica := startServer(t, "--masteruser", "repl", "--masterauth", "rpw",
		"--user", "default", "on", "nopass", "~*", "&*", "-@all", "+get", "+replicaof", "+role", "+info")
	master.Set(ctx, "k", "v", 0)
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if v := replica.Get(ctx, "k").Val(); v != "v" {
			return fmt.Errorf("k = %q on the replica", v)
		}
		return nil
	})
	master.Set(ctx, "k2", "v2", 0)
	eventually(t, 10*time.Second, func() error {
		if v := replica.Get(ctx, "k2").Val(); v != "v2" {
			return fmt.Errorf("k2 = %q on the replica", v)
		}
		return nil
	})
	if err := replica.Set(ctx, "x", "1", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("SET by the replica's default user: %v", err)
	}
}

// SLOWLOG hides ACL SETUSER's rules and other secrets, as Redis.
func TestACLSlowlogRedacts(t *testing.T) {
	s, _ := startServer(t)
	r := startRedis(t)
	c := func(args ...string) []string { return args }
	for _, addr := range []string{s.Addr().String(), r} {
		oracleConn := dialRaw(t, addr)
		for _, cmd := range [][]string{
			c("CONFIG", "SET", "slowlog-log-slower-than", "0"), c("SLOWLOG", "RESET"),
			c("ACL", "SETUSER", "bad user", "+get"), c("CONFIG", "SET", "masterauth", ""),
			c("ACL", "SETUSER", "u", "on", ">pw"), c("AUTH", "u", "pw"),
			c("MIGRATE", "127.0.0.1", "1", "key", "9", "5000", "AUTH2", "user", "password"),
			c("CONFIG", "SET", "slowlog-log-slower-than", "-1"),
		} {
			oracleConn.do(cmd...)
		}
	}
	aclOracle(t, s.Addr().String(), r, [][]string{c("SLOWLOG", "LEN")})
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, r)
	va, _ := a.do("SLOWLOG", "GET")
	vb, _ := b.do("SLOWLOG", "GET")
	if len(va.Elems) != len(vb.Elems) {
		t.Fatalf("SLOWLOG GET: %d entries, redis %d", len(va.Elems), len(vb.Elems))
	}
	for i := range va.Elems {
		if !reflect.DeepEqual(va.Elems[i].Elems[3], vb.Elems[i].Elems[3]) {
			t.Errorf("entry %d: %v, redis %v", i, va.Elems[i].Elems[3], vb.Elems[i].Elems[3])
		}
	}
}
