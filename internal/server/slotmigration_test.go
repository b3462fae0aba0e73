package server

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/resp"
	"redgo/internal/slot"
)

// incrLoad increments counters through plain connections that follow
// -MOVED by themselves, so every redirection and error a client sees is
// counted. Each counter's acknowledged value is the last INCR reply:
// afterwards the stored value must equal it (nothing lost, nothing
// applied twice).
type incrLoad struct {
	keys   []string
	mu     sync.Mutex
	acked  map[string]int64
	errs   map[string]int // by error code ("MOVED", "ASK", "IO"...)
	failed []string       // texts of errors other than MOVED
	ops    int
	stop   chan struct{}
	wg     sync.WaitGroup
}

// startIncrLoad runs workers goroutines over keys, split among them;
// owner gives the address first asked for a slot.
func startIncrLoad(keys []string, workers int, owner func(j int) string) *incrLoad {
	l := &incrLoad{keys: keys, acked: map[string]int64{}, errs: map[string]int{}, stop: make(chan struct{})}
	for w := range workers {
		var mine []string
		for i := w; i < len(keys); i += workers {
			mine = append(mine, keys[i])
		}
		l.wg.Add(1)
		go l.run(mine, owner)
	}
	return l
}

func (l *incrLoad) run(keys []string, owner func(j int) string) {
	defer l.wg.Done()
	conns := map[string]*plainConn{}
	defer func() {
		for _, c := range conns {
			c.conn.Close()
		}
	}()
	where := map[int]string{}
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := keys[n%len(keys)]
		j := slot.OfString(key)
		addr, ok := where[j]
		if !ok {
			addr = owner(j)
		}
		c := conns[addr]
		if c == nil {
			var err error
			if c, err = dialPlain(addr); err != nil {
				l.note("IO", err.Error())
				return
			}
			conns[addr] = c
		}
		v, err := c.do("INCR", key)
		if err != nil {
			l.note("IO", err.Error())
			return
		}
		if v.Type == '-' {
			code, rest, _ := strings.Cut(v.Str, " ")
			l.note(code, v.Str)
			if code == "MOVED" {
				f := strings.Fields(rest)
				where[j] = f[len(f)-1]
				continue
			}
			time.Sleep(time.Millisecond)
			continue
		}
		where[j] = addr
		l.mu.Lock()
		l.acked[key] = v.Int
		l.ops++
		l.mu.Unlock()
	}
}

func (l *incrLoad) note(code, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs[code]++
	if code != "MOVED" && len(l.failed) < 10 {
		l.failed = append(l.failed, text)
	}
}

func (l *incrLoad) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// plainConn is a request/reply connection usable from any goroutine
// (no testing.T).
type plainConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialPlain(addr string) (*plainConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &plainConn{conn: c, r: bufio.NewReader(c)}, nil
}

func (c *plainConn) do(args ...string) (resp.Value, error) {
	var w resp.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(w.Buf); err != nil {
		return resp.Value{}, err
	}
	return resp.ReadValue(c.r)
}

// fillSlots writes perSlot counters "{s<j>}:<i>" = 0 in each slot of
// [lo, hi] through c, pipelined.
func fillSlots(t *testing.T, c *rawConn, lo, hi, perSlot int) []string {
	t.Helper()
	var keys []string
	var w resp.Writer
	for j := lo; j <= hi; j++ {
		tag := hashTagFor(j)
		for i := range perSlot {
			k := "{" + tag + "}:" + strconv.Itoa(i)
			keys = append(keys, k)
			w.Array(3)
			w.BulkString("SET")
			w.BulkString(k)
			w.BulkString("0")
		}
	}
	if _, err := c.conn.Write(w.Buf); err != nil {
		t.Fatal(err)
	}
	for range keys {
		if v, _ := c.read(); v.Str != "OK" {
			t.Fatalf("SET: %s", valueString(v))
		}
	}
	c.rec.buf.Reset()
	return keys
}

