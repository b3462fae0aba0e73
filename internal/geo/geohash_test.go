package geo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/quick"
)

func TestInterleaveRoundTrip(t *testing.T) {
	f := func(lat, lon uint32) bool {
		a, b := deinterleave(interleave(lat, lon))
		return a == lat && b == lon
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
	if got := interleave(1, 0); got != 1 {
		t.Fatalf("latitude must take the even bits: %b", got)
	}
}

// Values redis-server 7.0 replies for the Sicily example.
func TestKnownPoints(t *testing.T) {
	for _, tc := range []struct {
		lon, lat       float64
		score          uint64
		hash, plon, pl string
	}{
		{13.361389, 38.115556, 3479099956230698, "sqc8b49rny0", "13.36138933897018433", "38.11555639549629859"},
		{15.087269, 37.502669, 3479447370796909, "sqdtr74hyu0", "15.08726745843887329", "37.50266842333162032"},
	} {
		s, ok := Score(tc.lon, tc.lat)
		if !ok || s != tc.score {
			t.Errorf("Score(%v,%v) = %d, want %d", tc.lon, tc.lat, s, tc.score)
		}
		if h := HashString(float64(s)); h != tc.hash {
			t.Errorf("HashString = %s, want %s", h, tc.hash)
		}
		x, y := DecodeScore(float64(s))
		if FormatCoord(x) != tc.plon || FormatCoord(y) != tc.pl {
			t.Errorf("decoded %s,%s, want %s,%s", FormatCoord(x), FormatCoord(y), tc.plon, tc.pl)
		}
	}
	x1, y1 := DecodeScore(3479099956230698)
	x2, y2 := DecodeScore(3479447370796909)
	if d := FormatDist(Distance(x1, y1, x2, y2) / 1000); d != "166.2742" {
		t.Errorf("distance %s km, want 166.2742", d)
	}
}

func TestEncodeLimits(t *testing.T) {
	for _, p := range [][2]float64{{181, 0}, {-180.0001, 0}, {0, 85.06}, {0, -85.06}} {
		if _, ok := Score(p[0], p[1]); ok {
			t.Errorf("Score(%v) accepted", p)
		}
	}
	for _, p := range [][2]float64{{180, LatMax}, {-180, LatMin}, {0, 0}} {
		if _, ok := Score(p[0], p[1]); !ok {
			t.Errorf("Score(%v) refused", p)
		}
	}
}

// A point decodes to the centre of its cell: within half a cell of where
// it was, and re-encoding the centre gives the same score.
func TestEncodeDecodeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	cellLon, cellLat := 360.0/(1<<26), (LatMax-LatMin)/(1<<26)
	for i := 0; i < 100000; i++ {
		lon := (r.Float64()*2 - 1) * 180
		lat := (r.Float64()*2 - 1) * LatMax
		s, ok := Score(lon, lat)
		if !ok || s >= 1<<52 {
			t.Fatalf("Score(%v,%v) = %d %v", lon, lat, s, ok)
		}
		x, y := DecodeScore(float64(s))
		if math.Abs(x-lon) > cellLon/2+1e-12 || math.Abs(y-lat) > cellLat/2+1e-12 {
			t.Fatalf("(%v,%v) decoded as (%v,%v)", lon, lat, x, y)
		}
		if s2, _ := Score(x, y); s2 != s {
			t.Fatalf("(%v,%v): centre re-encodes to %d, not %d", lon, lat, s2, s)
		}
	}
}

func TestNeighborsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 10000; i++ {
		step := uint8(1 + r.IntN(26))
		h, _ := Encode((r.Float64()*2-1)*179, (r.Float64()*2-1)*84, step)
		n := NeighborsOf(h)
		back := n.East
		moveX(&back, -1)
		if back != h {
			t.Fatalf("east then west: %v != %v", back, h)
		}
		back = n.North
		moveY(&back, -1)
		if back != h {
			t.Fatalf("north then south: %v != %v", back, h)
		}
		a, _ := Decode(h)
		e, _ := Decode(n.East)
		if a.Lon.Max < 180 && math.Abs(e.Lon.Min-a.Lon.Max) > 1e-9 {
			t.Fatalf("east cell does not touch: %v %v", a, e)
		}
	}
}

