package server

// Cluster mode (cluster-enabled yes): the node's cluster.State and its
// cluster.Membership, its nodes.conf (through vfs, flocked as Redis's
// clusterLockConfig, rewritten as clusterSaveConfigOrDie), the driver that
// carries out the core's Readys (clusterBeforeSleep: save, fsync, send,
// apply), and the routing check the dispatcher runs on every command
// before it locks anything (processCommand's getNodeByQuery call):
// -MOVED, -ASK, -CROSSSLOT, -TRYAGAIN, -CLUSTERDOWN. The CLUSTER command
// itself is in cmd_cluster.go, the bus in clusterbus.go.
//
// Locking: clusterMode.mu guards the state and nodes.conf. The dispatcher
// never takes it: it reads an immutable cluster.Routes snapshot that is
// republished after every change. clusterMode.mu may be taken while shard
// locks are held (CLUSTER commands registered LockAll), never the reverse.
//
// The check runs before the command locks its shard; Admit (run.go)
// repeats it under the lock (cluster_route.go), so a routing change in
// between (SETSLOT from another client, gossip, a MIGRATE moving the key
// of a migrating slot away) is seen by that command, as in Redis.

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/clock"
	"redgo/internal/cluster"
	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/slot"
	"redgo/internal/slotmigration"
	"redgo/internal/vfs"
)

// clusterMode is a server's cluster side; nil when cluster-enabled is no.
type clusterMode struct {
	s  *Server
	mu sync.Mutex
	st *cluster.State
	// m is the core over st: the bus steps it, CLUSTER commands change
	// st; both then drive its Ready (commitLocked).
	m    *cluster.Membership
	fs   vfs.FS
	path string   // cluster-config-file
	lock vfs.File // nodes.conf, flock'ed for the life of the process
	// onDisk is what the last successful save wrote, put back when an
	// in-place save fails half-way (writeConfInPlace).
	onDisk []byte
	// dirSynced: the directory holding nodes.conf was fsynced once, so
	// the file's entry is durable (writeConf).
	dirSynced bool
	// size is nodes.conf's size as the last save left it (-1: unknown,
	// read with fstat), so a save costs no fstat (writeConfInPlace).
	size int64
	// deferred are messages of CLUSTER commands' changes waiting for
	// the command's reply (commitForReplyLocked); hasDeferred says there
	// are some without taking mu.
	deferred    []cluster.Out
	hasDeferred atomic.Bool
	routes      atomic.Pointer[cluster.Routes]
	// testDrop, set by tests, discards bus messages from the senders it
	// names (a network partition).
	testDrop atomic.Pointer[func(sender string) bool]
	// testSent, set by tests (under mu), sees what is handed to the bus.
	testSent func(out []cluster.Out)
	// missing is s.countMissing, missingLocked s.countMissingLocked,
	// bound once (a method value per command would allocate).
	missing, missingLocked func(slot int, keys [][]byte) (int, int)
	// notes are start-up log lines, written once the log file is open.
	notes []string
	// blockChecked is the routes blocked clients were last checked
	// against (cron goroutine only).
	blockChecked *cluster.Routes
	// bus is the cluster bus (clusterbus.go); nil until Listen.
	bus *clusterBus
}

// clusterClient is a connection's cluster flags.
type clusterClient struct {
	// readonly is READONLY: reads of our master's slots are served here
	// (replicas). Atomic: the cron reads it for blocked clients.
	readonly atomic.Bool
	asking   bool     // ASKING: the next command may use an importing slot
	keys     [][]byte // reused buffer of the keys being routed
	// The last routing decision to run here, checked again under the
	// command's locks (cluster_route.go): the routes it was made on
	// (nil: the command had no keys), its slot and its query's flags.
	routedBy   *cluster.Routes
	routedSlot int
	routedQ    cluster.Query
	// importing is set on a target's import link (CLUSTER SYNCSLOTS
	// START): its commands on those slots run here although another
	// node serves them until the transfer ends (cmd_slotmigration.go).
	importing *slotmigration.Import
}

// clusterWritableDelay is the delay before a restarted master turns its
// cluster state ok (Redis: 2 s). Tests shorten it.
var clusterWritableDelay int64 = cluster.WritableDelay

