package migration

// The connections MIGRATE keeps to its targets (Redis's
// migrate_cached_sockets): one per "host:port" as given, reused while it
// works, closed after CacheTTL unused, at most CacheSize of them. A
// connection remembers the database it last selected, so SELECT is sent
// only when the database changes.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"redgo/internal/netio"
)

const (
	// CacheTTL: a cached connection unused for longer is closed
	// (MIGRATE_SOCKET_CACHE_TTL).
	CacheTTL = 10 * time.Second
	// CacheSize: at most this many targets keep a connection
	// (MIGRATE_SOCKET_CACHE_ITEMS).
	CacheSize = 64
	// chunk is how much of the pipeline is written per deadline.
	chunk = 64 * 1024
	// maxLine bounds a reply line read from a target.
	maxLine = 64 * 1024
)

// Item is one key to move: its name, its remaining time to live in ms (0:
// none) and its DUMP payload.
type Item struct {
	Key     []byte
	TTL     int64
	Payload []byte
}

// Request is one MIGRATE call.
type Request struct {
	Host, Port string
	DB         int64
	Timeout    time.Duration // per connect, write and reply, as Redis's
	// Asking sends RESTORE-ASKING instead of RESTORE (cluster mode): the
	// target accepts it for a slot it is importing.
	Asking bool
	Options
	Items []Item
}

// Result is what the target made of a Request.
type Result struct {
	// Acked are the indexes in Items of the keys the target restored:
	// the caller deletes exactly those (unless COPY).
	Acked []int
	// Err is the error reply (without '-'), "" for +OK.
	Err string
}

// Cache holds the connections to targets. Its methods are safe for
// concurrent use; two MIGRATEs to one target at once use two connections
// (the second is cached only if the first is gone by then).
type Cache struct {
	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
	// Dialer connects to targets; tests may replace it.
	Dialer net.Dialer
}

type conn struct {
	nc      net.Conn
	br      *bufio.Reader
	db      int64 // the database last selected; -1 unknown
	lastUse time.Time
	busy    bool // a MIGRATE is using it
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{conns: map[string]*conn{}} }

// Len is the number of cached connections (INFO migrate_cached_sockets).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}

// CloseIdle closes the connections unused for more than CacheTTL (the
// server's cron calls it every second).
func (c *Cache) CloseIdle(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, cn := range c.conns {
		if !cn.busy && now.Sub(cn.lastUse) > CacheTTL {
			cn.nc.Close()
			delete(c.conns, name)
		}
	}
}

// Close closes every connection; one in use is closed when its MIGRATE
// ends.
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for name, cn := range c.conns {
		if !cn.busy {
			cn.nc.Close()
		}
		delete(c.conns, name)
	}
}

// errNoConnect: the target's address cannot be resolved (Redis fails
// before connecting: "connecting to the client"). Every other dial error
// shows, as in Redis, as an error writing to the target.
var errNoConnect = errors.New("migration: cannot connect")

// get returns a connection to name, cached or new, marked busy.
func (c *Cache) get(name, host, port string, timeout time.Duration) (*conn, error) {
	now := time.Now()
	c.mu.Lock()
	if cn := c.conns[name]; cn != nil && !cn.busy {
		cn.busy, cn.lastUse = true, now
		c.mu.Unlock()
		return cn, nil
	}
	c.mu.Unlock()
	addr, ok := dialAddr(host, port)
	if !ok {
		return nil, errNoConnect
	}
	d := c.Dialer
	d.Timeout = timeout
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		var dnsErr *net.DNSError
		var addrErr *net.AddrError
		if errors.As(err, &dnsErr) || errors.As(err, &addrErr) {
			return nil, errNoConnect
		}
		return nil, err
	}
	nc = netio.Wrap(nc) // raw reads and writes, as a client's connection
	cn := &conn{nc: nc, br: bufio.NewReaderSize(nc, 4096), db: -1, lastUse: now, busy: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns[name] == nil && !c.closed {
		if len(c.conns) >= CacheSize {
			for victim, v := range c.conns { // map order: a random one
				if !v.busy {
					v.nc.Close()
					delete(c.conns, victim)
					break
				}
			}
		}
		if len(c.conns) < CacheSize {
			c.conns[name] = cn
		}
	}
	return cn, nil
}

