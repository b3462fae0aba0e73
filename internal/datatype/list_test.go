package datatype

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

func TestListEntryEncoding(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 128, 129, 16380, 16381, 16382, 16383, 16384, 1 << 21} {
		v := bytes.Repeat([]byte{'x'}, n)
		b := make([]byte, entrySize(n)+2)
		putEntry(b[1:len(b)-1], v)
		got, next := entryAt(b, 1)
		if !bytes.Equal(got, v) || next != len(b)-1 {
			t.Fatalf("len %d: decoded %d bytes, next %d of %d", n, len(got), next, len(b))
		}
		if p := entryBefore(b, len(b)-1); p != 1 {
			t.Fatalf("len %d: entryBefore = %d, want 1", n, p)
		}
	}
}

func TestListBasics(t *testing.T) {
	l := NewList(nil)
	if l.PopFront() != nil || l.PopBack() != nil || l.Len() != 0 {
		t.Fatal("empty list not empty")
	}
	l.PushBack([]byte("b"))
	l.PushFront([]byte("a"))
	l.PushBack([]byte("c"))
	if got := collect(l.All()); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("All = %v", got)
	}
	if got := collect(l.Backward()); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("Backward = %v", got)
	}
	if string(l.Index(1)) != "b" || l.Encoding() != "quicklist" {
		t.Fatal("Index/Encoding")
	}
	l.Set(1, []byte("longer value"))
	if !l.InsertPivot([]byte("c"), []byte("x"), true) || l.InsertPivot([]byte("nope"), nil, false) {
		t.Fatal("InsertPivot")
	}
	if got := collect(l.All()); !slices.Equal(got, []string{"a", "longer value", "c", "x"}) {
		t.Fatalf("All = %v", got)
	}
	if string(l.PopBack()) != "x" || string(l.PopFront()) != "a" || l.Len() != 2 {
		t.Fatal("pops")
	}
}

func collect(seq func(func([]byte) bool)) []string {
	var out []string
	for v := range seq {
		out = append(out, string(v))
	}
	return out
}

// TestListModel runs random operations against a slice model, under node
// limits small and large, with values small and large.
func TestListModel(t *testing.T) {
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("REDGO_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	for _, fill := range []int{-2, -1, 1, 2, 5, 128} {
		for round := 0; round < 6; round++ {
			runModel(t, rng, fill, 400)
		}
	}
}

func randValue(rng *rand.Rand) []byte {
	var n int
	switch rng.Intn(10) {
	case 0:
		n = 100 + rng.Intn(300)
	case 1:
		if rng.Intn(10) == 0 {
			n = 5000 + rng.Intn(12000)
		}
	default:
		n = rng.Intn(4)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte('a' + rng.Intn(3))
	}
	return v
}

