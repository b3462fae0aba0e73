package commands

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// geoBenchKeyspace holds the bench program's data set: 100000 points over
// a 1x1 degree square.
func geoBenchKeyspace(b *testing.B) *keyspace.Keyspace {
	ks := keyspace.New(1)
	r := rand.New(rand.NewPCG(42, 42))
	w := &resp.Writer{Proto: 2}
	for i := 0; i < 100000; i += 1000 {
		args := [][]byte{[]byte("geoadd"), []byte("geo")}
		for j := i; j < i+1000; j++ {
			args = append(args, fmt.Appendf(nil, "%.6f", 13+r.Float64()), fmt.Appendf(nil, "%.6f", 37.5+r.Float64()), fmt.Append(nil, "p:", j))
		}
		Exec(ks, 0, w, args)
	}
	return ks
}

func benchGeo(b *testing.B, args ...string) {
	ks := geoBenchKeyspace(b)
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	w := &resp.Writer{Proto: 2}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Buf = w.Buf[:0]
		Exec(ks, 0, w, bargs)
	}
}

func BenchmarkGeoSearchRadius(b *testing.B) {
	benchGeo(b, "geosearch", "geo", "fromlonlat", "13.5", "38", "byradius", "2", "km", "asc")
}

func BenchmarkGeoSearchBox(b *testing.B) {
	benchGeo(b, "geosearch", "geo", "fromlonlat", "13.5", "38", "bybox", "3", "3", "km")
}

func BenchmarkGeoSearchWithCount(b *testing.B) {
	benchGeo(b, "geosearch", "geo", "fromlonlat", "13.5", "38", "byradius", "2", "km", "withdist", "withcoord", "count", "10")
}
