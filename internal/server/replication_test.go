package server

// Replication end to end: redgo replicas of redgo masters in one process
// (two servers with their own settings), and mixed with a real
// redis-server 7.0 in both directions.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// infoOf reads one field of INFO replication (or another section).
func infoOf(t testing.TB, rc *redis.Client, section, field string) string {
	t.Helper()
	s, err := rc.Info(ctx, section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

func hostPort(t testing.TB, addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// inSync waits until the replica applied the master's whole stream and
// the master's INFO lists it online at that offset.
func inSync(t testing.TB, master, replica *redis.Client) {
	t.Helper()
	eventually(t, 15*time.Second, func() error {
		if st := infoOf(t, replica, "replication", "master_link_status"); st != "up" {
			return fmt.Errorf("link %s", st)
		}
		mo := infoOf(t, master, "replication", "master_repl_offset")
		if ro := infoOf(t, replica, "replication", "slave_repl_offset"); ro != mo {
			return fmt.Errorf("replica at %s, master at %s", ro, mo)
		}
		if s := infoOf(t, master, "replication", "slave0"); !strings.Contains(s, "state=online,offset="+mo+",") {
			return fmt.Errorf("master lists %q at offset %s", s, mo)
		}
		return nil
	})
}

func sameDigest(t testing.TB, a, b *redis.Client) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		da, err := a.Do(ctx, "DEBUG", "DIGEST").Text()
		if err != nil {
			return err
		}
		db, err := b.Do(ctx, "DEBUG", "DIGEST").Text()
		if err != nil {
			return err
		}
		if da != db {
			return fmt.Errorf("digests differ: %s and %s", da, db)
		}
		return nil
	})
}

func TestReplicaOfRedgo(t *testing.T) {
	ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t, "--enable-debug-command", "yes", "--appendonly", "no")
	master.Set(ctx, "before", "sync", 0)
	master.Do(ctx, "DEBUG", "POPULATE", "2000")
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := replica.Do(ctx, "REPLICAOF", host, port).Text(); v != "OK Already connected to specified master" {
		t.Errorf("second REPLICAOF = %q", v)
	}
	inSync(t, master, replica)

	// The stream: expiry as absolute times, a transaction, other databases.
	master.Set(ctx, "k", "v", time.Hour)
	master.Incr(ctx, "n")
	master.RPush(ctx, "l", "a", "b")
	pipe := master.TxPipeline()
	pipe.Incr(ctx, "n")
	pipe.Set(ctx, "t", "x", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	m3 := goRedis(t, ms.Addr().String())
	m3.Do(ctx, "SELECT", "3")
	m3.Do(ctx, "SET", "in3", "yes")
	if n, err := master.Do(ctx, "WAIT", "1", "5000").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 5000 = %d, %v", n, err)
	}
	inSync(t, master, replica)
	sameDigest(t, master, replica)
	if v := replica.Get(ctx, "n").Val(); v != "2" {
		t.Errorf("n = %q on the replica", v)
	}
	if ttl := replica.TTL(ctx, "k").Val(); ttl < 59*time.Minute {
		t.Errorf("k's TTL on the replica = %v", ttl)
	}

	// A read-only replica.
	if err := replica.Set(ctx, "x", "1", 0).Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
		t.Errorf("write on the replica: %v", err)
	}
	role, err := replica.Do(ctx, "ROLE").Slice()
	if err != nil || len(role) != 5 || role[0] != "slave" || role[3] != "connected" {
		t.Errorf("ROLE on the replica = %v, %v", role, err)
	}
	mrole, err := master.Do(ctx, "ROLE").Slice()
	if err != nil || len(mrole) != 3 || mrole[0] != "master" || len(mrole[2].([]any)) != 1 {
		t.Errorf("ROLE on the master = %v, %v", mrole, err)
	}
	if err := replica.Do(ctx, "WAIT", "1", "0").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR WAIT cannot be used with replica instances") {
		t.Errorf("WAIT on a replica: %v", err)
	}

	// A dropped link resumes with a partial resynchronization.
	if n, _ := replica.Do(ctx, "CLIENT", "KILL", "TYPE", "master").Int(); n != 1 {
		t.Errorf("CLIENT KILL TYPE master killed %d", n)
	}
	master.Set(ctx, "after", "drop", 0)
	inSync(t, master, replica)
	if v := infoOf(t, master, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("sync_partial_ok = %s", v)
	}
	if v := replica.Get(ctx, "after").Val(); v != "drop" {
		t.Errorf("after = %q", v)
	}

	// Promoted, the replica keeps the data and the master's history as its
	// secondary ID, and takes writes.
	id := infoOf(t, master, "replication", "master_replid")
	if err := replica.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	if v := infoOf(t, replica, "replication", "master_replid2"); v != id {
		t.Errorf("master_replid2 = %s, want the old master's %s", v, id)
	}
	if err := replica.Set(ctx, "x", "1", 0).Err(); err != nil {
		t.Errorf("write after REPLICAOF NO ONE: %v", err)
	}
	if v := replica.Get(ctx, "before").Val(); v != "sync" {
		t.Errorf("before = %q after promotion", v)
	}
}