// release ends a MIGRATE's use of cn: a broken connection is closed and
// forgotten, a working one stays (or enters) the cache.
func (c *Cache) release(name string, cn *conn, broken bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cn.busy, cn.lastUse = false, time.Now()
	cached := c.conns[name] == cn
	switch {
	case broken || c.closed:
		if cached {
			delete(c.conns, name)
		}
		cn.nc.Close()
	case cached:
	case c.conns[name] == nil && len(c.conns) < CacheSize:
		c.conns[name] = cn
	default:
		cn.nc.Close()
	}
}

// dialAddr is the address Redis would connect to: the port as atoi reads
// it, in 16 bits; an empty host or a negative port cannot be resolved.
func dialAddr(host, port string) (string, bool) {
	p := atoi(port)
	if host == "" || p < 0 {
		return "", false
	}
	return net.JoinHostPort(host, strconv.FormatInt(p&0xffff, 10)), true
}

// atoi reads an optional sign and the digits that follow, after leading
// spaces, and ignores the rest, as C's atoi.
func atoi(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && v < 1<<40; i++ {
		v = v*10 + int64(s[i]-'0')
	}
	if neg {
		return -v
	}
	return v
}

// Where a send failed.
type failure uint8

const (
	failNone  failure = iota
	failWrite         // writing the pipeline (or connecting)
	failHead          // reading the AUTH or SELECT reply, or the first RESTORE reply
	failLater         // reading a later RESTORE reply: the earlier ones count
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// Migrate sends req's items to its target and reads the replies, with
// Redis's error handling: a socket error before any key was acknowledged
// is retried once on a new connection, unless it was a timeout.
func (c *Cache) Migrate(req *Request) Result {
	name := req.Host + ":" + req.Port
	mayRetry := true
	for {
		cn, err := c.get(name, req.Host, req.Port, req.Timeout)
		if errors.Is(err, errNoConnect) {
			return Result{Err: errConnect}
		}
		var acked []int
		targetErr, fail := "", failWrite
		if err == nil {
			acked, targetErr, fail, err = cn.send(req)
			if fail == failNone {
				cn.db = req.DB
				if targetErr != "" {
					cn.db = -1
				}
			}
			c.release(name, cn, fail != failNone)
		}
		switch fail {
		case failNone:
			return Result{Acked: acked, Err: targetErr}
		case failLater:
			if targetErr == "" {
				targetErr = errReading
			}
			return Result{Acked: acked, Err: targetErr}
		}
		if mayRetry && !isTimeout(err) {
			mayRetry = false
			continue
		}
		if fail == failWrite {
			return Result{Err: errWriting}
		}
		return Result{Err: errReading}
	}
}

// send writes the pipeline (AUTH, SELECT when the database changed, one
// RESTORE per item) and reads its replies. The read timeout runs from the
// end of the write and again for each reply, as in Redis.
func (cn *conn) send(req *Request) (acked []int, targetErr string, fail failure, err error) {
	sel := cn.db != req.DB
	buf := appendPipeline(nil, req, sel)
	heads := 0
	if req.Auth {
		heads++
	}
	if sel {
		heads++
	}
	var rs replies
	if len(buf) <= inlineMax {
		rs = &inlineReplies{cn: cn, timeout: req.Timeout}
	} else {
		rs = startReader(cn, heads+len(req.Items), req.Timeout)
	}
	for pos := 0; pos < len(buf); pos += chunk {
		end := min(pos+chunk, len(buf))
		cn.nc.SetWriteDeadline(time.Now().Add(req.Timeout))
		if _, err := cn.nc.Write(buf[pos:end]); err != nil {
			rs.abort()
			return nil, "", failWrite, err
		}
	}
	headErr := ""
	for range heads {
		l, err := rs.next()
		if err != nil {
			rs.abort()
			return nil, "", failHead, err
		}
		if headErr == "" && isErr(l) {
			headErr = l
		}
	}
	for j := range req.Items {
		l, err := rs.next()
		if err != nil {
			rs.abort()
			if j == 0 {
				return nil, targetErr, failHead, err
			}
			return acked, targetErr, failLater, err
		}
		if headErr != "" {
			l = headErr // every key fails with AUTH's or SELECT's error
		}
		switch {
		case !isErr(l):
			acked = append(acked, j)
		case targetErr == "": // the first error is the reply
			targetErr = errTargetFmt + l[1:]
		}
	}
	rs.done()
	return acked, targetErr, failNone, nil
}

// inlineMax is the largest pipeline whose replies are read only once it
// is all written, on the MIGRATE's own goroutine (redis-cli's MIGRATE of
// 10 small keys is about 1 KB). A target answers each RESTORE with a
// line shorter than the command, so the replies to so small a pipeline
// fit in the sockets' buffers and the target never stalls writing them
// while we still write. A goroutine and a channel per call cost more
// than the rest of such a MIGRATE's work on our side.
const inlineMax = 16 << 10

// replies hands send the target's reply lines in order.
type replies interface {
	// next returns the next reply line, waiting at most the timeout.
	next() (string, error)
	// abort closes the connection after a failure; the reader, if any,
	// has ended when it returns.
	abort()
	// done is called after the last reply; the reader, if any, has ended
	// when it returns.
	done()
}

// inlineReplies reads the replies on the caller's goroutine.
type inlineReplies struct {
	cn      *conn
	timeout time.Duration
}

func (r *inlineReplies) next() (string, error) {
	// A deadline only matters when a read is made: a line already
	// buffered (the replies of a pipeline often come in one read) needs
	// none.
	if b, _ := r.cn.br.Peek(r.cn.br.Buffered()); bytes.IndexByte(b, '\n') < 0 {
		r.cn.nc.SetReadDeadline(time.Now().Add(r.timeout))
	}
	return readLine(r.cn.br)
}

func (r *inlineReplies) abort() { r.cn.nc.Close() }
func (r *inlineReplies) done()  {}

// asyncReplies reads the replies on a goroutine of their own while the
// pipeline is written, so a target that answers before it has read a
// large pipeline never stalls both sides.
type asyncReplies struct {
	cn      *conn
	lines   chan reply
	timeout time.Duration
	started bool // the first line was asked for: the write is over
}

// reply is one line read from the target, or the error that ended the
// reading.
type reply struct {
	line string
	err  error
}

func startReader(cn *conn, expected int, timeout time.Duration) *asyncReplies {
	r := &asyncReplies{cn: cn, lines: make(chan reply, expected), timeout: timeout}
	cn.nc.SetReadDeadline(time.Time{})
	go func() {
		defer close(r.lines)
		for range expected {
			l, err := readLine(cn.br)
			r.lines <- reply{l, err}
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *asyncReplies) next() (string, error) {
	if !r.started {
		r.started = true
		r.cn.nc.SetReadDeadline(time.Now().Add(r.timeout))
	}
	x, ok := <-r.lines
	if !ok {
		return "", io.ErrUnexpectedEOF
	}
	r.cn.nc.SetReadDeadline(time.Now().Add(r.timeout))
	return x.line, x.err
}

func (r *asyncReplies) abort() {
	r.cn.nc.Close()
	for range r.lines {
	}
}

func (r *asyncReplies) done() {
	for range r.lines { // the reader has ended: it read every reply
	}
}

func isErr(l string) bool { return len(l) > 0 && l[0] == '-' }

// readLine reads a reply line without its "\r\n".
func readLine(br *bufio.Reader) (string, error) {
	var long []byte
	for {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull && len(long) < maxLine {
			long = append(long, b...)
			continue
		}
		if err != nil {
			return "", err
		}
		if long != nil {
			b = append(long, b...)
		}
		n := len(b) - 1
		if n > 0 && b[n-1] == '\r' {
			n--
		}
		return string(b[:n]), nil
	}
}

// appendPipeline appends the commands of req in RESP.
func appendPipeline(b []byte, req *Request, sel bool) []byte {
	if req.Auth {
		if len(req.User) > 0 {
			b = appendArgs(b, []byte("AUTH"), req.User, req.Password)
		} else {
			b = appendArgs(b, []byte("AUTH"), req.Password)
		}
	}
	if sel {
		b = appendArgs(b, []byte("SELECT"), strconv.AppendInt(nil, req.DB, 10))
	}
	name := []byte("RESTORE")
	if req.Asking {
		name = []byte("RESTORE-ASKING")
	}
	var ttl [20]byte
	for _, it := range req.Items {
		t := strconv.AppendInt(ttl[:0], it.TTL, 10)
		if req.Replace {
			b = appendArgs(b, name, it.Key, t, it.Payload, []byte("REPLACE"))
		} else {
			b = appendArgs(b, name, it.Key, t, it.Payload)
		}
	}
	return b
}

func appendArgs(b []byte, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
