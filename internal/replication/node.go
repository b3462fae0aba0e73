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
	fo       *failover         // the FAILOVER in progress, if any (failover.go)
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
		// Never block on mu: the caller holds the server's propagator
		// list, which a holder of mu may be waiting for (StartPropagating).
		if !n.mu.TryLock() {
			return nil
		}
		var few [4]*served
		behind := few[:0]
		for _, sv := range n.replicas {
			if sv.state == stOnline && sv.sent.Load() < seq {
				behind = append(behind, sv)
			}
		}
		n.mu.Unlock()
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
