package server

import (
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"redgo/internal/slot"
)

// MIGRATE's replies on redgo -> redgo against redis-server -> redis-server,
// case by case, with the target's errors passed back.
func TestMigrateRepliesVsRedis(t *testing.T) {
	redisSrc := startRedis(t)
	redisDst := startRedis(t)
	gSrc, _ := startServer(t)
	gDst, _ := startServer(t)
	refused := strconv.Itoa(freePort(t))
	run := func(src, dst string) []string {
		a, b := dialRaw(t, src), dialRaw(t, dst)
		h, p := hostPort(t, dst)
		var out []string
		do := func(c *rawConn, args ...string) { out = append(out, c.str(args...)) }
		do(b, "SET", "busy", "x")
		do(a, "SET", "busy", "1")
		do(a, "MIGRATE", h, p, "busy", "0", "1000")
		do(a, "MIGRATE", h, p, "nokey", "0", "1000")
		do(a, "MIGRATE", h, refused, "busy", "0", "1000")
		do(a, "MIGRATE", "", p, "busy", "0", "1000")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "KEYS", "b")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "foo")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "AUTH")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "AUTH2", "u")
		do(a, "MIGRATE", h, p, "busy", "0", "x")
		do(a, "MIGRATE", h, p, "busy", "x", "1000")
		do(a, "MIGRATE", h, p, "busy", "99", "1000")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "AUTH", "pw")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "AUTH2", "u", "pw")
		do(a, "MIGRATE", h, p, "busy", "0", "1000", "COPY", "REPLACE")
		do(a, "EXISTS", "busy")
		do(b, "GET", "busy")
		do(a, "RPUSH", "l", "a", "b", "c")
		do(a, "SET", "t", "v", "PX", "100000")
		do(a, "MIGRATE", h, p, "", "3", "0", "KEYS", "l", "t", "gone")
		do(a, "EXISTS", "l", "t")
		do(b, "SELECT", "3")
		do(b, "LRANGE", "l", "0", "-1")
		pttl, _ := strconv.Atoi(b.str("PTTL", "t"))
		out = append(out, fmt.Sprint(pttl > 90000 && pttl <= 100000))
		do(a, "SET", "busy", "2")
		do(a, "MIGRATE", h, p, "", "0", "1000", "REPLACE", "KEYS", "busy")
		do(a, "MIGRATE", h, p, "", "0", "1000", "KEYS", "busy")
		do(b, "SELECT", "0")
		do(b, "GET", "busy")
		return out
	}
	want := run(redisSrc, redisDst)
	got := run(gSrc.Addr().String(), gDst.Addr().String())
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Errorf("step %d: redgo %q, redis %q", i, at(got, i), at(want, i))
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

// Keys of every type move between redgo and redis-server both ways,
// with their TTLs.
func TestMigrateWithRedis(t *testing.T) {
	redisAddr := startRedis(t)
	g, _ := startServer(t)
	gAddr := g.Addr().String()
	fill := func(c *rawConn) {
		c.str("SET", "s", "string")
		c.str("PEXPIRE", "s", "100000")
		c.str("RPUSH", "l", "1", "2", "3")
		c.str("HSET", "h", "f", "v", "g", "w")
		c.str("SADD", "set", "a", "b", "7")
		c.str("ZADD", "z", "1", "a", "2.5", "b")
		big := strings.Repeat("x", 100)
		for i := range 300 {
			c.str("HSET", "bigh", "f"+strconv.Itoa(i), big)
		}
	}
	read := func(c *rawConn) string {
		ttl, _ := strconv.Atoi(c.str("PTTL", "s"))
		return strings.Join([]string{c.str("GET", "s"), fmt.Sprint(ttl > 90000 && ttl <= 100000),
			c.str("LRANGE", "l", "0", "-1"), c.str("HGET", "h", "g"), c.str("SCARD", "set"),
			c.str("ZSCORE", "z", "b"), c.str("HLEN", "bigh"), c.str("DBSIZE")}, " ")
	}
	for _, dir := range []struct{ from, to string }{{gAddr, redisAddr}, {redisAddr, gAddr}} {
		a, b := dialRaw(t, dir.from), dialRaw(t, dir.to)
		a.str("FLUSHALL")
		b.str("FLUSHALL")
		fill(a)
		want := read(a)
		h, p := hostPort(t, dir.to)
		if got := a.str("MIGRATE", h, p, "", "0", "5000", "KEYS", "s", "l", "h", "set", "z", "bigh"); got != "OK" {
			t.Fatalf("%s -> %s: %s", dir.from, dir.to, got)
		}
		if got := a.str("DBSIZE"); got != "0" {
			t.Fatalf("%d keys left on the source", len(got))
		}
		if got := read(b); got != want {
			t.Fatalf("%s -> %s: target has %q, want %q", dir.from, dir.to, got, want)
		}
	}
}

