package commands

import (
	"math"
	"strconv"
	"strings"
	"time"

	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/resp"
)

// Ctx is one command execution. The dispatcher holds the locks of the
// shards of every key the command declares (all shards for LockAll
// commands) for as long as the handler runs.
type Ctx struct {
	Args [][]byte // Args[0] is the command name as sent
	Cmd  *Command
	W    *resp.Writer
	DB   *keyspace.DB
	KS   *keyspace.Keyspace
	Now  int64 // unix ms, fixed for the whole command
	// Start is when Run started the command (after its locks), with a
	// monotonic reading: what its duration is measured from.
	Start time.Time

	// Dirty counts the changes the command made. The dispatcher touches
	// watched keys, wakes blocked clients and propagates the command when
	// it is non-zero. Handlers add to it.
	Dirty int

	// NoBlock is set inside MULTI/EXEC and scripts, and when a blocked
	// client is being served: a blocking command that finds nothing must
	// reply as if it timed out (or, when Serving, call Block again).
	NoBlock bool
	// Script is set for a command a script calls.
	Script bool
	// Obey is set for a command of our master's stream or of the AOF
	// (Redis's mustObeyClient): its arguments were written by a server.
	Obey bool
	// Serving is set when the dispatcher re-runs a blocked command because
	// one of its keys changed.
	Serving bool

	// OutputLimit, when set, is the client's hard output limit: a
	// handler whose reply has no bound (HRANDFIELD, SRANDMEMBER or
	// ZRANDMEMBER with a huge negative count) stops once the reply passes
	// it, as Redis does: the client is closed without the reply anyway.
	OutputLimit int64

	Client any // the server's client state (server-level handlers)
	Srv    any // the server (server-level handlers)

	// Block request, set by Block.
	BlockKeys     [][]byte
	BlockTimeout  int64 // absolute unix ms deadline, 0 = forever
	BlockNullBulk bool  // on timeout reply a null bulk instead of a null array
	Blocked       bool

	// Props, when set by Propagate, replaces the command in what is sent to
	// the AOF and replicas (BLPOP -> LPOP, SPOP -> SREM, relative expiry ->
	// absolute...). Nil means "the command as received" when Dirty > 0.
	Props [][][]byte

	// OtherDB lists keys written in another database than DB (MOVE, COPY
	// ... DB n), so clients blocked on them there are served too.
	OtherDB []keyspace.KeyRef

	// Held is what Run holds (or the caller, with LocksHeld) while the
	// handler runs.
	Held Held

	// propsIn is the first element of Props: what consumers of Props
	// keep are its elements, never the slice, so it is reused with the Ctx.
	propsIn [1][][]byte

	// Buffers of Run's key positions and shards: a Ctx outlives the Host
	// calls that see them, a stack array would escape to the heap.
	posBuf, shardBuf [8]int
}

// Notify fires the keyspace event of class on key in the command's
// database (Redis's notifyKeyspaceEvent); it costs one load and a compare
// when the class is not enabled. Call it after the change, in the order
// Redis fires its events.
func (c *Ctx) Notify(class notify.Class, event string, key []byte) {
	c.KS.Events.Fire(class, event, c.DB.Index(), key)
}

// NotifyDB is Notify for a key of database db (MOVE, COPY ... DB).
func (c *Ctx) NotifyDB(db int, class notify.Class, event string, key []byte) {
	c.KS.Events.Fire(class, event, db, key)
}

// ReadyInDB records that key in database db was written by this command.
func (c *Ctx) ReadyInDB(db int, key []byte) {
	c.OtherDB = append(c.OtherDB, keyspace.KeyRef{DB: db, Key: string(key)})
}

// Propagate records a command to send to the AOF and replicas instead of
// the one being run; call it once per command to send, in order. The
// arguments are copied.
func (c *Ctx) Propagate(args ...[]byte) {
	size := 0
	for _, a := range args {
		size += len(a)
	}
	// One buffer for all the copies (each capped at its own length); a
	// short command's slice and bytes share one allocation.
	var buf []byte
	var cp [][]byte
	if len(args) <= len(smallProp{}.args) && size <= len(smallProp{}.buf) {
		sp := new(smallProp)
		buf, cp = sp.buf[:0], sp.args[:len(args)]
	} else {
		buf, cp = make([]byte, 0, size), make([][]byte, len(args))
	}
	for i, a := range args {
		start := len(buf)
		buf = append(buf, a...)
		cp[i] = buf[start:len(buf):len(buf)]
	}
	if c.Props == nil {
		c.Props = c.propsIn[:0:len(c.propsIn)] // no allocation for the usual one command
	}
	c.Props = append(c.Props, cp)
}

