package commands

// The one way a command runs: Run, Redis's call(). Every path that runs a
// command goes through it: a client's request (server), a command queued
// in MULTI and run by EXEC, a blocked client served by another client's
// write, a command read back from the AOF at start, and Exec below (the
// data-command tests). The caller says who takes the locks (Locking),
// where the write's effects go (Effects) and where the reply goes (Ctx.W);
// a Host adds what a server adds around the handler.

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// Locking says who holds a command's shard locks while it runs.
type Locking uint8

const (
	// LockHere: Run locks the shards of the command's keys (every shard
	// for a LockAll command) in ascending order and releases them after.
	LockHere Locking = iota
	// LocksHeld: the caller holds them (EXEC holds its transaction's
	// shards; a writer serving a blocked client holds its own).
	LocksHeld
)

// Effects says where a write's effects (Ctx.Args, or what the handler
// recorded with Propagate) go: the AOF and, later, replicas.
type Effects uint8

const (
	// Propagate feeds them as the command returns, shards still locked,
	// so the stream follows the order the writes took effect.
	Propagate Effects = iota
	// Collect hands them to the caller, which feeds them whole (MULTI/EXEC
	// wraps them in MULTI ... EXEC; scripts will do the same).
	Collect
	// Drop feeds them nowhere: the command is being loaded from the AOF.
	Drop
)

// Held names the shard locks held around a command: Shards, or every
// shard when All.
type Held struct {
	Shards []int
	All    bool
	// Serial: Shards were taken with Keyspace.LockSerial, so the handler
	// may take the shards of other keys as it goes (Keyspace.LockMore),
	// and releases them itself before it returns.
	Serial bool
}

// Host is what a server adds around a command. Run calls its methods in
// this order, each at most once:
//
//  1. Admit, with the locks held, before the handler: a non-empty error
//     text refuses the command and is its reply, and nothing below is
//     called (the cluster routing
//     check repeated under the lock, so a key that left the node between
//     the check and the lock is not served here).
//  2. BeforeHandler, with the locks held (a snapshot in progress captures
//     the keys before they change).
//  3. Written, with the locks held, when the handler changed data: send
//     the effects where eff says, count the change, touch watched keys,
//     serve clients blocked on the written keys.
//  4. Block, with the locks held, when the handler asked to block and the
//     command may block: register the wait; the returned func waits for
//     the outcome and runs after the locks are released.
//  5. Finished, after the locks are released: statistics (calls, time,
//     failures, error counts, the slow log); replyStart is the offset in
//     Ctx.W.Buf where the command's reply starts.
//
// Retry is Admit's answer for a command that must not run now and that
// the caller will run again (client writes were paused after the
// caller's own pause check): Run writes no reply and keeps no statistics.
const Retry = "\x00retry"

// A nil Host runs the bare command: no routing, no propagation, no
// statistics, a command that would block replies as if it timed out.
type Host interface {
	Admit(c *Ctx, pos []int) string
	BeforeHandler(c *Ctx, pos []int)
	Written(c *Ctx, pos []int, held Held, eff Effects)
	Block(c *Ctx) (wait func())
	Finished(c *Ctx, replyStart int, dur time.Duration)
}

// Run runs the resolved command c.Cmd (Find or Resolve has checked its
// arity) with c.Args on c.DB, replying to c.W. With LocksHeld, held names
// the caller's locks (they must cover the command's keys); with LockHere
// it is ignored. c.Now, when zero, is set to the start time; a caller that
// runs several commands as one (EXEC) sets it once for all. It returns
// the func that waits for a blocked command's outcome, or nil.
func Run(c *Ctx, lk Locking, eff Effects, h Host, held Held) (wait func()) {
	cmd := c.Cmd
	if cmd.Handler == nil {
		c.W.Error(notImplemented(cmd, c.Args))
		return nil
	}
	pos := cmd.KeyPositions(c.Args, c.posBuf[:0])
	if len(pos) > 1 {
		prefetchKeys(c, pos)
	}
	if lk == LockHere {
		switch {
		case cmd.SerialIf != nil && cmd.SerialIf(c.Srv, c.Args):
			held = Held{Shards: Shards(c.Args, pos, c.shardBuf[:0]), Serial: true}
			c.KS.LockSerial(held.Shards)
		case cmd.NeedsAll(c.Srv, c.Args):
			held = Held{All: true}
			c.KS.LockAll()
		default:
			held.Shards = Shards(c.Args, pos, c.shardBuf[:0])
			c.KS.Lock(held.Shards)
		}
	}
	c.Held = held
	if c.Now == 0 {
		c.Now, c.Start = wallNow()
	} else {
		// Time was fixed by the caller (EXEC, a script): one reading of
		// the monotonic clock is enough, and it is not a cheap call on
		// every machine.
		c.Start = monoNow()
	}
	replyStart := len(c.W.Buf)
	refused := ""
	if h != nil {
		if refused = h.Admit(c, pos); refused == "" {
			h.BeforeHandler(c, pos)
		}
	}
	if refused == "" {
		wait = handle(c, h, pos, held, eff)
	}
	if lk == LockHere {
		unlock(c.KS, held)
	}
	if refused != "" { // not run: no statistics but the host's own
		if refused != Retry {
			c.W.Error(refused)
		}
		return nil
	}
	if h != nil {
		h.Finished(c, replyStart, time.Since(c.Start))
	}
	return wait
}