// hashTagFor returns a string whose slot is j.
func hashTagFor(j int) string {
	for i := 0; ; i++ {
		k := "t" + strconv.Itoa(i)
		if slot.OfString(k) == j {
			return k
		}
	}
}

// slotsKeys counts the keys of slots [lo, hi] on the node of c.
func slotsKeys(c *rawConn, lo, hi int) int {
	n := 0
	for j := lo; j <= hi; j++ {
		k, _ := strconv.Atoi(c.str("CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(j)))
		n += k
	}
	return n
}

// Slots 0-199 (20 keys each) move from master 0 to master 1 while
// clients increment counters in them and elsewhere: every acknowledged
// increment is there afterwards, exactly once; clients saw no error
// but MOVED; both replicas agree with their masters.
func TestMigrateSlotsUnderLoad(t *testing.T) {
	nodes := startHACluster(t, 2, 2)
	src, dst := nodes[0], nodes[1]
	keys := fillSlots(t, src.c, 0, 199, 20)
	keys = append(keys, fillSlots(t, src.c, 1000, 1009, 5)...) // not moved
	load := startIncrLoad(keys, 8, func(j int) string { return src.addr })
	eventually(t, 10*time.Second, func() error {
		load.mu.Lock()
		defer load.mu.Unlock()
		if load.ops < 500 {
			return fmt.Errorf("%d increments so far", load.ops)
		}
		return nil
	})
	if got := src.c.str("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "99", "100", "199", "NODE", dst.id); got != "OK" {
		t.Fatalf("CLUSTER MIGRATESLOTS: %s", got)
	}
	before := load.ops
	eventually(t, 10*time.Second, func() error {
		load.mu.Lock()
		defer load.mu.Unlock()
		if load.ops < before+500 {
			return fmt.Errorf("%d increments after the move", load.ops-before)
		}
		return nil
	})
	load.halt()
	t.Logf("%d increments, errors seen by clients: %v", load.ops, load.errs)
	if len(load.failed) > 0 {
		t.Fatalf("clients saw errors other than MOVED: %v (%v)", load.errs, load.failed)
	}
	if load.errs["MOVED"] == 0 {
		t.Fatal("no client was redirected: the load did not touch the moved slots")
	}
	if n := slotsKeys(src.c, 0, 199); n != 0 {
		t.Fatalf("%d keys of the moved slots left on the source", n)
	}
	if n := slotsKeys(dst.c, 0, 199); n != 4000 {
		t.Fatalf("%d keys of the moved slots on the target, want 4000", n)
	}
	check := func(n *haNode, key string) string {
		return n.c.str("GET", key)
	}
	for _, k := range keys {
		owner := src
		if slot.OfString(k) < 200 {
			owner = dst
		}
		if got, want := check(owner, k), strconv.FormatInt(load.acked[k], 10); got != want {
			t.Fatalf("%s = %s on its owner, last acknowledged %s", k, got, want)
		}
	}
	// The replicas end equal to their masters.
	for i, m := range nodes[:2] {
		r := nodes[2+i]
		eventually(t, 20*time.Second, func() error {
			if a, b := m.c.str("DBSIZE"), r.c.str("DBSIZE"); a != b {
				return fmt.Errorf("master %s has %s keys, its replica %s", m.addr, a, b)
			}
			r.c.str("READONLY")
			for _, k := range keys {
				if slot.OfString(k) < 200 != (m == dst) {
					continue
				}
				if got, want := r.c.str("GET", k), m.c.str("GET", k); got != want {
					return fmt.Errorf("%s: replica %s, master %s", k, got, want)
				}
			}
			return nil
		})
	}
	// Every node sees the new owner.
	for _, n := range nodes {
		eventually(t, 10*time.Second, func() error {
			if got := n.c.str("CLUSTER", "KEYSLOT", keys[0]); got != "0" {
				return fmt.Errorf("KEYSLOT %s", got)
			}
			v, _ := n.c.do("CLUSTER", "SLOTS")
			for _, r := range v.Elems {
				if r.Elems[0].Int == 0 && r.Elems[2].Elems[2].Str != dst.id {
					return fmt.Errorf("node %s: slot 0 served by %s", n.addr, r.Elems[2].Elems[2].Str)
				}
			}
			return nil
		})
	}
	list := valueString(first(src.c.do("CLUSTER", "GETSLOTMIGRATIONS")))
	if !strings.Contains(list, "state success") || !strings.Contains(list, "slot_ranges 0-199") {
		t.Fatalf("CLUSTER GETSLOTMIGRATIONS: %s", list)
	}
	t.Logf("CLUSTER GETSLOTMIGRATIONS: %s", list)
}

func first(v resp.Value, _ []byte) resp.Value { return v }

// The target closes (as killed) in the middle of a transfer: the source
// replies an error, keeps the slots and every key; the target keeps
// nothing of them.
func TestMigrateSlotsTargetDies(t *testing.T) {
	nodes := startHACluster(t, 3, 0)
	src, dst := nodes[0], nodes[1]
	keys := fillSlots(t, src.c, 0, 999, 30)
	done := make(chan string, 1)
	go func() {
		c, err := dialPlain(src.addr)
		if err != nil {
			done <- err.Error()
			return
		}
		defer c.conn.Close()
		v, err := c.do("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "999", "NODE", dst.id)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- valueString(v)
	}()
	eventually(t, 20*time.Second, func() error {
		if n, _ := strconv.Atoi(dst.c.str("DBSIZE")); n < 100 {
			return fmt.Errorf("%d keys on the target so far", n)
		}
		return nil
	})
	dst.s.Close()
	var reply string
	select {
	case reply = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("CLUSTER MIGRATESLOTS did not return after its target closed")
	}
	if reply == "OK" {
		t.Skip("the transfer ended before the target closed")
	}
	if !strings.HasPrefix(reply, "IOERR") && !strings.HasPrefix(reply, "ERR") {
		t.Fatalf("reply %q, want an error", reply)
	}
	if n := slotsKeys(src.c, 0, 999); n != len(keys) {
		t.Fatalf("%d keys on the source, want %d", n, len(keys))
	}
	for _, k := range keys[:50] {
		if got := src.c.str("GET", k); got != "0" {
			t.Fatalf("GET %s on the source: %s", k, got)
		}
	}
	if got := src.c.str("CLUSTER", "COUNTKEYSINSLOT", "0"); got != "30" {
		t.Fatalf("COUNTKEYSINSLOT 0: %s", got)
	}
	v, _ := nodes[2].c.do("CLUSTER", "SLOTS")
	for _, r := range v.Elems {
		if r.Elems[0].Int == 0 && r.Elems[2].Elems[2].Str != src.id {
			t.Fatalf("slot 0 served by %s after the rollback", r.Elems[2].Elems[2].Str)
		}
	}
	list := valueString(first(src.c.do("CLUSTER", "GETSLOTMIGRATIONS")))
	if !strings.Contains(list, "state failed") {
		t.Fatalf("CLUSTER GETSLOTMIGRATIONS: %s", list)
	}
}

// The snapshot's keys travel in CLUSTER SYNCSLOTS KEYS batches: a slot
// of 2500 keys (three batches), one of large values (a batch per
// megabyte) and one of every type with and without TTLs arrive whole,
// each key with the value and TTL it had, on the target and its replica.
func TestMigrateSlotsBatches(t *testing.T) {
	nodes := startHACluster(t, 2, 2)
	src, dst, replica := nodes[0], nodes[1], nodes[3]
	var w resp.Writer
	cmds := 0
	add := func(args ...string) {
		w.Array(len(args))
		for _, a := range args {
			w.BulkString(a)
		}
		cmds++
	}
	var keys []string
	t0, t1, t2 := hashTagFor(0), hashTagFor(1), hashTagFor(2)
	for i := range 2500 {
		k := "{" + t0 + "}:" + strconv.Itoa(i)
		keys = append(keys, k)
		add("SET", k, "value-"+strconv.Itoa(i*7919))
	}
	for i := range 5 {
		k := "{" + t1 + "}:big" + strconv.Itoa(i)
		keys = append(keys, k)
		add("SET", k, strings.Repeat(strconv.Itoa(i), 400<<10))
	}
	typed := map[string][]string{
		"str": {"SET", "", "plain"}, "int": {"SET", "", "12345"}, "neg": {"SET", "", "-7"},
		"list": {"RPUSH", "", "a", "b", "c"}, "hash": {"HSET", "", "f1", "v1", "f2", "v2"},
		"set": {"SADD", "", "x", "y", "1"}, "zset": {"ZADD", "", "1", "m1", "2.5", "m2"},
		"bighash": {"HSET", "", "f", strings.Repeat("h", 200)},
		"ttl":     {"SET", "", "soon", "PX", "3600000"}, "ttlhash": {"HSET", "", "f", "v"},
	}
	for name, args := range typed {
		k := "{" + t2 + "}:" + name
		keys = append(keys, k)
		args[1] = k
		add(args...)
	}
	add("PEXPIRE", "{"+t2+"}:ttlhash", "7200000")
	if _, err := src.c.conn.Write(w.Buf); err != nil {
		t.Fatal(err)
	}
	for range cmds {
		if v, _ := src.c.read(); v.Type == '-' {
			t.Fatalf("fill: %s", v.Str)
		}
	}
	src.c.rec.buf.Reset()
	dumps := map[string]string{}
	for _, k := range keys {
		dumps[k] = src.c.str("DUMP", k)
	}
	if got := src.c.str("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "2", "NODE", dst.id); got != "OK" {
		t.Fatalf("CLUSTER MIGRATESLOTS: %s", got)
	}
	list := valueString(first(src.c.do("CLUSTER", "GETSLOTMIGRATIONS")))
	// Batches: 3 of slot 0 (1024 + 1024 + 452 keys), 2 of slot 1 (a batch
	// ends past a megabyte: 3 + 2 values), 1 of slot 2; then FINISH.
	want := "keys " + strconv.Itoa(len(keys)) + " commands 7 "
	if !strings.Contains(list, "state success") || !strings.Contains(list, want) {
		t.Fatalf("CLUSTER GETSLOTMIGRATIONS: %s; want %q", list, want)
	}
	if n := slotsKeys(src.c, 0, 2); n != 0 {
		t.Fatalf("%d keys of the moved slots left on the source", n)
	}
	if n := slotsKeys(dst.c, 0, 2); n != len(keys) {
		t.Fatalf("%d keys of the moved slots on the target, want %d", n, len(keys))
	}
	replica.c.str("READONLY")
	for _, n := range []*haNode{dst, replica} {
		eventually(t, 20*time.Second, func() error {
			for _, k := range keys {
				if got := n.c.str("DUMP", k); got != dumps[k] {
					return fmt.Errorf("%s: DUMP %s on %s, %s on the source before", k, got, n.addr, dumps[k])
				}
			}
			return nil
		})
		for _, k := range []string{"{" + t2 + "}:ttl", "{" + t2 + "}:ttlhash"} {
			if ms, _ := strconv.Atoi(n.c.str("PTTL", k)); ms < 3500000 {
				t.Fatalf("PTTL %s on %s: %d", k, n.addr, ms)
			}
		}
		if got := n.c.str("PTTL", "{"+t2+"}:hash"); got != "-1" {
			t.Fatalf("PTTL of a key without TTL on %s: %s", n.addr, got)
		}
	}
}

// CLUSTER SYNCSLOTS KEYS on an import link: a batch is checked whole
// before anything is stored (slot imported by this link, every key of
// that slot, every payload sound), keys already past their expiry are
// not stored, and the link's close drops what it brought.
func TestSyncSlotsKeys(t *testing.T) {
	nodes := startHACluster(t, 2, 0)
	src, dst := nodes[0], nodes[1]
	tag := hashTagFor(0)
	key := func(i int) string { return "{" + tag + "}:" + strconv.Itoa(i) }
	var dumps []string
	for i := range 4 {
		src.c.str("SET", key(i), "v"+strconv.Itoa(i))
		dumps = append(dumps, src.c.str("DUMP", key(i)))
	}
	other := "{" + hashTagFor(5) + "}:x"
	link := dialRaw(t, dst.addr)
	if got := link.str("CLUSTER", "SYNCSLOTS", "KEYS", "0", key(0), "0", dumps[0]); got != "ERR This connection is not importing slots" {
		t.Fatalf("KEYS before START: %s", got)
	}
	if got := link.str("CLUSTER", "SYNCSLOTS", "START", src.id, "0", "0"); got != "OK" {
		t.Fatalf("START: %s", got)
	}
	future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	bad := []byte(dumps[1])
	bad[len(bad)-1] ^= 1
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"1", key(0), "0", dumps[0]}, "ERR Slot 1 is not being imported by this connection"},
		{[]string{"16384", key(0), "0", dumps[0]}, "ERR Invalid or out of range slot"},
		{[]string{"0", key(0), "0"}, "ERR syntax error"},
		{[]string{"0", key(0), "0", dumps[0], other, "0", dumps[1]}, "ERR Key '" + other + "' is not in slot 0"},
		{[]string{"0", key(0), "-1", dumps[0]}, "ERR Invalid TTL value, must be >= 0"},
		{[]string{"0", key(0), "0", dumps[0], key(1), "0", string(bad)}, "ERR DUMP payload version or checksum are wrong"},
		{[]string{"0", key(0), "0", dumps[0], key(1), "0", "\x00\x03abc"}, "ERR DUMP payload version or checksum are wrong"},
	} {
		if got := link.str(append([]string{"CLUSTER", "SYNCSLOTS", "KEYS"}, c.args...)...); got != c.want {
			t.Fatalf("KEYS %q: %s, want %s", c.args, got, c.want)
		}
	}
	if got := dst.c.str("CLUSTER", "COUNTKEYSINSLOT", "0"); got != "0" {
		t.Fatalf("refused batches stored %s keys", got)
	}
	got := link.str("CLUSTER", "SYNCSLOTS", "KEYS", "0", key(0), "0", dumps[0], key(1), future, dumps[1], key(2), "0", dumps[2])
	if got != "OK" {
		t.Fatalf("KEYS: %s", got)
	}
	if got := link.str("CLUSTER", "SYNCSLOTS", "KEYS", "0", key(3), "1", dumps[3], key(0), "0", dumps[3]); got != "OK" {
		t.Fatalf("KEYS of an expired key: %s", got)
	}
	if got := dst.c.str("CLUSTER", "COUNTKEYSINSLOT", "0"); got != "3" {
		t.Fatalf("%s keys of slot 0 on the target, want 3: %s", got, dst.c.str("CLUSTER", "GETKEYSINSLOT", "0", "10"))
	}
	// The import link itself reads what it stored (the slot is routed to it).
	if got := link.str("GET", key(0)); got != "v3" {
		t.Fatalf("GET %s on the import link: %s (a later batch replaces the value)", key(0), got)
	}
	if ms, _ := strconv.Atoi(link.str("PTTL", key(1))); ms < 3500000 {
		t.Fatalf("PTTL %s: %d", key(1), ms)
	}
	link.conn.Close()
	eventually(t, 10*time.Second, func() error {
		if got := dst.c.str("CLUSTER", "COUNTKEYSINSLOT", "0"); got != "0" {
			return fmt.Errorf("%s keys of slot 0 left after the link closed", got)
		}
		return nil
	})
}
