package server

// SAVE, BGSAVE, BGREWRITEAOF, DUMP and RESTORE (LASTSAVE and DEBUG RELOAD
// are in cmd_admin.go), as Redis's saveCommand, bgsaveCommand,
// bgrewriteaofCommand, dumpCommand and restoreCommand. Saves and rewrites
// are internal/persist's, the formats internal/rdb's and internal/aof's.

import (
	"errors"
	"strconv"
	"strings"

	"redgo/internal/commands"
	"redgo/internal/notify"
	"redgo/internal/persist"
	"redgo/internal/rdb"
)

func init() {
	commands.Register("save", srvCmd(cmdSave))
	commands.Register("bgsave", srvCmd(cmdBgsave))
	commands.Register("bgrewriteaof", srvCmd(cmdBgrewriteaof))
	commands.Register("dump", srvCmd(cmdDump))
	commands.Register("restore", cmdRestore)
}

const (
	errBgsaveRunning  = "ERR Background save already in progress"
	errRewriteRunning = "ERR Background append only file rewriting already in progress"
	errRewriteFailed  = "ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
	errBusyKey        = "BUSYKEY Target key name already exists."
	errBadPayload     = "ERR DUMP payload version or checksum are wrong"
	errBadFormat      = "ERR Bad data format"
)

// srvCmd(cmdSave): SAVE writes a snapshot and replies when it is on disk. Unlike
// Redis's, it does not stop other clients meanwhile.
func cmdSave(s *Server, cc *Client, c *commands.Ctx) {
	err := s.persist.Save()
	switch {
	case errors.Is(err, persist.ErrSaveInProgress):
		c.Error(errBgsaveRunning)
	case err != nil:
		c.Error("ERR")
	default:
		c.W.OK()
	}
}

// afterFlushAll runs after a FLUSHALL, its locks released: a BGSAVE in
// progress stops; with save points set, the empty dataset is saved at once and the dirty counter
// starts again from 0, as Redis's flushAllDataAndResetRDB, so a restart
// cannot bring back what was flushed from an older dump.
func (s *Server) afterFlushAll() {
	if strings.TrimSpace(s.Cfg.Get("save")) == "" {
		s.persist.AbortBGSave() // a BGSAVE of the flushed data stops, as Redis kills its child
		return
	}
	if err := s.persist.SaveAfterFlush(); err != nil {
		s.Log.Printf("# Saving the dataset after FLUSHALL: %v", err)
	}
}

// srvCmd(cmdBgsave): BGSAVE [SCHEDULE]. Inside a transaction the save is
// scheduled (it starts right after EXEC releases its keys).
func cmdBgsave(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 1 && !(len(c.Args) == 2 && c.ArgIs(1, "schedule")) {
		c.Error(commands.ErrSyntax)
		return
	}
	scheduled, err := s.persist.BGSave(c.NoBlock)
	switch {
	case errors.Is(err, persist.ErrSaveInProgress):
		c.Error(errBgsaveRunning)
	case scheduled:
		c.W.Simple("Background saving scheduled")
	default:
		c.W.Simple("Background saving started")
	}
}

// srvCmd(cmdBgrewriteaof): BGREWRITEAOF starts an AOF rewrite in the background.
func cmdBgrewriteaof(s *Server, cc *Client, c *commands.Ctx) {
	if c.NoBlock && !s.persist.RewriteRunning() {
		// Inside EXEC, whose shard locks the rewrite's cut needs: it
		// starts once they are released (Redis schedules it too).
		s.goTracked(func() { s.persist.Rewrite() })
		c.W.Simple("Background append only file rewriting scheduled")
		return
	}
	err := s.persist.Rewrite()
	switch {
	case errors.Is(err, persist.ErrRewriteInProgress):
		c.Error(errRewriteRunning)
	case err != nil:
		c.Error(errRewriteFailed)
	default:
		c.W.Simple("Background append only file rewriting started")
	}
}

// srvCmd(cmdDump): DUMP key -> the value serialized as RESTORE takes it.
func cmdDump(s *Server, cc *Client, c *commands.Ctx) {
	o := c.DB.Lookup(c.Args[1])
	if o == nil {
		c.W.Null()
		return
	}
	p, err := rdb.Dump(o, s.Cfg.Bool("rdbcompression"))
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.Bulk(p)
}

// cmdRestore: RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s]
// [FREQ f], checked in Redis's order: options, existing key, TTL, payload.
func cmdRestore(c *commands.Ctx) {
	var replace, absttl bool
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.Args); j++ {
		more := len(c.Args) - j - 1
		switch {
		case c.ArgIs(j, "replace"):
			replace = true
		case c.ArgIs(j, "absttl"):
			absttl = true
		case c.ArgIs(j, "idletime") && more >= 1 && freq == -1:
			v, ok := c.IntArg(j + 1)
			if !ok {
				return
			}
			if v < 0 {
				c.Error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = v
			j++
		case c.ArgIs(j, "freq") && more >= 1 && idle == -1:
			v, ok := c.IntArg(j + 1)
			if !ok {
				return
			}
			if v < 0 || v > 255 {
				c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = v
			j++
		default:
			c.Error(commands.ErrSyntax)
			return
		}
	}
	key := c.Args[1]
	if !replace && c.DB.LookupWrite(key) != nil {
		c.Error(errBusyKey)
		return
	}
	ttl, ok := c.IntArg(2)
	if !ok {
		return
	}
	if ttl < 0 {
		c.Error("ERR Invalid TTL value, must be >= 0")
		return
	}
	o, err := rdb.Restore(c.Args[3], c.KS.Limits)
	if errors.Is(err, rdb.ErrBadPayload) {
		c.Error(errBadPayload)
		return
	} else if err != nil {
		c.Error(errBadFormat)
		return
	}
	deleted := false
	if replace {
		deleted = c.DB.Delete(key)
	}
	if ttl != 0 && !absttl {
		ttl += c.Now
	}
	if ttl != 0 && ttl <= c.Now && !c.KS.Replica.Load() {
		// Already expired: nothing is stored (an old value was deleted).
		if deleted {
			c.PropagateStrings("DEL", string(key))
			c.Dirty++
			c.Notify(notify.Generic, "del", key)
		}
		c.W.OK()
		return
	}
	if ttl != 0 {
		o.SetExpire(ttl)
	}
	c.DB.Set(key, o, false)
	if freq >= 0 && lfuPolicy(c) {
		o.SetLRU(c.KS.LFUField(uint8(freq)))
	}
	if idle >= 0 && !lfuPolicy(c) {
		now := c.KS.LRUClock()
		if uint32(idle) > now || idle > int64(now) {
			o.SetLRU(0)
		} else {
			o.SetLRU(now - uint32(idle))
		}
	}
	if ttl != 0 && !absttl {
		// Propagate the TTL as an absolute time.
		args := append([][]byte{}, c.Args...)
		args[2] = strconv.AppendInt(nil, ttl, 10)
		args = append(args, []byte("ABSTTL"))
		c.Propagate(args...)
	}
	c.Dirty++
	c.Notify(notify.Generic, "restore", key)
	c.W.OK()
}

func lfuPolicy(c *commands.Ctx) bool {
	p := c.Srv.(*Server).Cfg.Get("maxmemory-policy")
	return len(p) > 3 && p[len(p)-3:] == "lfu"
}
