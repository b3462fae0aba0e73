package datatype

import (
	"math"
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"unsafe"
)

func setMembers(s *Set) []string {
	var out []string
	s.ForEach(func(m []byte) bool { out = append(out, string(m)); return true })
	return out
}

func TestIntsetWidths(t *testing.T) {
	s := NewSet(nil)
	vals := []int64{5, -3, 40000, -40000, 1 << 40, math.MinInt64, math.MaxInt64, 0, 32767, -32768, 32768}
	for _, v := range vals {
		if !s.Add([]byte(strconv.FormatInt(v, 10))) {
			t.Fatalf("Add %d: not new", v)
		}
		if s.Add([]byte(strconv.FormatInt(v, 10))) {
			t.Fatalf("Add %d twice: new", v)
		}
	}
	if s.Encoding() != "intset" || s.Len() != len(vals) || s.is.get()[0] != 8 {
		t.Fatalf("enc %s len %d width %d", s.Encoding(), s.Len(), s.is.get()[0])
	}
	slices.Sort(vals)
	var want []string
	for _, v := range vals {
		want = append(want, strconv.FormatInt(v, 10))
	}
	if got := setMembers(s); !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	for _, v := range want {
		if !s.Has([]byte(v)) || !s.Remove([]byte(v)) || s.Has([]byte(v)) {
			t.Fatalf("remove %s", v)
		}
	}
	if s.Len() != 0 || len(s.is.get()) != 0 {
		t.Fatal("not empty")
	}
	// The narrowest width is used.
	s.Add([]byte("7"))
	if s.is.get()[0] != 2 {
		t.Fatalf("width %d", s.is.get()[0])
	}
	s.Add([]byte("-100000"))
	if s.is.get()[0] != 4 || !slices.Equal(setMembers(s), []string{"-100000", "7"}) {
		t.Fatalf("width %d members %v", s.is.get()[0], setMembers(s))
	}
}

func TestIsetParse(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"0", true}, {"-1", true}, {"9223372036854775807", true}, {"-9223372036854775808", true},
		{"9223372036854775808", false}, {"-9223372036854775809", false}, {"01", false}, {"-0", false},
		{"+1", false}, {" 1", false}, {"1 ", false}, {"", false}, {"-", false}, {"1.0", false},
		{"99999999999999999999", false}, {"18446744073709551616", false},
	} {
		v, ok := isetParse([]byte(tc.s))
		if ok != tc.ok || (ok && strconv.FormatInt(v, 10) != tc.s) {
			t.Errorf("isetParse(%q) = %d, %v", tc.s, v, ok)
		}
	}
}

func TestSetConversion(t *testing.T) {
	s := NewSet(nil)
	for i := range def(SetMaxIntsetEntries) {
		s.Add([]byte(strconv.Itoa(i)))
	}
	if s.Encoding() != "intset" {
		t.Fatal("converted too early")
	}
	s.Add([]byte("100000"))
	if s.Encoding() != "hashtable" || s.Len() != def(SetMaxIntsetEntries)+1 || !s.Has([]byte("5")) {
		t.Fatal("conversion at the entry limit")
	}
	s2 := NewSet(nil)
	s2.Add([]byte("1"))
	s2.Add([]byte("x"))
	if s2.Encoding() != "hashtable" || !s2.Has([]byte("1")) || !s2.Has([]byte("x")) || s2.Has([]byte("01")) {
		t.Fatal("conversion on a string member")
	}
}

func TestSetModel(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, ints := range []bool{true, false} {
		s, m := NewSet(nil), map[string]bool{}
		for step := range 40000 {
			var k string
			if ints || rng.Intn(4) > 0 {
				k = strconv.Itoa(rng.Intn(2000) - 1000)
			} else {
				k = "m" + strconv.Itoa(rng.Intn(2000))
			}
			switch op := rng.Intn(10); {
			case op < 5:
				if s.Add([]byte(k)) == m[k] {
					t.Fatalf("step %d: Add %s", step, k)
				}
				m[k] = true
			case op < 8:
				if s.Remove([]byte(k)) != m[k] {
					t.Fatalf("step %d: Remove %s", step, k)
				}
				delete(m, k)
			case op < 9 && s.Len() > 0:
				p := string(s.Pop())
				if !m[p] {
					t.Fatalf("step %d: Pop %s not a member", step, p)
				}
				delete(m, p)
			default:
				if s.Has([]byte(k)) != m[k] {
					t.Fatalf("step %d: Has %s", step, k)
				}
			}
			if step%1000 == 0 {
				checkSet(t, s, m)
			}
		}
		checkSet(t, s, m)
		c := s.Clone()
		for k := range m {
			s.Remove([]byte(k))
		}
		checkSet(t, c, m)
		checkSet(t, s, map[string]bool{})
	}
}

