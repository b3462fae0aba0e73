package localcluster

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"redgo/internal/resp"
)

// call sends one command to addr and returns the reply; an error reply
// is an error.
func call(addr string, args ...string) (resp.Value, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return resp.Value{}, unreachable(addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return resp.Value{}, err
	}
	v, err := resp.ReadValue(bufio.NewReader(c))
	if err != nil {
		return v, fmt.Errorf("%s: %v", addr, err)
	}
	if v.Type == '-' {
		return v, fmt.Errorf("%s: %s: %s", addr, strings.Join(args, " "), v.Str)
	}
	return v, nil
}

// callStr is call for a reply that is a string.
func callStr(addr string, args ...string) (string, error) {
	v, err := call(addr, args...)
	return v.Str, err
}

// ErrUnreachable is wrapped by the errors of nodes that do not answer.
var ErrUnreachable = errors.New("unreachable")

func unreachable(addr string, err error) error {
	why := err.Error()
	if errors.Is(err, syscall.ECONNREFUSED) {
		why = "connection refused"
	}
	return fmt.Errorf("%w: could not connect to node %s: %s", ErrUnreachable, addr, why)
}

// infoField returns the value of name in an INFO-style text.
func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
