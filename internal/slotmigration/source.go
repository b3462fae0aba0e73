package slotmigration

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/procs"
	"redgo/internal/resp"
)

// Errors of a transfer; the server replies them as they are.
var (
	ErrInProgress   = errors.New("ERR A slot migration is already in progress on this node")
	ErrNotSupported = errors.New("ERR The target does not support CLUSTER SYNCSLOTS")
	errTooFarBehind = errors.New("ERR Slot migration failed: the target fell too far behind the writes")
	errFlushed      = errors.New("ERR Slot migration failed: the dataset was flushed during the transfer")
	errCancelled    = errors.New("ERR Slot migration cancelled")
)

// Host is what the source's server gives a transfer.
type Host interface {
	// DumpSlot, with slot j's shard locked: emit for every live key of
	// the slot (its DUMP payload, valid during the call only; its
	// absolute expiry in ms or 0), then done, before the lock is
	// released.
	DumpSlot(j int, emit func(key string, payload []byte, expireAt int64), done func()) error
	// LockSlots locks the shards of slots until unlock is called.
	LockSlots(slots []int) (unlock func())
	// Owner is the name of the node serving slot j in our view.
	Owner(j int) string
	// GiveSlots records that node to serves slots (nodes.conf saved,
	// routes republished). Called with the slots' shards locked.
	GiveSlots(to string, slots []int) error
	// DropSlots deletes our keys of slots, propagated as DELs.
	DropSlots(slots []int)
	Logf(format string, args ...any)
}

// Request is one CLUSTER MIGRATESLOTS.
type Request struct {
	Slots  []int
	Source string // our node name
	Target string // the target's node name
	Addr   string // its host:port
	// Auth are the AUTH arguments for the target (masterauth), if any.
	Auth []string
	// Timeout bounds a connect, and any wait for the target's progress.
	Timeout time.Duration
}

// Migration is the record of one transfer (CLUSTER GETSLOTMIGRATIONS).
type Migration struct {
	Slots      []int
	Target     string
	State      string // "running", "success", "failed", "cancelled"
	Error      string
	Start, End time.Time
	Keys       int64         // keys sent in the snapshot
	Writes     int64         // commands sent, snapshot included
	Pause      time.Duration // how long the slots' writes waited at the flip
	KeyByKey   bool          // done with MIGRATE (the target is not redgo)
}

// transfer is a running Migration with its live counters.
type transfer struct {
	rec                         Migration
	cancel                      atomic.Bool
	keysN, writesN, pausedNanos atomic.Int64
}

// Migrator runs the transfers of one source node, one at a time.
type Migrator struct {
	Capture Capture
	host    Host

	mu      sync.Mutex
	running *transfer
	history []*transfer // the last ones, newest last
}

// NewMigrator returns the migrator of a node.
func NewMigrator(h Host) *Migrator { return &Migrator{host: h} }

const historyLen = 16

// begin registers a new transfer; ErrInProgress if one runs.
func (m *Migrator) begin(req *Request) (*transfer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running != nil {
		return nil, ErrInProgress
	}
	mg := &transfer{rec: Migration{Slots: req.Slots, Target: req.Target, State: "running", Start: time.Now()}}
	m.running = mg
	m.history = append(m.history, mg)
	if len(m.history) > historyLen {
		m.history = m.history[1:]
	}
	return mg, nil
}

// end records the outcome of mg.
func (m *Migrator) end(mg *transfer, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &mg.rec
	r.End = time.Now()
	r.Keys, r.Writes = mg.keysN.Load(), mg.writesN.Load()
	r.Pause = time.Duration(mg.pausedNanos.Load())
	switch {
	case err == nil:
		r.State = "success"
	case mg.cancel.Load():
		r.State, r.Error = "cancelled", err.Error()
	default:
		r.State, r.Error = "failed", err.Error()
	}
	m.running = nil
}

