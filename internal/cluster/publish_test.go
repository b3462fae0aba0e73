package cluster

import (
	"fmt"
	"testing"
)

func TestPublishBroadcast(t *testing.T) {
	net := joined(t, 7, 3, 2000)
	got := func(i int) []string {
		var out []string
		for _, d := range net.nodes[i].published {
			out = append(out, fmt.Sprintf("%v %s %s", d.Shard, d.Channel, d.Message))
		}
		return out
	}
	sent := net.st(0).Sent[MsgPublish]
	net.nodes[0].m.Publish(false, []byte("news"), []byte("hello"))
	net.flush(net.nodes[0])
	net.deliver()
	if len(got(0)) != 0 || len(got(1)) != 1 || len(got(2)) != 1 || got(1)[0] != "false news hello" {
		t.Fatalf("PUBLISH delivered %q %q %q", got(0), got(1), got(2))
	}
	if n := net.st(0).Sent[MsgPublish] - sent; n != 2 {
		t.Fatalf("sent %d PUBLISH", n)
	}
	// PUBLISHSHARD goes to the other nodes of the shard: none without replicas.
	net.nodes[0].m.Publish(true, []byte("s"), []byte("x"))
	if outs := net.nodes[0].m.Ready().Out; len(outs) != 0 {
		t.Fatalf("PUBLISHSHARD without replicas sent %d messages", len(outs))
	}
	net.nodes[0].m.Advance()
	// A PUBLISHSHARD received is handed over as such; one from an unknown
	// sender is ignored.
	m := net.nodes[1].m.PublishMsg(true, []byte("s"), []byte("y"))
	net.nodes[2].m.Step(Link{ID: 999}, m, net.now)
	m = net.nodes[1].m.PublishMsg(false, []byte("c"), []byte("z"))
	m.Sender = "0123456789012345678901234567890123456789"
	net.nodes[2].m.Step(Link{ID: 999}, m, net.now)
	net.flush(net.nodes[2])
	if len(got(2)) != 2 || got(2)[1] != "true s y" {
		t.Fatalf("node 2 got %q", got(2))
	}
	if _, _, _, ok := PublishBody(&Msg{Type: MsgPing}); ok {
		t.Fatal("PublishBody of a PING")
	}
}
