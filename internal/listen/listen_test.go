package listen

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// serveSet opens a set and accepts on it, counting the accept loops that
// ended; the set is closed at the end of the test.
func serveSet(t *testing.T, bind []string, port int) (*Set, *sync.WaitGroup) {
	t.Helper()
	s := New(t.Logf)
	if err := s.Open(bind, port); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	s.Serve(func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }, func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("+hi\r\n"))
			c.Close()
		}
	})
	t.Cleanup(func() { s.Close(); wg.Wait() })
	return s, &wg
}

func reachable(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 5)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+hi\r\n"
}

// freePort returns a port nothing listens on (it was free a moment ago).
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestSetPortMovesListeners(t *testing.T) {
	s, _ := serveSet(t, []string{"127.0.0.1"}, 0)
	old := s.Port()
	if !reachable(old) {
		t.Fatal("not listening on the first port")
	}
	p := freePort(t)
	if err := s.SetPort(p); err != nil {
		t.Fatal(err)
	}
	if s.Port() != p || !reachable(p) {
		t.Fatalf("not listening on the new port %d (Port %d)", p, s.Port())
	}
	if reachable(old) {
		t.Fatal("the old port still accepts")
	}
}

func TestSetPortInUseKeepsOld(t *testing.T) {
	s, _ := serveSet(t, []string{"127.0.0.1"}, 0)
	old := s.Port()
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = s.SetPort(busy.Addr().(*net.TCPAddr).Port)
	if !errors.Is(err, ErrPort) {
		t.Fatalf("SetPort to a port in use: %v, want ErrPort", err)
	}
	if s.Port() != old || !reachable(old) {
		t.Fatalf("the old port %d no longer accepts (Port %d)", old, s.Port())
	}
}

func TestSetBind(t *testing.T) {
	s, _ := serveSet(t, []string{"127.0.0.1"}, 0)
	port := s.Port()
	if err := s.SetBind([]string{"999.999.999.999"}); !errors.Is(err, ErrBind) {
		t.Fatalf("SetBind of a bad address: %v, want ErrBind", err)
	}
	if !reachable(port) {
		t.Fatal("the old address no longer accepts after a failed SetBind")
	}
	if err := s.SetBind(nil); err != nil {
		t.Fatal(err)
	}
	if reachable(port) || s.Addr() != nil {
		t.Fatal("bind \"\" still listens")
	}
	if s.Port() != port {
		t.Fatalf("Port with no address: %d, want the port kept, %d", s.Port(), port)
	}
	// Back on every address: the wildcard takes the same port.
	if err := s.SetBind([]string{"*", "-::*"}); err != nil {
		t.Fatal(err)
	}
	if !reachable(port) {
		t.Fatal("bind * does not accept on 127.0.0.1")
	}
}

func TestOpenSkipsOptionalAndFailsOnRest(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is not an address of this host.
	s := New(t.Logf)
	if err := s.Open([]string{"127.0.0.1", "-192.0.2.1"}, 0); err != nil {
		t.Fatalf("an optional unavailable address failed Open: %v", err)
	}
	s.Close()
	s = New(t.Logf)
	if err := s.Open([]string{"127.0.0.1", "192.0.2.1"}, 0); err == nil {
		s.Close()
		t.Fatal("an unavailable address that is not optional opened")
	}
	if s.Addr() != nil {
		t.Fatal("a failed Open left a listener")
	}
}

func TestSetBeforeOpenOnlyRecords(t *testing.T) {
	s := New(t.Logf)
	if err := s.SetBind([]string{"999.999.999.999"}); err != nil {
		t.Fatalf("SetBind before Open: %v", err)
	}
	if s.Addr() != nil {
		t.Fatal("SetBind before Open listened")
	}
}

func TestIsLocal(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 5}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5}, false}, // as Redis: only 127.0.0.1
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5}, false},
		{&net.UnixAddr{Name: "/tmp/x.sock", Net: "unix"}, true},
	} {
		if got := IsLocal(tc.addr); got != tc.want {
			t.Errorf("IsLocal(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
