package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBlockedMoveWrongTypeServesNext: of two clients blocked in
// BRPOPLPUSH on one list, the first (its destination is not a list) gets
// WRONGTYPE and the element goes to the second, as Redis (unit/type/list
// "BRPOPLPUSH with multiple blocked clients").
func TestBlockedMoveWrongTypeServesNext(t *testing.T) {
	s, _ := startServer(t)
	addr := s.Addr().String()
	r, rd1, rd2 := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	r.do("SET", "target1", "nolist")
	blocked := func(n int) {
		eventually(t, 5*time.Second, func() error {
			if _, raw := r.do("INFO", "clients"); !strings.Contains(string(raw), fmt.Sprintf("blocked_clients:%d", n)) {
				return fmt.Errorf("not %d blocked yet", n)
			}
			return nil
		})
	}
	rd1.send("BRPOPLPUSH", "blist", "target1", "0")
	blocked(1)
	rd2.send("BRPOPLPUSH", "blist", "target2", "0")
	blocked(2)
	r.do("LPUSH", "blist", "foo")
	if v, _ := rd1.read(); !strings.HasPrefix(v.Str, "WRONGTYPE") {
		t.Fatalf("rd1: %+v", v)
	}
	if v, raw := rd2.read(); v.Str != "foo" {
		t.Fatalf("rd2: %q", raw)
	}
	if _, raw := r.do("LRANGE", "target2", "0", "-1"); string(raw) != "*1\r\n$3\r\nfoo\r\n" {
		t.Fatalf("target2: %q", raw)
	}
}
