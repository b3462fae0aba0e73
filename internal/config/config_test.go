package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileAndArgs(t *testing.T) {
	p := write(t, "# comment\nport 7000\nappendonly yes\nsave 900 1\nsave 300 10\nmaxmemory 1mb\ncluster-enabled yes\n")
	c, err := Load(p, []string{"--port", "7001", "--appendfsync", "always", "--dir", "/tmp/x y"})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"port": "7001", "appendonly": "yes", "save": "900 1 300 10", "maxmemory": "1048576",
		"appendfsync": "always", "dir": "/tmp/x y", "cluster-enabled": "yes", "databases": "16",
		"slave-read-only": "yes",
	}
	for k, want := range checks {
		if got := c.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestSaveEmpty(t *testing.T) {
	c, err := Load("", []string{"--save", ""})
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("save") != "" {
		t.Fatalf("save = %q", c.Get("save"))
	}
}

func TestBadLines(t *testing.T) {
	cases := []struct{ text, line, msg string }{
		{"port 7000\nfoo bar\n", "at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments", ""},
		{"port abc\n", "at line 1\n>>> 'port abc'\nargument couldn't be parsed into an integer", ""},
		{"port 70000\n", ">>> 'port 70000'\nargument must be between 0 and 65535 inclusive", ""},
		{"appendonly maybe\n", ">>> 'appendonly maybe'\nargument must be 'yes' or 'no'", ""},
		{"appendfsync sometimes\n", "argument(s) must be one of the following: everysec, always, no", ""},
		{"maxmemory lots\n", "argument must be a memory value", ""},
		{"\n\nport \"7000\n", "at line 3\n>>> 'port \"7000'\nUnbalanced quotes in configuration line", ""},
		{"save 10\n", "Invalid save parameters", ""},
		{"save \"10\"\n", "Invalid save parameters", ""},
		{"save 0 1\n", "Invalid save parameters", ""}, // at least one second
		{"port 1 2\n", "wrong number of arguments", ""},
	}
	for _, tc := range cases {
		_, err := Load(write(t, tc.text), nil)
		if err == nil || !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%q: err = %v, want it to contain %q", tc.text, err, tc.line)
		}
		if err != nil && !strings.Contains(err.Error(), "*** FATAL CONFIG FILE ERROR") {
			t.Errorf("%q: err lacks the FATAL banner: %v", tc.text, err)
		}
	}
	// "save" with no argument (Redis's test configs write `save ""` so) means
	// no save points, as Redis.
	if c, err := Load(write(t, "save \n"), nil); err != nil || c.Get("save") != "" {
		t.Errorf("save with no argument: %v", err)
	}
	if _, err := Load("/nonexistent/redis.conf", nil); err == nil || !strings.Contains(err.Error(), "can't open config file") {
		t.Errorf("missing file: %v", err)
	}
	// Values before any --option go on the first line, as Redis takes
	// them (after the config file's path).
	if c, err := Load("", []string{"port", "1"}); err != nil || c.Get("port") != "1" {
		t.Errorf("port 1 without --: %v", err)
	}
}

func TestSetAndMatch(t *testing.T) {
	c := New()
	if err := c.Set([][2]string{{"maxmemory", "2mb"}, {"appendfsync", "ALWAYS"}}); err != nil {
		t.Fatal(err)
	}
	if c.Get("maxmemory") != "2097152" || c.Get("appendfsync") != "always" {
		t.Fatalf("set failed: %s %s", c.Get("maxmemory"), c.Get("appendfsync"))
	}
	err := c.Set([][2]string{{"maxmemory", "1mb"}, {"port", "x"}})
	if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer" {
		t.Fatalf("err = %v", err)
	}
	if c.Get("maxmemory") != "2097152" {
		t.Fatalf("failed CONFIG SET was not atomic")
	}
	if err := c.Set([][2]string{{"daemonize", "yes"}}); err == nil || !strings.Contains(err.Error(), "can't set immutable config") {
		t.Fatalf("immutable: %v", err)
	}
	if err := c.Set([][2]string{{"nosuch", "1"}}); err == nil || err.Error() != "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'" {
		t.Fatalf("unknown: %v", err)
	}
}

