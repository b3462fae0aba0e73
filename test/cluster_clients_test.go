package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// A three-master redgo cluster serves go-redis v9's ClusterClient and
// redis-py's RedisCluster with no errors, and after every node restarts it
// has the same IDs, epochs, slot map and data.
func TestClusterClientsAndRestart(t *testing.T) {
	need(t, "redis-cli")
	ports := busPorts(t, 3, false)
	dirs := make([]string, len(ports))
	nodes := make([]*clusterNode, len(ports))
	for i, p := range ports {
		dirs[i] = t.TempDir()
		nodes[i] = startClusterNode(t, p, false, dirs[i])
	}
	createCluster(t, ports)

	// go-redis ClusterClient: strings, hashes, lists, pipelines, hash-tagged
	// multi-key commands and transactions across all masters.
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer cc.Close()
	for i := 0; i < 200; i++ {
		if err := cc.Set(bg, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("set k%d: %v", i, err)
		}
	}
	pipe := cc.Pipeline()
	for i := 0; i < 200; i++ {
		pipe.Incr(bg, fmt.Sprintf("k%d", i))
		pipe.HSet(bg, fmt.Sprintf("h%d", i), "f", i)
		pipe.RPush(bg, fmt.Sprintf("l%d", i), i)
	}
	if _, err := pipe.Exec(bg); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if err := cc.MSet(bg, "{u1}a", "1", "{u1}b", "2").Err(); err != nil {
		t.Fatalf("mset tagged: %v", err)
	}
	if v, err := cc.MGet(bg, "{u1}a", "{u1}b").Result(); err != nil || fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("mget tagged: %v %v", v, err)
	}
	if _, err := cc.TxPipelined(bg, func(p redis.Pipeliner) error {
		p.Incr(bg, "{u1}a")
		p.Incr(bg, "{u1}b")
		return nil
	}); err != nil {
		t.Fatalf("tx: %v", err)
	}
	if err := cc.MSet(bg, "a", "1", "b", "2").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("cross-slot mset: %v", err)
	}
	for i := 0; i < 200; i += 37 {
		if v, err := cc.Get(bg, fmt.Sprintf("k%d", i)).Int(); err != nil || v != i+1 {
			t.Fatalf("get k%d = %d %v", i, v, err)
		}
	}

	// redis-py RedisCluster (Debian's python3-redis).
	// Debian's python3-redis belongs to /usr/bin/python3 (PATH may hold another python3).
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py, _ = exec.LookPath("python3")
	}
	if py != "" && exec.Command(py, "-c", "import redis.cluster").Run() == nil {
		script := fmt.Sprintf(`
import redis.cluster as rc
c = rc.RedisCluster(host="127.0.0.1", port=%d)
for i in range(100):
    c.set("py%%d" %% i, i)
    c.hset("pyh%%d" %% i, "f", i)
    c.zadd("pyz%%d" %% i, {"m": i})
assert c.get("py42") == b"42"
assert c.hget("pyh7", "f") == b"7"
assert c.zscore("pyz9", "m") == 9.0
p = c.pipeline()
for i in range(100):
    p.incr("py%%d" %% i)
res = p.execute()
assert res[5] == 6, res
assert len(c.get_nodes()) == 3
print("ok", c.dbsize())
`, ports[1])
		out, err := exec.Command(py, "-c", script).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok ") {
			t.Fatalf("redis-py: %v\n%s", err, out)
		}
	} else if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
		t.Fatal("python3 with redis-py is missing but REDGO_REQUIRE_REDIS is set")
	} else {
		t.Log("python3-redis not installed: redis-py part skipped")
	}

	// Restart every node: same IDs, epochs, slots; the AOF brings the data back.
	before := clusterView(t, ports[0])
	for _, n := range nodes {
		n.stop()
	}
	for i, p := range ports {
		nodes[i] = startClusterNode(t, p, false, dirs[i])
	}
	eventually(t, 30*time.Second, func() error {
		for _, p := range ports {
			info, _ := redisCli(t, 10*time.Second, "-p", strconv.Itoa(p), "CLUSTER", "INFO")
			if s := infoValue(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("node %d: cluster_state:%s", p, s)
			}
		}
		return nil
	})
	for _, p := range ports {
		if after := clusterView(t, p); after != before {
			t.Fatalf("after restart node %d sees\n%s\nbefore:\n%s", p, after, before)
		}
	}
	for i := 0; i < 200; i += 37 {
		if v, err := cc.Get(bg, fmt.Sprintf("k%d", i)).Int(); err != nil || v != i+1 {
			t.Fatalf("after restart get k%d = %d %v", i, v, err)
		}
	}
	_ = filepath.Join
}

// clusterView is CLUSTER NODES reduced to what must survive a restart:
// id, role, master, config epoch and slots, sorted by id.
func clusterView(t *testing.T, port int) string {
	out, err := redisCli(t, 10*time.Second, "-p", strconv.Itoa(port), "CLUSTER", "NODES")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		role := strings.ReplaceAll(f[2], "myself,", "")
		lines = append(lines, strings.Join(append([]string{f[0], role, f[3], f[6]}, f[8:]...), " "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
