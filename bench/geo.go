package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// The GEO comparison: GEOADD of random members, and GEOSEARCH by radius
// and by box over a set of geoPoints points spread over a 1x1 degree
// square (about 10 points per km²), on both servers, redis-benchmark
// -c 50. Its section of docs/benchmarks.md sits between markers so
// `go run ./bench -geo` rewrites only its part.

var (
	geoOnly   = flag.Bool("geo", false, "run only the GEOADD/GEOSEARCH comparison and update its section of the report")
	geoRounds = flag.Int("geo-rounds", 3, "alternating rounds per server for the GEO comparison")
	geoN      = flag.Int("geo-n", 100000, "requests per test in the GEO comparison")
)

const (
	geoBegin  = "<!-- geo:begin -->"
	geoEnd    = "<!-- geo:end -->"
	geoPoints = 100000
)

// geoTests are the benchmarked commands, in report order.
var geoTests = []struct {
	name string
	args []string
}{
	{"GEOADD (random member)", []string{"GEOADD", "geo:add", "13.361389", "38.115556", "m:__rand_int__"}},
	{"GEOSEARCH BYRADIUS 2 km ASC (about 120 results)", []string{"GEOSEARCH", "geo", "FROMLONLAT", "13.5", "38", "BYRADIUS", "2", "km", "ASC"}},
	{"GEOSEARCH BYRADIUS 2 km WITHDIST WITHCOORD COUNT 10", []string{"GEOSEARCH", "geo", "FROMLONLAT", "13.5", "38", "BYRADIUS", "2", "km", "WITHDIST", "WITHCOORD", "COUNT", "10"}},
	{"GEOSEARCH BYBOX 3 3 km (about 90 results)", []string{"GEOSEARCH", "geo", "FROMLONLAT", "13.5", "38", "BYBOX", "3", "3", "km"}},
}

// geoLoad fills key "geo" with the same pseudo-random points on a server.
func geoLoad(s *server) {
	r := rand.New(rand.NewPCG(42, 42))
	const batch = 2000
	for i := 0; i < geoPoints; i += batch {
		args := []string{"GEOADD", "geo"}
		for j := i; j < i+batch; j++ {
			args = append(args, fmt.Sprintf("%.6f", 13+r.Float64()), fmt.Sprintf("%.6f", 37.5+r.Float64()), fmt.Sprint("p:", j))
		}
		s.cli(args...)
	}
}

// geoSection runs the comparison and returns its markdown (with markers).
func geoSection(bin string) string {
	n, rounds := *geoN, *geoRounds
	if *quick {
		n, rounds = 20000, 1
	}
	best := map[string]map[string]float64{"redgo": {}, "redis": {}}
	for r := 0; r < rounds; r++ {
		for _, name := range []string{"redgo", "redis"} {
			s := start(name, serverBin(name, bin))
			time.Sleep(200 * time.Millisecond)
			geoLoad(s)
			for _, t := range geoTests {
				if v := benchCommand(s, n, t.args); v > best[name][t.name] {
					best[name][t.name] = v
				}
			}
			s.stop()
		}
		fmt.Fprintf(os.Stderr, "geo: round %d/%d\n", r+1, rounds)
	}
	var b strings.Builder
	b.WriteString(geoBegin + "\n")
	b.WriteString("## GEO commands (requests/s)\n\n")
	b.WriteString(producedBy("geo"))
	fmt.Fprintf(&b, "redis-benchmark -c %d -n %d -r 100000, best of %d alternating rounds, a fresh server per round.\n", *clients, n, rounds)
	fmt.Fprintf(&b, "GEOSEARCH runs over %d points spread uniformly over longitude 13-14, latitude 37.5-38.5 (key `geo`,\n", geoPoints)
	b.WriteString("loaded with GEOADD before the runs). The machine is shared and noisy: read the ratios, not the absolute numbers.\n\n")
	b.WriteString("| test | command | redgo | redis | redgo/redis |\n|---|---|---|---|---|\n")
	for _, t := range geoTests {
		g, rr := best["redgo"][t.name], best["redis"][t.name]
		fmt.Fprintf(&b, "| %s | `%s` | %.0f | %.0f | **%.2f** |\n", t.name, strings.Join(t.args, " "), g, rr, ratio(g, rr))
	}
	b.WriteString(geoEnd + "\n")
	return b.String()
}
