package datatype

import (
	"fmt"
	"testing"
)

func TestHLLEmpty(t *testing.T) {
	b := NewHLL()
	if len(b) != 18 || !IsHLL(b) || !HLLIsSparse(b) {
		t.Fatalf("bad empty HLL %q", b)
	}
	if c, ok := HLLCount(b); !ok || c != 0 {
		t.Fatalf("count %d %v", c, ok)
	}
	if c, ok := HLLCachedCard(b); !ok || c != 0 {
		t.Fatalf("cache %d %v", c, ok)
	}
	if HLLDecode(b) != "Z:16384" {
		t.Fatalf("decode %q", HLLDecode(b))
	}
}

// TestHLLSparseDenseAgree adds the same elements to a sparse and a dense
// value: registers and counts must agree at every step, and the sparse
// opcodes must always cover exactly 16384 registers.
func TestHLLSparseDenseAgree(t *testing.T) {
	sp := NewHLL()
	de, ok := HLLSparseToDense(NewHLL())
	if !ok {
		t.Fatal("todense")
	}
	for i := 0; i < 5000; i++ {
		ele := []byte(fmt.Sprintf("ele:%d", i))
		var r1, r2 int
		sp, r1 = HLLAdd(sp, ele, nil)
		de, r2 = HLLAdd(de, ele, nil)
		if r1 < 0 || r2 < 0 || r1 != r2 {
			t.Fatalf("add %d: sparse %d dense %d", i, r1, r2)
		}
		if i%250 == 0 || i == 4999 {
			c1, ok1 := HLLCount(sp)
			c2, ok2 := HLLCount(de)
			if !ok1 || !ok2 || c1 != c2 {
				t.Fatalf("after %d: sparse %d dense %d", i, c1, c2)
			}
			m1, m2 := HLLRegisters(), HLLRegisters()
			if !HLLMerge(m1, sp) || !HLLMerge(m2, de) {
				t.Fatal("merge failed")
			}
			for j := range m1 {
				if m1[j] != m2[j] {
					t.Fatalf("register %d: %d vs %d", j, m1[j], m2[j])
				}
			}
			if HLLCountRegisters(m1) != c1 {
				t.Fatal("raw count differs")
			}
		}
		if HLLIsSparse(sp) && len(sp) > def(HLLSparseMaxBytes) {
			t.Fatalf("sparse value of %d bytes", len(sp))
		}
	}
	if HLLIsSparse(sp) {
		t.Fatal("5000 elements still sparse")
	}
	c, _ := HLLCount(de)
	if c < 4800 || c > 5200 {
		t.Fatalf("estimate %d for 5000", c)
	}
}

func TestHLLCorrupt(t *testing.T) {
	b := NewHLL()
	b[len(b)-1] = 0xfe // XZERO of 16383: one register short
	if _, ok := HLLCount(b); ok {
		t.Fatal("short sparse value counted")
	}
	if _, r := HLLAdd(b, []byte("x"), nil); r != 1 && r != -1 {
		t.Fatal("add on short value")
	}
	if IsHLL([]byte("HYLL\x00")) || IsHLL(append([]byte("HYLL\x00"), make([]byte, 20)...)) {
		t.Fatal("bad values accepted")
	}
}

func BenchmarkHLLCountDense(b *testing.B) {
	h, _ := HLLSparseToDense(NewHLL())
	for i := 0; i < 100000; i++ {
		h, _ = HLLAdd(h, []byte(fmt.Sprint(i)), nil)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		HLLCount(h)
	}
}