// Texts of Redis 7.0 (cluster.c).
const (
	errClusterDisabled = "ERR This instance has cluster support disabled"
	errConfigLocked    = "Sorry, the cluster configuration file %s is already used by a different Redis Cluster node. Please make sure that different nodes use different cluster configuration files."
)

// ClusterEnabled reports whether the server runs in cluster mode
// (commands.ClusterModer: SORT refuses BY and GET patterns there).
func (s *Server) ClusterEnabled() bool { return s.cluster != nil }

// initCluster sets up cluster mode at start: lock nodes.conf, load it or
// create a new node ID, and keep the state in sync with the config.
func (s *Server) initCluster() error {
	if !s.Cfg.Bool("cluster-enabled") {
		return nil
	}
	cm := &clusterMode{s: s, fs: s.fs, path: s.Cfg.Get("cluster-config-file"), missing: s.countMissing,
		missingLocked: s.countMissingLocked, size: -1}
	if err := cm.lockConfig(); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	st, err := cm.load(now)
	if err != nil {
		cm.lock.Close()
		return err
	}
	fresh := st == nil
	if fresh {
		st = cluster.NewState(randomHex(cluster.NameLen), cm.options(), now)
		cm.notes = append(cm.notes, "No cluster configuration found, I'm "+st.Myself.Name)
	} else {
		cm.notes = append(cm.notes, "Node configuration loaded, I'm "+st.Myself.Name)
	}
	cm.st = st
	cm.m = cluster.NewMembership(st, rand.New(rand.NewSource(time.Now().UnixNano())))
	cm.m.AnnounceIP = s.Cfg.Get("cluster-announce-ip")
	cm.applyAnnounce()
	if fresh {
		if err := cm.save(); err != nil {
			cm.lock.Close()
			return fmt.Errorf("Fatal: can't update cluster config file: %v", err)
		}
	}
	// The log is not open yet: a state change found now is logged with
	// the notes, and the cron starts with the listener.
	was := st.OK()
	st.UpdateState(now)
	if st.OK() != was {
		state := "fail"
		if st.OK() {
			state = "ok"
		}
		cm.notes = append(cm.notes, "# Cluster state changed: "+state)
	}
	cm.routes.Store(st.Routes())
	cm.hookConfig()
	s.cluster = cm
	return nil
}

// options reads the cluster-* directives the state uses.
func (cm *clusterMode) options() cluster.Options {
	cfg := cm.s.Cfg
	return cluster.Options{
		NodeTimeout:           cfg.Int("cluster-node-timeout"),
		RequireFullCoverage:   cfg.Bool("cluster-require-full-coverage"),
		AllowReplicaMigration: cfg.Bool("cluster-allow-replica-migration"),
		AllowReadsWhenDown:    cfg.Bool("cluster-allow-reads-when-down"),
		AllowPubsubShardDown:  cfg.Bool("cluster-allow-pubsubshard-when-down"),
		PreferredEndpoint:     cfg.Get("cluster-preferred-endpoint-type"),
		WritableDelay:         clusterWritableDelay,
		ReplicaValidityFactor: cfg.Int("cluster-replica-validity-factor"),
		ReplPingPeriod:        cfg.Int("repl-ping-replica-period") * 1000,
		ReplicaNoFailover:     cfg.Bool("cluster-replica-no-failover"),
		MigrationBarrier:      int(cfg.Int("cluster-migration-barrier")),
		FastFailover:          cfg.Bool("cluster-fast-failover"),
	}
}

// lockConfig opens (creating it) and flocks nodes.conf, as
// clusterLockConfig: a second process on the same file refuses to start.
func (cm *clusterMode) lockConfig() error {
	f, err := vfs.OpenLocked(cm.fs, cm.path)
	var pe *os.PathError
	switch {
	case errors.Is(err, vfs.ErrLocked):
		return fmt.Errorf(errConfigLocked, cm.path)
	case errors.As(err, &pe):
		return fmt.Errorf("Can't open %s in order to acquire a lock: %v", cm.path, errText(err))
	case err != nil:
		return fmt.Errorf("Impossible to lock %s: %v", cm.path, errText(err))
	}
	cm.lock = f
	return nil
}

