package clusterbus

// The TCP side of the cluster bus: a listener on the bus port, one
// reader and one writer goroutine per link, outbound links by node name,
// and one drive loop that feeds cluster.Membership (Step for each
// message, Tick every 100 ms) and then carries out its Ready through
// Membership.Drive: nodes.conf saved (and fsynced) first, messages
// queued to the links only after that, the rest applied last. The loop
// is the only goroutine that steps Membership, always under Config.Mu;
// the server drives it too, under the same lock, after CLUSTER commands.
//
// A link that sends something that does not decode is closed (Redis
// frees the link on an invalid packet). A link whose send queue fills up
// is closed too (cluster-link-sendbuf-limit, counted in
// State.LinksBufferLimitExceeded).

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"redgo/internal/clock"
	"redgo/internal/cluster"
	"redgo/internal/netio"
)

// Config is what a Transport needs.
type Config struct {
	// Addr is the address to listen on ("host:port"; port 0 picks one).
	Addr string
	// M is the membership machine to drive.
	M *cluster.Membership
	// Mu guards M and its State; the server passes its cluster mutex.
	// nil: the Transport uses its own.
	Mu sync.Locker
	// Driver carries out M's Readys after each batch of Step/Tick calls,
	// under Mu; its Send must hand the messages to Transport.Send. nil:
	// a driver that saves nothing, sends here, recomputes cluster_state
	// and logs. When its SaveConfig fails the loop stops: nothing more
	// leaves this node (Redis exits, clusterSaveConfigOrDie).
	Driver cluster.Driver
	// Logf receives Membership's log lines and link errors; nil drops them.
	Logf func(format string, args ...any)
	// MaxMsgLen bounds an incoming message (0: 64 MB).
	MaxMsgLen int
	// SendQueue is how many messages may wait on one link (0: 4096).
	SendQueue int
	// SendBufLimit, if set, returns cluster-link-sendbuf-limit: a link
	// with more bytes waiting to be written is freed (0: no limit).
	SendBufLimit func() int64
	// Now returns the time in ms (nil: the wall clock).
	Now func() int64
	// Drop, if set, is asked about every message that arrives: true
	// discards it as if the network had lost it (tests cut the bus into
	// partitions with it).
	Drop func(m *cluster.Msg) bool
	// SourceAddr, if set, returns bind-source-addr: the local address
	// links to other nodes are dialed from ("" or unusable: any).
	SourceAddr func() string
}

// Transport runs the bus of one node.
type Transport struct {
	cfg    Config
	ln     net.Listener
	events chan event
	done   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup
	nextID atomic.Uint64

	// Owned by the drive loop.
	links map[cluster.LinkID]*conn // every open link
	out   map[string]*conn         // outbound links by node name
	// unreachable: nodes whose last dial failed (logged once per outage).
	unreachable map[string]bool
}

// conn is one bus link.
type conn struct {
	id       cluster.LinkID
	c        net.Conn // nil while dialing
	name     string   // outbound: the node it goes to (drive loop only)
	outbound bool
	sendq    chan []byte
	queued   atomic.Int64 // bytes in sendq and being written (send_msg_queue_mem)
	quit     chan struct{}
	once     sync.Once
	ip, lip  string // remote and local IP
	ctime    int64  // ms, when the link was created (CLUSTER LINKS)
	// peer: the node an inbound link comes from, once known (links.go).
	peer string
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.quit)
		if c.c != nil {
			c.c.Close()
		}
	})
}

type eventKind uint8

const (
	evMsg    eventKind = iota // msg arrived on c
	evClosed                  // c broke
	evDialed                  // dial of c finished (err set on failure)
)

type event struct {
	kind eventKind
	c    *conn
	msg  *cluster.Msg
	nc   net.Conn // evDialed of an outbound link: the new connection
	err  error
}

// Listen starts the bus: the listener and the drive loop.
func Listen(cfg Config) (*Transport, error) {
	if cfg.Mu == nil {
		cfg.Mu = new(sync.Mutex)
	}
	if cfg.MaxMsgLen == 0 {
		cfg.MaxMsgLen = 64 << 20
	}
	if cfg.SendQueue == 0 {
		cfg.SendQueue = 4096
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixMilli() }
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, ln: ln, events: make(chan event, 256), done: make(chan struct{}),
		links: map[cluster.LinkID]*conn{}, out: map[string]*conn{}, unreachable: map[string]bool{}}
	t.wg.Add(2)
	go t.accept()
	go t.loop()
	return t, nil
}

// Addr is the address the bus listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Port is the bus port.
func (t *Transport) Port() int { return t.ln.Addr().(*net.TCPAddr).Port }

