package replication

// Scenario tests of the Replica: each file in testdata/replica is a
// transcript of events (one a line) each followed by the actions it
// returned ("> " lines). -rewrite regenerates the actions; review the
// diff. Events:
//
//	config host=H port=P auth=A user=U ip=IP lport=N timeout=MS failover=1
//	cache-myself <offset>       dialed [<error>]      line "<quoted line>"
//	tick <now>                  payload-done [<error>|truncated]
//	applied <offset>            lost <error>          stop <offset>
//	progress <bytes received>   state    (the state, IDs and masters)
//	info                        (INFO replication's fields, LinkInfo)
//
// The clock advances 10ms per event unless tick sets it.

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected actions in testdata/replica")

type scenario struct {
	r   *Replica
	ids *IDs
	now int64
	rnd *rand.Rand
}

func (s *scenario) run(t *testing.T, line string) []string {
	verb, arg, _ := strings.Cut(line, " ")
	s.now += 10
	var acts []Action
	switch verb {
	case "config":
		s.config(t, arg)
		return nil
	case "cache-myself":
		acts = s.r.CacheMyself(atoi(t, arg))
	case "tick":
		s.now = atoi(t, arg)
		acts = s.r.Tick(s.now)
	case "dialed":
		acts = s.r.Dialed(s.now, errOf(arg))
	case "line":
		l, err := strconv.Unquote(arg)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		acts = s.r.Line(s.now, l)
	case "payload-done":
		err := errOf(arg)
		if arg == "truncated" {
			err = ErrTruncated
		}
		acts = s.r.PayloadDone(s.now, err)
	case "applied":
		s.r.Applied(s.now, atoi(t, arg))
	case "lost":
		acts = s.r.LinkLost(s.now, errOf(arg))
	case "stop":
		acts = s.r.Stop(atoi(t, arg), s.rnd)
	case "state":
		return []string{s.state()}
	case "progress":
		s.r.PayloadProgress(s.now, atoi(t, arg))
	case "info":
		return []string{fmt.Sprintf("info %+v", s.r.Info(s.now))}
	default:
		t.Fatalf("unknown event %q", line)
	}
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = a.String()
	}
	return out
}

func (s *scenario) config(t *testing.T, arg string) {
	cfg := ReplicaConfig{Host: "127.0.0.1", Port: 6379, ListeningPort: 6380, Timeout: 60000}
	for _, kv := range strings.Fields(arg) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "host":
			cfg.Host = v
		case "port":
			cfg.Port = int(atoi(t, v))
		case "auth":
			cfg.MasterAuth = v
		case "user":
			cfg.MasterUser = v
		case "ip":
			cfg.AnnounceIP = v
		case "lport":
			cfg.ListeningPort = int(atoi(t, v))
		case "timeout":
			cfg.Timeout = atoi(t, v)
		case "id":
			s.ids.ID = v
		case "failover": // the first PSYNC carries FAILOVER
			cfg.Failover = v == "1"
		case "load": // repl-diskless-load
			cfg.DisklessLoad, cfg.SwapDB = v != "disabled", v == "swapdb"
		}
	}
	s.r = NewReplica(cfg, s.ids)
}

func (s *scenario) state() string {
	out := fmt.Sprintf("state=%v id=%s id2=%s second=%d", s.r.State(), short(s.ids.ID), short(s.ids.ID2), s.ids.SecondOffset)
	if m, ok := s.r.Master(); ok {
		out += fmt.Sprintf(" master=%s:%d", short(m.ReplID), m.Offset)
	}
	if m, ok := s.r.Cached(); ok {
		out += fmt.Sprintf(" cached=%s:%d", short(m.ReplID), m.Offset)
	}
	return out + fmt.Sprintf(" down-since=%d", s.r.DownSince())
}

func short(id string) string { return id[:min(len(id), 8)] }

func errOf(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

func atoi(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

func TestReplicaScenarios(t *testing.T) {
	forEachFile(t, "testdata/replica/*.txt", func(t *testing.T, data []byte) {
		got, want := runScenario(t, data)
		if *rewrite {
			os.WriteFile(filepath.Join("testdata/replica", strings.TrimPrefix(t.Name(), "TestReplicaScenarios/")), []byte(got), 0o644)
		} else if got != want {
			t.Errorf("actions differ (-rewrite to accept):\n%s", diffLines(want, got))
		}
	})
}

// runScenario runs a scenario's events and returns the transcript with
// the actions they returned, and the transcript as written.
func runScenario(t *testing.T, data []byte) (got, want string) {
	s := &scenario{ids: &IDs{ID: NoID, ID2: NoID, SecondOffset: -1}, rnd: rand.New(rand.NewSource(1))}
	var out, exp []string
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "> ") {
			exp = append(exp, line)
			continue
		}
		out, exp = append(out, line), append(exp, line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, a := range s.run(t, line) {
			out = append(out, "> "+a)
		}
	}
	return strings.Join(out, "\n") + "\n", strings.Join(exp, "\n") + "\n"
}

// diffLines shows the first line where two transcripts differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want %s\n  got %s", i+1, a, b)
		}
	}
	return ""
}