// errText is the bare strerror text of a file error.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// load reads nodes.conf; nil state when it is empty (a new node).
func (cm *clusterMode) load(now int64) (*cluster.State, error) {
	data, err := io.ReadAll(cm.lock)
	if err != nil {
		return nil, fmt.Errorf("Loading the cluster node config from %s: %v", cm.path, errText(err))
	}
	if len(data) == 0 {
		return nil, nil
	}
	cm.onDisk = data
	conf, err := cluster.ParseNodesConf(data)
	if err != nil {
		return nil, fmt.Errorf("Unrecoverable error: corrupted cluster config file %s: %v", cm.path, err)
	}
	return cluster.StateFromConf(conf, cm.options(), now), nil
}

// save writes the state to nodes.conf now, fsynced (CLUSTER SAVECONFIG,
// a new node). Callers hold cm.mu.
func (cm *clusterMode) save() error { return cm.writeConf(cm.st.Conf().Append(nil), true) }

// writeConf writes data over nodes.conf in place (writeConfInPlace), as
// Redis 7.0's clusterSaveConfig writes every save. With fsync (what the
// core asks for changes of epochs, votes and failovers, as Redis's
// CLUSTER_TODO_FSYNC_CONFIG) the file is then fsynced, and the directory
// too the first time (a nodes.conf this process created has an entry
// that must reach the disk as well); other saves (slot assignments
// during a reshard: several per slot) survive a crash of the process but
// not of the machine, as Redis's.
//
// A save that must be fsynced used to be a new file renamed over the old
// one, fsynced, then the directory fsynced: on an ordinary disk the two
// fsyncs and the rename took 5-20 ms, against 1-5 ms for the one fsync
// Redis does, and a reshard meets one on every node but the target for
// almost every slot (the target's claim under a new configEpoch reaches
// them by gossip before redis-cli's SETSLOT NODE does).
func (cm *clusterMode) writeConf(data []byte, fsync bool) error {
	err := cm.writeConfInPlace(data)
	if err == nil && fsync {
		err = cm.lock.Sync()
		if err == nil && !cm.dirSynced {
			err = cm.fs.SyncDir(filepath.Dir(cm.path))
			cm.dirSynced = err == nil
		}
	}
	if err == nil {
		cm.onDisk = append(cm.onDisk[:0], data...)
	}
	return err
}

// writeConfInPlace is a save without fsync, as Redis 7.0's
// clusterSaveConfig writes every save: over the locked file itself,
// padded with newlines to the old length (blank lines are skipped when
// it is read) and then truncated, so a process that dies between the two
// leaves a whole file. No file is created or renamed: a reshard saves
// several times per slot, and a create and a rename cost more than the
// write. It survives a crash of the process, not of the machine.
//
// A write that fails half-way (a full disk) would leave a mix of the old
// and the new file, which does not load; the old content is written back
// over it (it fits in blocks the file already has), so the node stops
// with the last good file on disk.
func (cm *clusterMode) writeConfInPlace(data []byte) error {
	size := cm.size
	if size < 0 {
		var err error
		if size, err = cm.lock.Size(); err != nil {
			return err
		}
	}
	size, err := overwrite(cm.lock, data, size)
	cm.size = size
	if err != nil {
		cm.size = -1
		if cm.onDisk != nil {
			if size, serr := cm.lock.Size(); serr == nil {
				_, _ = overwrite(cm.lock, cm.onDisk, size)
			}
		}
		return err
	}
	return nil
}

// overwrite writes data at the start of f, padded with newlines to size
// (blank lines are skipped when nodes.conf is read), then truncates to
// data's length. It returns the file's size after it.
func overwrite(f vfs.File, data []byte, size int64) (int64, error) {
	n := int64(len(data))
	if size > n {
		padded := make([]byte, size)
		copy(padded, data)
		for i := n; i < size; i++ {
			padded[i] = '\n'
		}
		data = padded
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return -1, err
	}
	if size > n {
		if f.Truncate(n) != nil {
			return size, nil // blank lines left, which are harmless
		}
	}
	return n, nil
}

// commitLocked carries out what the core asks for after a change (a
// CLUSTER command, a CONFIG SET, the cron), in cluster.Ready's order:
// nodes.conf saved and fsynced, then messages sent, then the rest
// applied. Callers hold cm.mu. A failed save already stopped the node
// (clusterDriver.SaveConfig) and sent nothing; the error is returned so
// that a command's reply does not claim the change.
func (cm *clusterMode) commitLocked() error {
	return cm.m.Drive(clusterDriver{cm: cm})
}