// MIGRATE reaches the AOF and replicas as DEL of the keys moved; COPY
// and a failed MIGRATE do not reach them.
func TestMigratePropagatesDel(t *testing.T) {
	src, _ := startServer(t)
	dst, _ := startServer(t)
	rec := &propRecorder{}
	src.AddPropagator(rec)
	a, b := dialRaw(t, src.Addr().String()), dialRaw(t, dst.Addr().String())
	h, p := hostPort(t, dst.Addr().String())
	a.str("MSET", "k1", "1", "k2", "2", "k3", "3")
	b.str("SET", "k2", "busy")
	got := a.str("MIGRATE", h, p, "", "0", "1000", "KEYS", "k1", "k2", "k3")
	if got != "ERR Target instance replied with error: BUSYKEY Target key name already exists." {
		t.Fatal(got)
	}
	if got := a.str("MIGRATE", h, p, "k2", "0", "1000", "COPY", "REPLACE"); got != "OK" {
		t.Fatal(got)
	}
	if got := a.str("EXISTS", "k1", "k2", "k3"); got != "1" {
		t.Fatalf("%s keys left, want k2 only", got)
	}
	want := []string{"0 MSET k1 1 k2 2 k3 3", "0 DEL k1 k3"}
	if got := rec.lines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("propagated %q, want %q", got, want)
	}
	if got := a.str("INFO", "stats"); !strings.Contains(got, "migrate_cached_sockets:1\r\n") {
		t.Fatal("no cached socket in INFO")
	}
}

// The mission's manual procedure on two in-process redgo masters while
// clients read and write the slot's keys through a cluster client: SETSLOT
// IMPORTING on the target, MIGRATING on the source, GETKEYSINSLOT +
// MIGRATE until empty, SETSLOT NODE on both. Each client owns its keys
// and checks every read against its last acknowledged write: no missing
// key, no stale value, at any point of the move.
func TestManualSlotMigrationUnderLoad(t *testing.T) {
	nodes := startHACluster(t, 2, 0)
	src, dst := nodes[0], nodes[1]
	tag := "{" + keyIn(100, "") + "}" // a slot of the first master
	j := slot.OfString(tag)
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{src.addr, dst.addr}, MaxRedirects: 16,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { rc.Close() })
	const clients, perClient = 4, 50
	for c := range clients {
		for k := range perClient {
			if err := rc.Set(ctx, fmt.Sprintf("%sc%d:%d", tag, c, k), "0", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	asks := 0
	var mu sync.Mutex
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(int64(c)))
			last := make([]int, perClient)
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				k := rnd.Intn(perClient)
				key := fmt.Sprintf("%sc%d:%d", tag, c, k)
				if n%2 == 0 {
					if err := rc.Set(ctx, key, strconv.Itoa(n), 0).Err(); err != nil {
						errs <- fmt.Errorf("SET %s: %v", key, err)
						return
					}
					last[k] = n
					continue
				}
				v, err := rc.Get(ctx, key).Result()
				if err != nil || v != strconv.Itoa(last[k]) {
					errs <- fmt.Errorf("GET %s: %q %v, want %d", key, v, err, last[k])
					return
				}
			}
		}()
	}
	// Count ASK redirections as a plain client sees them.
	probe := dialRaw(t, src.addr)
	js := strconv.Itoa(j)
	if got := dst.c.str("CLUSTER", "SETSLOT", js, "IMPORTING", src.id); got != "OK" {
		t.Fatal(got)
	}
	if got := src.c.str("CLUSTER", "SETSLOT", js, "MIGRATING", dst.id); got != "OK" {
		t.Fatal(got)
	}
	h, p := hostPort(t, dst.addr)
	for {
		keys, _ := src.c.do("CLUSTER", "GETKEYSINSLOT", js, "7")
		if len(keys.Elems) == 0 {
			break
		}
		args := []string{"MIGRATE", h, p, "", "0", "5000", "KEYS"}
		for _, k := range keys.Elems {
			args = append(args, k.Str)
		}
		if got := src.c.str(args...); got != "OK" {
			t.Fatal(got)
		}
		if strings.HasPrefix(probe.str("GET", keys.Elems[0].Str), "ASK "+js+" ") {
			mu.Lock()
			asks++
			mu.Unlock()
		}
		time.Sleep(2 * time.Millisecond) // let the clients run in between
	}
	for _, n := range []*haNode{dst, src} {
		if got := n.c.str("CLUSTER", "SETSLOT", js, "NODE", dst.id); got != "OK" {
			t.Fatal(got)
		}
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if asks == 0 {
		t.Fatal("no ASK redirection seen for a moved key")
	}
	if got := dst.c.str("CLUSTER", "COUNTKEYSINSLOT", js); got != strconv.Itoa(clients*perClient) {
		t.Fatalf("target has %s keys in the slot, want %d", got, clients*perClient)
	}
	if got := src.c.str("GET", tag+"c0:0"); !strings.HasPrefix(got, "MOVED "+js+" ") {
		t.Fatalf("source after the move: %q", got)
	}
}