// PrefetchQueued reads ahead, in db, the keys of the whole commands at
// the front of buf (a client's pipeline, a master's stream) when there
// are several of them: keyspace.DB.Prefetch, with each command's second
// argument taken for its key, which it is for most commands (a wrong
// guess only reads in memory nobody uses). It returns how many commands
// it covered, 0 when it did nothing. scratch holds the keys' slices
// between calls (none is kept).
func PrefetchQueued(db *keyspace.DB, buf []byte, scratch *[][]byte) int {
	if *scratch == nil {
		*scratch = make([][]byte, 0, keyspace.PrefetchMax)
	}
	keys := resp.SecondArgs(buf, (*scratch)[:0])
	n := len(keys)
	if n > 1 {
		db.Prefetch(keys)
	} else {
		n = 0
	}
	clear(keys)
	return n
}

// prefetchKeys reads ahead the keys of a command that names several
// (MGET, MSET, DEL...), before its locks are taken: their lookups' cache
// misses then overlap (keyspace.DB.Prefetch).
func prefetchKeys(c *Ctx, pos []int) {
	var buf [keyspace.PrefetchMax][]byte
	keys := buf[:0]
	for _, p := range pos {
		if len(keys) == len(buf) {
			break
		}
		keys = append(keys, c.Args[p])
	}
	c.DB.Prefetch(keys)
}

// monoEpoch anchors monoNow.
var monoEpoch = time.Now()

// wallOff is the wall clock minus the monotonic one (ns since
// monoEpoch), and wallAt when it was taken (monotonic ns): wallNow
// derives the wall clock from one reading of the monotonic one, which
// costs half of time.Now's two.
var wallOff, wallAt atomic.Int64

// wallRefresh is how often wallNow reads the wall clock itself, so that
// a step of the system clock shows within it.
const wallRefresh = 50 * time.Millisecond

// wallNow returns the wall clock in unix ms and the current instant (for
// durations) from one reading of the monotonic clock.
func wallNow() (int64, time.Time) {
	d := time.Since(monoEpoch)
	if at := wallAt.Load(); at == 0 || int64(d)-at >= int64(wallRefresh) || int64(d) < at {
		t := time.Now()
		d = t.Sub(monoEpoch)
		wallOff.Store(t.UnixNano() - int64(d))
		wallAt.Store(int64(d))
		return t.UnixMilli(), t
	}
	return (int64(d) + wallOff.Load()) / 1e6, monoEpoch.Add(d)
}

// monoNow is the current instant from one reading of the monotonic
// clock (time.Now reads the wall clock too): a Time without a wall
// reading of its own, good for durations and comparisons with Sub.
func monoNow() time.Time { return monoEpoch.Add(time.Since(monoEpoch)) }

func unlock(ks *keyspace.Keyspace, held Held) {
	if held.Serial {
		ks.UnlockSerial(held.Shards)
		return
	}
	if held.All {
		ks.UnlockAll()
	} else {
		ks.Unlock(held.Shards)
	}
}

// handle runs the handler and what follows it under the locks.
func handle(c *Ctx, h Host, pos []int, held Held, eff Effects) (wait func()) {
	c.Cmd.Handler(c)
	if c.Dirty > 0 && h != nil {
		h.Written(c, pos, held, eff)
	}
	switch {
	case !c.Blocked || c.Serving:
		// Serving: the caller sees Blocked and keeps the client waiting.
	case h != nil && !c.NoBlock:
		return h.Block(c)
	case c.BlockNullBulk: // cannot block here: reply as a timeout would
		c.W.Null()
	default:
		c.W.NullArray()
	}
	return nil
}

// notImplemented is the reply to a command of the table that has no
// handler in this build (a server-level command outside a server).
func notImplemented(cmd *Command, args [][]byte) string {
	if i := strings.IndexByte(cmd.Name, '|'); i > 0 && len(args) > 1 {
		return fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", args[1], strings.ToUpper(cmd.Name[:i]))
	}
	return UnknownCommand(args)
}

// UnknownCommand is the error for a command name that is not in the table.
func UnknownCommand(args [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ERR unknown command '%.128s', with args beginning with: ", args[0])
	for _, a := range args[1:] {
		if b.Len() > 128+64 {
			break
		}
		fmt.Fprintf(&b, "'%.128s' ", a)
	}
	return b.String()
}

// Find looks args up in the table and resolves the subcommand: the
// command to run, or the error text of an unknown command or a wrong
// arity (the command is then nil when the name is unknown).
func Find(args [][]byte) (*Command, string) {
	cmd := Lookup(args[0])
	if cmd == nil {
		return nil, UnknownCommand(args)
	}
	return Resolve(cmd, args)
}

// Shards returns the sorted, deduplicated shard indexes of the keys at
// positions pos in args.
func Shards(args [][]byte, pos []int, buf []int) []int {
	out := buf[:0]
	for _, p := range pos {
		out = append(out, keyspace.ShardOf(args[p]))
	}
	return keyspace.SortShards(out)
}

// Exec runs one command against database db with no server around it
// (Run with no Host): what tests of data commands use. A command that
// would block replies as if it timed out.
func Exec(ks *keyspace.Keyspace, db int, w *resp.Writer, args [][]byte) {
	cmd, errText := Find(args)
	if errText != "" {
		w.Error(errText)
		return
	}
	c := &Ctx{Args: args, Cmd: cmd, W: w, DB: ks.DB(db), KS: ks, Now: ks.Now(), NoBlock: true}
	Run(c, LockHere, Drop, nil, Held{})
}
