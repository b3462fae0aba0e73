package rdb

import (
	"bytes"
	"testing"

	"redgo/internal/datatype"
)

// FuzzStreamListpack: any bytes given as a stream node either fail to
// parse or give a block that, loaded into a stream and written back,
// parses to the same entries (the listpack codec round-trips).
func FuzzStreamListpack(f *testing.F) {
	sampleStream(40).ForEachBlock(func(b *datatype.StreamBlock) bool {
		f.Add(streamListpack(b))
		return true
	})
	f.Fuzz(func(t *testing.T, lp []byte) {
		master := datatype.StreamID{Ms: 1000, Seq: 5}
		blk, err := parseStreamListpack(lp, master)
		if err != nil {
			return
		}
		s := datatype.NewStream(nil)
		if s.LoadBlock(blk) != nil {
			return // entries out of order
		}
		var again *datatype.StreamBlock
		s.ForEachBlock(func(b *datatype.StreamBlock) bool {
			out := streamListpack(b)
			var err error
			if again, err = parseStreamListpack(out, master); err != nil {
				t.Fatalf("our listpack does not parse: %v", err)
			}
			return false
		})
		if blk.Live == 0 {
			if again != nil {
				t.Fatal("a block with no live entry was kept")
			}
			return
		}
		if again == nil || len(again.Entries) != len(blk.Entries) {
			t.Fatalf("entries lost: %+v", again)
		}
		for i, e := range blk.Entries {
			g := again.Entries[i]
			if g.ID != e.ID || g.Deleted != e.Deleted || !bytes.Equal(bytes.Join(g.FV, []byte{0}), bytes.Join(e.FV, []byte{0})) || len(g.FV) != len(e.FV) {
				t.Fatalf("entry %d: %+v, want %+v", i, g, e)
			}
		}
	})
}
