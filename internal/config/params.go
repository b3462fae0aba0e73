package config

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"redgo/internal/notify"
)

// Kind is how a directive's value is parsed.
type Kind int

const (
	Bool   Kind = iota // yes|no
	Int                // integer within [Min, Max]
	Memory             // integer with optional k kb m mb g gb suffix
	Enum               // one of Enum
	String             // any single string
	Multi              // any number of arguments, kept as one space-joined string (save, bind)
)

// Param describes one directive.
type Param struct {
	Name     string
	Alias    string
	Kind     Kind
	Default  string
	Mutable  bool
	Enum     []string
	Min, Max int64
	// Hidden directives (Redis's HIDDEN_CONFIG, used by its tests) are
	// left out of CONFIG GET patterns; only their exact name matches.
	Hidden bool
	// Protected directives (Redis's PROTECTED_CONFIG: dir, dbfilename)
	// are set by CONFIG SET only as enable-protected-configs allows.
	Protected bool
	// Check, when set, validates a value (Redis's apply-time validators).
	Check func(v string) error
	// Canon, when set, validates a value and returns the form CONFIG GET
	// shows (notify-keyspace-events).
	Canon func(v string) (string, error)
	// Show, when set, renders a stored value for CONFIG GET and REWRITE.
	Show func(v string) string
}

const maxInt = 1<<63 - 1

func b(name, def string, mutable bool) Param {
	return Param{Name: name, Kind: Bool, Default: def, Mutable: mutable}
}
func i(name, def string, min, max int64, mutable bool) Param {
	return Param{Name: name, Kind: Int, Default: def, Min: min, Max: max, Mutable: mutable}
}
func m(name, def string, min, max int64, mutable bool) Param {
	return Param{Name: name, Kind: Memory, Default: def, Min: min, Max: max, Mutable: mutable}
}
func s(name, def string, mutable bool) Param {
	return Param{Name: name, Kind: String, Default: def, Mutable: mutable}
}
func e(name, def string, mutable bool, vals ...string) Param {
	return Param{Name: name, Kind: Enum, Default: def, Mutable: mutable, Enum: vals}
}
func alias(p Param, a string) Param { p.Alias = a; return p }
func hidden(p Param) Param          { p.Hidden = true; return p }