func runModel(t *testing.T, rng *rand.Rand, fill, steps int) {
	t.Helper()
	lim := NewLimits()
	lim.Set("list-max-listpack-size", int64(fill))
	l := NewList(lim)
	var m [][]byte
	for step := 0; step < steps; step++ {
		op := rng.Intn(15)
		what := ""
		switch op {
		case 0, 1:
			v := randValue(rng)
			l.PushFront(v)
			m = append([][]byte{v}, m...)
			what = "pushfront"
		case 2, 3:
			v := randValue(rng)
			l.PushBack(v)
			m = append(m, v)
			what = "pushback"
		case 4:
			got := l.PopFront()
			if len(m) == 0 {
				if got != nil {
					t.Fatalf("fill %d: PopFront of empty = %q", fill, got)
				}
				break
			}
			if !bytes.Equal(got, m[0]) {
				t.Fatalf("fill %d step %d: PopFront = %q, want %q", fill, step, got, m[0])
			}
			m = m[1:]
			what = "popfront"
		case 5:
			got := l.PopBack()
			if len(m) == 0 {
				break
			}
			if !bytes.Equal(got, m[len(m)-1]) {
				t.Fatalf("fill %d step %d: PopBack = %q, want %q", fill, step, got, m[len(m)-1])
			}
			m = m[:len(m)-1]
			what = "popback"
		case 6:
			if len(m) == 0 {
				break
			}
			i := rng.Intn(len(m))
			v := randValue(rng)
			l.Set(i, v)
			m[i] = v
			what = fmt.Sprintf("set %d %d", i, len(v))
		case 7:
			i := rng.Intn(len(m) + 1)
			v := randValue(rng)
			l.Insert(i, v)
			m = slices.Insert(m, i, v)
			what = fmt.Sprintf("insert %d", i)
		case 8:
			pivot, v := randValue(rng), randValue(rng)
			after := rng.Intn(2) == 0
			found := l.InsertPivot(pivot, v, after)
			j := slices.IndexFunc(m, func(e []byte) bool { return bytes.Equal(e, pivot) })
			if found != (j >= 0) {
				t.Fatalf("InsertPivot found %v, model %d", found, j)
			}
			if j >= 0 {
				if after {
					j++
				}
				m = slices.Insert(m, j, v)
			}
			what = "insertpivot"
		case 9:
			v := randValue(rng)
			count := rng.Intn(7) - 3
			got := l.Remove(v, count)
			want := modelRemove(&m, v, count)
			if got != want {
				t.Fatalf("Remove(%q, %d) = %d, want %d", v, count, got, want)
			}
			what = "remove"
		case 10:
			if len(m) == 0 {
				break
			}
			start := rng.Intn(len(m))
			stop := start + rng.Intn(len(m)-start)
			l.Trim(start, stop)
			m = m[start : stop+1]
			what = fmt.Sprintf("trim %d %d", start, stop)
		case 11:
			if len(m) == 0 {
				break
			}
			start := rng.Intn(len(m))
			n := rng.Intn(len(m) - start + 1)
			l.DeleteRange(start, n)
			m = slices.Delete(m, start, start+n)
			what = fmt.Sprintf("delrange %d %d", start, n)
		case 12:
			c := l.Clone()
			l = c
			what = "clone"
		case 13:
			// bulk pushes to build several nodes
			for k := rng.Intn(120); k > 0; k-- {
				v := randValue(rng)
				if rng.Intn(2) == 0 {
					l.PushBack(v)
					m = append(m, v)
				} else {
					l.PushFront(v)
					m = append([][]byte{v}, m...)
				}
			}
			what = "bulk"
		case 14:
			// one LPUSH or RPUSH of many elements: Reserve, then the pushes
			vals := make([][]byte, rng.Intn(200))
			for k := range vals {
				vals[k] = randValue(rng)
			}
			front := rng.Intn(2) == 0
			l.Reserve(vals, front)
			for _, v := range vals {
				if front {
					l.PushFront(v)
					m = append([][]byte{v}, m...)
				} else {
					l.PushBack(v)
					m = append(m, v)
				}
			}
			l.Compact()
			what = fmt.Sprintf("reserve %d front %v", len(vals), front)
		}
		checkModel(t, l, m, fill, step, what)
	}
}

func modelRemove(m *[][]byte, v []byte, count int) int {
	s := *m
	removed := 0
	if count >= 0 {
		out := s[:0:0]
		for _, e := range s {
			if bytes.Equal(e, v) && (count == 0 || removed < count) {
				removed++
				continue
			}
			out = append(out, e)
		}
		*m = out
		return removed
	}
	var out [][]byte
	for i := len(s) - 1; i >= 0; i-- {
		if bytes.Equal(s[i], v) && removed < -count {
			removed++
			continue
		}
		out = append(out, s[i])
	}
	slices.Reverse(out)
	*m = out
	return removed
}

