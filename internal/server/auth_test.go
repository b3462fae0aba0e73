package server

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// With requirepass set, a client that has not authenticated gets Redis's
// protocol errors for a request of more than 10 arguments or an argument
// over 16 KB, and is disconnected, on redgo as on redis-server.
func TestUnauthenticatedRequestLimits(t *testing.T) {
	s, _ := startServer(t, "--requirepass", "secret")
	addrs := map[string]string{"redgo": s.Addr().String()}
	if _, err := exec.LookPath("redis-server"); err == nil {
		addrs["redis"] = startRedis(t, "--requirepass", "secret")
	}
	for name, addr := range addrs {
		for req, want := range map[string]string{
			"*100\r\n":             "ERR Protocol error: unauthenticated multibulk length",
			"*1\r\n$100000000\r\n": "ERR Protocol error: unauthenticated bulk length",
		} {
			c := dialRaw(t, addr)
			c.conn.Write([]byte(req))
			v, _ := c.read()
			if v.Str != want {
				t.Errorf("%s %q: %+v, want %s", name, req, v, want)
			}
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.r.ReadByte(); err == nil {
				t.Errorf("%s %q: the connection stayed open", name, req)
			}
		}
		// Once authenticated, big requests are fine.
		c := dialRaw(t, addr)
		c.do("AUTH", "secret")
		if v, _ := c.do("SET", "k", strings.Repeat("v", 100000)); v.Str != "OK" {
			t.Errorf("%s: authenticated SET: %+v", name, v)
		}
	}
}
