package cluster

// The vote rules of clusterSendFailoverAuthIfNeeded, one by one, on a
// voter built by hand (vote.go).

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// voter is a master "aaa..." serving slots 0-99 at configEpoch 1, seeing
// master "fff..." (slots 100-199, configEpoch 2) FAIL with replicas
// "ggg..." and "hhh...", and master "ooo..." up; every node is linked.
func voter(t *testing.T) (*Membership, *State) {
	t.Helper()
	s := newTest()
	s.Myself.ConfigEpoch = 1
	for j := 0; j < 100; j++ {
		s.AddSlot(s.Myself, j)
	}
	f := addPeer(s, 'f', "10.0.0.6", 7006)
	f.ConfigEpoch, f.Flags = 2, f.Flags|FlagFail
	for j := 100; j < 200; j++ {
		s.AddSlot(f, j)
	}
	addPeer(s, 'o', "10.0.0.7", 7007)
	for _, c := range []byte{'g', 'h'} {
		r := addPeer(s, c, "10.0.0.8", 7008)
		r.Flags = FlagSlave
		r.ReplicaOf = f
		AddReplica(f, r)
	}
	s.CurrentEpoch = 2
	g := NewMembership(s, rand.New(rand.NewSource(1)))
	for _, n := range s.Nodes {
		if n != s.Myself {
			g.links[n] = &link{up: true}
			n.Linked = true
		}
	}
	return g, s
}

// authRequest is a FAILOVER_AUTH_REQUEST from replica c of "fff..." at
// epoch, claiming its master's slots at configEpoch 2.
func authRequest(s *State, c byte, epoch uint64) *Msg {
	m := &Msg{Type: MsgFailoverAuthRequest, Sender: name(c), CurrentEpoch: epoch, ConfigEpoch: 2,
		ReplicaOf: name('f'), Flags: FlagSlave}
	m.Slots = s.Nodes[name('f')].Slots
	return m
}

// stepVote steps m into g at now and returns the ACKs sent, the log
// lines and whether a fsynced save was asked for.
func stepVote(g *Membership, m *Msg, now int64) (acks []string, logs []string, fsync bool) {
	g.Step(Link{ID: 1, IP: "10.0.0.8"}, m, now)
	rd := g.Ready()
	g.Advance()
	for _, o := range rd.Out {
		if o.Msg.Type == MsgFailoverAuthAck {
			acks = append(acks, fmt.Sprintf("%.1s@%d", o.Node, o.Msg.CurrentEpoch))
		}
	}
	return acks, rd.Logs, rd.FsyncConfig && rd.SaveConfig
}

func TestVoteRules(t *testing.T) {
	const now = 1_000_000
	type want struct {
		acks string // "g@3" or ""
		log  string // a substring of the one log line
	}
	cases := []struct {
		name  string
		setup func(s *State, m *Msg)
		want  want
	}{
		{"granted", nil, want{"g@3", "Failover auth granted to " + name('g') + " for epoch 3"}},
		{"old request epoch", func(s *State, m *Msg) { m.CurrentEpoch = 1 },
			want{"", "reqEpoch (1) < curEpoch(2)"}},
		{"already voted", func(s *State, m *Msg) { s.LastVoteEpoch = 3; s.CurrentEpoch = 3 },
			want{"", "already voted for epoch 3"}},
		{"requester is a master", func(s *State, m *Msg) {
			r := s.Nodes[name('g')]
			s.SetNodeAsMaster(r)
		}, want{"", "it is a master node"}},
		{"master unknown", func(s *State, m *Msg) {
			r := s.Nodes[name('g')]
			RemoveReplica(r.ReplicaOf, r)
			r.ReplicaOf = nil
		}, want{"", "I don't know its master"}},
		{"master up", func(s *State, m *Msg) { s.Nodes[name('f')].Flags &^= FlagFail },
			want{"", "its master is up"}},
		{"master PFAIL only", func(s *State, m *Msg) {
			f := s.Nodes[name('f')]
			f.Flags = f.Flags&^FlagFail | FlagPFail
		}, want{"", "its master is up"}},
		{"manual failover forces the ack", func(s *State, m *Msg) {
			s.Nodes[name('f')].Flags &^= FlagFail
			m.MFlags[0] |= MFlagForceAck
		}, want{"g@3", "Failover auth granted"}},
		{"voted about this master lately", func(s *State, m *Msg) { s.Nodes[name('f')].VotedTime = now - 300 },
			want{"", "can't vote about this master before 700 milliseconds"}},
		{"claimed slot has a newer owner", func(s *State, m *Msg) { m.Slots.Set(5); m.ConfigEpoch = 0 },
			want{"", "slot 5 epoch (1) > reqEpoch (0)"}},
		{"no slots, no vote, no log", func(s *State, m *Msg) { s.DelNodeSlots(s.Myself) }, want{"", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, s := voter(t)
			m := authRequest(s, 'g', 3)
			if c.setup != nil {
				c.setup(s, m)
			}
			g.Ready()
			g.Advance()
			acks, logs, fsync := stepVote(g, m, now)
			if got := strings.Join(acks, ","); got != c.want.acks {
				t.Fatalf("acks %q, want %q (logs %q)", got, c.want.acks, logs)
			}
			if c.want.log == "" && len(logs) != 0 || c.want.log != "" && (len(logs) != 1 || !strings.Contains(logs[0], c.want.log)) {
				t.Fatalf("logs %q, want one with %q", logs, c.want.log)
			}
			if c.want.acks != "" && (s.LastVoteEpoch != 3 || !fsync || s.Nodes[name('f')].VotedTime != now) {
				t.Fatalf("a vote must be recorded and fsynced: lastVoteEpoch %d fsync %v", s.LastVoteEpoch, fsync)
			}
		})
	}
}

// One vote per epoch, and none about one master within 2 * node timeout,
// even in a later epoch.
func TestVoteOncePerEpoch(t *testing.T) {
	g, s := voter(t)
	const now = 1_000_000
	if acks, logs, _ := stepVote(g, authRequest(s, 'g', 3), now); len(acks) != 1 {
		t.Fatalf("first request: %q", logs)
	}
	if acks, logs, _ := stepVote(g, authRequest(s, 'h', 3), now+1); len(acks) != 0 || !strings.Contains(logs[0], "already voted for epoch 3") {
		t.Fatalf("second request of epoch 3: acks %q logs %q", acks, logs)
	}
	if acks, logs, _ := stepVote(g, authRequest(s, 'h', 4), now+2); len(acks) != 0 || !strings.Contains(logs[0], "can't vote about this master") {
		t.Fatalf("epoch 4 within the vote timeout: acks %q logs %q", acks, logs)
	}
	if acks, logs, _ := stepVote(g, authRequest(s, 'h', 5), now+2*s.Opts.NodeTimeout); len(acks) != 1 {
		t.Fatalf("epoch 5 after the vote timeout: %q", logs)
	}
	if s.Conf().LastVoteEpoch != 5 || !strings.HasSuffix(string(s.Conf().Append(nil)), "vars currentEpoch 5 lastVoteEpoch 5\n") {
		t.Fatalf("nodes.conf vars: %q", s.Conf().Append(nil)[len(s.Conf().Append(nil))-40:])
	}
}