// List returns copies of the recorded transfers, oldest first.
func (m *Migrator) List() []Migration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Migration, 0, len(m.history))
	for _, mg := range m.history {
		c := mg.rec
		if mg == m.running {
			c.Keys, c.Writes = mg.keysN.Load(), mg.writesN.Load()
		}
		out = append(out, c)
	}
	return out
}

// Cancel asks the running transfer, if any, to roll back; it reports
// how many it asked (0 or 1). A transfer already in its flip finishes.
func (m *Migrator) Cancel() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running == nil {
		return 0
	}
	m.running.cancel.Store(true)
	return 1
}

// Run moves req.Slots to the target and returns when the target serves
// them (nil) or the transfer rolled back (the error says why). With a
// target that does not know CLUSTER SYNCSLOTS it returns ErrNotSupported
// before anything moved, and fallback runs the key-by-key procedure.
func (m *Migrator) Run(req *Request, fallback func(cancelled func() bool) error) error {
	mg, err := m.begin(req)
	if err != nil {
		return err
	}
	err = m.run(mg, req)
	if errors.Is(err, ErrNotSupported) && fallback != nil {
		m.mu.Lock()
		mg.rec.KeyByKey = true
		m.mu.Unlock()
		m.host.Logf("Slot migration to %s: the target does not support CLUSTER SYNCSLOTS, moving keys with MIGRATE", req.Target)
		err = fallback(mg.cancel.Load)
	}
	m.end(mg, err)
	return err
}

func (m *Migrator) run(mg *transfer, req *Request) error {
	h := m.host
	link, err := dialTarget(req)
	if err != nil {
		return err
	}
	defer link.close()
	defer procs.Hold()() // the transfer runs beside the requests: every P
	st := newStream()
	link.start(st)
	m.Capture.active.Store(st)
	defer m.Capture.active.Store(nil)
	h.Logf("Slot migration of %d slots to %s started", len(req.Slots), req.Target)
	var b batch // the keys of the slot being dumped
	for _, j := range req.Slots {
		if mg.cancel.Load() {
			return errCancelled
		}
		n := 0
		err := h.DumpSlot(j, func(key string, payload []byte, expireAt int64) {
			b.add(key, payload, expireAt)
			if n++; b.full() {
				st.addBatch(j, &b)
			}
		}, func() {
			st.addBatch(j, &b)
			st.wake()
			mg.keysN.Add(int64(n))
			st.captured[j].Store(true)
		})
		if err != nil {
			st.fail(err)
			return m.rollback(req, err)
		}
		if err := st.waitBelow(snapshotAhead); err != nil {
			return m.rollback(req, err)
		}
		if err := link.failed(); err != nil {
			return m.rollback(req, err)
		}
	}
	snap := time.Since(mg.rec.Start)
	if err := link.catchUp(st, mg, req.Timeout); err != nil {
		return m.rollback(req, err)
	}
	h.Logf("Slot migration to %s: %d keys sent in %v, target caught up after %v", req.Target,
		mg.keysN.Load(), snap.Round(time.Millisecond), time.Since(mg.rec.Start).Round(time.Millisecond))
	return m.flip(mg, req, link, st)
}

// rollback logs why a transfer stopped; the deferred close of the link
// makes the target drop what it received.
func (m *Migrator) rollback(req *Request, err error) error {
	m.host.Logf("# Slot migration to %s rolled back: %v", req.Target, err)
	return err
}

