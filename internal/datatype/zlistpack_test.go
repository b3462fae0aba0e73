package datatype

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzZSetListpack runs a sequence of operations decoded from the input
// on a listpack sorted set and on a sorted slice, and compares them after
// each (ZSet.check): members of any bytes and length, scores from raw
// float bits (no NaN), the set converting to a skiplist past its limits.
func FuzzZSetListpack(f *testing.F) {
	f.Add([]byte("\x00\x03abc\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x01b\x00\x00\x00\x00\x00\x00\x00\xc0"))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00"))
	f.Add([]byte("\x00\x02zz\x00\x00\x00\x00\x00\x00\xf0\x7f\x01\x02zz\x00\x00\x00\x00\x00\x00\xf0\xff\x03\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := NewLimits()
		lim.Set("zset-max-listpack-entries", 12)
		lim.Set("zset-max-listpack-value", 200)
		z := NewZSet(lim)
		var model []ZEntry
		for len(data) >= 2 {
			op, n := data[0]%5, int(data[1])
			data = data[2:]
			n = min(n, len(data))
			member := string(data[:n])
			data = data[n:]
			score := 0.0
			if len(data) >= 8 {
				score = math.Float64frombits(binary.LittleEndian.Uint64(data))
				data = data[8:]
			}
			if math.IsNaN(score) {
				score = 0
			}
			if z.Encoding() == "listpack" {
				score = lpScore(score)
			}
			_, had := z.Score(member)
			switch {
			case op == 0 && !had:
				z.Insert(member, score)
				model = modelInsert(model, ZEntry{member, score})
			case op == 1 && had:
				z.Update(member, score)
				model = modelInsert(modelDelete(model, member), ZEntry{member, score})
			case op == 2:
				if z.Delete(member) != had {
					t.Fatalf("Delete(%q) disagrees with Score", member)
				}
				model = modelDelete(model, member)
			case op == 3 && len(model) > 0:
				e, _ := z.Pop(n%2 == 1)
				if n%2 == 0 {
					if e != model[0] {
						t.Fatalf("Pop min %v, model %v", e, model[0])
					}
					model = model[1:]
				} else {
					if e != model[len(model)-1] {
						t.Fatalf("Pop max %v, model %v", e, model[len(model)-1])
					}
					model = model[:len(model)-1]
				}
			case op == 4:
				z.Compact()
			}
			z.check(t, model)
		}
	})
}