// TestReplicaChainPartialAfterPromotion: B replicates A and C replicates
// B; A is gone and B is promoted; C continues with B partially (PSYNC2).
func TestReplicaChainPartialAfterPromotion(t *testing.T) {
	as, a := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	bs, b := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	_, c := startServer(t, "--enable-debug-command", "yes")
	ah, ap := hostPort(t, as.Addr().String())
	bh, bp := hostPort(t, bs.Addr().String())
	b.Do(ctx, "REPLICAOF", ah, ap)
	a.Set(ctx, "k", "1", 0)
	inSync(t, a, b)
	c.Do(ctx, "REPLICAOF", bh, bp)
	a.Incr(ctx, "k")
	inSync(t, b, c)
	b.Do(ctx, "REPLICAOF", "NO", "ONE")
	b.Incr(ctx, "k")
	inSync(t, b, c)
	if v := c.Get(ctx, "k").Val(); v != "3" {
		t.Errorf("k = %q on C", v)
	}
	if v := infoOf(t, b, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("B's sync_partial_ok = %s (C should continue partially)", v)
	}
}

func TestRedisReplicaOfRedgo(t *testing.T) {
	ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	master.Do(ctx, "DEBUG", "POPULATE", "1000")
	master.HSet(ctx, "h", "f", "v")
	master.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"})
	host, port := hostPort(t, ms.Addr().String())
	raddr := startRedis(t, "--replicaof", host, port)
	replica := goRedis(t, raddr)
	inSync(t, master, replica)
	master.Set(ctx, "k", "v", time.Hour)
	master.Del(ctx, "key:1")
	if n, err := master.Do(ctx, "WAIT", "1", "5000").Int(); err != nil || n != 1 {
		t.Errorf("WAIT = %d, %v", n, err)
	}
	inSync(t, master, replica)
	sameDigest(t, master, replica)
	// A dropped link resumes partially.
	replica.Do(ctx, "CLIENT", "KILL", "TYPE", "master")
	master.Incr(ctx, "n")
	inSync(t, master, replica)
	if v := infoOf(t, master, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("sync_partial_ok = %s", v)
	}
	sameDigest(t, master, replica)
}

func TestRedgoReplicaOfRedis(t *testing.T) {
	maddr := startRedis(t, "--repl-diskless-sync-delay", "0")
	master := goRedis(t, maddr)
	master.Do(ctx, "DEBUG", "POPULATE", "1000")
	master.RPush(ctx, "l", "a", "b", "c")
	_, replica := startServer(t, "--enable-debug-command", "yes")
	host, port := hostPort(t, maddr)
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	inSync(t, master, replica)
	pipe := master.TxPipeline()
	pipe.Incr(ctx, "n")
	pipe.Expire(ctx, "key:2", time.Hour)
	pipe.Exec(ctx)
	inSync(t, master, replica)
	sameDigest(t, master, replica)
	replica.Do(ctx, "CLIENT", "KILL", "TYPE", "master")
	master.Incr(ctx, "n")
	inSync(t, master, replica)
	if v := infoOf(t, master, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("redis-server's sync_partial_ok = %s", v)
	}
	if v := replica.Get(ctx, "n").Val(); v != "2" {
		t.Errorf("n = %q", v)
	}
}

// TestReplicaRefusesTornSnapshot: a master whose snapshot stops half way
// leaves the replica empty (never half loaded) and retrying, when it
// loads as the snapshot arrives (repl-diskless-load on-empty-db); when it
// receives to disk first (disabled, the default) its dataset stays.
func TestReplicaRefusesTornSnapshot(t *testing.T) {
	t.Run("on-empty-db", func(t *testing.T) { tornSnapshot(t, "on-empty-db") })
	t.Run("disabled", func(t *testing.T) { tornSnapshot(t, "disabled") })
}

func tornSnapshot(t *testing.T, load string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	syncs := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeTornMaster(c, syncs)
		}
	}()
	_, replica := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-load", load, "--dir", t.TempDir())
	replica.Do(ctx, "DEBUG", "POPULATE", "100")
	host, port := hostPort(t, ln.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	for i := range 2 { // the first sync fails; the replica tries again
		select {
		case <-syncs:
		case <-time.After(10 * time.Second):
			t.Fatal("the replica did not ask for a sync")
		}
		if i == 0 && load != "disabled" {
			// While the half-sent snapshot loads (stalled longer than a
			// second), commands get -LOADING.
			eventually(t, 5*time.Second, func() error {
				if err := replica.Ping(ctx).Err(); err == nil || err.Error() != "LOADING Redis is loading the dataset in memory" {
					return fmt.Errorf("PING during the load: %v", err)
				}
				return nil
			})
		}
		if i == 0 && load == "disabled" {
			// Received to disk: the dataset is served meanwhile.
			time.Sleep(1200 * time.Millisecond)
			if n, err := replica.DBSize(ctx).Result(); err != nil || n != 100 {
				t.Errorf("DBSIZE during the transfer = %d, %v; want the old 100 keys", n, err)
			}
		}
	}
	want := int64(0) // the old data gone, nothing half loaded
	if load == "disabled" {
		want = 100 // the torn file was never loaded
	}
	if n := replica.DBSize(ctx).Val(); n != want {
		t.Errorf("dbsize %d after a torn snapshot, want %d", n, want)
	}
	if v := infoOf(t, replica, "replication", "master_link_status"); v != "down" {
		t.Errorf("link %s", v)
	}
}

