package netio

import (
	"net"
	"testing"
	"time"
)

// TestWaitReadable: the wait ends when input arrives, takes none of it,
// and fails when the read deadline passes or the connection is closed.
func TestWaitReadable(t *testing.T) {
	if !rawSupported {
		t.Skip("no raw reads on this platform")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := Wrap(nc)
	defer c.Close()
	if !CanWaitReadable(c) || CanWaitReadable(nc) {
		t.Fatal("CanWaitReadable: wrapped connections only")
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if err := WaitReadable(c); err == nil {
		t.Fatal("WaitReadable with no input returned before the deadline")
	}
	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { done <- WaitReadable(c) }()
	time.Sleep(20 * time.Millisecond)
	peer.Write([]byte("PING\r\n"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitReadable did not see the input")
	}
	buf := make([]byte, 16)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "PING\r\n" {
		t.Fatalf("the input after the wait: %q, %v", buf[:n], err)
	}
	go func() { done <- WaitReadable(c) }()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if err := <-done; err == nil {
		t.Fatal("WaitReadable on a closed connection succeeded")
	}
}
