package server

// MIGRATE and RESTORE-ASKING (Redis's migrateCommand and restoreCommand
// with the asking flag). The sending side is internal/migration; this
// file looks the keys up, hands their DUMP payloads over, deletes what the
// target acknowledged and propagates that as DEL.
//
// Locking: MIGRATE runs with its keys' shards locked (one shard in
// cluster mode, where its keys share a slot) for the whole call,
// including the round trip to the target, as Redis blocks its main
// thread for it. So no command sees a key between its restore on the
// target and its deletion here: a command waiting for the shard is routed
// again under the lock (Admit) and finds it gone (-ASK), never a stale
// or missing value. The wait is bounded by the command's timeout.

import (
	"time"

	"redgo/internal/commands"
	"redgo/internal/migration"
	"redgo/internal/notify"
	"redgo/internal/rdb"
)

func init() {
	commands.Register("migrate", srvCmd(cmdMigrate), commands.KeysFunc(migration.KeyPositions))
	commands.Register("restore-asking", cmdRestore)
}

// srvCmd(cmdMigrate): MIGRATE host port key|"" db timeout [COPY] [REPLACE]
// [AUTH password] [AUTH2 username password] [KEYS key ...].
func cmdMigrate(s *Server, cc *Client, c *commands.Ctx) {
	opts, msg := migration.ParseOptions(c.Args)
	if msg != "" {
		c.Error(msg)
		return
	}
	timeout, ok := c.IntArg(5)
	if !ok {
		return
	}
	db, ok := c.IntArg(4)
	if !ok {
		return
	}
	if timeout <= 0 {
		timeout = 1000
	}
	timeout = min(timeout, 1e12) // in range of a time.Duration
	compress := s.Cfg.Bool("rdbcompression")
	items := make([]migration.Item, 0, len(opts.Keys))
	for _, k := range opts.Keys {
		o := c.DB.Lookup(k) // an expired key goes now, as DEL
		if o == nil {
			continue
		}
		ttl := int64(0)
		if at := o.Expire(); at != 0 {
			ttl = max(at-c.Now, 1)
		}
		p, err := rdb.Dump(o, compress)
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		items = append(items, migration.Item{Key: k, TTL: ttl, Payload: p})
	}
	if len(items) == 0 {
		c.W.Simple("NOKEY")
		return
	}
	res := s.migrate.Migrate(&migration.Request{Host: c.Arg(1), Port: c.Arg(2), DB: db,
		Timeout: time.Duration(timeout) * time.Millisecond, Asking: s.cluster != nil,
		Options: opts, Items: items})
	if !opts.Copy && len(res.Acked) > 0 {
		del := make([][]byte, 1, len(res.Acked)+1)
		del[0] = []byte("DEL")
		for _, i := range res.Acked {
			k := items[i].Key
			c.DB.Delete(k)
			del = append(del, k)
			c.Dirty++
			c.Notify(notify.Generic, "del", k)
		}
		c.Propagate(del...)
	}
	if res.Err != "" {
		c.Error(res.Err)
		return
	}
	c.W.OK()
}