// fakeTornMaster answers the handshake and sends half an RDB image.
func fakeTornMaster(c net.Conn, syncs chan<- struct{}) {
	fakeMaster(c, func([]string) bool {
		syncs <- struct{}{}
		img := []byte("REDIS0010\xfa\x09redis-ver\x067.0.15\xfe\x00\xfb\x01\x00\x00\x01a\x01b")
		c.Write([]byte("+FULLRESYNC " + strings.Repeat("a", 40) + " 0\r\n"))
		c.Write([]byte("$" + strconv.Itoa(len(img)+100) + "\r\n"))
		c.Write(img)
		// Longer than a load may stay quiet before clients are told.
		time.Sleep(1500 * time.Millisecond)
		return false
	}, nil)
}

// fakeMaster plays a master to the replica that connected on c, until
// the connection ends: PING gets +PONG; PSYNC (or SYNC) calls psync,
// which writes the answer and returns whether to go on; any other
// command goes to other first, which returns whether it answered it,
// and gets +OK if not. It closes c.
func fakeMaster(c net.Conn, psync func(args []string) bool, other func(args []string) bool) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		switch strings.ToUpper(args[0]) {
		case "PING":
			c.Write([]byte("+PONG\r\n"))
		case "PSYNC", "SYNC":
			if !psync(args) {
				return
			}
		default:
			if other == nil || !other(args) {
				c.Write([]byte("+OK\r\n"))
			}
		}
	}
}

// readCommand reads one RESP multibulk command.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || n < 1 {
		return nil, errors.New("bad command")
	}
	args := make([]string, n)
	for i := range args {
		l, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "$")))
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// FAILOVER: the master pauses writes, its replica catches up, the roles
// swap, and the history continues (the old master resyncs partially).
func TestFailoverCommand(t *testing.T) {
	ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	rs, replica := startServer(t, "--enable-debug-command", "yes")
	if err := master.Do(ctx, "FAILOVER").Err(); err == nil || err.Error() != "ERR FAILOVER requires connected replicas." {
		t.Errorf("FAILOVER without replicas: %v", err)
	}
	host, port := hostPort(t, ms.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	master.Set(ctx, "k", "1", 0)
	inSync(t, master, replica)
	// Writes keep coming while the roles swap; none acknowledged is lost.
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			if err := master.Incr(ctx, "n").Err(); err != nil {
				done <- n
				return
			}
			n++
		}
	}()
	time.Sleep(100 * time.Millisecond)
	rh, rp := hostPort(t, rs.Addr().String())
	if err := master.Do(ctx, "FAILOVER", "TO", rh, rp, "TIMEOUT", "5000").Err(); err != nil {
		t.Fatal(err)
	}
	if err := master.Do(ctx, "FAILOVER").Err(); err == nil || err.Error() != "ERR FAILOVER already in progress." {
		t.Logf("second FAILOVER: %v", err) // the first may already be over
	}
	eventually(t, 10*time.Second, func() error {
		if r := infoOf(t, replica, "replication", "role"); r != "master" {
			return fmt.Errorf("target role %s", r)
		}
		if r := infoOf(t, master, "replication", "role"); r != "slave" {
			return fmt.Errorf("old master role %s", r)
		}
		if st := infoOf(t, master, "replication", "master_failover_state"); st != "no-failover" {
			return fmt.Errorf("failover state %s", st)
		}
		return nil
	})
	close(stop)
	acked := <-done
	inSync(t, replica, master)
	if v, _ := replica.Get(ctx, "n").Int(); v < acked {
		t.Errorf("n = %d on the new master, %d increments were acknowledged", v, acked)
	}
	if v := infoOf(t, replica, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("the old master's resync: sync_partial_ok = %s on the new master", v)
	}
	if err := master.Do(ctx, "FAILOVER", "ABORT").Err(); err == nil || err.Error() != "ERR No failover in progress." {
		t.Errorf("FAILOVER ABORT: %v", err)
	}
}

