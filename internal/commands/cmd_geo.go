package commands

import (
	"cmp"
	"slices"
	"strconv"
	"sync"

	"redgo/internal/datatype"
	"redgo/internal/geo"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// GEO commands. A geo set is a sorted set whose scores are 52-bit
// geohashes (package geo); these handlers read and write it through the
// sorted set type, so every ZSET command works on it too.

func init() {
	Register("geoadd", cmdGeoadd)
	Register("geodist", cmdGeodist)
	Register("geohash", cmdGeohash)
	Register("geopos", cmdGeopos)
	Register("georadius", func(c *Ctx) { geoSearch(c, 1, geoByCoords) }, KeysFunc(georadiusKeys))
	Register("georadius_ro", func(c *Ctx) { geoSearch(c, 1, geoByCoords|geoNoStore) })
	Register("georadiusbymember", func(c *Ctx) { geoSearch(c, 1, geoByMember) }, KeysFunc(georadiusKeys))
	Register("georadiusbymember_ro", func(c *Ctx) { geoSearch(c, 1, geoByMember|geoNoStore) })
	Register("geosearch", func(c *Ctx) { geoSearch(c, 1, geoSearchCmd) })
	Register("geosearchstore", func(c *Ctx) { geoSearch(c, 2, geoSearchCmd|geoSearchStore) })
}

// Error texts of the GEO family.
const (
	errGeoUnit      = "ERR unsupported unit provided. please use M, KM, FT, MI"
	errGeoMember    = "ERR could not decode requested zset member"
	errGeoRadius    = "ERR need numeric radius"
	errGeoRadiusNeg = "ERR radius cannot be negative"
	errGeoWidth     = "ERR need numeric width"
	errGeoHeight    = "ERR need numeric height"
	errGeoBoxNeg    = "ERR height or width cannot be negative"
	errGeoCount     = "ERR COUNT must be > 0"
	errGeoAny       = "ERR the ANY argument requires COUNT argument"
)

// georadiusKeys: the source key and the STORE/STOREDIST key, the last
// one given (Redis's georadiusGetKeys).
func georadiusKeys(args [][]byte) []int {
	pos := []int{1}
	store := -1
	for i := 5; i < len(args); i++ {
		if (EqualFold(args[i], "store") || EqualFold(args[i], "storedist")) && i+1 < len(args) {
			store = i + 1
			i++
		}
	}
	if store > 0 {
		pos = append(pos, store)
	}
	return pos
}

// geoLonLat parses a longitude and a latitude, returning the error reply.
func geoLonLat(lon, lat []byte) (x, y float64, err string) {
	var ok bool
	if x, ok = ParseFloat(lon); !ok {
		return 0, 0, ErrNotFloat
	}
	if y, ok = ParseFloat(lat); !ok {
		return 0, 0, ErrNotFloat
	}
	if x < geo.LonMin || x > geo.LonMax || y < geo.LatMin || y > geo.LatMax {
		return 0, 0, "ERR invalid longitude,latitude pair " + geo.FormatCFloat(x) + "," + geo.FormatCFloat(y)
	}
	return x, y, ""
}

// geoUnit returns the length in metres of a unit, or 0.
func geoUnit(u []byte) float64 {
	switch {
	case EqualFold(u, "m"):
		return 1
	case EqualFold(u, "km"):
		return 1000
	case EqualFold(u, "ft"):
		return 0.3048
	case EqualFold(u, "mi"):
		return 1609.34
	}
	return 0
}

// geoWriteCoord replies a coordinate: a bulk string in RESP2, a double in
// RESP3, with 17 decimals as Redis's addReplyHumanLongDouble.
func geoWriteCoord(c *Ctx, f float64) {
	if c.W.Resp3() {
		c.W.Buf = append(geo.AppendCoord(append(c.W.Buf, ','), f), '\r', '\n')
		return
	}
	var buf [48]byte
	c.W.Bulk(geo.AppendCoord(buf[:0], f))
}

// geoWriteDist replies a distance as a bulk string with 4 decimals.
func geoWriteDist(c *Ctx, d float64) {
	var buf [32]byte
	c.W.Bulk(geo.AppendDist(buf[:0], d))
}

// GEOADD key [NX|XX] [CH] lon lat member [lon lat member ...]
// It runs as the ZADD Redis turns it into, and is propagated as that ZADD.
func cmdGeoadd(c *Ctx) {
	var nx, xx bool
	li := 2
	for ; li < len(c.Args); li++ {
		switch a := c.Args[li]; {
		case EqualFold(a, "nx"):
			nx = true
		case EqualFold(a, "xx"):
			xx = true
		case EqualFold(a, "ch"):
		default:
			goto parsed
		}
	}
parsed:
	if (len(c.Args)-li)%3 != 0 || (xx && nx) {
		c.Error(ErrSyntax)
		return
	}
	n := (len(c.Args) - li) / 3
	zargs := make([][]byte, 0, li+2*n)
	zargs = append(zargs, []byte("zadd"))
	zargs = append(zargs, c.Args[1:li]...)
	for i := 0; i < n; i++ {
		a := c.Args[li+3*i:]
		x, y, err := geoLonLat(a[0], a[1])
		if err != "" {
			c.Error(err)
			return
		}
		bits, _ := geo.Score(x, y)
		zargs = append(zargs, strconv.AppendUint(nil, bits, 10), a[2])
	}
	args := c.Args
	c.Args = zargs
	dirty := c.Dirty
	zadd(c, 2, false)
	c.Args = args
	if c.Dirty > dirty {
		c.PropagateOwned(cloneArgs(zargs)...)
	}
}

// cloneArgs copies args so they outlive the request buffer.
func cloneArgs(args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// GEODIST key member1 member2 [unit]
func cmdGeodist(c *Ctx) {
	toMeter := 1.0
	if len(c.Args) == 5 {
		if toMeter = geoUnit(c.Args[4]); toMeter == 0 {
			c.Error(errGeoUnit)
			return
		}
	} else if len(c.Args) > 5 {
		c.Error(ErrSyntax)
		return
	}
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	s1, ok1 := z.Score(zstr(c.Args[2]))
	s2, ok2 := z.Score(zstr(c.Args[3]))
	if !ok1 || !ok2 {
		c.W.Null()
		return
	}
	x1, y1 := geo.DecodeScore(s1)
	x2, y2 := geo.DecodeScore(s2)
	geoWriteDist(c, geo.Distance(x1, y1, x2, y2)/toMeter)
}

// geoMemberScore is member's score in z (nil: a missing key).
func geoMemberScore(z *datatype.ZSet, m []byte) (float64, bool) {
	if z == nil {
		return 0, false
	}
	return z.Score(zstr(m))
}

// GEOHASH key [member ...]
func cmdGeohash(c *Ctx) {
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		s, found := geoMemberScore(z, m)
		if !found {
			c.W.Null()
			continue
		}
		c.W.BulkString(geo.HashString(s))
	}
}

// GEOPOS key [member ...]
func cmdGeopos(c *Ctx) {
	z, ok := zsetLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		s, found := geoMemberScore(z, m)
		if !found {
			c.W.NullArray()
			continue
		}
		x, y := geo.DecodeScore(s)
		c.W.Array(2)
		geoWriteCoord(c, x)
		geoWriteCoord(c, y)
	}
}

