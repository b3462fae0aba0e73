package replication

// Oracle tests against a real redis-server (7.0.15 when written): skipped
// when redis-server is not installed.

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/aof"
	"redgo/internal/rdb/rdbtest"
)

// startRedis runs redis-server (the oracle) on a free port.
func startRedis(t *testing.T, args ...string) int { return startRedisLog(t, args...).Port }

func startRedisLog(t *testing.T, args ...string) *rdbtest.Redis {
	return rdbtest.StartRedis(t, t.TempDir(), args...)
}

func addrOf(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// recorder keeps the bytes that went one way through the proxy.
type recorder struct {
	mu  sync.Mutex
	buf []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf = append(r.buf, p...)
	r.mu.Unlock()
	return len(p), nil
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf...)
}

// proxy forwards each connection to its port to target and records both
// directions of each: what the replica sent (up) and what the master
// sent (down).
type proxy struct {
	port  int
	mu    sync.Mutex
	conns []capturedRec
}

type capturedRec struct{ up, down *recorder }

func startProxy(t *testing.T, target int) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{port: ln.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m, err := net.Dial("tcp", addrOf(target))
			if err != nil {
				c.Close()
				return
			}
			t.Cleanup(func() { c.Close(); m.Close() })
			rec := capturedRec{&recorder{}, &recorder{}}
			p.mu.Lock()
			p.conns = append(p.conns, rec)
			p.mu.Unlock()
			go func() { io.Copy(io.MultiWriter(m, rec.up), c); m.Close() }()
			go func() { io.Copy(io.MultiWriter(c, rec.down), m); c.Close() }()
		}
	}()
	return p
}

// captured returns the first n connections' bytes so far.
func (p *proxy) captured(n int) []capturedConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []capturedConn
	for _, c := range p.conns[:n] {
		out = append(out, capturedConn{down: c.down.bytes(), up: c.up.bytes()})
	}
	return out
}

func (p *proxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// redisCmd sends one command over a fresh connection and returns the
// first reply line (without CRLF); "" after a second without a reply.
func redisCmd(t *testing.T, port int, args ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.Write([]byte(b.String()))
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

// infoField returns one field of INFO replication.
func infoField(t *testing.T, port int, field string) string {
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("INFO replication\r\n"))
	r := bufio.NewReader(c)
	head, _ := r.ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	body := make([]byte, n+2)
	io.ReadFull(r, body)
	for _, l := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// TestREPLCONFRepliesMatchRedis sends each REPLCONF (as a client that is
// not a replica) to redis-server and compares its reply with ours; for
// ACK and GETACK, which get none, a PING follows and must be answered
// first.
func TestREPLCONFRepliesMatchRedis(t *testing.T) {
	port := startRedis(t)
	for _, args := range [][]string{
		{}, {"listening-port", "6380"}, {"listening-port", "abc"}, {"listening-port", "-5"},
		{"listening-port", "99999999999999999999"}, {"capa"}, {"capa", "eof", "capa", "psync2", "capa", "x"},
		{"foo", "bar"}, {"LISTENING-PORT", "1", "foo", "bar"}, {"rdb-only", "2"}, {"rdb-only", "x"},
		{"rdb-only", "0"}, {"rdb-filter-only", "bogus"}, {"rdb-filter-only", "functions"},
		{"rdb-filter-only", ""}, {"ip-address", strings.Repeat("a", 256)}, {"ip-address", strings.Repeat("a", 255)},
		{"ack", "5"}, {"ack", "x"}, {"getack", "*"}, {"ack", "5", "fack", "3"},
	} {
		_, want := ParseREPLCONF(cmd(args...), false)
		got := redisLines(t, port, 1, append([]string{"REPLCONF"}, args...), []string{"PING"})
		if want == "" {
			want = "+PONG"
		}
		if got[0] != want {
			t.Errorf("REPLCONF %.40q: redis %q, ours %q", args, got[0], want)
		}
	}
	// PSYNC's offset.
	_, want, _ := ParsePSYNC(cmd("abc", "x"), "")
	if got := redisLines(t, port, 1, []string{"PSYNC", "abc", "x"}); got[0] != want {
		t.Errorf("PSYNC abc x: redis %q, ours %q", got[0], want)
	}
}

// redisLines sends commands on one connection and reads n reply lines.
func redisLines(t *testing.T, port, n int, cmds ...[]string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b []byte
	for _, a := range cmds {
		b = aof.AppendCommandStrings(b, a...)
	}
	c.Write(b)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	var out []string
	for i := 0; i < n; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v", cmds, err)
		}
		out = append(out, strings.TrimRight(line, "\r\n"))
	}
	return out
}

var update = flag.Bool("update", false, "rewrite the testdata transcripts from redis-server")

