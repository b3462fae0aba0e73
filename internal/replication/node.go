package replication

// The driver of replication for one server (the package doc's duties):
// Node owns the server's replication IDs and backlog, the replicas it
// serves (primary.go) and the link to its own master (follower.go). The
// server reaches it through a few calls (SYNC/PSYNC, REPLCONF, REPLICAOF,
// ROLE, INFO, WAIT) and gives it a Host. Unlike the core files, the
// driver files open connections and start goroutines (through Host.Go).

import (
	"crypto/rand"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/clock"
)

// Host is what replication needs from the server.
type Host interface {
	// Logf writes a log line ("# " marks a warning).
	Logf(format string, args ...any)
	// Go runs fn in a goroutine the server tracks and joins at shutdown.
	Go(fn func())
	// Done is closed when the server shuts down.
	Done() <-chan struct{}
	// Config returns a setting's current value.
	Config(name string) string
	// ListenPort is the port clients reach the server on.
	ListenPort() int
	// Snapshot starts a point-in-time snapshot of the dataset: atInstant
	// runs at its instant, with every write excluded. The function
	// returned writes the snapshot as an RDB image.
	Snapshot(atInstant func()) (func(io.Writer) error, error)
	// LoadSnapshot replaces the dataset with the RDB image read from r
	// (size bytes, 0 when not known), as mode says. After an error the
	// dataset is empty (LoadInPlace) or the old one (LoadAside,
	// LoadAsync).
	LoadSnapshot(r io.Reader, size int64, mode LoadMode) error
	// Apply runs one command of the master's stream as the master's
	// client (no reply is sent); end is the stream's offset after it.
	Apply(args [][]byte, end int64)
	// Prefetch may read ahead the keys of the commands at the front of
	// stream, which Apply will run next; it returns how many commands it
	// covered (0: none).
	Prefetch(stream []byte) int
	// PauseWrites pauses client writes (on) and returns once no write is
	// still running, or lets them go (off): FAILOVER (Redis's
	// PAUSE_DURING_FAILOVER). Called without any replication lock held.
	PauseWrites(on bool)
	// StartPropagating is called once, when the first backlog is made:
	// from then on the server calls Node.Feed with every write, under the
	// shard locks that ordered it.
	StartPropagating()
	// RoleChanged tells the server it now replicates (replica true:
	// read-only, no active expiry) or is a master again.
	RoleChanged(replica bool)
}

// Node is the replication of one server.
type Node struct {
	h Host

	mu       sync.Mutex
	ids      IDs
	backlog  *Backlog          // nil until a replica connects (or the first sync as a replica)
	replicas map[int64]*served // the replicas we feed, by client id
	link     *follower         // our own master link; nil while we are a master
	group    *syncGroup        // the full sync being prepared, if any
	lastFree int64             // ms, when the last replica went (repl-backlog-ttl)
	ackWake  chan struct{}     // closed when an ACK arrives (WAIT); nil when nobody waits
	sentMu   sync.Mutex        // guards sentWake only (a leaf)
	sentWake chan struct{}     // closed when a replica's link sent more (WaitDurable); nil when nobody waits
	// online: the replicas in state online (refreshOnlineLocked).
	online atomic.Pointer[[]*served]
	// The replies handed over by Defer (replyWriter).
	dmu      sync.Mutex
	dq       []deferred
	dSeen    map[int64]struct{} // clients that handed replies over this epoch
	dActive  int                // clients that handed replies over in the last epoch
	dEpoch   time.Time
	dWant    int // the turn waiting for this many replies
	dRunning bool
	dwake    chan struct{}
	fo       *failover // the FAILOVER in progress, if any (failover.go)
	// loadingSync: a full sync's snapshot is being loaded. Our offset is
	// 0 meanwhile, as Redis's (it has freed its backlog and discarded its
	// cached master by then): the cluster hides a replica whose offset is
	// 0 from CLUSTER SLOTS.
	loadingSync bool

	fullSyncs, partialOK, partialErr atomic.Int64

	// feedTo is the backlog writes go to: set while we are a master with
	// a backlog; a replica appends its master's stream instead.
	feedTo atomic.Pointer[Backlog]
	stop   chan struct{}
	// propagating: Host.StartPropagating was called.
	propagating bool
}

// New returns the replication of a master with a new history.
func New(h Host) *Node {
	return &Node{h: h, ids: NewIDs(rand.Reader), replicas: map[int64]*served{}, stop: make(chan struct{})}
}