func TestRewrite(t *testing.T) {
	p := write(t, "# keep me\nport 7000\nport 7001\nunknown-but-kept-not\n")
	os.WriteFile(p, []byte("# keep me\nport 7000\nport 7001\n"), 0o644)
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Set([][2]string{{"maxmemory", "1gb"}, {"save", ""}})
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	got := string(data)
	for _, want := range []string{"# keep me\n", "port 7001\n", "maxmemory 1073741824\n", "save \"\"\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten file lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "port ") != 1 {
		t.Errorf("duplicate port lines:\n%s", got)
	}
	c2, err := Load(p, nil)
	if err != nil || c2.Get("maxmemory") != "1073741824" || c2.Get("save") != "" {
		t.Fatalf("reload: %v %s %q", err, c2.Get("maxmemory"), c2.Get("save"))
	}
}

// FuzzParse checks that no config text crashes the parser and that an
// error always names a line.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"port 7000\n", "save \"\"\n", "bind 127.0.0.1 ::1\n", "port 'x\n",
		"include /nonexistent\n", "appendonly yes\nappendfsync always\n", "maxmemory 10gb\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "include") {
			return // would read arbitrary files
		}
		c := New()
		err := c.parse(text)
		if err != nil {
			if fe, ok := err.(*FileError); !ok || fe.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
		}
	})
}

func TestErrorNamesFile(t *testing.T) {
	p := write(t, "port 7000\nbogus x\n")
	_, err := Load(p, nil)
	if err == nil || !strings.Contains(err.Error(), "Reading the configuration file '"+p+"', at line 2\n>>> 'bogus x'") {
		t.Fatalf("err = %v", err)
	}
	_, err = Load(p[:0], []string{"--port", "1", "--appendonly", "maybe"})
	if err == nil || !strings.Contains(err.Error(), "Reading the configuration file, at line 2\n>>> 'appendonly \"maybe\"'") { // quoted, as redis-server shows it
		t.Fatalf("args err = %v", err)
	}
	good := write(t, "port 7000\n")
	_, err = Load(good, []string{"--port", "abc"})
	if err == nil || !strings.Contains(err.Error(), "at line 1\n>>> 'port \"abc\"'") || strings.Contains(err.Error(), good) {
		t.Fatalf("arg after file err = %v", err)
	}
}

