package netio

import (
	"os"
	"runtime"
	"sync"
	"syscall"
	"weak"
)

// The hangup watcher lets ReadLoop wait for the poller after a short
// read, which saves a read(2) per request (the one that would find the
// socket empty), without missing a peer that closed right after its last
// data.
//
// The runtime's poller is edge-triggered: data and the peer's FIN that
// arrive together are reported once, and a short read returns the data
// and leaves the FIN (the end of the stream) for a read that a goroutine
// waiting for the poller would never make. So every connection read with
// ReadLoop is also registered, for EPOLLRDHUP only, with an epoll
// instance of our own that one goroutine waits on. When a peer's FIN
// arrives, that goroutine shuts the connection's read side (shutdown
// SHUT_RD: the peer sends nothing more anyway, and data already queued
// stays readable), which wakes whoever waits on the socket, the
// runtime's poller included: the reader comes back, reads what is left
// and then the end. Arriving data does not wake the watcher (its
// registration does not ask for EPOLLIN).
type hangupWatcher struct {
	once  sync.Once
	efd   int      // -1: no watcher (ReadLoop reads until EAGAIN instead)
	file  *os.File // efd, waited on through the runtime's poller
	mu    sync.Mutex
	next  uint64
	conns map[uint64]weak.Pointer[Conn] // by the token in the epoll event; an entry goes with its Conn
}

var hangups hangupWatcher

// epollET is EPOLLET as the event's type holds it.
const epollET = 1 << 31

func (h *hangupWatcher) start() {
	h.efd = -1
	efd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return
	}
	// The goroutine must not wait in epoll_wait(2) itself: a goroutine in
	// a blocking system call keeps its P until the runtime's monitor takes
	// it back, up to 10 ms later on an idle server, and with one P nothing
	// else runs meanwhile (requests waited that long). The epoll instance
	// is itself a descriptor that becomes readable when it has events:
	// the runtime's poller waits for that, and the goroutine parks.
	if syscall.SetNonblock(efd, true) != nil {
		syscall.Close(efd)
		return
	}
	f := os.NewFile(uintptr(efd), "hangup-watcher")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return
	}
	h.efd, h.file, h.conns = efd, f, map[uint64]weak.Pointer[Conn]{}
	go h.run(rc)
}

// run waits for hangups for the life of the process.
func (h *hangupWatcher) run(rc syscall.RawConn) {
	events := make([]syscall.EpollEvent, 64)
	for {
		n := 0
		err := rc.Read(func(fd uintptr) bool {
			k, err := syscall.EpollWait(int(fd), events, 0)
			if err != nil || k <= 0 {
				return false // nothing yet (or EINTR): wait for the poller
			}
			n = k
			return true
		})
		if err != nil {
			return // cannot happen: the descriptor is never closed
		}
		for _, ev := range events[:n] {
			tok := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			h.mu.Lock()
			c := h.conns[tok].Value()
			h.mu.Unlock()
			if c == nil {
				continue
			}
			// Control runs only while the connection is open, on its own
			// descriptor: never on a number reused by a newer one.
			c.rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RD) })
		}
	}
}

// watch registers c with the watcher once; it reports whether c is
// watched. Only ReadLoop's caller calls it (c's reading goroutine).
func (c *Conn) watch() bool {
	if c.watched != 0 {
		return c.watched > 0
	}
	h := &hangups
	h.once.Do(h.start)
	c.watched = -1
	if h.efd < 0 {
		return false
	}
	h.mu.Lock()
	h.next++
	tok := h.next
	h.conns[tok] = weak.Make(c)
	h.mu.Unlock()
	var cerr error
	err := c.rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | epollET, Fd: int32(uint32(tok)), Pad: int32(uint32(tok >> 32))}
		cerr = syscall.EpollCtl(h.efd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil || cerr != nil {
		h.forget(tok)
		return false
	}
	// The descriptor leaves the epoll set when it is closed; the entry
	// when the Conn is collected.
	runtime.AddCleanup(c, h.forget, tok)
	c.watched = 1
	return true
}

func (h *hangupWatcher) forget(tok uint64) {
	h.mu.Lock()
	delete(h.conns, tok)
	h.mu.Unlock()
}
