package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/cluster"
)

// The messages of a CLUSTER command's change wait for its reply; any
// other send (the bus loop's, a change that opens or closes links) sends
// them first, so the bus sees every message once and in order.
func TestClusterCommandMessagesWaitForReply(t *testing.T) {
	cm := &clusterMode{}
	var sent []string
	cm.testSent = func(out []cluster.Out) {
		for _, o := range out {
			sent = append(sent, o.Node)
		}
	}
	msg := func(name string) cluster.Out { return cluster.Out{Kind: cluster.OutSend, Node: name} }
	cmd := clusterDriver{cm: cm, deferSend: true}
	bus := clusterDriver{cm: cm}
	cmd.Send([]cluster.Out{msg("a"), msg("b")})
	if len(sent) != 0 || !cm.hasDeferred.Load() {
		t.Fatalf("sent before the reply: %v", sent)
	}
	bus.Send([]cluster.Out{msg("c")})
	if got := strings.Join(sent, ","); got != "a,b,c" {
		t.Fatalf("sent %s, want a,b,c", got)
	}
	cmd.Send([]cluster.Out{msg("d")})
	cmd.Send([]cluster.Out{msg("e"), {Kind: cluster.OutDial, Node: "f"}})
	if got := strings.Join(sent, ","); got != "a,b,c,d,e,f" {
		t.Fatalf("a link change waited for the reply: sent %s", got)
	}
	cmd.Send([]cluster.Out{msg("g")})
	cm.sendDeferred() // what Client.flush does after writing the reply
	if got := strings.Join(sent, ","); got != "a,b,c,d,e,f,g" || cm.hasDeferred.Load() {
		t.Fatalf("after the reply: sent %s, deferred left %v", got, cm.hasDeferred.Load())
	}
}

// End to end: SETSLOT NODE on the importing node broadcasts its claim
// once the reply is written, and the other node adopts it.
func TestClusterSetSlotNodeBroadcastAfterReply(t *testing.T) {
	nodes := startHACluster(t, 2, 0)
	a, b := nodes[0], nodes[1]
	cm := b.s.cluster
	pongs := 0
	cm.mu.Lock()
	cm.testSent = func(out []cluster.Out) {
		for _, o := range out {
			if o.Kind == cluster.OutSend && o.Msg.Type == cluster.MsgPong {
				pongs++
			}
		}
	}
	cm.mu.Unlock()
	const j = 77 // served by a
	if got := b.c.str("CLUSTER", "SETSLOT", strconv.Itoa(j), "IMPORTING", a.id); got != "OK" {
		t.Fatal(got)
	}
	if got := b.c.str("CLUSTER", "SETSLOT", strconv.Itoa(j), "NODE", b.id); got != "OK" {
		t.Fatal(got)
	}
	eventually(t, 10*time.Second, func() error {
		cm.mu.Lock()
		n, left := pongs, len(cm.deferred)
		cm.mu.Unlock()
		if n == 0 || left != 0 {
			return fmt.Errorf("%d pongs sent, %d messages deferred", n, left)
		}
		if got := a.c.str("CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(j)); got != "0" {
			return fmt.Errorf("COUNTKEYSINSLOT: %s", got)
		}
		if nodesA := a.c.str("CLUSTER", "NODES"); !strings.Contains(lineOf(nodesA, b.id), " "+strconv.Itoa(j)) {
			return fmt.Errorf("a does not see b own slot %d:\n%s", j, nodesA)
		}
		return nil
	})
}

// lineOf returns the CLUSTER NODES line of node id.
func lineOf(nodes, id string) string {
	for _, l := range strings.Split(nodes, "\n") {
		if strings.HasPrefix(l, id) {
			return l
		}
	}
	return ""
}