// commitForReplyLocked is commitLocked for a CLUSTER command: the
// messages the change makes wait for the command's reply to be written
// (sendDeferred), as Redis queues them to its links and writes them in
// the next turn of its event loop, after the replies. The change is
// saved, and the routes follow it, before the reply as always; only the
// messages leave later. SETSLOT NODE on the target of a reshard
// broadcasts a PONG with the new owner: sent before the reply, it
// reached the source before redis-cli's own SETSLOT NODE most of the
// time, and the source then saved and fsynced the change from the bus
// (as Redis does) while redis-cli's command waited.
func (cm *clusterMode) commitForReplyLocked() error {
	return cm.m.Drive(clusterDriver{cm: cm, deferSend: true})
}

// sendDeferred sends the messages a CLUSTER command's change left for
// after its reply (commitForReplyLocked). Client.flush calls it after
// each write; the cron and every other send send them too, first, so
// they leave in order and at the latest 100 ms later.
func (cm *clusterMode) sendDeferred() {
	if !cm.hasDeferred.Load() {
		return
	}
	cm.mu.Lock()
	cm.sendDeferredLocked()
	cm.mu.Unlock()
}

// sendDeferredLocked sends the deferred messages. Callers hold cm.mu.
func (cm *clusterMode) sendDeferredLocked() {
	if len(cm.deferred) == 0 {
		return
	}
	out := cm.deferred
	cm.deferred = nil
	cm.hasDeferred.Store(false)
	cm.busSend(out)
}

// busSend hands out to the bus. Callers hold cm.mu.
func (cm *clusterMode) busSend(out []cluster.Out) {
	if f := cm.testSent; f != nil {
		f(out)
	}
	if b := cm.bus; b != nil && b.tr != nil {
		b.tr.Send(out)
	}
}

// clusterDriver carries out the Readys of the server's core, for
// CLUSTER commands and for the bus's drive loop alike. Callers hold cm.mu.
type clusterDriver struct {
	cm *clusterMode
	// deferSend: messages wait for sendDeferred (commitForReplyLocked).
	deferSend bool
}

// SaveConfig is steps 1 and 2 (fsynced when the core asks, see
// writeConf). A failed save stops the server before anything is sent, as
// Redis exits (clusterSaveConfigOrDie).
func (d clusterDriver) SaveConfig(conf []byte, fsync bool) error {
	if err := d.cm.writeConf(conf, fsync); err != nil {
		d.cm.s.Log.Printf("# Fatal: can't update cluster config file: %v", err)
		d.cm.s.Stop()
		return err
	}
	return nil
}

// Send is step 3: the bus queues the messages to its links; without a
// bus (before it starts, after it stops) there is no link to send on.
//
// A CLUSTER command's messages wait for its reply (deferSend) unless the
// Ready opens, closes or renames links: those go at once. Messages
// deferred earlier always leave first.
func (d clusterDriver) Send(out []cluster.Out) {
	cm := d.cm
	if d.deferSend && onlyMessages(out) {
		if len(out) > 0 {
			cm.deferred = append(cm.deferred, out...)
			cm.hasDeferred.Store(true)
		}
		return
	}
	cm.sendDeferredLocked()
	cm.busSend(out)
}

// onlyMessages reports whether out holds nothing but messages to send.
func onlyMessages(out []cluster.Out) bool {
	for _, o := range out {
		if o.Kind != cluster.OutSend {
			return false
		}
	}
	return true
}