// flip ends the transfer with the slots' shards locked: the last writes
// and FINISH go out, the target takes the slots, we record it.
func (m *Migrator) flip(mg *transfer, req *Request, link *link, st *stream) error {
	h := m.host
	start := time.Now()
	unlock := h.LockSlots(req.Slots)
	if _, err := st.status(); err != nil {
		unlock()
		return m.rollback(req, err)
	}
	st.add([]byte("CLUSTER"), []byte("SYNCSLOTS"), []byte("FINISH"))
	m.Capture.active.Store(nil) // no write to these slots can come now
	finish, _ := st.status()
	err := link.waitAcked(st, finish, req.Timeout)
	if err != nil && link.refused() == "" && !mg.cancel.Load() {
		// FINISH went out, its answer did not come back: the target may
		// have taken the slots. Wait for the cluster to tell.
		if m.claimed(req) {
			err = nil
		}
	}
	if err != nil {
		unlock()
		mg.pausedNanos.Store(int64(time.Since(start)))
		return m.rollback(req, err)
	}
	gerr := h.GiveSlots(req.Target, req.Slots)
	unlock()
	pause := time.Since(start)
	mg.pausedNanos.Store(int64(pause))
	mg.writesN.Store(finish)
	if gerr != nil {
		h.Logf("# Slot migration to %s: recording the new owner: %v", req.Target, gerr)
	}
	h.Logf("Slot migration of %d slots (%d keys) to %s done: writes to them paused %v",
		len(req.Slots), mg.keysN.Load(), req.Target, pause.Round(time.Microsecond))
	dropStart := time.Now()
	h.DropSlots(req.Slots)
	h.Logf("Slot migration to %s: our copies deleted in %v", req.Target, time.Since(dropStart).Round(time.Millisecond))
	return nil
}