// Params is every directive redgo accepts, with Redis 7.0's defaults.
var Params = []Param{
	// network and process
	i("port", "6379", 0, 65535, true),
	{Name: "bind", Kind: Multi, Default: "* -::*", Mutable: true},
	b("protected-mode", "yes", true),
	i("tcp-backlog", "511", 0, maxInt, false),
	i("timeout", "0", 0, maxInt, true),
	i("tcp-keepalive", "300", 0, maxInt, true),
	b("daemonize", "no", false),
	s("pidfile", "", false),
	e("loglevel", "notice", true, "debug", "verbose", "notice", "warning"),
	s("logfile", "", false),
	i("databases", "16", 1, 1<<20, false),
	// shutdown: flags default|save|nosave|now|force, and redgo's (Valkey
	// 9's) failover: a cluster master hands its slots to a replica first.
	{Name: "shutdown-on-sigterm", Kind: Multi, Default: "default", Mutable: true},
	{Name: "shutdown-on-sigint", Kind: Multi, Default: "default", Mutable: true},
	i("shutdown-timeout", "10", 0, maxInt, true),
	i("maxclients", "10000", 1, maxInt, true),
	s("requirepass", "", true),
	s("masterauth", "", true),
	s("masteruser", "", true),
	{Name: "dir", Kind: String, Default: ".", Mutable: true, Protected: true},
	s("unixsocket", "", false),
	b("always-show-logo", "no", false),
	b("set-proc-title", "yes", false),
	s("proc-title-template", "{title} {listen-addr} {server-mode}", true),
	i("hz", "10", 0, 500, true),
	b("dynamic-hz", "yes", true),
	i("io-threads", "1", 1, 128, false),
	b("io-threads-do-reads", "no", false),
	e("enable-debug-command", "no", false, "no", "yes", "local"),
	e("enable-protected-configs", "no", false, "no", "yes", "local"),
	e("enable-module-command", "no", false, "no", "yes", "local"),
	b("syslog-enabled", "no", false),
	s("syslog-ident", "redis", false),
	b("crash-log-enabled", "yes", true),
	// persistence
	b("appendonly", "no", true),
	s("appendfilename", "appendonly.aof", false),
	s("appenddirname", "appendonlydir", false),
	e("appendfsync", "everysec", true, "everysec", "always", "no"),
	b("no-appendfsync-on-rewrite", "no", true),
	i("auto-aof-rewrite-percentage", "100", 0, maxInt, true),
	m("auto-aof-rewrite-min-size", "67108864", 0, maxInt, true),
	b("aof-load-truncated", "yes", true),
	b("aof-use-rdb-preamble", "yes", true),
	b("aof-timestamp-enabled", "no", true),
	b("aof-rewrite-incremental-fsync", "yes", true),
	{Name: "save", Kind: Multi, Default: "3600 1 300 100 60 10000", Mutable: true},
	{Name: "dbfilename", Kind: String, Default: "dump.rdb", Mutable: true, Protected: true},
	b("rdbcompression", "yes", true),
	b("rdbchecksum", "yes", true),
	b("stop-writes-on-bgsave-error", "yes", true),
	b("rdb-del-sync-files", "no", true),
	b("rdb-save-incremental-fsync", "yes", true),
	// limits
	m("proto-max-bulk-len", "536870912", 1024*1024, maxInt, true),
	m("client-query-buffer-limit", "1073741824", 1024*1024, maxInt, true),
	m("maxmemory", "0", 0, maxInt, true),
	e("maxmemory-policy", "noeviction", true, "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
		"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"),
	i("maxmemory-samples", "5", 1, 64, true),
	i("maxmemory-eviction-tenacity", "10", 0, 100, true),
	i("lfu-log-factor", "10", 0, maxInt, true),
	i("lfu-decay-time", "1", 0, maxInt, true),
	{Name: "client-output-buffer-limit", Kind: Multi, Default: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Mutable: true},
	b("lazyfree-lazy-eviction", "no", true),
	b("lazyfree-lazy-expire", "no", true),
	b("lazyfree-lazy-server-del", "no", true),
	b("lazyfree-lazy-user-del", "no", true),
	b("lazyfree-lazy-user-flush", "no", true),
	alias(b("replica-lazy-flush", "no", true), "slave-lazy-flush"),
	b("activerehashing", "yes", true),
	b("activedefrag", "no", true),
	i("active-expire-effort", "1", 1, 10, true),
	// encodings
	alias(i("hash-max-listpack-entries", "512", 0, maxInt, true), "hash-max-ziplist-entries"), // redis-server 7.0 built-in default (redis.conf says 128)
	alias(m("hash-max-listpack-value", "64", 0, maxInt, true), "hash-max-ziplist-value"),
	i("set-max-intset-entries", "512", 0, maxInt, true),
	alias(i("zset-max-listpack-entries", "128", 0, maxInt, true), "zset-max-ziplist-entries"),
	alias(m("zset-max-listpack-value", "64", 0, maxInt, true), "zset-max-ziplist-value"),
	alias(i("list-max-listpack-size", "-2", -5, maxInt, true), "list-max-ziplist-size"),
	i("list-compress-depth", "0", 0, maxInt, true),
	m("hll-sparse-max-bytes", "3000", 0, maxInt, true),
	i("stream-node-max-bytes", "4096", 0, maxInt, true),
	i("stream-node-max-entries", "100", 0, maxInt, true),
	// diagnostics
	i("slowlog-log-slower-than", "10000", -1, maxInt, true),
	i("slowlog-max-len", "128", 0, maxInt, true),
	i("latency-monitor-threshold", "0", 0, maxInt, true),
	{Name: "notify-keyspace-events", Kind: String, Mutable: true, Canon: canonNotify, Show: notify.Show},
	b("latency-tracking", "yes", true),
	// replication
	alias(Param{Name: "replicaof", Kind: Multi}, "slaveof"), // host port; immutable: REPLICAOF changes it (Config.Record)
	alias(b("replica-read-only", "yes", true), "slave-read-only"),
	alias(b("replica-serve-stale-data", "yes", true), "slave-serve-stale-data"),
	m("repl-backlog-size", "1048576", 1, maxInt, true),
	i("repl-backlog-ttl", "3600", 0, maxInt, true),
	i("repl-timeout", "60", 1, maxInt, true),
	alias(i("repl-ping-replica-period", "10", 1, maxInt, true), "repl-ping-slave-period"),
	b("repl-diskless-sync", "yes", true),
	i("repl-diskless-sync-delay", "5", 0, maxInt, true),
	i("repl-diskless-sync-max-replicas", "0", 0, maxInt, true),
	e("repl-diskless-load", "disabled", true, "disabled", "on-empty-db", "swapdb"),
	b("repl-disable-tcp-nodelay", "no", true),
	alias(i("replica-priority", "100", 0, maxInt, true), "slave-priority"),
	alias(i("min-replicas-to-write", "0", 0, maxInt, true), "min-slaves-to-write"),
	alias(i("min-replicas-max-lag", "10", 0, maxInt, true), "min-slaves-max-lag"),
	alias(s("replica-announce-ip", "", true), "slave-announce-ip"),
	alias(i("replica-announce-port", "0", 0, 65535, true), "slave-announce-port"),
	b("replica-announced", "yes", true),
	alias(b("replica-ignore-maxmemory", "yes", true), "slave-ignore-maxmemory"),
	// cluster
	b("cluster-enabled", "no", false),
	s("cluster-config-file", "nodes.conf", false),
	i("cluster-node-timeout", "15000", 0, maxInt, true),
	i("cluster-port", "0", 0, 65535, false),
	alias(i("cluster-replica-validity-factor", "10", 0, maxInt, true), "cluster-slave-validity-factor"),
	i("cluster-migration-barrier", "1", 0, maxInt, true),
	// redgo's own: a replica's election starts as soon as it learns of its
	// master's FAIL, with a shorter delay (docs/replication.md).
	b("cluster-fast-failover", "yes", true),
	b("cluster-allow-replica-migration", "yes", true),
	b("cluster-require-full-coverage", "yes", true),
	alias(b("cluster-replica-no-failover", "no", true), "cluster-slave-no-failover"),
	b("cluster-allow-reads-when-down", "no", true),
	b("cluster-allow-pubsubshard-when-down", "yes", true),
	s("cluster-announce-ip", "", true),
	i("cluster-announce-port", "0", 0, 65535, true),
	i("cluster-announce-tls-port", "0", 0, 65535, true),
	i("cluster-announce-bus-port", "0", 0, 65535, true),
	{Name: "cluster-announce-hostname", Kind: String, Mutable: true, Check: validHostname},
	s("cluster-announce-human-nodename", "", true),
	e("cluster-preferred-endpoint-type", "ip", true, "ip", "hostname", "unknown-endpoint"),
	m("cluster-link-sendbuf-limit", "0", 0, maxInt, true),
	b("tls-cluster", "no", true),

	// accepted for compatibility; they change nothing in redgo (docs/compat.md)
	e("acl-pubsub-default", "resetchannels", true, "allchannels", "resetchannels"),
	s("aclfile", "", false),
	i("acllog-max-len", "128", 0, maxInt, true),
	i("active-defrag-cycle-max", "25", 1, 99, true),
	i("active-defrag-cycle-min", "1", 1, 99, true),
	m("active-defrag-ignore-bytes", "104857600", 1, maxInt, true),
	i("active-defrag-max-scan-fields", "1000", 1, maxInt, true),
	i("active-defrag-threshold-lower", "10", 0, 1000, true),
	i("active-defrag-threshold-upper", "100", 0, 1000, true),
	b("aof-disable-auto-gc", "no", true),
	s("aof_rewrite_cpulist", "", false),
	s("bgsave_cpulist", "", false),
	s("bio_cpulist", "", false),
	s("server_cpulist", "", false),
	s("bind-source-addr", "", true),
	alias(i("busy-reply-threshold", "5000", 0, maxInt, true), "lua-time-limit"),
	b("crash-memcheck-enabled", "yes", true),
	b("disable-thp", "yes", false),
	s("ignore-warnings", "", true),
	b("jemalloc-bg-thread", "yes", true),
	{Name: "latency-tracking-info-percentiles", Kind: Multi, Default: "50 99 99.9", Mutable: true},
	{Name: "maxmemory-clients", Kind: String, Default: "0", Mutable: true, Canon: memoryOrPercent},
	e("oom-score-adj", "no", true, "no", "yes", "relative", "absolute"),
	{Name: "oom-score-adj-values", Kind: Multi, Default: "0 200 800", Mutable: true},
	e("propagation-error-behavior", "ignore", true, "ignore", "panic", "panic-on-replicas"),
	b("replica-ignore-disk-write-errors", "no", true),
	e("sanitize-dump-payload", "no", true, "no", "yes", "clients"),
	i("socket-mark-id", "0", 0, maxInt, true),
	e("supervised", "no", false, "upstart", "systemd", "auto", "no"),
	e("syslog-facility", "local0", false, "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"),
	i("tracking-table-max-keys", "1000000", 0, maxInt, true),
	s("unixsocketperm", "0", false),
	i("tls-port", "0", 0, 65535, true),
	e("tls-auth-clients", "yes", true, "no", "yes", "optional"),
	s("tls-ca-cert-dir", "", true),
	s("tls-ca-cert-file", "", true),
	s("tls-cert-file", "", true),
	s("tls-ciphers", "", true),
	s("tls-ciphersuites", "", true),
	s("tls-client-cert-file", "", true),
	s("tls-client-key-file", "", true),
	s("tls-client-key-file-pass", "", true),
	s("tls-dh-params-file", "", true),
	s("tls-key-file", "", true),
	s("tls-key-file-pass", "", true),
	b("tls-prefer-server-ciphers", "no", true),
	s("tls-protocols", "", true),
	b("tls-replication", "no", true),
	i("tls-session-cache-size", "20480", 0, maxInt, true),
	i("tls-session-cache-timeout", "300", 0, maxInt, true),
	b("tls-session-caching", "yes", true),
	// Redis's hidden test-only directives
	hidden(b("use-exit-on-panic", "no", true)),
	hidden(i("rdb-key-save-delay", "0", -1<<31, 1<<31-1, true)),
	hidden(i("key-load-delay", "0", -1<<31, 1<<31-1, true)),
	hidden(i("watchdog-period", "0", 0, 1<<31-1, true)),
	hidden(m("loading-process-events-interval-bytes", "2097152", 1024, 1<<31-1, true)),
}

