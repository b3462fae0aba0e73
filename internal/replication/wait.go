package replication

// WAIT and min-replicas-to-write (Redis 7.0 replication.c: waitCommand,
// replicationRequestAckFromSlaves, refreshGoodSlavesCount).

import (
	"time"

	"redgo/internal/aof"
)

// getAck is REPLCONF GETACK * as fed to replicas (no SELECT before it).
var getAck = aof.AppendCommandStrings(nil, "REPLCONF", "GETACK", "*")

// wakeWaitersLocked wakes the WAIT calls (mu held): an ACK arrived or a
// replica went.
func (n *Node) wakeWaitersLocked() {
	if n.ackWake != nil {
		close(n.ackWake)
		n.ackWake = nil
	}
}

// ackedLocked counts the replicas that acknowledged offset off.
func (n *Node) ackedLocked(off int64) int64 {
	var k int64
	for _, sv := range n.replicas {
		if sv.state == stOnline && sv.ackOff >= off {
			k++
		}
	}
	return k
}

// Wait is WAIT numreplicas timeout for a client whose last write ended
// at offset target (its Feed's return; 0 if it wrote nothing): it returns
// how many replicas acknowledged target, waiting until num did, timeout
// (ms, 0: no limit; negative: no waiting) passed or the server stops.
// The replicas are asked for an ACK at once (REPLCONF GETACK).
func (n *Node) Wait(target, num, timeout int64) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := n.ackedLocked(target)
	if k >= num || n.link != nil || timeout < 0 {
		return k
	}
	if n.backlog != nil && len(n.replicas) > 0 {
		n.backlog.Append(getAck)
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	for {
		if n.ackWake == nil {
			n.ackWake = make(chan struct{})
		}
		ch := n.ackWake
		n.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			n.mu.Lock()
			return n.ackedLocked(target)
		case <-n.h.Done():
			n.mu.Lock()
			return n.ackedLocked(target)
		}
		n.mu.Lock()
		if k = n.ackedLocked(target); k >= num {
			return k
		}
	}
}

// GoodReplicas counts the online replicas whose last ACK is at most
// maxLag seconds old (min-replicas-max-lag).
func (n *Node) GoodReplicas(maxLag int64) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now().UnixMilli()
	var k int64
	for _, sv := range n.replicas {
		if sv.state == stOnline && (now-sv.ackTime)/1000 <= maxLag {
			k++
		}
	}
	return k
}
