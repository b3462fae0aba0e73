package commands

import (
	"bytes"
	"testing"
)

// fuzzArgs splits a fuzz input into command arguments at spaces.
func fuzzArgs(data []byte) []string {
	var out []string
	for _, f := range bytes.Split(data, []byte(" ")) {
		out = append(out, string(f))
	}
	return out
}

var geoFuzzCmds = []string{"georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore", "geoadd", "geodist", "geopos", "geohash"}

// FuzzGeoArgs runs GEO commands with arbitrary arguments over a small geo
// set: every input gets one well-formed reply, never a panic.
func FuzzGeoArgs(f *testing.F) {
	for _, s := range []string{
		"g fromlonlat 15 37 byradius 200 km withdist withcoord withhash count 2 any desc",
		"d g frommember Palermo bybox 100 200 mi storedist count 1",
		"g 15 37 200 km store d storedist e count 3",
		"g Palermo 100 ft withdist asc",
		"g nx ch 1 2 x 3 4 y",
		"g Palermo Catania km",
		"g fromlonlat 180 85.05112878 byradius 0 m",
		"g fromlonlat -180 -85.05112878 bybox 40000 40000 km",
		"g 15 37 1e308 km",
		"g frommember nosuch byradius 1 km",
	} {
		for i := range geoFuzzCmds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		e := newEnv(t)
		e.do("geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania", "0", "0", "origin", "180", "85", "corner")
		e.do("zadd", "g", "-1", "neg", "1e300", "huge")
		args := append([]string{geoFuzzCmds[int(which)%len(geoFuzzCmds)]}, fuzzArgs(data)...)
		if c := Lookup([]byte(args[0])); c != nil && (c.Arity > 0 && len(args) != c.Arity || c.Arity < 0 && len(args) < -c.Arity) {
			return
		}
		e.do(args...)
	})
}

// FuzzSortArgs runs SORT with arbitrary options over lists, sets and
// sorted sets with BY and GET targets.
func FuzzSortArgs(f *testing.F) {
	for _, s := range []string{
		"l by w_* get # get h_*->f limit 1 2 desc alpha store out",
		"s by nosort store out",
		"z by nosort desc limit 2 10",
		"l limit -1 -1 alpha",
		"z by h_*-> get *->f get #",
		"l by w_*\x00x get \x00",
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, ro bool, data []byte) {
		e := newEnv(t)
		e.do("rpush", "l", "3", "1", "b", "", "2.5", "a")
		e.do("sadd", "s", "5", "1", "x")
		e.do("zadd", "z", "1", "a", "2", "b", "3", "3")
		e.do("mset", "w_3", "1", "w_a", "x", "w_b", "2")
		e.do("hset", "h_1", "f", "9", "h_a", "f", "1")
		name := "sort"
		if ro {
			name = "sort_ro"
		}
		args := append([]string{name}, fuzzArgs(data)...)
		if len(args) < 2 {
			return
		}
		e.do(args...)
	})
}
