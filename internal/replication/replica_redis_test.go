package replication

// The replica-side core against a real redis-server 7.0 master: a small
// test driver carries out the Actions of a Replica (dial, send, receive
// the snapshot through a PayloadReader, apply the stream) as the package
// doc asks of the server. The master must see the replica online at the
// offset it acknowledged, and a dropped link must resume with a partial
// resynchronization.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/aof"
	"redgo/internal/rdb/rdbtest"
)

// testReplica drives a Replica over real connections. mu serializes the
// Replica between the reading goroutine and the ticker.
type testReplica struct {
	mu      sync.Mutex
	r       *Replica
	conn    net.Conn
	applied [][]string // the stream's commands, in order
	logs    []string
}

func now() int64 { return time.Now().UnixMilli() }

// do carries out actions (mu held); it returns the connection to read
// when the link needs reading.
func (d *testReplica) do(acts []Action) {
	for _, a := range acts {
		switch a.Kind {
		case ActDial:
			c, err := net.Dial("tcp", a.Addr)
			d.conn = c
			d.do(d.r.Dialed(now(), err))
			if err == nil {
				go d.read(c)
			}
		case ActSend:
			d.conn.Write(a.Data)
		case ActClose:
			if d.conn != nil {
				d.conn.Close()
			}
		case ActLog:
			d.logs = append(d.logs, a.Text)
		}
	}
}

// read is one connection's reading goroutine: reply lines, the snapshot,
// then the stream.
func (d *testReplica) read(c net.Conn) {
	rd := bufio.NewReader(c)
	for {
		line, err := rd.ReadString('\n')
		d.mu.Lock()
		if err != nil {
			d.lost(c, err)
			d.mu.Unlock()
			return
		}
		acts := d.r.Line(now(), strings.TrimRight(line, "\r\n"))
		d.do(acts)
		if b, ok := find(acts, ActReceive); ok {
			d.mu.Unlock()
			p := NewPayloadReader(rd, b.Bulk)
			_, err := io.Copy(io.Discard, p)
			rd = bufio.NewReader(io.MultiReader(bytes.NewReader(p.Rest()), rd))
			d.mu.Lock()
			acts = d.r.PayloadDone(now(), err)
			d.do(acts)
		}
		d.mu.Unlock()
		if a, ok := find(acts, ActStream); ok {
			d.stream(c, rd, a.Offset)
			return
		}
		if _, ok := find(acts, ActClose); ok {
			return
		}
	}
}

// lost reports the loss of c if it is still the link (mu held).
func (d *testReplica) lost(c net.Conn, err error) {
	if d.conn == c {
		d.do(d.r.LinkLost(now(), err))
	}
}

// stream applies the master's stream after offset off: it records each
// command, answers GETACK and reports the offset.
func (d *testReplica) stream(c net.Conn, rd io.Reader, off int64) {
	sc := aof.NewScanner(rd, 0, 1<<40)
	for {
		args, err := sc.Next()
		d.mu.Lock()
		if err != nil {
			d.lost(c, err)
			d.mu.Unlock()
			return
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		d.applied = append(d.applied, cmd)
		if len(cmd) > 1 && strings.EqualFold(cmd[0], "REPLCONF") && strings.EqualFold(cmd[1], "GETACK") {
			d.do([]Action{d.r.Ack()})
		}
		d.r.Applied(now(), off+sc.Offset())
		d.mu.Unlock()
	}
}

func (d *testReplica) offset() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, _ := d.r.Master()
	return m.Offset
}

func TestOurReplicaOfRedis(t *testing.T) {
	master := startRedisLog(t, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
	ids := NewIDs(rand.Reader)
	d := &testReplica{r: NewReplica(ReplicaConfig{Host: "127.0.0.1", Port: master.Port, ListeningPort: 7777,
		AnnounceIP: "10.0.0.7", Timeout: 60000}, &ids)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // replicationCron
		defer wg.Done()
		for {
			d.mu.Lock()
			d.do(d.r.Tick(now()))
			d.mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		off := d.offset()
		d.mu.Lock()
		d.do(d.r.Stop(off, rand.Reader))
		d.mu.Unlock()
	})
	online(t, d, master.Port) // after the full resync
	redisCmd(t, master.Port, "SET", "k", "v")
	redisCmd(t, master.Port, "INCR", "n")
	online(t, d, master.Port)

	d.mu.Lock()
	d.conn.Close() // the link drops; the replica comes back with PSYNC
	d.mu.Unlock()
	redisCmd(t, master.Port, "DEL", "k")
	online(t, d, master.Port)
	rdbtest.Eventually(t, 10*time.Second, func() error {
		if log := string(master.Log()); !strings.Contains(log, "Partial resynchronization request from 10.0.0.7:7777 accepted") {
			return errors.New("no partial resynchronization in the master's log")
		}
		return nil
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	var writes []string
	for _, c := range d.applied {
		if c[0] != "PING" && c[0] != "REPLCONF" {
			writes = append(writes, strings.Join(c, " "))
		}
	}
	if got := strings.Join(writes, "; "); got != "SELECT 0; SET k v; INCR n; DEL k" {
		t.Errorf("applied %q", got)
	}
	if ids.ID != infoField(t, master.Port, "master_replid") {
		t.Errorf("our ID %s is not the master's", ids.ID)
	}
}

// online waits until the replica applied the master's whole stream and
// the master lists it online at that offset (from its REPLCONF ACK).
func online(t *testing.T, d *testReplica, master int) {
	rdbtest.Eventually(t, 10*time.Second, func() error {
		off := infoField(t, master, "master_repl_offset")
		if got := strconv.FormatInt(d.offset(), 10); got != off {
			return fmt.Errorf("applied up to %s, master at %s", got, off)
		}
		want := "ip=10.0.0.7,port=7777,state=online,offset=" + off + ","
		if s := infoField(t, master, "slave0"); !strings.HasPrefix(s, want) {
			return fmt.Errorf("master lists %q, want %s...", s, want)
		}
		return nil
	})
}
