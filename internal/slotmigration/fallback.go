package slotmigration

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"time"

	"redgo/internal/resp"
)

// KeyByKey moves slots from the node at srcAddr (named src) to the node
// at dstAddr (named dst) with Redis's procedure, as redis-cli --cluster
// reshard does: SETSLOT IMPORTING on the target, SETSLOT MIGRATING on
// the source, MIGRATE of the keys GETKEYSINSLOT lists until none is
// left, then SETSLOT NODE on the target and the source. It works with
// redis-server on either side. Clients see -ASK and -TRYAGAIN meanwhile.
// auth, if set, are AUTH's arguments for both nodes; cancelled is polled
// between batches.
func KeyByKey(srcAddr, src, dstAddr, dst string, slots []int, auth []string, timeout time.Duration,
	cancelled func() bool) error {
	a, err := dialSync(srcAddr, auth, timeout)
	if err != nil {
		return err
	}
	defer a.close()
	b, err := dialSync(dstAddr, auth, timeout)
	if err != nil {
		return err
	}
	defer b.close()
	host, port, err := net.SplitHostPort(dstAddr)
	if err != nil {
		return err
	}
	ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	for _, j := range slots {
		if cancelled != nil && cancelled() {
			return errCancelled
		}
		js := strconv.Itoa(j)
		if _, err := b.ok("CLUSTER", "SETSLOT", js, "IMPORTING", src); err != nil {
			return err
		}
		if _, err := a.ok("CLUSTER", "SETSLOT", js, "MIGRATING", dst); err != nil {
			return err
		}
		for {
			v, err := a.ok("CLUSTER", "GETKEYSINSLOT", js, "100")
			if err != nil {
				return err
			}
			if len(v.Elems) == 0 {
				break
			}
			args := []string{"MIGRATE", host, port, "", "0", ms, "REPLACE"}
			if len(auth) == 1 {
				args = append(args, "AUTH", auth[0])
			} else if len(auth) == 2 {
				args = append(args, "AUTH2", auth[0], auth[1])
			}
			args = append(args, "KEYS")
			for _, k := range v.Elems {
				args = append(args, k.Str)
			}
			if _, err := a.ok(args...); err != nil {
				return err
			}
		}
		if _, err := b.ok("CLUSTER", "SETSLOT", js, "NODE", dst); err != nil {
			return err
		}
		if _, err := a.ok("CLUSTER", "SETSLOT", js, "NODE", dst); err != nil {
			return err
		}
	}
	return nil
}

// syncConn is a plain request/reply connection.
type syncConn struct {
	conn    net.Conn
	br      *bufio.Reader
	timeout time.Duration
}

func dialSync(addr string, auth []string, timeout time.Duration) (*syncConn, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("IOERR error or timeout connecting to %s: %v", addr, err)
	}
	c := &syncConn{conn: conn, br: bufio.NewReader(conn), timeout: timeout}
	if len(auth) > 0 {
		if _, err := c.ok(append([]string{"AUTH"}, auth...)...); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// ok sends args and returns the reply; an error reply is an error.
func (c *syncConn) ok(args ...string) (resp.Value, error) {
	c.conn.SetDeadline(time.Now().Add(c.timeout + 5*time.Second))
	if _, err := c.conn.Write(command(args...)); err != nil {
		return resp.Value{}, err
	}
	v, err := resp.ReadValue(c.br)
	if err != nil {
		return v, err
	}
	if v.Type == '-' {
		return v, fmt.Errorf("ERR Slot migration (%s %s): %s", args[0], args[1], v.Str)
	}
	return v, nil
}

func (c *syncConn) close() { c.conn.Close() }
