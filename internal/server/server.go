// Package server wires a redgo node together: listeners, one goroutine per
// connection, client state (MULTI, WATCH, pub/sub, blocking, RESP3), the
// dispatcher that routes each command through the command table to the
// keyspace shards, and the server-level commands (INFO, CLIENT, CONFIG...).
package server

import (
	"errors"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"redgo/internal/clock"
	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/listen"
	"redgo/internal/migration"
	"redgo/internal/notify"
	"redgo/internal/obuf"
	"redgo/internal/oomscore"
	"redgo/internal/persist"
	"redgo/internal/replication"
	"redgo/internal/scripting"
	"redgo/internal/slotmigration"
	"redgo/internal/tracking"
	"redgo/internal/vfs"
)

// Server is one redgo node.
type Server struct {
	Cfg *config.Config
	KS  *keyspace.Keyspace
	Log *log.Logger

	tcp      *listen.Set    // the client listeners of bind and port
	uln      net.Listener   // unixsocket, nil when not set (unixsocket.go)
	wg       sync.WaitGroup // every goroutine the server starts
	quit     chan struct{}
	closing  atomic.Bool
	stopping atomic.Bool // Stop closed the listeners; Close follows

	mu      sync.Mutex // guards clients
	clients map[int64]*Client
	track   *tracking.Table // client-side caching (tracking.go)
	nextID  atomic.Int64

	pubsub   *pubsub
	props    propagators
	hasProps atomic.Bool
	clockSec atomic.Int64 // unix seconds, refreshed by cron (idle times)

	persist  *persist.Persist // load, saves, AOF (persist.go)
	monitors monitorSet

	acl aclState           // users, ACL LOG (acl.go, cmd_acl.go)
	oom *oomscore.Adjuster // oom-score-adj

	// settings cached from the config for the hot path
	maxBulk     atomic.Int64
	maxQuery    atomic.Int64
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // seconds
	minReplicas atomic.Int64 // min-replicas-to-write

	pause pauseState

	stats     Stats
	slowlog   slowlog
	latency   latencyState
	cev       clientEviction
	startTime time.Time
	runID     string
	dirty     atomic.Int64 // changes since the last save

	activeExpire atomic.Bool                 // the cron's active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE)
	cronTick     atomic.Int64                // cron periods (100 ms) run: query buffer resizing (querybuf.go)
	obufLimits   atomic.Pointer[obuf.Limits] // client-output-buffer-limit (outputlimit.go)

	shutdownFn func() // set by Run: stops the process after SHUTDOWN

	admin adminState // INFO metrics, replication ids, DEBUG switches (cmd_admin.go)

	repl         *replication.Node // replicas we feed, the master we follow (replication.go)
	masterClient *Client           // the pseudo-client our master's stream runs as
	mem          memState          // maxmemory and eviction (maxmemory.go)
	masterTx     masterState
	// The master's stream as a snapshot must record it (host.ReplInfo):
	// the end offset of the command being applied (the stream's goroutine
	// only), the end offset of the last write applied (stored under that
	// write's locks) and the database the stream selected.
	masterApplyEnd int64
	replicaExpires replicaExpires // keys with a TTL written on a writable replica (replica_expire.go)
	masterWriteEnd atomic.Int64
	masterApplied  atomic.Int64 // commands of the master's stream applied (Work)
	renamed        renames      // rename-command's changes; nil without any (rename.go)
	masterStreamDB atomic.Int32
	isReplica      atomic.Bool  // we follow a master (writes refused, no active expiry)
	replProp       atomic.Int32 // 1 + repl's index among the propagators; 0 before it is one

	cluster *clusterMode     // cluster-enabled yes (cluster.go); nil otherwise
	migrate *migration.Cache // MIGRATE's connections to targets (cmd_migrate.go)
	// Whole-slot transfers (cmd_slotmigration.go): the source's migrator,
	// made on first use, and the target's import links.
	slotMig     *slotmigration.Migrator
	slotMigOnce sync.Once
	imports     slotmigration.Imports
	scripts     *scripting.Engine // EVAL's script cache and Lua states (cmd_script.go)
	fs          vfs.FS            // where the AOF, RDB files and nodes.conf live (WithFS)

	// testAfterRoute, set by tests, runs between a command's
	// routing check and its locks (cluster_route_test.go).
	testAfterRoute atomic.Pointer[func(cmd *commands.Command, args [][]byte)]
}

