package commands

import (
	"fmt"
	"math"
	"strconv"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
	"redgo/internal/resp"
)

// Stream commands: XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID, as
// Redis 7.0's t_stream.c. The consumer-group commands are in
// cmd_stream_group.go, XREAD/XREADGROUP in cmd_stream_read.go and XINFO
// in cmd_stream_info.go.
//
// Propagation follows Redis: XADD with a generated ID is propagated with
// that ID, and approximate trimming (~, which may stop early) as the exact
// trim it turned out to be (MAXLEN = <length> or MINID = <first ID>).

// Error texts of the stream family.
const (
	errStreamID         = "ERR Invalid stream ID specified as stream command argument"
	errXaddZero         = "ERR The ID specified in XADD must be greater than 0-0"
	errXaddSmaller      = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errXaddExhausted    = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errXaddTooLarge     = "ERR Elements are too large to be stored"
	errTrimBoth         = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
	errTrimMaxlenNeg    = "ERR The MAXLEN argument must be >= 0."
	errTrimLimitNeg     = "ERR The LIMIT argument must be >= 0."
	errTrimLimitNoStrat = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	errTrimNoStrategy   = "ERR syntax error, XTRIM must be called with a trimming strategy"
	errTrimLimitNoApprx = "ERR syntax error, LIMIT cannot be used without the special ~ option"
	errStartInterval    = "ERR invalid start ID for the interval"
	errEndInterval      = "ERR invalid end ID for the interval"
	errXsetidEntries    = "ERR entries_added must be positive"
	errXsetidMaxDel     = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
	errXsetidSmaller    = "ERR The ID specified in XSETID is smaller than the target stream top item"
	errXsetidLength     = "ERR The entries_added specified in XSETID is smaller than the target stream length"
)

func init() {
	Register("xadd", cmdXadd)
	Register("xrange", func(c *Ctx) { streamRange(c, false) })
	Register("xrevrange", func(c *Ctx) { streamRange(c, true) })
	Register("xlen", cmdXlen)
	Register("xdel", cmdXdel)
	Register("xtrim", cmdXtrim)
	Register("xsetid", cmdXsetid)
}

// streamLookup returns the stream at key: nil, true when the key is
// missing; false after replying WRONGTYPE.
func streamLookup(c *Ctx, key []byte, write bool) (*datatype.Stream, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.LookupWrite(key)
	} else {
		o = c.DB.Lookup(key)
	}
	if o == nil {
		return nil, true
	}
	if o.Type() != keyspace.TStream {
		c.Error(ErrWrongType)
		return nil, false
	}
	return o.Stream(), true
}

// streamID parses argument b as an ID or replies the error.
func (c *Ctx) streamID(b []byte, missingSeq uint64, strict bool) (datatype.StreamID, bool) {
	id, _, ok := datatype.ParseStreamID(b, missingSeq, strict, false)
	if !ok {
		c.Error(errStreamID)
	}
	return id, ok
}

// streamIntervalID parses a range bound: "(" makes it exclusive (then
// strict), moved to the next (start) or previous (end) ID.
func (c *Ctx) streamIntervalID(b []byte, isEnd bool) (datatype.StreamID, bool) {
	missing := uint64(0)
	if isEnd {
		missing = math.MaxUint64
	}
	if len(b) > 1 && b[0] == '(' {
		id, ok := c.streamID(b[1:], missing, true)
		if !ok {
			return id, false
		}
		var moved bool
		if isEnd {
			id, moved = id.Prev()
		} else {
			id, moved = id.Next()
		}
		if !moved {
			if isEnd {
				c.Error(errEndInterval)
			} else {
				c.Error(errStartInterval)
			}
		}
		return id, moved
	}
	return c.streamID(b, missing, false)
}

// writeStreamID replies an ID as a bulk string.
func writeStreamID(w *resp.Writer, id datatype.StreamID) {
	var buf [48]byte
	w.Bulk(id.Append(buf[:0]))
}

// writeStreamEntry replies [id, [field, value, ...]].
func writeStreamEntry(w *resp.Writer, id datatype.StreamID, fv [][]byte) {
	w.Array(2)
	writeStreamID(w, id)
	w.Array(len(fv))
	for _, x := range fv {
		w.Bulk(x)
	}
}

// streamTrimArgs is what XADD and XTRIM parse (streamAddTrimArgs).
type streamTrimArgs struct {
	datatype.TrimArgs
	strategy   bool // MAXLEN or MINID given
	argIdx     int  // index of the MAXLEN/MINID value
	idPos      int  // XADD: index of the ID
	id         datatype.StreamID
	idGiven    bool
	seqGiven   bool
	noMkStream bool
}

