package datatype

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// check verifies a ZSet against a sorted model: order, ranks, scores,
// spans and the hash table.
func (z *ZSet) check(t *testing.T, model []ZEntry) {
	t.Helper()
	if z.Len() != len(model) {
		t.Fatalf("len %d, model %d", z.Len(), len(model))
	}
	i := 0
	z.ForEach(func(e ZEntry) bool {
		if e != model[i] {
			t.Fatalf("rank %d: %v, model %v", i, e, model[i])
		}
		i++
		return true
	})
	for r, e := range model {
		if got, ok := z.Rank(e.Member); !ok || got != r {
			t.Fatalf("Rank(%s) = %d %v, want %d", e.Member, got, ok, r)
		}
		if got := z.At(r); got != e {
			t.Fatalf("At(%d) = %v, want %v", r, got, e)
		}
		if s, ok := z.Score(e.Member); !ok || s != e.Score {
			t.Fatalf("Score(%s) = %v", e.Member, s)
		}
	}
	if z.lp.p != nil {
		return
	}
	sk := z.sk()
	if sk.dict.count != len(model) {
		t.Fatalf("dict count %d", sk.dict.count)
	}
	// Every level's spans add up to the rank of each node it reaches.
	for lv := 0; lv < sk.sl.level; lv++ {
		rank := 0
		for x := sk.sl.head; x.lv[lv].fwd != nil; x = x.lv[lv].fwd {
			rank += x.lv[lv].span
			n := x.lv[lv].fwd
			if want, _ := z.Rank(n.member); want+1 != rank {
				t.Fatalf("level %d: span rank %d for %s, want %d", lv, rank, n.member, want+1)
			}
		}
	}
	back := 0
	for x := sk.sl.tail; x != nil; x = x.back {
		back++
	}
	if back != len(model) {
		t.Fatalf("backward walk %d nodes", back)
	}
}

func modelInsert(m []ZEntry, e ZEntry) []ZEntry {
	i, _ := slices.BinarySearchFunc(m, e, cmpEntry)
	return slices.Insert(m, i, e)
}

func modelDelete(m []ZEntry, member string) []ZEntry {
	return slices.DeleteFunc(m, func(e ZEntry) bool { return e.Member == member })
}

func TestZSetModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, members := range []int{20, 100, 600} {
		z := NewZSet(nil)
		var model []ZEntry
		peak := 0
		for step := 0; step < 20000; step++ {
			m := fmt.Sprintf("m%d", rng.IntN(members))
			s := float64(rng.IntN(20))
			cur, ok := z.Score(m)
			switch op := rng.IntN(10); {
			case op < 5:
				if ok {
					if cur != s {
						z.Update(m, s)
						model = modelInsert(modelDelete(model, m), ZEntry{m, s})
					}
				} else {
					z.Insert(m, s)
					model = modelInsert(model, ZEntry{m, s})
				}
			case op < 6:
				if z.Delete(m) != ok {
					t.Fatalf("Delete(%s) disagrees", m)
				}
				model = modelDelete(model, m)
			case op < 8 && len(model) > 0:
				a, b := rng.IntN(len(model)), rng.IntN(len(model))
				a, b = min(a, b), max(a, b)
				if n := z.DeleteRange(a, b); n != b-a+1 {
					t.Fatalf("DeleteRange = %d", n)
				}
				model = slices.Delete(model, a, b+1)
			case op < 9 && len(model) > 0:
				e, _ := z.Pop(rng.IntN(2) == 0)
				model = modelDelete(model, e.Member)
			default:
				r := ScoreRange{Min: float64(rng.IntN(22) - 1), Max: float64(rng.IntN(22) - 1), MinEx: rng.IntN(2) == 0, MaxEx: rng.IntN(2) == 0}
				first, last := -1, -1
				for i, e := range model {
					if r.GteMin(e.Score) && r.LteMax(e.Score) {
						if first < 0 {
							first = i
						}
						last = i
					}
				}
				if got := z.FirstInScore(&r); got != first {
					t.Fatalf("FirstInScore(%+v) = %d, want %d", r, got, first)
				}
				if got := z.LastInScore(&r); got != last {
					t.Fatalf("LastInScore(%+v) = %d, want %d", r, got, last)
				}
			}
			peak = max(peak, len(model))
			if step%97 == 0 {
				z.check(t, model)
			}
		}
		z.check(t, model)
		if (peak > def(ZSetMaxListpackEntries)) != (z.Encoding() == "skiplist") {
			t.Fatalf("encoding %s with %d members", z.Encoding(), z.Len())
		}
		c := z.Clone()
		c.check(t, model)
	}
}