// redisLogLines turns Redis log lines ("pid:S 02 Dec 2026 21:50:01.123 # text")
// into ours ("# text"; "text" for the notice level).
func redisLogLines(raw []byte) []string {
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.SplitN(l, " ", 7)
		if len(f) < 7 || !strings.Contains(f[0], ":") {
			continue
		}
		if f[5] == "#" {
			out = append(out, "# "+f[6])
		} else {
			out = append(out, f[6])
		}
	}
	return out
}

// handshakeScenario is one captured replication link.
type handshakeScenario struct {
	name, about     string
	master, replica []string // extra redis-server arguments
	auth, ip        string   // the replica's masterauth, replica-announce-ip
	conns           int      // complete connections to keep
	drive           func(t *testing.T, master, replica int, p *proxy)
}

func linkUp(t *testing.T, replica int) {
	rdbtest.Eventually(t, 10*time.Second, func() error {
		if s := infoField(t, replica, "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status %q", s)
		}
		return nil
	})
}

func offsetIs(t *testing.T, replica int, want string) {
	rdbtest.Eventually(t, 10*time.Second, func() error {
		if s := infoField(t, replica, "master_repl_offset"); s != want {
			return fmt.Errorf("master_repl_offset %q, want %s", s, want)
		}
		return nil
	})
}

func connections(t *testing.T, p *proxy, n int) {
	rdbtest.Eventually(t, 10*time.Second, func() error {
		if c := p.count(); c < n {
			return fmt.Errorf("%d connections, want %d", c, n)
		}
		return nil
	})
}

var handshakeScenarios = []handshakeScenario{
	{name: "diskless-psync",
		about:  "redis-server 7.0.15 master (--repl-diskless-sync yes --repl-diskless-sync-delay 0), replica (--replicaof <proxy> --replica-announce-ip 10.0.0.9); SET k v on the master; CLIENT KILL TYPE master on the replica; SET k w",
		master: []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"},
		ip:     "10.0.0.9",
		conns:  2,
		drive: func(t *testing.T, master, replica int, p *proxy) {
			linkUp(t, replica)
			redisCmd(t, master, "SET", "k", "v")
			offsetIs(t, replica, "50")
			redisCmd(t, replica, "CLIENT", "KILL", "TYPE", "master")
			connections(t, p, 2)
			linkUp(t, replica)
			redisCmd(t, master, "SET", "k", "w")
			offsetIs(t, replica, "77")
		}},
	{name: "disk-auth",
		about:  "redis-server 7.0.15 master (--requirepass secret --repl-diskless-sync no), replica (--replicaof <proxy> --masterauth secret)",
		master: []string{"--requirepass", "secret", "--repl-diskless-sync", "no"},
		auth:   "secret",
		conns:  1,
		drive:  func(t *testing.T, master, replica int, p *proxy) { linkUp(t, replica) }},
	{name: "noauth",
		about:  "redis-server 7.0.15 master (--requirepass secret), replica (--replicaof <proxy>) without masterauth",
		master: []string{"--requirepass", "secret"},
		conns:  1,
		drive:  func(t *testing.T, master, replica int, p *proxy) { connections(t, p, 2) }},
	{name: "nomasterlink",
		about:  "redis-server 7.0.15 master (--replicaof 127.0.0.1 <a closed port>), replica (--replicaof <proxy>)",
		master: []string{"--replicaof", "127.0.0.1", "1"},
		conns:  1,
		drive:  func(t *testing.T, master, replica int, p *proxy) { connections(t, p, 2) }},
}

// TestRedisHandshakeTranscripts runs each scenario between two real
// redis-servers through a recording proxy and replays it into a Replica
// (with -update, it rewrites testdata/redis7.0-<name>.txt).
func TestRedisHandshakeTranscripts(t *testing.T) {
	for _, sc := range handshakeScenarios {
		t.Run(sc.name, func(t *testing.T) {
			master := startRedis(t, sc.master...)
			p := startProxy(t, master)
			args := []string{"--replicaof", "127.0.0.1", strconv.Itoa(p.port)}
			if sc.auth != "" {
				args = append(args, "--masterauth", sc.auth)
			}
			if sc.ip != "" {
				args = append(args, "--replica-announce-ip", sc.ip)
			}
			rr := startRedisLog(t, args...)
			replica := rr.Port
			sc.drive(t, master, replica, p)
			time.Sleep(100 * time.Millisecond)
			tr := &transcript{about: sc.about, conns: p.captured(sc.conns), logs: redisLogLines(rr.Log()),
				cfg: ReplicaConfig{Host: "127.0.0.1", Port: p.port, AnnounceIP: sc.ip, MasterAuth: sc.auth,
					ListeningPort: replica, Timeout: 60000}}
			checkTranscript(t, tr)
			if *update {
				tr.logs = tr.logs[:min(len(tr.logs), 40)] // enough for the connections kept
				os.WriteFile("testdata/redis7.0-"+sc.name+".txt", tr.format(), 0o644)
			}
		})
	}
}

