package replication

// FAILOVER, the coordinated failover of a standalone master (Redis 7.0
// replication.c: failoverCommand, updateFailoverStatus,
// abortFailover, and the FAILOVER argument of PSYNC): writes are paused,
// the target replica catches up with our whole stream, then we become
// its replica with "PSYNC <our replid> <offset+1> FAILOVER", which makes
// it promote itself and continue our history.

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// Failover states as INFO's master_failover_state shows them.
const (
	FailoverNone       = "no-failover"
	FailoverWaitSync   = "waiting-for-sync"
	FailoverInProgress = "failover-in-progress"
)

// failover is the FAILOVER in progress.
type failover struct {
	host     string // the target; "" for any replica that catches up first
	port     int
	force    bool
	deadline time.Time // zero: no timeout
	state    string
	abort    chan struct{}
	rejected bool // the target refused the hand-over's PSYNC (n.mu)
}

// FailoverState is master_failover_state.
func (n *Node) FailoverState() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fo == nil {
		return FailoverNone
	}
	return n.fo.state
}

// Failover is FAILOVER [TO host port [FORCE]] [TIMEOUT ms] (host "" for
// no target). It returns Redis's error reply, or "" when the failover
// started (it goes on in the background).
func (n *Node) Failover(host string, port int, force bool, timeout int64) string {
	n.mu.Lock()
	switch {
	case n.fo != nil:
		n.mu.Unlock()
		return "ERR FAILOVER already in progress."
	case n.link != nil:
		n.mu.Unlock()
		return "ERR FAILOVER is not valid when server is a replica."
	case len(n.replicas) == 0:
		n.mu.Unlock()
		return "ERR FAILOVER requires connected replicas."
	case force && (timeout <= 0 || host == ""):
		n.mu.Unlock()
		return "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
	}
	if host != "" {
		var target *served
		for _, sv := range n.replicas {
			if strings.EqualFold(sv.ip, host) && sv.port == int64(port) {
				target = sv
			}
		}
		if target == nil {
			n.mu.Unlock()
			return "ERR FAILOVER target HOST and PORT is not a replica."
		}
		if target.state != stOnline {
			n.mu.Unlock()
			return "ERR FAILOVER target replica is not online."
		}
	}
	fo := &failover{host: host, port: port, force: force, state: FailoverWaitSync, abort: make(chan struct{})}
	if timeout > 0 {
		fo.deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	n.fo = fo
	n.mu.Unlock()
	n.h.PauseWrites(true)
	n.h.Go(func() { n.runFailover(fo) })
	return ""
}

// AbortFailover is FAILOVER ABORT.
func (n *Node) AbortFailover() string {
	n.mu.Lock()
	fo := n.fo
	n.mu.Unlock()
	if fo == nil {
		return "ERR No failover in progress."
	}
	select {
	case <-fo.abort:
	default:
		close(fo.abort)
	}
	return ""
}

// runFailover waits for a replica to have our whole stream, then hands
// over to it.
func (n *Node) runFailover(fo *failover) {
	defer n.h.PauseWrites(false)
	target := n.Offset() // writes are paused: final
	n.mu.Lock()
	if n.backlog != nil {
		n.backlog.Append(getAck)
		target = n.backlog.Offset()
	}
	n.mu.Unlock()
	lastAsk := time.Now()
	for {
		if host, port, ok := n.caughtUp(fo, target); ok {
			n.handOver(fo, host, port, true)
			return
		}
		var expired <-chan time.Time
		if !fo.deadline.IsZero() {
			d := time.Until(fo.deadline)
			if d <= 0 {
				if fo.force && fo.host != "" {
					n.h.Logf("FAILOVER to %s time out exceeded, failing over.", n.targetName(fo))
					n.handOver(fo, fo.host, fo.port, false)
				} else {
					n.endFailover(fo, "# FAILOVER to "+n.targetName(fo)+" aborted: Replica never caught up before timeout.")
				}
				return
			}
			expired = time.After(d)
		}
		n.mu.Lock()
		if n.ackWake == nil {
			n.ackWake = make(chan struct{})
		}
		ch := n.ackWake
		if time.Since(lastAsk) > time.Second && n.backlog != nil {
			// Ask again; the target moves past the new GETACK.
			n.backlog.Append(getAck)
			target = n.backlog.Offset()
			lastAsk = time.Now()
		}
		n.mu.Unlock()
		select {
		case <-ch:
		case <-expired:
		case <-time.After(100 * time.Millisecond):
		case <-fo.abort:
			n.endFailover(fo, "# FAILOVER to "+n.targetName(fo)+" aborted: Failover manually aborted.")
			return
		case <-n.h.Done():
			return
		}
	}
}

// caughtUp returns the replica (the target, or any) that acknowledged
// target.
func (n *Node) caughtUp(fo *failover, target int64) (string, int, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, sv := range n.replicas {
		if sv.state != stOnline || sv.ackOff < target {
			continue
		}
		if fo.host == "" || strings.EqualFold(sv.ip, fo.host) && sv.port == int64(fo.port) {
			return sv.ip, int(sv.port), true
		}
	}
	return "", 0, false
}

// handOver makes us the replica of host:port with PSYNC ... FAILOVER and
// waits for the link (or the deadline); a refused hand-over makes us a
// master again (abortFailover).
func (n *Node) handOver(fo *failover, host string, port int, synced bool) {
	n.mu.Lock()
	fo.state = FailoverInProgress
	name := net.JoinHostPort(host, strconv.Itoa(port))
	if synced { // (a forced one logged why it goes on)
		n.h.Logf("Failover target %s is synced, failing over.", name)
	}
	n.replicaOfLocked(host, port, n.h.Config("masterauth"), n.h.Config("masteruser"), true)
	n.mu.Unlock()
	limit := time.Now().Add(max(time.Until(fo.deadline), 5*time.Second))
	for time.Now().Before(limit) {
		if mi, ok := n.Following(); ok && mi.Link.Up {
			n.endFailover(fo, "Failover target "+name+" is now master.")
			return
		}
		n.mu.Lock()
		rejected := fo.rejected
		if rejected {
			n.noOneLocked()
		}
		n.mu.Unlock()
		if rejected {
			n.endFailover(fo, "FAILOVER to "+name+" aborted: Failover target rejected psync request")
			return
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-n.h.Done():
			return
		}
	}
	n.mu.Lock()
	n.noOneLocked()
	n.mu.Unlock()
	n.endFailover(fo, "# FAILOVER to "+name+" aborted: the target did not take over.")
}

func (n *Node) endFailover(fo *failover, log string) {
	n.h.Logf("%s", log)
	n.mu.Lock()
	if n.fo == fo {
		n.fo = nil
	}
	n.mu.Unlock()
}

func (n *Node) targetName(fo *failover) string {
	if fo.host == "" {
		return "any replica"
	}
	return net.JoinHostPort(fo.host, strconv.Itoa(fo.port))
}
