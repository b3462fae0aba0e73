package commands

import (
	"fmt"

	"redgo/internal/datatype"
	"redgo/internal/resp"
)

// XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS and HELP, as Redis
// 7.0's xinfoCommand.

func init() {
	Register("xinfo|stream", cmdXinfoStream)
	Register("xinfo|groups", cmdXinfoGroups)
	Register("xinfo|consumers", cmdXinfoConsumers)
	Register("xinfo|help", cmdXinfoHelp)
}

func cmdXinfoHelp(c *Ctx) {
	writeHelp(c, "XINFO", []string{
		"CONSUMERS <key> <groupname>",
		"    Show consumers of <groupname>.",
		"GROUPS <key>",
		"    Show the stream consumer groups.",
		"STREAM <key> [FULL [COUNT <count>]",
		"    Show information about the stream.",
	})
}

// xinfoLookup returns the stream at argument 2 or replies the error.
func xinfoLookup(c *Ctx) *datatype.Stream {
	s, ok := streamLookup(c, c.Args[2], false)
	if ok && s == nil {
		c.Error(ErrNoSuchKey)
	}
	return s
}

// writeLag replies a group's lag, or null when it cannot be known.
func writeLag(w *resp.Writer, s *datatype.Stream, g *datatype.StreamGroup) {
	if lag, ok := s.Lag(g); ok {
		w.Int(lag)
	} else {
		w.Null()
	}
}

func writeEntriesRead(w *resp.Writer, g *datatype.StreamGroup) {
	if g.EntriesRead == datatype.InvalidEntriesRead {
		w.Null()
	} else {
		w.Int(g.EntriesRead)
	}
}

func cmdXinfoConsumers(c *Ctx) {
	s := xinfoLookup(c)
	if s == nil {
		return
	}
	g := s.Group(c.Args[3])
	if g == nil {
		c.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'", c.Args[3], c.Args[2]))
		return
	}
	c.W.Array(len(g.Consumers()))
	for _, cons := range g.Consumers() {
		c.W.Map(3)
		c.W.BulkString("name")
		c.W.BulkString(cons.Name)
		c.W.BulkString("pending")
		c.W.Int(int64(cons.PEL.Len()))
		c.W.BulkString("idle")
		c.W.Int(max(c.Now-cons.SeenTime, 0))
	}
}

func cmdXinfoGroups(c *Ctx) {
	s := xinfoLookup(c)
	if s == nil {
		return
	}
	c.W.Array(len(s.Groups()))
	for _, g := range s.Groups() {
		c.W.Map(6)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("consumers")
		c.W.Int(int64(len(g.Consumers())))
		c.W.BulkString("pending")
		c.W.Int(int64(g.PEL.Len()))
		c.W.BulkString("last-delivered-id")
		writeStreamID(c.W, g.LastID)
		c.W.BulkString("entries-read")
		writeEntriesRead(c.W, g)
		c.W.BulkString("lag")
		writeLag(c.W, s, g)
	}
}

// XINFO STREAM key [FULL [COUNT count]]
func cmdXinfoStream(c *Ctx) {
	full, count := false, int64(10)
	if opts := c.Args[3:]; len(opts) > 0 {
		if len(opts) != 1 && len(opts) != 3 || !EqualFold(opts[0], "full") ||
			len(opts) == 3 && !EqualFold(opts[1], "count") {
			subcommandSyntax(c)
			return
		}
		if len(opts) == 3 {
			n, ok := c.IntArg(5)
			if !ok {
				return
			}
			if count = n; n < 0 {
				count = 10
			}
		}
		full = true
	}
	s := xinfoLookup(c)
	if s == nil {
		return
	}
	if full {
		c.W.Map(9)
	} else {
		c.W.Map(10)
	}
	c.W.BulkString("length")
	c.W.Int(int64(s.Len()))
	c.W.BulkString("radix-tree-keys")
	c.W.Int(int64(s.Blocks()))
	c.W.BulkString("radix-tree-nodes")
	c.W.Int(int64(s.RaxNodes()))
	c.W.BulkString("last-generated-id")
	writeStreamID(c.W, s.LastID)
	c.W.BulkString("max-deleted-entry-id")
	writeStreamID(c.W, s.MaxDeletedID)
	c.W.BulkString("entries-added")
	c.W.Int(int64(s.EntriesAdded))
	c.W.BulkString("recorded-first-entry-id")
	writeStreamID(c.W, s.FirstID)
	if !full {
		c.W.BulkString("groups")
		c.W.Int(int64(len(s.Groups())))
		c.W.BulkString("first-entry")
		xinfoEdge(c.W, s, false)
		c.W.BulkString("last-entry")
		xinfoEdge(c.W, s, true)
		return
	}
	c.W.BulkString("entries")
	writeStreamRange(c.W, s, datatype.StreamID{}, datatype.MaxStreamID, false, count)
	c.W.BulkString("groups")
	c.W.Array(len(s.Groups()))
	for _, g := range s.Groups() {
		xinfoFullGroup(c.W, s, g, count)
	}
}

// xinfoEdge replies the first (or last) entry, or null.
func xinfoEdge(w *resp.Writer, s *datatype.Stream, last bool) {
	found := false
	s.Range(datatype.StreamID{}, datatype.MaxStreamID, last, func(id datatype.StreamID, fv [][]byte) bool {
		writeStreamEntry(w, id, fv)
		found = true
		return false
	})
	if !found {
		w.Null()
	}
}

func xinfoFullGroup(w *resp.Writer, s *datatype.Stream, g *datatype.StreamGroup, count int64) {
	w.Map(7)
	w.BulkString("name")
	w.BulkString(g.Name)
	w.BulkString("last-delivered-id")
	writeStreamID(w, g.LastID)
	w.BulkString("entries-read")
	writeEntriesRead(w, g)
	w.BulkString("lag")
	writeLag(w, s, g)
	w.BulkString("pel-count")
	w.Int(int64(g.PEL.Len()))
	w.BulkString("pending")
	n := g.PEL.Len()
	if count > 0 {
		n = min(n, int(count))
	}
	w.Array(n)
	for i := range n {
		nack := g.PEL.ValAt(i)
		w.Array(4)
		writeStreamID(w, g.PEL.KeyAt(i))
		w.BulkString(nack.Consumer.Name)
		w.Int(nack.DeliveryTime)
		w.Int(int64(nack.DeliveryCount))
	}
	w.BulkString("consumers")
	w.Array(len(g.Consumers()))
	for _, cons := range g.Consumers() {
		w.Map(4)
		w.BulkString("name")
		w.BulkString(cons.Name)
		w.BulkString("seen-time")
		w.Int(cons.SeenTime)
		w.BulkString("pel-count")
		w.Int(int64(cons.PEL.Len()))
		w.BulkString("pending")
		m := cons.PEL.Len()
		if count > 0 {
			m = min(m, int(count))
		}
		w.Array(m)
		for i := range m {
			nack := cons.PEL.ValAt(i)
			w.Array(3)
			writeStreamID(w, cons.PEL.KeyAt(i))
			w.Int(nack.DeliveryTime)
			w.Int(int64(nack.DeliveryCount))
		}
	}
}