// Close stops the bus and waits for its goroutines. Only the first call
// does anything.
func (t *Transport) Close() error {
	var err error
	t.closed.Do(func() {
		close(t.done)
		err = t.ln.Close()
		t.wg.Wait()
	})
	return err
}

func (t *Transport) logf(format string, args ...any) {
	if t.cfg.Logf != nil {
		t.cfg.Logf(format, args...)
	}
}

// post hands an event to the loop unless the transport is closing.
func (t *Transport) post(ev event) {
	select {
	case t.events <- ev:
	case <-t.done:
	}
}

func (t *Transport) newConn(outbound bool) *conn {
	return &conn{id: cluster.LinkID(t.nextID.Add(1)), outbound: outbound, ctime: t.cfg.Now(),
		sendq: make(chan []byte, t.cfg.SendQueue), quit: make(chan struct{})}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, _ := net.SplitHostPort(a.String())
	return h
}

func (t *Transport) accept() {
	defer t.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			select {
			case <-t.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.logf("Error accepting cluster node: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c := t.newConn(false)
		c.c, c.ip, c.lip = nc, hostOf(nc.RemoteAddr()), hostOf(nc.LocalAddr())
		select {
		case t.events <- event{kind: evDialed, c: c}:
			t.start(c)
		case <-t.done:
			nc.Close()
			return
		}
	}
}

// start runs the reader and the writer of a connected link.
func (t *Transport) start(c *conn) {
	t.wg.Add(2)
	go t.reader(c)
	go t.writer(c)
}

func (t *Transport) reader(c *conn) {
	defer t.wg.Done()
	r := bufio.NewReaderSize(c.c, 64<<10)
	var buf []byte
	for {
		b, err := ReadMsg(r, buf, t.cfg.MaxMsgLen)
		buf = b
		var m *cluster.Msg
		if err == nil {
			m, err = Decode(b)
		}
		if err != nil {
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				select {
				case <-c.quit:
				default:
					t.logf("Closing cluster link from %s: %v", c.ip, err)
				}
			}
			c.close()
			t.post(event{kind: evClosed, c: c})
			return
		}
		t.post(event{kind: evMsg, c: c, msg: m})
	}
}

func (t *Transport) writer(c *conn) {
	defer t.wg.Done()
	for {
		select {
		case b := <-c.sendq:
			c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err := c.c.Write(b)
			c.queued.Add(-int64(len(b)))
			if err != nil {
				c.close()
				return
			}
		case <-c.quit:
			return
		case <-t.done:
			return
		}
	}
}

func (t *Transport) dial(c *conn, ip string, cport int) {
	defer t.wg.Done()
	source := ""
	if t.cfg.SourceAddr != nil {
		source = t.cfg.SourceAddr()
	}
	nc, err := netio.DialFrom(net.JoinHostPort(ip, strconv.Itoa(cport)), source, 5*time.Second)
	select {
	case t.events <- event{kind: evDialed, c: c, nc: nc, err: err}:
	case <-t.done:
		if nc != nil {
			nc.Close()
		}
	}
}

// loop is the drive loop: the only goroutine that steps Membership.
func (t *Transport) loop() {
	defer t.wg.Done()
	tick := clock.NewTicker(cluster.TickMs * time.Millisecond)
	defer tick.Stop()
	defer func() {
		for _, c := range t.links {
			c.close()
		}
	}()
	mu := t.cfg.Mu
	for {
		select {
		case <-t.done:
			return
		case ev := <-t.events:
			mu.Lock()
			now := t.cfg.Now()
			t.handle(ev, now)
			// Take whatever else is queued under the same lock: one
			// Ready, so one nodes.conf save, for the whole batch.
			for more := true; more; {
				select {
				case ev := <-t.events:
					t.handle(ev, now)
				default:
					more = false
				}
			}
		case <-tick.C:
			tick.Next()
			mu.Lock()
			t.cfg.M.Tick(t.cfg.Now())
		}
		err := t.cfg.M.Drive(t.driver())
		mu.Unlock()
		if err != nil {
			t.logf("Can't save the cluster config file, the cluster bus stops: %v", err)
			return
		}
	}
}

func (t *Transport) driver() cluster.Driver {
	if t.cfg.Driver != nil {
		return t.cfg.Driver
	}
	return ownDriver{t}
}

// ownDriver is the driver of a transport without Config.Driver (tests):
// no nodes.conf, cluster_state recomputed, log lines to Logf.
type ownDriver struct{ t *Transport }

func (ownDriver) SaveConfig([]byte, bool) error { return nil }
func (d ownDriver) Send(out []cluster.Out)      { d.t.Send(out) }

