// Package geo holds the geohash maths behind the GEO commands, with
// Redis 7.0's exact precision so that replies match it to the last
// printed digit:
//
//   - a point is stored as the score of a sorted set member: a 52-bit
//     geohash (26 bits of latitude and 26 of longitude, interleaved with
//     the latitude on the even bits), over the Web Mercator ranges
//     longitude [-180, 180] and latitude [-85.05112878, 85.05112878];
//   - a radius or box search picks a geohash precision (step) from the
//     size of the area, takes the cell of the centre and its eight
//     neighbours (dropping those the area cannot reach) and scans each
//     cell's score range, keeping the points inside the shape;
//   - distances use the haversine formula on a sphere of radius
//     6372797.560856 m.
//
// The package has no state and no dependencies beyond the standard
// library.
package geo

import (
	"math"
	"math/bits"
	"strconv"
)

// StepMax is the precision of stored points: 26 bits per coordinate.
const StepMax = 26

// Limits of the coordinates a point may have (EPSG:900913).
const (
	LonMin = -180.0
	LonMax = 180.0
	LatMin = -85.05112878
	LatMax = 85.05112878
)

// The constants below are variables so that expressions over them are
// evaluated in float64 arithmetic at run time, as C evaluates them, and
// not exactly by the Go compiler.
var (
	degToRad     = piValue / 180.0
	piValue      = math.Pi
	earthRadius  = 6372797.560856 // metres
	mercatorMax  = 20037726.37
	lonMinV      = LonMin
	lonMaxV      = LonMax
	latMinV      = LatMin
	latMaxV      = LatMax
	wgs84Ranges  = [2]Range{{lonMinV, lonMaxV}, {latMinV, latMaxV}}
	geohashLatLo = -90.0
	geohashLatHi = 90.0
)

// Range is an interval of one coordinate.
type Range struct{ Min, Max float64 }

// Hash is a geohash of Step bits per coordinate (2*Step bits in all).
// The zero Hash (Step 0) means "no cell".
type Hash struct {
	Bits uint64
	Step uint8
}

// IsZero reports whether h is the "no cell" value.
func (h Hash) IsZero() bool { return h.Bits == 0 && h.Step == 0 }

// Area is the cell of a hash: its longitude and latitude ranges.
type Area struct {
	Hash     Hash
	Lon, Lat Range
}