func checkModel(t *testing.T, l *List, m [][]byte, fill, step int, what string) {
	t.Helper()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("fill %d step %d after %s: %s", fill, step, what, fmt.Sprintf(format, a...))
	}
	if l.Len() != len(m) {
		fail("Len = %d, want %d", l.Len(), len(m))
	}
	total := 0
	maxBytes, maxEntries := l.lim.listNode()
	for i := 0; i < int(l.cnt); i++ {
		nd := l.node(i)
		if nd.n == 0 {
			fail("node %d empty", i)
		}
		if nd.n > 1 && (int(nd.n) > maxEntries || nd.used() > maxBytes) {
			fail("node %d over limits: %d entries, %d bytes", i, nd.n, nd.used())
		}
		k := 0
		for off := int(nd.h); off < len(nd.b); k++ {
			_, off = entryAt(nd.b, off)
		}
		if k != int(nd.n) {
			fail("node %d counts %d entries, holds %d", i, nd.n, k)
		}
		total += int(nd.n)
	}
	if total != len(m) {
		fail("nodes hold %d, want %d", total, len(m))
	}
	i := 0
	for v := range l.All() {
		if !bytes.Equal(v, m[i]) {
			fail("element %d = %q, want %q", i, v, m[i])
		}
		i++
	}
	i = len(m) - 1
	for v := range l.Backward() {
		if !bytes.Equal(v, m[i]) {
			fail("backward element %d = %q, want %q", i, v, m[i])
		}
		i--
	}
	if len(m) > 0 {
		j := len(m) / 3
		if !bytes.Equal(l.Index(j), m[j]) {
			fail("Index(%d)", j)
		}
		a, b := j, j+(len(m)-j)/2
		got := collect(l.Range(a, b))
		if len(got) != b-a+1 || got[0] != string(m[a]) || got[len(got)-1] != string(m[b]) {
			fail("Range(%d, %d) = %d elements", a, b, len(got))
		}
		got = collect(l.RangeRev(b, a))
		if len(got) != b-a+1 || got[0] != string(m[b]) || got[len(got)-1] != string(m[a]) {
			fail("RangeRev(%d, %d) = %d elements", b, a, len(got))
		}
	}
}

func TestListQueueMemory(t *testing.T) {
	// A list used as a queue must not grow without bound.
	l := NewList(nil)
	v := []byte("0123456789abcdef")
	for i := 0; i < 100000; i++ {
		l.PushBack(v)
		if i >= 10 {
			l.PopFront()
		}
	}
	if l.Len() != 10 || l.MemoryUsage() > 4096 {
		t.Fatalf("len %d, memory %d", l.Len(), l.MemoryUsage())
	}
	for i := 0; i < 100000; i++ {
		l.PushFront(v)
	}
	if mu := l.MemoryUsage(); mu > 100000*20*5/4 {
		t.Fatalf("100k 16-byte elements take %d bytes", mu)
	}
}

func BenchmarkListPushPop(b *testing.B) {
	l := NewList(nil)
	v := []byte("0123456789abcdef")
	for i := 0; i < b.N; i++ {
		l.PushFront(v)
		if l.Len() > 1000 {
			l.PopBack()
		}
	}
}

func BenchmarkListRange100(b *testing.B) {
	l := NewList(nil)
	for i := 0; i < 600; i++ {
		l.PushBack([]byte("0123456789abcdef"))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for v := range l.Range(0, 99) {
			_ = v
		}
	}
}

// TestListCompactTouchesEndsOnly: Compact runs after every write, so it
// may only look at the end nodes: a middle node is never copied, however
// much spare room it has (walking every node made LPUSH on a long list
// O(n)).
func TestListCompactTouchesEndsOnly(t *testing.T) {
	l := NewList(NewLimits())
	v := make([]byte, 1000)
	for i := 0; i < 200; i++ {
		l.PushFront(v)
	}
	if l.cnt < 10 {
		t.Fatalf("only %d nodes", l.cnt)
	}
	mid := l.nb[l.off+l.cnt/2]
	mid.b = append(make([]byte, 0, 4*cap(mid.b)), mid.b...) // plenty of spare room
	before := &mid.b[:1][0]
	l.Compact()
	if &mid.b[:1][0] != before {
		t.Fatal("Compact copied a middle node")
	}
}

