package scripting

// SCRIPT DEBUG YES: Redis debugs in a forked child, so the session's
// writes never reach the server's data. redgo runs the session in place
// and undoes it: before a command of the script writes, each key it
// names is saved (DUMP and PTTL, run quietly by the host on the script's
// current database); when the script ends, every saved key is deleted and
// restored. The host sends nothing of such a run to the AOF or replicas.

import (
	"bytes"
	"strconv"

	"redgo/internal/commands"
)

// QuietHost is what a host offers for a session with rollback
// (Debugger.Rollback): the script's current database, and a command run
// on a database outside the script (no statistics, no propagation, no
// effects on blocked clients), returning its RESP2 reply.
type QuietHost interface {
	CurrentDB() int
	Quiet(db int, args ...[]byte) []byte
}

type undoKey struct {
	db  int
	key string
}

type undoValue struct {
	payload []byte // DUMP's, nil when the key did not exist
	pttl    int64
}

// undoLog is what a run's writes replaced, in the order first written.
type undoLog struct {
	saved map[undoKey]undoValue
	order []undoKey
}

// save keeps the keys cmd names in args as they are, before their
// first write.
func (u *undoLog) save(h QuietHost, cmd *commands.Command, args [][]byte) {
	db := h.CurrentDB()
	for _, p := range cmd.KeyPositions(args, nil) {
		k := undoKey{db, string(args[p])}
		if _, ok := u.saved[k]; ok {
			continue
		}
		v := undoValue{payload: bulkOf(h.Quiet(db, []byte("DUMP"), args[p]))}
		if v.payload != nil {
			if r := h.Quiet(db, []byte("PTTL"), args[p]); len(r) > 3 && r[0] == ':' {
				v.pttl, _ = strconv.ParseInt(string(r[1:len(r)-2]), 10, 64)
			}
		}
		u.saved[k] = v
		u.order = append(u.order, k)
	}
}

// restore puts every saved key back.
func (u *undoLog) restore(h QuietHost) {
	for _, k := range u.order {
		v := u.saved[k]
		key := []byte(k.key)
		h.Quiet(k.db, []byte("DEL"), key)
		if v.payload != nil {
			ttl := max(v.pttl, 0)
			h.Quiet(k.db, []byte("RESTORE"), key, []byte(strconv.FormatInt(ttl, 10)), v.payload, []byte("REPLACE"))
		}
	}
}

// bulkOf is the payload of a bulk string reply, nil for anything else.
func bulkOf(r []byte) []byte {
	if len(r) == 0 || r[0] != '$' {
		return nil
	}
	nl := bytes.Index(r, []byte("\r\n"))
	if nl < 0 {
		return nil
	}
	n, err := strconv.Atoi(string(r[1:nl]))
	if err != nil || n < 0 || nl+2+n > len(r) {
		return nil
	}
	return r[nl+2 : nl+2+n]
}