// Apply is step 4: log lines, cluster_state, replication, the keys of
// lost slots, bus publishes, and the routes of the dispatcher.
func (d clusterDriver) Apply(rd *cluster.Ready) {
	cm := d.cm
	for _, l := range rd.Logs {
		cm.s.Log.Print(l)
	}
	if rd.UpdateState {
		cm.updateStateLocked()
	}
	if rd.Replicate {
		cm.replicateLocked()
	}
	if rd.Promoted {
		cm.s.repl.NoOne() // keep the data, continue the history as a master
	}
	if dirty := rd.DirtySlots; len(dirty) > 0 {
		// Shard locks are never taken under cm.mu.
		cm.s.goTracked(func() { cm.s.delSlotsKeys(dirty) })
	}
	for _, p := range rd.Publishes {
		cm.s.busPublish(p)
	}
	if len(rd.ChannelSlots) > 0 {
		cm.s.dropShardChannels(rd.ChannelSlots) // cluster_pubsub.go
	}
	if rd.SaveConfig || rd.UpdateState || rd.Replicate || rd.Promoted {
		cm.routes.Store(cm.st.Routes())
	}
	// Last: writes held by a manual failover's pause run again only once
	// the routes say where their slots are now (-MOVED, not a write on a
	// node that just became a replica).
	if rd.PauseWritesUntil != 0 {
		cm.s.pause.unpause(pauseFailover)
		cm.s.pause.set(pauseFailover, time.UnixMilli(rd.PauseWritesUntil), false)
		cm.s.goTracked(cm.writesPaused)
	}
	if rd.UnpauseWrites {
		cm.s.pause.unpause(pauseFailover)
	}
}

// replicateLocked starts replicating Myself.ReplicaOf (clusterSetMaster's
// replicationSetMaster), or moves to it from the master we followed.
func (cm *clusterMode) replicateLocked() {
	m := cm.st.Myself.ReplicaOf
	if m == nil || m.IP == "" || m.Port == 0 {
		return
	}
	cfg := cm.s.Cfg
	cm.s.repl.ReplicaOf(m.IP, m.Port, cfg.Get("masterauth"), cfg.Get("masteruser"))
}

// writesPaused waits until no write that passed the pause check before
// the pause is still running (each holds its shard lock until it has fed
// the stream; later ones find the pause in Admit), then tells the core
// our offset is final for the manual failover. Shard locks are never
// taken under cm.mu, so this runs on its own goroutine.
func (cm *clusterMode) writesPaused() {
	cm.s.KS.LockAll()
	cm.s.KS.UnlockAll()
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.syncReplicationLocked()
	cm.m.WritesPaused(time.Now().UnixMilli())
	cm.commitLocked()
}

// syncReplicationLocked makes replication follow the master the cluster
// names, and tells the cluster core what replication knows:
// our offset (PINGs carry it; replicas are ranked by it, a manual
// failover waits for it) and, on a replica, whether the master link is up
// and since when it is down (the data age of an election).
func (cm *clusterMode) syncReplicationLocked() {
	cm.st.Myself.ReplOffset = uint64(cm.s.repl.Offset())
	if !cm.st.IsReplica() {
		return
	}
	mi, ok := cm.s.repl.Following()
	if m := cm.st.Myself.ReplicaOf; m != nil && m.IP != "" && m.Port != 0 && (!ok || mi.Host != m.IP || mi.Port != m.Port) {
		// A replica by nodes.conf at start, or its master's address
		// changed: follow it (clusterCron's replicationSetMaster).
		cm.replicateLocked()
		return
	}
	if !ok {
		return
	}
	if mi.Link.Up {
		cm.m.MasterLink(true, time.Now().UnixMilli())
	} else {
		cm.m.MasterLink(false, mi.LastHeard)
	}
}

// updateStateLocked recomputes cluster_state and logs a change.
func (cm *clusterMode) updateStateLocked() {
	was := cm.st.OK()
	cm.st.UpdateState(time.Now().UnixMilli())
	if ok := cm.st.OK(); ok != was {
		state := "fail"
		if ok {
			state = "ok"
		}
		cm.s.Log.Printf("# Cluster state changed: %s", state)
	}
}

// cron re-evaluates the cluster state ten times a second while it is
// fail (the writable and rejoin delays end with time), as clusterCron.
// At shutdown it stops the bus, so the drive loop (which may start
// tracked goroutines) is over before the server's wait for them ends.
func (cm *clusterMode) cron() {
	t := clock.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	defer cm.closeBus()
	for {
		select {
		case <-cm.s.quit:
			return
		case <-t.C:
			t.Next()
		}
		cm.mu.Lock()
		cm.sendDeferredLocked() // a command whose client never flushed
		cm.syncReplicationLocked()
		if !cm.st.OK() {
			cm.st.Do(cluster.TodoUpdateState)
			cm.commitLocked()
		}
		cm.mu.Unlock()
		cm.redirectBlocked()
	}
}

