package geo

import "math"

func degRad(a float64) float64 { return float64(a * degToRad) }
func radDeg(a float64) float64 { return a / degToRad }

// LatDistance is the distance in metres between two latitudes on one
// meridian.
func LatDistance(lat1, lat2 float64) float64 {
	return float64(earthRadius * math.Abs(degRad(lat2)-degRad(lat1)))
}

// Distance is the haversine distance in metres between two points.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := math.Sin((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := math.Sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(math.Cos(lat1r)*math.Cos(lat2r))*v)*v)
	return float64(2.0*earthRadius) * math.Asin(math.Sqrt(a))
}

// Shape is a search area: a circle of Radius, or a box of Width by
// Height, centred on (Lon, Lat). Sizes are in the unit whose length in
// metres is Conversion.
type Shape struct {
	Box           bool
	Lon, Lat      float64
	Radius        float64
	Width, Height float64
	Conversion    float64
	// bounds of the area: min lon, min lat, max lon, max lat.
	bounds [4]float64
	// cosine of the centre's latitude, once computed
	cosLat float64
	cosSet bool
}

// Contains reports whether the point is inside the shape and its distance
// in metres from the centre.
func (s *Shape) Contains(lon, lat float64) (float64, bool) {
	if !s.Box {
		r := float64(s.Radius * s.Conversion)
		// The great-circle distance is at least the distance between the
		// latitudes: most points outside are refused without trigonometry
		// (with a margin far above rounding errors, so no answer changes).
		if LatDistance(lat, s.Lat) > r*(1+1e-9)+1e-9 {
			return 0, false
		}
		d := s.distance(lon, lat)
		return d, d <= r
	}
	w, h := float64(s.Width*s.Conversion), float64(s.Height*s.Conversion)
	if LatDistance(lat, s.Lat) > h/2 {
		return 0, false
	}
	if Distance(lon, lat, s.Lon, lat) > w/2 {
		return 0, false
	}
	return s.distance(lon, lat), true
}

// distance is Distance from the centre, with the centre's cosine
// computed once per search (the same value Distance computes).
func (s *Shape) distance(lon, lat float64) float64 {
	if !s.cosSet {
		s.cosLat, s.cosSet = math.Cos(degRad(s.Lat)), true
	}
	lon1r, lon2r := degRad(s.Lon), degRad(lon)
	v := math.Sin((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(s.Lat, lat)
	}
	lat1r, lat2r := degRad(s.Lat), degRad(lat)
	u := math.Sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(s.cosLat*math.Cos(lat2r))*v)*v)
	return float64(2.0*earthRadius) * math.Asin(math.Sqrt(a))
}

// boundingBox computes the area's lon/lat bounds.
func (s *Shape) boundingBox() {
	height, width := s.Radius, s.Radius
	if s.Box {
		height, width = s.Height/2, s.Width/2
	}
	height = float64(s.Conversion * height)
	width = float64(s.Conversion * width)
	latDelta := radDeg(height / earthRadius)
	lonDeltaTop := radDeg(width / earthRadius / CosCR(degRad(s.Lat+latDelta)))
	lonDeltaBottom := radDeg(width / earthRadius / CosCR(degRad(s.Lat-latDelta)))
	if s.Lat < 0 {
		s.bounds[0] = s.Lon - lonDeltaBottom
		s.bounds[2] = s.Lon + lonDeltaBottom
	} else {
		s.bounds[0] = s.Lon - lonDeltaTop
		s.bounds[2] = s.Lon + lonDeltaTop
	}
	s.bounds[1] = s.Lat - latDelta
	s.bounds[3] = s.Lat + latDelta
}

// EstimateStep is the geohash precision whose cells are about the size
// of a search of range metres around latitude lat.
func EstimateStep(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(max(1, min(26, step)))
}

// Cells returns the cells to scan for the shape, in Redis's order: the
// centre cell, then north, south, east, west, north-east, north-west,
// south-east, south-west. Cells the area cannot reach are zero.
func (s *Shape) Cells() [9]Hash {
	s.boundingBox()
	minLon, minLat, maxLon, maxLat := s.bounds[0], s.bounds[1], s.bounds[2], s.bounds[3]
	radius := s.Radius
	if s.Box {
		radius = math.Sqrt(float64(s.Width/2*(s.Width/2)) + float64(s.Height/2*(s.Height/2)))
	}
	radius = float64(radius * s.Conversion)
	step := EstimateStep(radius, s.Lat)
	hash, _ := Encode(s.Lon, s.Lat, step)
	nb := NeighborsOf(hash)
	area, _ := Decode(hash)

	// A cell next to the centre's may still not cover the area's edge:
	// then take one step less.
	n, _ := Decode(nb.North)
	so, _ := Decode(nb.South)
	e, _ := Decode(nb.East)
	w, _ := Decode(nb.West)
	if step > 1 && (n.Lat.Max < maxLat || so.Lat.Min > minLat || e.Lon.Max < maxLon || w.Lon.Min > minLon) {
		step--
		hash, _ = Encode(s.Lon, s.Lat, step)
		nb = NeighborsOf(hash)
		area, _ = Decode(hash)
	}
	if step >= 2 {
		if area.Lat.Min < minLat {
			nb.South, nb.SouthWest, nb.SouthEast = Hash{}, Hash{}, Hash{}
		}
		if area.Lat.Max > maxLat {
			nb.North, nb.NorthEast, nb.NorthWest = Hash{}, Hash{}, Hash{}
		}
		if area.Lon.Min < minLon {
			nb.West, nb.SouthWest, nb.NorthWest = Hash{}, Hash{}, Hash{}
		}
		if area.Lon.Max > maxLon {
			nb.East, nb.SouthEast, nb.NorthEast = Hash{}, Hash{}, Hash{}
		}
	}
	return [9]Hash{hash, nb.North, nb.South, nb.East, nb.West, nb.NorthEast, nb.NorthWest, nb.SouthEast, nb.SouthWest}
}

// ScoreRange is the range of scores [min, max) of the points in cell h.
func ScoreRange(h Hash) (min, max uint64) {
	min = Align52(h)
	h.Bits++
	return min, Align52(h)
}
