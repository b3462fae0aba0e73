package commands

import (
	"fmt"
	"math"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/resp"
)

// Consumer group commands: XGROUP (CREATE SETID DESTROY CREATECONSUMER
// DELCONSUMER HELP), XACK, XPENDING, XCLAIM and XAUTOCLAIM, as Redis
// 7.0's t_stream.c. XCLAIM and XAUTOCLAIM are propagated as Redis does:
// one idempotent XCLAIM ... FORCE JUSTID LASTID per entry they changed,
// and XGROUP SETID when only the group's last ID moved.

const (
	errXgroupNoKey     = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
	errBusyGroup       = "BUSYGROUP Consumer Group name already exists"
	errEntriesRead     = "ERR value for ENTRIESREAD must be positive or -1"
	errXclaimMinIdle   = "ERR Invalid min-idle-time argument for XCLAIM"
	errXautoMinIdle    = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
	errXautoCount      = "ERR COUNT must be > 0"
	errXclaimIdle      = "ERR Invalid IDLE option argument for XCLAIM"
	errXclaimTime      = "ERR Invalid TIME option argument for XCLAIM"
	errXclaimRetry     = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
	xautoclaimAttempts = 10
)

func init() {
	for _, sub := range []string{"create", "setid", "destroy", "createconsumer", "delconsumer"} {
		Register("xgroup|"+sub, cmdXgroup)
	}
	Register("xgroup|help", cmdXgroupHelp)
	Register("xack", cmdXack)
	Register("xpending", cmdXpending)
	Register("xclaim", cmdXclaim)
	Register("xautoclaim", cmdXautoclaim)
}

// subcommandSyntax is addReplySubcommandSyntaxError.
func subcommandSyntax(c *Ctx) {
	c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
		c.Args[1], Upper(c.Args[0])))
}

func cmdXgroupHelp(c *Ctx) {
	writeHelp(c, "XGROUP", []string{
		"CREATE <key> <groupname> <id|$> [option]",
		"    Create a new consumer group. Options are:",
		"    * MKSTREAM",
		"      Create the empty stream if it does not exist.",
		"    * ENTRIESREAD entries_read",
		"      Set the group's entries_read counter (internal use).",
		"CREATECONSUMER <key> <groupname> <consumer>",
		"    Create a new consumer in the specified group.",
		"DELCONSUMER <key> <groupname> <consumer>",
		"    Remove the specified consumer.",
		"DESTROY <key> <groupname>",
		"    Remove the specified group.",
		"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
		"    Set the current group ID and entries_read counter.",
	})
}

// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER key group ...
func cmdXgroup(c *Ctx) {
	sub := Upper(c.Args[1])
	mkstream := false
	entriesRead := int64(datatype.InvalidEntriesRead)
	for i := 5; i < len(c.Args); {
		switch {
		case sub == "CREATE" && EqualFold(c.Args[i], "mkstream"):
			mkstream = true
			i++
		case (sub == "CREATE" || sub == "SETID") && EqualFold(c.Args[i], "entriesread") && i+1 < len(c.Args):
			n, ok := c.IntArg(i + 1)
			if !ok {
				return
			}
			if n < 0 && n != datatype.InvalidEntriesRead {
				c.Error(errEntriesRead)
				return
			}
			entriesRead = n
			i += 2
		default:
			subcommandSyntax(c)
			return
		}
	}
	key, name := c.Args[2], c.Args[3]
	s, ok := streamLookup(c, key, true)
	if !ok {
		return
	}
	var g *datatype.StreamGroup
	if !mkstream {
		if s == nil {
			c.Error(errXgroupNoKey)
			return
		}
		if g = s.Group(name); g == nil && sub != "CREATE" && sub != "DESTROY" {
			c.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'", name, key))
			return
		}
	}
	switch {
	case sub == "CREATE" && len(c.Args) <= 8:
		xgroupCreate(c, s, entriesRead)
	case sub == "SETID" && (len(c.Args) == 5 || len(c.Args) == 7):
		id := s.LastID
		if string(c.Args[4]) != "$" {
			if id, ok = c.streamID(c.Args[4], 0, false); !ok {
				return
			}
		}
		g.LastID, g.EntriesRead = id, entriesRead
		c.Dirty++
		c.Notify(notify.Stream, "xgroup-setid", key)
		c.W.OK()
	case sub == "DESTROY" && len(c.Args) == 4:
		if g == nil {
			c.W.Int(0)
			return
		}
		s.DestroyGroup(name)
		c.Dirty++ // also serves XREADGROUP clients blocked on the group: they get NOGROUP
		c.Notify(notify.Stream, "xgroup-destroy", key)
		c.W.Int(1)
	case sub == "CREATECONSUMER" && len(c.Args) == 5:
		if g.CreateConsumer(c.Args[4], c.Now) == nil {
			c.W.Int(0)
			return
		}
		c.Dirty++
		c.Notify(notify.Stream, "xgroup-createconsumer", key)
		c.W.Int(1)
	case sub == "DELCONSUMER" && len(c.Args) == 5:
		n := g.DeleteConsumer(c.Args[4])
		if n < 0 {
			c.W.Int(0)
			return
		}
		c.Dirty++
		c.Notify(notify.Stream, "xgroup-delconsumer", key)
		c.W.Int(int64(n))
	default:
		subcommandSyntax(c)
	}
}

