package datatype

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

func sid(ms, seq uint64) StreamID { return StreamID{ms, seq} }

func fvs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

// collect returns "id f v ...;" for the entries of [start, end].
func streamCollect(s *Stream, start, end StreamID, rev bool) string {
	out := ""
	s.Range(start, end, rev, func(id StreamID, fv [][]byte) bool {
		out += id.String()
		for _, x := range fv {
			out += " " + string(x)
		}
		out += ";"
		return true
	})
	return out
}

func TestStreamBasics(t *testing.T) {
	s := NewStream(nil)
	s.Add(sid(1, 0), fvs("a", "1", "b", "2"))
	s.Add(sid(1, 1), fvs("a", "3", "b", "4"))
	s.Add(sid(2, 0), fvs("c", "5"))
	if got := streamCollect(s, sid(0, 0), MaxStreamID, false); got != "1-0 a 1 b 2;1-1 a 3 b 4;2-0 c 5;" {
		t.Fatal(got)
	}
	if got := streamCollect(s, sid(1, 1), MaxStreamID, true); got != "2-0 c 5;1-1 a 3 b 4;" {
		t.Fatal(got)
	}
	if !s.Delete(sid(1, 0)) || s.Delete(sid(1, 0)) || s.Delete(sid(9, 9)) {
		t.Fatal("delete")
	}
	if s.Len() != 2 || s.FirstID != sid(1, 1) || s.MaxDeletedID != sid(1, 0) || s.EntriesAdded != 3 {
		t.Fatalf("after delete: %d %v %v", s.Len(), s.FirstID, s.MaxDeletedID)
	}
	if fv, ok := s.Get(sid(2, 0)); !ok || string(fv[1]) != "5" {
		t.Fatal("get")
	}
	c := s.Clone()
	s.Delete(sid(2, 0))
	if c.Len() != 2 || streamCollect(c, sid(0, 0), MaxStreamID, false) != "1-1 a 3 b 4;2-0 c 5;" {
		t.Fatal("clone shares storage")
	}
}

// TestStreamListpackSize: a block's Redis listpack size follows Redis's
// element encodings (the numbers are lpBytes of redis-server's nodes).
func TestStreamListpackSize(t *testing.T) {
	s := NewStream(nil)
	s.Add(sid(1, 0), fvs("field", "value"))
	// header 6 + count 2 + deleted 2 + nfields 2 + "field" 7 + 0 2 +
	// entry: flags 2, ms 2, seq 2, "value" 7, lp-count 2 + end 1
	if got := s.blocks[0].lpBytes(); got != 37 {
		t.Fatalf("lpBytes %d, want 37", got)
	}
	s.Add(sid(1, 1), fvs("other", "12345"))
	// flags 2 ms 2 seq 2 nfields 2 "other" 7 12345 (int16) 4 lp-count 2
	if got := s.blocks[0].lpBytes(); got != 37+21 {
		t.Fatalf("lpBytes %d, want 58", got)
	}
}

func TestStreamBlocksSplit(t *testing.T) {
	s := NewStream(nil)
	for i := range 250 {
		s.Add(sid(uint64(i+1), 0), fvs("f", "v"))
	}
	if s.Blocks() != 3 {
		t.Fatalf("%d blocks for 250 small entries, want 3", s.Blocks())
	}
	big := make([]byte, 1000)
	s2 := NewStream(nil)
	for i := range 10 {
		s2.Add(sid(uint64(i+1), 0), [][]byte{[]byte("f"), big})
	}
	if s2.Blocks() != 3 { // a fifth entry of ~1 KiB would reach 4096 bytes
		t.Fatalf("%d blocks, want 3", s2.Blocks())
	}
}

func TestStreamTrim(t *testing.T) {
	s := NewStream(nil)
	for i := range 250 {
		s.Add(sid(uint64(i+1), 0), fvs("f", "v"))
	}
	if n := s.Trim(TrimArgs{MaxLen: 120, Approx: true}); n != 100 || s.Len() != 150 {
		t.Fatalf("approx maxlen: %d deleted, len %d", n, s.Len())
	}
	if n := s.Trim(TrimArgs{MaxLen: 120}); n != 30 || s.Len() != 120 || s.FirstID != sid(131, 0) {
		t.Fatalf("exact maxlen: %d deleted, len %d first %v", n, s.Len(), s.FirstID)
	}
	if n := s.Trim(TrimArgs{ByMinID: true, MinID: sid(200, 0)}); n != 69 || s.FirstID != sid(200, 0) {
		t.Fatalf("minid: %d deleted, first %v", n, s.FirstID)
	}
	// The block of 101-200 holds only 200 now: within the limit.
	if n := s.Trim(TrimArgs{MaxLen: 0, Approx: true, Limit: 10}); n != 1 {
		t.Fatalf("limit: %d deleted", n)
	}
	if n := s.Trim(TrimArgs{MaxLen: 0, Approx: true, Limit: 10}); n != 0 {
		t.Fatalf("limit: %d deleted", n)
	}
	if n := s.Trim(TrimArgs{MaxLen: 0}); n != 50 || s.Len() != 0 || !s.FirstID.IsZero() {
		t.Fatalf("trim all: %d, len %d", n, s.Len())
	}
}

