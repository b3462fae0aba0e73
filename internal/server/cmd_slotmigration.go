package server

// CLUSTER MIGRATESLOTS, GETSLOTMIGRATIONS, CANCELSLOTMIGRATIONS (Valkey
// 9's whole-slot transfer) and the target's internal CLUSTER SYNCSLOTS.
// The transfer itself is internal/slotmigration; this file gives it the
// keyspace and the cluster state (slotHost) and marks a target's import
// link so its commands run on slots the node does not serve yet.

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/rdb"
	"redgo/internal/slotmigration"
)

func init() {
	admin := []string{"admin", "stale", "noscript", "no_multi", "no_async_loading"}
	acl := []string{"@admin", "@slow", "@dangerous"}
	reg := func(sub string, arity int, summary string, h srvHandler, flags ...string) {
		commands.RegisterExtra("cluster|"+sub, commands.Extra{Arity: arity, Flags: append(flags, admin...), ACL: acl,
			Summary: summary, Since: "9.0.0", Group: "cluster"}, clusterOnly(srvCmd(h)))
	}
	reg("migrateslots", -5, "Moves whole hash slots to another node in one stream", cmdClusterMigrateSlots)
	reg("getslotmigrations", 2, "Lists the recent whole-slot migrations of this node", cmdClusterGetSlotMigrations)
	reg("cancelslotmigrations", 2, "Cancels the running whole-slot migration", cmdClusterCancelSlotMigrations)
	// denyoom: past maxmemory the target refuses a batch of keys (as it
	// would each RESTORE), which fails the transfer.
	reg("syncslots", -3, "Internal: the target's side of CLUSTER MIGRATESLOTS", cmdClusterSyncSlots, "denyoom")
}

// slotMigrator returns the node's migrator, registering its capture
// propagator on first use (no cost to writes before a first transfer).
func (s *Server) slotMigrator() *slotmigration.Migrator {
	s.slotMigOnce.Do(func() {
		s.slotMig = slotmigration.NewMigrator(slotHost{s})
		s.AddPropagator(&s.slotMig.Capture)
	})
	return s.slotMig
}

// slotGroup is one "SLOTSRANGE start end ... NODE id" of MIGRATESLOTS.
type slotGroup struct {
	slots  []int
	target string
}

// parseMigrateSlots parses SLOTSRANGE start end [start end ...] NODE id,
// repeated.
func parseMigrateSlots(args [][]byte) ([]slotGroup, error) {
	var out []slotGroup
	for i := 0; i < len(args); {
		if !strings.EqualFold(string(args[i]), "slotsrange") {
			return nil, fmt.Errorf("ERR syntax error")
		}
		j := i + 1
		for j < len(args) && !strings.EqualFold(string(args[j]), "node") {
			j++
		}
		if j+1 >= len(args) {
			return nil, fmt.Errorf("ERR syntax error")
		}
		slots, err := slotmigration.ParseRanges(args[i+1 : j])
		if err != nil {
			return nil, err
		}
		out = append(out, slotGroup{slots: slots, target: string(args[j+1])})
		i = j + 2
	}
	return out, nil
}

