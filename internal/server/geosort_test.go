package server

import (
	"strings"
	"testing"
)

// GEO and SORT writes reach the AOF and replicas as Redis sends them:
// GEOADD as the ZADD it becomes, the STORE forms as themselves, reads and
// no-op writes not at all.
func TestGeoSortPropagation(t *testing.T) {
	s, rc := startServer(t)
	rec := &propRecorder{}
	s.AddPropagator(rec)
	for _, cmd := range [][]any{
		{"GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"},
		{"GEOADD", "g", "NX", "CH", "13.361389", "38.115556", "Palermo"}, // no change
		{"GEOADD", "g", "XX", "CH", "13.361389", "38.2", "Palermo"},
		{"GEOADD", "g", "200", "0", "bad"},
		{"GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
		{"GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d"},
		{"GEOSEARCHSTORE", "d2", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km", "STOREDIST"},
		{"GEORADIUS", "nosuch", "15", "37", "200", "km", "STORE", "d9"}, // nothing to delete
		{"RPUSH", "l", "3", "1", "2"},
		{"SORT", "l"},
		{"SORT", "l", "DESC", "STORE", "sl"},
		{"SORT_RO", "l", "LIMIT", "0", "1"},
	} {
		rc.Do(ctx, cmd...)
	}
	want := []string{
		"0 zadd g 3479099956230698 Palermo 3479447370796909 Catania",
		"0 zadd g XX CH 3479101030759983 Palermo",
		"0 GEORADIUS g 15 37 200 km STORE d",
		"0 GEOSEARCHSTORE d2 g FROMMEMBER Palermo BYRADIUS 10 km STOREDIST",
		"0 RPUSH l 3 1 2",
		"0 SORT l DESC STORE sl",
	}
	got := rec.lines()
	if len(got) != len(want) {
		t.Fatalf("propagated %q\nwant %q", got, want)
	}
	for i := range want {
		if !strings.EqualFold(got[i], want[i]) {
			t.Errorf("propagated %q, want %q", got[i], want[i])
		}
	}
}

// In cluster mode SORT refuses BY and GET patterns, as Redis 7.0, and a
// STORE key must share the source's slot.
func TestSortClusterMode(t *testing.T) {
	_, addr := startCluster(t, "")
	coverAll(t, addr)
	c := dialRaw(t, addr)
	c.do("RPUSH", "{k}l", "3", "1", "2")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SORT", "{k}l", "BY", "{k}w_*"}, "BY option of SORT denied in Cluster mode."},
		{[]string{"SORT", "{k}l", "GET", "#"}, "GET option of SORT denied in Cluster mode."},
		{[]string{"SORT_RO", "{k}l", "GET", "{k}x_*"}, "GET option of SORT denied in Cluster mode."},
		{[]string{"SORT", "{k}l", "STORE", "other"}, "CROSSSLOT Keys in request don't hash to the same slot"},
	} {
		if v, _ := c.do(tc.args...); v.Type != '-' || !strings.HasSuffix(v.Str, tc.want) {
			t.Errorf("%v: %s, want error %q", tc.args, v.String(), tc.want)
		}
	}
	if v, _ := c.do("SORT", "{k}l", "BY", "nosort", "DESC"); v.String() != `["2" "1" "3"]` {
		t.Errorf("SORT BY nosort: %s", v.String())
	}
	if v, _ := c.do("SORT", "{k}l", "STORE", "{k}out"); v.String() != "3" {
		t.Errorf("SORT STORE: %s", v.String())
	}
}

// COMMAND answers for the GEO and SORT commands as redis-server does.
func TestGeoSortCommandInfo(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	var script [][]string
	for _, name := range []string{"geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
		"georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore", "sort", "sort_ro"} {
		script = append(script, []string{"COMMAND", "INFO", name}, []string{"COMMAND", "DOCS", name})
	}
	for _, c := range []string{
		"sort a", "sort a limit 0 1 store b", "sort a get store b store c", "sort a by x get y store", "sort_ro a by x",
		"georadius g 1 2 3 km", "georadius g 1 2 3 km store x", "georadiusbymember g m 3 km storedist x",
		"georadius_ro g 1 2 3 km", "geosearch g frommember m byradius 1 km", "geosearchstore d s fromlonlat 1 1 byradius 1 km",
		"geoadd g 1 1 m", "geodist g a b", "geopos g a",
	} {
		script = append(script, append([]string{"COMMAND", "GETKEYS"}, strings.Fields(c)...),
			append([]string{"COMMAND", "GETKEYSANDFLAGS"}, strings.Fields(c)...))
	}
	// A script sees a set sorted even BY nosort (its replies must not
	// depend on the hash table's order).
	script = append(script, []string{"SADD", "s", "c", "a", "b", "10"},
		[]string{"EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort')", "1", "s"},
		[]string{"EVAL", "return redis.call('sort_ro', KEYS[1], 'by', 'nosort', 'desc', 'limit', '1', '2')", "1", "s"},
		[]string{"EVAL", "return redis.call('geoadd', KEYS[1], 1, 2, 'm')", "1", "g"},
		[]string{"EVAL", "return redis.call('geopos', KEYS[1], 'm')", "1", "g"},
		[]string{"EVAL", "return redis.call('geodist', KEYS[1], 'm', 'm')", "1", "g"})
	oracle(t, s.Addr().String(), redisAddr, script)
}
