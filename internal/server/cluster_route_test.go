package server

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/slot"
)

// A routing change between a command's routing check and its locks: the
// command must not run on a key that left the node or a slot that moved
// (the check is repeated under the locks).
func TestClusterRouteRecheckedUnderLock(t *testing.T) {
	s, addr := startCluster(t, "")
	coverAll(t, addr)
	other := strings.Repeat("c", 40)
	addFakeNode(s, other, "10.1.2.3", 7009)
	c := dialRaw(t, addr)
	admin := dialRaw(t, addr)

	// The hook runs once, for the next command named armed, after it was
	// routed here and before it locks its shard.
	var armed atomic.Value
	armed.Store("")
	var between atomic.Pointer[func()] // what the hook runs (set before arming it)
	hook := func(cmd *commands.Command, args [][]byte) {
		if armed.Load().(string) == cmd.Name {
			armed.Store("")
			(*between.Load())()
		}
	}
	s.testAfterRoute.Store(&hook)
	step := func(cmd, want string) {
		t.Helper()
		if got := c.str(strings.Fields(cmd)...); got != want {
			t.Fatalf("%s: got %q, want %q", cmd, got, want)
		}
	}

	// MIGRATE moves the key of a migrating slot away: it deletes it here
	// under its shard lock.
	key := "{mig}k"
	j := slot.OfString(key)
	ask := "ASK " + strconv.Itoa(j) + " 10.1.2.3:7009"
	migrateAway := func() {
		sh := []int{keyspace.ShardOf([]byte(key))}
		s.KS.Lock(sh)
		s.KS.DB(0).Delete([]byte(key))
		s.KS.Unlock(sh)
	}
	between.Store(&migrateAway)
	setup := func() {
		t.Helper()
		step("CLUSTER SETSLOT "+strconv.Itoa(j)+" STABLE", "OK")
		step("SET "+key+" v", "OK")
		step("CLUSTER SETSLOT "+strconv.Itoa(j)+" MIGRATING "+other, "OK")
	}
	setup()
	armed.Store("get")
	step("GET "+key, ask) // not a nil read of a key that moved
	setup()
	armed.Store("set")
	step("SET "+key+" v2", ask) // not a write left behind on the old node
	sh := []int{keyspace.ShardOf([]byte(key))}
	s.KS.Lock(sh)
	exists := s.KS.DB(0).Exists([]byte(key))
	s.KS.Unlock(sh)
	if exists {
		t.Fatal("SET created the key that had left")
	}
	setup()
	step("MULTI", "OK")
	step("GET "+key, "QUEUED")
	armed.Store("exec")
	step("EXEC", ask)
	step("EXEC", "ERR EXEC without MULTI") // the transaction was discarded

	// The slot itself is given away between the check and the lock.
	key2 := "{moved}k"
	j2 := strconv.Itoa(slot.OfString(key2))
	giveAway := func() {
		if got := admin.str("CLUSTER", "SETSLOT", j2, "NODE", other); got != "OK" {
			t.Errorf("SETSLOT: %s", got)
		}
	}
	between.Store(&giveAway)
	armed.Store("set")
	step("SET "+key2+" x", "MOVED "+j2+" 10.1.2.3:7009")
	sh = []int{keyspace.ShardOf([]byte(key2))}
	s.KS.Lock(sh)
	exists = s.KS.DB(0).Exists([]byte(key2))
	s.KS.Unlock(sh)
	if exists {
		t.Fatal("SET wrote to a slot served elsewhere")
	}
}
