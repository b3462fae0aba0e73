package server

import (
	"strings"
	"testing"

	"redgo/internal/resp"
)

// MEMORY STATS has Redis's fields in Redis's order and types; MEMORY
// DOCTOR words an almost empty instance as Redis does.
func TestMemoryStatsAndDoctorMatchRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	oracle(t, s.Addr().String(), ra, [][]string{
		{"MEMORY", "DOCTOR"},
		{"MEMORY", "HELP"},
		{"SET", "k", "v"},
		{"SET", "e", "v", "EX", "100"},
	})
	shape := func(addr string) []string {
		c := dialRaw(t, addr)
		for _, proto := range []string{"2", "3"} {
			c.do("HELLO", proto)
			v, _ := c.do("MEMORY", "STATS")
			var out []string
			var walk func(prefix string, v resp.Value)
			walk = func(prefix string, v resp.Value) {
				for i := 0; i+1 < len(v.Elems); i += 2 {
					k, val := v.Elems[i].Str, v.Elems[i+1]
					if len(val.Elems) > 0 {
						walk(prefix+k+".", val)
						continue
					}
					out = append(out, prefix+k+":"+string(val.Type))
				}
			}
			walk("", v)
			if proto == "3" {
				return out
			}
		}
		return nil
	}
	got, want := shape(s.Addr().String()), shape(ra)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("MEMORY STATS fields:\n redgo %v\n redis %v", got, want)
	}
}
