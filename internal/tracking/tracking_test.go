package tracking

import (
	"fmt"
	"testing"
)

func ids(msgs []Message) string {
	s := ""
	for _, m := range msgs {
		if m.Flush {
			s += fmt.Sprintf("%d:null ", m.Target)
			continue
		}
		s += fmt.Sprintf("%d:%s ", m.Target, m.Keys[0])
	}
	return s
}

func TestTable(t *testing.T) {
	tb := New()
	if tb.Active() {
		t.Fatal("empty table active")
	}
	if msg := tb.Enable(1, 0, 0, nil); msg != "" {
		t.Fatal(msg)
	}
	tb.Enable(2, 0, NoLoop, nil)
	tb.Enable(3, 0, BCast, []string{"p:", "q"})
	tb.Enable(4, 0, OptIn, nil)
	tb.Remember(1, [][]byte{[]byte("k")})
	tb.Remember(2, [][]byte{[]byte("k")})
	tb.Remember(3, [][]byte{[]byte("k")}) // BCAST: not remembered
	tb.Remember(4, [][]byte{[]byte("k")}) // OPTIN without CACHING YES
	if got := ids(tb.Invalidate([]byte("k"), 2)); got != "1:k " {
		t.Fatalf("invalidate k by 2 (noloop): %q", got)
	}
	if got := ids(tb.Invalidate([]byte("k"), 0)); got != "" {
		t.Fatalf("k forgotten after its invalidation: %q", got)
	}
	if got := ids(tb.Invalidate([]byte("p:1"), 0)); got != "3:p:1 " {
		t.Fatalf("bcast: %q", got)
	}
	if msg := tb.SetCaching(4, true); msg != "" {
		t.Fatal(msg)
	}
	tb.Remember(4, [][]byte{[]byte("o")})
	tb.EndCommand(4)
	tb.Remember(4, [][]byte{[]byte("o2")})
	if got := ids(tb.Invalidate([]byte("o"), 0)) + ids(tb.Invalidate([]byte("o2"), 0)); got != "4:o " {
		t.Fatalf("optin: %q", got)
	}
	if got := ids(tb.Flush()); got != "1:null 2:null 3:null 4:null " {
		t.Fatalf("flush: %q", got)
	}
	for _, tc := range []struct {
		id       int64
		opts     Flags
		prefixes []string
		want     string
	}{
		{5, 0, []string{"a"}, ErrPrefixNoBcast},
		{5, BCast | OptIn, nil, ErrBcastOpt},
		{5, OptIn | OptOut, nil, ErrOptInOut},
		{1, BCast, nil, ErrSwitchBcast},
		{4, OptOut, nil, ErrSwitchOpt},
		{3, BCast, []string{"p"}, "ERR Prefix 'p' overlaps with an existing prefix 'p:'. Prefixes for a single client must not overlap."},
		{5, BCast, []string{"ab", "a"}, "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap."},
	} {
		if got := tb.Enable(tc.id, 0, tc.opts, tc.prefixes); got != tc.want {
			t.Errorf("Enable(%d, %v, %q) = %q, want %q", tc.id, tc.opts, tc.prefixes, got, tc.want)
		}
	}
	for _, id := range []int64{1, 2, 3, 4} {
		tb.Off(id)
	}
	if tb.Active() || tb.Clients() != 0 {
		t.Fatalf("table not empty after every client left: active=%v clients=%d", tb.Active(), tb.Clients())
	}
}

// FuzzTable drives the table with random operations and checks that an
// invalidation never names a client twice, never a client that is off,
// and that a key is forgotten once invalidated.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte("\x00\x01\x02\x10\x11\x12\x20\x21\x30"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		tb := New()
		keys := [][]byte{[]byte("a"), []byte("ab"), []byte("b"), []byte("p:x")}
		for i := 0; i+1 < len(ops); i += 2 {
			id := int64(ops[i+1]%4) + 1
			key := keys[ops[i+1]/4%4]
			switch ops[i] % 7 {
			case 0:
				tb.Enable(id, 0, Flags(ops[i+1]>>4)&(BCast|OptIn|OptOut|NoLoop), []string{string(key)})
			case 1:
				tb.Off(id)
			case 2:
				tb.Remember(id, [][]byte{key})
			case 3:
				msgs := tb.Invalidate(key, id)
				seen := map[int64]bool{}
				for _, m := range msgs {
					if tb.Get(m.Target).Flags&On == 0 {
						t.Fatalf("message for client %d, which is off", m.Target)
					}
					if seen[m.Target] && tb.Get(m.Target).Flags&BCast == 0 {
						t.Fatalf("client %d told twice", m.Target)
					}
					seen[m.Target] = true
				}
				for _, m := range tb.Invalidate(key, id) {
					if tb.Get(m.Target).Flags&BCast == 0 {
						t.Fatalf("key %s not forgotten", key)
					}
				}
			case 4:
				tb.SetCaching(id, ops[i+1]&1 == 0)
			case 5:
				tb.Flush()
			case 6:
				tb.EndCommand(id)
			}
		}
	})
}