// Stats are the counters INFO stats reports.
type Stats struct {
	Connections, Commands, Rejected            atomic.Int64
	NetIn, NetOut                              atomic.Int64
	ExpiredKeys                                atomic.Int64
	PubsubMessages                             atomic.Int64
	ErrorReplies                               atomic.Int64
	UnexpectedErrReplies                       atomic.Int64
	errMu                                      sync.Mutex
	errCounts                                  map[string]int64
	IOReadsProcessed, IOWritesProcessed        atomic.Int64
	BlockedClients, WatchingClients, PubsubCli atomic.Int64
}

// New builds a server from a loaded config. It does not listen or load
// its data yet (LoadData).
func New(cfg *config.Config, opts ...Option) (*Server, error) {
	s := &Server{
		Cfg:       cfg,
		KS:        keyspace.New(int(cfg.Int("databases"))),
		Log:       log.New(os.Stderr, "", 0),
		quit:      make(chan struct{}),
		clients:   map[int64]*Client{},
		track:     tracking.New(),
		pubsub:    newPubsub(),
		startTime: time.Now(),
		runID:     randomHex(40),
		migrate:   migration.NewCache(),
	}
	s.tcp = listen.New(func(f string, a ...any) { s.Log.Printf(f, a...) })
	var popt persist.Options
	for _, o := range opts {
		o(&popt)
	}
	if popt.FS == nil {
		popt.FS = vfs.OS
	}
	s.fs = popt.FS
	s.persist = persist.New(host{s: s, loader: s.newPseudoClient()}, popt)
	s.repl = replication.New(replHost{s})
	s.masterClient = s.newPseudoClient()
	s.scripts = s.newScripting()
	s.activeExpire.Store(true)
	s.clockSec.Store(time.Now().Unix())
	s.KS.OnExpire = func(db int, key string) {
		kb := []byte(key)
		s.propagateDel(db, kb)
		s.invalidate(kb, nil)
	}
	// Keyspace events go to this node's subscribers only, never over the
	// cluster bus (as Redis 7.0).
	s.KS.Events = notify.New(func(ch, msg []byte) { s.publish(kChannel, ch, msg) })
	s.KS.BeforeExpire = func(db int, key string) {
		if s.persist.Snapshotting() {
			s.persist.BeforeExpire(db, key)
		}
	}
	s.slowlog.init()
	s.stats.errCounts = map[string]int64{}
	s.applyConfig()
	if err := s.initACL(); err != nil {
		return nil, err
	}
	if err := s.initRenames(cfg); err != nil {
		return nil, err
	}
	if err := s.initCluster(); err != nil {
		return nil, err
	}
	return s, nil
}