// cmdClusterMigrateSlots: CLUSTER MIGRATESLOTS SLOTSRANGE start end
// [start end ...] NODE node-id [SLOTSRANGE ... NODE ...]. Each group runs
// in turn; the reply is +OK once the targets serve every slot, or the
// first failure (that group rolled back, the later ones did not run).
func cmdClusterMigrateSlots(s *Server, cc *Client, c *commands.Ctx) {
	groups, err := parseMigrateSlots(c.Args[2:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	for _, g := range groups {
		if err := s.migrateSlots(g); err != nil {
			c.Error(err.Error())
			return
		}
	}
	c.W.OK()
}

// migrateSlots runs one transfer, falling back to MIGRATE key by key
// when the target is not redgo.
func (s *Server) migrateSlots(g slotGroup) error {
	cm := s.cluster
	cm.mu.Lock()
	err := cm.st.CheckExport(g.target, g.slots)
	var addr, me, self string
	if err == nil {
		n := cm.st.Lookup(g.target)
		addr = net.JoinHostPort(n.IP, strconv.Itoa(n.Port))
		me = cm.st.Myself.Name
		ip := cm.st.Myself.IP
		if ip == "" {
			ip = "127.0.0.1"
		}
		self = net.JoinHostPort(ip, strconv.Itoa(s.Port())) // the fallback's connection to us
	}
	nodeTimeout := time.Duration(cm.st.Opts.NodeTimeout) * time.Millisecond
	cm.mu.Unlock()
	if err != nil {
		return err
	}
	var auth []string
	if pw := s.Cfg.Get("masterauth"); pw != "" {
		auth = []string{pw}
		if u := s.Cfg.Get("masteruser"); u != "" {
			auth = []string{u, pw}
		}
	}
	req := &slotmigration.Request{Slots: g.slots, Source: me, Target: g.target, Addr: addr, Auth: auth,
		Timeout: max(nodeTimeout, 5*time.Second)}
	return s.slotMigrator().Run(req, func(cancelled func() bool) error {
		return slotmigration.KeyByKey(self, me, addr, g.target, g.slots, auth, req.Timeout, cancelled)
	})
}

func cmdClusterGetSlotMigrations(s *Server, cc *Client, c *commands.Ctx) {
	list := s.slotMigrator().List()
	c.W.Array(len(list))
	for _, m := range list {
		var ranges []string
		for _, r := range slotmigration.Ranges(m.Slots) {
			ranges = append(ranges, fmt.Sprintf("%d-%d", r[0], r[1]))
		}
		end := int64(0)
		if !m.End.IsZero() {
			end = m.End.UnixMilli()
		}
		c.W.Map(10)
		c.W.BulkString("slot_ranges")
		c.W.BulkString(strings.Join(ranges, " "))
		c.W.BulkString("node")
		c.W.BulkString(m.Target)
		c.W.BulkString("state")
		c.W.BulkString(m.State)
		c.W.BulkString("last_error")
		c.W.BulkString(m.Error)
		c.W.BulkString("start_time")
		c.W.Int(m.Start.UnixMilli())
		c.W.BulkString("end_time")
		c.W.Int(end)
		c.W.BulkString("keys")
		c.W.Int(m.Keys)
		c.W.BulkString("commands")
		c.W.Int(m.Writes)
		c.W.BulkString("pause_us")
		c.W.Int(m.Pause.Microseconds())
		c.W.BulkString("key_by_key")
		c.W.Int(int64(boolN(m.KeyByKey)))
	}
}

func cmdClusterCancelSlotMigrations(s *Server, cc *Client, c *commands.Ctx) {
	c.W.Int(int64(s.slotMigrator().Cancel()))
}

// cmdClusterSyncSlots is the target's side: START <source-id> <start>
// <end>... makes this connection the import link of those slots (emptied
// first); KEYS <slot> <key> <expiry> <payload>... stores a batch of the
// snapshot's keys; FINISH takes the slots (new configEpoch, nodes.conf
// saved, broadcast) and ends the link's import. A link that closes before
// FINISH leaves nothing behind: its keys are deleted (endImport).
func cmdClusterSyncSlots(s *Server, cc *Client, c *commands.Ctx) {
	if cc == nil || cc.conn == nil {
		c.Error("ERR CLUSTER SYNCSLOTS is only valid on a connection")
		return
	}
	switch strings.ToLower(string(c.Args[2])) {
	case "start":
		s.syncSlotsStart(cc, c)
	case "keys":
		s.syncSlotsKeys(cc, c)
	case "finish":
		s.syncSlotsFinish(cc, c)
	default:
		syntaxErr(c)
	}
}

func (s *Server) syncSlotsStart(cc *Client, c *commands.Ctx) {
	if len(c.Args) < 6 {
		syntaxErr(c)
		return
	}
	if cc.cl.importing != nil {
		c.Error("ERR This connection is already importing slots")
		return
	}
	from := string(c.Args[3])
	slots, err := slotmigration.ParseRanges(c.Args[4:])
	if err != nil {
		c.Error(err.Error())
		return
	}
	cm := s.cluster
	cm.mu.Lock()
	err = cm.st.CheckImport(from, slots)
	cm.mu.Unlock()
	if err != nil {
		c.Error(err.Error())
		return
	}
	im, err := s.imports.Start(from, slots)
	if err != nil {
		c.Error(err.Error())
		return
	}
	// Keys left over from an earlier transfer that died go first.
	s.dropImportedKeys(slots, "left over in slots about to be imported")
	cc.cl.importing = im
	s.Log.Printf("Importing %d slots from %s", len(slots), from)
	c.W.OK()
}

// syncSlotsKeys stores one batch of the snapshot: keys of one imported
// slot, each as RESTORE key <expiry> <payload> REPLACE ABSTTL would,
// under one lock of the slot's shard, with one reply. The AOF and the
// replicas get those RESTOREs. The payloads are all decoded before
// anything is stored: a bad one fails the batch (and the transfer).
func (s *Server) syncSlotsKeys(cc *Client, c *commands.Ctx) {
	im := cc.cl.importing
	if im == nil {
		c.Error("ERR This connection is not importing slots")
		return
	}
	if msg := s.writesDenied(); msg != "" { // as for RESTORE: a failed AOF write or BGSAVE
		c.Error(msg)
		return
	}
	j, keys, err := im.DecodeBatch(c.Args[3:], s.KS.Limits)
	if err != nil {
		c.Error(err.Error())
		return
	}
	sh := []int{j % keyspace.NShards}
	s.KS.Lock(sh)
	db := s.KS.DB(0)
	db.ReserveSlot(j, len(keys))
	snap, props := s.snapshotting(), s.hasProps.Load()
	var fed [][][]byte
	if props {
		fed = make([][][]byte, 0, len(keys))
	}
	n := 0
	for i := range keys {
		k := &keys[i]
		if snap {
			s.persist.BeforeWriteKey(0, k.Name)
		}
		if k.ExpireAt != 0 && k.ExpireAt <= c.Now {
			// Expired meanwhile: not stored (an older value goes), as
			// RESTORE ... REPLACE ABSTTL.
			if db.Delete(k.Name) && props {
				fed = append(fed, [][]byte{delWord, k.Name})
			}
			continue
		}
		if k.ExpireAt != 0 {
			k.Obj.SetExpire(k.ExpireAt)
		}
		db.Set(k.Name, k.Obj, false) // replaces an older value
		db.Touch(k.Name)
		s.invalidate(k.Name, cc)
		s.KS.Events.Fire(notify.Generic, "restore", 0, k.Name)
		if props {
			i := 4 + 3*i // k's arguments in c.Args
			fed = append(fed, [][]byte{restoreWord, k.Name, c.Args[i+1], c.Args[i+2], replaceWord, absttlWord})
		}
		n++
	}
	if len(fed) > 0 {
		s.feed(cc, 0, fed)
	}
	s.KS.Unlock(sh)
	s.dirty.Add(int64(n))
	c.W.OK()
}

// The words of the RESTOREs a batch of keys is propagated as.
var (
	restoreWord = []byte("RESTORE")
	replaceWord = []byte("REPLACE")
	absttlWord  = []byte("ABSTTL")
)

func (s *Server) syncSlotsFinish(cc *Client, c *commands.Ctx) {
	im := cc.cl.importing
	if im == nil {
		c.Error("ERR This connection is not importing slots")
		return
	}
	cm := s.cluster
	cm.mu.Lock()
	err := cm.st.TakeSlots(im.From, im.Slots)
	if err == nil {
		cm.commitLocked()
	}
	cm.mu.Unlock()
	if err != nil {
		c.Error(err.Error())
		return
	}
	cc.cl.importing = nil
	s.imports.End(im)
	s.Log.Printf("Imported %d slots from %s: serving them now", len(im.Slots), im.From)
	c.W.OK()
}

// endImport runs when an import link closes before FINISH: the keys it
// brought go (unless the slots became ours meanwhile).
func (s *Server) endImport(c *Client) {
	im := c.cl.importing
	if im == nil {
		return
	}
	c.cl.importing = nil
	s.imports.End(im)
	cm := s.cluster
	var drop []int
	cm.mu.Lock()
	for _, j := range im.Slots {
		if cm.st.Owner[j] != cm.st.Myself {
			drop = append(drop, j)
		}
	}
	cm.mu.Unlock()
	s.Log.Printf("# Import of %d slots from %s abandoned: the link closed before the end", len(im.Slots), im.From)
	s.dropImportedKeys(drop, "of an abandoned import")
}

// dropImportedKeys deletes the keys of slots (not served here), each
// propagated as DEL, and logs how many went.
func (s *Server) dropImportedKeys(slots []int, why string) {
	n := 0
	for _, j := range slots {
		n += s.delSlotKeys(j)
	}
	if n > 0 {
		s.Log.Printf("Deleted %d keys %s", n, why)
	}
}

// slotHost is the source's side of a transfer (slotmigration.Host).
type slotHost struct{ s *Server }

func (h slotHost) DumpSlot(j int, emit func(string, []byte, int64), done func()) error {
	s := h.s
	// No LZF, whatever rdbcompression says: compressing on the source and
	// decompressing on the target cost both nodes CPU, the transfer's
	// limit, for fewer bytes on the cluster's own network.
	const compress = false
	sh := []int{j % keyspace.NShards}
	s.KS.Lock(sh)
	defer s.KS.Unlock(sh)
	var err error
	var p []byte // each payload in turn: emit copies it
	s.KS.DB(0).ForSlot(j, func(key string, o *keyspace.Object) bool {
		if p, err = rdb.AppendDump(p[:0], o, compress); err != nil {
			return false
		}
		emit(key, p, o.Expire())
		return true
	})
	if err != nil {
		return fmt.Errorf("ERR Slot migration: %v", err)
	}
	done()
	return nil
}

func (h slotHost) LockSlots(slots []int) func() {
	var seen [keyspace.NShards]bool
	var sh []int
	for _, j := range slots {
		if i := j % keyspace.NShards; !seen[i] {
			seen[i] = true
			sh = append(sh, i)
		}
	}
	sh = keyspace.SortShards(sh)
	h.s.KS.Lock(sh)
	return func() { h.s.KS.Unlock(sh) }
}

func (h slotHost) Owner(j int) string {
	cm := h.s.cluster
	cm.mu.Lock()
	defer cm.mu.Unlock()
	return cm.st.OwnerName(j)
}

func (h slotHost) GiveSlots(to string, slots []int) error {
	cm := h.s.cluster
	cm.mu.Lock()
	defer cm.mu.Unlock()
	err := cm.st.GiveSlots(to, slots)
	cm.commitLocked()
	return err
}

func (h slotHost) DropSlots(slots []int) {
	h.s.dropImportedKeys(slots, "of slots moved to another node")
}

func (h slotHost) Logf(format string, args ...any) { h.s.Log.Printf(format, args...) }