// ---- GEORADIUS / GEOSEARCH ----

// geoFlags say which command of the search family runs.
type geoFlags uint8

const (
	geoByCoords    geoFlags = 1 << iota // GEORADIUS[_RO]: lon lat radius unit
	geoByMember                         // GEORADIUSBYMEMBER[_RO]: member radius unit
	geoNoStore                          // the _RO variants: no STORE/STOREDIST
	geoSearchCmd                        // GEOSEARCH[STORE]: FROM.../BY... options
	geoSearchStore                      // GEOSEARCHSTORE: destination first, STOREDIST flag
)

const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

// geoQuery is a parsed search.
type geoQuery struct {
	shape                         geo.Shape
	withDist, withHash, withCoord bool
	sort                          int
	any                           bool
	count                         int64
	storeKey                      []byte
	storeDist                     bool
}

// geoMemberPos finds a member's position in the source set.
type geoMemberPos func(member []byte) (lon, lat float64, ok bool)

// parseGeoSearch parses a search command's arguments as Redis's
// georadiusGeneric does, in the same order, so the same error comes
// first. src says whether the source set exists (a missing set skips the
// member lookups); pos finds a member. It returns the error reply, or "".
func parseGeoSearch(args [][]byte, srcIdx int, flags geoFlags, src bool, pos geoMemberPos) (q geoQuery, err string) {
	var base int
	switch {
	case flags&geoByCoords != 0:
		base = 6
		if len(args) < base {
			return q, ErrSyntax
		}
		if q.shape.Lon, q.shape.Lat, err = geoLonLat(args[2], args[3]); err != "" {
			return q, err
		}
		if err = geoParseRadius(&q, args[4], args[5]); err != "" {
			return q, err
		}
	case flags&geoByMember != 0:
		base = 5
		if len(args) < base {
			return q, ErrSyntax
		}
		if src {
			var ok bool
			if q.shape.Lon, q.shape.Lat, ok = pos(args[2]); !ok {
				return q, errGeoMember
			}
			if err = geoParseRadius(&q, args[3], args[4]); err != "" {
				return q, err
			}
		}
	default:
		base = srcIdx + 1
		if flags&geoSearchStore != 0 {
			q.storeKey = args[1]
		}
	}
	var fromMember, fromLoc, byRadius, byBox bool
	search := flags&geoSearchCmd != 0
	storeOK := flags&(geoNoStore|geoSearchCmd) == 0
	for i := base; i < len(args); i++ {
		a, left := args[i], len(args)-i-1
		switch {
		case EqualFold(a, "withdist"):
			q.withDist = true
		case EqualFold(a, "withhash"):
			q.withHash = true
		case EqualFold(a, "withcoord"):
			q.withCoord = true
		case EqualFold(a, "any"):
			q.any = true
		case EqualFold(a, "asc"):
			q.sort = geoSortAsc
		case EqualFold(a, "desc"):
			q.sort = geoSortDesc
		case EqualFold(a, "count") && left >= 1:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return q, ErrNotInt
			}
			if n <= 0 {
				return q, errGeoCount
			}
			q.count = n
			i++
		case (EqualFold(a, "store") || EqualFold(a, "storedist")) && left >= 1 && storeOK:
			q.storeKey, q.storeDist = args[i+1], len(a) == 9
			i++
		case EqualFold(a, "storedist") && flags&geoSearchStore != 0:
			q.storeDist = true
		case EqualFold(a, "frommember") && left >= 1 && search && !fromLoc:
			if src {
				var ok bool
				if q.shape.Lon, q.shape.Lat, ok = pos(args[i+1]); !ok {
					return q, errGeoMember
				}
			}
			fromMember = true
			i++
		case EqualFold(a, "fromlonlat") && left >= 2 && search && !fromMember:
			if q.shape.Lon, q.shape.Lat, err = geoLonLat(args[i+1], args[i+2]); err != "" {
				return q, err
			}
			fromLoc = true
			i += 2
		case EqualFold(a, "byradius") && left >= 2 && search && !byBox:
			if err = geoParseRadius(&q, args[i+1], args[i+2]); err != "" {
				return q, err
			}
			byRadius = true
			i += 2
		case EqualFold(a, "bybox") && left >= 3 && search && !byRadius:
			if err = geoParseBox(&q, args[i+1], args[i+2], args[i+3]); err != "" {
				return q, err
			}
			byBox = true
			i += 3
		default:
			return q, ErrSyntax
		}
	}
	if q.storeKey != nil && (q.withDist || q.withHash || q.withCoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return q, "ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
	}
	name := string(args[0])
	if search && !fromMember && !fromLoc {
		return q, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + name
	}
	if search && !byRadius && !byBox {
		return q, "ERR exactly one of BYRADIUS and BYBOX can be specified for " + name
	}
	if q.any && q.count == 0 {
		return q, errGeoAny
	}
	return q, ""
}