// parseTrimArgs parses XADD's (xadd) or XTRIM's options from argument 2,
// replying the error when they are bad.
func parseTrimArgs(c *Ctx, xadd bool) (streamTrimArgs, bool) {
	var a streamTrimArgs
	limitGiven := false
	i := 2
	for ; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		opt := c.Args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			a.idPos = i
			return a, finishTrimArgs(c, &a, xadd, limitGiven)
		case (EqualFold(opt, "maxlen") || EqualFold(opt, "minid")) && more > 0:
			if a.strategy {
				c.Error(errTrimBoth)
				return a, false
			}
			a.Approx = false
			next := c.Args[i+1]
			if more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.Approx = next[0] == '~'
				i++
			}
			a.ByMinID = EqualFold(opt, "minid")
			if a.ByMinID {
				id, ok := c.streamID(c.Args[i+1], 0, true)
				if !ok {
					return a, false
				}
				a.MinID = id
			} else {
				n, ok := c.IntArg(i + 1)
				if !ok {
					return a, false
				}
				if n < 0 {
					c.Error(errTrimMaxlenNeg)
					return a, false
				}
				a.MaxLen = uint64(n)
			}
			i++
			a.strategy, a.argIdx = true, i
		case EqualFold(opt, "limit") && more > 0:
			n, ok := c.IntArg(i + 1)
			if !ok {
				return a, false
			}
			if n < 0 {
				c.Error(errTrimLimitNeg)
				return a, false
			}
			a.Limit, limitGiven = n, true
			i++
		case xadd && EqualFold(opt, "nomkstream"):
			a.noMkStream = true
		case xadd:
			id, auto, ok := datatype.ParseStreamID(opt, 0, true, true)
			if !ok {
				c.Error(errStreamID)
				return a, false
			}
			a.id, a.idGiven, a.seqGiven, a.idPos = id, true, !auto, i
			return a, finishTrimArgs(c, &a, xadd, limitGiven)
		default:
			c.Error(ErrSyntax)
			return a, false
		}
	}
	a.idPos = i
	return a, finishTrimArgs(c, &a, xadd, limitGiven)
}

func finishTrimArgs(c *Ctx, a *streamTrimArgs, xadd, limitGiven bool) bool {
	if a.Limit != 0 && !a.strategy {
		c.Error(errTrimLimitNoStrat)
		return false
	}
	if !xadd && !a.strategy {
		c.Error(errTrimNoStrategy)
		return false
	}
	if c.Obey {
		// Our master's stream or the AOF: the trim argument was rewritten
		// to what the trim did, so nothing limits it (mustObeyClient).
		a.Limit = 0
	} else if limitGiven {
		if !a.Approx {
			c.Error(errTrimLimitNoApprx)
			return false
		}
	} else if a.Approx {
		a.Limit = int64(100 * c.KS.Limits.Get(datatype.StreamNodeMaxEntries))
		if a.Limit <= 0 {
			a.Limit = 10000
		}
		a.Limit = min(a.Limit, 1000000)
	} else {
		a.Limit = 0
	}
	return true
}

// trimmedArgs returns args with an approximate trim rewritten as the
// exact one it turned out to be (streamRewriteTrimArgument).
func trimmedArgs(args [][]byte, a *streamTrimArgs, s *datatype.Stream) [][]byte {
	out := append([][]byte(nil), args...)
	out[a.argIdx-1] = []byte("=")
	if a.ByMinID {
		first, _ := s.First()
		out[a.argIdx] = first.Append(nil)
	} else {
		out[a.argIdx] = strconv.AppendUint(nil, s.Len(), 10)
	}
	return out
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
func cmdXadd(c *Ctx) {
	a, ok := parseTrimArgs(c, true)
	if !ok {
		return
	}
	fieldPos := a.idPos + 1
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.WrongArgs()
		return
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		c.Error(errXaddZero)
		return
	}
	s, ok := streamLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	if s == nil {
		if a.noMkStream {
			c.W.Null()
			return
		}
		s = datatype.NewStream(c.KS.Limits)
		c.DB.Set(c.Args[1], keyspace.NewStream(s), false)
	}
	if s.LastID == datatype.MaxStreamID {
		c.Error(errXaddExhausted)
		return
	}
	id, ok := xaddID(c, s, &a)
	if !ok {
		return
	}
	fv := c.Args[fieldPos:]
	total := 0
	for _, x := range fv {
		total += len(x)
	}
	if total > 1<<30 {
		c.Error(errXaddTooLarge)
		return
	}
	s.Add(id, fv)
	writeStreamID(c.W, id)
	c.Dirty++
	c.Notify(notify.Stream, "xadd", c.Args[1])
	var prop [][]byte // what is propagated when it is not the command as received
	if a.strategy {
		if s.Trim(a.TrimArgs) > 0 {
			c.Notify(notify.Stream, "xtrim", c.Args[1])
		}
		if a.Approx {
			prop = trimmedArgs(c.Args, &a, s)
		}
	}
	if !a.idGiven || !a.seqGiven {
		if prop == nil {
			prop = append([][]byte(nil), c.Args...)
		}
		prop[a.idPos] = id.Append(nil)
	}
	if prop != nil {
		c.Propagate(prop...)
	}
}