// claimed waits up to the timeout for our view to show the target
// serving every slot.
func (m *Migrator) claimed(req *Request) bool {
	deadline := time.Now().Add(req.Timeout)
	for time.Now().Before(deadline) {
		all := true
		for _, j := range req.Slots {
			if m.host.Owner(j) != req.Target {
				all = false
				break
			}
		}
		if all {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// link is the connection to the target: a sender goroutine writes the
// stream, a reader goroutine counts the replies.
type link struct {
	conn      net.Conn
	br        *bufio.Reader
	timeout   time.Duration
	acked     atomic.Int64 // replies read
	want      atomic.Int64 // a waiter wants a wake-up once acked reaches it (0: none)
	targetErr string       // the first error reply (set before readErr)
	readErr   chan error   // the reader's end
	wg        sync.WaitGroup
	done      chan struct{}
	mu        sync.Mutex
	cond      *sync.Cond // signalled on each reply and at the reader's end
	ended     error
}

// dialTarget connects, authenticates and starts the import on the target.
func dialTarget(req *Request) (*link, error) {
	conn, err := net.DialTimeout("tcp", req.Addr, req.Timeout)
	if err != nil {
		return nil, fmt.Errorf("IOERR error or timeout connecting to the target %s: %v", req.Addr, err)
	}
	l := &link{conn: conn, br: bufio.NewReaderSize(conn, 64<<10), timeout: req.Timeout,
		readErr: make(chan error, 1), done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	if len(req.Auth) > 0 {
		if v, err := l.call(append([]string{"AUTH"}, req.Auth...)...); err != nil || v.Type == '-' {
			conn.Close()
			return nil, fmt.Errorf("ERR Slot migration: the target refused AUTH: %s", replyText(v, err))
		}
	}
	args := []string{"CLUSTER", "SYNCSLOTS", "START", req.Source}
	for _, a := range rangeArgs(req.Slots) {
		args = append(args, string(a))
	}
	v, err := l.call(args...)
	if err != nil || v.Type == '-' {
		conn.Close()
		if err == nil && strings.HasPrefix(v.Str, "ERR unknown subcommand") {
			return nil, ErrNotSupported
		}
		return nil, fmt.Errorf("ERR Slot migration: the target refused the import: %s", replyText(v, err))
	}
	return l, nil
}

func replyText(v resp.Value, err error) string {
	if err != nil {
		return err.Error()
	}
	return v.Str
}

// call sends one command and reads its reply, before the stream starts.
func (l *link) call(args ...string) (resp.Value, error) {
	l.conn.SetDeadline(time.Now().Add(l.timeout))
	defer l.conn.SetDeadline(time.Time{})
	if _, err := l.conn.Write(command(args...)); err != nil {
		return resp.Value{}, err
	}
	return resp.ReadValue(l.br)
}

// start runs the sender and the reader.
func (l *link) start(st *stream) {
	l.wg.Add(2)
	go l.send(st)
	go l.read()
}

func (l *link) send(st *stream) {
	defer l.wg.Done()
	var spare []byte
	for {
		select {
		case <-st.ready:
		case <-l.done:
			return
		}
		b, err := st.take(spare)
		if err != nil {
			return
		}
		if len(b) > 0 {
			l.conn.SetWriteDeadline(time.Now().Add(l.timeout))
			if _, err := l.conn.Write(b); err != nil {
				st.fail(fmt.Errorf("IOERR error or timeout writing to the target: %v", err))
				return
			}
		}
		// b is the sender's now: the next take hands it back to the
		// stream (two buffers swap, no copy).
		spare = b
	}
}

func (l *link) read() {
	defer l.wg.Done()
	var err error
	for {
		var v resp.Value
		v, err = resp.ReadValue(l.br)
		if err != nil {
			err = fmt.Errorf("IOERR error or timeout reading from the target: %v", err)
			break
		}
		if v.Type == '-' {
			l.mu.Lock()
			l.targetErr = v.Str
			l.mu.Unlock()
			err = fmt.Errorf("ERR Slot migration failed: the target replied: %s", v.Str)
			break
		}
		// A wake-up only when a waiter's mark is reached, not one per
		// reply (a transfer has hundreds of thousands).
		if a := l.acked.Add(1); a >= l.want.Load() && l.want.Load() > 0 {
			l.mu.Lock()
			l.cond.Broadcast()
			l.mu.Unlock()
		}
	}
	l.mu.Lock()
	l.ended = err
	l.cond.Broadcast()
	l.mu.Unlock()
}

// waitAcked waits until n replies came, the link failed, or the target
// made no progress for the timeout.
func (l *link) waitAcked(st *stream, n int64, timeout time.Duration) error {
	last, lastAt := l.acked.Load(), time.Now()
	defer l.want.Store(0)
	for {
		if _, err := st.status(); err != nil {
			return err
		}
		l.conn.SetReadDeadline(time.Now().Add(timeout))
		l.mu.Lock()
		// want is set before acked is read, and the reader adds to acked
		// before it reads want: either we see the reply, or the reader
		// sees our mark and broadcasts (under l.mu, so after our Wait).
		l.want.Store(n)
		a, ended := l.acked.Load(), l.ended
		if a >= n || ended != nil {
			l.mu.Unlock()
			if a >= n {
				return nil
			}
			return ended
		}
		if a != last {
			last, lastAt = a, time.Now()
		} else if time.Since(lastAt) > timeout {
			l.mu.Unlock()
			return fmt.Errorf("IOERR Slot migration: no progress from the target for %v", timeout)
		}
		// The timer bounds the wait, for the progress check above.
		t := time.AfterFunc(50*time.Millisecond, func() {
			l.mu.Lock()
			l.cond.Broadcast()
			l.mu.Unlock()
		})
		l.cond.Wait()
		l.mu.Unlock()
		t.Stop()
	}
}

// catchUp waits until the target has applied the whole snapshot (a
// command of it is a batch of up to a thousand keys) and is within a few
// writes of the stream, so the flip's pause only covers the last writes.
func (l *link) catchUp(st *stream, mg *transfer, timeout time.Duration) error {
	snapshot, err := st.status()
	if err != nil {
		return err
	}
	if err := l.waitAcked(st, snapshot, timeout); err != nil {
		return err
	}
	for {
		if mg.cancel.Load() {
			return errCancelled
		}
		q, err := st.status()
		if err != nil {
			return err
		}
		mg.writesN.Store(q)
		if q-l.acked.Load() <= 64 {
			return nil
		}
		if err := l.waitAcked(st, q-64, timeout); err != nil {
			return err
		}
	}
}

// failed returns why the reader stopped (nil while it runs).
func (l *link) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// refused returns the target's error reply, if it sent one.
func (l *link) refused() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.targetErr
}

// close ends the link: the target drops the import unless it finished.
func (l *link) close() {
	close(l.done)
	l.conn.Close()
	l.wg.Wait()
}
