package clusterbus

// The codec against a real redis-server 7.0: a fake node joins its bus
// with messages encoded here, and everything the server sends back must
// decode and re-encode to the same bytes. Set REDGO_CAPTURE_BUS=1 to
// refresh the testdata/redis7.0-*.bin fixtures from the run.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/cluster"
	"redgo/internal/rdb/rdbtest"
)

// needRedis skips (or fails under REDGO_REQUIRE_REDIS) without redis-server.
func needRedis(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not installed but REDGO_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not installed (apt-get install redis-server): skipped")
	}
	return p
}

// freePort returns a port p such that p and p+10000 (its bus port) are free.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p+10000 > 65535 {
			continue
		}
		bl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		bl.Close()
		return p
	}
	t.Fatal("no free port pair")
	return 0
}

type redisNode struct {
	port int
	cmd  *exec.Cmd
	c    *redis.Client
}

// startClusterRedis runs redis-server with cluster-enabled yes.
func startClusterRedis(t *testing.T, args ...string) *redisNode {
	t.Helper()
	bin := needRedis(t)
	port := freePort(t)
	dir := t.TempDir()
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "log"),
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		"--cluster-node-timeout", "1000"}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &redisNode{port: port, cmd: cmd}
	n.c = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	t.Cleanup(func() {
		n.c.Close()
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
				t.Logf("redis-server :%d log:\n%s", port, log)
			}
		}
	})
	eventually(t, 5*time.Second, func() error { return n.c.Ping(context.Background()).Err() })
	return n
}

func (n *redisNode) do(t *testing.T, args ...any) string {
	t.Helper()
	v, err := n.c.Do(context.Background(), args...).Result()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return fmt.Sprint(v)
}

// info returns field f of CLUSTER INFO.
func (n *redisNode) info(t *testing.T, f string) string {
	for _, l := range strings.Split(n.do(t, "CLUSTER", "INFO"), "\r\n") {
		if v, ok := strings.CutPrefix(l, f+":"); ok {
			return v
		}
	}
	t.Fatalf("no %s in CLUSTER INFO", f)
	return ""
}

// eventually polls fn until it returns nil or the time is up.
func eventually(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	rdbtest.Eventually(t, total, fn)
}

func randomName(t testing.TB) string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// received is one message the fake node got, with the link it came on.
type received struct {
	link string // "out" (we dialled) or "in" (the server dialled us)
	raw  []byte
	m    *cluster.Msg
}

// fakeNode plays a cluster node on the bus with hand-made messages. It
// answers every PING and MEET with a PONG built from hdr.
type fakeNode struct {
	t    *testing.T
	ln   net.Listener
	mu   sync.Mutex // guards hdr and the writes
	hdr  cluster.Msg
	recv chan received
	errs chan error
}

func newFakeNode(t *testing.T) *fakeNode {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{t: t, ln: ln, recv: make(chan received, 1000), errs: make(chan error, 10)}
	t.Cleanup(func() { ln.Close() })
	cport := ln.Addr().(*net.TCPAddr).Port
	f.hdr = cluster.Msg{
		Port:  cport%20000 + 1024, // never dialled: any valid port
		CPort: cport,
		// Every extension type: 7.0 must skip the ones it does not know.
		Exts: []cluster.PingExt{
			cluster.HostnameExt("fake-node.example"),
			cluster.HumanNodenameExt("fake"),
			cluster.ShardIDExt(randomName(t)),
		},
		Sender: randomName(t),
		Flags:  cluster.FlagMyself | cluster.FlagMaster,
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go f.serve("in", c)
		}
	}()
	return f
}

// header returns a copy of the fake node's header with type typ.
func (f *fakeNode) header(typ cluster.MsgType) *cluster.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.hdr
	m.Type = typ
	if !m.IsPing() {
		m.Exts = nil
	}
	return &m
}

