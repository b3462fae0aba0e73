package commands

import (
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/resp"
)

// XREAD and XREADGROUP, as Redis 7.0's xreadCommand, and their blocking
// form. A blocked client is served the way BLPOP's is: when a write lands
// on one of its keys, its command runs again on its behalf (Serving). So
// that "$" keeps meaning "the last ID when the client blocked", the
// command is parked with each "$" replaced by that ID; ">" is resolved
// against the group at each run, as Redis resolves it when it serves.

const (
	errXreadUnbalanced = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
	errXreadGroupOpt   = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
	errXreadNoack      = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
	errXreadNoGroup    = "ERR Missing GROUP option for XREADGROUP"
	errXreadDollar     = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
	errXreadGt         = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
	errXreadGroupGone  = "NOGROUP the consumer group this client was blocked on no longer exists"
	errXreadKeyGone    = "UNBLOCKED the stream key no longer exists"
	errTimeoutNotInt   = "ERR timeout is not an integer or out of range"
	errTimeoutRange    = "ERR timeout is out of range"

	// xreadBlockedCount is the COUNT of a blocked read served without one.
	xreadBlockedCount = 1000
)

func init() {
	Register("xread", func(c *Ctx) { streamRead(c, false) }, KeysFunc(xreadKeys))
	Register("xreadgroup", func(c *Ctx) { streamRead(c, true) }, KeysFunc(xreadKeys), WakesOnDelete())
}

// xreadKeys finds the keys after STREAMS (xreadGetKeys).
func xreadKeys(args [][]byte) []int {
	pos := -1
	for i := 1; i < len(args) && pos < 0; i++ {
		switch {
		case EqualFold(args[i], "block"), EqualFold(args[i], "count"):
			i++
		case EqualFold(args[i], "group"):
			i += 2
		case EqualFold(args[i], "noack"):
		case EqualFold(args[i], "streams"):
			pos = i
		default:
			return nil
		}
	}
	if pos < 0 {
		return nil
	}
	n := len(args) - pos - 1
	if n == 0 || n%2 != 0 {
		return nil
	}
	out := make([]int, 0, n/2)
	for i := pos + 1; i <= pos+n/2; i++ {
		out = append(out, i)
	}
	return out
}

// xreadArgs is a parsed XREAD/XREADGROUP.
type xreadArgs struct {
	deadline  int64 // -1: no BLOCK; 0: forever
	count     int64
	streams   int // index of the first key
	n         int // number of keys
	group     []byte
	consumer  []byte
	noack     bool
	ids       []datatype.StreamID
	groups    []*datatype.StreamGroup
	maxMarker bool
}

func parseXread(c *Ctx, isGroup bool) (*xreadArgs, bool) {
	a := &xreadArgs{deadline: -1}
	for i := 1; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		o := c.Args[i]
		switch {
		case EqualFold(o, "block") && more > 0:
			if c.Script {
				// No sense blocking inside a script: refused, as Redis.
				c.Error("ERR " + string(c.Args[0]) + " command is not allowed with BLOCK option from scripts")
				return nil, false
			}
			i++
			d, ok := xreadTimeout(c, c.Args[i])
			if !ok {
				return nil, false
			}
			a.deadline = d
		case EqualFold(o, "count") && more > 0:
			i++
			n, ok := c.IntArg(i)
			if !ok {
				return nil, false
			}
			a.count = max(n, 0)
		case EqualFold(o, "streams") && more > 0:
			a.streams = i + 1
			n := len(c.Args) - a.streams
			if n%2 != 0 {
				c.Error(errXreadUnbalanced)
				return nil, false
			}
			a.n = n / 2
			i = len(c.Args)
		case EqualFold(o, "group") && more >= 2:
			if !isGroup {
				c.Error(errXreadGroupOpt)
				return nil, false
			}
			a.group, a.consumer = c.Args[i+1], c.Args[i+2]
			i += 2
		case EqualFold(o, "noack"):
			if !isGroup {
				c.Error(errXreadNoack)
				return nil, false
			}
			a.noack = true
		default:
			c.Error(ErrSyntax)
			return nil, false
		}
	}
	if a.streams == 0 {
		c.Error(ErrSyntax)
		return nil, false
	}
	if isGroup && a.group == nil {
		c.Error(errXreadNoGroup)
		return nil, false
	}
	return a, resolveXreadIDs(c, a)
}

// xreadTimeout parses BLOCK's milliseconds into a deadline (0: forever).
func xreadTimeout(c *Ctx, b []byte) (int64, bool) {
	ms, ok := ParseInt(b)
	if !ok {
		c.Error(errTimeoutNotInt)
		return 0, false
	}
	if ms < 0 {
		c.Error(ErrTimeoutNeg)
		return 0, false
	}
	if ms == 0 {
		return 0, true
	}
	if ms > (1<<63-1)-c.Now {
		c.Error(errTimeoutRange)
		return 0, false
	}
	return c.Now + ms, true
}