func TestFailoverErrorsVsRedis(t *testing.T) {
	s, _ := startServer(t)
	raddr := startRedis(t)
	oracle(t, s.Addr().String(), raddr, [][]string{
		{"FAILOVER"}, {"FAILOVER", "ABORT"}, {"FAILOVER", "FORCE"}, {"FAILOVER", "TIMEOUT", "0"},
		{"FAILOVER", "TIMEOUT", "x"}, {"FAILOVER", "TO", "127.0.0.1", "x"}, {"FAILOVER", "TO", "127.0.0.1"},
		{"FAILOVER", "ABORT", "FORCE"}, {"FAILOVER", "FORCE", "FORCE"}, {"FAILOVER", "TO", "127.0.0.1", "1", "FORCE"},
	})
}

// FAILOVER across kinds: a redis-server 7.0 master hands over to a redgo
// replica, and a redgo master hands over to a redis-server replica.
func TestFailoverMixed(t *testing.T) {
	t.Run("redis master to redgo", func(t *testing.T) {
		maddr := startRedis(t, "--repl-diskless-sync-delay", "0")
		master := goRedis(t, maddr)
		rs, replica := startServer(t, "--enable-debug-command", "yes")
		mh, mp := hostPort(t, maddr)
		replica.Do(ctx, "REPLICAOF", mh, mp)
		master.Set(ctx, "k", "v", 0)
		inSync(t, master, replica)
		rh, rp := hostPort(t, rs.Addr().String())
		if err := master.Do(ctx, "FAILOVER", "TO", rh, rp).Err(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() error {
			if r := infoOf(t, replica, "replication", "role"); r != "master" {
				return fmt.Errorf("redgo role %s", r)
			}
			if r := infoOf(t, master, "replication", "master_link_status"); r != "up" {
				return fmt.Errorf("redis-server's link to redgo: %s", r)
			}
			return nil
		})
		if v := infoOf(t, replica, "stats", "sync_partial_ok"); v != "1" {
			t.Errorf("redis-server resynced with sync_partial_ok = %s", v)
		}
	})
	t.Run("redgo master to redis", func(t *testing.T) {
		ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
		mh, mp := hostPort(t, ms.Addr().String())
		raddr := startRedis(t, "--replicaof", mh, mp)
		replica := goRedis(t, raddr)
		master.Set(ctx, "k", "v", 0)
		inSync(t, master, replica)
		rh, rp := hostPort(t, raddr)
		if err := master.Do(ctx, "FAILOVER", "TO", rh, rp).Err(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() error {
			if r := infoOf(t, replica, "replication", "role"); r != "master" {
				return fmt.Errorf("redis-server role %s", r)
			}
			if r := infoOf(t, master, "replication", "master_link_status"); r != "up" {
				return fmt.Errorf("redgo's link to redis-server: %s", r)
			}
			return nil
		})
		if v := infoOf(t, replica, "stats", "sync_partial_ok"); v != "1" {
			t.Errorf("redgo resynced with redis-server's sync_partial_ok = %s", v)
		}
	})
}

// A master that becomes a replica unblocks its blocked clients with
// Redis's -UNBLOCKED error and closes them, so the stream of its new
// master cannot feed them (replication.tcl "BLPOP followed by role change").
func TestRoleChangeUnblocksClients(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	rs, replica := startServer(t, "--appendonly", "no")
	c := dialRaw(t, rs.Addr().String())
	c.send("BLPOP", "foo", "0")
	eventually(t, 5*time.Second, func() error {
		if n := infoOf(t, replica, "clients", "blocked_clients"); n != "1" {
			return fmt.Errorf("blocked_clients:%s", n)
		}
		return nil
	})
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	v, _ := c.read()
	if v.Str != errRoleChanged {
		t.Fatalf("blocked client got %+v", v)
	}
	inSync(t, master, replica)
	master.RPush(ctx, "foo", "a", "b", "c")
	inSync(t, master, replica)
	if got := replica.LRange(ctx, "foo", 0, -1).Val(); len(got) != 3 {
		t.Fatalf("foo on the replica = %v", got)
	}
}

// A master may stream right after a sized payload ($<len>, disk-based
// sync), so the replica's read of the payload also buffers the first
// commands of the stream: none may be lost.
func TestReplicaKeepsStreamAfterSizedPayload(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fakeMaster(c, func([]string) bool {
			// An RDB with a=b (checksum 0: not checked), then the
			// stream, all in one write.
			img := "REDIS0010\xfe\x00\xfb\x01\x00\x00\x01a\x01b\xff" + strings.Repeat("\x00", 8)
			stream := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\ny\r\n"
			c.Write([]byte("+FULLRESYNC " + strings.Repeat("a", 40) + " 0\r\n"))
			c.Write([]byte("$" + strconv.Itoa(len(img)) + "\r\n" + img + stream))
			time.Sleep(5 * time.Second)
			return false
		}, nil)
	}()
	_, replica := startServer(t, "--appendonly", "no")
	host, port := hostPort(t, ln.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	eventually(t, 5*time.Second, func() error {
		if v := replica.Get(ctx, "x").Val(); v != "y" {
			return fmt.Errorf("x = %q (a = %q)", v, replica.Get(ctx, "a").Val())
		}
		return nil
	})
	if v := replica.Get(ctx, "a").Val(); v != "b" {
		t.Errorf("a = %q", v)
	}
}

