package datatype

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

// HLLSelfTest is PFSELFTEST: the dense register packing reads back what
// it stored, and the sparse and dense encodings count 1 to 10,000,000
// distinct elements alike and within six standard errors (one for 10
// elements), the sparse one staying sparse while it is small. It returns
// Redis's TESTFAILED text, or "".
func HLLSelfTest(lim *Limits, rng *rand.Rand) string {
	regs := make([]byte, HLLDenseSize-hllHdrSize)
	want := make([]uint8, hllRegisters)
	for range 1000 {
		for i := range want {
			want[i] = uint8(rng.IntN(1 << hllBits))
			denseSet(regs, i, want[i])
		}
		for i, w := range want {
			if got := denseGet(regs, i); got != w {
				return fmt.Sprintf("TESTFAILED Register %d should be %d but is %d", i, w, got)
			}
		}
	}

	dense, _ := HLLSparseToDense(NewHLL())
	sparse := NewHLL()
	relerr := 1.04 / math.Sqrt(hllRegisters)
	seed := rng.Uint64()
	sparseMax := int64(lim.Get(HLLSparseMaxBytes))
	var ele [8]byte
	for j, checkpoint := int64(1), int64(1); j <= 10_000_000; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		dense, _ = HLLAdd(dense, ele[:], lim)
		sparse, _ = HLLAdd(sparse, ele[:], lim)
		if j != checkpoint {
			continue
		}
		if j < sparseMax/2 && !HLLIsSparse(sparse) {
			return "TESTFAILED sparse encoding not used"
		}
		dc, _ := HLLCount(dense)
		sc, _ := HLLCount(sparse)
		if dc != sc {
			return "TESTFAILED dense/sparse disagree"
		}
		abserr := checkpoint - int64(dc)
		maxerr := int64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > maxerr {
			return fmt.Sprintf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return ""
}