func TestStreamGroups(t *testing.T) {
	s := NewStream(nil)
	for i := range 5 {
		s.Add(sid(uint64(i+1), 0), fvs("f", "v"))
	}
	g := s.CreateGroup([]byte("g"), StreamID{}, 0)
	if s.CreateGroup([]byte("g"), StreamID{}, 0) != nil || s.Group([]byte("g")) != g {
		t.Fatal("create group")
	}
	c1 := g.CreateConsumer([]byte("c1"), 10)
	c2 := g.CreateConsumer([]byte("c2"), 10)
	for i := range 3 {
		id := sid(uint64(i+1), 0)
		g.Read(s, id)
		g.Deliver(id, c1, 20)
	}
	if lag, ok := s.Lag(g); !ok || lag != 2 || g.EntriesRead != 3 {
		t.Fatalf("lag %d %v read %d", lag, ok, g.EntriesRead)
	}
	if n := g.Claim(sid(2, 0), c2, false); n == nil || c1.PEL.Len() != 2 || c2.PEL.Len() != 1 {
		t.Fatal("claim")
	}
	if !g.Ack(sid(1, 0)) || g.Ack(sid(1, 0)) || g.PEL.Len() != 2 || c1.PEL.Len() != 1 {
		t.Fatal("ack")
	}
	cl := s.Clone()
	if g.DeleteConsumer([]byte("c2")) != 1 || g.PEL.Len() != 1 {
		t.Fatal("delete consumer")
	}
	if cg := cl.Group([]byte("g")); cg.PEL.Len() != 2 || cg.Consumer([]byte("c2")).PEL.Len() != 1 {
		t.Fatal("clone of groups")
	}
	// A deletion ahead of the group makes its counter unknowable.
	s.Delete(sid(4, 0))
	if _, ok := s.Lag(g); ok {
		t.Fatal("lag known with a tombstone ahead")
	}
}

// model is the naive stream: a sorted slice of entries.
type modelEntry struct {
	id StreamID
	fv []string
}

// TestStreamModel runs random adds, deletes, trims and ranges against
// the stream and a sorted slice and compares them.
func TestStreamModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for round := range 20 {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		lim := NewLimits()
		lim.Set("stream-node-max-entries", int64(1+rng.IntN(12)))
		lim.Set("stream-node-max-bytes", int64(30+rng.IntN(300)))
		if err := runStreamModel(rng, lim); err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
	}
}

func runStreamModel(rng *rand.Rand, lim *Limits) error {
	s := NewStream(lim)
	var m []modelEntry
	next := sid(1, 0)
	fields := []string{"a", "b", "c", "123", "-5", ""}
	randID := func() StreamID {
		return sid(uint64(rng.IntN(int(next.Ms)+2)), uint64(rng.IntN(3)))
	}
	for op := range 2000 {
		switch r := rng.IntN(10); {
		case r < 5:
			var fv []string
			for range 1 + rng.IntN(3) {
				fv = append(fv, fields[rng.IntN(len(fields))], strconv.Itoa(rng.IntN(100000))+"x"[:rng.IntN(2)])
			}
			s.Add(next, fvs(fv...))
			m = append(m, modelEntry{next, fv})
			if rng.IntN(3) == 0 {
				next = sid(next.Ms, next.Seq+1)
			} else {
				next = sid(next.Ms+uint64(1+rng.IntN(3)), 0)
			}
		case r < 7:
			id := randID()
			i := slices.IndexFunc(m, func(e modelEntry) bool { return e.id == id })
			if s.Delete(id) != (i >= 0) {
				return fmt.Errorf("op %d: delete %v", op, id)
			}
			if i >= 0 {
				m = slices.Delete(m, i, i+1)
			}
		case r < 8:
			a := TrimArgs{Approx: rng.IntN(2) == 0, ByMinID: rng.IntN(2) == 0}
			a.MaxLen = uint64(rng.IntN(len(m) + 2))
			a.MinID = randID()
			if a.Approx && rng.IntN(2) == 0 {
				a.Limit = int64(rng.IntN(20))
			}
			n := s.Trim(a)
			want := 0
			for want < len(m) && (a.ByMinID && m[want].id.Less(a.MinID) || !a.ByMinID && len(m)-want > int(a.MaxLen)) {
				want++
			}
			if !a.Approx && a.Limit == 0 && int(n) != want || int(n) > want || n < 0 {
				return fmt.Errorf("op %d: trim %+v deleted %d, model %d", op, a, n, want)
			}
			m = m[n:]
		default:
			lo, hi := randID(), randID()
			rev := rng.IntN(2) == 0
			got := streamCollect(s, lo, hi, rev)
			want := ""
			for k := range m {
				e := m[k]
				if rev {
					e = m[len(m)-1-k]
				}
				if e.id.Less(lo) || hi.Less(e.id) {
					continue
				}
				want += e.id.String()
				for _, x := range e.fv {
					want += " " + x
				}
				want += ";"
			}
			if got != want {
				return fmt.Errorf("op %d: range %v %v rev=%v:\n got  %s\n want %s", op, lo, hi, rev, got, want)
			}
		}
		if s.Len() != uint64(len(m)) {
			return fmt.Errorf("op %d: len %d, model %d", op, s.Len(), len(m))
		}
		first := StreamID{}
		if len(m) > 0 {
			first = m[0].id
		}
		if s.FirstID != first {
			return fmt.Errorf("op %d: first %v, model %v", op, s.FirstID, first)
		}
		if err := s.checkBlocks(); err != nil {
			return fmt.Errorf("op %d: %v", op, err)
		}
	}
	return nil
}

