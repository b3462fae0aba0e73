package cluster

import (
	"strings"
	"testing"
)

const (
	idA = "8460f68cd69bff3891c5f5f9938c6b0c297ffad3"
	idB = "c15c053dd893ee09076a7cb9267b587155d6e288"
	idC = "2b665d5d9dd4221983fadabef58f5db637d67c2a"
)

func TestAppendFlags(t *testing.T) {
	for _, tc := range []struct {
		f    Flags
		want string
	}{
		{0, "noflags"},
		{FlagMeet | FlagMigrateTo | FlagExtensions, "noflags"},
		{FlagMaster, "master"},
		{FlagMyself | FlagMaster, "myself,master"},
		{FlagMyself | FlagSlave | FlagNoFailover, "myself,slave,nofailover"},
		{FlagMaster | FlagPFail | FlagMigrateTo, "master,fail?"},
		// Every shown flag, in Redis's order whatever the bit order.
		{FlagNoFailover | FlagNoAddr | FlagHandshake | FlagFail | FlagPFail | FlagSlave | FlagMaster | FlagMyself,
			"myself,master,slave,fail?,fail,handshake,noaddr,nofailover"},
	} {
		if got := string(AppendFlags(nil, tc.f)); got != tc.want {
			t.Errorf("flags %#x: %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestAppendSlotRanges(t *testing.T) {
	var s Slots
	if got := string(AppendSlotRanges(nil, &s)); got != "" {
		t.Errorf("no slots: %q", got)
	}
	for _, x := range []int{0, 1, 2, 7, 8, 9, 15, 16, 100, 16382, 16383} {
		s.Set(x)
	}
	if got, want := string(AppendSlotRanges(nil, &s)), " 0-2 7-9 15-16 100 16382-16383"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	var all Slots
	for x := range 16384 {
		all.Set(x)
	}
	if got := string(AppendSlotRanges(nil, &all)); got != " 0-16383" {
		t.Errorf("all: %q", got)
	}
}

func TestAppendNodeLine(t *testing.T) {
	a := &Node{Name: idA, IP: "127.0.0.1", Port: 17101, CPort: 27101, Flags: FlagMyself | FlagMaster,
		PongReceived: 1795308635000, ConfigEpoch: 1}
	for s := 0; s <= 5000; s++ {
		a.Slots.Set(s)
	}
	b := &Node{Name: idB, IP: "127.0.0.1", Port: 17102, CPort: 27102, Hostname: "host-b.example",
		Flags: FlagMaster, PongReceived: 1795308635598, Linked: true}
	c := &Node{Name: idC, IP: "127.0.0.1", Port: 17104, CPort: 27104, Flags: FlagSlave | FlagNoFailover,
		ReplicaOf: a, PingSent: 1795309373196, PongReceived: 1795309371643, ConfigEpoch: 0}
	migs := []SlotMigration{{Slot: 100, Node: idB}, {Slot: 100, Node: idC, Importing: true},
		{Slot: 200, Node: idB, Importing: true}}
	for _, tc := range []struct {
		n    *Node
		want string
	}{
		{a, idA + " 127.0.0.1:17101@27101 myself,master - 0 1795308635000 1 connected 0-5000 [100->-" + idB + "] [200-<-" + idB + "]"},
		// Hostname after the address; markers only on myself.
		{b, idB + " 127.0.0.1:17102@27102,host-b.example master - 0 1795308635598 0 connected"},
		// A replica shows its master's configEpoch; not linked: disconnected.
		{c, idC + " 127.0.0.1:17104@27104 slave,nofailover " + idA + " 1795309373196 1795309371643 1 disconnected"},
	} {
		if got := string(AppendNodeLine(nil, tc.n, false, migs)); got != tc.want {
			t.Errorf("got\n%s\nwant\n%s", got, tc.want)
		}
	}

	// The plaintext port replaces the TLS one only when asked and known.
	tls := &Node{Name: idB, IP: "10.0.0.2", Port: 6380, PPort: 6379, CPort: 16380, Flags: FlagMaster}
	if got := string(AppendNodeLine(nil, tls, true, nil)); !strings.HasPrefix(got, idB+" 10.0.0.2:6379@16380 ") {
		t.Errorf("pport: %s", got)
	}
	if got := string(AppendNodeLine(nil, tls, false, nil)); !strings.HasPrefix(got, idB+" 10.0.0.2:6380@16380 ") {
		t.Errorf("tls port: %s", got)
	}
	tls.PPort = 0
	if got := string(AppendNodeLine(nil, tls, true, nil)); !strings.HasPrefix(got, idB+" 10.0.0.2:6380@16380 ") {
		t.Errorf("no pport: %s", got)
	}
	// A node without address, flags or known master.
	orphan := &Node{Name: idC, Flags: FlagSlave | FlagNoAddr}
	if got, want := string(AppendNodeLine([]byte("x"), orphan, false, nil)),
		"x"+idC+" :0@0 slave,noaddr - 0 0 0 disconnected"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
