package server

// SCRIPT DEBUG YES|SYNC|NO: the server's side of the Lua debugger
// (internal/scripting's Debugger). The next EVAL of the client runs under
// the debugger, which talks to the client over its connection while the
// script runs; the connection closes after the EVAL's reply, as Redis.
//
// SYNC runs the script as any other: it holds its locks for the whole
// session (the server waits, as Redis's synchronous session) and its
// writes stay. Redis runs a YES session in a forked child, so its writes
// vanish with it; redgo runs it as SYNC, but saves each key before the
// script's first write to it (DUMP and its TTL) and restores them all at
// the end, and sends nothing to the AOF or replicas.

import (
	"bytes"
	"strconv"
	"time"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
	"redgo/internal/scripting"
)

const (
	debugYes  = 1
	debugSync = 2
)

func cmdScriptDebug(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.W.Buf) > 0 {
		c.Error("ERR SCRIPT DEBUG must be called outside a pipeline")
		return
	}
	switch {
	case c.ArgIs(2, "no"):
		cc.luaDebug = 0
	case c.ArgIs(2, "yes"):
		cc.luaDebug = debugYes
	case c.ArgIs(2, "sync"):
		cc.luaDebug = debugSync
	default:
		c.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
		return
	}
	c.W.OK()
}

// debugScript runs an EVAL under the debugger, then closes the client
// after the reply.
func (s *Server) debugScript(cc *Client, c *commands.Ctx, run *scripting.Run, flags scripting.Flags) {
	if cc.luaDebug == debugYes {
		s.Log.Printf("# Redis forked for debugging eval")
	} else {
		s.Log.Printf("# Redis synchronous debugging eval session started")
	}
	pending := append([]byte(nil), cc.qbuf[cc.qr:]...)
	cc.qr = len(cc.qbuf)
	cc.conn.SetDeadline(time.Time{})
	d := scripting.NewDebugger(cc.conn, pending, string(c.Args[1]))
	if t := s.busyThreshold(); t > 0 {
		d.Limit = t
	}
	run.Debug = d
	s.runScript(cc, c, run, flags)
	if cc.luaDebug == debugYes {
		s.Log.Printf("# Lua debugging session child exiting")
	} else {
		s.Log.Printf("# Redis synchronous debugging eval session ended")
	}
	cc.luaDebug = 0
	cc.closeErr.Store(true)
}

// scriptUndo is what a SCRIPT DEBUG YES session's writes replaced.
type scriptUndo struct {
	saved map[undoKey]undoValue
	order []undoKey
}

type undoKey struct {
	db  int
	key string
}

type undoValue struct {
	dbv     *keyspace.DB
	payload []byte // DUMP's, nil when the key did not exist
	pttl    int64
}

// save keeps the keys at pos as they are before their first write.
func (sc *scriptCall) save(db *keyspace.DB, args [][]byte, pos []int) {
	for _, p := range pos {
		k := undoKey{db.Index(), string(args[p])}
		if _, ok := sc.undo.saved[k]; ok {
			continue
		}
		v := undoValue{dbv: db}
		if r := sc.quiet(db, "DUMP", args[p]); len(r) > 0 && r[0] == '$' {
			if nl := bytes.Index(r, []byte("\r\n")); nl > 0 {
				if n, err := strconv.Atoi(string(r[1:nl])); err == nil && n >= 0 && nl+2+n <= len(r) {
					v.payload = r[nl+2 : nl+2+n]
				}
			}
		}
		if v.payload != nil {
			if r := sc.quiet(db, "PTTL", args[p]); len(r) > 0 && r[0] == ':' {
				v.pttl, _ = strconv.ParseInt(string(r[1:len(r)-2]), 10, 64)
			}
		}
		sc.undo.saved[k] = v
		sc.undo.order = append(sc.undo.order, k)
	}
}

// rollback puts every saved key back as it was.
func (sc *scriptCall) rollback() {
	for _, k := range sc.undo.order {
		v := sc.undo.saved[k]
		key := []byte(k.key)
		sc.quiet(v.dbv, "DEL", key)
		if v.payload != nil {
			ttl := v.pttl
			if ttl < 0 {
				ttl = 0
			}
			sc.quiet(v.dbv, "RESTORE", key, []byte(strconv.FormatInt(ttl, 10)), v.payload, []byte("REPLACE"))
		}
	}
}

// quiet runs a command on db under the script's locks, outside the
// script (no statistics, no propagation), and returns its RESP2 reply.
func (sc *scriptCall) quiet(db *keyspace.DB, name string, args ...[]byte) []byte {
	all := append([][]byte{[]byte(name)}, args...)
	cmd, _ := commands.Find(all)
	if cmd == nil {
		return nil
	}
	w := resp.Writer{Proto: 2}
	ctx := commands.Ctx{Args: all, Cmd: cmd, W: &w, DB: db, KS: sc.s.KS, Client: sc.pc, Srv: sc.s,
		NoBlock: true, Script: true, Now: sc.now, Obey: true}
	commands.Run(&ctx, commands.LocksHeld, commands.Collect, nil, sc.held)
	return w.Buf
}
