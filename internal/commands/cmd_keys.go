package commands

import (
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"strconv"
	"unsafe"

	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// Generic keyspace commands: DEL, EXISTS, TYPE, RENAME, COPY, MOVE, KEYS,
// SCAN, RANDOMKEY, TOUCH, the EXPIRE/TTL family, OBJECT and MEMORY USAGE.

func init() {
	Register("del", cmdDel)
	Register("unlink", cmdDel)
	Register("exists", cmdExists)
	Register("type", cmdType)
	Register("rename", func(c *Ctx) { renameGeneric(c, false) })
	Register("renamenx", func(c *Ctx) { renameGeneric(c, true) })
	Register("copy", cmdCopy)
	Register("move", cmdMove)
	Register("keys", cmdKeys, LockAll())
	Register("scan", cmdScan, LockAll())
	Register("randomkey", cmdRandomKey, LockAll())
	Register("touch", cmdTouch)

	Register("expire", func(c *Ctx) { expireGeneric(c, c.Now, true) })
	Register("pexpire", func(c *Ctx) { expireGeneric(c, c.Now, false) })
	Register("expireat", func(c *Ctx) { expireGeneric(c, 0, true) })
	Register("pexpireat", func(c *Ctx) { expireGeneric(c, 0, false) })
	Register("ttl", func(c *Ctx) { ttlGeneric(c, false, false) })
	Register("pttl", func(c *Ctx) { ttlGeneric(c, true, false) })
	Register("expiretime", func(c *Ctx) { ttlGeneric(c, false, true) })
	Register("pexpiretime", func(c *Ctx) { ttlGeneric(c, true, true) })
	Register("persist", cmdPersist)

	Register("object|encoding", cmdObjectEncoding)
	Register("object|freq", cmdObjectFreq)
	Register("object|idletime", cmdObjectIdletime)
	Register("object|refcount", cmdObjectRefcount)
	Register("object|help", cmdObjectHelp)

	Register("memory|usage", cmdMemoryUsage)
	Register("memory|help", cmdMemoryHelp)
	Register("memory|purge", cmdMemoryPurge)
	Register("memory|malloc-stats", cmdMemoryMallocStats)
}

const (
	errIntRange        = "ERR value is out of range, value must between -2147483648 and 2147483647"
	errExpireOptsNX    = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireOptsGTLT  = "ERR GT and LT options at the same time are not compatible"
	errIdleNotTracked  = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errFreqNotTracked  = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errUnknownTypeObj  = "ERR unknown type object"
	sharedRefcount     = math.MaxInt32 // OBJ_SHARED_REFCOUNT: small integers are shared objects
	sharedIntegersSize = 10000         // OBJ_SHARED_INTEGERS
)

// lookupRead is a read lookup that counts keyspace hits and misses but
// leaves the access time alone (Redis's LOOKUP_NOTOUCH).
func lookupRead(c *Ctx, db *keyspace.DB, key []byte) *keyspace.Object {
	o := lookupReadQuiet(c, db, key)
	if o == nil {
		c.NotifyDB(db.Index(), notify.KeyMiss, "keymiss", key)
	}
	return o
}

// lookupReadQuiet is lookupRead without the keymiss event (OBJECT's
// LOOKUP_NONOTIFY).
func lookupReadQuiet(c *Ctx, db *keyspace.DB, key []byte) *keyspace.Object {
	o := db.Peek(key)
	if o == nil {
		c.KS.Misses.Add(1)
	} else {
		c.KS.Hits.Add(1)
	}
	return o
}

func cmdDel(c *Ctx) {
	n := 0
	lazy := c.Cmd.Name == "unlink" || c.KS.LazyUserDel.Load()
	for _, k := range c.Args[1:] {
		// The lookup reclaims (and propagates) an expired key first.
		if o := c.DB.LookupWrite(k); o != nil && c.DB.Delete(k) {
			n++
			if lazy {
				c.KS.FreedLazily(o)
			}
			c.Notify(notify.Generic, "del", k)
		}
	}
	c.Dirty += n
	c.W.Int(int64(n))
}

func cmdExists(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if lookupRead(c, c.DB, k) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}

func cmdType(c *Ctx) {
	o := lookupRead(c, c.DB, c.Args[1])
	if o == nil {
		c.W.Simple("none")
		return
	}
	c.W.Simple(o.Type().String())
}

func cmdTouch(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.DB.Lookup(k) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}

// renameGeneric is RENAME and RENAMENX. The value object itself moves to
// the new name, with its expiry.
func renameGeneric(c *Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	o := c.DB.LookupWrite(src)
	if o == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if c.DB.LookupWrite(dst) != nil {
		if nx {
			c.W.Int(0)
			return
		}
		c.DB.Delete(dst)
	}
	moveObject(c.DB, src, c.DB, dst, o)
	c.Dirty++
	c.Notify(notify.Generic, "rename_from", src)
	c.Notify(notify.Generic, "rename_to", dst)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// moveObject re-links the value o from (from, src) to (to, dst), keeping its
// expiry and access time, as Redis moves the same robj.
func moveObject(from *keyspace.DB, src []byte, to *keyspace.DB, dst []byte, o *keyspace.Object) {
	exp, lru := o.Expire(), o.LRU()
	from.Delete(src)
	o.SetExpire(exp)
	to.Set(dst, o, false)
	o.SetLRU(lru)
}

// parseDBIndex parses a database number the way Redis's
// getIntFromObjectOrReply + selectDb do, replying the error when bad.
func parseDBIndex(c *Ctx, arg []byte) (int, bool) {
	n, ok := parseInt32Arg(c, arg, "")
	if !ok {
		return 0, false
	}
	if n < 0 || n >= c.KS.NumDB() {
		c.Error(ErrDBIndex)
		return 0, false
	}
	return n, true
}

// COPY source destination [DB destination-db] [REPLACE]
func cmdCopy(c *Ctx) {
	replace := false
	dbid := c.DB.Index()
	for j := 3; j < len(c.Args); j++ {
		switch {
		case EqualFold(c.Args[j], "replace"):
			replace = true
		case EqualFold(c.Args[j], "db") && j+1 < len(c.Args):
			n, ok := parseDBIndex(c, c.Args[j+1])
			if !ok {
				return
			}
			dbid = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	src, dst := c.Args[1], c.Args[2]
	if dbid == c.DB.Index() && string(src) == string(dst) {
		c.Error(ErrSameObject)
		return
	}
	o := c.DB.Lookup(src)
	if o == nil {
		c.W.Int(0)
		return
	}
	// Keys of every DB hash to the same shard, so dst's shard is held.
	ddb := c.KS.DB(dbid)
	exists := ddb.LookupWrite(dst) != nil
	if exists && !replace {
		c.W.Int(0)
		return
	}
	n := cloneObject(o)
	if n == nil {
		c.Error(errUnknownTypeObj)
		return
	}
	if exists {
		ddb.Delete(dst) // replaced: the copy is a new key (its "new" event)
	}
	n.SetExpire(o.Expire())
	ddb.Set(dst, n, false)
	if ddb.Index() != c.DB.Index() {
		ddb.Touch(dst)
		c.ReadyInDB(ddb.Index(), dst)
	}
	c.Dirty++
	c.NotifyDB(dbid, notify.Generic, "copy_to", dst)
	c.W.Int(1)
}

// MOVE key db
func cmdMove(c *Ctx) {
	dbid, ok := parseDBIndex(c, c.Args[2])
	if !ok {
		return
	}
	if dbid == c.DB.Index() {
		c.Error(ErrSameObject)
		return
	}
	key := c.Args[1]
	o := c.DB.LookupWrite(key)
	if o == nil {
		c.W.Int(0)
		return
	}
	ddb := c.KS.DB(dbid)
	if ddb.LookupWrite(key) != nil {
		c.W.Int(0)
		return
	}
	moveObject(c.DB, key, ddb, key, o)
	ddb.Touch(key)
	c.ReadyInDB(dbid, key)
	c.Dirty++
	c.Notify(notify.Generic, "move_from", key)
	c.NotifyDB(dbid, notify.Generic, "move_to", key)
	c.W.Int(1)
}

func cmdKeys(c *Ctx) {
	pat := c.Args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var keys []string
	c.DB.ForEach(func(k string, _ *keyspace.Object) bool {
		if all || GlobMatch(pat, strBytes(k), false) {
			keys = append(keys, k)
		}
		return true
	})
	c.W.BulkStrings(keys)
}

// strBytes views s as bytes without copying; the bytes must not be modified.
func strBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
func cmdScan(c *Ctx) {
	cursor, ok := scanCursor(c.Args[1])
	if !ok {
		c.Error(ErrInvalidCursor)
		return
	}
	count := int64(10)
	var pat, typ []byte
	usePat := false
	for i := 2; i < len(c.Args); {
		more := len(c.Args) - i
		switch {
		case EqualFold(c.Args[i], "count") && more >= 2:
			n, ok := c.IntArg(i + 1)
			if !ok {
				return
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return
			}
			count = n
		case EqualFold(c.Args[i], "match") && more >= 2:
			pat = c.Args[i+1]
			usePat = !(len(pat) == 1 && pat[0] == '*')
		case EqualFold(c.Args[i], "type") && more >= 2:
			typ = c.Args[i+1]
		default:
			c.Error(ErrSyntax)
			return
		}
		i += 2
	}
	if count > math.MaxInt32 {
		count = math.MaxInt32
	}
	var keys, expired []string
	next := c.DB.Scan(cursor, int(count), func(k string, o *keyspace.Object) {
		if usePat && !GlobMatch(pat, strBytes(k), false) {
			return
		}
		if o == nil {
			expired = append(expired, k) // as Redis: expired if it matches
			return
		}
		if typ != nil && !EqualFold(typ, o.Type().String()) {
			return
		}
		keys = append(keys, k)
	})
	for _, k := range expired {
		c.DB.Peek(strBytes(k))
	}
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.BulkStrings(keys)
}

func cmdRandomKey(c *Ctx) {
	k, ok := c.DB.RandomKey()
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(k)
}

// parseExpireFlags parses EXPIRE's NX|XX|GT|LT options from Args[3:].
func parseExpireFlags(c *Ctx) (nx, xx, gt, lt, ok bool) {
	for _, a := range c.Args[3:] {
		switch {
		case EqualFold(a, "nx"):
			nx = true
		case EqualFold(a, "xx"):
			xx = true
		case EqualFold(a, "gt"):
			gt = true
		case EqualFold(a, "lt"):
			lt = true
		default:
			c.Error("ERR Unsupported option " + cString(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.Error(errExpireOptsNX)
		return
	}
	if gt && lt {
		c.Error(errExpireOptsGTLT)
		return
	}
	return nx, xx, gt, lt, true
}

// cString is b up to its first NUL byte, as C's %s prints it.
func cString(b []byte) string {
	for i, ch := range b {
		if ch == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// expireGeneric is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: base is the
// time the argument is relative to (ms; 0 for the AT forms).
func expireGeneric(c *Ctx, base int64, seconds bool) {
	nx, xx, gt, lt, ok := parseExpireFlags(c)
	if !ok {
		return
	}
	when, ok := c.IntArg(2)
	if !ok {
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Error(fmt.Sprintf(ErrInvalidExpire, c.Cmd.Name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.Error(fmt.Sprintf(ErrInvalidExpire, c.Cmd.Name))
		return
	}
	when += base
	key := c.Args[1]
	o := c.DB.LookupWrite(key)
	if o == nil {
		c.W.Int(0)
		return
	}
	cur := o.Expire() // 0: no expiry (infinite)
	switch {
	case nx && cur != 0,
		xx && cur == 0,
		gt && (cur == 0 || when <= cur),
		lt && cur != 0 && when >= cur:
		c.W.Int(0)
		return
	}
	c.Dirty++
	c.W.Int(1)
	if when <= c.Now && !c.KS.Replica.Load() {
		c.DB.Delete(key)
		c.Notify(notify.Generic, "del", key)
		c.Propagate(delCmd, key)
		return
	}
	at := when
	if at == 0 {
		at = -1 // 0 means "no expiry" in the keyspace (only reachable on replicas)
	}
	c.DB.SetExpireAt(key, o, at)
	c.Notify(notify.Generic, "expire", key)
	// Replicas and the AOF get the absolute time, options kept, as Redis.
	if base != 0 || seconds {
		if len(c.Args) > 8 { // options repeated many times
			c.Propagate(append([][]byte{pexpireatCmd, key, strconv.AppendInt(nil, when, 10)}, c.Args[3:]...)...)
			return
		}
		// Propagate copies: the arguments stay on the stack.
		var num [20]byte
		var args [8][]byte
		args[0], args[1], args[2] = pexpireatCmd, key, strconv.AppendInt(num[:0], when, 10)
		c.Propagate(args[:3+copy(args[3:], c.Args[3:])]...)
	}
}

var (
	delCmd       = []byte("DEL")
	pexpireatCmd = []byte("PEXPIREAT")
	persistCmd   = []byte("PERSIST")
	setCmd       = []byte("SET")
	pxatOpt      = []byte("PXAT")
	keepttlOpt   = []byte("KEEPTTL")
)

// ttlGeneric is TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func ttlGeneric(c *Ctx, ms, abs bool) {
	o := lookupRead(c, c.DB, c.Args[1])
	if o == nil {
		c.W.Int(-2)
		return
	}
	exp := o.Expire()
	if exp == 0 {
		c.W.Int(-1)
		return
	}
	ttl := exp
	if !abs {
		ttl = exp - c.Now
	}
	if ttl < 0 {
		ttl = 0
	}
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.W.Int(ttl)
}

func cmdPersist(c *Ctx) {
	key := c.Args[1]
	o := c.DB.LookupWrite(key)
	if o == nil || o.Expire() == 0 {
		c.W.Int(0)
		return
	}
	c.DB.SetExpireAt(key, o, 0)
	c.Dirty++
	c.Notify(notify.Generic, "persist", key)
	c.W.Int(1)
}

// objectLookup is OBJECT's lookup: no access-time update; a missing key
// replies null.
func objectLookup(c *Ctx) *keyspace.Object {
	o := lookupReadQuiet(c, c.DB, c.Args[2])
	if o == nil {
		c.W.Null()
	}
	return o
}

func cmdObjectEncoding(c *Ctx) {
	if o := objectLookup(c); o != nil {
		c.W.BulkString(ObjectEncoding(o))
	}
}

func cmdObjectFreq(c *Ctx) {
	if o := objectLookup(c); o != nil {
		if !c.KS.LFU.Load() {
			c.Error(errFreqNotTracked)
			return
		}
		c.W.Int(int64(c.KS.LFUCounter(o.LRU())))
	}
}

func cmdObjectIdletime(c *Ctx) {
	if o := objectLookup(c); o != nil {
		if c.KS.LFU.Load() {
			c.Error(errIdleNotTracked)
			return
		}
		idle := int64(c.KS.LRUClock()) - int64(o.LRU())
		if idle < 0 {
			idle = 0
		}
		c.W.Int(idle)
	}
}

func cmdObjectRefcount(c *Ctx) {
	if o := objectLookup(c); o != nil {
		c.W.Int(objectRefcount(o))
	}
}

// objectRefcount is 1 but for small integer strings, which Redis keeps as
// shared objects.
func objectRefcount(o *keyspace.Object) int64 {
	if o.Type() == keyspace.TString && StringEncoding(o) == "int" {
		if v, ok := ParseInt(o.Bytes()); ok && v >= 0 && v < sharedIntegersSize {
			return sharedRefcount
		}
	}
	return 1
}

// writeHelp writes a HELP reply as Redis's addReplyHelp does.
func writeHelp(c *Ctx, name string, lines []string) {
	c.W.Array(len(lines) + 3)
	c.W.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}

func cmdObjectHelp(c *Ctx) {
	writeHelp(c, "OBJECT", []string{
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
	})
}

func cmdMemoryHelp(c *Ctx) {
	writeHelp(c, "MEMORY", []string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}

// MEMORY PURGE returns freed memory to the operating system.
func cmdMemoryPurge(c *Ctx) {
	debug.FreeOSMemory()
	c.W.OK()
}

// MEMORY MALLOC-STATS: what Redis answers when built without jemalloc.
func cmdMemoryMallocStats(c *Ctx) {
	c.W.BulkString("Stats not supported for the current allocator")
}

// MEMORY USAGE key [SAMPLES count]. SAMPLES is checked as Redis does; the
// data types choose their own sample sizes.
func cmdMemoryUsage(c *Ctx) {
	for j := 3; j < len(c.Args); j += 2 {
		if !EqualFold(c.Args[j], "samples") || j+1 >= len(c.Args) {
			c.Error(ErrSyntax)
			return
		}
		n, ok := c.IntArg(j + 1)
		if !ok {
			return
		}
		if n < 0 {
			c.Error(ErrSyntax)
			return
		}
	}
	key := c.Args[2]
	o := c.DB.Peek(key)
	if o == nil {
		c.W.Null()
		return
	}
	c.W.Int(int64(objectMemory(o) + keyMemory(key, o)))
}

// ---- per-type value helpers: deep copy, encoding name, memory estimate ----

// cloneObject returns a deep copy of o's value (no expiry), or nil for a
// type that cannot be copied.
func cloneObject(o *keyspace.Object) *keyspace.Object {
	switch o.Type() {
	case keyspace.TString:
		n := keyspace.NewString(append([]byte(nil), o.Bytes()...))
		n.Flags = o.Flags // keeps the encoding OBJECT ENCODING reports
		return n
	case keyspace.TList:
		return keyspace.NewList(o.List().Clone())
	case keyspace.THash:
		return keyspace.NewHash(o.Hash().Clone())
	case keyspace.TSet:
		return keyspace.NewSet(o.Set().Clone())
	case keyspace.TZSet:
		return keyspace.NewZSet(o.ZSet().Clone())
	case keyspace.TStream:
		return keyspace.NewStream(o.Stream().Clone())
	}
	return nil
}

// ObjectEncoding is the name OBJECT ENCODING reports for o.
func ObjectEncoding(o *keyspace.Object) string {
	switch o.Type() {
	case keyspace.TString:
		return StringEncoding(o)
	case keyspace.TList:
		return o.List().Encoding()
	case keyspace.THash:
		return o.Hash().Encoding()
	case keyspace.TSet:
		return o.Set().Encoding()
	case keyspace.TZSet:
		return o.ZSet().Encoding()
	case keyspace.TStream:
		return "stream"
	}
	return "unknown"
}

// MEMORY USAGE reports what a key really costs in redgo (not what Redis
// would use): the Go allocations behind the key and its value.
const (
	objectSize   = 32 // keyspace.Object
	mapEntrySize = 32 // a slot of a Go map[string]*Object with its share of slack
)

// goSizeClasses are the Go runtime's small allocation size classes.
var goSizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176,
	192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704,
	768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
	4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288,
	13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// allocSize is the bytes the Go allocator hands out for a request of n.
func allocSize(n int) int {
	if n <= 0 {
		return 0
	}
	if n > goSizeClasses[len(goSizeClasses)-1] {
		const page = 8192
		return (n + page - 1) / page * page
	}
	i := sort.SearchInts(goSizeClasses[:], n)
	return goSizeClasses[i]
}

// keyMemory is the cost of a key's name and its map slots.
func keyMemory(key []byte, o *keyspace.Object) int {
	n := allocSize(len(key)) + mapEntrySize
	if o.Expire() != 0 {
		n += mapEntrySize // the entry in the index of keys with an expiry
	}
	return n
}

// objectMemory estimates the bytes of o and its value. The collections
// size themselves (sampling long ones, as Redis does).
func objectMemory(o *keyspace.Object) int {
	n := 0
	switch o.Type() {
	case keyspace.TString:
		n = allocSize(cap(o.Bytes()))
	case keyspace.TList:
		n = o.List().MemoryUsage()
	case keyspace.THash:
		n = o.Hash().MemoryUsage()
	case keyspace.TSet:
		n = o.Set().MemoryUsage()
	case keyspace.TZSet:
		n = o.ZSet().MemoryUsage()
	case keyspace.TStream:
		n = o.Stream().MemoryUsage()
	}
	return objectSize + n
}