// checkBlocks verifies the blocks' counters against their contents.
func (s *Stream) checkBlocks() error {
	total := uint64(0)
	for i, b := range s.blocks {
		live, dead := 0, 0
		var last StreamID
		for off := b.hdr; off < len(b.data); {
			e := b.decode(off, nil)
			if e.flags&entryDeleted != 0 {
				dead++
			} else {
				live++
			}
			last, off = e.id, e.next
		}
		if live != b.live || dead != b.dead || live == 0 || last != b.last {
			return fmt.Errorf("block %d: live %d/%d dead %d/%d last %v/%v", i, live, b.live, dead, b.dead, last, b.last)
		}
		if i > 0 && !s.blocks[i-1].last.Less(b.master) {
			return fmt.Errorf("block %d overlaps the previous one", i)
		}
		total += uint64(live)
	}
	if total != s.length {
		return fmt.Errorf("blocks hold %d entries, length %d", total, s.length)
	}
	return nil
}

func TestParseStreamID(t *testing.T) {
	cases := []struct {
		in             string
		strict, auto   bool
		want           string
		wantAuto, okay bool
	}{
		{"1-2", false, false, "1-2", false, true},
		{"5", false, false, "5-7", false, true},
		{"-", false, false, "0-0", false, true},
		{"+", false, false, "18446744073709551615-18446744073709551615", false, true},
		{"-", true, false, "", false, false},
		{"1-*", false, true, "1-0", true, true},
		{"1-*", false, false, "", false, false},
		{"*", false, true, "", false, false},
		{"18446744073709551615-18446744073709551615", true, false, "18446744073709551615-18446744073709551615", false, true},
		{"18446744073709551616", false, false, "", false, false},
		{"-1", false, false, "", false, false},
		{"007-+3", false, false, "7-3", false, true},
		{" 7", false, false, "7-7", false, true},
		{"1-2-3", false, false, "", false, false},
		{"", false, false, "", false, false},
		{"1-", false, false, "", false, false},
		{"abc", false, false, "", false, false},
	}
	for _, c := range cases {
		id, auto, ok := ParseStreamID([]byte(c.in), 7, c.strict, c.auto)
		if ok != c.okay || ok && (id.String() != c.want || auto != c.wantAuto) {
			t.Errorf("%q: %v %v %v", c.in, id, auto, ok)
		}
	}
}

// FuzzParseStreamID: the parser never panics, what it accepts prints
// back to an ID it reads the same, canonical IDs read as strconv reads
// them, and only digits, blanks, signs and '*' can be accepted.
func FuzzParseStreamID(f *testing.F) {
	for _, s := range []string{"0-0", "1-1", "+", "-", "1-*", "18446744073709551615-1", "007", " -05", "1-2-3", "\x001"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, auto, ok := ParseStreamID(b, 3, false, true)
		if !ok {
			if ms, seq, found := cutByte(b, '-'); found {
				x, err1 := strconv.ParseUint(string(ms), 10, 64)
				y, err2 := strconv.ParseUint(string(seq), 10, 64)
				if err1 == nil && err2 == nil && (len(ms) == 1 || ms[0] != '0') && (len(seq) == 1 || seq[0] != '0') && len(b) < 128 {
					t.Fatalf("%q refused (%d-%d)", b, x, y)
				}
			}
			return
		}
		if !auto {
			back, _, ok2 := ParseStreamID([]byte(id.String()), 0, true, false)
			if !ok2 || back != id {
				t.Fatalf("%q -> %v -> %v %v", b, id, back, ok2)
			}
		}
		for _, ch := range b {
			if ch == 0 {
				break
			}
			if !(ch >= '0' && ch <= '9' || ch == '-' || ch == '+' || ch == '*' || ch == ' ' || ch >= '\t' && ch <= '\r') {
				t.Fatalf("%q accepted with %q", b, ch)
			}
		}
	})
}
