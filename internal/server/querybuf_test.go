package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// qbufSize is qbuf + qbuf-free of the client named name, as
// unit/querybuf reads it from CLIENT LIST, and its idle seconds.
func qbufSize(t *testing.T, admin *rawConn, name string) (size, idle int) {
	t.Helper()
	v, _ := admin.do("CLIENT", "LIST")
	for _, line := range strings.Split(v.Str, "\n") {
		if clientField(line, "name") != name {
			continue
		}
		q, _ := strconv.Atoi(clientField(line, "qbuf"))
		f, _ := strconv.Atoi(clientField(line, "qbuf-free"))
		idle, _ = strconv.Atoi(clientField(line, "idle"))
		return q + f, idle
	}
	t.Fatalf("no client named %s", name)
	return 0, 0
}

// TestQueryBufferResizeMatchesRedis runs unit/querybuf's checks on redgo
// and redis-server side by side: a new connection's buffer is one read's
// worth (16 KB to 32 KB), an idle one gives it back, and a buffer grown
// by a big request shrinks once smaller requests follow, to more than 0.
func TestQueryBufferResizeMatchesRedis(t *testing.T) {
	t.Parallel()
	s, _ := startServer(t)
	servers := map[string]string{"redgo": s.Addr().String(), "redis": startRedis(t)}
	type side struct{ admin, idle, busy *rawConn }
	sides := map[string]side{}
	for name, addr := range servers {
		sd := side{dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)}
		sd.idle.do("CLIENT", "SETNAME", "idle")
		sd.busy.do("CLIENT", "SETNAME", "busy")
		if n, _ := qbufSize(t, sd.admin, "idle"); n < 16384 || n >= 32768 {
			t.Fatalf("%s: a new client's query buffer is %d bytes", name, n)
		}
		sides[name] = sd
	}
	for name, sd := range sides {
		sd.busy.do("SET", "x", strings.Repeat("A", 400000))
		big, _ := qbufSize(t, sd.admin, "busy")
		if big <= 32768 {
			t.Fatalf("%s: after a 400 KB request the buffer is %d bytes", name, big)
		}
		eventually(t, 2*time.Second, func() error {
			sd.busy.do("SET", "x", strings.Repeat("A", 100))
			if n, _ := qbufSize(t, sd.admin, "busy"); n == 0 || n >= big {
				return fmt.Errorf("%s: the buffer is %d bytes, was %d", name, n, big)
			}
			return nil
		})
	}
	// Idle for more than 2 s: given back (0 bytes), and the connection
	// still serves.
	for name, sd := range sides {
		eventually(t, 10*time.Second, func() error {
			if n, idle := qbufSize(t, sd.admin, "idle"); idle < 3 || n != 0 {
				return fmt.Errorf("%s: idle %d s, query buffer %d bytes", name, idle, n)
			}
			return nil
		})
		if v, _ := sd.idle.do("PING"); v.Str != "PONG" {
			t.Fatalf("%s: PING after the buffer was given back: %v", name, v)
		}
		if n, _ := qbufSize(t, sd.admin, "idle"); n < 16384 {
			t.Fatalf("%s: after a request the buffer is %d bytes", name, n)
		}
	}
}
