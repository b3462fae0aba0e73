package commands

import (
	"fmt"
	"strings"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

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

// Shards returns the sorted, deduplicated shard indexes of the keys at
// positions pos in args.
func Shards(args [][]byte, pos []int, buf []int) []int {
	out := buf[:0]
	for _, p := range pos {
		out = append(out, keyspace.ShardOf(args[p]))
	}
	return keyspace.SortShards(out)
}

// Exec runs one command against db with no client or server around it:
// the lookup, arity check, locking and handler. It is what tests of data
// commands use; the server's dispatcher does the same plus client state,
// transactions, blocking and cluster routing. A command that would block
// replies as if it timed out.
func Exec(ks *keyspace.Keyspace, db int, w *resp.Writer, args [][]byte) {
	cmd := Lookup(args[0])
	if cmd == nil {
		w.Error(UnknownCommand(args))
		return
	}
	cmd, errText := Resolve(cmd, args)
	if errText != "" {
		w.Error(errText)
		return
	}
	if cmd.Handler == nil {
		w.Error("ERR command not supported outside a server: " + cmd.Name)
		return
	}
	c := &Ctx{Args: args, Cmd: cmd, W: w, DB: ks.DB(db), KS: ks, Now: ks.Now(), NoBlock: true}
	var posBuf, shardBuf [8]int
	if cmd.LockAll {
		ks.LockAll()
		defer ks.UnlockAll()
	} else {
		shards := Shards(args, cmd.KeyPositions(args, posBuf[:0]), shardBuf[:0])
		ks.Lock(shards)
		defer ks.Unlock(shards)
	}
	cmd.Handler(c)
	if c.Blocked {
		if c.BlockNullBulk {
			w.Null()
		} else {
			w.NullArray()
		}
	}
}
