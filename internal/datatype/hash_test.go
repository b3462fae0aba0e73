package datatype

import (
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// hashPairs returns the hash's pairs in iteration order.
func hashPairs(h *Hash) [][2]string {
	var out [][2]string
	h.ForEach(func(f, v []byte) bool {
		out = append(out, [2]string{string(f), string(v)})
		return true
	})
	return out
}

func TestHashListpackOrder(t *testing.T) {
	h := NewHash(nil)
	for _, p := range [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}} {
		if !h.Set([]byte(p[0]), []byte(p[1])) {
			t.Fatalf("Set %s: not new", p[0])
		}
	}
	if h.Set([]byte("b"), []byte("a much longer value than before")) {
		t.Fatal("update reported new")
	}
	h.Set([]byte("a"), nil)
	want := [][2]string{{"a", ""}, {"b", "a much longer value than before"}, {"c", "3"}}
	if got := hashPairs(h); !slices.Equal(got, want) || h.Len() != 3 || h.Encoding() != "listpack" {
		t.Fatalf("pairs %q len %d enc %s", got, h.Len(), h.Encoding())
	}
	if !h.Delete([]byte("a")) || h.Delete([]byte("a")) || !h.Delete([]byte("c")) || !h.Delete([]byte("b")) {
		t.Fatal("Delete results")
	}
	if h.Len() != 0 || len(hashPairs(h)) != 0 {
		t.Fatal("not empty")
	}
}

func TestHashConversion(t *testing.T) {
	h := NewHash(nil)
	for i := range def(HashMaxListpackEntries) {
		h.Set([]byte("f"+strconv.Itoa(i)), []byte("v"))
	}
	if h.Encoding() != "listpack" {
		t.Fatal("converted too early")
	}
	h.Set([]byte("one more"), []byte("v"))
	if h.Encoding() != "hashtable" || h.Len() != def(HashMaxListpackEntries)+1 {
		t.Fatalf("enc %s len %d", h.Encoding(), h.Len())
	}
	h2 := NewHash(nil)
	h2.Set([]byte("f"), []byte(strings.Repeat("x", def(HashMaxListpackValue))))
	if h2.Encoding() != "listpack" {
		t.Fatal("value at the limit converted")
	}
	h2.Set([]byte("g"), []byte(strings.Repeat("x", def(HashMaxListpackValue)+1)))
	if h2.Encoding() != "hashtable" {
		t.Fatal("long value kept in listpack")
	}
	h3 := NewHash(nil)
	h3.ConvertIfLong([]byte("a"), []byte(strings.Repeat("x", def(HashMaxListpackValue)+1)))
	if h3.Encoding() != "hashtable" {
		t.Fatal("ConvertIfLong")
	}
}

// TestHashModel runs random operations against a Go map in both
// encodings, across conversions, table growth and shrinking.
func TestHashModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, limit := range []int{def(HashMaxListpackEntries), 4} {
		lim := NewLimits()
		lim.Set("hash-max-listpack-entries", int64(limit))
		h, m := NewHash(lim), map[string]string{}
		for step := range 30000 {
			f := "f" + strconv.Itoa(rng.Intn(700))
			switch op := rng.Intn(10); {
			case op < 5:
				v := strconv.Itoa(rng.Intn(1e6))
				_, had := m[f]
				if h.Set([]byte(f), []byte(v)) == had {
					t.Fatalf("step %d: Set %s new=%v", step, f, !had)
				}
				m[f] = v
			case op < 9:
				_, had := m[f]
				if h.Delete([]byte(f)) != had {
					t.Fatalf("step %d: Delete %s", step, f)
				}
				delete(m, f)
			default:
				v, ok := h.Get([]byte(f))
				if mv, had := m[f]; ok != had || string(v) != mv {
					t.Fatalf("step %d: Get %s = %q %v", step, f, v, ok)
				}
			}
			if step%1000 == 0 {
				checkHash(t, h, m)
			}
		}
		checkHash(t, h, m)
		c := h.Clone()
		for f := range m {
			h.Delete([]byte(f))
		}
		checkHash(t, c, m)
	}
}

func checkHash(t *testing.T, h *Hash, m map[string]string) {
	t.Helper()
	if h.Len() != len(m) {
		t.Fatalf("Len %d, want %d", h.Len(), len(m))
	}
	got := map[string]string{}
	h.ForEach(func(f, v []byte) bool {
		if _, dup := got[string(f)]; dup {
			t.Fatalf("field %s twice", f)
		}
		got[string(f)] = string(v)
		return true
	})
	for f, v := range m {
		if got[f] != v {
			t.Fatalf("%s = %q, want %q", f, got[f], v)
		}
		if !h.Has([]byte(f)) {
			t.Fatalf("Has %s false", f)
		}
	}
	// A full scan returns every pair.
	seen := map[string]bool{}
	cursor := uint64(0)
	for {
		cursor = h.Scan(cursor, 5, func(f, v []byte) { seen[string(f)] = true })
		if cursor == 0 {
			break
		}
	}
	if len(seen) != len(m) {
		t.Fatalf("scan saw %d of %d", len(seen), len(m))
	}
}

func TestSampleIdx(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for range 2000 {
		n := 1 + rng.Intn(100)
		count := rng.Intn(n + 1)
		idx := sampleIdx(n, count)
		if len(idx) != count || !slices.IsSorted(idx) {
			t.Fatalf("sampleIdx(%d, %d) = %v", n, count, idx)
		}
		for i := 1; i < len(idx); i++ {
			if idx[i] == idx[i-1] || idx[i] >= n {
				t.Fatalf("sampleIdx(%d, %d) = %v", n, count, idx)
			}
		}
	}
	// Roughly uniform: every index of 10 is picked about 3/10 of the time.
	hits := make([]int, 10)
	for range 20000 {
		for _, i := range sampleIdx(10, 3) {
			hits[i]++
		}
	}
	for i, h := range hits {
		if h < 5400 || h > 6600 {
			t.Fatalf("index %d picked %d times of 20000 (want ~6000)", i, h)
		}
	}
}

func TestHashMemory(t *testing.T) {
	h := NewHash(nil)
	h.Set([]byte("field"), []byte("value"))
	if m := h.MemoryUsage(); m > 64 {
		t.Fatalf("one small pair uses %d bytes", m)
	}
	for i := range 1000 {
		h.Set([]byte("f"+strconv.Itoa(i)), []byte("v"))
	}
	if m := h.MemoryUsage(); m < 1000*20 || m > 1000*120 {
		t.Fatalf("1000 pairs estimated at %d bytes", m)
	}
}

func BenchmarkHashSetGetSmall(b *testing.B) {
	fields := make([][]byte, 20)
	for i := range fields {
		fields[i] = []byte("field:" + strconv.Itoa(i))
	}
	for b.Loop() {
		h := NewHash(nil)
		for _, f := range fields {
			h.Set(f, f)
		}
		for _, f := range fields {
			h.Get(f)
		}
	}
}

func BenchmarkHashSetGetLarge(b *testing.B) {
	fields := make([][]byte, 10000)
	for i := range fields {
		fields[i] = []byte("field:" + strconv.Itoa(i))
	}
	h := NewHash(nil)
	for _, f := range fields {
		h.Set(f, f)
	}
	i := 0
	for b.Loop() {
		f := fields[i%len(fields)]
		h.Set(f, f)
		h.Get(f)
		i++
	}
}