// resolveXreadIDs checks each key's type and group and parses its ID:
// "$" is the stream's last ID, ">" the largest ID (meaning "new entries
// for the group").
func resolveXreadIDs(c *Ctx, a *xreadArgs) bool {
	a.ids = make([]datatype.StreamID, a.n)
	if a.group != nil {
		a.groups = make([]*datatype.StreamGroup, a.n)
	}
	for k := range a.n {
		key, arg := c.Args[a.streams+k], c.Args[a.streams+a.n+k]
		s, ok := streamLookup(c, key, false)
		if !ok {
			return false
		}
		if a.group != nil {
			var g *datatype.StreamGroup
			if s != nil {
				g = s.Group(a.group)
			}
			if g == nil {
				if c.Serving {
					c.Error(errXreadGroupGone)
				} else {
					c.Error(noGroupErr(key, a.group, " in XREADGROUP with GROUP option"))
				}
				return false
			}
			a.groups[k] = g
		}
		switch string(arg) {
		case "$":
			if a.group != nil {
				c.Error(errXreadDollar)
				return false
			}
			if s != nil {
				a.ids[k] = s.LastID
			}
			continue
		case ">":
			if a.group == nil {
				c.Error(errXreadGt)
				return false
			}
			a.ids[k] = datatype.MaxStreamID
			continue
		}
		id, ok := c.streamID(arg, 0, true)
		if !ok {
			return false
		}
		a.ids[k] = id
	}
	return true
}

// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
func streamRead(c *Ctx, isGroup bool) {
	if c.Serving {
		// A blocked read is served from a write. A key that is no longer
		// a stream leaves XREAD waiting, as Redis serves streams only;
		// XREADGROUP fails, as its group went with the key.
		for _, p := range xreadKeys(c.Args) {
			o := c.DB.Lookup(c.Args[p])
			switch {
			case o != nil && o.Type() == keyspace.TStream:
			case isGroup:
				c.Error(errXreadKeyGone)
				return
			case o != nil:
				c.Block(nil, 0, false)
				return
			}
		}
	}
	a, ok := parseXread(c, isGroup)
	if !ok {
		return
	}
	if c.Serving && a.count == 0 {
		a.count = xreadBlockedCount
	}
	sub := resp.Writer{Proto: c.W.Proto}
	served := 0
	for k := range a.n {
		if xreadServeKey(c, a, k, &sub) {
			served++
			if c.Serving {
				break // a blocked client is served from one key, as Redis serves it
			}
		}
	}
	if isGroup && c.Props == nil && c.Dirty > 0 {
		c.Props = [][][]byte{} // the effects were propagated as XCLAIM/XGROUP, or there were none
	}
	if served > 0 {
		if c.W.Resp3() {
			c.W.Map(served)
		} else {
			c.W.Array(served)
		}
		c.W.Raw(sub.Buf)
		return
	}
	if a.deadline == -1 || c.NoBlock && !c.Serving {
		c.W.NullArray()
		return
	}
	xreadBlock(c, a)
}

// xreadBlock parks the client with "$" replaced by the IDs it stands for.
func xreadBlock(c *Ctx, a *xreadArgs) {
	if !c.Serving {
		args := append([][]byte(nil), c.Args...)
		for k := range a.n {
			if i := a.streams + a.n + k; string(args[i]) == "$" {
				args[i] = a.ids[k].Append(nil)
			}
		}
		c.Args = args
	}
	c.Block(c.Args[a.streams:a.streams+a.n], a.deadline, false)
}

// xreadServeKey replies key k's entries into sub when there is something
// to serve (or a history to read), reporting whether it did.
func xreadServeKey(c *Ctx, a *xreadArgs, k int, sub *resp.Writer) bool {
	key := c.Args[a.streams+k]
	s, _ := streamLookup(c, key, false)
	if s == nil {
		return false
	}
	gt := a.ids[k]
	history := false
	if a.group != nil {
		g := a.groups[k]
		switch last, ok := s.Last(); {
		case gt != datatype.MaxStreamID:
			history = true
		case ok && g.LastID.Less(last):
			gt = g.LastID
		default:
			return false
		}
	} else if last, ok := s.Last(); !ok || !gt.Less(last) {
		return false
	}
	start, _ := gt.Next()
	if !sub.Resp3() {
		sub.Array(2)
	}
	sub.Bulk(key)
	if a.group == nil {
		writeStreamRange(sub, s, start, datatype.MaxStreamID, false, a.count)
		return true
	}
	g := a.groups[k]
	cons := g.Consumer(a.consumer)
	if cons == nil {
		cons = g.CreateConsumer(a.consumer, c.Now)
		c.Dirty++
		c.Notify(notify.Stream, "xgroup-createconsumer", key)
		if a.noack {
			c.Propagate([]byte("XGROUP"), []byte("CREATECONSUMER"), key, a.group, a.consumer)
		}
	} else {
		cons.SeenTime = c.Now
	}
	if history {
		xreadHistory(c, s, cons, start, a.count, sub)
	} else {
		xreadNew(c, s, g, cons, key, a, start, sub)
	}
	c.Dirty++
	return true
}

