package server

// SCRIPT DEBUG YES|SYNC|NO: the server's side of the Lua debugger
// (internal/scripting's Debugger). The next EVAL of the client runs under
// the debugger, which talks to the client over its connection while the
// script runs; the connection closes after the EVAL's reply, as Redis.
//
// SYNC runs the script as any other: it holds its locks for the whole
// session (the server waits, as Redis's synchronous session) and its
// writes stay. Redis runs a YES session in a forked child, so its writes
// vanish with it; redgo runs it as SYNC with the debugger's Rollback: the
// engine saves each key before the script's first write to it and
// restores them at the end through Quiet, and nothing is propagated.

import (
	"time"

	"redgo/internal/commands"
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
	d.Rollback = cc.luaDebug == debugYes
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

// CurrentDB is the database the script's commands run on
// (scripting.QuietHost).
func (sc *scriptCall) CurrentDB() int { return sc.pc.db }

// Quiet runs a command on database db under the script's locks, outside
// the script (no statistics, no propagation, no monitors), and returns
// its RESP2 reply (scripting.QuietHost: a debugging session's rollback).
func (sc *scriptCall) Quiet(db int, args ...[]byte) []byte {
	cmd, _ := commands.Find(args)
	if cmd == nil {
		return nil
	}
	dbv := sc.dbs[db]
	if sc.db != nil && sc.dbIndex == db {
		dbv = sc.db
	}
	if dbv == nil {
		dbv = sc.s.KS.DB(db).At(sc.now)
	}
	w := resp.Writer{Proto: 2}
	ctx := commands.Ctx{Args: args, Cmd: cmd, W: &w, DB: dbv, KS: sc.s.KS, Client: sc.pc, Srv: sc.s,
		NoBlock: true, Script: true, Now: sc.now, Obey: true}
	commands.Run(&ctx, commands.LocksHeld, commands.Collect, nil, sc.held)
	return w.Buf
}