// TestReplicaLoadIsVisible: a full sync's load tells clients once it
// has read loading-process-events-interval-bytes, as Redis serves
// events while it loads: INFO answers loading:1 with the loading_*
// fields, and keyed commands get -LOADING (never the half-loaded
// dataset). CONFIG SET key-load-delay applies to the load under way.
func TestReplicaLoadIsVisible(t *testing.T) {
	ms, master := startServer(t, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t, "--appendonly", "no", "--key-load-delay", "3000",
		"--loading-process-events-interval-bytes", "1024")
	master.Do(ctx, "DEBUG", "POPULATE", "400", "key", "1000")
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if v := infoOf(t, replica, "persistence", "loading"); v != "1" {
			return fmt.Errorf("loading:%s", v)
		}
		return nil
	})
	if v := infoOf(t, replica, "persistence", "loading_total_bytes"); v == "" {
		t.Error("no loading_total_bytes while loading")
	}
	if err := replica.Get(ctx, "key:1").Err(); err == nil || err.Error() != errLoading {
		t.Errorf("GET during the load: %v", err)
	}
	replica.Do(ctx, "CONFIG", "SET", "key-load-delay", "0")
	inSync(t, master, replica)
	if n := replica.DBSize(ctx).Val(); n != 400 {
		t.Errorf("dbsize %d after the load", n)
	}
	if v := infoOf(t, replica, "persistence", "loading"); v != "0" {
		t.Errorf("loading:%s after the load", v)
	}
}

