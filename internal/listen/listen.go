// Package listen owns a node's client TCP listeners: one per address of
// the bind directive, on the port directive, as Redis's listenToPort
// (server.c), and their replacement when CONFIG SET changes either
// (config.c: changeBindAddr, changeListenPort). It also tells a local
// peer from a remote one, for protected mode (networking.c: islocalClient).
//
// The caller's duties:
//  1. Open once with the configured bind list and port.
//  2. Serve with a function that accepts on one listener until it is
//     closed; the Set calls it for every listener it opens, now and on
//     each later Rebind, and each call must return once its listener is
//     closed (Accept fails with net.ErrClosed).
//  3. Close at shutdown: listeners close and no Rebind opens new ones.
package listen

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The CONFIG SET error texts of Redis 7.0 when the new listeners cannot
// be opened (the old ones are reopened).
var (
	ErrPort = errors.New("Unable to listen on this port. Check server logs.")
	ErrBind = errors.New("Failed to bind to specified addresses.")
)

// Set is the group of listeners for one bind list and port.
type Set struct {
	mu     sync.Mutex
	bind   []string // as configured; empty: no TCP listener
	port   int      // as configured; 0 picks a free port
	lns    []net.Listener
	serve  func(net.Listener) // nil until Serve
	opened bool               // Open succeeded: a change rebinds
	closed bool
	logf   func(format string, args ...any)
}

// New returns an empty set; logf receives the warnings Redis logs for an
// address it cannot listen on.
func New(logf func(format string, args ...any)) *Set {
	return &Set{logf: logf}
}

// Open listens on every address of bind (the words of the bind
// directive) at port. An address starting with '-' is optional: skipped
// when it is not available on this host; an address whose family the
// host lacks is skipped too, as Redis. On any other failure nothing stays
// open and the error names the address.
func (s *Set) Open(bind []string, port int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lns, err := s.listen(bind, port)
	if err != nil {
		return err
	}
	s.bind, s.port, s.lns, s.opened = bind, port, lns, true
	return nil
}

// listen opens the listeners of one bind list and port.
func (s *Set) listen(bind []string, port int) ([]net.Listener, error) {
	var lns []net.Listener
	for _, word := range bind {
		addr, optional := strings.CutPrefix(word, "-")
		network, host := "tcp4", addr
		if strings.Contains(addr, ":") {
			network = "tcp6"
		}
		if addr == "*" || addr == "::*" {
			host = ""
		}
		p := port
		if p == 0 && len(lns) > 0 {
			p = lns[0].Addr().(*net.TCPAddr).Port // the free port the first one took
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			s.logf("# Warning: Could not create server TCP listening socket %s:%d: %v", addr, p, unwrap(err))
			if skippable(err, optional) {
				continue
			}
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("Could not create server TCP listening socket %s: %w", net.JoinHostPort(addr, strconv.Itoa(p)), err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// skippable reports the errors listenToPort goes on after: an address
// family or protocol the host lacks, or an optional address it does not
// have.
func skippable(err error, optional bool) bool {
	if optional && errors.Is(err, syscall.EADDRNOTAVAIL) {
		return true
	}
	for _, e := range []syscall.Errno{syscall.ENOPROTOOPT, syscall.EPROTONOSUPPORT,
		syscall.ESOCKTNOSUPPORT, syscall.EPFNOSUPPORT, syscall.EAFNOSUPPORT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// unwrap drops the "listen tcp4 addr:" prefix of a net.OpError.
func unwrap(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// Serve calls fn in a goroutine of the caller's choosing for each
// listener: start runs it (the server tracks its goroutines).
func (s *Set) Serve(start func(fn func()), fn func(net.Listener)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serve = func(ln net.Listener) { start(func() { fn(ln) }) }
	for _, ln := range s.lns {
		s.serve(ln)
	}
}

// SetPort moves every listener to port (CONFIG SET port). On failure
// the listeners of the old port are reopened and ErrPort is returned.
func (s *Set) SetPort(port int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.rebind(s.bind, port); err != nil {
		return ErrPort
	}
	return nil
}

// SetBind moves the listeners to the addresses of bind (CONFIG SET
// bind; none: no TCP listener). On failure the old addresses are
// reopened and ErrBind is returned.
func (s *Set) SetBind(bind []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.rebind(bind, s.port); err != nil {
		return ErrBind
	}
	return nil
}

// rebind closes the listeners and opens those of bind and port, as Redis
// does (closing first lets the new set take an address the old one
// held); when that fails it opens the old set again.
func (s *Set) rebind(bind []string, port int) error {
	if !s.opened || s.closed {
		s.bind, s.port = bind, port
		return nil
	}
	oldPort := s.port
	if oldPort == 0 && len(s.lns) > 0 {
		oldPort = s.lns[0].Addr().(*net.TCPAddr).Port // keep the free port it took
	}
	if port == s.port {
		port = oldPort
	}
	s.closeAll()
	lns, err := s.listen(bind, port)
	if err != nil {
		if back, err2 := s.listen(s.bind, oldPort); err2 == nil {
			s.start(back)
		} else {
			s.logf("# Could not listen again on the previous addresses: %v", err2)
		}
		return err
	}
	s.bind, s.port = bind, port
	s.start(lns)
	return nil
}

func (s *Set) start(lns []net.Listener) {
	s.lns = lns
	if s.serve != nil {
		for _, ln := range lns {
			s.serve(ln)
		}
	}
}

func (s *Set) closeAll() {
	for _, ln := range s.lns {
		ln.Close()
	}
	s.lns = nil
}

// Close closes every listener for good.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.closeAll()
}

// Addr is the address of the first listener, nil when there is none.
func (s *Set) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return nil
	}
	return s.lns[0].Addr()
}

// Port is the port listened on: the one a configured port 0 took, else
// the configured one (also when no address is bound).
func (s *Set) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return s.port
	}
	return s.lns[0].Addr().(*net.TCPAddr).Port
}

// IsLocal reports whether a client at addr came from this host's
// loopback as Redis's protected mode counts it: 127.0.0.1 or ::1 over
// TCP, or any unix socket peer.
func IsLocal(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return true
	}
	return ta.IP.Equal(net.IPv4(127, 0, 0, 1)) || ta.IP.Equal(net.IPv6loopback)
}
