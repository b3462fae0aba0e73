package netio

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// TestDialFrom: the connection leaves from the source address, and from
// any address when the source cannot be bound (best effort, as Redis).
func TestDialFrom(t *testing.T) {
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	for _, tc := range []struct{ source, want string }{
		{"127.0.0.2", "127.0.0.2"},
		{"192.0.2.1", "127.0.0.1"}, // not an address of this host
		{"", "127.0.0.1"},
	} {
		c, err := DialFrom(addr, tc.source, 2*time.Second)
		if err != nil {
			t.Fatalf("source %q: %v", tc.source, err)
		}
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(2 * time.Second))
		peer, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if got := peer.RemoteAddr().(*net.TCPAddr).IP.String(); got != tc.want {
			t.Errorf("source %q: the peer is %s, want %s", tc.source, got, tc.want)
		}
		peer.Close()
		c.Close()
	}
}
