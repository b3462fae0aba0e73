package server

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/rdb"
	"redgo/internal/resp"
)

// adminState is the server-level state of the admin commands: INFO's
// instantaneous metrics and memory peak, the replication ids, DEBUG
// switches and INFO section overrides.
type adminState struct {
	mu       sync.Mutex
	samples  [3]metricSamples                                  // ops, net input bytes, net output bytes
	sections map[string]func(s *Server, add func(k, v string)) // INFO overrides, guarded by mu

	peakMem     atomic.Int64
	startupMem  int64
	cronPaused  atomic.Bool
	shutdowning atomic.Bool
}

// metricSamples is Redis's instantaneous metric: the rate over the last
// 16 samples taken every 100 ms.
type metricSamples struct {
	lastTime  time.Time
	lastValue int64
	rates     [16]float64
	idx       int
}

func (m *metricSamples) add(now time.Time, value int64) {
	if !m.lastTime.IsZero() {
		dt := now.Sub(m.lastTime).Seconds()
		if dt > 0 {
			m.rates[m.idx] = float64(value-m.lastValue) / dt
			m.idx = (m.idx + 1) % len(m.rates)
		}
	}
	m.lastTime, m.lastValue = now, value
}

func (m *metricSamples) rate() float64 {
	sum := 0.0
	for _, r := range m.rates {
		sum += r
	}
	return sum / float64(len(m.rates))
}

// initAdmin runs once from New: ids, runtime-settable diagnostics and the
// encoding limits.
func (s *Server) initAdmin() {
	a := &s.admin
	runtime.GC() // what start-up left live, not its garbage
	a.startupMem = int64(readMemStats().HeapAlloc)
	cfg := s.Cfg
	s.slowlog.thresh.Store(cfg.Int("slowlog-log-slower-than"))
	s.slowlog.maxLen.Store(cfg.Int("slowlog-max-len"))
	cfg.OnSet("slowlog-log-slower-than", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.slowlog.thresh.Store(n)
		return nil
	})
	cfg.OnSet("slowlog-max-len", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.slowlog.maxLen.Store(n)
		return nil
	})
	registerEncodingHooks(cfg, s.KS)
	s.latency.init(cfg)
}

// sample records the instantaneous metrics; the cron calls it every 100 ms.
func (a *adminState) sample(s *Server) {
	now := time.Now()
	a.mu.Lock()
	a.samples[0].add(now, s.stats.Commands.Load())
	a.samples[1].add(now, s.stats.NetIn.Load())
	a.samples[2].add(now, s.stats.NetOut.Load())
	a.mu.Unlock()
}

func (a *adminState) rates() (ops, in, out float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.samples[0].rate(), a.samples[1].rate(), a.samples[2].rate()
}

func init() {
	commands.Register("debug", srvCmd(cmdDebug), commands.LockAll())
	commands.Register("slowlog|get", srvCmd(cmdSlowlogGet))
	commands.Register("slowlog|len", srvCmd(cmdSlowlogLen))
	commands.Register("slowlog|reset", srvCmd(cmdSlowlogReset))
	commands.Register("slowlog|help", cmdSlowlogHelp)
	commands.Register("monitor", srvCmd(cmdMonitor))
	commands.Register("time", cmdTime)
	commands.Register("lastsave", srvCmd(cmdLastsave))
	commands.Register("shutdown", srvCmd(cmdShutdown))
}

// subSyntaxError is Redis's addReplySubcommandSyntaxError.
func subSyntaxError(c *commands.Ctx) {
	sub := c.Args[1]
	if len(sub) > 128 {
		sub = sub[:128]
	}
	c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.",
		sub, strings.ToUpper(string(c.Args[0]))))
}

// ---- SLOWLOG ----

func cmdSlowlogGet(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 {
		subSyntaxError(c)
		return
	}
	count := int64(10)
	if len(c.Args) == 3 {
		n, ok := commands.ParseInt(c.Args[2])
		if !ok || n < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	sl := &s.slowlog
	sl.mu.Lock()
	entries := sl.entries
	if count >= 0 && int64(len(entries)) > count {
		entries = entries[:count]
	}
	entries = append([]slowEntry(nil), entries...)
	sl.mu.Unlock()
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.at)
		c.W.Int(e.dur)
		c.W.BulkStrings(e.args)
		c.W.BulkString(e.addr)
		c.W.BulkString(e.name)
	}
}

