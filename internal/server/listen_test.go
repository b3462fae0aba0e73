package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConfigSetPortBindMatchesRedis moves the client listener with
// CONFIG SET port and bind, on redgo and on redis-server: the same
// replies, the refused changes leave the old listener serving, and a
// new port serves at once.
func TestConfigSetPortBindMatchesRedis(t *testing.T) {
	s, _ := startServer(t)
	redisAddr := startRedis(t)
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	oracle(t, s.Addr().String(), redisAddr, [][]string{
		{"CONFIG", "SET", "port", busyPort},
		{"CONFIG", "SET", "bind", "999.999.999.999"},
		{"CONFIG", "SET", "port", "70000"},
	})
	for _, addr := range []string{s.Addr().String(), redisAddr} {
		c := dialRaw(t, addr)
		if v, _ := c.do("PING"); v.Str != "PONG" {
			t.Fatalf("%s after the refused changes: %v", addr, v)
		}
		port := strconv.Itoa(freePort(t))
		if v, _ := c.do("CONFIG", "SET", "port", port); v.Str != "OK" {
			t.Fatalf("%s: CONFIG SET port %s: %v", addr, port, v)
		}
		moved := dialRaw(t, "127.0.0.1:"+port)
		if v, _ := moved.do("PING"); v.Str != "PONG" {
			t.Fatalf("%s moved to %s: %v", addr, port, v)
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Fatalf("%s still accepts after the move to port %s", addr, port)
		}
		// The connection made before the move goes on.
		if v, _ := c.do("CONFIG", "GET", "port"); len(v.Elems) != 2 || v.Elems[1].Str != port {
			t.Fatalf("%s: CONFIG GET port: %v", addr, v)
		}
	}
	if s.Port() != int(s.Cfg.Int("port")) {
		t.Fatalf("Port() %d after the move, config %d", s.Port(), s.Cfg.Int("port"))
	}
}

// TestConfigSetBindEmptyStopsListening: bind "" closes every TCP
// listener; bind 127.0.0.1 opens one again on the same port.
func TestConfigSetBindEmptyStopsListening(t *testing.T) {
	s, _ := startServer(t)
	addr := s.Addr().String()
	c := dialRaw(t, addr)
	if v, _ := c.do("CONFIG", "SET", "bind", ""); v.Str != "OK" {
		t.Fatalf("CONFIG SET bind \"\": %v", v)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("still accepting with bind \"\"")
	}
	if v, _ := c.do("CONFIG", "GET", "bind"); len(v.Elems) != 2 || v.Elems[1].Str != "" {
		t.Fatalf("CONFIG GET bind: %v", v)
	}
	if v, _ := c.do("CONFIG", "SET", "bind", "127.0.0.1"); v.Str != "OK" {
		t.Fatalf("CONFIG SET bind 127.0.0.1: %v", v)
	}
	if v, _ := dialRaw(t, addr).do("PING"); v.Str != "PONG" {
		t.Fatalf("PING after binding again: %v", v)
	}
}

// TestProtectedModeMatchesRedis connects from an address of this host
// other than the loopback one: with protected-mode on and no password
// both servers send the same DENIED error and close; with it off, or
// with a password, the connection is served.
func TestProtectedModeMatchesRedis(t *testing.T) {
	ip := nonLoopbackIPv4()
	if ip == "" {
		t.Skip("this host has no IPv4 address other than the loopback one")
	}
	s, _ := startServer(t, "--bind", "*")
	redisAddr := startRedis(t, "--bind", "*")
	_, redisPort, _ := net.SplitHostPort(redisAddr)
	ports := map[string]string{"redgo": strconv.Itoa(s.Port()), "redis": redisPort}
	greet := func(name string) string {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, ports[name]), 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer conn.Close()
		conn.Write([]byte("PING\r\n"))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var got []byte
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil || strings.HasSuffix(string(got), "\r\n") { // one line: each reply here is
				return string(got)
			}
		}
	}
	denied := greet("redis")
	if len(denied) < 8 || denied[:8] != "-DENIED " {
		t.Fatalf("redis-server from %s: %q", ip, denied)
	}
	if got := greet("redgo"); got != denied {
		t.Fatalf("redgo from %s:\n %q\nredis-server:\n %q", ip, got, denied)
	}
	for name, port := range ports {
		if v, _ := dialRaw(t, "127.0.0.1:"+port).do("CONFIG", "SET", "protected-mode", "no"); v.Str != "OK" {
			t.Fatalf("%s: %v", name, v)
		}
		if got := greet(name); got != "+PONG\r\n" {
			t.Fatalf("%s with protected-mode no: %q", name, got)
		}
	}
	for name, port := range ports {
		lo := dialRaw(t, "127.0.0.1:"+port)
		lo.do("CONFIG", "SET", "protected-mode", "yes")
		lo.do("CONFIG", "SET", "requirepass", "secret")
		if got := greet(name); got != "-NOAUTH Authentication required.\r\n" {
			t.Fatalf("%s with a password: %q", name, got)
		}
	}
}

func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}
