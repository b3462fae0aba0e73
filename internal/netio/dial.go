package netio

import (
	"net"
	"time"
)

// DialFrom connects to addr over TCP from the local address source
// (bind-source-addr) when it is set, and from any address when source is
// empty or cannot be bound, as Redis's best-effort bind-then-connect
// (anet.c: anetTcpNonBlockBestEffortBindConnect).
func DialFrom(addr, source string, timeout time.Duration) (net.Conn, error) {
	if source != "" {
		if ip := net.ParseIP(source); ip != nil {
			d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: ip}}
			if c, err := d.Dial("tcp", addr); err == nil {
				return c, nil
			}
		}
	}
	return net.DialTimeout("tcp", addr, timeout)
}