func (d ownDriver) Apply(rd *cluster.Ready) {
	if rd.UpdateState {
		d.t.cfg.M.S.UpdateState(d.t.cfg.Now())
	}
	for _, l := range rd.Logs {
		d.t.logf("%s", l)
	}
}

func (t *Transport) handle(ev event, now int64) {
	m, c := t.cfg.M, ev.c
	switch ev.kind {
	case evMsg:
		if t.links[c.id] != c || t.cfg.Drop != nil && t.cfg.Drop(ev.msg) {
			return
		}
		l := cluster.Link{ID: c.id, IP: c.ip, LocalIP: c.lip}
		if c.outbound {
			l.Node = c.name
		}
		m.Step(l, ev.msg, now)
		t.notePeer(c, ev.msg)
	case evClosed:
		if t.links[c.id] != c {
			return
		}
		delete(t.links, c.id)
		if c.outbound && t.out[c.name] == c {
			delete(t.out, c.name)
			m.LinkDown(c.name, now)
		}
	case evDialed:
		if !c.outbound {
			t.links[c.id] = c
			return
		}
		if t.out[c.name] != c {
			// Replaced or closed while dialing.
			if ev.nc != nil {
				ev.nc.Close()
			}
			return
		}
		if ev.err != nil {
			delete(t.out, c.name)
			if !t.unreachable[c.name] {
				t.unreachable[c.name] = true
				t.logf("Connection with Node %s failed: %v", c.name, ev.err)
			}
			if errors.Is(ev.err, syscall.ECONNREFUSED) {
				m.LinkRefused(c.name, now)
			} else {
				m.LinkDown(c.name, now)
			}
			break
		}
		delete(t.unreachable, c.name)
		c.c, c.ip, c.lip = ev.nc, hostOf(ev.nc.RemoteAddr()), hostOf(ev.nc.LocalAddr())
		t.links[c.id] = c
		t.start(c)
		m.LinkUp(c.name, now)
	}
}

// Send carries out step 3 of a cluster.Ready: messages are queued to
// their links, links are opened, closed and renamed. The caller holds
// Config.Mu and saved what the Ready asked first (Membership.Drive).
// After Close it does nothing.
func (t *Transport) Send(outs []cluster.Out) {
	select {
	case <-t.done:
		return
	default:
	}
	for _, o := range outs {
		switch o.Kind {
		case cluster.OutSend:
			t.sendMsg(o)
		case cluster.OutDial:
			if old := t.out[o.Node]; old != nil {
				delete(t.links, old.id)
				old.close()
			}
			c := t.newConn(true)
			c.name = o.Node
			t.out[o.Node] = c
			t.wg.Add(1)
			go t.dial(c, o.IP, o.CPort)
		case cluster.OutClose:
			if c := t.out[o.Node]; c != nil {
				delete(t.out, o.Node)
				delete(t.links, c.id)
				c.close()
			}
		case cluster.OutRename:
			if c := t.out[o.Node]; c != nil {
				delete(t.out, o.Node)
				c.name = o.NewName
				t.out[o.NewName] = c
			}
		}
	}
}

// sendMsg queues one message to its link; a link whose queue is full is
// dropped (cluster-link-sendbuf-limit).
func (t *Transport) sendMsg(o cluster.Out) {
	c := t.links[o.Link]
	if o.Link == 0 {
		c = t.out[o.Node]
	}
	if c == nil || c.c == nil {
		return
	}
	b, err := Encode(o.Msg)
	if err != nil {
		t.logf("Cannot encode a %s message: %v", o.Msg.Type, err)
		return
	}
	if t.cfg.SendBufLimit != nil {
		if lim := t.cfg.SendBufLimit(); lim > 0 && c.queued.Load()+int64(len(b)) > lim {
			t.cfg.M.S.LinksBufferLimitExceeded++
			t.logf("Freeing cluster link(%s node %s, used memory: %d) due to exceeding send buffer memory limit.",
				linkDir(c), c.name+c.peer, c.queued.Load())
			t.drop(c, t.cfg.Now())
			return
		}
	}
	select {
	case c.sendq <- b:
		c.queued.Add(int64(len(b)))
	default:
		t.cfg.M.S.LinksBufferLimitExceeded++
		t.logf("Freeing cluster link to %s: send queue full", c.ip)
		t.drop(c, t.cfg.Now())
	}
}

func linkDir(c *conn) string {
	if c.outbound {
		return "to"
	}
	return "from"
}

// drop closes c at our initiative and tells Membership when it was the
// outbound link of a node.
func (t *Transport) drop(c *conn, now int64) {
	delete(t.links, c.id)
	c.close()
	if c.outbound && t.out[c.name] == c {
		delete(t.out, c.name)
		t.cfg.M.LinkDown(c.name, now)
	}
}