// redisNames is every name CONFIG GET * lists on redis-server 7.0.15
// (built without TLS support, which still lists the tls-* directives).
var redisNames = strings.Fields(`
	acl-pubsub-default aclfile acllog-max-len active-defrag-cycle-max active-defrag-cycle-min 
	active-defrag-ignore-bytes active-defrag-max-scan-fields active-defrag-threshold-lower 
	active-defrag-threshold-upper active-expire-effort activedefrag activerehashing always-show-logo 
	aof-disable-auto-gc aof-load-truncated aof-rewrite-incremental-fsync aof-timestamp-enabled 
	aof-use-rdb-preamble aof_rewrite_cpulist appenddirname appendfilename appendfsync appendonly 
	auto-aof-rewrite-min-size auto-aof-rewrite-percentage bgsave_cpulist bind bind-source-addr 
	bio_cpulist busy-reply-threshold client-output-buffer-limit client-query-buffer-limit 
	cluster-allow-pubsubshard-when-down cluster-allow-reads-when-down cluster-allow-replica-migration 
	cluster-announce-bus-port cluster-announce-hostname cluster-announce-ip cluster-announce-port 
	cluster-announce-tls-port cluster-config-file cluster-enabled cluster-link-sendbuf-limit 
	cluster-migration-barrier cluster-node-timeout cluster-port cluster-preferred-endpoint-type 
	cluster-replica-no-failover cluster-replica-validity-factor cluster-require-full-coverage 
	cluster-slave-no-failover cluster-slave-validity-factor crash-log-enabled crash-memcheck-enabled 
	daemonize databases dbfilename dir disable-thp dynamic-hz enable-debug-command 
	enable-module-command enable-protected-configs hash-max-listpack-entries hash-max-listpack-value 
	hash-max-ziplist-entries hash-max-ziplist-value hll-sparse-max-bytes hz ignore-warnings io-threads 
	io-threads-do-reads jemalloc-bg-thread latency-monitor-threshold latency-tracking 
	latency-tracking-info-percentiles lazyfree-lazy-eviction lazyfree-lazy-expire 
	lazyfree-lazy-server-del lazyfree-lazy-user-del lazyfree-lazy-user-flush lfu-decay-time 
	lfu-log-factor list-compress-depth list-max-listpack-size list-max-ziplist-size logfile loglevel 
	lua-time-limit masterauth masteruser maxclients maxmemory maxmemory-clients 
	maxmemory-eviction-tenacity maxmemory-policy maxmemory-samples min-replicas-max-lag 
	min-replicas-to-write min-slaves-max-lag min-slaves-to-write no-appendfsync-on-rewrite 
	notify-keyspace-events oom-score-adj oom-score-adj-values pidfile port proc-title-template 
	propagation-error-behavior protected-mode proto-max-bulk-len rdb-del-sync-files 
	rdb-save-incremental-fsync rdbchecksum rdbcompression repl-backlog-size repl-backlog-ttl 
	repl-disable-tcp-nodelay repl-diskless-load repl-diskless-sync repl-diskless-sync-delay 
	repl-diskless-sync-max-replicas repl-ping-replica-period repl-ping-slave-period repl-timeout 
	replica-announce-ip replica-announce-port replica-announced replica-ignore-disk-write-errors 
	replica-ignore-maxmemory replica-lazy-flush replica-priority replica-read-only 
	replica-serve-stale-data replicaof requirepass sanitize-dump-payload save server_cpulist 
	set-max-intset-entries set-proc-title shutdown-on-sigint shutdown-on-sigterm shutdown-timeout 
	slave-announce-ip slave-announce-port slave-ignore-maxmemory slave-lazy-flush slave-priority 
	slave-read-only slave-serve-stale-data slaveof slowlog-log-slower-than slowlog-max-len 
	socket-mark-id stop-writes-on-bgsave-error stream-node-max-bytes stream-node-max-entries supervised 
	syslog-enabled syslog-facility syslog-ident tcp-backlog tcp-keepalive timeout tls-auth-clients 
	tls-ca-cert-dir tls-ca-cert-file tls-cert-file tls-ciphers tls-ciphersuites tls-client-cert-file 
	tls-client-key-file tls-client-key-file-pass tls-cluster tls-dh-params-file tls-key-file 
	tls-key-file-pass tls-port tls-prefer-server-ciphers tls-protocols tls-replication 
	tls-session-cache-size tls-session-cache-timeout tls-session-caching tracking-table-max-keys 
	unixsocket unixsocketperm zset-max-listpack-entries zset-max-listpack-value 
	zset-max-ziplist-entries zset-max-ziplist-value 
`)

func TestEveryRedisDirective(t *testing.T) {
	c := New()
	for _, name := range redisNames {
		if got := c.Match([]string{name}, func(p, n string) bool { return p == n }); len(got) != 1 {
			t.Errorf("%s: CONFIG GET gives %v", name, got)
		}
	}
	seen := map[string]bool{}
	for _, p := range Params {
		for _, n := range []string{p.Name, p.Alias} {
			if n != "" && seen[n] {
				t.Errorf("%s listed twice", n)
			}
			seen[n] = true
		}
	}
}

func TestHiddenDirectives(t *testing.T) {
	c, err := Load(write(t, "key-load-delay 100\nloading-process-events-interval-bytes 1024\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set([][2]string{{"rdb-key-save-delay", "-10"}, {"use-exit-on-panic", "yes"}}); err != nil {
		t.Fatal(err)
	}
	exact := func(p, n string) bool { return p == n }
	for name, want := range map[string]string{"key-load-delay": "100", "loading-process-events-interval-bytes": "1024",
		"rdb-key-save-delay": "-10", "use-exit-on-panic": "yes", "watchdog-period": "0"} {
		if got := c.Match([]string{name}, exact); len(got) != 1 || got[0][1] != want {
			t.Errorf("CONFIG GET %s = %v, want %s", name, got, want)
		}
	}
	all := c.Match([]string{"*"}, func(p, n string) bool { return p == "*" })
	for _, kv := range all {
		if kv[0] == "key-load-delay" {
			t.Errorf("CONFIG GET * lists the hidden %s", kv[0])
		}
	}
	if err := c.Set([][2]string{{"loading-process-events-interval-bytes", "10"}}); err == nil {
		t.Error("loading-process-events-interval-bytes 10 accepted")
	}
}

func TestHostnameValidation(t *testing.T) {
	c := New()
	cases := []struct{ v, err string }{
		{strings.Repeat("x", 256), "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames must be less than 256 characters"},
		{"?.com", "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots"},
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", ""},
		{"", ""},
	}
	for _, tc := range cases {
		err := c.Set([][2]string{{"cluster-announce-hostname", tc.v}})
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%q: %v, want %q", tc.v, err, tc.err)
		}
	}
	if _, err := Load(write(t, "cluster-announce-hostname a_b\n"), nil); err == nil {
		t.Error("a_b accepted in a config file")
	}
}