// TestListPushGarbage: a push followed by the Compact every write command
// gets must not copy the node (growing it only for Compact to trim it back
// made each LPUSH allocate two copies of a node, and the collector then
// took a third of the CPU). Bytes allocated per push stay a small multiple
// of the entry, for the only node of a short list and for a long list.
func TestListPushGarbage(t *testing.T) {
	for _, c := range []struct {
		name  string
		start int
	}{{"one node", 0}, {"many nodes", 5000}} {
		l := NewList(NewLimits())
		v := make([]byte, 16)
		for i := 0; i < c.start; i++ {
			l.PushBack(v)
		}
		var a, b runtime.MemStats
		const pushes = 200
		runtime.ReadMemStats(&a)
		for i := 0; i < pushes; i++ {
			l.PushFront(v)
			l.Compact()
			l.PushBack(v)
			l.Compact()
		}
		runtime.ReadMemStats(&b)
		if per := (b.TotalAlloc - a.TotalAlloc) / (2 * pushes); per > 300 {
			t.Errorf("%s: %d bytes allocated per push of a 16-byte value", c.name, per)
		}
	}
}

func TestListNodeTrim(t *testing.T) {
	if RoundAlloc(33) != 48 || RoundAlloc(48) != 48 {
		t.Fatalf("RoundAlloc(33) = %d, RoundAlloc(48) = %d, want 48", RoundAlloc(33), RoundAlloc(48))
	}
	// An end node grown by growCap keeps its room; one that a smaller
	// allocation holds with more than an eighth spare is trimmed.
	for _, c := range []struct{ old, min, es int }{{1024, 1042, 18}, {6144, 6162, 18}, {6912, 6930, 18}, {100, 118, 18},
		{1027, 2054, 1027}, {5135, 6162, 1027}, {6162, 7189, 1027}, {2000, 2300, 300}} {
		g := growCap(c.old, c.min, c.es, NewLimits(), false)
		if nodeWasteful(c.min, g, c.es) {
			t.Errorf("growCap(%d, %d, %d) = %d is trimmed at once", c.old, c.min, c.es, g)
		}
		if g < min(8192, c.min+c.es) {
			t.Errorf("growCap(%d, %d, %d) = %d: no room for the next entry", c.old, c.min, c.es, g)
		}
		if g := growCap(c.old, c.min, c.es, NewLimits(), true); wasteful(c.min, g) {
			t.Errorf("snug growCap(%d, %d, %d) = %d is trimmed at once", c.old, c.min, c.es, g)
		}
	}
	if !nodeWasteful(100, 512, 18) || nodeWasteful(900, 1024, 18) || nodeWasteful(6162, 8192, 1027) || !nodeWasteful(3081, 8192, 1027) {
		t.Fatal("nodeWasteful")
	}
}

// TestListReserveGarbage: one push of many elements (RPUSH, LPUSH) sizes
// the node once: 1000 short elements into a new list allocate the node
// and little else, where growing it a size class at a time allocated
// copies of about ten times its size.
func TestListReserveGarbage(t *testing.T) {
	vals := make([][]byte, 1000)
	for i := range vals {
		vals[i] = []byte("e:" + strconv.Itoa(i))
	}
	for _, front := range []bool{false, true} {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		l := NewList(NewLimits())
		l.Reserve(vals, front)
		for _, v := range vals {
			if front {
				l.PushFront(v)
			} else {
				l.PushBack(v)
			}
		}
		l.Compact()
		runtime.ReadMemStats(&b)
		node := 0
		for _, v := range vals {
			node += entrySize(len(v))
		}
		if got := b.TotalAlloc - a.TotalAlloc; got > uint64(RoundAlloc(node))+256 {
			t.Errorf("front %v: %d bytes allocated for a node of %d", front, got, node)
		}
		if l.Len() != len(vals) || string(l.Index(0)) != map[bool]string{false: "e:0", true: "e:999"}[front] {
			t.Errorf("front %v: %d elements, head %q", front, l.Len(), l.Index(0))
		}
	}
}

// TestListSizes: a List and a node fill the allocator's 48- and 32-byte
// size classes (MemoryUsage counts them so).
func TestListSizes(t *testing.T) {
	if l, n := unsafe.Sizeof(List{}), unsafe.Sizeof(lnode{}); l != 48 || n != 32 {
		t.Fatalf("List %d bytes, node %d, want 48 and 32", l, n)
	}
}