// spread moves the 32 low bits of v to the even bit positions.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// squash gathers the even bits of v into the 32 low bits.
func squash(v uint64) uint32 {
	x := v & 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// interleave puts lat on the even bits and lon on the odd bits.
func interleave(lat, lon uint32) uint64 { return spread(lat) | spread(lon)<<1 }

// deinterleave is interleave's inverse.
func deinterleave(b uint64) (lat, lon uint32) { return squash(b), squash(b >> 1) }

// EncodeIn encodes a point with step bits per coordinate over the given
// ranges. ok is false when the point is outside the ranges or outside the
// storable limits, or step is not in 1..32.
func EncodeIn(lonR, latR Range, lon, lat float64, step uint8) (Hash, bool) {
	if step == 0 || step > 32 {
		return Hash{}, false
	}
	if lon > lonMaxV || lon < lonMinV || lat > latMaxV || lat < latMinV {
		return Hash{}, false
	}
	if lat < latR.Min || lat > latR.Max || lon < lonR.Min || lon > lonR.Max {
		return Hash{Step: step}, false
	}
	latOff := (lat - latR.Min) / (latR.Max - latR.Min)
	lonOff := (lon - lonR.Min) / (lonR.Max - lonR.Min)
	scale := float64(uint64(1) << step)
	latOff = float64(latOff * scale)
	lonOff = float64(lonOff * scale)
	return Hash{Bits: interleave(uint32(latOff), uint32(lonOff)), Step: step}, true
}

// Encode encodes a point over the storable (WGS84 / Mercator) ranges.
func Encode(lon, lat float64, step uint8) (Hash, bool) {
	return EncodeIn(wgs84Ranges[0], wgs84Ranges[1], lon, lat, step)
}

// DecodeIn returns the cell of h over the given ranges; ok is false for
// the zero Hash.
func DecodeIn(lonR, latR Range, h Hash) (Area, bool) {
	if h.IsZero() {
		return Area{}, false
	}
	ilat, ilon := deinterleave(h.Bits)
	latScale := latR.Max - latR.Min
	lonScale := lonR.Max - lonR.Min
	// Dividing by 2^step is multiplying by 2^-step, exactly.
	inv := 1 / float64(uint64(1)<<h.Step)
	a := Area{Hash: h}
	a.Lat.Min = latR.Min + float64(float64(float64(ilat)*inv)*latScale)
	a.Lat.Max = latR.Min + float64(float64(float64(ilat+1)*inv)*latScale) // uint32 wraps, as in C
	a.Lon.Min = lonR.Min + float64(float64(float64(ilon)*inv)*lonScale)
	a.Lon.Max = lonR.Min + float64(float64(float64(ilon+1)*inv)*lonScale)
	return a, true
}

// Decode returns the cell of h over the storable ranges.
func Decode(h Hash) (Area, bool) { return DecodeIn(wgs84Ranges[0], wgs84Ranges[1], h) }

// Center returns the centre of a cell, clamped to the storable limits.
func (a Area) Center() (lon, lat float64) {
	lon = (a.Lon.Min + a.Lon.Max) / 2
	lon = math.Max(math.Min(lon, lonMaxV), lonMinV)
	lat = (a.Lat.Min + a.Lat.Max) / 2
	lat = math.Max(math.Min(lat, latMaxV), latMinV)
	return lon, lat
}

// Align52 shifts h's bits to the 52-bit score scale.
func Align52(h Hash) uint64 { return h.Bits << (52 - 2*uint(h.Step)) }

// Score is the sorted set score of a point (the 52-bit geohash); ok is
// false outside the storable limits.
func Score(lon, lat float64) (uint64, bool) {
	h, ok := Encode(lon, lat, StepMax)
	if !ok {
		return 0, false
	}
	return Align52(h), true
}

// ScoreBits converts a score to the 64-bit integer C's (uint64_t) cast
// yields on x86-64, so that scores that are not geohashes (negative,
// huge) decode as Redis decodes them.
func ScoreBits(score float64) uint64 {
	const two63 = 9223372036854775808.0
	if score < two63 {
		return uint64(cInt64(score))
	}
	return uint64(cInt64(score-two63)) ^ 1<<63
}

// cInt64 is C's (int64_t) cast on x86-64: out of range values (and NaN)
// give the "integer indefinite" value.
func cInt64(f float64) int64 {
	if !(f > -9223372036854775809.0 && f < 9223372036854775808.0) {
		return math.MinInt64
	}
	return int64(f)
}

// ScoreInt is (long long)score, what WITHHASH replies.
func ScoreInt(score float64) int64 { return cInt64(score) }

// DecodeScore returns the point a score stands for (the centre of its
// 52-bit cell).
func DecodeScore(score float64) (lon, lat float64) {
	a, _ := Decode(Hash{Bits: ScoreBits(score), Step: StepMax})
	return a.Center()
}

// moveX moves h by one cell east (d > 0) or west (d < 0).
func moveX(h *Hash, d int) {
	if d == 0 {
		return
	}
	x := h.Bits & 0xaaaaaaaaaaaaaaaa
	y := h.Bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - 2*uint(h.Step))
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= 0xaaaaaaaaaaaaaaaa >> (64 - 2*uint(h.Step))
	h.Bits = x | y
}

// moveY moves h by one cell north (d > 0) or south (d < 0).
func moveY(h *Hash, d int) {
	if d == 0 {
		return
	}
	x := h.Bits & 0xaaaaaaaaaaaaaaaa
	y := h.Bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - 2*uint(h.Step))
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= 0x5555555555555555 >> (64 - 2*uint(h.Step))
	h.Bits = x | y
}

// Neighbors are the eight cells around one.
type Neighbors struct {
	North, South, East, West                   Hash
	NorthEast, NorthWest, SouthEast, SouthWest Hash
}

// NeighborsOf returns the eight cells around h (wrapping at the edges).
func NeighborsOf(h Hash) Neighbors {
	mv := func(dx, dy int) Hash {
		n := h
		moveX(&n, dx)
		moveY(&n, dy)
		return n
	}
	return Neighbors{
		East: mv(1, 0), West: mv(-1, 0), South: mv(0, -1), North: mv(0, 1),
		NorthWest: mv(-1, 1), NorthEast: mv(1, 1), SouthEast: mv(1, -1), SouthWest: mv(-1, -1),
	}
}