func (f *fakeNode) send(c net.Conn, m *cluster.Msg) {
	b, err := Encode(m)
	if err != nil {
		f.t.Errorf("encode %s: %v", m.Type, err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := c.Write(b); err != nil {
		f.errs <- err
	}
}

// dial opens our link to a node's bus port and serves it.
func (f *fakeNode) dial(busPort int) net.Conn {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", busPort))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	go f.serve("out", c)
	return c
}

// serve reads messages from c, checks each re-encodes byte for byte, and
// answers PING and MEET with PONG.
func (f *fakeNode) serve(link string, c net.Conn) {
	var buf []byte
	for {
		raw, err := ReadMsg(c, buf, 1<<20)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) &&
				err.Error() != "EOF" {
				select {
				case f.errs <- fmt.Errorf("%s link: %w", link, err):
				default:
				}
			}
			return
		}
		m, err := Decode(raw)
		if err != nil {
			f.errs <- fmt.Errorf("%s link: decode: %w", link, err)
			return
		}
		if re, err := Encode(m); err != nil || !bytes.Equal(re, raw) {
			f.errs <- fmt.Errorf("%s link: %s does not re-encode to the same %d bytes (err %v)",
				link, m.Type, len(raw), err)
			return
		}
		if m.Type == cluster.MsgPing || m.Type == cluster.MsgMeet {
			f.send(c, f.header(cluster.MsgPong))
		}
		f.recv <- received{link: link, raw: append([]byte(nil), raw...), m: m}
	}
}

// wait returns the next message for which ok is true; others are dropped.
func (f *fakeNode) wait(what string, total time.Duration, ok func(*cluster.Msg) bool) received {
	f.t.Helper()
	timer := time.NewTimer(total)
	defer timer.Stop()
	for {
		select {
		case r := <-f.recv:
			f.capture(r)
			if ok(r.m) {
				return r
			}
		case err := <-f.errs:
			f.t.Fatal(err)
		case <-timer.C:
			f.t.Fatalf("no %s within %v", what, total)
		}
	}
}

func ofType(t cluster.MsgType) func(*cluster.Msg) bool {
	return func(m *cluster.Msg) bool { return m.Type == t }
}

// capture writes the first message of each type to testdata when
// REDGO_CAPTURE_BUS is set.
func (f *fakeNode) capture(r received) {
	if os.Getenv("REDGO_CAPTURE_BUS") == "" {
		return
	}
	name := "redis7.0-" + r.m.Type.String()
	if r.m.IsPing() && len(r.m.Gossip) > 0 {
		name += "-gossip"
	}
	path := filepath.Join("testdata", name+".bin")
	if _, err := os.Stat(path); err == nil {
		return
	}
	if err := os.WriteFile(path, r.raw, 0o644); err != nil {
		f.t.Error(err)
	}
}

