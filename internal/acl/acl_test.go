package acl

import (
	"path"
	"strings"
	"testing"
)

// testCatalog is a small command table: enough categories and a
// container to exercise the rules.
func testCatalog() *Catalog {
	specs := []Spec{
		{Name: "get", Categories: []string{"@read", "@string", "@fast"}},
		{Name: "set", Categories: []string{"@write", "@string", "@slow"}},
		{Name: "del", Categories: []string{"@keyspace", "@write", "@slow"}},
		{Name: "keys", Categories: []string{"@keyspace", "@read", "@slow", "@dangerous"}},
		{Name: "publish", Categories: []string{"@pubsub", "@fast"}},
		{Name: "subscribe", Categories: []string{"@pubsub", "@slow"}},
		{Name: "psubscribe", Categories: []string{"@pubsub", "@slow"}},
		{Name: "auth", Categories: []string{"@fast", "@connection"}, NoAuth: true},
		{Name: "select", Categories: []string{"@fast", "@connection"}},
		{Name: "config", Categories: []string{"@slow"}},
		{Name: "config|get", Categories: []string{"@admin", "@slow", "@dangerous"}},
		{Name: "config|set", Categories: []string{"@admin", "@slow", "@dangerous"}},
	}
	return NewCatalog(specs, func(p, s []byte) bool {
		ok, _ := path.Match(string(p), string(s))
		return ok
	})
}

func TestSetUserRender(t *testing.T) {
	for _, tc := range []struct {
		rules []string
		want  string
		err   string
	}{
		{nil, "off resetchannels -@all", ""},
		{[]string{"on", "nopass", "allkeys", "allchannels", "allcommands"}, "on nopass ~* &* +@all", ""},
		{[]string{"+@all", "-@dangerous"}, "off resetchannels +@all -@dangerous", ""},
		{[]string{"+@string"}, "off resetchannels -@all +@string", ""},
		{[]string{"+@string", "-set"}, "off resetchannels -@all +get", ""},
		{[]string{"+config|get"}, "off resetchannels -@all +config|get", ""},
		{[]string{"+config"}, "off resetchannels -@all +@admin +config", ""},
		{[]string{"+select|0", "+SELECT|0"}, "off resetchannels -@all +select|0", ""},
		{[]string{"~a", "%R~b", "%W~c", "%RW~d", "%R~c"}, "off ~a %R~b ~c ~d resetchannels -@all", ""},
		{[]string{"&x", "&x", "&y"}, "off resetchannels &x &y -@all", ""},
		{[]string{">a", ">a", "<a", ">b"}, "off #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d resetchannels -@all", ""},
		{[]string{"on", "(+get ~x)", "(", "+set", ")"}, "on resetchannels -@all (~x resetchannels -@all +get) (resetchannels -@all +set)", ""},
		{[]string{"(+get", "~x"}, "", "Unmatched parenthesis in acl selector starting at '(+get'."},
		{[]string{"+nosuch"}, "", "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
		{[]string{"+config|get|x"}, "", "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"},
		{[]string{"allkeys", "~x"}, "", "Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{[]string{"<x"}, "", "Error in ACL SETUSER modifier '<x': The password you are trying to remove from the user does not exist"},
		{[]string{"#ABC"}, "", "Error in ACL SETUSER modifier '#ABC': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{[]string{"%"}, "", "Error in ACL SETUSER modifier '%': Syntax error"},
		{[]string{"on", "reset"}, "off sanitize-payload resetchannels -@all", ""},
	} {
		us := NewUsers(testCatalog())
		u, err := us.SetUser("u", tc.rules)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %s", tc.rules, err, tc.err)
			}
			if us.Get("u") != nil {
				t.Errorf("%q: a failed SETUSER created the user", tc.rules)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.rules, err)
			continue
		}
		if got := u.Describe(); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.rules, got, tc.want)
		}
		// The rendering is itself a valid rule list that gives the same user.
		again, err := NewUsers(testCatalog()).SetUser("u", splitRendered(u.Describe()))
		if err != nil || again.Describe() != u.Describe() {
			t.Errorf("%q: re-applying %q gives %v %v", tc.rules, u.Describe(), again, err)
		}
	}
}

// splitRendered splits ACL LIST rules as the ACL file loader does.
func splitRendered(s string) []string {
	m, _ := mergeSelectors(strings.Split(s, " "))
	return m
}

func TestDefaultUserAndPasswords(t *testing.T) {
	us := NewUsers(testCatalog())
	d := us.Default()
	if !d.Unrestricted() || !d.NoPass() || us.AnyRestricted() {
		t.Fatal("the default user must start unrestricted and nopass")
	}
	if us.Authenticate("default", []byte("any")) == nil {
		t.Error("nopass default user refused a password")
	}
	us.SetDefaultPassword("secret")
	if us.Authenticate("default", []byte("any")) != nil || us.Authenticate("default", []byte("secret")) == nil {
		t.Error("requirepass not applied")
	}
	us.SetUser("x", []string{"on", ">pw", "+get"})
	if !us.AnyRestricted() || us.Authenticate("x", []byte("pw")) == nil || us.Authenticate("x", []byte("no")) != nil {
		t.Error("user x")
	}
	us.SetUser("x", []string{"off"})
	if us.Authenticate("x", []byte("pw")) != nil {
		t.Error("a disabled user authenticated")
	}
	gone, _ := us.Delete([]string{"x"})
	if len(gone) != 1 || !gone[0].Deleted() || us.AnyRestricted() {
		t.Error("DELUSER")
	}
	if _, err := us.Delete([]string{"default"}); err == nil {
		t.Error("deleted the default user")
	}
}

