package server

// The cluster bus of a node: a clusterbus.Transport on the bus port
// (cluster-port, or the client port + 10000) stepping the server's
// cluster.Membership under clusterMode.mu. What gossip changes (nodes,
// slots, epochs, failures, votes) is carried out after every batch of
// messages and every tick by the same driver as the CLUSTER commands'
// changes (clusterDriver, cluster.go): nodes.conf saved and fsynced
// before any message leaves, then cluster_state, lost slots' keys,
// publishes and routes.

import (
	"net"
	"strconv"
	"time"

	"redgo/internal/cluster"
	"redgo/internal/clusterbus"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// clusterBus is a node's bus.
type clusterBus struct {
	tr *clusterbus.Transport
}

// startBus opens the bus listener and starts gossip. The bus listens on
// the client listener's host; on cluster-port, else the client port +
// 10000, else (an ephemeral client port) on a port of its own.
func (cm *clusterMode) startBus() error {
	cfg := cm.s.Cfg
	host := ""
	if ta, ok := cm.s.Addr().(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
		host = ta.IP.String()
	}
	port := int(cfg.Int("cluster-port"))
	if port == 0 && cfg.Int("port") != 0 {
		port = cm.s.Port() + 10000
		if port > 65535 {
			port = 0
		}
	}
	// Held until cm.bus is set: the loop's first Ready must find the
	// bus to send on (a dial it asks for and that never happens would
	// leave the node unlinked).
	cm.mu.Lock()
	defer cm.mu.Unlock()
	tr, err := clusterbus.Listen(clusterbus.Config{
		Addr:         net.JoinHostPort(host, strconv.Itoa(port)),
		M:            cm.m,
		Mu:           &cm.mu,
		Driver:       clusterDriver{cm: cm},
		Logf:         func(format string, args ...any) { cm.s.Log.Printf(format, args...) },
		SendBufLimit: func() int64 { return cfg.Int("cluster-link-sendbuf-limit") },
		SourceAddr:   func() string { return cfg.Get("bind-source-addr") },
		Drop: func(m *cluster.Msg) bool {
			f := cm.testDrop.Load()
			return f != nil && (*f)(m.Sender)
		},
	})
	if err != nil {
		return err
	}
	cm.bus = &clusterBus{tr: tr}
	if cfg.Int("cluster-announce-bus-port") == 0 && cm.st.Myself.CPort != tr.Port() {
		cm.st.Myself.CPort = tr.Port()
		cm.st.Do(cluster.TodoSaveConfig)
	}
	cm.commitLocked()
	return nil
}

// delSlotsKeys deletes the keys of the given slots (delKeysInSlot).
func (s *Server) delSlotsKeys(slots []int) {
	for _, j := range slots {
		if n := s.delSlotKeys(j); n > 0 {
			s.Log.Printf("Deleted %d keys of slot %d, now served by another node", n, j)
		}
	}
}

// delSlotKeys deletes slot j's keys, each logged as DEL (a restart or a
// replica must not bring them back) and seen by WATCH, client tracking and
// keyspace notifications, as Redis's delKeysInSlot; it returns how many
// went. The DELs reach the propagators a chunk at a time.
func (s *Server) delSlotKeys(j int) int {
	sh := []int{j % keyspace.NShards}
	s.KS.Lock(sh)
	defer s.KS.Unlock(sh)
	db := s.KS.DB(0)
	props, snap := s.hasProps.Load(), s.snapshotting()
	chunk := min(db.SlotLen(j), 1024)
	var (
		keys []byte     // the chunk's keys, end to end
		ends []int      // where each ends in keys
		dels [][][]byte // the chunk's DELs
		args [][]byte   // their arguments
	)
	if props {
		dels, args = make([][][]byte, 0, chunk), make([][]byte, 0, 2*chunk)
	}
	flush := func() {
		if len(ends) == 0 {
			return
		}
		start := 0
		for _, end := range ends {
			k := keys[start:end:end]
			start = end
			s.invalidate(k, nil)
			s.KS.Events.Fire(notify.Generic, "del", 0, k)
			if props {
				args = append(args, delWord, k)
				dels = append(dels, args[len(args)-2:])
			}
		}
		if len(dels) > 0 {
			s.feed(nil, 0, dels)
		}
		// keys is left to what the DELs went to; ends and dels are ours.
		keys, ends, dels, args = nil, ends[:0], dels[:0], args[:0]
	}
	n := db.DropSlot(j, func(key string) {
		if snap {
			s.persist.BeforeWriteKey(0, []byte(key))
		}
		if keys == nil {
			keys = make([]byte, 0, chunk*(len(key)+8))
		}
		keys = append(keys, key...)
		if ends = append(ends, len(keys)); len(ends) == 1024 {
			flush()
		}
	})
	flush()
	return n
}

// closeBus stops the bus; called without cm.mu (the drive loop takes it).
func (cm *clusterMode) closeBus() {
	cm.mu.Lock()
	b := cm.bus
	cm.mu.Unlock()
	if b != nil && b.tr != nil {
		b.tr.Close()
	}
}

// meet is CLUSTER MEET once the address is checked. Callers hold cm.mu.
func (cm *clusterMode) meet(ip string, port, cport int) error {
	if cm.bus == nil {
		return errBusDown
	}
	return cm.m.Meet(ip, port, cport, time.Now().UnixMilli())
}

// forget is CLUSTER FORGET; the node's link is closed too. Callers hold
// cm.mu.
func (cm *clusterMode) forget(name string) error {
	return cm.m.Forget(name, time.Now().Unix())
}

type busErr string

func (e busErr) Error() string { return string(e) }

const errBusDown = busErr("ERR the cluster bus is not running")