func geoParseRadius(q *geoQuery, radius, unit []byte) string {
	r, ok := ParseFloat(radius)
	if !ok {
		return errGeoRadius
	}
	if r < 0 {
		return errGeoRadiusNeg
	}
	conv := geoUnit(unit)
	if conv == 0 {
		return errGeoUnit
	}
	q.shape.Box, q.shape.Radius, q.shape.Conversion = false, r, conv
	return ""
}

func geoParseBox(q *geoQuery, width, height, unit []byte) string {
	w, ok := ParseFloat(width)
	if !ok {
		return errGeoWidth
	}
	h, ok := ParseFloat(height)
	if !ok {
		return errGeoHeight
	}
	if h < 0 || w < 0 {
		return errGeoBoxNeg
	}
	conv := geoUnit(unit)
	if conv == 0 {
		return errGeoUnit
	}
	q.shape.Box, q.shape.Width, q.shape.Height, q.shape.Conversion = true, w, h, conv
	return ""
}

// geoPoint is a search result.
type geoPoint struct {
	member   string
	lon, lat float64
	dist     float64 // metres, then the query's unit
	score    float64
	seq      int // order found
}

// geoPoints recycles search result buffers.
var geoPoints = sync.Pool{New: func() any { return new([]geoPoint) }}

// geoFind appends to out the members of z inside the shape, scanning the
// cells in Redis's order; limit > 0 stops once that many were found (ANY).
func geoFind(z *datatype.ZSet, shape *geo.Shape, limit int, out []geoPoint) []geoPoint {
	cells := shape.Cells()
	last := 0
	for i, h := range cells {
		if h.IsZero() {
			continue
		}
		// Huge radii make neighbouring cells coincide: skip repeats of
		// the cell scanned last (never compared with the centre, as Redis).
		if last != 0 && h == cells[last] {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		lo, hi := geo.ScoreRange(h)
		r := datatype.ScoreRange{Min: float64(lo), Max: float64(hi), MaxEx: true}
		if rank := z.FirstInScore(&r); rank >= 0 {
			it := z.IterAt(rank, false)
			for e, ok := it.Next(); ok && r.LteMax(e.Score); e, ok = it.Next() {
				lon, lat := geo.DecodeScore(e.Score)
				if d, in := shape.Contains(lon, lat); in {
					out = append(out, geoPoint{e.Member, lon, lat, d, e.Score, len(out)})
				}
				if limit > 0 && len(out) >= limit {
					break
				}
			}
		}
		last = i
	}
	return out
}

// geoSearch serves GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms),
// GEOSEARCH and GEOSEARCHSTORE; srcIdx is the source key's index.
func geoSearch(c *Ctx, srcIdx int, flags geoFlags) {
	z, ok := zsetLookup(c, c.Args[srcIdx], false)
	if !ok {
		return
	}
	q, err := parseGeoSearch(c.Args, srcIdx, flags, z != nil, func(m []byte) (float64, float64, bool) {
		s, found := z.Score(zstr(m))
		if !found {
			return 0, 0, false
		}
		x, y := geo.DecodeScore(s)
		return x, y, true
	})
	if err != "" {
		c.Error(err)
		return
	}
	if z == nil {
		if q.storeKey != nil {
			if c.DB.Delete(q.storeKey) {
				c.Notify(notify.Generic, "del", q.storeKey)
				c.Dirty++
			}
			c.W.Int(0)
			return
		}
		c.W.Array(0)
		return
	}
	if q.count != 0 && q.sort == geoSortNone && !q.any {
		q.sort = geoSortAsc
	}
	limit := 0
	if q.any {
		limit = int(min(q.count, int64(z.Len())+1))
	}
	buf := geoPoints.Get().(*[]geoPoint)
	defer func() { clear(*buf); geoPoints.Put(buf) }()
	pts := geoFind(z, &q.shape, limit, (*buf)[:0])
	*buf = pts
	if len(pts) == 0 && q.storeKey == nil {
		c.W.Array(0)
		return
	}
	n := len(pts)
	if q.count != 0 && int64(n) > q.count {
		n = int(q.count)
	}
	// Ties keep the order they were found in (the index breaks them).
	switch q.sort {
	case geoSortAsc:
		slices.SortFunc(pts, func(a, b geoPoint) int { return cmp.Or(cmpDist(a.dist, b.dist), a.seq-b.seq) })
	case geoSortDesc:
		slices.SortFunc(pts, func(a, b geoPoint) int { return cmp.Or(cmpDist(b.dist, a.dist), a.seq-b.seq) })
	}
	pts = pts[:n]
	for i := range pts {
		pts[i].dist /= q.shape.Conversion
	}
	if q.storeKey != nil {
		event := "georadiusstore"
		if flags&geoSearchCmd != 0 { // GEOSEARCHSTORE
			event = "geosearchstore"
		}
		geoStore(c, &q, pts, event)
		return
	}
	opts := 0
	for _, b := range []bool{q.withDist, q.withCoord, q.withHash} {
		if b {
			opts++
		}
	}
	c.W.Array(n)
	for _, p := range pts {
		if opts > 0 {
			c.W.Array(opts + 1)
		}
		c.W.BulkString(p.member)
		if q.withDist {
			geoWriteDist(c, p.dist)
		}
		if q.withHash {
			c.W.Int(geo.ScoreInt(p.score))
		}
		if q.withCoord {
			c.W.Array(2)
			geoWriteCoord(c, p.lon)
			geoWriteCoord(c, p.lat)
		}
	}
}

func cmpDist(a, b float64) int {
	switch {
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return -1
}

// geoStore writes a STORE/STOREDIST/GEOSEARCHSTORE result: a sorted set
// of the members with their geohash (or their distance) as score.
func geoStore(c *Ctx, q *geoQuery, pts []geoPoint, event string) {
	if len(pts) == 0 {
		if c.DB.Delete(q.storeKey) {
			c.Notify(notify.Generic, "del", q.storeKey)
			c.Dirty++
		}
		c.W.Int(0)
		return
	}
	es := make([]datatype.ZEntry, len(pts))
	for i, p := range pts {
		s := p.score
		if q.storeDist {
			// Every digit is kept: use the correctly rounded functions.
			s = geo.DistanceCR(q.shape.Lon, q.shape.Lat, p.lon, p.lat) / q.shape.Conversion
		}
		es[i] = datatype.ZEntry{Member: p.member, Score: s}
	}
	c.DB.Set(q.storeKey, keyspace.NewZSet(datatype.BuildZSet(c.KS.Limits, es)), false)
	c.Notify(notify.Zset, event, q.storeKey)
	c.Dirty += len(pts)
	c.W.Int(int64(len(pts)))
}