// Every stored point inside a search shape lies in one of the cells the
// search scans: the neighbour-box search misses nothing.
func TestCellsCoverShape(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 3000; i++ {
		s := Shape{Lon: (r.Float64()*2 - 1) * 180, Lat: (r.Float64()*2 - 1) * 80, Conversion: 1}
		size := math.Exp(r.Float64()*14) + 1 // 1 m .. 1200 km
		if r.IntN(2) == 0 {
			s.Radius = size
		} else {
			s.Box, s.Width, s.Height = true, size*(0.2+r.Float64()), size*(0.2+r.Float64())
		}
		cells := s.Cells()
		for j := 0; j < 50; j++ {
			// A random point near the centre, kept if inside the shape.
			dlat := (r.Float64()*2 - 1) * size / 111000 * 1.5
			dlon := (r.Float64()*2 - 1) * size / 111000 * 1.5 / math.Max(math.Cos(s.Lat*math.Pi/180), 0.05)
			lon, lat := s.Lon+dlon, s.Lat+dlat
			sc, ok := Score(lon, lat)
			if !ok {
				continue
			}
			x, y := DecodeScore(float64(sc))
			if _, in := s.Contains(x, y); !in {
				continue
			}
			found := false
			for _, h := range cells {
				if h.IsZero() {
					continue
				}
				lo, hi := ScoreRange(h)
				if sc >= lo && sc < hi {
					found = true
				}
			}
			if !found {
				t.Fatalf("shape %+v: point (%v,%v) in no cell", s, x, y)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{{0, "0.0000"}, {166.27415156960032, "166.2742"}, {0.00004, "0.0000"}, {0.00005, "0.0000"}, {0.00015, "0.0001"}, {0.00025, "0.0002"}, {12345.6, "12345.6000"}} {
		if got := FormatDist(tc.f); got != tc.want {
			t.Errorf("FormatDist(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
	for _, tc := range []struct {
		f    float64
		want string
	}{{0, "0"}, {math.Copysign(0, -1), "0"}, {1.5, "1.5"}, {-180, "-180"}, {85.05112878, "85.0511287799999991"}} {
		if got := FormatCoord(tc.f); got != tc.want {
			t.Errorf("FormatCoord(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
	if got := FormatCFloat(200); got != "200.000000" {
		t.Errorf("FormatCFloat = %s", got)
	}
}

// The correctly rounded functions are within a few ulps of Go's, and exact
// on values whose result is known.
func TestCorrectlyRounded(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	ulp := func(x float64) float64 { return math.Abs(math.Nextafter(x, math.Inf(1)) - x) }
	for i := 0; i < 100000; i++ {
		x := (r.Float64()*2 - 1) * math.Pi
		if d := math.Abs(SinCR(x) - math.Sin(x)); d > 4*ulp(math.Sin(x)) {
			t.Fatalf("SinCR(%v) = %v, math.Sin %v", x, SinCR(x), math.Sin(x))
		}
		if d := math.Abs(CosCR(x) - math.Cos(x)); d > 4*ulp(math.Cos(x)) {
			t.Fatalf("CosCR(%v) = %v, math.Cos %v", x, CosCR(x), math.Cos(x))
		}
		y := r.Float64() * 0.99
		// Go's Asin loses a few bits near 1.
		if d := math.Abs(AsinCR(y) - math.Asin(y)); d > 8*ulp(math.Asin(y)) {
			t.Fatalf("AsinCR(%v) = %v, math.Asin %v", y, AsinCR(y), math.Asin(y))
		}
	}
	// Correctly rounded values (computed with 300-bit arithmetic) where a
	// 1-ulp function may round the other way.
	for _, tc := range []struct{ x, sin, cos float64 }{
		{1.3790100767952156, math.NaN(), 0.19061269781344},
		{-2.8027538064739743, -0.3323921852715505, math.NaN()},
		{2.3074686516262615, 0.7407082770452852, math.NaN()},
	} {
		if !math.IsNaN(tc.sin) && SinCR(tc.x) != tc.sin {
			t.Errorf("SinCR(%v) = %v, want %v", tc.x, SinCR(tc.x), tc.sin)
		}
		if !math.IsNaN(tc.cos) && CosCR(tc.x) != tc.cos {
			t.Errorf("CosCR(%v) = %v, want %v", tc.x, CosCR(tc.x), tc.cos)
		}
	}
	if got := AsinCR(0.008708570578109654); got != 0.008708680657039593 {
		t.Errorf("AsinCR = %v", got)
	}
	if got := AsinCR(0.999984487510571); got != 1.5652263125156725 {
		t.Errorf("AsinCR = %v", got)
	}
	if got := AsinCR(0.9992698242037596); got != 1.532579454264679 {
		t.Errorf("AsinCR = %v", got)
	}
}

func TestEstimateStep(t *testing.T) {
	for _, tc := range []struct {
		r, lat float64
		want   uint8
	}{{0, 0, 26}, {1, 0, 24}, {100000, 0, 7}, {100000, 70, 6}, {100000, 85, 5}, {1e9, 0, 1}} {
		if got := EstimateStep(tc.r, tc.lat); got != tc.want {
			t.Errorf("EstimateStep(%v,%v) = %d, want %d", tc.r, tc.lat, got, tc.want)
		}
	}
}

// AppendCoord's integer arithmetic gives what strconv's exact "%.17f"
// gives, trimmed.
func TestAppendCoordMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	ref := func(f float64) string { return string(appendTrimmed(nil, strconv.AppendFloat(nil, f, 'f', 17, 64))) }
	vals := []float64{0, 1, -1, 0.5, 1e-17, 5e-18, 1.5e-17, 2.5e-17, 1e-300, -1e-18, 183.99999999999997, 180, -180, 85.05112878, 13.361389338970184}
	for i := 0; i < 300000; i++ {
		switch i % 3 {
		case 0:
			vals = append(vals, (r.Float64()*2-1)*184)
		case 1:
			vals = append(vals, (r.Float64()*2-1)*math.Pow(10, -float64(r.IntN(20))))
		default:
			// values on a 2^-k grid hit exact ties at the 18th decimal
			vals = append(vals, float64(r.IntN(1<<20))/float64(uint64(1)<<(40+r.IntN(20))))
		}
	}
	for _, f := range vals {
		if got, want := FormatCoord(f), ref(f); got != want {
			t.Fatalf("FormatCoord(%v) = %s, want %s", f, got, want)
		}
	}
	for i := 0; i < 100000; i++ {
		d := r.ExpFloat64() * math.Pow(10, float64(r.IntN(8)))
		want := strconv.FormatFloat(math.RoundToEven(d*10000)/10000, 'f', 4, 64)
		if got := FormatDist(d); got != want && math.RoundToEven(d*10000) < 1e15 {
			t.Fatalf("FormatDist(%v) = %s, want %s", d, got, want)
		}
	}
}