func TestCheck(t *testing.T) {
	cat := testCatalog()
	us := NewUsers(cat)
	u, err := us.SetUser("u", []string{"on", "+get", "+set", "+select|1", "+publish", "+psubscribe",
		"+config|get", "%R~r*", "%W~w*", "~k*", "&news*", "(+del ~d*)"})
	if err != nil {
		t.Fatal(err)
	}
	req := func(name string, args []string, keys []KeyRef, chans []ChanRef) (Result, int) {
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		r := &Request{Cmd: cat.Get(name), Args: b}
		r.Keys, r.Channels = keys, chans
		return u.Check(r)
	}
	read, write := []KeyRef{{1, PermRead}}, []KeyRef{{1, PermWrite}}
	for _, tc := range []struct {
		name  string
		args  []string
		keys  []KeyRef
		chans []ChanRef
		want  Result
		pos   int
	}{
		{"get", []string{"get", "k1"}, read, nil, OK, 0},
		{"get", []string{"get", "r1"}, read, nil, OK, 0},
		{"get", []string{"get", "w1"}, read, nil, DeniedKey, 1},
		{"set", []string{"set", "w1", "v"}, write, nil, OK, 0},
		{"set", []string{"set", "r1", "v"}, write, nil, DeniedKey, 1},
		{"del", []string{"del", "d1"}, write, nil, OK, 0},
		{"del", []string{"del", "k1"}, write, nil, DeniedKey, 1},
		{"keys", []string{"keys", "*"}, nil, nil, DeniedCmd, 0},
		{"auth", []string{"auth", "x"}, nil, nil, OK, 0},
		{"select", []string{"select", "1"}, nil, nil, OK, 0},
		{"select", []string{"select", "2"}, nil, nil, DeniedCmd, 0},
		{"config|get", []string{"config", "get", "x"}, nil, nil, OK, 0},
		{"config|set", []string{"config", "set", "x", "y"}, nil, nil, DeniedCmd, 0},
		{"publish", []string{"publish", "news.1", "m"}, nil, []ChanRef{{1, false}}, OK, 0},
		{"publish", []string{"publish", "sport", "m"}, nil, []ChanRef{{1, false}}, DeniedChannel, 1},
		{"psubscribe", []string{"psubscribe", "news*"}, nil, []ChanRef{{1, true}}, OK, 0},
		{"psubscribe", []string{"psubscribe", "news.*"}, nil, []ChanRef{{1, true}}, DeniedChannel, 1},
	} {
		got, pos := req(tc.name, tc.args, tc.keys, tc.chans)
		if got != tc.want || pos != tc.pos {
			t.Errorf("%q: %v at %d, want %v at %d", tc.args, got, pos, tc.want, tc.pos)
		}
	}
	if !u.ChannelAllowed([]byte("news.x"), false) || u.ChannelAllowed([]byte("x"), false) {
		t.Error("ChannelAllowed")
	}
}

func TestLoadFile(t *testing.T) {
	us := NewUsers(testCatalog())
	text := "user default on nopass ~* &* +@all\nuser a on >x ~k* +get (+set ~w*)\n\n  \n"
	if _, err := us.Load("f.acl", text); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(us.List(), "\n"),
		"user a on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~k* resetchannels -@all +get (~w* resetchannels -@all +set)\n"+
			"user default on nopass ~* &* +@all"; got != want {
		t.Errorf("loaded:\n%s\nwant\n%s", got, want)
	}
	if _, err := us.Load("f.acl", us.Render()); err != nil {
		t.Errorf("round trip: %v", err)
	}
	_, err := us.Load("f.acl", "user a on\nuser a off\nuser b (+get\nuser c ~x allkeys ~y\n")
	want := "WARNING: Duplicate user 'a' found on line 2. f.acl:3: Unmatched parenthesis in selector definition." +
		"f.acl:4: Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns. " +
		"WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	if err == nil || err.Error() != want {
		t.Errorf("bad file:\n%v\nwant\n%s", err, want)
	}
	if len(us.Names()) != 2 {
		t.Errorf("a failed load changed the users: %v", us.Names())
	}
}

func TestLog(t *testing.T) {
	var l Log
	l.Add(LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u", CTimeMs: 1000}, 3)
	l.Add(LogEntry{Reason: "key", Context: "toplevel", Object: "k", Username: "u", CTimeMs: 2000}, 3)
	l.Add(LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u", CTimeMs: 3000}, 3)
	e := l.Entries(10)
	if len(e) != 2 || e[0].Object != "get" || e[0].Count != 2 || e[1].Object != "k" {
		t.Errorf("grouping: %+v", e)
	}
	l.Add(LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u", CTimeMs: 100000}, 3)
	l.Add(LogEntry{Reason: "auth", Context: "toplevel", Object: "AUTH", Username: "x", CTimeMs: 100000}, 3)
	if e := l.Entries(10); len(e) != 3 || e[0].Reason != "auth" {
		t.Errorf("max length: %+v", e)
	}
	l.Reset()
	if len(l.Entries(10)) != 0 {
		t.Error("reset")
	}
}

// BenchmarkCheck is the permission check of GET k1 for a user with key
// patterns (the fast path of an unrestricted user is a flag test).
func BenchmarkCheck(b *testing.B) {
	cat := testCatalog()
	us := NewUsers(cat)
	u, _ := us.SetUser("u", []string{"on", "+@read", "~a*", "~k*"})
	keys := []KeyRef{{1, PermRead}}
	r := &Request{Cmd: cat.Get("get"), Args: [][]byte{[]byte("get"), []byte("k1")}, Keys: keys}
	for b.Loop() {
		if res, _ := u.Check(r); res != OK {
			b.Fatal(res)
		}
	}
}