// redirectBlocked wakes clients blocked on keys of a slot this node no
// longer serves, or on any key while the cluster is down, with the
// redirection (clusterRedirectBlockedClientIfNeeded). It scans only after
// the routes changed, or while the cluster is down.
func (cm *clusterMode) redirectBlocked() {
	r := cm.routes.Load()
	if r == cm.blockChecked && r.OK() {
		return
	}
	cm.blockChecked = r
	if cm.s.stats.BlockedClients.Load() == 0 {
		return
	}
	for _, c := range cm.s.clientList() {
		st := c.blocked.Load()
		if st == nil || len(st.w.Keys) == 0 {
			continue
		}
		j := slot.OfString(st.w.Keys[0].Key)
		red, ep := r.RouteBlocked(j, c.cl.readonly.Load(), st.cmd.Has(commands.FWrite))
		if red == cluster.RouteHere {
			continue
		}
		msg := cm.redirectText(red, ep, j)
		st.mu.Lock()
		if !st.w.Done.Load() {
			st.w.Done.Store(true)
			st.redirect = msg
			st.ch <- wakeRedirect
		}
		st.mu.Unlock()
	}
}

// closeCluster releases nodes.conf's lock (Server.Close).
func (s *Server) closeCluster() {
	if cm := s.cluster; cm != nil {
		cm.closeBus()
		cm.mu.Lock()
		cm.lock.Close()
		cm.mu.Unlock()
	}
}

// clusterListen runs once the client port is known: myself's announced
// ports follow it (deriveAnnouncedPorts).
func (s *Server) clusterListen() error {
	cm := s.cluster
	if cm == nil {
		return nil
	}
	if s.Cfg.Int("port") > 65535-10000 && s.Cfg.Int("cluster-port") == 0 {
		return errors.New("Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less.")
	}
	for _, n := range cm.notes {
		s.Log.Print(n)
	}
	cm.notes = nil
	s.goTracked(cm.cron)
	cm.mu.Lock()
	cm.applyAnnounce()
	cm.st.Do(cluster.TodoSaveConfig)
	cm.commitLocked()
	cm.mu.Unlock()
	return cm.startBus()
}

// applyAnnounce sets myself's address from the listener and the
// cluster-announce-* directives. Callers hold cm.mu (or own cm alone).
func (cm *clusterMode) applyAnnounce() {
	cfg := cm.s.Cfg
	me := cm.st.Myself
	port := cm.s.Port()
	cport := int(cfg.Int("cluster-port"))
	if cport == 0 {
		cport = port + 10000
		if cport > 65535 {
			cport = 0 // an ephemeral client port (tests): no room for the bus offset
		}
	}
	if p := int(cfg.Int("cluster-announce-port")); p != 0 {
		port = p
	}
	if p := int(cfg.Int("cluster-announce-bus-port")); p != 0 {
		cport = p
	}
	me.Port, me.PPort, me.CPort = port, 0, cport
	if ip := cfg.Get("cluster-announce-ip"); ip != "" {
		me.IP = ip
	}
	me.Hostname = cfg.Get("cluster-announce-hostname")
	if cfg.Bool("cluster-replica-no-failover") {
		me.Flags |= cluster.FlagNoFailover
	} else {
		me.Flags &^= cluster.FlagNoFailover
	}
}