func TestZSetLex(t *testing.T) {
	for _, n := range []int{26, 500} {
		z := NewZSet(nil)
		var model []string
		for i := 0; i < n; i++ {
			m := fmt.Sprintf("%c%03d", 'a'+i%26, i)
			z.Insert(m, 0)
			model = append(model, m)
		}
		slices.Sort(model)
		bounds := []LexBound{{Inf: -1, Ex: true}, {Inf: 1, Ex: true}, {Val: "c"}, {Val: "c", Ex: true}, {Val: "m010"}, {Val: "m010", Ex: true}, {Val: "zz"}}
		for _, lo := range bounds {
			for _, hi := range bounds {
				r := LexRange{lo, hi}
				first, last := -1, -1
				for i, m := range model {
					if r.GteMin(m) && r.LteMax(m) {
						if first < 0 {
							first = i
						}
						last = i
					}
				}
				if got := z.FirstInLex(&r); got != first {
					t.Fatalf("n=%d FirstInLex(%+v) = %d, want %d", n, r, got, first)
				}
				if got := z.LastInLex(&r); got != last {
					t.Fatalf("n=%d LastInLex(%+v) = %d, want %d", n, r, got, last)
				}
			}
		}
	}
}

func TestZSetEncoding(t *testing.T) {
	z := NewZSet(nil)
	for i := 0; i < def(ZSetMaxListpackEntries); i++ {
		z.Insert(fmt.Sprint(i), 1)
	}
	if z.Encoding() != "listpack" {
		t.Fatal("converted too early")
	}
	z.Insert("x", 1)
	if z.Encoding() != "skiplist" {
		t.Fatal("not converted past the entry limit")
	}
	z.DeleteRange(0, 100)
	if z.Encoding() != "skiplist" {
		t.Fatal("converted back")
	}
	z = NewZSet(nil)
	z.Insert(string(make([]byte, def(ZSetMaxListpackValue)+1)), 1)
	if z.Encoding() != "skiplist" {
		t.Fatal("long member kept in listpack")
	}
	if BuildZSet(nil, []ZEntry{{"a", 1}}).Encoding() != "listpack" {
		t.Fatal("BuildZSet of one")
	}
	// -0 is kept by the skiplist and stored as 0 by the listpack.
	z = NewZSet(nil)
	z.Insert("a", negZero())
	if s, _ := z.Score("a"); 1/s < 0 {
		t.Fatal("listpack kept -0")
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

func TestZSetScan(t *testing.T) {
	z := NewZSetSized(nil, 1000, 0)
	for i := 0; i < 1000; i++ {
		z.Insert(fmt.Sprint(i), float64(i))
	}
	seen := map[string]bool{}
	var cursor uint64
	for {
		cursor = z.Scan(cursor, 10, func(e ZEntry) { seen[e.Member] = true })
		if cursor == 0 {
			break
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("scan saw %d", len(seen))
	}
}

func BenchmarkZSetInsert(b *testing.B) {
	z := NewZSetSized(nil, b.N, 0)
	ms := make([]string, b.N)
	for i := range ms {
		ms[i] = fmt.Sprintf("member:%d", i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		z.Insert(ms[i], float64(i*7919%100003))
	}
}

// BenchmarkZSetSmall is ZADD of 100 members (random order) to a new
// listpack sorted set, then a ZSCORE, a ZRANK and a ZRANGE of each.
func BenchmarkZSetSmall(b *testing.B) {
	ms := make([]string, 100)
	scores := make([]float64, 100)
	for i := range ms {
		ms[i] = fmt.Sprintf("m:%d", i)
		scores[i] = float64(i * 7919 % 101)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		z := NewZSet(nil)
		for j, m := range ms {
			z.Insert(m, scores[j])
		}
		z.Compact()
		for _, m := range ms {
			z.Score(m)
			z.Rank(m)
		}
		it := z.IterAt(0, false)
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
	}
}

// TestZSetListpackEncoding checks the byte layout's round trip: integer
// and float scores of every size, long members (multi-byte lengths and
// backlens), the walk in both directions, and that member strings handed
// out survive later changes (copy on write).
func TestZSetListpackEncoding(t *testing.T) {
	lim := NewLimits()
	lim.Set("zset-max-listpack-value", 1000)
	scores := []float64{0, 1, -1, 63, 64, -65, 1 << 20, -(1 << 40), 1<<53 - 1, 1 << 53, -(1 << 53), 1e300, -1e-300, 0.5, math.Inf(1), math.Inf(-1)}
	z := NewZSet(lim)
	var model []ZEntry
	var handed []ZEntry
	for i, s := range scores {
		m := strings.Repeat(string(rune('a'+i)), i*37%300)
		z.Insert(m, s)
		model = modelInsert(model, ZEntry{m, s})
		handed = append(handed, z.At(0))
		z.check(t, model)
	}
	want := slices.Clone(handed)
	for i := range want {
		want[i].Member = strings.Clone(want[i].Member)
	}
	for i, s := range scores {
		m := strings.Repeat(string(rune('a'+i)), i*37%300)
		z.Update(m, -s)
		model = modelDelete(model, m)
		model = modelInsert(model, ZEntry{m, -s})
		z.check(t, model)
	}
	for i := len(model) - 1; i >= 0; i-- {
		it := z.IterAt(i, true)
		for j := i; j >= 0; j-- {
			e, ok := it.Next()
			if !ok || e != model[j] {
				t.Fatalf("reverse walk from %d: at %d got %v %v, want %v", i, j, e, ok, model[j])
			}
		}
		if _, ok := it.Next(); ok {
			t.Fatal("reverse walk past the first entry")
		}
	}
	for len(model) > 0 {
		z.Pop(false)
		model = model[1:]
		z.check(t, model)
	}
	if !slices.Equal(handed, want) {
		t.Fatal("a member string handed out changed")
	}
}

// TestBuildZSetCopiesMembers: a skiplist built from entries read out of a
// listpack keeps its own member strings, so later insertions into the
// listpack (which shift its bytes in place) do not change it.
func TestBuildZSetCopiesMembers(t *testing.T) {
	src := NewZSet(nil)
	for i := 0; i < 100; i++ {
		src.Insert(fmt.Sprintf("m%03d", i), float64(i))
	}
	var es []ZEntry
	src.ForEach(func(e ZEntry) bool { es = append(es, e); return true })
	for i := 0; i < 100; i++ {
		es = append(es, ZEntry{fmt.Sprintf("x%03d", i), float64(i)})
	}
	big := BuildZSet(nil, es)
	if big.Encoding() != "skiplist" {
		t.Fatal(big.Encoding())
	}
	var want []ZEntry
	big.ForEach(func(e ZEntry) bool { want = append(want, ZEntry{strings.Clone(e.Member), e.Score}); return true })
	for i := 0; i < 20; i++ {
		src.Insert(fmt.Sprintf("a%03d", i), -1) // shifts every entry of src
	}
	big.check(t, want)
}

// BenchmarkZSetUpdate is redis-benchmark's ZADD on a sorted set of
// 100,000 members: a random member (mostly there) gets a random score
// (a skiplist walk to unlink it, another to insert it).
func BenchmarkZSetUpdate(b *testing.B) {
	const n = 100000
	z := NewZSet(nil)
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf("element:%012d", i)
		z.Insert(ms[i], float64(i*7919%n))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		m, s := ms[rng.IntN(n)], float64(rng.IntN(n))
		if _, ok := z.Score(m); ok {
			z.Update(m, s)
		} else {
			z.Insert(m, s)
		}
	}
}

// BenchmarkZSetRange is redis-benchmark's ZRANGE 0 10 on that set.
func BenchmarkZSetRange(b *testing.B) {
	const n = 100000
	z := NewZSet(nil)
	for i := 0; i < n; i++ {
		z.Insert(fmt.Sprintf("element:%012d", i), float64(i*7919%n))
	}
	b.ResetTimer()
	for b.Loop() {
		it := z.IterAt(0, false)
		for k := 0; k < 11; k++ {
			if _, ok := it.Next(); !ok {
				break
			}
		}
	}
}
