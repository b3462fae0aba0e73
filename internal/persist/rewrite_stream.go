package persist

import (
	"strconv"

	"redgo/internal/aof"
	"redgo/internal/datatype"
)

// appendStreamCommands appends the commands that rebuild a stream, as
// Redis's rewriteStreamObject: an XADD per entry (for an empty stream,
// XADD MAXLEN 0 of a placeholder), XSETID with the last ID, entries added
// and max deleted ID, then per group XGROUP CREATE ... ENTRIESREAD and per
// consumer an XCLAIM ... JUSTID FORCE for each pending entry, or XGROUP
// CREATECONSUMER for a consumer with none.
func appendStreamCommands(b []byte, k []byte, s *datatype.Stream) []byte {
	id := func(x datatype.StreamID) []byte { return x.Append(nil) }
	if s.Len() > 0 {
		s.Range(datatype.StreamID{}, datatype.MaxStreamID, false, func(x datatype.StreamID, fv [][]byte) bool {
			args := make([][]byte, 0, 3+len(fv))
			args = append(args, []byte("XADD"), k, id(x))
			b = aof.AppendCommand(b, append(args, fv...)...)
			return true
		})
	} else {
		b = aof.AppendCommand(b, []byte("XADD"), k, []byte("MAXLEN"), []byte("0"), []byte("0-1"), []byte("x"), []byte("y"))
	}
	b = aof.AppendCommand(b, []byte("XSETID"), k, id(s.LastID),
		[]byte("ENTRIESADDED"), strconv.AppendUint(nil, s.EntriesAdded, 10),
		[]byte("MAXDELETEDID"), id(s.MaxDeletedID))
	for _, g := range s.Groups() {
		name := []byte(g.Name)
		b = aof.AppendCommand(b, []byte("XGROUP"), []byte("CREATE"), k, name, id(g.LastID),
			[]byte("ENTRIESREAD"), strconv.AppendInt(nil, g.EntriesRead, 10))
		for _, c := range g.Consumers() {
			cname := []byte(c.Name)
			if c.PEL.Len() == 0 {
				b = aof.AppendCommand(b, []byte("XGROUP"), []byte("CREATECONSUMER"), k, name, cname)
				continue
			}
			for i := 0; i < c.PEL.Len(); i++ {
				nack := c.PEL.ValAt(i)
				b = aof.AppendCommand(b, []byte("XCLAIM"), k, name, cname, []byte("0"), id(c.PEL.KeyAt(i)),
					[]byte("TIME"), strconv.AppendInt(nil, nack.DeliveryTime, 10),
					[]byte("RETRYCOUNT"), strconv.AppendUint(nil, nack.DeliveryCount, 10),
					[]byte("JUSTID"), []byte("FORCE"))
			}
		}
	}
	return b
}