// TestDecideMatchesRedis asks a real redis-server for partial resyncs
// and compares its answers (and log lines) with Decide's on the state
// its INFO replication shows. The server is a promoted replica, so it
// has a secondary ID: A is a master, B its replica; after writes B gets
// REPLICAOF NO ONE and takes writes of its own.
func TestDecideMatchesRedis(t *testing.T) {
	a := startRedis(t)
	br := startRedisLog(t, "--replicaof", "127.0.0.1", strconv.Itoa(a), "--repl-diskless-sync", "no")
	b := br.Port
	linkUp(t, b)
	for i := 0; i < 5; i++ {
		redisCmd(t, a, "SET", "k"+strconv.Itoa(i), "v")
	}
	rdbtest.Eventually(t, 10*time.Second, func() error {
		if x, y := infoField(t, a, "master_repl_offset"), infoField(t, b, "master_repl_offset"); x != y {
			return fmt.Errorf("offsets %s and %s", x, y)
		}
		return nil
	})
	redisCmd(t, b, "REPLICAOF", "NO", "ONE")
	for i := 0; i < 3; i++ {
		redisCmd(t, b, "SET", "b"+strconv.Itoa(i), "v")
	}
	num := func(f string) int64 {
		n, err := strconv.ParseInt(infoField(t, b, f), 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		return n
	}
	ids := IDs{ID: infoField(t, b, "master_replid"), ID2: infoField(t, b, "master_replid2"), SecondOffset: num("second_repl_offset")}
	bl := BacklogInfo{Offset: num("master_repl_offset"), FirstByte: num("repl_backlog_first_byte_offset"),
		HistLen: num("repl_backlog_histlen"), Size: int(num("repl_backlog_size"))}
	if ids.SecondOffset <= 1 || bl.Offset <= ids.SecondOffset {
		t.Fatalf("no history to test with: %+v %+v", ids, bl)
	}
	other := strings.Repeat("c", IDLen)
	reqs := []struct {
		id  string
		off int64
	}{
		{"?", -1}, {ids.ID, bl.FirstByte}, {ids.ID, bl.Offset + 1}, {ids.ID, bl.Offset + 2},
		{ids.ID, bl.FirstByte - 1}, {ids.ID2, ids.SecondOffset}, {ids.ID2, ids.SecondOffset + 1},
		{strings.ToUpper(ids.ID), bl.Offset - 3}, {other, bl.FirstByte},
	}
	for i, q := range reqs {
		port := int64(9000 + i)
		d := Decide(ids, bl, true, PSYNC{ReplID: q.id, Offset: q.off, Capa: CapaPSYNC2,
			Replica: ReplicaName("127.0.0.1", "", port)})
		line, n := psyncRedis(t, b, port, q.id, q.off, d.Len)
		t.Logf("PSYNC %s %d: %q %d", q.id, q.off, line, n)
		if d.Continue != strings.HasPrefix(line, "+CONTINUE") || d.Continue && (line+"\r\n" != d.Reply || n != d.Len) {
			t.Errorf("PSYNC %s %d: redis %q then %d bytes; ours %+v", q.id, q.off, line, n, d)
		}
		rdbtest.Eventually(t, 5*time.Second, func() error {
			logs := strings.Join(redisLogLines(br.Log()), "\n")
			for _, l := range d.Log {
				if !strings.Contains(logs, l) {
					return fmt.Errorf("PSYNC %s %d: log line %q not in redis's log:\n%s", q.id, q.off, l, logs)
				}
			}
			return nil
		})
	}
}

// psyncRedis sends REPLCONF listening-port, capa psync2 and PSYNC on a new
// connection and returns PSYNC's reply line and, after +CONTINUE, how many
// bytes followed within a short wait (expecting want).
func psyncRedis(t *testing.T, port int, lport int64, id string, off, want int64) (string, int64) {
	c, err := net.Dial("tcp", addrOf(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// One at a time: PSYNC after unread replies is refused (pending output).
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	var line string
	for _, cmd := range [][]string{{"REPLCONF", "listening-port", strconv.FormatInt(lport, 10)},
		{"REPLCONF", "capa", "psync2"}, {"PSYNC", id, strconv.FormatInt(off, 10)}} {
		c.Write(aof.AppendCommandStrings(nil, cmd...))
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatalf("PSYNC %s %d: %v", id, off, err)
		}
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "+CONTINUE") {
		return line, 0
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	n, _ := io.Copy(io.Discard, r)
	return line, n
}