// TestReplicaofDirective: replicaof (and slaveof) take host and port as
// two arguments in a config file, as Redis's; CONFIG SET refuses it.
func TestReplicaofDirective(t *testing.T) {
	for _, name := range []string{"replicaof", "slaveof"} {
		c, err := Load(write(t, name+" 127.0.0.1 6379\n"), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v := c.Get("replicaof"); v != "127.0.0.1 6379" {
			t.Errorf("%s: replicaof = %q", name, v)
		}
		if err := c.Set([][2]string{{"replicaof", "127.0.0.1 1"}}); err == nil || !strings.Contains(err.Error(), "can't set immutable config") {
			t.Errorf("CONFIG SET replicaof: %v", err)
		}
	}
}

// TestSaveInOneArgument: save "3600 1 300 100" (one quoted argument, in a
// file or on the command line) is split into its pairs, as Redis 7.0.
func TestSaveInOneArgument(t *testing.T) {
	c, err := Load(write(t, "save \"3600 1 300 100\"\n"), nil)
	if err != nil || c.Get("save") != "3600 1 300 100" {
		t.Fatalf("config file: %v, save = %q", err, c.Get("save"))
	}
	c, err = Load("", []string{"--save", "60 10"})
	if err != nil || c.Get("save") != "60 10" {
		t.Fatalf("command line: %v", err)
	}
}

// TestTLSDirectivesMutable: the tls-* directives are CONFIG SET-able as
// in Redis 7.0 (unit/introspection "CONFIG sanity" sets each to its
// value), tls-auth-clients with Redis's three values.
func TestTLSDirectivesMutable(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set([][2]string{{"tls-cluster", "no"}, {"tls-auth-clients", "optional"}}); err != nil {
		t.Fatal(err)
	}
	if v := c.Get("tls-auth-clients"); v != "optional" {
		t.Fatalf("tls-auth-clients = %q", v)
	}
	err = c.Set([][2]string{{"tls-auth-clients", "maybe"}})
	if want := "ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional"; err == nil || err.Error() != want {
		t.Fatalf("tls-auth-clients maybe: %v", err)
	}
}

// TestRewriteAll: DEBUG CONFIG-REWRITE-FORCE-ALL writes every directive,
// defaults too, and the file loads back to the same values
// (unit/introspection "CONFIG REWRITE sanity").
func TestRewriteAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "redis.conf")
	os.WriteFile(path, []byte("port 7000\nsave \"\"\n"), 0o644)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RewriteAll(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "\nmaxmemory-policy noeviction\n") {
		t.Fatalf("defaults not written:\n%s", data)
	}
	c2, err := Load(path, nil)
	if err != nil {
		t.Fatalf("the rewritten file does not load: %v\n%s", err, data)
	}
	all := func(c *Config) string {
		return fmt.Sprint(c.Match([]string{"*"}, func(p, n string) bool { return true }))
	}
	if all(c) != all(c2) {
		t.Fatalf("values changed by the rewrite:\n%s\n%s", all(c), all(c2))
	}
}