// applyConfig caches hot settings and registers CONFIG SET hooks.
func (s *Server) applyConfig() {
	cfg := s.Cfg
	s.maxBulk.Store(cfg.Int("proto-max-bulk-len"))
	s.maxQuery.Store(cfg.Int("client-query-buffer-limit"))
	s.maxClients.Store(cfg.Int("maxclients"))
	s.idleTimeout.Store(cfg.Int("timeout"))
	cfg.OnSet("port", func(v string) error { p, _ := strconv.Atoi(v); return s.tcp.SetPort(p) })
	cfg.OnSet("bind", func(v string) error { return s.tcp.SetBind(bindAddrs(v)) })
	setNotify := func(v string) error { f, _ := notify.Parse(v); s.KS.Events.SetClasses(f); return nil }
	_ = setNotify(cfg.Get("notify-keyspace-events"))
	cfg.OnSet("notify-keyspace-events", setNotify)
	for name, flag := range map[string]*atomic.Bool{"lazyfree-lazy-user-del": &s.KS.LazyUserDel, "lazyfree-lazy-user-flush": &s.KS.LazyUserFlush} {
		flag.Store(cfg.Bool(name))
		cfg.OnSet(name, func(v string) error { flag.Store(v == "yes"); return nil })
	}
	s.KS.MaxBulkLen.Store(cfg.Int("proto-max-bulk-len"))
	cfg.OnSet("proto-max-bulk-len", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.maxBulk.Store(n)
		s.KS.MaxBulkLen.Store(n)
		return nil
	})
	cfg.OnSet("client-query-buffer-limit", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.maxQuery.Store(n)
		return nil
	})
	cfg.OnSet("maxclients", func(v string) error { n, _ := strconv.ParseInt(v, 10, 64); s.maxClients.Store(n); return nil })
	cfg.OnSet("timeout", func(v string) error { n, _ := strconv.ParseInt(v, 10, 64); s.idleTimeout.Store(n); return nil })
	s.oom = oomscore.New("/proc/self/oom_score_adj", s.Log.Printf)
	s.oom.SetValues(cfg.Get("oom-score-adj-values"))
	if err := s.oom.SetMode(cfg.Get("oom-score-adj")); err != nil {
		s.Log.Printf("# %v", err)
	}
	cfg.OnSet("oom-score-adj", s.oom.SetMode)
	cfg.OnSet("oom-score-adj-values", s.oom.SetValues)
	s.minReplicas.Store(cfg.Int("min-replicas-to-write"))
	cfg.OnSet("min-replicas-to-write", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.minReplicas.Store(n)
		return nil
	})
	// The link to our master authenticates with the values in force at
	// its next handshake (hooks run before the value is stored).
	cfg.OnSet("masterauth", func(v string) error { s.repl.SetMasterAuth(v, cfg.Get("masteruser")); return nil })
	cfg.OnSet("masteruser", func(v string) error { s.repl.SetMasterAuth(cfg.Get("masterauth"), v); return nil })
	cfg.OnSet("repl-backlog-size", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.repl.ResizeBacklog(int(n))
		return nil
	})
	s.initAdmin()
	s.initMaxmemory()
	s.initClientEviction()
	s.initOutputLimits()
}

// Listen opens the client listeners on the configured bind addresses and
// port (port 0 picks a free port; see Addr).
func (s *Server) Listen() error {
	if err := s.tcp.Open(bindAddrs(s.Cfg.Get("bind")), int(s.Cfg.Int("port"))); err != nil {
		return err
	}
	if err := s.listenUnix(); err != nil {
		s.tcp.Close()
		return err
	}
	return s.clusterListen()
}

// bindAddrs is the bind directive's list of addresses ("": none).
func bindAddrs(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return splitFields(v)
}

// Addr returns the first client listener's address.
func (s *Server) Addr() net.Addr { return s.tcp.Addr() }

// Port returns the port the server listens on (the configured one before
// Listen or with no bind address).
func (s *Server) Port() int { return s.tcp.Port() }

// Work returns the commands run so far, clients' and the master stream's
// (the GOMAXPROCS governor's measure of work done: procs.Start).
func (s *Server) Work() int64 { return s.stats.Commands.Load() + s.masterApplied.Load() }

// Serve accepts connections until Close. Background jobs (active expiry,
// idle timeouts) run alongside.
func (s *Server) Serve() error {
	s.goTracked(s.cron)
	s.goTracked(func() { s.scripts.Watch(s.quit, s.busyThreshold) })
	s.startReplication()
	if s.uln != nil {
		s.goTracked(func() { s.accept(s.uln) })
	}
	s.tcp.Serve(s.goTracked, func(ln net.Listener) { s.accept(ln) })
	<-s.quit
	return nil
}

// accept serves the connections of one listener until it is closed (by
// Close, or by CONFIG SET bind or port).
func (s *Server) accept(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// As Redis: a failed accept (out of descriptors...) is
			// logged and the listener goes on.
			s.Log.Printf("# Accepting client connection: %v", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.stats.Connections.Add(1)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
			if ka := s.Cfg.Int("tcp-keepalive"); ka > 0 {
				tc.SetKeepAlive(true)
				tc.SetKeepAlivePeriod(time.Duration(ka) * time.Second)
			}
		}
		if s.deniedByProtectedMode(conn) {
			continue
		}
		s.mu.Lock()
		n := int64(len(s.clients))
		s.mu.Unlock()
		if n >= s.maxClients.Load() {
			s.stats.Rejected.Add(1)
			io.WriteString(conn, "-ERR max number of clients reached\r\n")
			conn.Close()
			continue
		}
		c := newClient(s, conn)
		s.mu.Lock()
		s.clients[c.id] = c
		s.mu.Unlock()
		s.goTracked(c.serve)
	}
}