// TestRestartContinuesHistory: an RDB file records the replication
// history (repl-id, repl-offset, repl-stream-db), so that a restarted
// replica and a restarted master continue with a partial resync, and no
// write is applied twice or lost.
func TestRestartContinuesHistory(t *testing.T) {
	mdir, rdir := t.TempDir(), t.TempDir()
	ms, err := startRDB(t, mdir, "--repl-diskless-sync-delay", "0")
	if err != nil {
		t.Fatal(err)
	}
	master := goRedis(t, ms.Addr().String())
	host, port := hostPort(t, ms.Addr().String())
	rs, err := startRDB(t, rdir, "--replicaof", host+" "+port)
	if err != nil {
		t.Fatal(err)
	}
	replica := goRedis(t, rs.Addr().String())
	m2 := goRedis(t, ms.Addr().String())
	m2.Do(ctx, "SELECT", "2")
	for i := range 50 {
		master.Incr(ctx, "n")
		m2.Incr(ctx, fmt.Sprint("k", i%7))
	}
	inSync(t, master, replica)

	// The replica restarts from its RDB file while the master writes on.
	if err := replica.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rs.Close()
	master.Incr(ctx, "n")
	m2.Incr(ctx, "k1") // the stream stays in database 2: no SELECT after the restart
	rs, err = startRDB(t, rdir, "--replicaof", host+" "+port)
	if err != nil {
		t.Fatal(err)
	}
	replica = goRedis(t, rs.Addr().String())
	inSync(t, master, replica)
	if v := infoOf(t, master, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("sync_partial_ok %s after the replica's restart, want 1", v)
	}
	sameDigest(t, master, replica)

	// The master restarts from its RDB file: the replica continues with
	// the master's former ID as its secondary one. A key past its expiry
	// (not deleted yet) is in the file; the restarted master skips it and
	// tells the replica to delete it.
	master.Do(ctx, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	master.Set(ctx, "short", "x", 10*time.Millisecond)
	inSync(t, master, replica)
	time.Sleep(20 * time.Millisecond)
	if err := master.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	addr := ms.Addr().String()
	ms.Close()
	_, mport := hostPort(t, addr)
	ms, err = startRDB(t, mdir, "--port", mport, "--repl-diskless-sync-delay", "0")
	if err != nil {
		t.Fatal(err)
	}
	master = goRedis(t, ms.Addr().String())
	master.Incr(ctx, "n")
	inSync(t, master, replica)
	if v := infoOf(t, master, "stats", "sync_partial_ok"); v != "1" {
		t.Errorf("sync_partial_ok %s on the restarted master, want 1", v)
	}
	if v := replica.Get(ctx, "n").Val(); v != "52" {
		t.Errorf("n = %s on the replica, want 52", v)
	}
	if v := infoOf(t, master, "persistence", "rdb_last_load_keys_expired"); v != "1" {
		t.Errorf("rdb_last_load_keys_expired %s on the restarted master, want 1", v)
	}
	// DBSIZE counts keys past their expiry that are still there.
	eventually(t, 5*time.Second, func() error {
		if m, r := master.DBSize(ctx).Val(), replica.DBSize(ctx).Val(); m != r {
			return fmt.Errorf("dbsize %d on the master, %d on the replica: the expired key was not deleted there", m, r)
		}
		return nil
	})
	sameDigest(t, master, replica)
}

// TestSwapDBLoadKeepsDataset: with repl-diskless-load swapdb a replica
// loads its master's snapshot aside. When the master continues the
// history the replica's dataset belongs to (the replica restarted from
// its RDB file), the old dataset is served meanwhile (async_loading:1);
// a load that fails (the master dies mid-snapshot) leaves it whole.
func TestSwapDBLoadKeepsDataset(t *testing.T) {
	mdir, rdir := t.TempDir(), t.TempDir()
	ms, err := startRDB(t, mdir, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
		"--repl-backlog-size", "16384")
	if err != nil {
		t.Fatal(err)
	}
	master := goRedis(t, ms.Addr().String())
	host, port := hostPort(t, ms.Addr().String())
	rargs := []string{"--replicaof", host + " " + port, "--repl-diskless-load", "swapdb"}
	rs, err := startRDB(t, rdir, rargs...)
	if err != nil {
		t.Fatal(err)
	}
	replica := goRedis(t, rs.Addr().String())
	master.Set(ctx, "old", "1", 0)
	inSync(t, master, replica)
	if err := replica.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rs.Close()
	// More than the backlog holds: the restarted replica needs a full
	// sync, of a snapshot the master writes slowly.
	master.Del(ctx, "old")
	pipe := master.Pipeline()
	for i := range 300 {
		pipe.Set(ctx, fmt.Sprint("key:", i), strings.Repeat("v", 1000), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	master.ConfigSet(ctx, "rdb-key-save-delay", "20000")
	rs, err = startRDB(t, rdir, rargs...)
	if err != nil {
		t.Fatal(err)
	}
	replica = goRedis(t, rs.Addr().String())
	eventually(t, 10*time.Second, func() error {
		if v := infoOf(t, replica, "persistence", "async_loading"); v != "1" {
			return fmt.Errorf("async_loading:%s", v)
		}
		return nil
	})
	if v, err := replica.Get(ctx, "old").Result(); v != "1" {
		t.Errorf("GET old during the async load = %q, %v", v, err)
	}
	ms.Close()
	eventually(t, 10*time.Second, func() error {
		if v := infoOf(t, replica, "persistence", "async_loading"); v != "0" {
			return fmt.Errorf("async_loading:%s", v)
		}
		return nil
	})
	if v, err := replica.Get(ctx, "old").Result(); v != "1" {
		t.Errorf("GET old after the failed load = %q, %v", v, err)
	}
	if n := replica.DBSize(ctx).Val(); n != 1 {
		t.Errorf("dbsize %d after the failed load, want 1 (the old dataset)", n)
	}
}

// TestWritableReplicaExpiresOwnKeys: keys a client writes with a TTL on
// a writable replica are deleted once expired (the replica deletes none
// of its master's keys itself).
func TestWritableReplicaExpiresOwnKeys(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t, "--appendonly", "no", "--replica-read-only", "no")
	host, port := hostPort(t, ms.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	master.Set(ctx, "m", "1", 0)
	inSync(t, master, replica)
	for _, k := range []string{"key1", "key2"} {
		if err := replica.Set(ctx, k, "v", 200*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, func() error {
		if n := replica.DBSize(ctx).Val(); n != 1 {
			return fmt.Errorf("dbsize %d, want 1 (the master's key only)", n)
		}
		return nil
	})
}

// TestReplicaofInConfig: CONFIG GET and CONFIG REWRITE show the master
// REPLICAOF set (so a restarted replica follows it again); CONFIG SET
// cannot change it, as in Redis.
func TestReplicaofInConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "redgo.conf")
	if err := os.WriteFile(conf, []byte("port 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, rc := startServerConf(t, conf, "--dir", dir)
	rc.Do(ctx, "REPLICAOF", "127.0.0.1", "1")
	if v := rc.ConfigGet(ctx, "replicaof").Val()["replicaof"]; v != "127.0.0.1 1" {
		t.Errorf("CONFIG GET replicaof = %q", v)
	}
	if err := rc.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(conf); !strings.Contains(string(b), "replicaof 127.0.0.1 1\n") {
		t.Errorf("rewritten config:\n%s", b)
	}
	if err := rc.ConfigSet(ctx, "replicaof", "127.0.0.1 2").Err(); err == nil || !strings.Contains(err.Error(), "can't set immutable config") {
		t.Errorf("CONFIG SET replicaof: %v", err)
	}
	rc.Do(ctx, "REPLICAOF", "NO", "ONE")
	if v := rc.ConfigGet(ctx, "replicaof").Val()["replicaof"]; v != "" {
		t.Errorf("CONFIG GET replicaof after NO ONE = %q", v)
	}
}

// TestPauseLetsReplicasAck: CLIENT PAUSE ALL holds clients, not the
// replicas' REPLCONF ACKs (a master that waits for its replicas before
// shutting down must hear them).
func TestPauseLetsReplicasAck(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	_, replica := startServer(t, "--appendonly", "no")
	host, port := hostPort(t, ms.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	inSync(t, master, replica)
	if err := master.Do(ctx, "CLIENT", "PAUSE", "20000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	defer goRedis(t, ms.Addr().String()).Do(ctx, "CLIENT", "UNPAUSE")
	// INFO is paused too: ask the replication state directly.
	time.Sleep(2200 * time.Millisecond)
	eventually(t, 5*time.Second, func() error {
		r := ms.repl.Replicas()
		if len(r) != 1 || r[0].Lag != 0 {
			return fmt.Errorf("replicas %+v (no ACK heard during the pause)", r)
		}
		return nil
	})
}

// TestPublishReachesReplicas: outside cluster mode a PUBLISH on the
// master reaches the subscribers of its replicas through the replication
// stream, as Redis (unit/multi "MULTI propagation of PUBLISH"); it never
// reaches the AOF.
func TestPublishReachesReplicas(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	rs, replica := startServer(t)
	rec := &propRecorder{}
	ms.AddPropagator(rec) // as the AOF
	host, port := hostPort(t, ms.Addr().String())
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	inSync(t, master, replica)
	sub := dialRaw(t, rs.Addr().String())
	sub.do("SUBSCRIBE", "news")
	master.Publish(ctx, "news", "one")
	master.Do(ctx, "SPUBLISH", "news", "two")
	if v, raw := sub.read(); len(v.Elems) != 3 || v.Elems[2].Str != "one" {
		t.Fatalf("replica subscriber read %q", raw)
	}
	inSync(t, master, replica)
	for _, l := range rec.lines() {
		if strings.Contains(strings.ToLower(l), "publish") {
			t.Fatalf("the AOF got %q", l)
		}
	}
}

// TestMasterauthSetAfterReplicaof: CONFIG SET masterauth after REPLICAOF
// is used by the link's next handshake (unit/auth "MASTERAUTH test with
// binary password"): a wrong password is logged as Redis logs it, the
// right one lets the replica sync.
func TestMasterauthSetAfterReplicaof(t *testing.T) {
	ms, master := startServer(t, "--repl-diskless-sync-delay", "0")
	rs, err := startRDB(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	replica := goRedis(t, rs.Addr().String())
	master.Do(ctx, "CONFIG", "SET", "requirepass", "abc\x00def")
	master = goRedis(t, ms.Addr().String())
	master.Do(ctx, "AUTH", "abc\x00def")
	host, port := hostPort(t, ms.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	replica.Do(ctx, "CONFIG", "SET", "masterauth", "abc")
	eventually(t, 10*time.Second, func() error {
		if !strings.Contains(rdbLog(rs), "Unable to AUTH to MASTER") {
			return fmt.Errorf("no AUTH failure logged yet")
		}
		return nil
	})
	replica.Do(ctx, "CONFIG", "SET", "masterauth", "abc\x00def")
	inSync(t, master, replica)
}

// TestFailoverForceLogs: FAILOVER ... TIMEOUT FORCE whose target has not
// caught up at the deadline logs Redis's line and fails over anyway
// (integration/failover "failover to a replica with force works").
func TestFailoverForceLogs(t *testing.T) {
	ms, err := startRDB(t, t.TempDir(), "--repl-diskless-sync-delay", "0")
	if err != nil {
		t.Fatal(err)
	}
	master := goRedis(t, ms.Addr().String())
	rs, replica := startServer(t, "--enable-debug-command", "yes")
	host, port := hostPort(t, ms.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	inSync(t, master, replica)
	slept := make(chan struct{})
	go func() {
		defer close(slept)
		goRedis(t, rs.Addr().String()).Do(ctx, "DEBUG", "SLEEP", "1") // the replica acknowledges nothing meanwhile
	}()
	time.Sleep(100 * time.Millisecond)
	master.Set(ctx, "case", "2", 0)
	rh, rp := hostPort(t, rs.Addr().String())
	if err := master.Do(ctx, "FAILOVER", "TO", rh, rp, "TIMEOUT", "100", "FORCE").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if !strings.Contains(rdbLog(ms), "FAILOVER to "+rh+":"+rp+" time out exceeded, failing over.") {
			return fmt.Errorf("not logged yet")
		}
		return nil
	})
	<-slept
	eventually(t, 10*time.Second, func() error {
		if r := infoOf(t, master, "replication", "role"); r != "slave" {
			return fmt.Errorf("old master role %s", r)
		}
		return nil
	})
	if strings.Contains(rdbLog(ms), "is synced, failing over") {
		t.Errorf("a forced failover logged the target as synced:\n%s", rdbLog(ms))
	}
}

// A FAILOVER whose target refuses the PSYNC that hands over (here its
// default user may not run PSYNC) ends at once, not at its deadline: the
// old master logs Redis's "Failover target rejected psync request", is a
// master again and takes writes, and its replica follows it again.
func TestFailoverTargetRejectsPsync(t *testing.T) {
	ms, err := startRDB(t, t.TempDir(), "--repl-diskless-sync-delay", "0")
	if err != nil {
		t.Fatal(err)
	}
	master := goRedis(t, ms.Addr().String())
	rs, replica := startServer(t)
	host, port := hostPort(t, ms.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	master.Set(ctx, "k", "1", 0)
	inSync(t, master, replica)
	if err := replica.Do(ctx, "ACL", "SETUSER", "default", "-psync").Err(); err != nil {
		t.Fatal(err)
	}
	rh, rp := hostPort(t, rs.Addr().String())
	start := time.Now()
	if err := master.Do(ctx, "FAILOVER", "TO", rh, rp).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if st := infoOf(t, master, "replication", "master_failover_state"); st != "no-failover" {
			return fmt.Errorf("failover state %s", st)
		}
		return nil
	})
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the failover ended after %v", d)
	}
	if !strings.Contains(rdbLog(ms), "FAILOVER to "+rh+":"+rp+" aborted: Failover target rejected psync request") {
		t.Errorf("log:\n%s", rdbLog(ms))
	}
	if r := infoOf(t, master, "replication", "role"); r != "master" {
		t.Fatalf("old master role %s", r)
	}
	if err := master.Set(ctx, "k", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	replica.Do(ctx, "ACL", "SETUSER", "default", "+psync")
	inSync(t, master, replica)
	if v, _ := replica.Get(ctx, "k").Result(); v != "2" {
		t.Errorf("replica has k=%q", v)
	}
}

// TestReplicaStreamInPieces: a master's stream that arrives in pieces of
// any size (a command cut anywhere, one longer than the replica's read
// buffer, an empty line) is applied whole and counted byte for byte: the
// replica acknowledges the stream's length and its own offset (what its
// replicas continue from) is the same. Garbage in the stream drops the
// link and the replica connects again.
func TestReplicaStreamInPieces(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	big := strings.Repeat("v", 200<<10)
	var stream strings.Builder
	add := func(args ...string) {
		fmt.Fprintf(&stream, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&stream, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	add("SELECT", "0")
	add("SET", "x", "y")
	stream.WriteString("\n")
	add("SET", "big", big)
	for i := 0; i < 300; i++ {
		add("INCR", fmt.Sprintf("n%d", i%7))
	}
	add("PING")
	whole := stream.String()
	const getack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
	getackEnd := strconv.Itoa(len(whole) + len(getack))
	acks := make(chan string, 64)
	reconnected := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fakeMaster(c, func([]string) bool {
			img := "REDIS0010\xfe\x00\xff" + strings.Repeat("\x00", 8)
			c.Write([]byte("+FULLRESYNC " + strings.Repeat("a", 40) + " 0\r\n"))
			c.Write([]byte("$" + strconv.Itoa(len(img)) + "\r\n" + img))
			rng := rand.New(rand.NewPCG(3, 4))
			for rest := whole; rest != ""; {
				k := min(len(rest), 1+rng.IntN(3000))
				c.Write([]byte(rest[:k]))
				rest = rest[k:]
				if rng.IntN(10) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			c.Write([]byte(getack))
			return true
		}, func(args []string) bool {
			if len(args) != 3 || !strings.EqualFold(args[0], "REPLCONF") || !strings.EqualFold(args[1], "ACK") {
				return false
			}
			select {
			case acks <- args[2]:
			default:
			}
			if args[2] == getackEnd {
				c.Write([]byte("*1\r\nxx\r\n")) // garbage: not a bulk string
			}
			return true
		})
	}()
	_, replica := startServer(t, "--appendonly", "no")
	host, port := hostPort(t, ln.Addr().String())
	replica.Do(ctx, "REPLICAOF", host, port)
	deadline := time.After(10 * time.Second)
	for acked := false; !acked; {
		select {
		case off := <-acks:
			acked = off == getackEnd
		case <-deadline:
			t.Fatalf("no REPLCONF ACK %s (the stream with the GETACK)", getackEnd)
		}
	}
	if v := replica.Get(ctx, "x").Val(); v != "y" {
		t.Errorf("x = %q", v)
	}
	if v := replica.StrLen(ctx, "big").Val(); v != int64(len(big)) {
		t.Errorf("STRLEN big = %d", v)
	}
	for i := 0; i < 7; i++ {
		want := 300 / 7
		if i < 300%7 {
			want++
		}
		if v := replica.Get(ctx, fmt.Sprintf("n%d", i)).Val(); v != strconv.Itoa(want) {
			t.Errorf("n%d = %q, want %d", i, v, want)
		}
	}
	if v := infoOf(t, replica, "replication", "master_repl_offset"); v != getackEnd {
		t.Errorf("master_repl_offset %s, want %s", v, getackEnd)
	}
	// Its backlog holds the stream as it came (its replicas' offsets are
	// the master's).
	if v := infoOf(t, replica, "replication", "repl_backlog_histlen"); v != getackEnd {
		t.Errorf("repl_backlog_histlen %s, want %s", v, getackEnd)
	}
	// The garbage after the ACK drops the link: the replica connects again.
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			close(reconnected)
		}
	}()
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the replica kept a link whose stream was garbage")
	}
}