// Start runs the replication cron (replicationCron) until the server stops.
func (n *Node) Start() {
	n.startReplyWriter()
	n.h.Go(func() {
		t := clock.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-n.h.Done():
				n.shutdown()
				return
			case <-t.C:
				t.Next()
				if i%10 == 0 {
					n.cron(time.Now().UnixMilli())
				}
			}
		}
	})
}

// IDs returns the server's replication history.
func (n *Node) IDs() IDs {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids
}

// Offset is master_repl_offset: the last byte of the stream we have.
func (n *Node) Offset() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.offsetLocked()
}

func (n *Node) offsetLocked() int64 {
	if n.loadingSync {
		return 0
	}
	if n.link != nil {
		if m, ok := n.link.r.Master(); ok {
			return m.Offset
		}
		if m, ok := n.link.r.Cached(); ok {
			return m.Offset
		}
	}
	if n.backlog != nil {
		return n.backlog.Offset()
	}
	return 0
}

// IsReplica reports whether we follow a master.
func (n *Node) IsReplica() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.link != nil
}

// Feed is the server's Propagator: a master's writes go to its backlog.
func (n *Node) Feed(db int, cmds [][][]byte) int64 {
	if b := n.feedTo.Load(); b != nil {
		return b.Feed(db, cmds)
	}
	return 0
}

// sentWait bounds how long a reply waits for the replicas' links
// (WaitDurable): a slow replica must not hold clients up.
const sentWait = 100 * time.Millisecond