// smallProp holds a short propagated command: its arguments and their
// bytes (EXPIRE's PEXPIREAT, a DEL of one key).
type smallProp struct {
	args [4][]byte
	buf  [64]byte
}

// PropagateOwned is Propagate for arguments the caller hands over: they
// are not copied and must not change afterwards.
func (c *Ctx) PropagateOwned(args ...[]byte) { c.Props = append(c.Props, args) }

// PropagateStrings is Propagate for string arguments.
func (c *Ctx) PropagateStrings(args ...string) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = []byte(a)
	}
	c.Props = append(c.Props, cp)
}

// Block asks the dispatcher to park the client until one of keys changes
// or the deadline (unix ms, 0 = never) passes. The handler must not write
// a reply. When the client is woken, the handler runs again with Serving
// set; on timeout the dispatcher replies a null array (or a null bulk when
// nullBulk).
func (c *Ctx) Block(keys [][]byte, deadline int64, nullBulk bool) {
	c.BlockKeys, c.BlockTimeout, c.BlockNullBulk, c.Blocked = keys, deadline, nullBulk, true
}

// Error writes an error reply.
func (c *Ctx) Error(msg string) { c.W.Error(msg) }

// WrongArgs writes the arity error for the running command.
func (c *Ctx) WrongArgs() { c.W.Error(WrongArgs(c.Cmd.Name)) }

// Arg returns argument i as a string (copy).
func (c *Ctx) Arg(i int) string { return string(c.Args[i]) }

// ArgIs reports whether argument i equals s, case-insensitively.
func (c *Ctx) ArgIs(i int, s string) bool {
	return i < len(c.Args) && EqualFold(c.Args[i], s)
}

// EqualFold compares b with the ASCII string s case-insensitively.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Upper returns b upper-cased as a string.
func Upper(b []byte) string { return strings.ToUpper(string(b)) }

// ParseInt parses b as Redis's string2ll does: optional '-', no '+', no
// spaces, no leading zeros, fits in int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	p := b
	if p[0] == '-' {
		neg = true
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseFloat parses b as Redis's strtod-based parsing does: no spaces, no
// NaN; "inf", "+inf", "-inf" are accepted.
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) || isSpace(b[len(b)-1]) {
		return 0, false
	}
	for _, ch := range b {
		if ch == '_' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && !math.IsInf(f, 0) {
			return f, true // underflow to 0 is accepted by strtod
		}
		return 0, false
	}
	return f, true
}

func isSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'
}

// IntArg parses argument i as an integer or replies ErrNotInt.
func (c *Ctx) IntArg(i int) (int64, bool) {
	v, ok := ParseInt(c.Args[i])
	if !ok {
		c.W.Error(ErrNotInt)
	}
	return v, ok
}

// FloatArg parses argument i as a float or replies ErrNotFloat.
func (c *Ctx) FloatArg(i int) (float64, bool) {
	v, ok := ParseFloat(c.Args[i])
	if !ok {
		c.W.Error(ErrNotFloat)
	}
	return v, ok
}

// FormatFloat formats f as Redis does for values stored as strings
// (INCRBYFLOAT, HINCRBYFLOAT): up to 17 significant digits, no exponent,
// trailing zeros removed.
func FormatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	return string(resp.AppendG17(nil, f))
}

// ParseTimeout parses a blocking command's timeout (seconds, float) into
// an absolute unix ms deadline (0 = forever), replying the error if bad.
// As Redis 7.0: the value is rounded up to whole milliseconds (so -0.0001
// means forever and 0.0001 one millisecond), and a value too large to
// represent counts as negative.
func (c *Ctx) ParseTimeout(i int) (int64, bool) {
	f, ok := ParseFloat(c.Args[i])
	if !ok {
		c.W.Error(ErrTimeout)
		return 0, false
	}
	ms := math.Ceil(f * 1000)
	if ms < 0 || math.IsInf(f, 0) || ms > float64(math.MaxInt64/2) {
		c.W.Error(ErrTimeoutNeg)
		return 0, false
	}
	if ms == 0 {
		return 0, true
	}
	return c.Now + int64(ms), true
}

// OutputFull reports whether the reply passed OutputLimit.
func (c *Ctx) OutputFull() bool { return c.OutputLimit > 0 && int64(len(c.W.Buf)) >= c.OutputLimit }

// inChunks calls fn with counts adding up to n, stopping early once the
// output is full (OutputLimit).
func (c *Ctx) inChunks(n int, fn func(k int)) {
	for n > 0 && !c.OutputFull() {
		k := min(n, 1024)
		fn(k)
		n -= k
	}
}
