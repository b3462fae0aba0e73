package server

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
	"testing"

	"redgo/internal/commands"
	"redgo/internal/resp"
)

func registered(name string) bool { return lookupFullName([]byte(name)) != nil }

// normalizeInfo sorts a container entry's subcommands by name (Redis lists
// them in hash table order, seeded at random per process) and keeps only
// those named in keep (nil keeps all).
func normalizeInfo(v resp.Value, keep map[string]bool) resp.Value {
	if len(v.Elems) <= infoSubs || len(v.Elems[infoSubs].Elems) == 0 {
		return v
	}
	elems := append([]resp.Value(nil), v.Elems...)
	var subs []resp.Value
	for _, sv := range elems[infoSubs].Elems {
		if keep == nil || keep[sv.Elems[0].Str] {
			subs = append(subs, sv)
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Elems[0].Str < subs[j].Elems[0].Str })
	elems[infoSubs] = resp.Value{Type: elems[infoSubs].Type, Elems: subs}
	v.Elems = elems
	return v
}

func TestCommandInfoMatchesRedisByteForByte(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	for _, proto := range []string{"2", "3"} {
		a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
		a.do("HELLO", proto)
		b.do("HELLO", proto)
		for _, cmd := range [][]string{
			{"COMMAND", "INFO", "get", "set", "zadd"},
			{"COMMAND", "INFO", "GET", "nosuchcommand", "config|get", "config|nosuch", "get|x"},
			{"COMMAND", "DOCS", "get", "set"},
			{"COMMAND", "DOCS", "nosuch", "config|get", "CLIENT|ID"},
			{"COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right"},
			{"COMMAND", "HELP"},
		} {
			for _, name := range cmd[2:] {
				if strings.Contains(name, "nosuch") || strings.HasSuffix(name, "|x") || !strings.HasPrefix(cmd[1], "INFO") && !strings.HasPrefix(cmd[1], "DOCS") {
					continue
				}
				if !registered(name) {
					t.Skipf("%s not registered yet", name)
				}
			}
			_, ra := a.do(cmd...)
			_, rb := b.do(cmd...)
			if !bytes.Equal(ra, rb) {
				t.Errorf("RESP%s %q:\n redgo %q\n redis %q", proto, cmd, ra, rb)
			}
		}
		// A container: same entry once subcommands are put in one order.
		va, _ := a.do("COMMAND", "INFO", "config")
		vb, _ := b.do("COMMAND", "INFO", "config")
		na, nb := normalizeInfo(va.Elems[0], nil), normalizeInfo(vb.Elems[0], nil)
		if !reflect.DeepEqual(na, nb) {
			t.Errorf("RESP%s COMMAND INFO config:\n redgo %v\n redis %v", proto, na, nb)
		}
	}
}

func TestCommandAllMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	va, _ := a.do("COMMAND")
	vb, _ := b.do("COMMAND")
	theirs := map[string]resp.Value{}
	for _, e := range vb.Elems {
		theirs[e.Elems[0].Str] = e
	}
	if len(va.Elems) != len(commands.All()) || len(va.Elems) == 0 {
		t.Fatalf("COMMAND has %d entries, %d registered", len(va.Elems), len(commands.All()))
	}
	cnt, _ := a.do("COMMAND", "COUNT")
	if cnt.Int != int64(len(va.Elems)) {
		t.Errorf("COMMAND COUNT %d, COMMAND lists %d", cnt.Int, len(va.Elems))
	}
	for _, e := range va.Elems {
		name := e.Elems[0].Str
		want, ok := theirs[name]
		if !ok {
			t.Errorf("redgo lists %q, unknown to Redis", name)
			continue
		}
		keep := map[string]bool{}
		for _, sv := range e.Elems[infoSubs].Elems {
			keep[sv.Elems[0].Str] = true
		}
		for _, sv := range want.Elems[infoSubs].Elems {
			delete(keep, sv.Elems[0].Str)
		}
		for extra := range keep {
			if extra != "client|setinfo" && extra != "client|no-touch" && !isExtra(extra) {
				t.Errorf("%s: subcommand %s unknown to Redis 7.0", name, extra)
			}
		}
		mine := map[string]bool{}
		for _, sv := range e.Elems[infoSubs].Elems {
			mine[sv.Elems[0].Str] = true
		}
		got := normalizeInfo(e, theirsSubs(want))
		if !reflect.DeepEqual(got, normalizeInfo(want, mine)) {
			t.Errorf("COMMAND entry %s differs:\n redgo %v\n redis %v", name, got, normalizeInfo(want, mine))
		}
	}
	// COMMAND INFO with no names is COMMAND.
	vi, _ := a.do("COMMAND", "INFO")
	if !reflect.DeepEqual(vi, va) {
		t.Error("COMMAND INFO without names differs from COMMAND")
	}
}

func theirsSubs(v resp.Value) map[string]bool {
	m := map[string]bool{}
	for _, sv := range v.Elems[infoSubs].Elems {
		m[sv.Elems[0].Str] = true
	}
	return m
}