// The ASK dance of a migrating and an importing slot, reply by reply,
// against two redis-server cluster nodes.
func TestAskDanceVsRedis(t *testing.T) {
	type pair struct{ src, dst *rawConn }
	setup := func(srcAddr, dstAddr string) pair {
		a, b := dialRaw(t, srcAddr), dialRaw(t, dstAddr)
		ida, idb := a.str("CLUSTER", "MYID"), b.str("CLUSTER", "MYID")
		a.str("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
		h, p := hostPort(t, dstAddr)
		bp := ""
		for _, l := range strings.Split(b.str("CLUSTER", "NODES"), "\n") {
			if strings.Contains(l, "myself") {
				addr := strings.Fields(l)[1]
				bp = addr[strings.IndexByte(addr, '@')+1:]
				if i := strings.IndexByte(bp, ','); i >= 0 {
					bp = bp[:i]
				}
			}
		}
		a.str("CLUSTER", "MEET", h, p, bp)
		eventually(t, 10*time.Second, func() error {
			if !strings.Contains(b.str("CLUSTER", "NODES"), ida) || !strings.Contains(a.str("CLUSTER", "NODES"), idb) ||
				!strings.HasPrefix(b.str("CLUSTER", "INFO"), "cluster_state:ok") {
				return fmt.Errorf("not joined")
			}
			return nil
		})
		b.str("CLUSTER", "SETSLOT", "12182", "IMPORTING", ida) // slot of "foo"
		a.str("CLUSTER", "SETSLOT", "12182", "MIGRATING", idb)
		return pair{a, b}
	}
	script := func(p pair, dstAddr string) []string {
		var out []string
		do := func(c *rawConn, args ...string) {
			r := c.str(args...)
			if f := strings.Fields(r); len(f) == 3 && (f[0] == "ASK" || f[0] == "MOVED") {
				r = f[0] + " " + f[1] // the address differs
			}
			out = append(out, r)
		}
		h, port := hostPort(t, dstAddr)
		do(p.src, "SET", "foo", "1")
		do(p.src, "SET", "{foo}2", "2")
		do(p.src, "MIGRATE", h, port, "foo", "0", "1000")
		do(p.src, "GET", "foo")                   // ASK: gone
		do(p.src, "GET", "{foo}2")                // still here
		do(p.src, "SET", "{foo}new", "x")         // ASK: new key
		do(p.src, "MGET", "foo", "{foo}2")        // TRYAGAIN: split
		do(p.src, "MGET", "foo", "{foo}new")      // ASK: none here
		do(p.dst, "GET", "foo")                   // MOVED without ASKING
		do(p.dst, "ASKING")                       //
		do(p.dst, "GET", "foo")                   // served
		do(p.dst, "GET", "foo")                   // MOVED: ASKING lasts one command
		do(p.dst, "ASKING")                       //
		do(p.dst, "MGET", "foo", "{foo}2")        // TRYAGAIN: split
		do(p.dst, "ASKING")                       //
		do(p.dst, "SET", "{foo}new", "y")         // created here
		do(p.dst, "READONLY")                     // a master: no effect on routing
		do(p.dst, "GET", "foo")                   // MOVED
		do(p.dst, "RESTORE-ASKING", "x", "0", "") // bad payload, but routed here
		do(p.src, "MIGRATE", h, port, "{foo}2", "0", "1000")
		do(p.src, "MGET", "foo", "{foo}2") // ASK: all gone
		do(p.dst, "ASKING")
		do(p.dst, "MGET", "foo", "{foo}2") // served
		return out
	}
	r1, r2 := startRedisCluster(t), startRedisCluster(t)
	want := script(setup(r1, r2), r2)
	_, a1 := startCluster(t, "")
	_, a2 := startCluster(t, "")
	got := script(setup(a1, a2), a2)
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Errorf("step %d: redgo %q, redis %q", i, at(got, i), at(want, i))
		}
	}
}