// hookConfig keeps the state in step with CONFIG SET of cluster-*
// directives. Hooks run before the value is stored, so each one sets the
// new value itself.
func (cm *clusterMode) hookConfig() {
	cfg := cm.s.Cfg
	update := func(fn func(v string)) func(string) error {
		return func(v string) error {
			cm.mu.Lock()
			defer cm.mu.Unlock()
			fn(v)
			cm.st.Do(cluster.TodoUpdateState)
			cm.commitLocked()
			return nil
		}
	}
	num := func(v string) int { n, _ := strconv.Atoi(v); return n }
	yes := func(v string) bool { return v == "yes" }
	me := func() *cluster.Node { return cm.st.Myself }
	saveToo := func() { cm.st.Do(cluster.TodoSaveConfig) }
	cfg.OnSet("cluster-node-timeout", update(func(v string) { cm.st.Opts.NodeTimeout = int64(num(v)) }))
	cfg.OnSet("cluster-require-full-coverage", update(func(v string) { cm.st.Opts.RequireFullCoverage = yes(v) }))
	cfg.OnSet("cluster-allow-replica-migration", update(func(v string) { cm.st.Opts.AllowReplicaMigration = yes(v) }))
	cfg.OnSet("cluster-allow-reads-when-down", update(func(v string) { cm.st.Opts.AllowReadsWhenDown = yes(v) }))
	cfg.OnSet("cluster-allow-pubsubshard-when-down", update(func(v string) { cm.st.Opts.AllowPubsubShardDown = yes(v) }))
	cfg.OnSet("cluster-preferred-endpoint-type", update(func(v string) { cm.st.Opts.PreferredEndpoint = v }))
	cfg.OnSet("cluster-replica-validity-factor", update(func(v string) { cm.st.Opts.ReplicaValidityFactor = int64(num(v)) }))
	cfg.OnSet("repl-ping-replica-period", update(func(v string) { cm.st.Opts.ReplPingPeriod = int64(num(v)) * 1000 }))
	cfg.OnSet("cluster-migration-barrier", update(func(v string) { cm.st.Opts.MigrationBarrier = num(v) }))
	cfg.OnSet("cluster-fast-failover", update(func(v string) { cm.st.Opts.FastFailover = yes(v) }))
	cfg.OnSet("cluster-announce-ip", update(func(v string) {
		me().IP = v // "" until the bus learns our address again, as Redis
		cm.m.AnnounceIP = v
		saveToo()
	}))
	cfg.OnSet("cluster-announce-hostname", update(func(v string) { me().Hostname = v; saveToo() }))
	cfg.OnSet("cluster-announce-port", update(func(v string) {
		p := num(v)
		if p == 0 {
			p = cm.s.Port()
		}
		me().Port = p
		saveToo()
	}))
	cfg.OnSet("cluster-announce-bus-port", update(func(v string) {
		p := num(v)
		if p == 0 {
			if p = int(cfg.Int("cluster-port")); p == 0 {
				p = cm.s.Port() + 10000
			}
		}
		me().CPort = p
		saveToo()
	}))
	cfg.OnSet("cluster-replica-no-failover", update(func(v string) {
		cm.st.Opts.ReplicaNoFailover = yes(v) // the cron keeps the flag in step with it
		if yes(v) {
			me().Flags |= cluster.FlagNoFailover
		} else {
			me().Flags &^= cluster.FlagNoFailover
		}
		saveToo()
	}))
}

// --- routing ---

// clusterRoute is the cluster check of the dispatcher, run for every
// resolved command before MULTI queueing and before any lock. It replies
// the redirection and returns false when the command must not run here.
// EXEC is judged on its whole transaction; a rejected EXEC discards it,
// and any other rejected command inside MULTI makes EXEC abort.
func (c *Client) clusterRoute(cmd *commands.Command, args [][]byte) bool {
	asking := c.cl.asking
	// ASKING lasts for one command, or until the transaction it was sent
	// before or in ends (resetClient). Commands refused before this check
	// (unknown, wrong arity) do not end it here, unlike Redis.
	if cmd.Name != "asking" && !c.inMultiAfter(cmd) {
		c.cl.asking = false
	}
	// A script or function that may write counts as a write (scriptWrites):
	// on a replica's READONLY connection it is redirected to the master.
	q := cluster.Query{Keys: c.cl.keys[:0], Write: cmd.Has(commands.FWrite) || c.srv.scriptWrites(cmd, args),
		Asking: asking || cmd.Has(commands.FAsking), ReadOnly: c.cl.readonly.Load()}
	if cmd.Name == "exec" {
		if c.multi == nil {
			return true
		}
		for _, qd := range c.multi.cmds {
			for _, p := range qd.cmd.KeyPositions(qd.args, nil) {
				q.Keys = append(q.Keys, qd.args[p])
			}
			if qd.cmd.Has(commands.FWrite) || qd.write {
				q.QueuedWrite = true
			}
		}
	} else {
		var buf [16]int
		for _, p := range cmd.KeyPositions(args, buf[:0]) {
			q.Keys = append(q.Keys, args[p])
		}
	}
	if len(q.Keys) == 0 {
		c.cl.routedBy = nil
		return true
	}
	switch cmd.Name {
	case "ssubscribe", "sunsubscribe", "spublish":
		q.PubsubShard = true
	case "migrate":
		q.Migrate = true
	}
	s := c.srv
	if im := c.cl.importing; im != nil && im.Has(slot.Of(q.Keys[0])) {
		clear(q.Keys)
		c.cl.keys = q.Keys[:0]
		c.cl.routedBy = nil // nothing to check again under the lock
		return true
	}
	q.Missing = s.cluster.missing
	routes := s.cluster.routes.Load()
	red, ep, sl := routes.Route(&q)
	clear(q.Keys) // drop references to the request buffer
	c.cl.keys = q.Keys[:0]
	if red == cluster.RouteHere {
		c.cl.routed(routes, sl, q) // repeated under the lock: cluster_route.go
		return true
	}
	c.replyError(s.cluster.redirectText(red, ep, sl))
	cmd.RejectedCalls.Add(1)
	if cmd.Name == "exec" {
		c.multi = nil
		c.unwatchAll()
	} else if c.multi != nil {
		c.multi.err = true
	}
	return false
}