// WaitDurable returns once the stream up to seq was handed to the socket
// of every online replica (or after sentWait). Replication stays
// asynchronous (WAIT is for acknowledgements), but, as in Redis, whose
// event loop writes the replicas' buffers in the same pass as the
// replies, a reply never leaves before its write left for the replicas:
// a master killed right after replying has already sent it.
func (n *Node) WaitDurable(seq int64) error {
	if seq == 0 {
		return nil
	}
	var deadline time.Time
	var wake chan struct{}
	for {
		var few [4]*served
		behind := few[:0]
		if l := n.online.Load(); l != nil {
			for _, sv := range *l {
				if sv.sent.Load() < seq {
					behind = append(behind, sv)
				}
			}
		}
		// Write the stream ourselves where the link is idle (see stream).
		left := false
		for _, sv := range behind {
			if !n.lead(sv, seq) {
				left = true
			}
		}
		if !left {
			return nil
		}
		if wake == nil {
			// Take the channel, then look again: a write that lands
			// after that look closes it. (Most calls never get here:
			// the link was idle and the reply wrote the stream itself.)
			n.sentMu.Lock()
			if n.sentWake == nil {
				n.sentWake = make(chan struct{})
			}
			wake = n.sentWake
			n.sentMu.Unlock()
			continue
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(sentWait)
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		wake = nil
	}
}

// Ready reports whether every online replica's link was handed the
// stream up to seq (the server's Deferrer).
func (n *Node) Ready(seq int64) bool {
	if seq == 0 {
		return true
	}
	if l := n.online.Load(); l != nil {
		for _, sv := range *l {
			if sv.sent.Load() < seq {
				return false
			}
		}
	}
	return true
}

// refreshOnlineLocked publishes the online replicas for WaitDurable and
// Ready, which read them without mu (mu held).
func (n *Node) refreshOnlineLocked() {
	var l []*served
	for _, sv := range n.replicas {
		if sv.state == stOnline {
			l = append(l, sv)
		}
	}
	n.online.Store(&l)
}

// deferred is a batch's replies waiting for the stream up to seq.
type deferred struct {
	seq   int64
	write func()
}

// Defer takes a batch's replies for client (the server's Deferrer): the
// reply writer runs write once the stream up to seq was handed to the
// replicas, as WaitDurable would have waited. It refuses when the writer
// is not running.
func (n *Node) Defer(seq, client int64, write func()) bool {
	n.dmu.Lock()
	if !n.dRunning {
		n.dmu.Unlock()
		return false
	}
	n.dSeen[client] = struct{}{}
	if now := time.Now(); now.Sub(n.dEpoch) > gatherEpoch {
		n.dActive, n.dEpoch = len(n.dSeen), now
		clear(n.dSeen)
	}
	if n.dActive < handOverFrom {
		// Few clients write: each writes the stream itself (WaitDurable)
		// sooner than the writer's goroutine would wake up.
		n.dmu.Unlock()
		return false
	}
	n.dq = append(n.dq, deferred{seq, write})
	wake := len(n.dq) == 1 || len(n.dq) == n.dWant
	n.dmu.Unlock()
	if wake {
		select {
		case n.dwake <- struct{}{}:
		default:
		}
	}
	return true
}

// startReplyWriter starts the goroutine that writes the replies handed
// over by Defer.
func (n *Node) startReplyWriter() {
	n.dmu.Lock()
	n.dRunning = true
	n.dwake = make(chan struct{}, 1)
	n.dSeen = map[int64]struct{}{}
	n.dmu.Unlock()
	n.h.Go(n.replyWriter)
}

// replyWriter writes the replies handed over by Defer. Each turn writes
// the stream up to the last of its replies for every replica (one socket
// write each), then the replies.
//
// A turn first waits until every client that handed replies over in the
// last gatherEpoch has done so again (at most gatherWait), as Redis's
// event loop writes a replica's buffer once per turn for all the clients
// it served in it: with 50 clients writing, one stream write serves tens
// of replies; with one, each leaves at once. A client that stopped
// writing costs one wait of gatherWait (a millisecond when the runtime
// is idle: Go's timers are that coarse then) until the next epoch
// forgets it.
func (n *Node) replyWriter() {
	var batch []deferred
	t := time.NewTimer(gatherWait)
	t.Stop()
	for {
		select {
		case <-n.dwake:
		case <-n.h.Done():
			n.dmu.Lock()
			n.dRunning = false
			batch, n.dq = n.dq, nil
			n.dmu.Unlock()
			for _, d := range batch {
				d.write()
			}
			return
		}
		for {
			n.dmu.Lock()
			if k := len(n.dq); k > 0 && k < n.dActive {
				n.dWant = n.dActive
				n.dmu.Unlock()
				t.Reset(gatherWait)
				select {
				case <-n.dwake:
				case <-t.C:
				}
				t.Stop()
				n.dmu.Lock()
				n.dWant = 0
			}
			batch, n.dq = n.dq, batch[:0]
			n.dmu.Unlock()
			if len(batch) == 0 {
				break
			}
			var last int64
			for _, d := range batch {
				last = max(last, d.seq)
			}
			n.WaitDurable(last)
			for i := range batch {
				batch[i].write()
				batch[i] = deferred{}
			}
		}
	}
}

// gatherWait bounds a turn's wait for the active clients' replies;
// gatherEpoch is how long a client counts as active after its last.
const (
	gatherWait  = 100 * time.Microsecond
	gatherEpoch = 10 * time.Millisecond
	// handOverFrom is how many clients must have written in the last
	// epoch for replies to be handed over at all.
	handOverFrom = 12
)

// wakeSent wakes the replies waiting for the replicas' links.
func (n *Node) wakeSent() {
	n.sentMu.Lock()
	if n.sentWake != nil {
		close(n.sentWake)
		n.sentWake = nil
	}
	n.sentMu.Unlock()
}

// Pending: replies never wait for replicas.
func (n *Node) Pending() int64 { return 0 }

// ensureBacklog creates the backlog (mu held): a master's first replica
// starts a new history (syncCommand).
func (n *Node) ensureBacklog() {
	if n.backlog != nil {
		return
	}
	n.backlog = NewBacklog(n.backlogSize(), 0)
	n.h.Logf("%s", n.ids.NewHistory(rand.Reader))
	if n.link == nil {
		n.feedTo.Store(n.backlog)
	}
	n.propagateLocked()
}

// propagateLocked makes the server feed us its writes (mu held).
func (n *Node) propagateLocked() {
	if !n.propagating {
		n.propagating = true
		n.h.StartPropagating()
	}
}

func (n *Node) backlogSize() int {
	v, _ := strconv.ParseInt(n.h.Config("repl-backlog-size"), 10, 64)
	return int(v)
}

// ResizeBacklog applies CONFIG SET repl-backlog-size.
func (n *Node) ResizeBacklog(size int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.backlog != nil {
		n.backlog.Resize(size)
	}
}

// cron is replicationCron, once a second.
func (n *Node) cron(now int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link != nil {
		n.link.tick(now)
	}
	n.primaryCron(now)
}

// shutdown closes every link.
func (n *Node) shutdown() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link != nil {
		n.link.close()
	}
	for _, s := range n.replicas {
		s.close()
	}
	if n.backlog != nil {
		n.backlog.Close()
	}
}

// Freeze stops replication for d, both ways, as Redis's DEBUG SLEEP
// stops the whole server: our master link neither reads, reconnects nor
// acknowledges, our replicas get nothing new, the cron does not run.
func (n *Node) Freeze(d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	time.Sleep(d)
}

// ChangeIDs gives the history a new ID and forgets the secondary one
// (DEBUG change-repl-id).
func (n *Node) ChangeIDs() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids.Change(rand.Reader)
	n.ids.ClearID2()
}
