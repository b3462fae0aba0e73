package cluster

import "testing"

// A whole-slot transfer as both ends see it: the source checks and
// gives, the target checks and takes under a new epoch.
func TestSlotMove(t *testing.T) {
	src := newTest() // "aaa...", owns every slot
	addAll(t, src)
	src.Myself.ConfigEpoch, src.CurrentEpoch = 1, 2
	b := addPeer(src, 'b', "127.0.0.1", 7001)
	b.ConfigEpoch = 2
	slots := []int{0, 1, 100}
	if err := src.CheckExport(name('c'), slots); err == nil || err.Error() != "ERR Unknown node "+name('c') {
		t.Fatalf("unknown target: %v", err)
	}
	if err := src.CheckExport(name('a'), slots); err == nil {
		t.Fatal("export to myself accepted")
	}
	src.SetMigrating(100, b)
	if err := src.CheckExport(name('b'), slots); err == nil || err.Error() != "ERR Slot 100 is in a SETSLOT migration" {
		t.Fatalf("open slot: %v", err)
	}
	src.SetMigrating(100, nil)
	if err := src.CheckExport(name('b'), slots); err != nil {
		t.Fatal(err)
	}

	// The target's view: "bbb..." is myself, the slots are "aaa..."'s.
	dst := NewState(name('b'), DefaultOptions(), 0)
	dst.Myself.ConfigEpoch, dst.CurrentEpoch = 2, 3
	a := addPeer(dst, 'a', "127.0.0.1", 7000)
	a.ConfigEpoch = 3 // the source's epoch is the greatest: the target must bump
	for j := range 16384 {
		dst.AddSlot(a, j)
	}
	if err := dst.CheckImport(name('a'), []int{0, 1, 100}); err != nil {
		t.Fatal(err)
	}
	if err := dst.CheckImport(name('c'), slots); err == nil {
		t.Fatal("import from an unknown node accepted")
	}
	if err := dst.TakeSlots(name('a'), slots); err != nil {
		t.Fatal(err)
	}
	if dst.Owner[100] != dst.Myself || dst.Owner[101] != a || dst.Myself.ConfigEpoch != 4 {
		t.Fatalf("after TakeSlots: owner %v, epoch %d", dst.Owner[100].Name, dst.Myself.ConfigEpoch)
	}
	if td := dst.takeTodo(); td&TodoFsyncConfig == 0 || td&TodoBroadcastPong == 0 {
		t.Fatalf("TakeSlots todo %b: nodes.conf must be fsynced, then the claim broadcast", td)
	}
	if err := dst.TakeSlots(name('a'), slots); err == nil {
		t.Fatal("slots taken twice")
	}

	if err := src.GiveSlots(name('b'), slots); err != nil {
		t.Fatal(err)
	}
	if src.Owner[1] != b || src.Owner[2] != src.Myself || !src.Myself.IsMaster() {
		t.Fatal("GiveSlots: wrong owners")
	}
	if src.OwnerName(1) != name('b') {
		t.Fatalf("OwnerName: %s", src.OwnerName(1))
	}
}
