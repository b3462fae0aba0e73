package replication

// A real redis-server 7.0 replica served by the master-side core: a small
// test driver (the wiring the server will do, cut to the bone) answers
// PING, REPLCONF and PSYNC with ParseREPLCONF and Decide, sends an empty
// RDB after +FULLRESYNC, and streams the Backlog with Send. Writes fed to
// the Backlog must reach the replica, with its offset equal to ours,
// across a partial resynchronization.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"redgo/internal/rdb"
	"redgo/internal/rdb/rdbtest"
	"redgo/internal/resp"
)

// testMaster is the test's master driver around a Backlog and IDs.
type testMaster struct {
	bl       *Backlog
	ids      IDs
	diskless bool         // frame the snapshot with $EOF:<mark>
	acked    atomic.Int64 // the last REPLCONF ACK
	mu       sync.Mutex
	logs     []string
	stop     chan struct{}
}

func (m *testMaster) log(lines ...string) {
	m.mu.Lock()
	m.logs = append(m.logs, lines...)
	m.mu.Unlock()
}

func (m *testMaster) serve(t *testing.T, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go m.conn(t, c)
	}
}

// conn runs one replica's connection: commands until PSYNC, then the
// stream, while ACKs keep coming.
func (m *testMaster) conn(t *testing.T, c net.Conn) {
	defer c.Close()
	var buf []byte
	var capa Capa
	var port int64
	isReplica := false
	firstAck := make(chan struct{})
	var once sync.Once
	tmp := make([]byte, 4096)
	for {
		args, n, _, err := resp.Parse(buf, nil, resp.Limits{MaxBulkLen: 1 << 20})
		if errors.Is(err, resp.ErrIncomplete) {
			k, err := c.Read(tmp)
			if err != nil {
				return
			}
			buf = append(buf, tmp[:k]...)
			continue
		} else if err != nil {
			return
		}
		buf = buf[n:]
		if len(args) == 0 {
			continue // a newline: the replica is alive
		}
		switch strings.ToUpper(string(args[0])) {
		case "PING":
			c.Write([]byte("+PONG\r\n"))
		case "REPLCONF":
			rc, reply := ParseREPLCONF(args[1:], isReplica)
			capa |= rc.Capa
			if rc.HasPort {
				port = rc.Port
			}
			if rc.Ack {
				m.acked.Store(rc.AckOffset)
				once.Do(func() { close(firstAck) })
			}
			if reply != "" {
				c.Write([]byte(reply + "\r\n"))
			}
		case "PSYNC":
			p, reply, _ := ParsePSYNC(args[1:], ReplicaName("127.0.0.1", "", port))
			if reply != "" {
				c.Write([]byte(reply + "\r\n"))
				continue
			}
			p.Capa = capa
			isReplica = true
			go m.psync(c, p, firstAck)
		}
	}
}

// psync answers PSYNC and streams.
func (m *testMaster) psync(c net.Conn, p PSYNC, firstAck chan struct{}) {
	d := Decide(m.ids, m.bl.Info(), true, p)
	m.log(d.Log...)
	from := d.From
	if d.Continue {
		c.Write([]byte(d.Reply))
	} else {
		from = m.bl.MarkFullSync() // the (empty) snapshot's instant
		var snap bytes.Buffer
		w := rdb.NewWriter(&snap)
		w.Header([]rdb.Aux{{Key: "redis-ver", Val: "7.0.15"}}, false)
		w.Finish()
		c.Write([]byte(FullResyncReply(m.ids.ID, from)))
		if m.diskless && p.Capa&CapaEOF != 0 {
			mark := NewID(rand.Reader)
			c.Write([]byte("$EOF:" + mark + "\r\n" + snap.String() + mark))
			<-firstAck // a replica saving to disk looks for the mark at the end of a read
		} else {
			c.Write([]byte("$" + strconv.Itoa(snap.Len()) + "\r\n" + snap.String()))
		}
	}
	send(m.bl, c, from, m.stop)
}

// send writes the stream after offset from to w until stop is closed or
// an error (a replica link without the server's lead writes).
func send(b *Backlog, w io.Writer, from int64, stop <-chan struct{}) {
	buf := make([]byte, sendBuf)
	for {
		n, next, err := b.ReadFrom(from, buf)
		if err != nil {
			return
		}
		if n == 0 {
			select {
			case <-b.Wait(from):
				continue
			case <-stop:
				return
			}
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
		from = next
	}
}

func TestRedisReplicaOfOurMaster(t *testing.T) {
	for _, diskless := range []bool{false, true} {
		t.Run(fmt.Sprintf("diskless=%v", diskless), func(t *testing.T) {
			rdbtest.SkipWithoutRedis(t)
			m := &testMaster{bl: NewBacklog(1<<20, 0), diskless: diskless, stop: make(chan struct{})}
			m.ids = NewIDs(rand.Reader)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { close(m.stop); ln.Close() })
			go m.serve(t, ln)
			rr := startRedisLog(t, "--replicaof", "127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
			linkUp(t, rr.Port)

			m.bl.Feed(0, [][][]byte{cmd("SET", "k", "v")})
			m.bl.Feed(3, [][][]byte{cmd("MULTI"), cmd("SET", "x", "1"), cmd("SELECT", "4"), cmd("INCR", "n"), cmd("EXEC")})
			m.bl.FeedPing()
			caughtUp(t, m, rr.Port)
			want := map[string]string{"0 k": "v", "3 x": "1", "4 n": "1"}
			checkKeys(t, rr.Port, want)

			// Partial resynchronization: the replica drops the link, writes go on.
			redisCmd(t, rr.Port, "CLIENT", "KILL", "TYPE", "master")
			m.bl.Feed(4, [][][]byte{cmd("INCR", "n")})
			rdbtest.Eventually(t, 10*time.Second, func() error {
				if !strings.Contains(string(rr.Log()), "Successful partial resynchronization with master.") {
					return errors.New("no partial resynchronization in the replica's log")
				}
				return nil
			})
			caughtUp(t, m, rr.Port)
			want["4 n"] = "2"
			checkKeys(t, rr.Port, want)
			m.mu.Lock()
			defer m.mu.Unlock()
			if len(m.logs) != 2 || !strings.HasPrefix(m.logs[0], "Full resync requested by replica 127.0.0.1:") ||
				!strings.HasPrefix(m.logs[1], "Partial resynchronization request from 127.0.0.1:") {
				t.Errorf("master's log: %q", m.logs)
			}
		})
	}
}

// caughtUp waits until the replica's offset, and its ACK, are ours.
func caughtUp(t *testing.T, m *testMaster, replica int) {
	want := strconv.FormatInt(m.bl.Offset(), 10)
	offsetIs(t, replica, want)
	rdbtest.Eventually(t, 10*time.Second, func() error {
		if got := m.acked.Load(); got != m.bl.Offset() {
			return fmt.Errorf("acked %d, want %d", got, m.bl.Offset())
		}
		return nil
	})
}

// checkKeys reads "db key" → value from the replica.
func checkKeys(t *testing.T, port int, want map[string]string) {
	for k, v := range want {
		db, key, _ := strings.Cut(k, " ")
		got := redisLines(t, port, 3, []string{"SELECT", db}, []string{"GET", key})
		if got[1] != "$"+strconv.Itoa(len(v)) || got[2] != v {
			t.Errorf("db %s %s: %q", db, key, got)
		}
	}
}
