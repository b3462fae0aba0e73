package cluster

import (
	"fmt"
	"testing"
)

// The save-before-send contract of Ready, on a master that votes: killed
// (or losing power) at any step of the Ready that grants a vote, then
// restarted from its nodes.conf and asked again in the same epoch by
// another replica of the failed master, it never grants two votes in one
// epoch. A driver that sends before it saves fails this test: the ACK
// leaves, the crash loses lastVoteEpoch, the restarted master votes again.

// crash is the panic a crashDriver stops with.
type crash struct{}

// crashDriver carries out Readys through its Driver and crashes at one
// step: "save" (before writing nodes.conf), "fsync" (written, not yet
// synced), "send" (saved, nothing sent), "apply" (sent, not applied), or
// never (""). It records the FAILOVER_AUTH_ACKs that leave the node.
type crashDriver struct {
	Driver
	x    *memNode
	at   string
	acks *[]uint64
}

func (d crashDriver) SaveConfig(conf []byte, fsync bool) error {
	switch {
	case d.at == "save":
		panic(crash{})
	case d.at == "fsync" && fsync:
		saveConf(d.x.disk, conf, false)
		panic(crash{})
	}
	return d.Driver.SaveConfig(conf, fsync)
}

func (d crashDriver) Send(out []Out) {
	if d.at == "send" {
		panic(crash{})
	}
	for _, o := range out {
		if o.Kind == OutSend && o.Msg.Type == MsgFailoverAuthAck {
			*d.acks = append(*d.acks, o.Msg.CurrentEpoch)
		}
	}
	d.Driver.Send(out)
}

func (d crashDriver) Apply(rd *Ready) {
	d.Driver.Apply(rd)
	if d.at == "apply" {
		panic(crash{})
	}
}

// electionNet is 5 nodes: masters 0, 1, 2 serving every slot, replicas
// 3 and 4 of master 0, and master 0 cut off and FAIL everywhere.
func electionNet(t *testing.T, seed int64) *memNet {
	t.Helper()
	net := joined(t, seed, 5, 2000)
	for i := range 3 {
		var m SlotMark
		for j := i * 16384 / 3; j < (i+1)*16384/3; j++ {
			m[j] = 1
		}
		net.st(i).UpdateSlots(&m, false)
		net.flush(net.nodes[i])
	}
	net.replicate(3, 0)
	net.replicate(4, 0)
	m0 := net.st(0).Myself.Name
	net.runUntil(10_000, func() string {
		for i := 1; i < 5; i++ {
			if n := net.st(i).Nodes[m0]; len(n.Replicas) != 2 {
				return fmt.Sprintf("node %d sees %d replicas of master 0", i, len(n.Replicas))
			}
		}
		return ""
	})
	net.isolate(0, true)
	net.runUntil(10_000, func() string {
		for i := 1; i < 5; i++ {
			if net.st(i).Nodes[m0].Flags&FlagFail == 0 {
				return fmt.Sprintf("node %d does not see master 0 FAIL", i)
			}
		}
		return ""
	})
	return net
}

func TestVoteSurvivesCrash(t *testing.T) {
	for _, powerLoss := range []bool{false, true} {
		for _, at := range []string{"save", "fsync", "send", "apply", ""} {
			t.Run(fmt.Sprintf("powerloss=%v/crash=%q", powerLoss, at), func(t *testing.T) {
				net := electionNet(t, 61)
				const v = 1 // the voter
				x := net.nodes[v]
				// What the voter knows (master 0 FAIL, its replicas) is
				// on disk, as after a CLUSTER SAVECONFIG.
				if err := saveConf(x.disk, net.st(v).Conf().Append(nil), true); err != nil {
					t.Fatal(err)
				}
				epoch := net.st(v).MaxEpoch() + 1
				var acks []uint64
				crashAt := at // the restarted node does not crash again
				net.wrap = func(y *memNode, d Driver) Driver {
					if y == x {
						return crashDriver{Driver: d, x: x, at: crashAt, acks: &acks}
					}
					return d
				}
				crashed := func() (c bool) {
					defer func() {
						if r := recover(); r != nil {
							if _, ok := r.(crash); !ok {
								panic(r)
							}
							c = true
						}
					}()
					net.requestVote(3, v, epoch)
					return false
				}()
				if crashed != (at != "") {
					t.Fatalf("crashed %v at %q", crashed, at)
				}
				crashAt = ""
				net.restart(v, powerLoss)
				// Back up, linked again, asked by the other replica in
				// the same epoch.
				net.run(3000)
				net.requestVote(4, v, epoch)
				n := 0
				for _, e := range acks {
					if e == epoch {
						n++
					}
				}
				if n > 1 {
					t.Fatalf("%d votes granted for epoch %d across a crash at %q (power loss %v); lastVoteEpoch now %d",
						n, epoch, at, powerLoss, net.st(v).LastVoteEpoch)
				}
				if at == "" && n != 1 {
					t.Fatalf("no crash: %d votes, want 1", n)
				}
			})
		}
	}
}