// A CONFIG SET whose apply fails for one directive re-applies the old
// values of those applied before it (Redis's rollback on apply error),
// and a protected directive needs protectedOK.
func TestSetRollsBackAppliedOnApplyError(t *testing.T) {
	c := New()
	var applied []string
	c.OnSet("maxmemory", func(v string) error { applied = append(applied, "maxmemory="+v); return nil })
	c.OnSet("port", func(v string) error { return errors.New("Unable to listen on this port") })
	err := c.Set([][2]string{{"maxmemory", "1mb"}, {"port", "7000"}})
	if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port" {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(applied, " ") != "maxmemory=1048576 maxmemory=0" {
		t.Fatalf("applied %v", applied)
	}
	if c.Get("maxmemory") != "0" {
		t.Fatalf("maxmemory %s", c.Get("maxmemory"))
	}
	if err := c.SetAs([][2]string{{"dir", "/tmp"}}, false); err == nil || !strings.Contains(err.Error(), "can't set protected config") {
		t.Fatalf("protected: %v", err)
	}
	if err := c.SetAs([][2]string{{"dir", "/tmp"}}, true); err != nil {
		t.Fatal(err)
	}
}

// Command-line arguments become config lines as redis-server makes them
// (unit/introspection "redis-server command line arguments - error
// cases"): values quoted, "--x" a value while the option before has none.
func TestArgsToLinesAsRedis(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the error's line, or "" for no error
		msg  string
	}{
		{[]string{"--port"}, "'port'", "wrong number of arguments"},
		{[]string{"--port", "6380", "--loglevel"}, "'loglevel'", "wrong number of arguments"},
		{[]string{"--port", "6379", "6380"}, `'port "6379" "6380"'`, "wrong number of arguments"},
		{[]string{"--port", "--loglevel", "verbose"}, `'port "--loglevel" "verbose"'`, "wrong number of arguments"},
		{[]string{"--port", "--bla", "--loglevel", "verbose"}, `'port "--bla"'`, "argument couldn't be parsed into an integer"},
		{[]string{"--logfile", "--my--log--file", "--loglevel", "--bla"}, `'loglevel "--bla"'`, "argument(s) must be one of the following"},
		{[]string{"--shutdown-on-sigint"}, "'shutdown-on-sigint'", "argument(s) must be one of the following"},
		{[]string{"--shutdown-on-sigint", "now force", "--shutdown-on-sigterm"}, "'shutdown-on-sigterm'", "argument(s) must be one of the following"},
		{[]string{"--replicaof", "127.0.0.1", "abc"}, `'replicaof "127.0.0.1" "abc"'`, "Invalid master port"},
		{[]string{"--replicaof", "--127.0.0.1", "abc"}, `'replicaof "--127.0.0.1" "abc"'`, "Invalid master port"},
		{[]string{"--replicaof", "--127.0.0.1", "--abc"}, `'replicaof "--127.0.0.1"'`, "wrong number of arguments"},
		{[]string{"--replicaof", "127.0.0.1", "6379"}, "", ""},
		{[]string{"--replicaof", "no", "one"}, "", ""},
		{[]string{"--replicaof", "127.0.0.1 6379"}, "", ""}, // one value, split at its spaces
		{[]string{"--shutdown-on-sigterm", "nosave force"}, "", ""},
		{[]string{"--save", "--port", "7000"}, "", ""},
		{[]string{"--port", "7000", "--save"}, "", ""},
		{[]string{"--maxmemory 700mb", "--maxmemory-policy volatile-lru"}, "", ""},
	} {
		c, err := Load("", tc.args)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.args, err)
			} else if tc.args[0] == "--save" && c.Get("save") != "" {
				t.Errorf("%q: save %q", tc.args, c.Get("save"))
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), ">>> "+tc.want+"\n") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %v", tc.args, err)
		}
	}
}

// Arguments Redis takes although they break its rules (unit/introspection
// "wrong usage that we support anyway", "allow option value to use the
// `--` prefix").
func TestArgsRedisTakesAnyway(t *testing.T) {
	c, err := Load("", []string{"loglevel", "verbose", "--maxmemory '700mb'", "--maxmemory-policy 'volatile-lru'"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("loglevel") != "verbose" || c.Get("maxmemory") != "734003200" || c.Get("maxmemory-policy") != "volatile-lru" {
		t.Fatalf("%s %s %s", c.Get("loglevel"), c.Get("maxmemory"), c.Get("maxmemory-policy"))
	}
	c, err = Load("", []string{"--proc-title-template", "--my--title--template", "--loglevel", "verbose"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("proc-title-template") != "--my--title--template" || c.Get("loglevel") != "verbose" {
		t.Fatalf("%s %s", c.Get("proc-title-template"), c.Get("loglevel"))
	}
}
