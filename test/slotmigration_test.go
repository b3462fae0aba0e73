package test

// CLUSTER MIGRATESLOTS on real processes: between redgo nodes under the
// resharding tests' client load, and from redgo to redis-server (the
// key-by-key fallback); redis-cli --cluster check is clean after each and
// every key is on the master that owns its slot, with its value.

import (
	"strings"
	"testing"
)

// migrateSlots sends CLUSTER MIGRATESLOTS for [lo, hi] from port to the
// node id and wants +OK.
func migrateSlots(t *testing.T, port int, lo, hi, id string) {
	t.Helper()
	out := strings.TrimSpace(cli(t, port, "CLUSTER MIGRATESLOTS SLOTSRANGE "+lo+" "+hi+" NODE "+id+"\n"))
	if out != "OK" {
		t.Fatalf("CLUSTER MIGRATESLOTS %s-%s: %s", lo, hi, out)
	}
}

func TestClusterMigrateSlots(t *testing.T) {
	need(t, "redis-cli")
	ports := busPorts(t, 3, false)
	for _, p := range ports {
		startClusterNode(t, p, false)
	}
	createCluster(t, ports)
	fillKeys(t, ports, 2000)
	load := startKeyLoad(t, ports, 4, 50)
	// Half the first master's slots to the second, some back, the rest
	// on to the third.
	migrateSlots(t, ports[0], "0", "2730", nodeID(t, ports[1]))
	migrateSlots(t, ports[1], "0", "1000", nodeID(t, ports[0]))
	if out := cli(t, ports[0], "CLUSTER MIGRATESLOTS SLOTSRANGE 1001 2730 NODE "+nodeID(t, ports[2])+"\n"); !strings.Contains(out, "ERR I'm not the owner of hash slot 1001") {
		t.Fatalf("CLUSTER MIGRATESLOTS of slots served elsewhere: %s", out)
	}
	migrateSlots(t, ports[1], "1001", "2730", nodeID(t, ports[2]))
	load.halt()
	load.check(t)
	waitAgree(t, ports)
	checkCluster(t, ports[0])
	checkKeys(t, ports, 2000, 4*50)
	if got := slotsOf(t, ports[0], nodeID(t, ports[2])); got != 5461+1730 {
		t.Fatalf("the third master serves %d slots", got)
	}
	out := cli(t, ports[0], "CLUSTER GETSLOTMIGRATIONS\n")
	if !strings.Contains(out, "success") {
		t.Fatalf("CLUSTER GETSLOTMIGRATIONS:\n%s", out)
	}
}

// A redis-server target: the source moves the slots with MIGRATE.
func TestClusterMigrateSlotsToRedis(t *testing.T) {
	need(t, "redis-cli")
	need(t, "redis-server")
	ports := busPorts(t, 3, false)
	for i, p := range ports {
		startClusterNode(t, p, i == 1)
	}
	createCluster(t, ports)
	fillKeys(t, ports, 1000)
	load := startKeyLoad(t, ports, 2, 50)
	migrateSlots(t, ports[0], "0", "999", nodeID(t, ports[1]))
	load.halt()
	load.check(t)
	waitAgree(t, ports)
	checkCluster(t, ports[0])
	checkKeys(t, ports, 1000, 2*50)
	out := cli(t, ports[0], "CLUSTER GETSLOTMIGRATIONS\n")
	if !strings.Contains(out, "key_by_key\n1") {
		t.Fatalf("CLUSTER GETSLOTMIGRATIONS:\n%s", out)
	}
}