// nodesLine returns the CLUSTER NODES line of node name on n.
func (n *redisNode) nodesLine(t *testing.T, name string) string {
	for _, l := range strings.Split(n.do(t, "CLUSTER", "NODES"), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}

// TestRedisBus joins a fake node, built from this codec, to a real
// three-node redis-server 7.0 cluster and exchanges every message type a
// server can be made to send: PONG, PING with gossip, MEET, PUBLISH,
// PUBLISHSHARD, UPDATE, FAILOVER_AUTH_ACK and FAIL.
func TestRedisBus(t *testing.T) {
	a := startClusterRedis(t, "--cluster-announce-hostname", "host-a")
	b := startClusterRedis(t)
	c := startClusterRedis(t) // no slots; it will fail
	// Distinct config epochs before they meet: A 5, B 6.
	a.do(t, "CLUSTER", "SET-CONFIG-EPOCH", "5")
	b.do(t, "CLUSTER", "SET-CONFIG-EPOCH", "6")
	a.do(t, "CLUSTER", "ADDSLOTSRANGE", "0", "99")
	b.do(t, "CLUSTER", "ADDSLOTS", "200")
	a.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(b.port))
	a.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(c.port))
	aID, bID, cID := a.do(t, "CLUSTER", "MYID"), b.do(t, "CLUSTER", "MYID"), c.do(t, "CLUSTER", "MYID")
	eventually(t, 5*time.Second, func() error {
		if l := a.nodesLine(t, bID); !strings.Contains(l, " connected 200") {
			return fmt.Errorf("A sees B as %q", l)
		}
		if l := b.nodesLine(t, cID); !strings.HasSuffix(l, " connected") {
			return fmt.Errorf("B sees C as %q", l)
		}
		return nil
	})

	// The fake node is a replica of A: that makes A send it PUBLISHSHARD
	// and vote for it.
	f := newFakeNode(t)
	f.hdr.ReplicaOf = aID
	f.hdr.Flags = cluster.FlagMyself | cluster.FlagSlave
	f.hdr.ConfigEpoch = 5
	for s := range 100 {
		f.hdr.Slots.Set(s)
	}
	out := f.dial(a.port + 10000)
	f.send(out, f.header(cluster.MsgMeet))

	// PONG to our MEET: the header describes A.
	pong := f.wait("PONG", 3*time.Second, ofType(cluster.MsgPong)).m
	if pong.Sender != aID {
		t.Errorf("PONG sender %q, CLUSTER MYID %q", pong.Sender, aID)
	}
	if want := a.info(t, "cluster_current_epoch"); strconv.FormatUint(pong.CurrentEpoch, 10) != want {
		t.Errorf("PONG currentEpoch %d, CLUSTER INFO %s", pong.CurrentEpoch, want)
	}
	if pong.ConfigEpoch != 5 {
		t.Errorf("PONG configEpoch %d, want 5", pong.ConfigEpoch)
	}
	if pong.Flags&^cluster.FlagMigrateTo != cluster.FlagMyself|cluster.FlagMaster {
		t.Errorf("PONG flags %#x", pong.Flags)
	}
	if pong.Port != a.port || pong.CPort != a.port+10000 || pong.PPort != 0 || pong.IP != "" {
		t.Errorf("PONG address %q port %d cport %d pport %d", pong.IP, pong.Port, pong.CPort, pong.PPort)
	}
	if pong.ReplicaOf != "" || pong.Slots.Count() != 100 || !pong.Slots.Has(0) || !pong.Slots.Has(99) {
		t.Errorf("PONG replicaof %q, %d slots", pong.ReplicaOf, pong.Slots.Count())
	}
	if want := a.info(t, "cluster_state"); (pong.State == cluster.StateOK) != (want == "ok") {
		t.Errorf("PONG state %d, CLUSTER INFO %s", pong.State, want)
	}
	if e, ok := pong.Ext(cluster.ExtHostname); !ok || e.Value != "host-a" || pong.MFlags[0] != cluster.MFlagExtData {
		t.Errorf("PONG hostname extension %+v, mflags %v", pong.Exts, pong.MFlags)
	}

	// A dials our cport and pings; its gossip (random picks) tells us
	// about B sooner or later.
	var g cluster.Gossip
	f.wait("PING from A with gossip about B", 5*time.Second, func(m *cluster.Msg) bool {
		if m.Type != cluster.MsgPing || m.Sender != aID {
			return false
		}
		for _, e := range m.Gossip {
			if e.Name == bID {
				g = e
				return true
			}
		}
		return false
	})
	if g.Name != bID || g.Port != b.port || g.CPort != b.port+10000 || g.IP != "127.0.0.1" ||
		g.Flags != cluster.FlagMaster || g.PongReceived == 0 {
		t.Errorf("gossip %+v, want B %s :%d", g, bID, b.port)
	}

	// A now knows the fake node under its name, as a replica of A, with
	// the hostname from our extension.
	eventually(t, 5*time.Second, func() error {
		want := fmt.Sprintf("%s 127.0.0.1:%d@%d,fake-node.example slave %s ", f.hdr.Sender,
			f.hdr.Port, f.hdr.CPort, aID)
		if l := a.nodesLine(t, f.hdr.Sender); !strings.HasPrefix(l, want) || !strings.HasSuffix(l, " connected") {
			f.send(out, f.header(cluster.MsgPing))
			return fmt.Errorf("A lists the fake node as %q, want %q...connected", l, want)
		}
		return nil
	})

	// CLUSTER MEET towards the fake node: A dials it and sends MEET.
	a.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(f.hdr.Port), strconv.Itoa(f.hdr.CPort))
	meet := f.wait("MEET", 3*time.Second, func(m *cluster.Msg) bool {
		return m.Type == cluster.MsgMeet && m.Sender == aID
	}).m
	// MIGRATE_TO may be set: A has a replica (us).
	if meet.Sender != aID || meet.Flags&^cluster.FlagMigrateTo != cluster.FlagMyself|cluster.FlagMaster {
		t.Errorf("MEET from %s flags %#x", meet.Sender, meet.Flags)
	}

	// PUBLISH both ways.
	sub := a.c.Subscribe(context.Background(), "news")
	defer sub.Close()
	if _, err := sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub := f.header(cluster.MsgPublish)
	pub.Publish = &cluster.Publish{Channel: []byte("news"), Message: []byte("from the fake node")}
	f.send(out, pub)
	if msg, err := sub.ReceiveMessage(context.Background()); err != nil || msg.Payload != "from the fake node" {
		t.Errorf("subscriber on A got %v, %v", msg, err)
	}
	a.do(t, "PUBLISH", "news", "hello")
	p := f.wait("PUBLISH", 3*time.Second, ofType(cluster.MsgPublish)).m
	if string(p.Publish.Channel) != "news" || string(p.Publish.Message) != "hello" {
		t.Errorf("PUBLISH %q %q", p.Publish.Channel, p.Publish.Message)
	}
	a.do(t, "SPUBLISH", "{06S}x", "shard hello") // slot 0, served by A
	p = f.wait("PUBLISHSHARD", 3*time.Second, ofType(cluster.MsgPublishShard)).m
	if string(p.Publish.Channel) != "{06S}x" || string(p.Publish.Message) != "shard hello" {
		t.Errorf("PUBLISHSHARD %q %q", p.Publish.Channel, p.Publish.Message)
	}

	// Claiming B's slot 200 at an older config epoch earns an UPDATE.
	stale := f.header(cluster.MsgPing)
	stale.Slots.Set(200)
	f.send(out, stale)
	u := f.wait("UPDATE", 3*time.Second, ofType(cluster.MsgUpdate)).m.Update
	if u.Node != bID || u.ConfigEpoch != 6 || u.Slots.Count() != 1 || !u.Slots.Has(200) {
		t.Errorf("UPDATE about %s epoch %d, %d slots", u.Node, u.ConfigEpoch, u.Slots.Count())
	}

	// A vote, forced (as in a manual failover) since A is up.
	req := f.header(cluster.MsgFailoverAuthRequest)
	epoch, _ := strconv.ParseUint(a.info(t, "cluster_current_epoch"), 10, 64)
	req.CurrentEpoch = epoch + 1
	req.Slots = cluster.Slots{}
	req.MFlags[0] = cluster.MFlagForceAck
	f.send(out, req)
	ack := f.wait("FAILOVER_AUTH_ACK", 3*time.Second, ofType(cluster.MsgFailoverAuthAck)).m
	if ack.Sender != aID || ack.CurrentEpoch != epoch+1 {
		t.Errorf("AUTH_ACK from %s epoch %d, want epoch %d", ack.Sender, ack.CurrentEpoch, epoch+1)
	}

	// C stops; A and B (the masters with slots) agree it failed, and one
	// of them broadcasts FAIL.
	c.cmd.Process.Kill()
	fail := f.wait("FAIL", 5*time.Second, ofType(cluster.MsgFail)).m
	if fail.Fail.About != cID || (fail.Sender != aID && fail.Sender != bID) {
		t.Errorf("FAIL about %s from %s, want C %s", fail.Fail.About, fail.Sender, cID)
	}
}