// validHostname is config.c's isValidAnnouncedHostname.
// memoryOrPercent validates maxmemory-clients (Redis's PERCENT_CONFIG
// memory directive): bytes, shown as a number, or a percentage of
// maxmemory up to 100, shown with its '%'.
func memoryOrPercent(v string) (string, error) {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		n, err := strconv.ParseInt(p, 10, 64)
		switch {
		case err != nil || n < 0:
			return "", errors.New("argument must be a memory or percent value")
		case n > 100:
			return "", errors.New("percentage argument must be less or equal to 100")
		}
		return strconv.FormatInt(n, 10) + "%", nil
	}
	n, ok := ParseMemory(v)
	if !ok || n < 0 {
		return "", errors.New("argument must be a memory or percent value")
	}
	return strconv.FormatInt(n, 10), nil
}

func validHostname(v string) error {
	if len(v) >= 256 { // NET_HOST_STR_LEN
		return errors.New("Hostnames must be less than 256 characters")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return errors.New("Hostnames may only contain alphanumeric characters, hyphens or dots")
		}
	}
	return nil
}

// normalizePercentiles checks latency-tracking-info-percentiles as
// Redis (numbers from 0 to 100; an empty value means none) and renders
// them as CONFIG GET shows them ("%f" without trailing zeros).
func normalizePercentiles(vals []string) (string, error) {
	ps, err := ParsePercentiles(strings.Join(vals, " "))
	if err != nil {
		return "", err
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = FormatPercentile(p)
	}
	return strings.Join(out, " "), nil
}

// ParsePercentiles reads latency-tracking-info-percentiles.
func ParsePercentiles(v string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Fields(v) {
		p, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, errors.New("Invalid latency-tracking-info-percentiles parameters")
		}
		if p > 100 || p < 0 {
			return nil, errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		out = append(out, p)
	}
	return out, nil
}

func canonNotify(v string) (string, error) {
	c, ok := notify.Canonical(v)
	if !ok {
		return "", errors.New(notify.ErrClasses)
	}
	return c, nil
}

// FormatPercentile prints a percentile as Redis does ("%f" without
// trailing zeros: 50, 99.9), in CONFIG GET and INFO latencystats.
func FormatPercentile(p float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(p, 'f', 6, 64), "0"), ".")
}
