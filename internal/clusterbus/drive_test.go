package clusterbus

// The drive loop carries out a Ready in its order over real sockets: a
// master granting a vote saves nodes.conf before its FAILOVER_AUTH_ACK
// is queued to the link, and sends nothing once a save failed.

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/cluster"
)

// slowDisk is a Driver whose nodes.conf saves are held while they record
// a vote (the disk is slow), then succeed or fail.
type slowDisk struct {
	cluster.Driver
	held    chan struct{} // closed when a vote's save started
	release chan error    // what that save returns
	once    sync.Once
}

func (d *slowDisk) SaveConfig(conf []byte, fsync bool) error {
	if !bytes.Contains(conf, []byte("lastVoteEpoch 5\n")) {
		return nil
	}
	d.once.Do(func() { close(d.held) })
	return <-d.release
}

// voterBus is a master serving slots 0-99 that sees master "fff..." FAIL
// and the test's peer as its replica, on a transport driven through disk.
func voterBus(t *testing.T, peer net.Listener, disk *slowDisk) (*Transport, string) {
	t.Helper()
	opts := cluster.DefaultOptions()
	opts.NodeTimeout = 5000
	now := time.Now().UnixMilli()
	st := cluster.NewState(strings.Repeat("a", 40), opts, now)
	st.CurrentEpoch = 4
	var m cluster.SlotMark
	st.CheckSlots(&m, false, 0, 99)
	st.UpdateSlots(&m, false)
	f := cluster.NewNode(strings.Repeat("f", 40), cluster.FlagMaster|cluster.FlagFail, now)
	f.ConfigEpoch = 2
	st.AddNode(f)
	p := cluster.NewNode(strings.Repeat("p", 40), cluster.FlagSlave, now)
	p.IP, p.Port, p.CPort = "127.0.0.1", 7100, peer.Addr().(*net.TCPAddr).Port
	p.ReplicaOf = f
	cluster.AddReplica(f, p)
	st.AddNode(p)
	g := cluster.NewMembership(st, rand.New(rand.NewSource(1)))
	mu := new(sync.Mutex)
	mu.Lock() // the loop drives under mu: not before disk sends through tr
	defer mu.Unlock()
	tr, err := Listen(Config{Addr: "127.0.0.1:0", M: g, Mu: mu, Driver: disk,
		Logf: func(f string, a ...any) { t.Logf("voter: "+f, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	disk.Driver = ownDriver{tr}
	t.Cleanup(func() { tr.Close() })
	return tr, p.Name
}

// acks reads what the voter sends on its link to the peer: linked is
// closed at its first message (the voter's link is up), and each
// FAILOVER_AUTH_ACK is reported.
func acks(t *testing.T, peer net.Listener) (linked chan struct{}, got chan *cluster.Msg) {
	out := make(chan *cluster.Msg, 1)
	linked = make(chan struct{})
	first := linked
	go func() {
		c, err := peer.Accept()
		if err != nil {
			return
		}
		readAcks(c, &first, out)
	}()
	return linked, out
}

// readAcks reports the FAILOVER_AUTH_ACKs that arrive on c (the voter
// answers on the link the request came on), closing *first at the
// first message.
func readAcks(c net.Conn, first *chan struct{}, out chan *cluster.Msg) {
	go func() {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			b, err := ReadMsg(r, nil, 1<<20)
			if err != nil {
				return
			}
			if *first != nil {
				close(*first)
				*first = nil
			}
			if m, err := Decode(b); err == nil && m.Type == cluster.MsgFailoverAuthAck {
				out <- m
			}
		}
	}()
}

// askVote sends the peer's FAILOVER_AUTH_REQUEST for epoch 5 to the voter.
func askVote(t *testing.T, tr *Transport, name string) net.Conn {
	t.Helper()
	req := &cluster.Msg{Type: cluster.MsgFailoverAuthRequest, Sender: name, CurrentEpoch: 5,
		ConfigEpoch: 2, ReplicaOf: strings.Repeat("f", 40), Flags: cluster.FlagSlave, Port: 7100}
	b, err := Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", tr.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDriveSavesBeforeSending(t *testing.T) {
	for _, fail := range []bool{false, true} {
		name := "save succeeds"
		if fail {
			name = "save fails"
		}
		t.Run(name, func(t *testing.T) {
			peer, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			disk := &slowDisk{held: make(chan struct{}), release: make(chan error, 1)}
			linked, got := acks(t, peer)
			tr, pname := voterBus(t, peer, disk)
			// A save still held when the test ends fails, so Close returns.
			t.Cleanup(func() {
				select {
				case disk.release <- errors.New("test over"):
				default:
				}
			})
			// Once the voter linked to the peer, the request comes in.
			select {
			case <-linked:
			case <-time.After(10 * time.Second):
				t.Fatal("the voter never linked to the peer")
			}
			var none chan struct{}
			readAcks(askVote(t, tr, pname), &none, got)
			select {
			case <-disk.held:
			case <-time.After(10 * time.Second):
				t.Fatal("the vote was never saved")
			}
			select {
			case m := <-got:
				t.Fatalf("FAILOVER_AUTH_ACK (epoch %d) sent while its save is still running", m.CurrentEpoch)
			case <-time.After(300 * time.Millisecond):
			}
			if fail {
				disk.release <- errors.New("disk full")
				select {
				case m := <-got:
					t.Fatalf("FAILOVER_AUTH_ACK (epoch %d) sent after its save failed", m.CurrentEpoch)
				case <-time.After(500 * time.Millisecond):
				}
				return
			}
			disk.release <- nil
			select {
			case m := <-got:
				if m.CurrentEpoch != 5 {
					t.Fatalf("ACK for epoch %d", m.CurrentEpoch)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no FAILOVER_AUTH_ACK after the save")
			}
		})
	}
}
