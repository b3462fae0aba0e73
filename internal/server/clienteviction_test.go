package server

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// maxmemory-clients on redgo and on redis-server: a client whose query
// buffer or queued transaction goes over the limit is disconnected and
// counted; one with CLIENT NO-EVICT on is not.
func TestClientEvictionAsRedis(t *testing.T) {
	s, _ := startServer(t)
	servers := map[string]string{"redgo": s.Addr().String()}
	if _, err := exec.LookPath("redis-server"); err == nil {
		servers["redis"] = startRedis(t)
	}
	for name, addr := range servers {
		t.Run(name, func(t *testing.T) {
			admin := dialRaw(t, addr)
			admin.do("CONFIG", "SET", "maxmemory-clients", "3000000")
			exists := func(cname string) bool {
				v, _ := admin.do("CLIENT", "LIST")
				return strings.Contains(v.Str, "name="+cname+" ")
			}
			evicted := func() string {
				v, _ := admin.do("INFO", "stats")
				for _, l := range strings.Split(v.Str, "\r\n") {
					if strings.HasPrefix(l, "evicted_clients:") {
						return l
					}
				}
				return ""
			}
			gone := func(cname string) {
				t.Helper()
				eventually(t, 5*time.Second, func() error {
					if exists(cname) {
						return errors.New(cname + " still connected")
					}
					return nil
				})
			}

			// A large unfinished argument in the query buffer.
			c := dialRaw(t, addr)
			c.do("CLIENT", "SETNAME", "qbuf")
			c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			c.conn.Write([]byte(fmt.Sprintf("*1\r\n$%d\r\n%s", 3000000, strings.Repeat("v", 3000000))))
			gone("qbuf")
			if got := evicted(); got != "evicted_clients:1" {
				t.Fatalf("after the query buffer: %q", got)
			}

			// A transaction whose queued commands pass the limit.
			m := dialRaw(t, addr)
			m.do("CLIENT", "SETNAME", "multi")
			m.do("MULTI")
			for range 5 {
				m.send("SET", "k", strings.Repeat("v", 3000000/4))
				m.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := m.r.ReadByte(); err != nil {
					break
				}
				m.r.ReadString('\n')
			}
			gone("multi")

			// CLIENT NO-EVICT on: the same query buffer is kept, and the
			// other clients (the first admin connection and a bystander) are
			// evicted instead.
			admin = dialRaw(t, addr)
			admin.do("CLIENT", "NO-EVICT", "on")
			bystander := dialRaw(t, addr)
			bystander.do("CLIENT", "SETNAME", "bystander")
			k := dialRaw(t, addr)
			k.do("CLIENT", "SETNAME", "kept")
			k.do("CLIENT", "NO-EVICT", "on")
			k.conn.Write([]byte(fmt.Sprintf("*1\r\n$%d\r\n%s", 3000000, strings.Repeat("v", 3000000))))
			gone("bystander")
			if !exists("kept") {
				t.Fatal("a NO-EVICT client was evicted")
			}
			k.conn.Write([]byte("\r\n")) // finish the request
			if v, _ := k.read(); !strings.HasPrefix(v.Str, "ERR unknown command") {
				t.Fatalf("NO-EVICT client's reply: %+v", v)
			}
			if got := evicted(); got != "evicted_clients:4" {
				t.Fatalf("at the end: %q", got)
			}

			// Watched keys and subscriptions count too.
			admin.do("CONFIG", "SET", "maxmemory-clients", "200000")
			for _, cmd := range []string{"WATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"} {
				w := dialRaw(t, addr)
				w.do("CLIENT", "SETNAME", "many")
				for i := 0; i < 100; i++ {
					args := []string{cmd}
					for j := range 100 {
						args = append(args, fmt.Sprintf("key:%d:%d", i, j))
					}
					if w.trySend(args...) != nil {
						break // evicted
					}
				}
				gone("many")
			}
			// And BCAST prefixes (unit/client-eviction "client evicted due to
			// client tracking prefixes").
			w := dialRaw(t, addr)
			w.do("CLIENT", "SETNAME", "prefixes")
			for i := 0; i < 100; i++ {
				args := []string{"CLIENT", "TRACKING", "on", "BCAST"}
				for j := range 100 {
					args = append(args, "PREFIX", fmt.Sprintf("%012d", i*100+j))
				}
				if w.trySend(args...) != nil {
					break // evicted
				}
			}
			gone("prefixes")
			admin.do("CONFIG", "SET", "maxmemory-clients", "0")
		})
	}
}
