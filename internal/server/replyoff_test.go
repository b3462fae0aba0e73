package server

import (
	"strings"
	"testing"
	"time"
)

// TestReplyOffSubscribedMatchesRedis is unit/pubsubshard's "PubSubShard
// with CLIENT REPLY OFF" on redgo and redis-server: a subscribed RESP3
// client under CLIENT REPLY OFF gets its (un)subscribe confirmations and
// messages but no reply to its PINGs.
func TestReplyOffSubscribedMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	got := map[string][]string{}
	for name, addr := range map[string]string{"redgo": s.Addr().String(), "redis": startRedis(t)} {
		rd, r := dialRaw(t, addr), dialRaw(t, addr)
		rd.do("HELLO", "3")
		var seen []string
		step := func(cmd ...string) {
			rd.send("CLIENT", "REPLY", "OFF")
			rd.send("PING")
			if cmd[0] == "SPUBLISH" {
				time.Sleep(20 * time.Millisecond) // the PING is dropped before the message
				r.do(cmd...)
			} else {
				rd.send(cmd...)
			}
			_, raw := rd.read()
			seen = append(seen, string(raw))
		}
		step("SSUBSCRIBE", "channel")
		step("SPUBLISH", "channel", "hello")
		step("SUNSUBSCRIBE", "channel")
		rd.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _ := rd.r.Read(make([]byte, 64)); n > 0 {
			seen = append(seen, "unexpected extra output")
		}
		got[name] = seen
	}
	if a, b := strings.Join(got["redgo"], "|"), strings.Join(got["redis"], "|"); a != b {
		t.Fatalf("redgo read %q\nredis read %q", got["redgo"], got["redis"])
	}
}