func TestCommandListAndDocs(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, ra)
	var names []string
	for _, c := range allCommands() {
		names = append(names, c.Name)
	}
	v, _ := a.do("COMMAND", "LIST")
	var got []string
	for _, e := range v.Elems {
		got = append(got, e.Str)
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("COMMAND LIST = %v", got)
	}
	for _, f := range [][]string{{"PATTERN", "cl*"}, {"ACLCAT", "connection"}, {"aclcat", "nosuch"},
		{"MODULE", "foo"}, {"pattern", "CONFIG|*"}} {
		cmd := append([]string{"COMMAND", "LIST", "FILTERBY"}, f...)
		va, _ := a.do(cmd...)
		vb, _ := b.do(cmd...)
		want := map[string]bool{}
		for _, e := range vb.Elems {
			if registered(e.Str) {
				want[e.Str] = true
			}
		}
		have := map[string]bool{}
		for _, e := range va.Elems {
			have[e.Str] = true
		}
		delete(have, "client|setinfo")
		delete(have, "client|no-touch")
		for name := range have {
			if isExtra(name) {
				delete(have, name) // redgo's own (CLUSTER MIGRATESLOTS...)
			}
		}
		if !reflect.DeepEqual(have, want) {
			t.Errorf("%q:\n redgo %v\n redis (registered) %v", cmd, have, want)
		}
	}
	oracle(t, s.Addr().String(), ra, [][]string{
		{"COMMAND", "LIST", "FILTERBY", "foo", "bar"},
		{"COMMAND", "LIST", "foo"},
		{"COMMAND", "LIST", "FILTERBY"},
		{"COMMAND", "COUNT", "x"},
		{"COMMAND", "DOCS", "nosuch"},
		{"COMMAND", "foo"},
	})
	// DOCS of a container lists its registered subcommands.
	d, _ := a.do("COMMAND", "DOCS", "config")
	subs, ok := mapGet(d.Elems[1], "subcommands")
	if !ok || len(subs.Elems) != 2*len(lookupFullName([]byte("config")).Sub) {
		t.Errorf("COMMAND DOCS config subcommands = %v", subs)
	}
	// All docs: one entry per top-level command.
	all, _ := a.do("COMMAND", "DOCS")
	if len(all.Elems) != 2*len(commands.All()) {
		t.Errorf("COMMAND DOCS has %d entries", len(all.Elems)/2)
	}
}

func TestCommandGetkeysMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	ra := startRedis(t)
	script := [][]string{
		{"COMMAND", "GETKEYS"},
		{"COMMAND", "GETKEYS", "foo"},
		{"COMMAND", "GETKEYS", "foo", "bar"},
		{"COMMAND", "GETKEYS", "config", "get", "x"},
		{"COMMAND", "GETKEYS", "config", "foo"},
		{"COMMAND", "GETKEYS", "client", "list"},
		{"COMMAND", "GETKEYS", "ping", "x"},
	}
	for _, cmd := range [][]string{
		{"get", "a", "b"},
		{"get", "a"},
		{"set", "a", "b"},
		{"set", "a", "b", "EX", "10", "GET"},
		{"bitfield", "a", "GET", "u8", "0", "OVERFLOW", "WRAP"},
		{"bitfield", "a", "GET", "u8", "0", "SET", "u8", "0", "1"},
		{"mset", "a", "1", "b", "2"},
		{"mget", "a", "b", "c"},
		{"del", "a", "b"},
		{"lmove", "a", "b", "left", "right"},
		{"blpop", "a", "b", "0"},
		{"zunionstore", "d", "2", "a", "b"},
		{"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"},
		{"zinter", "2", "a", "b"},
		{"lmpop", "2", "a", "b", "LEFT"},
		{"object", "encoding", "foo"},
		{"rename", "a", "b"},
		{"exists", "a"},
		{"bitop", "and", "d", "a", "b"},
		{"sintercard", "2", "a", "b", "LIMIT", "1"},
		{"eval", "return 1", "0"},
		{"eval", "return 1", "2", "a", "b"},
		{"georadius", "k", "0", "0", "1", "km", "STORE", "dst"},
	} {
		if !registered(cmd[0]) || (len(cmd) > 1 && lookupFullName([]byte(cmd[0])).Sub != nil && !registered(cmd[0]+"|"+cmd[1])) {
			continue
		}
		script = append(script, append([]string{"COMMAND", "GETKEYS"}, cmd...),
			append([]string{"COMMAND", "GETKEYSANDFLAGS"}, cmd...))
	}
	oracle(t, s.Addr().String(), ra, script)
}

// isExtra reports whether name ("cluster|migrateslots") is one of
// redgo's commands that Redis 7.0 does not have (commands.RegisterExtra).
func isExtra(name string) bool {
	c := lookupFullName([]byte(name))
	return c != nil && c.Extra
}