// deniedByProtectedMode refuses and closes a connection from another
// host while protected-mode is on and the default user needs no password
// (networking.c: clientAcceptHandler).
func (s *Server) deniedByProtectedMode(conn net.Conn) bool {
	if !s.Cfg.Bool("protected-mode") || !s.acl.users.Default().NoPass() || listen.IsLocal(conn.RemoteAddr()) {
		return false
	}
	s.stats.Rejected.Add(1)
	io.WriteString(conn, errProtectedMode)
	conn.Close()
	return true
}

// errProtectedMode is Redis 7.0's reply to such a connection, word for word.
const errProtectedMode = "-DENIED Redis is running in protected mode because protected " +
	"mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you " +
	"may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command " +
	"'CONFIG SET protected-mode no' from the loopback interface " +
	"by connecting to Redis from the same host the server is " +
	"running, however MAKE SURE Redis is not publicly accessible " +
	"from internet if you do so. Use CONFIG REWRITE to make this " +
	"change permanent. " +
	"2) Alternatively you can just disable the protected mode by " +
	"editing the Redis configuration file, and setting the protected " +
	"mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart " +
	"it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for " +
	"the server to start accepting connections from the outside.\r\n"

func (s *Server) goTracked(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// Close stops accepting, disconnects every client and waits for every
// goroutine the server started.
func (s *Server) Close() error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	close(s.quit)
	s.scripts.KillAll() // a looping script would keep its connection forever
	s.tcp.Close()
	if s.uln != nil {
		s.uln.Close()
	}
	s.mu.Lock()
	for _, c := range s.clients {
		c.kill()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.migrate.Close()
	s.closeCluster()
	return nil
}

func (s *Server) removeClient(c *Client) {
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
}

// cron runs periodic work: active expiry and idle client timeouts.
func (s *Server) cron() {
	t := clock.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	tick := 0
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			t.Next()
		}
		if s.admin.cronPaused.Load() {
			continue
		}
		tick++
		s.cronTick.Add(1)
		s.KS.TickClock()
		s.clockSec.Store(time.Now().Unix())
		s.admin.sample(s)
		s.cronMaxmemory()
		s.evictClients(nil) // output that other clients' pushes grew
		if s.activeExpire.Load() {
			_, held := s.KS.ActiveExpireTimed(10000)
			s.latency.sample("expire-cycle", held)
			if s.isReplica.Load() {
				s.expireReplicaKeys() // replica_expire.go
			}
		}
		if tick%10 == 0 {
			s.checkOutputLimits()
			s.closeIdleClients()
			s.migrate.CloseIdle(time.Now())
		}
	}
}

func (s *Server) closeIdleClients() {
	to := s.idleTimeout.Load()
	now := time.Now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.askIdleRelease(now)
	}
	if to <= 0 {
		return
	}
	for _, c := range s.clients {
		if c.isIdleExempt() {
			continue
		}
		if now-c.lastInteraction.Load() > to {
			c.kill()
		}
	}
}

// Stop is SHUTDOWN's effect: it closes the server and calls the process's
// exit hook.
func (s *Server) Stop() {
	// No new connection from here on, as when Redis's process exits: a
	// client that connects right after SHUTDOWN is refused.
	s.stopping.Store(true)
	s.tcp.Close()
	if s.uln != nil {
		s.uln.Close()
	}
	go func() {
		s.Close()
		if s.shutdownFn != nil {
			s.shutdownFn()
		}
	}()
}

// OnShutdown sets what SHUTDOWN does after the server closed (exit the process).
func (s *Server) OnShutdown(fn func()) { s.shutdownFn = fn }

// ensure commands is linked (handlers register in init).
var _ = commands.Lookup

// ShutdownGracefully is a shutdown by signal or SHUTDOWN without NOW: a
// master with replicas pauses writes and lets them catch up first (and,
// with failover, hands its slots to one of them: handover.go).
func (s *Server) ShutdownGracefully(save, failover bool) error {
	s.prepareShutdown(failover)
	return s.Shutdown(save)
}

// Shutdown stops the server; persistence is flushed first (with save, a
// final RDB save).
func (s *Server) Shutdown(save bool) error {
	if err := s.persist.Shutdown(save); err != nil {
		return err
	}
	s.Stop()
	return nil
}