// inMultiAfter reports whether the client is still in a transaction after
// cmd runs.
func (c *Client) inMultiAfter(cmd *commands.Command) bool {
	switch cmd.Name {
	case "multi":
		return true
	case "exec", "discard", "reset":
		return false
	}
	return c.multi != nil
}

// redirectText is the error reply of a redirection (clusterRedirectClient).
func (cm *clusterMode) redirectText(red cluster.Redirect, ep *cluster.Endpoint, sl int) string {
	switch red {
	case cluster.RouteCrossSlot:
		return "CROSSSLOT Keys in request don't hash to the same slot"
	case cluster.RouteTryAgain:
		return "TRYAGAIN Multiple keys request during rehashing of slot"
	case cluster.RouteDown:
		return "CLUSTERDOWN The cluster is down"
	case cluster.RouteDownRO:
		return "CLUSTERDOWN The cluster is down and only accepts read commands"
	case cluster.RouteUnbound:
		return "CLUSTERDOWN Hash slot not served"
	}
	kind := "MOVED "
	if red == cluster.RouteAsk {
		kind = "ASK "
	}
	return kind + strconv.Itoa(sl) + " " + cm.routes.Load().Preferred(ep) + ":" + strconv.Itoa(ep.Port)
}

// countMissing counts which of keys (all in slot sl) are missing from
// db 0, under the slot's shard lock (the dispatcher holds no lock yet).
func (s *Server) countMissing(sl int, keys [][]byte) (missing, existing int) {
	sh := []int{sl % keyspace.NShards}
	s.KS.Lock(sh)
	defer s.KS.Unlock(sh)
	return s.countMissingLocked(sl, keys)
}

// ClusterVerifyData checks the loaded dataset against the cluster
// configuration, as Redis does after loading (verifyClusterConfigWithData):
// keys outside db 0 refuse the start; keys in slots nobody serves are
// claimed; keys in slots served elsewhere mark the slot importing.
func (s *Server) ClusterVerifyData() error {
	cm := s.cluster
	if cm == nil {
		return nil
	}
	s.KS.LockAll()
	defer s.KS.UnlockAll()
	for i := 1; i < s.KS.NumDB(); i++ {
		if s.KS.DB(i).Len() > 0 {
			return errors.New("You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.")
		}
	}
	cm.mu.Lock()
	defer cm.mu.Unlock()
	st := cm.st
	if st.IsReplica() {
		return nil
	}
	db := s.KS.DB(0)
	changed := false
	for j := 0; j < len(st.Owner); j++ {
		if db.SlotLen(j) == 0 || st.Owner[j] == st.Myself || st.ImportingFrom(j) != nil {
			continue
		}
		changed = true
		if st.Owner[j] == nil {
			s.Log.Printf("# I have keys for unassigned slot %d. Taking responsibility for it.", j)
			st.AddSlot(st.Myself, j)
		} else {
			s.Log.Printf("# I have keys for slot %d, but the slot is assigned to another node. Setting it to importing state.", j)
			st.SetImporting(j, st.Owner[j])
		}
	}
	if changed {
		st.Do(cluster.TodoSaveConfig | cluster.TodoFsyncConfig | cluster.TodoUpdateState)
		cm.commitLocked()
	}
	return nil
}