func xgroupCreate(c *Ctx, s *datatype.Stream, entriesRead int64) {
	var id datatype.StreamID
	if string(c.Args[4]) == "$" {
		if s != nil {
			id = s.LastID
		}
	} else {
		var ok bool
		if id, ok = c.streamID(c.Args[4], 0, true); !ok {
			return
		}
	}
	if s == nil {
		s = datatype.NewStream(c.KS.Limits)
		c.DB.Set(c.Args[2], keyspace.NewStream(s), false)
		c.Dirty++
	}
	if s.CreateGroup(c.Args[3], id, entriesRead) == nil {
		c.Error(errBusyGroup)
		return
	}
	c.Dirty++
	c.Notify(notify.Stream, "xgroup-create", c.Args[2])
	c.W.OK()
}

// streamGroupLookup returns the stream and group, replying WRONGTYPE
// (false) or, with no stream or group, nil.
func streamGroupLookup(c *Ctx) (*datatype.Stream, *datatype.StreamGroup, bool) {
	s, ok := streamLookup(c, c.Args[1], false)
	if !ok || s == nil {
		return nil, nil, ok
	}
	return s, s.Group(c.Args[2]), true
}

// XACK key group id [id ...]
func cmdXack(c *Ctx) {
	_, g, ok := streamGroupLookup(c)
	if !ok {
		return
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	ids := make([]datatype.StreamID, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		id, ok := c.streamID(a, 0, true)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	n := 0
	for _, id := range ids {
		if g.Ack(id) {
			n++
		}
	}
	c.Dirty += n
	c.W.Int(int64(n))
}

// XPENDING key group [[IDLE min-idle] start end count [consumer]]
func cmdXpending(c *Ctx) {
	n := len(c.Args)
	if n != 3 && (n < 6 || n > 9) {
		c.Error(ErrSyntax)
		return
	}
	var start, end datatype.StreamID
	var count, minIdle int64
	var consumer []byte
	if n >= 6 {
		i := 3
		if EqualFold(c.Args[3], "idle") {
			var ok bool
			if minIdle, ok = c.IntArg(4); !ok {
				return
			}
			if n < 8 {
				c.Error(ErrSyntax)
				return
			}
			i += 2
		}
		var ok bool
		if count, ok = c.IntArg(i + 2); !ok {
			return
		}
		count = max(count, 0)
		if start, ok = c.streamIntervalID(c.Args[i], false); !ok {
			return
		}
		if end, ok = c.streamIntervalID(c.Args[i+1], true); !ok {
			return
		}
		if i+3 < n {
			consumer = c.Args[i+3]
		}
	}
	_, g, ok := streamGroupLookup(c)
	if !ok {
		return
	}
	if g == nil {
		c.Error(noGroupErr(c.Args[1], c.Args[2], ""))
		return
	}
	if n == 3 {
		xpendingSummary(c, g)
		return
	}
	pel := &g.PEL
	if consumer != nil {
		cons := g.Consumer(consumer)
		if cons == nil {
			c.W.Array(0)
			return
		}
		pel = &cons.PEL
	}
	sub := resp.Writer{Proto: c.W.Proto}
	k := 0
	for i := pel.Seek(start); count > 0 && i < pel.Len() && !end.Less(pel.KeyAt(i)); i++ {
		nack := pel.ValAt(i)
		idle := c.Now - nack.DeliveryTime
		if minIdle != 0 && idle < minIdle {
			continue
		}
		k++
		count--
		sub.Array(4)
		writeStreamID(&sub, pel.KeyAt(i))
		sub.BulkString(nack.Consumer.Name)
		sub.Int(max(idle, 0))
		sub.Int(int64(nack.DeliveryCount))
	}
	c.W.Array(k)
	c.W.Raw(sub.Buf)
}

func xpendingSummary(c *Ctx, g *datatype.StreamGroup) {
	c.W.Array(4)
	c.W.Int(int64(g.PEL.Len()))
	if g.PEL.Len() == 0 {
		c.W.Null()
		c.W.Null()
		c.W.NullArray()
		return
	}
	writeStreamID(c.W, g.PEL.KeyAt(0))
	writeStreamID(c.W, g.PEL.KeyAt(g.PEL.Len()-1))
	n := 0
	for _, cons := range g.Consumers() {
		if cons.PEL.Len() > 0 {
			n++
		}
	}
	c.W.Array(n)
	for _, cons := range g.Consumers() {
		if cons.PEL.Len() > 0 {
			c.W.Array(2)
			c.W.BulkString(cons.Name)
			c.W.BulkInt(int64(cons.PEL.Len()))
		}
	}
}

// xclaimOpts are XCLAIM's options.
type xclaimOpts struct {
	minIdle      int64
	deliveryTime int64 // -1: not given
	retryCount   int64 // -1: not given
	force        bool
	justID       bool
	lastID       datatype.StreamID
}

// parseXclaimOpts parses the options after the IDs (from argument j).
func parseXclaimOpts(c *Ctx, j int, o *xclaimOpts) bool {
	intOpt := func(i int, msg string) (int64, bool) {
		v, ok := ParseInt(c.Args[i])
		if !ok {
			c.Error(msg)
		}
		return v, ok
	}
	for ; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := c.Args[j]
		var ok bool
		switch {
		case EqualFold(opt, "force"):
			o.force = true
		case EqualFold(opt, "justid"):
			o.justID = true
		case EqualFold(opt, "idle") && more > 0:
			j++
			var idle int64
			if idle, ok = intOpt(j, errXclaimIdle); !ok {
				return false
			}
			o.deliveryTime = c.Now - idle
		case EqualFold(opt, "time") && more > 0:
			j++
			if o.deliveryTime, ok = intOpt(j, errXclaimTime); !ok {
				return false
			}
		case EqualFold(opt, "retrycount") && more > 0:
			j++
			if o.retryCount, ok = intOpt(j, errXclaimRetry); !ok {
				return false
			}
		case EqualFold(opt, "lastid") && more > 0:
			j++
			if o.lastID, ok = c.streamID(c.Args[j], 0, true); !ok {
				return false
			}
		default:
			c.Error(fmt.Sprintf("ERR Unrecognized XCLAIM option '%s'", opt))
			return false
		}
	}
	return true
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
func cmdXclaim(c *Ctx) {
	s, g, ok := streamGroupLookup(c)
	if !ok {
		return
	}
	if g == nil {
		c.Error(noGroupErr(c.Args[1], c.Args[2], ""))
		return
	}
	o := xclaimOpts{deliveryTime: -1, retryCount: -1}
	if o.minIdle, ok = ParseInt(c.Args[4]); !ok {
		c.Error(errXclaimMinIdle)
		return
	}
	o.minIdle = max(o.minIdle, 0)
	var ids []datatype.StreamID
	j := 5
	for ; j < len(c.Args); j++ {
		id, _, ok := datatype.ParseStreamID(c.Args[j], 0, true, false)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	if !parseXclaimOpts(c, j, &o) {
		return
	}
	propagateLast := false
	if g.LastID.Less(o.lastID) {
		g.LastID, propagateLast = o.lastID, true
	}
	if o.deliveryTime < 0 || o.deliveryTime > c.Now { // not given (-1), or bogus
		o.deliveryTime = c.Now
	}
	sub := resp.Writer{Proto: c.W.Proto}
	n, claimed := xclaimIDs(c, s, g, ids, &o, &sub)
	if propagateLast && !claimed {
		propagateGroupID(c, c.Args[1], g, c.Args[2])
		c.Dirty++
	}
	if c.Props == nil {
		c.Props = [][][]byte{}
	}
	c.W.Array(n)
	c.W.Raw(sub.Buf)
}

// xclaimIDs claims each of ids (arguments from 5 on) that is pending and
// idle long enough, or not pending with FORCE, replying it into sub; a
// pending entry no longer in the stream leaves the PEL. It returns the
// entries claimed and whether any XCLAIM was propagated (it carries the
// group's last ID).
func xclaimIDs(c *Ctx, s *datatype.Stream, g *datatype.StreamGroup, ids []datatype.StreamID, o *xclaimOpts, sub *resp.Writer) (int, bool) {
	key, group := c.Args[1], c.Args[2]
	var cons *datatype.StreamConsumer
	n, propagated := 0, false
	for k, id := range ids {
		idArg := c.Args[5+k]
		nack, pending := g.PEL.Get(id)
		fv, exists := s.Get(id)
		if !exists {
			if pending { // the entry is gone: drop it from the PEL
				propagateXclaim(c, key, g, group, idArg, nack)
				propagated = true
				c.Dirty++
				g.Ack(id)
			}
			continue
		}
		if !pending && !o.force || pending && o.minIdle != 0 && c.Now-nack.DeliveryTime < o.minIdle {
			continue
		}
		if cons == nil {
			cons = xclaimConsumer(c, g)
		}
		nack = g.Claim(id, cons, true)
		nack.DeliveryTime = o.deliveryTime
		if o.retryCount >= 0 {
			nack.DeliveryCount = uint64(o.retryCount)
		} else if !o.justID {
			nack.DeliveryCount++
		}
		if o.justID {
			writeStreamID(sub, id)
		} else {
			writeStreamEntry(sub, id, fv)
		}
		n++
		propagateXclaim(c, key, g, group, idArg, nack)
		propagated = true
		c.Dirty++
	}
	return n, propagated
}

// xclaimConsumer returns the claiming consumer (argument 3), created if
// needed, its seen time refreshed.
func xclaimConsumer(c *Ctx, g *datatype.StreamGroup) *datatype.StreamConsumer {
	if cons := g.Consumer(c.Args[3]); cons != nil {
		cons.SeenTime = c.Now
		return cons
	}
	c.Dirty++
	cons := g.CreateConsumer(c.Args[3], c.Now)
	c.Notify(notify.Stream, "xgroup-createconsumer", c.Args[1])
	return cons
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
func cmdXautoclaim(c *Ctx) {
	minIdle, ok := ParseInt(c.Args[4])
	if !ok {
		c.Error(errXautoMinIdle)
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := c.streamIntervalID(c.Args[5], false)
	if !ok {
		return
	}
	count, justID := int64(100), false
	for j := 6; j < len(c.Args); j++ {
		switch {
		case EqualFold(c.Args[j], "count") && j+1 < len(c.Args):
			v, ok := ParseInt(c.Args[j+1])
			if !ok || v < 1 || v > math.MaxInt64/16 {
				c.Error(errXautoCount)
				return
			}
			count = v
			j++
		case EqualFold(c.Args[j], "justid"):
			justID = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	s, g, ok := streamGroupLookup(c)
	if !ok {
		return
	}
	if g == nil {
		c.Error(noGroupErr(c.Args[1], c.Args[2], ""))
		return
	}
	xautoclaim(c, s, g, start, count, minIdle, justID)
}

func xautoclaim(c *Ctx, s *datatype.Stream, g *datatype.StreamGroup, start datatype.StreamID, count, minIdle int64, justID bool) {
	key, group := c.Args[1], c.Args[2]
	var cons *datatype.StreamConsumer
	var deleted []datatype.StreamID
	sub := resp.Writer{Proto: c.W.Proto}
	n := 0
	attempts := count * xautoclaimAttempts
	i := g.PEL.Seek(start)
	for ; attempts > 0 && count > 0 && i < g.PEL.Len(); attempts-- {
		id, nack := g.PEL.KeyAt(i), g.PEL.ValAt(i)
		fv, exists := s.Get(id)
		if !exists {
			propagateXclaim(c, key, g, group, id.Append(nil), nack)
			c.Dirty++
			g.Ack(id) // i now indexes the next entry
			deleted = append(deleted, id)
			count--
			continue
		}
		i++
		if minIdle != 0 && c.Now-nack.DeliveryTime < minIdle {
			continue
		}
		if cons == nil {
			cons = xclaimConsumer(c, g)
		}
		g.Claim(id, cons, false)
		nack.DeliveryTime = c.Now
		if !justID {
			nack.DeliveryCount++
		}
		if justID {
			writeStreamID(&sub, id)
		} else {
			writeStreamEntry(&sub, id, fv)
		}
		n++
		count--
		propagateXclaim(c, key, g, group, id.Append(nil), nack)
		c.Dirty++
	}
	var next datatype.StreamID
	if i < g.PEL.Len() {
		next = g.PEL.KeyAt(i)
	}
	if c.Props == nil {
		c.Props = [][][]byte{}
	}
	c.W.Array(3)
	writeStreamID(c.W, next)
	c.W.Array(n)
	c.W.Raw(sub.Buf)
	c.W.Array(len(deleted))
	for _, id := range deleted {
		writeStreamID(c.W, id)
	}
}
