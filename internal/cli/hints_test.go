package cli

import (
	"strings"
	"testing"
)

// The argument syntax built from COMMAND DOCS is redis-cli 7.0's (as
// its hints and help show it), from redis-server and from redgo.
func TestHelpFromCommandDocs(t *testing.T) {
	want := map[string]string{
		"SET":        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
		"CONFIG GET": "parameter [parameter ...]",
		"ZADD":       "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]",
	}
	ports := map[string]int{"redgo": startRedgo(t), "redis-server": startRedis(t)}
	for name, port := range ports {
		c, err := dial(&Options{}, "127.0.0.1", port, "")
		if err != nil {
			t.Fatal(err)
		}
		help := loadHelp(c)
		c.close()
		for cmd, params := range want {
			e := help.lookup(strings.Fields(cmd))
			if e == nil || e.params != params {
				t.Errorf("%s: %s: got %+v, want %q", name, cmd, e, params)
			}
		}
		if got := help.hint("set k "); got != "value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]" {
			t.Errorf("%s: hint %q", name, got)
		}
		if got, n := help.Do([]rune("zad"), 3); n != 3 || len(got) != 1 || string(got[0]) != "d " {
			t.Errorf("%s: completion %q %d", name, got, n)
		}
		t.Logf("%s: %d commands documented", name, len(help))
	}
}