// xreadNew delivers the entries from start to the group's consumer
// (streamReplyWithRange with a group): each one moves the group's last
// ID on and, unless NOACK, goes to the PEL and is propagated as XCLAIM.
func xreadNew(c *Ctx, s *datatype.Stream, g *datatype.StreamGroup, cons *datatype.StreamConsumer,
	key []byte, a *xreadArgs, start datatype.StreamID, sub *resp.Writer) {
	ents := resp.Writer{Proto: sub.Proto}
	n := 0
	moved := false
	s.Range(start, datatype.MaxStreamID, false, func(id datatype.StreamID, fv [][]byte) bool {
		if g.LastID.Less(id) {
			g.Read(s, id)
			moved = true
		}
		writeStreamEntry(&ents, id, fv)
		if !a.noack {
			g.Deliver(id, cons, c.Now)
			nack, _ := g.PEL.Get(id)
			propagateXclaim(c, key, g, a.group, id.Append(nil), nack)
		}
		n++
		return a.count == 0 || int64(n) < a.count
	})
	sub.Array(n)
	sub.Raw(ents.Buf)
	if a.noack && moved {
		propagateGroupID(c, key, g, a.group)
	}
}

// xreadHistory replies the consumer's pending entries from start
// (streamReplyWithRangeFromConsumerPEL): an entry deleted since is
// [id, nil]; each one served counts as one more delivery.
func xreadHistory(c *Ctx, s *datatype.Stream, cons *datatype.StreamConsumer, start datatype.StreamID, count int64, sub *resp.Writer) {
	ents := resp.Writer{Proto: sub.Proto}
	n := 0
	for i := cons.PEL.Seek(start); i < cons.PEL.Len() && (count == 0 || int64(n) < count); i++ {
		id, nack := cons.PEL.KeyAt(i), cons.PEL.ValAt(i)
		if fv, ok := s.Get(id); ok {
			writeStreamEntry(&ents, id, fv)
			nack.DeliveryTime = c.Now
			nack.DeliveryCount++
		} else {
			ents.Array(2)
			writeStreamID(&ents, id)
			ents.NullArray()
		}
		n++
	}
	sub.Array(n)
	sub.Raw(ents.Buf)
}

// Constant words of the propagated forms (never written to).
var (
	wXclaim, wZero, wTime, wRetry = []byte("XCLAIM"), []byte("0"), []byte("TIME"), []byte("RETRYCOUNT")
	wForce, wJustID, wLastID      = []byte("FORCE"), []byte("JUSTID"), []byte("LASTID")
)

// propagateXclaim records the XCLAIM that recreates a PEL entry on a
// replica or from the AOF (streamPropagateXCLAIM). Its variable words
// share one buffer: XREADGROUP records one per entry delivered.
func propagateXclaim(c *Ctx, key []byte, g *datatype.StreamGroup, group, id []byte, nack *datatype.StreamNACK) {
	buf := make([]byte, 0, len(key)+len(group)+len(nack.Consumer.Name)+len(id)+90)
	word := func(start int) []byte { return buf[start:len(buf):len(buf)] }
	n := len(buf)
	buf = append(buf, key...)
	k := word(n)
	n = len(buf)
	buf = append(buf, group...)
	gr := word(n)
	n = len(buf)
	buf = append(buf, nack.Consumer.Name...)
	cons := word(n)
	n = len(buf)
	buf = append(buf, id...)
	idw := word(n)
	n = len(buf)
	buf = strconv.AppendInt(buf, nack.DeliveryTime, 10)
	at := word(n)
	n = len(buf)
	buf = strconv.AppendUint(buf, nack.DeliveryCount, 10)
	count := word(n)
	n = len(buf)
	buf = g.LastID.Append(buf)
	last := word(n)
	c.PropagateOwned(wXclaim, k, gr, cons, wZero, idw, wTime, at, wRetry, count, wForce, wJustID, wLastID, last)
}

// propagateGroupID records XGROUP SETID with the group's last ID and
// entries-read counter (streamPropagateGroupID).
func propagateGroupID(c *Ctx, key []byte, g *datatype.StreamGroup, group []byte) {
	c.Propagate([]byte("XGROUP"), []byte("SETID"), key, group, g.LastID.Append(nil),
		[]byte("ENTRIESREAD"), strconv.AppendInt(nil, g.EntriesRead, 10))
}
