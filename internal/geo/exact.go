package geo

import "math"

// Correctly rounded sin, cos and asin for the distances that are stored
// with all their digits (STOREDIST): redis-server computes them with the
// C library's functions, which round correctly in practice, while Go's
// math package may be one unit in the last place away. They evaluate in
// double-double arithmetic (about 106 bits) and round once.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

func (a dd) mul(b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p.hi, p.lo)
}

func (a dd) div(b dd) dd {
	q1 := a.hi / b.hi
	r := a.add(b.mul(dd{q1, 0}).neg())
	q2 := r.hi / b.hi
	r = r.add(b.mul(dd{q2, 0}).neg())
	q3 := r.hi / b.hi
	q := quickTwoSum(q1, q2)
	return q.add(dd{q3, 0})
}

// pio2 is pi/2 to about 160 bits, in three parts.
var pio2 = [3]float64{1.5707963267948966, 6.123233995736766e-17, -1.4973849048591698e-33}

// invFact[i] is 1/i! in double-double.
var invFact = func() [32]dd {
	var f [32]dd
	f[0] = dd{1, 0}
	for i := 1; i < len(f); i++ {
		f[i] = f[i-1].div(dd{float64(i), 0})
	}
	return f
}()

// reduce returns r = x - k*pi/2 in double-double and k mod 4.
func reduce(x float64) (dd, int) {
	k := math.Round(x / pio2[0])
	if k == 0 {
		return dd{x, 0}, 0
	}
	r := dd{x, 0}
	for _, p := range pio2 {
		r = r.add(twoProd(-k, p))
	}
	return r, int(k) & 3
}

// sinCosDD returns sin(r) and cos(r) for |r| <= pi/4 by their series.
func sinCosDD(r dd) (s, c dd) {
	r2 := r.mul(r)
	// Horner from the highest terms kept: |r| <= pi/4 makes the 29th
	// and 30th terms smaller than 2^-110.
	s, c = invFact[29], invFact[30]
	for i := 27; i >= 1; i -= 2 {
		s = invFact[i].add(s.mul(r2).neg())
		c = invFact[i+1].add(c.mul(r2).neg())
	}
	s = s.mul(r)
	c = dd{1, 0}.add(c.mul(r2).neg())
	return s, c
}

// sinCos returns sin(x) and cos(x) in double-double.
func sinCos(x float64) (dd, dd) {
	r, k := reduce(x)
	s, c := sinCosDD(r)
	switch k {
	case 1:
		return c, s.neg()
	case 2:
		return s.neg(), c.neg()
	case 3:
		return c.neg(), s
	}
	return s, c
}

// SinCR is sin(x) correctly rounded, for |x| up to a few pi.
func SinCR(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1e6 {
		return math.Sin(x)
	}
	s, _ := sinCos(x)
	return s.hi + s.lo
}

// CosCR is cos(x) correctly rounded, for |x| up to a few pi.
func CosCR(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1e6 {
		return math.Cos(x)
	}
	_, c := sinCos(x)
	return c.hi + c.lo
}

// AsinCR is asin(y) correctly rounded: one Newton step in double-double
// from Go's estimate.
func AsinCR(y float64) float64 {
	x0 := math.Asin(y)
	if y == 0 || math.IsNaN(x0) || math.Abs(y) > 0.9999999 {
		return x0
	}
	s, c := sinCos(x0)
	d := dd{y, 0}.add(s.neg()).div(c)
	x := twoSum(x0, d.hi)
	x.lo += d.lo
	return x.hi + x.lo
}

// DistanceCR is Distance computed with correctly rounded sin, cos and
// asin, so that all its digits are those redis-server stores.
func DistanceCR(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := SinCR((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := SinCR((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(CosCR(lat1r)*CosCR(lat2r))*v)*v)
	return float64(2.0*earthRadius) * AsinCR(math.Sqrt(a))
}
