package replication

// Transcripts of real replication links: what a redis-server 7.0 master
// sent on each connection, what its redis-server replica sent back, and
// what the replica logged. The runner replays the master's bytes into a
// Replica and checks that it sends the same bytes and logs the same lines
// (in order; Redis logs more: loading, persistence). The files in
// testdata were captured by TestRedisHandshakeTranscripts (-update
// rewrites them); each starts with the commands that produced it.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"redgo/internal/aof"
)

// transcript is one captured scenario.
type transcript struct {
	about string // how it was produced
	cfg   ReplicaConfig
	conns []capturedConn
	logs  []string // the replica's log, "# " marking warnings
}

type capturedConn struct{ down, up []byte }

func (tr *transcript) format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", tr.about)
	fmt.Fprintf(&b, "config %s %d %q %q %q\n", tr.cfg.Host, tr.cfg.Port, tr.cfg.AnnounceIP, tr.cfg.MasterAuth,
		strconv.Itoa(tr.cfg.ListeningPort))
	for _, c := range tr.conns {
		fmt.Fprintf(&b, "down %q\nup %q\n", c.down, c.up)
	}
	for _, l := range tr.logs {
		fmt.Fprintf(&b, "log %s\n", l)
	}
	return b.Bytes()
}

func parseTranscript(t *testing.T, data []byte) *transcript {
	tr := &transcript{}
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		kind, rest, _ := strings.Cut(line, " ")
		var err error
		switch kind {
		case "#":
			tr.about = rest
		case "config":
			var ip, auth, lport string
			_, err = fmt.Sscanf(rest, "%s %d %q %q %q", &tr.cfg.Host, &tr.cfg.Port, &ip, &auth, &lport)
			tr.cfg.AnnounceIP, tr.cfg.MasterAuth = ip, auth
			tr.cfg.ListeningPort, _ = strconv.Atoi(lport)
		case "down":
			var s string
			s, err = strconv.Unquote(rest)
			tr.conns = append(tr.conns, capturedConn{down: []byte(s)})
		case "up":
			var s string
			s, err = strconv.Unquote(rest)
			tr.conns[len(tr.conns)-1].up = []byte(s)
		case "log":
			tr.logs = append(tr.logs, rest)
		}
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	}
	tr.cfg.Timeout = 60000
	return tr
}

// replay drives a Replica through the transcript and returns, per
// connection, the bytes it sent, and every line it logged.
func replay(t *testing.T, tr *transcript) (sent [][]byte, logs []string) {
	ids := &IDs{ID: NoID, ID2: NoID, SecondOffset: -1}
	r := NewReplica(tr.cfg, ids)
	now := int64(1000)
	var out []byte
	do := func(acts []Action) (receive *Bulk, stream bool) {
		for _, a := range acts {
			switch a.Kind {
			case ActSend:
				out = append(out, a.Data...)
			case ActLog:
				logs = append(logs, a.Text)
			case ActReceive:
				b := a.Bulk
				receive = &b
			case ActStream:
				stream = true
			}
		}
		return
	}
	do(r.Tick(now))
	for i, c := range tr.conns {
		if r.State() != StateConnecting {
			t.Fatalf("connection %d: state %v, want connecting", i+1, r.State())
		}
		out = nil
		do(r.Dialed(now, nil))
		rd := bufio.NewReader(bytes.NewReader(c.down))
		replayConn(t, r, rd, &now, do)
		if r.State() != StateConnecting && i+1 < len(tr.conns) {
			do(r.LinkLost(now, io.EOF)) // the link Redis closed or lost
		}
		sent = append(sent, out)
	}
	return sent, logs
}

// replayConn feeds one connection's bytes from the master: reply lines,
// then the snapshot, then the stream.
func replayConn(t *testing.T, r *Replica, rd *bufio.Reader, now *int64, do func([]Action) (*Bulk, bool)) {
	for r.State() != StateConnecting {
		*now += 10
		if r.State() == StateConnected {
			applyStream(t, r, rd, *now)
			return
		}
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		b, stream := do(r.Line(*now, strings.TrimSuffix(line, "\r\n")))
		if b != nil {
			p := NewPayloadReader(rd, *b)
			_, err := io.Copy(io.Discard, p)
			rd = bufio.NewReader(io.MultiReader(bytes.NewReader(p.Rest()), rd))
			_, stream = do(r.PayloadDone(*now, err))
		}
		if stream {
			applyStream(t, r, rd, *now)
			return
		}
	}
}

// applyStream counts the stream's whole commands and reports the offset.
func applyStream(t *testing.T, r *Replica, rd io.Reader, now int64) {
	m, _ := r.Master()
	sc := aof.NewScanner(rd, 0, 1<<40)
	for {
		if _, err := sc.Next(); err != nil {
			break
		}
		r.Applied(now, m.Offset+sc.Offset())
	}
}

// checkTranscript compares a replay with what Redis did.
func checkTranscript(t *testing.T, tr *transcript) {
	sent, logs := replay(t, tr)
	for i, c := range tr.conns {
		if !bytes.HasPrefix(c.up, sent[i]) {
			t.Errorf("connection %d:\n ours  %q\n redis %q", i+1, sent[i], c.up)
			continue
		}
		if extra := c.up[len(sent[i]):]; !onlyAcks(extra) {
			t.Errorf("connection %d: redis sent more than ACKs after ours: %q", i+1, extra)
		}
	}
	j := 0
	for _, l := range logs {
		for j < len(tr.logs) && tr.logs[j] != l {
			j++
		}
		if j == len(tr.logs) {
			t.Errorf("log line %q not in Redis's log (in this order):\n%s", l, strings.Join(tr.logs, "\n"))
			return
		}
		j++
	}
}

// onlyAcks reports whether b holds nothing but REPLCONF ACK commands (the
// ones replicationCron sends each second).
func onlyAcks(b []byte) bool {
	sc := aof.NewScanner(bytes.NewReader(b), 0, int64(len(b)))
	for sc.Offset() < int64(len(b)) {
		c, err := sc.Next()
		if err != nil || len(c) != 3 || string(c[0]) != "REPLCONF" || string(c[1]) != "ACK" {
			return false
		}
	}
	return true
}

func TestTranscripts(t *testing.T) {
	forEachFile(t, "testdata/redis7.0-*.txt", func(t *testing.T, data []byte) {
		checkTranscript(t, parseTranscript(t, data))
	})
}

// forEachFile runs fn on the content of each file matching pattern, as a
// subtest named after the file.
func forEachFile(t *testing.T, pattern string, fn func(t *testing.T, data []byte)) {
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no %s", pattern)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, data)
		})
	}
}