// HashString is the standard 11-character geohash of a score (what
// GEOHASH replies): the point is re-encoded over latitude [-90, 90].
func HashString(score float64) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	lon, lat := DecodeScore(score)
	h, _ := EncodeIn(Range{-180, 180}, Range{geohashLatLo, geohashLatHi}, lon, lat, StepMax)
	var buf [11]byte
	for i := 0; i < 11; i++ {
		idx := 0
		if i < 10 {
			idx = int(h.Bits>>(52-(uint(i)+1)*5)) & 0x1f
		}
		buf[i] = alphabet[idx]
	}
	return string(buf[:])
}

// FormatCoord formats a coordinate as Redis's GEOPOS and WITHCOORD do: 17
// decimals (C's "%.17Lf"), trailing zeros and a trailing point removed,
// "-0" as "0".
func FormatCoord(f float64) string { return string(AppendCoord(nil, f)) }

// AppendCoord appends FormatCoord(f) to b.
func AppendCoord(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f) || math.Abs(f) >= 184:
		return appendTrimmed(b, strconv.AppendFloat(nil, f, 'f', 17, 64))
	}
	// |f| < 184: f*1e17 rounded fits in a uint64. f = m * 2^e exactly;
	// m*1e17 is at most 110 bits, shifted right by -e with the remainder
	// rounded half to even, as printf rounds the exact value.
	neg := math.Signbit(f)
	var n uint64
	if a := math.Abs(f); a != 0 {
		frac, exp := math.Frexp(a)
		m, sh := uint64(frac*(1<<53)), uint(53-exp) // a = m >> sh, sh >= 45
		hi, lo := bits.Mul64(m, 1e17)
		n = shiftRoundEven(hi, lo, sh)
	}
	var buf [40]byte
	d := buf[:0]
	if neg && n != 0 {
		d = append(d, '-')
	}
	d = strconv.AppendUint(d, n/1e17, 10)
	if fr := n % 1e17; fr != 0 {
		var digits [17]byte
		for i := 16; i >= 0; i-- {
			digits[i] = byte('0' + fr%10)
			fr /= 10
		}
		k := 17
		for digits[k-1] == '0' {
			k--
		}
		d = append(append(d, '.'), digits[:k]...)
	}
	return append(b, d...)
}

// shiftRoundEven returns the 128-bit hi:lo shifted right by sh (0 < sh <
// 128), rounded half to even, as a uint64 (the caller knows it fits).
func shiftRoundEven(hi, lo uint64, sh uint) uint64 {
	var q, remHi, remLo, halfHi, halfLo uint64
	switch {
	case sh >= 128:
		return 0
	case sh >= 64:
		q = hi >> (sh - 64)
		remHi, remLo = hi&(1<<(sh-64)-1), lo
		halfHi = 1 << (sh - 64) >> 1
		if sh == 64 {
			halfHi, halfLo = 0, 1<<63
		}
	default:
		q = lo>>sh | hi<<(64-sh)
		remLo = lo & (1<<sh - 1)
		halfLo = 1 << (sh - 1)
	}
	switch {
	case remHi > halfHi || remHi == halfHi && remLo > halfLo:
		q++
	case remHi == halfHi && remLo == halfLo && q&1 == 1:
		q++
	}
	return q
}

// appendTrimmed appends a "%.17f" string without its trailing zeros and
// point, "-0" as "0".
func appendTrimmed(b, s []byte) []byte {
	i := len(s)
	for i > 0 && s[i-1] == '0' {
		i--
	}
	if i > 0 && s[i-1] == '.' {
		i--
	}
	s = s[:i]
	if string(s) == "-0" {
		s = s[1:]
	}
	return append(b, s...)
}

// FormatDist formats a distance with 4 decimals, rounding half to even
// after scaling as Redis's fixedpoint_d2string does.
func FormatDist(d float64) string { return string(AppendDist(nil, d)) }

// AppendDist appends FormatDist(d) to b.
func AppendDist(b []byte, d float64) []byte {
	if d == 0 {
		return append(b, "0.0000"...)
	}
	v := math.RoundToEven(float64(d * 10000))
	neg := v < 0
	var u uint64
	switch {
	case v >= 9223372036854775808.0 || v < -9223372036854775808.0 || math.IsNaN(v):
		u = 1 << 63 // llrint's out-of-range result
		neg = true
	case neg:
		u = uint64(-int64(v))
	default:
		u = uint64(v)
	}
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, u/10000, 10)
	fr := u % 10000
	return append(b, '.', byte('0'+fr/1000), byte('0'+fr/100%10), byte('0'+fr/10%10), byte('0'+fr%10))
}

// FormatCFloat formats f as C's printf "%f" does (six decimals, "inf").
func FormatCFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}