// xaddID is the ID of the new entry (streamAppendItem): generated from the
// clock for "*", the next sequence for "ms-*"; it must exceed the last ID.
func xaddID(c *Ctx, s *datatype.Stream, a *streamTrimArgs) (datatype.StreamID, bool) {
	var id datatype.StreamID
	switch {
	case a.idGiven && a.seqGiven:
		id = a.id
	case a.idGiven:
		if s.LastID.Ms == a.id.Ms {
			if s.LastID.Seq == math.MaxUint64 {
				// Redis fails here without setting errno: its reply is
				// the other message.
				c.Error(errXaddTooLarge)
				return id, false
			}
			id = datatype.StreamID{Ms: a.id.Ms, Seq: s.LastID.Seq + 1}
		} else {
			id = a.id
		}
	default:
		if ms := uint64(c.Now); ms > s.LastID.Ms {
			id = datatype.StreamID{Ms: ms}
		} else {
			id, _ = s.LastID.Next()
		}
	}
	if !s.LastID.Less(id) {
		c.Error(errXaddSmaller)
		return id, false
	}
	return id, true
}

// XRANGE key start end [COUNT count] / XREVRANGE key end start [COUNT count]
func streamRange(c *Ctx, rev bool) {
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.streamIntervalID(startArg, false)
	if !ok {
		return
	}
	end, ok := c.streamIntervalID(endArg, true)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if EqualFold(c.Args[j], "count") && j+1 < len(c.Args) {
			n, ok := c.IntArg(j + 1)
			if !ok {
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		c.Error(ErrSyntax)
		return
	}
	s, ok := streamLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.W.Array(0)
		return
	}
	if count == 0 {
		c.W.NullArray()
		return
	}
	writeStreamRange(c.W, s, start, end, rev, count)
}

// writeStreamRange replies the entries of [start, end], at most count
// of them when count > 0.
func writeStreamRange(w *resp.Writer, s *datatype.Stream, start, end datatype.StreamID, rev bool, count int64) int {
	sub := resp.Writer{Proto: w.Proto}
	n := 0
	s.Range(start, end, rev, func(id datatype.StreamID, fv [][]byte) bool {
		writeStreamEntry(&sub, id, fv)
		n++
		return count <= 0 || int64(n) < count
	})
	w.Array(n)
	w.Raw(sub.Buf)
	return n
}

func cmdXlen(c *Ctx) {
	s, ok := streamLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(s.Len()))
}

// XDEL key id [id ...]
func cmdXdel(c *Ctx) {
	s, ok := streamLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	ids := make([]datatype.StreamID, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		id, ok := c.streamID(a, 0, true)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	deleted := 0
	for _, id := range ids {
		if s.Delete(id) {
			deleted++
		}
	}
	c.Dirty += deleted
	if deleted > 0 {
		c.Notify(notify.Stream, "xdel", c.Args[1])
	}
	c.W.Int(int64(deleted))
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
func cmdXtrim(c *Ctx) {
	a, ok := parseTrimArgs(c, false)
	if !ok {
		return
	}
	s, ok := streamLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	deleted := s.Trim(a.TrimArgs)
	if deleted > 0 {
		c.Dirty += int(deleted)
		c.Notify(notify.Stream, "xtrim", c.Args[1])
		if a.Approx {
			c.Propagate(trimmedArgs(c.Args, &a, s)...)
		}
	}
	c.W.Int(deleted)
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
func cmdXsetid(c *Ctx) {
	id, ok := c.streamID(c.Args[2], 0, true)
	if !ok {
		return
	}
	var maxDel datatype.StreamID
	entriesAdded := int64(-1)
	for i := 3; i < len(c.Args); i += 2 {
		more := len(c.Args) - 1 - i
		switch {
		case EqualFold(c.Args[i], "entriesadded") && more > 0:
			n, ok := c.IntArg(i + 1)
			if !ok {
				return
			}
			if n < 0 {
				c.Error(errXsetidEntries)
				return
			}
			entriesAdded = n
		case EqualFold(c.Args[i], "maxdeletedid") && more > 0:
			if maxDel, ok = c.streamID(c.Args[i+1], 0, true); !ok {
				return
			}
			if id.Less(maxDel) {
				c.Error(errXsetidMaxDel)
				return
			}
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	s, ok := streamLookup(c, c.Args[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if s.Len() > 0 {
		if last, _ := s.Last(); id.Less(last) {
			c.Error(errXsetidSmaller)
			return
		}
		if entriesAdded != -1 && s.Len() > uint64(entriesAdded) {
			c.Error(errXsetidLength)
			return
		}
	}
	s.LastID = id
	if entriesAdded != -1 {
		s.EntriesAdded = uint64(entriesAdded)
	}
	if !maxDel.IsZero() {
		s.MaxDeletedID = maxDel
	}
	c.Dirty++
	c.Notify(notify.Stream, "xsetid", c.Args[1])
	c.W.OK()
}

// noGroupErr is the NOGROUP error of XREADGROUP, XPENDING, XCLAIM...
func noGroupErr(key, group []byte, suffix string) string {
	return fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s'%s", key, group, suffix)
}