func cmdSlowlogLen(s *Server, cc *Client, c *commands.Ctx) {
	sl := &s.slowlog
	sl.mu.Lock()
	n := len(sl.entries)
	sl.mu.Unlock()
	c.W.Int(int64(n))
}

func cmdSlowlogReset(s *Server, cc *Client, c *commands.Ctx) {
	sl := &s.slowlog
	sl.mu.Lock()
	sl.entries = nil
	sl.mu.Unlock()
	c.W.OK()
}

func cmdSlowlogHelp(c *commands.Ctx) {
	help(c, "SLOWLOG",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.")
}

// ---- MONITOR, TIME, LASTSAVE, WAIT, SHUTDOWN ----

func cmdMonitor(s *Server, cc *Client, c *commands.Ctx) {
	if c.NoBlock {
		c.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if cc.monitor.Load() {
		return // already monitoring: Redis ignores it without a reply
	}
	c.W.OK()
	cc.monitor.Store(true)
	s.monitors.add(cc)
}

func cmdTime(c *commands.Ctx) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

func cmdLastsave(s *Server, cc *Client, c *commands.Ctx) { c.W.Int(s.persist.LastSave()) }

func cmdShutdown(s *Server, cc *Client, c *commands.Ctx) {
	var nosave, save, now, force, abort, failover bool
	for _, a := range c.Args[1:] {
		switch {
		case commands.EqualFold(a, "nosave"):
			nosave = true
		case commands.EqualFold(a, "save"):
			save = true
		case commands.EqualFold(a, "now"):
			now = true
		case commands.EqualFold(a, "force"):
			force = true
		case commands.EqualFold(a, "abort"):
			abort = true
		case commands.EqualFold(a, "failover"): // Valkey 9's: hand the slots over first
			failover = true
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	if (abort && (nosave || save || now || force)) || (nosave && save) {
		c.Error(commands.ErrSyntax)
		return
	}
	if s.scripts.Busy() != nil && !abort {
		// A script past busy-reply-threshold: only SHUTDOWN NOSAVE stops it.
		if !nosave {
			c.Error(s.busyText())
			return
		}
		s.scripts.KillAll()
	}
	if abort {
		// Shutdown is never left pending (no replicas to wait for).
		c.Error("ERR No shutdown in progress.")
		return
	}
	if !now && c.NoBlock {
		c.Error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
		return
	}
	doSave := save || (!nosave && strings.TrimSpace(s.Cfg.Get("save")) != "")
	s.Log.Printf("# User requested shutdown...")
	if !s.admin.shutdowning.CompareAndSwap(false, true) {
		return
	}
	if !now {
		s.prepareShutdown(failover)
	}
	if err := s.Shutdown(doSave); err != nil {
		if !force {
			s.admin.shutdowning.Store(false)
			s.Log.Printf("# %v", err)
			c.Error("ERR Errors trying to SHUTDOWN. Check logs.")
			return
		}
		s.Stop()
	}
	// No reply: the connection closes with the server.
	cc.closeErr.Store(true)
}

// ---- DEBUG ----

const errDebugReloadOpts = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."

// debugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, flush and
// load back. It runs with every shard locked (DEBUG is LockAll) and
// returns the error reply text.
func debugReload(s *Server, opts [][]byte) error {
	var merge, noflush, nosave bool
	for _, o := range opts {
		switch {
		case commands.EqualFold(o, "merge"):
			merge = true
		case commands.EqualFold(o, "noflush"):
			noflush = true
		case commands.EqualFold(o, "nosave"):
			nosave = true
		default:
			return errors.New(errDebugReloadOpts)
		}
	}
	return s.persist.DebugReload(merge, noflush, nosave)
}

const errDebugNotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", " +
	"you can run it from a local connection, otherwise you need to set this option in the configuration file, " +
	"and then restart the server."

// debugAllowed applies enable-debug-command: yes, or local for loopback clients.
func debugAllowed(s *Server, cc *Client) bool {
	return allowedBy(s.Cfg.Get("enable-debug-command"), cc)
}

// allowedBy applies an enable-*-command / enable-protected-configs
// setting (Redis's allowProtectedAction): yes, or local for a client on
// a loopback address or a unix socket.
func allowedBy(setting string, cc *Client) bool {
	switch setting {
	case "yes":
		return true
	case "local":
		if cc == nil {
			return true // no connection: the server itself
		}
		if cc.addr == unixPeer {
			return true
		}
		host, _, err := net.SplitHostPort(cc.addr)
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

func cmdDebug(s *Server, cc *Client, c *commands.Ctx) {
	if !debugAllowed(s, cc) {
		c.Error(errDebugNotAllowed)
		return
	}
	if debugCluster(s, c) { // DROP-CLUSTER-PACKET-FILTER, CLUSTERLINK KILL (debug_cluster.go)
		return
	}
	sub := strings.ToLower(string(c.Args[1]))
	n := len(c.Args)
	switch {
	case sub == "help" && n == 2:
		debugHelp(c)
	case sub == "segfault" && n == 2:
		debugSegfault(s)
	case sub == "sleep" && n == 3:
		f, _ := strconv.ParseFloat(string(c.Args[2]), 64) // strtod: garbage is 0
		if f > 0 {
			// Every shard is held (DEBUG is LockAll); replication stops
			// too, as the whole of Redis does.
			s.repl.Freeze(time.Duration(f * float64(time.Second)))
		}
		c.W.OK()
	case sub == "loadaof" && n == 2:
		if err := s.persist.DebugLoadAOF(); err != nil {
			c.Error(err.Error())
			return
		}
		c.W.OK()
	case sub == "reload":
		if err := debugReload(s, c.Args[2:]); err != nil {
			c.Error(err.Error())
			return
		}
		c.W.OK()
	case sub == "object" && n == 3:
		debugObject(c)
	case sub == "set-active-expire" && n == 3:
		v, _ := strconv.Atoi(string(c.Args[2]))
		s.activeExpire.Store(v != 0)
		c.W.OK()
	case sub == "set-disable-deny-scripts" && n == 3:
		v, _ := strconv.Atoi(string(c.Args[2]))
		s.scripts.AllowNoScript.Store(v != 0)
		c.W.OK()
	case sub == "pause-cron" && n == 3:
		v, _ := strconv.Atoi(string(c.Args[2]))
		s.admin.cronPaused.Store(v != 0)
		c.W.OK()
	case sub == "populate" && n >= 3 && n <= 5:
		debugPopulate(c)
	case sub == "change-repl-id" && n == 2:
		s.repl.ChangeIDs()
		s.Log.Printf("Changing replication IDs after receiving DEBUG change-repl-id")
		c.W.OK()
	case sub == "digest" && n == 2:
		d := datasetDigest(c.KS)
		c.W.Simple(hex.EncodeToString(d[:]))
	case sub == "digest-value" && n >= 2:
		c.W.Array(n - 2)
		for _, k := range c.Args[2:] {
			var d [20]byte
			if o := c.DB.Peek(k); o != nil {
				objectDigest(&d, o)
			}
			c.W.Simple(hex.EncodeToString(d[:]))
		}
	case sub == "error" && n == 3:
		c.Error(string(c.Args[2]))
	case sub == "log" && n == 3:
		s.Log.Printf("# DEBUG LOG: %s", c.Args[2])
		c.W.OK()
	case sub == "protocol" && n == 3:
		debugProtocol(c)
	case sub == "config-rewrite-force-all" && n == 2:
		if err := s.Cfg.RewriteAll(); err != nil {
			s.Log.Printf("# CONFIG-REWRITE-FORCE-ALL failed: %v", err)
			c.Error("CONFIG-REWRITE-FORCE-ALL failed: " + strings.TrimPrefix(err.Error(), "ERR "))
			return
		}
		c.W.OK()
	case sub == "quicklist-packed-threshold" && n == 3:
		// Accepted and checked as Redis does; redgo's lists have no
		// plain/packed node distinction for it to change.
		if sz, ok := config.ParseMemory(string(c.Args[2])); !ok || sz < 0 || sz > 1<<32-1<<20 {
			c.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
			return
		}
		c.W.OK()
	default:
		subSyntaxError(c)
	}
}

func debugHelp(c *commands.Ctx) {
	help(c, "DEBUG",
		"CHANGE-REPL-ID",
		"    Change the replication IDs of the instance.",
		"    Dangerous: should be used only for testing the replication subsystem.",
		"DROP-CLUSTER-PACKET-FILTER <packet-type>",
		"    Drop all packets that match the filtered type. Set to -1 allow all packets.",
		"DIGEST",
		"    Output a hex signature representing the current DB content.",
		"DIGEST-VALUE <key> [<key> ...]",
		"    Output a hex signature of the values of all the specified keys.",
		"ERROR <string>",
		"    Return a Redis protocol error with <string> as message. Useful for clients",
		"    unit tests to simulate Redis errors.",
		"LOG <message>",
		"    Write <message> to the server log.",
		"OBJECT <key>",
		"    Show low level info about `key` and associated value.",
		"POPULATE <count> [<prefix>] [<size>]",
		"    Create <count> string keys named key:<num>. If <prefix> is specified then",
		"    it is used instead of the 'key' prefix. These are not propagated to",
		"    replicas. Cluster slots are not respected so keys not belonging to the",
		"    current node can be created in cluster mode.",
		"PROTOCOL <type>",
		"    Reply with a test value of the specified type. <type> can be: string,",
		"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
		"    true, false.",
		"QUICKLIST-PACKED-THRESHOLD <size>",
		"    Sets the threshold for elements to be inserted as plain vs packed nodes",
		"    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
		"RELOAD [option ...]",
		"    Save the RDB on disk and reload it back to memory.",
		"SEGFAULT",
		"    Crash the server with sigsegv.",
		"SET-ACTIVE-EXPIRE <0|1>",
		"    Setting it to 0 disables expiring keys in background when they are not",
		"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
		"    default.",
		"SLEEP <seconds>",
		"    Stop the server for <seconds>. Decimals allowed.",
		"PAUSE-CRON <0|1>",
		"    Stop periodic cron job processing.",
		"CLUSTERLINK KILL <to|from|all> <node-id>",
		"    Kills the link based on the direction to/from (both) with the provided node.")
}

// debugSegfault crashes the process at once, as Redis's DEBUG SEGFAULT:
// a crash report goes to the log, then a nil pointer write in a fresh
// goroutine kills the process (an unrecovered runtime panic).
func debugSegfault(s *Server) {
	if s.Cfg.Bool("crash-log-enabled") {
		s.Log.Printf("# \n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===")
		s.Log.Printf("# Redis %s crashed by signal: 11, si_code: 0", config.Version)
		s.Log.Printf("# Crashed running the instruction at: DEBUG SEGFAULT")
		s.Log.Printf("# \n------ STACK TRACE ------\n%s", debug.Stack())
		s.Log.Printf("# \n=== REDIS BUG REPORT END. Make sure to include from START to END. ===")
	}
	done := make(chan struct{})
	go func() {
		debug.SetPanicOnFault(true)
		var p *int
		*p = 1 // deliberate crash
		close(done)
	}()
	<-done
}

// debugObject replies Redis's DEBUG OBJECT line.
func debugObject(c *commands.Ctx) {
	o := c.DB.RawGet(c.Args[2]) // as Redis: the dictionary, a key past its expiry included
	if o == nil {
		c.Error(commands.ErrNoSuchKey)
		return
	}
	enc := commands.ObjectEncoding(o)
	lru := c.KS.LRUClock()
	idle := int64(lru) - int64(o.LRU())
	if idle < 0 {
		idle = 0
	}
	c.W.Simple(fmt.Sprintf("Value at:%p refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d",
		o, refcountOf(o, enc), enc, serializedLength(o, enc), o.LRU()&(1<<24-1), idle))
}

func refcountOf(o *keyspace.Object, enc string) int {
	if enc == "int" {
		if n, ok := commands.ParseInt(o.Bytes()); ok && n >= 0 && n < 10000 {
			return 2147483647 // shared integer (OBJ_SHARED_REFCOUNT)
		}
	}
	return 1
}

// serializedLength estimates the RDB size of o's value (rdbSavedObjectLen);
// exact for strings without LZF compression.
func serializedLength(o *keyspace.Object, enc string) int {
	if o.Type() == keyspace.TString {
		return rdbStringLen(o.Bytes())
	}
	if o.Type() == keyspace.TStream { // its RDB image, as rdbSavedObjectLen
		if b, err := rdb.AppendObject(nil, o, false); err == nil {
			return len(b) - 1
		}
	}
	n := 0
	for el := range elementsOf(o) {
		n += rdbStringLen(el)
	}
	return rdbLenLen(n) + n
}

func rdbLenLen(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case int64(n) <= 1<<32-1:
		return 5
	}
	return 9
}

func rdbStringLen(b []byte) int {
	if len(b) <= 11 {
		if v, ok := commands.ParseInt(b); ok {
			switch {
			case v >= -(1<<7) && v < 1<<7:
				return 2
			case v >= -(1<<15) && v < 1<<15:
				return 3
			case v >= -(1<<31) && v < 1<<31:
				return 5
			}
		}
	}
	return rdbLenLen(len(b)) + len(b)
}

// elementsOf yields the elements of a collection (members and values,
// scores formatted), or nothing when the type does not expose them.
func elementsOf(o *keyspace.Object) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		forEachItem(o, func(parts ...[]byte) bool {
			for _, p := range parts {
				if !yield(p) {
					return false
				}
			}
			return true
		})
	}
}

// forEachItem calls fn for each item of a collection: a list element, a
// set member, a hash field and value, a zset member and score.
func forEachItem(o *keyspace.Object, fn func(parts ...[]byte) bool) {
	var v any
	switch o.Type() {
	case keyspace.TList:
		v = o.List()
	case keyspace.THash:
		v = o.Hash()
	case keyspace.TSet:
		v = o.Set()
	case keyspace.TZSet:
		if z, ok := any(o.ZSet()).(interface {
			ForEach(func(datatype.ZEntry) bool)
		}); ok {
			var buf [32]byte
			z.ForEach(func(e datatype.ZEntry) bool {
				return fn([]byte(e.Member), formatScore(buf[:0], e.Score))
			})
		}
		return
	default:
		return
	}
	switch x := v.(type) {
	case interface{ All() iter.Seq[[]byte] }:
		for el := range x.All() {
			if !fn(el) {
				return
			}
		}
	case interface {
		All() iter.Seq2[[]byte, []byte]
	}:
		for f, val := range x.All() {
			if !fn(f, val) {
				return
			}
		}
	case interface {
		All() iter.Seq2[string, string]
	}:
		for f, val := range x.All() {
			if !fn([]byte(f), []byte(val)) {
				return
			}
		}
	case interface{ All() iter.Seq[string] }:
		for el := range x.All() {
			if !fn([]byte(el)) {
				return
			}
		}
	}
}

// formatScore formats a score as Redis 7.0's digest does (%.17g).
func formatScore(b []byte, f float64) []byte { return resp.AppendG17(b, f) }

func debugPopulate(c *commands.Ctx) {
	count, ok := commands.ParseInt(c.Args[2])
	if !ok || count < 0 {
		c.Error(commands.ErrNotPositive)
		return
	}
	prefix := "key"
	if len(c.Args) >= 4 {
		prefix = string(c.Args[3])
	}
	size := int64(0)
	if len(c.Args) == 5 {
		v, ok := commands.ParseInt(c.Args[4])
		if !ok || v < 0 {
			c.Error(commands.ErrNotPositive)
			return
		}
		size = v
	}
	// The key and value are formatted into reused buffers: Set copies
	// them (NewStringCopy), so a key leaves no garbage behind.
	var key, val []byte
	for j := int64(0); j < count; j++ {
		key = strconv.AppendInt(append(append(key[:0], prefix...), ':'), j, 10)
		if c.DB.Exists(key) {
			continue
		}
		val = strconv.AppendInt(append(val[:0], "value:"...), j, 10)
		if size > 0 {
			b := make([]byte, size)
			copy(b, val)
			c.DB.Set(key, keyspace.NewString(b), false)
		} else {
			c.DB.Set(key, keyspace.NewStringCopy(val), false)
		}
		c.DB.Touch(key)
	}
	c.W.OK()
}

// debugProtocol replies a sample of each RESP type, as Redis.
func debugProtocol(c *commands.Ctx) {
	w := c.W
	switch strings.ToLower(string(c.Args[2])) {
	case "string":
		w.BulkString("Hello World")
	case "integer":
		w.Int(12345)
	case "double":
		w.Double(3.141)
	case "bignum":
		if w.Resp3() {
			w.Raw([]byte("(1234567999999999999999999999999999999\r\n"))
		} else {
			w.BulkString("1234567999999999999999999999999999999")
		}
	case "null":
		w.Null()
	case "array":
		w.Array(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "set":
		w.Set(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "map":
		w.Map(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
			w.Bool(j == 1)
		}
	case "attrib":
		if w.Resp3() {
			w.Raw([]byte("|1\r\n"))
			w.BulkString("key-popularity")
			w.Array(2)
			w.BulkString("key:123")
			w.Int(90)
		}
		w.BulkString("Some real reply following the attribute")
	case "push":
		if !w.Resp3() {
			c.Error("ERR RESP2 is not supported by this command")
			return
		}
		w.Push(2)
		w.BulkString("server-cpu-usage")
		w.Int(42)
		w.BulkString("Some real reply following the push reply")
	case "true":
		w.Bool(true)
	case "false":
		w.Bool(false)
	case "verbatim":
		w.Verbatim("This is a verbatim\nstring", "txt")
	default:
		c.Error("ERR Wrong protocol type name. Please use one of the following: " +
			"string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}

// ---- DEBUG DIGEST: Redis's algorithm (debug.c), so equal datasets give
// equal digests. ----

func xorDigest(d *[20]byte, b []byte) {
	h := sha1.Sum(b)
	for i := range d {
		d[i] ^= h[i]
	}
}

func mixDigest(d *[20]byte, b []byte) {
	xorDigest(d, b)
	*d = sha1.Sum(d[:])
}

// rdbType maps a keyspace type to Redis's OBJ_* number.
func rdbType(t keyspace.Type) uint32 {
	switch t {
	case keyspace.TList:
		return 1
	case keyspace.TSet:
		return 2
	case keyspace.TZSet:
		return 3
	case keyspace.THash:
		return 4
	case keyspace.TStream:
		return 6
	}
	return 0
}

// objectDigest mixes o's value into d (xorObjectDigest).
func objectDigest(d *[20]byte, o *keyspace.Object) {
	var aux [4]byte
	binary.BigEndian.PutUint32(aux[:], rdbType(o.Type()))
	mixDigest(d, aux[:])
	switch o.Type() {
	case keyspace.TString:
		mixDigest(d, o.Bytes())
	case keyspace.TList:
		forEachItem(o, func(p ...[]byte) bool { mixDigest(d, p[0]); return true })
	case keyspace.TSet:
		forEachItem(o, func(p ...[]byte) bool { xorDigest(d, p[0]); return true })
	case keyspace.THash, keyspace.TZSet:
		forEachItem(o, func(p ...[]byte) bool {
			var el [20]byte
			for _, x := range p {
				mixDigest(&el, x)
			}
			xorDigest(d, el[:])
			return true
		})
	case keyspace.TStream: // the entries, as "ms.seq" then fields and values
		o.Stream().Range(datatype.StreamID{}, datatype.MaxStreamID, false, func(id datatype.StreamID, fv [][]byte) bool {
			mixDigest(d, []byte(strconv.FormatUint(id.Ms, 10)+"."+strconv.FormatUint(id.Seq, 10)))
			for _, x := range fv {
				mixDigest(d, x)
			}
			return true
		})
	}
	if o.Expire() != 0 {
		xorDigest(d, []byte("!!expire!!"))
	}
}

// datasetDigest is DEBUG DIGEST. All shards are held (DEBUG is LockAll).
func datasetDigest(ks *keyspace.Keyspace) [20]byte {
	var final [20]byte
	for j := 0; j < ks.NumDB(); j++ {
		db := ks.DB(j)
		if db.Len() == 0 {
			continue
		}
		var aux [4]byte
		binary.BigEndian.PutUint32(aux[:], uint32(j))
		mixDigest(&final, aux[:])
		db.ForEach(func(key string, o *keyspace.Object) bool {
			var d [20]byte
			mixDigest(&d, []byte(key))
			objectDigest(&d, o)
			xorDigest(&final, d[:])
			return true
		})
	}
	return final
}