func checkSet(t *testing.T, s *Set, m map[string]bool) {
	t.Helper()
	if s.Len() != len(m) {
		t.Fatalf("Len %d, want %d", s.Len(), len(m))
	}
	got := setMembers(s)
	if s.Encoding() == "intset" && !slices.IsSortedFunc(got, func(a, b string) int {
		x, _ := strconv.ParseInt(a, 10, 64)
		y, _ := strconv.ParseInt(b, 10, 64)
		return int(x - y)
	}) {
		t.Fatal("intset out of order")
	}
	for _, k := range got {
		if !m[k] {
			t.Fatalf("stray member %s", k)
		}
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	for {
		cursor = s.Scan(cursor, 3, func(b []byte) { seen[string(b)] = true })
		if cursor == 0 {
			break
		}
	}
	if len(got) != len(m) || len(seen) != len(m) {
		t.Fatalf("ForEach %d, Scan %d, want %d", len(got), len(seen), len(m))
	}
}

// TestDictScanResize checks Redis's SCAN guarantee on the hashtable:
// members present for the whole iteration are returned even when the
// table grows or shrinks between steps.
func TestDictScanResize(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for trial := range 30 {
		s := NewSet(nil)
		base := 50 + rng.Intn(2000)
		for i := range base {
			s.Add([]byte("k" + strconv.Itoa(i)))
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		var extras []string
		for {
			cursor = s.Scan(cursor, 1+rng.Intn(50), func(b []byte) { seen[string(b)] = true })
			if cursor == 0 {
				break
			}
			// Now and then grow the table a lot or shrink it back.
			switch rng.Intn(8) {
			case 0:
				for range rng.Intn(4000) {
					x := "x" + strconv.Itoa(rng.Int())
					extras = append(extras, x)
					s.Add([]byte(x))
				}
			case 1:
				for _, x := range extras {
					s.Remove([]byte(x))
				}
				extras = extras[:0]
			}
		}
		for i := range base {
			if !seen["k"+strconv.Itoa(i)] {
				t.Fatalf("trial %d: k%d never returned", trial, i)
			}
		}
	}
}

func TestSetRandom(t *testing.T) {
	for _, members := range [][]string{{"1", "2", "3", "4"}, {"a", "b", "c", "d"}} {
		s := NewSet(nil)
		for _, m := range members {
			s.Add([]byte(m))
		}
		hits := map[string]int{}
		s.RandomMembers(40000, func(m []byte) { hits[string(m)]++ })
		for _, m := range members {
			if hits[m] < 9000 || hits[m] > 11000 {
				t.Fatalf("%s drawn %d of 40000", m, hits[m])
			}
		}
		var got []string
		s.SampleMembers(3, func(m []byte) { got = append(got, string(m)) })
		if len(got) != 3 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 3 {
			t.Fatalf("SampleMembers(3) = %v", got)
		}
	}
}

func TestSetMemory(t *testing.T) {
	s := NewSet(nil)
	for i := range 100 {
		s.Add([]byte(strconv.Itoa(i)))
	}
	if m := s.MemoryUsage(); m > 32+1+2*100+64 {
		t.Fatalf("100 small ints use %d bytes", m)
	}
}

func BenchmarkSetAddHas(b *testing.B) {
	members := make([][]byte, 10000)
	for i := range members {
		members[i] = []byte("member:" + strconv.Itoa(i))
	}
	s := NewSet(nil)
	for _, m := range members {
		s.Add(m)
	}
	i := 0
	for b.Loop() {
		m := members[i%len(members)]
		s.Add(m)
		s.Has(m)
		i++
	}
}

func TestSetHashAll(t *testing.T) {
	s := NewSet(nil)
	s.Add([]byte("2"))
	s.Add([]byte("1"))
	var got []string
	for m := range s.All() {
		got = append(got, string(m))
	}
	h := NewHash(nil)
	h.Set([]byte("f"), []byte("v"))
	for f, v := range h.All() {
		got = append(got, string(f)+"="+string(v))
	}
	if !slices.Equal(got, []string{"1", "2", "f=v"}) {
		t.Fatalf("All: %v", got)
	}
}

// TestSmallSizes: a Set, a Hash and a ZSet are 24 bytes, an allocator
// size class (MemoryUsage counts them so).
func TestSmallSizes(t *testing.T) {
	if s, h, z := unsafe.Sizeof(Set{}), unsafe.Sizeof(Hash{}), unsafe.Sizeof(ZSet{}); s != 24 || h != 24 || z != 24 {
		t.Fatalf("Set %d bytes, Hash %d, ZSet %d, want 24", s, h, z)
	}
}
