// Package rdbtest helps tests compare datasets between redgo and a real
// redis-server 7.0: start a redis-server in a directory, fill a database
// with every type in every encoding, and capture a database's content
// (type, value, encoding, absolute expiry of each key) through any RESP
// server.
package rdbtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
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

var ctx = context.Background()

// Redis is a redis-server process started by a test.
type Redis struct {
	Addr    string
	Port    int
	Dir     string
	LogPath string // its stdout and stderr: the server's log
	cmd     *exec.Cmd
}

// SkipWithoutRedis skips t when redis-server is not installed, unless
// REDGO_REQUIRE_REDIS is set (then it fails).
func SkipWithoutRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not found and REDGO_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not installed")
	}
	return bin
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartRedis runs redis-server with --dir dir (and --save "", plus
// args), waits until it answers PING (an error reply, as -NOAUTH with
// --requirepass, is an answer) and stops it when the test ends.
func StartRedis(t testing.TB, dir string, args ...string) *Redis {
	t.Helper()
	bin := SkipWithoutRedis(t)
	port := FreePort(t)
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--enable-debug-command", "yes"}, args...)
	cmd := exec.Command(bin, all...)
	logf, _ := os.Create(filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, Dir: dir, LogPath: logf.Name(), cmd: cmd}
	t.Cleanup(func() { r.Stop(); logf.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := Client(t, r.Addr, 0)
		err := c.Ping(ctx).Err()
		c.Close()
		var reply redis.Error
		if err == nil || errors.As(err, &reply) {
			return r
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("redis-server did not start: %v\n%s", err, log)
		}
		if cmd.ProcessState != nil {
			t.Fatal("redis-server exited")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns what the server has logged so far.
func (r *Redis) Log() []byte {
	b, _ := os.ReadFile(r.LogPath)
	return b
}

// Eventually polls fn until it returns nil, and fails the test with fn's
// last error when total has passed.
func Eventually(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v: %v", total, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server (it is the test's own child process).
func (r *Redis) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// Client returns a RESP2 go-redis client on database db.
func Client(t testing.TB, addr string, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2, ReadTimeout: time.Minute,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	return c
}

// ExpireAt is the absolute expiry given to volatile keys by Populate.
var ExpireAt = time.Now().Add(24 * time.Hour).UnixMilli()

// Populate fills database 0 (and a few keys in 5) of the server at addr
// with every type in every encoding Redis 7.0 uses, big values included,
// some keys with a TTL.
func Populate(t testing.TB, addr string) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	c := Client(t, addr, 0)
	defer c.Close()
	p := c.Pipeline()
	randBytes := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	// Strings: raw, int (8/16/32 bit and beyond), LZF, incompressible, big, binary.
	p.Set(ctx, "str", "hello", 0)
	for i, v := range []string{"0", "-1", "127", "-128", "300", "-32768", "70000", "-2147483648",
		"4294967296", "9223372036854775807", "007", "+5", "1.5"} {
		p.Set(ctx, "num:"+strconv.Itoa(i), v, 0)
	}
	p.Set(ctx, "empty", "", 0)
	p.Set(ctx, "lzf", strings.Repeat("abcdefgh", 100), 0)
	p.Set(ctx, "random", randBytes(300), 0)
	p.Set(ctx, "big", strings.Repeat("0123456789abcdef", 1<<16)+randBytes(5000), 0)
	p.Set(ctx, "bin", "\x00\xff\r\n\x01", 0)
	p.Set(ctx, "12345", "integer key", 0)
	p.Set(ctx, strings.Repeat("k", 200), "long key", 0)
	p.Set(ctx, "appended", "a", 0)
	p.Append(ctx, "appended", strings.Repeat("b", 50))
	p.PFAdd(ctx, "hll:sparse", "a", "b", "c")
	for i := 0; i < 3000; i += 100 {
		els := make([]any, 100)
		for j := range els {
			els[j] = "e" + strconv.Itoa(i+j)
		}
		p.PFAdd(ctx, "hll:dense", els...)
	}
	// Lists: one node, many nodes, ints, huge elements.
	p.RPush(ctx, "list:small", "a", "1", "-5", "300", "70000", "99999999999", "", "-4096", "4095", "8388607", "-8388609")
	for i := 0; i < 20000; i += 500 {
		els := make([]any, 500)
		for j := range els {
			if j%3 == 0 {
				els[j] = strconv.Itoa(i + j)
			} else {
				els[j] = "element:" + strconv.Itoa(i+j)
			}
		}
		p.RPush(ctx, "list:big", els...)
	}
	p.RPush(ctx, "list:huge", strings.Repeat("x", 20000), "small", randBytes(9000), strings.Repeat("y", 100000))
	p.LPush(ctx, "list:lpushed", "3", "2", "1")
	// Hashes: listpack, hashtable by count, hashtable by value length.
	p.HSet(ctx, "hash:small", "f1", "v1", "n", "42", "neg", "-3", "empty", "")
	for i := 0; i < 1000; i += 100 {
		args := make([]any, 0, 200)
		for j := 0; j < 100; j++ {
			args = append(args, "field:"+strconv.Itoa(i+j), strconv.Itoa((i+j)*7))
		}
		p.HSet(ctx, "hash:big", args...)
	}
	p.HSet(ctx, "hash:longval", "f", strings.Repeat("v", 100), "g", "short")
	// Sets: intset (16/32/64 bit), hashtable by content and by count.
	p.SAdd(ctx, "set:int16", 1, 2, 3, -100)
	p.SAdd(ctx, "set:int32", 1, 70000, -70000)
	p.SAdd(ctx, "set:int64", 1, "9223372036854775807", "-9223372036854775808")
	p.SAdd(ctx, "set:strings", "a", "b", "c", "1")
	for i := 0; i < 1000; i += 100 {
		args := make([]any, 100)
		for j := range args {
			args[j] = i + j
		}
		p.SAdd(ctx, "set:bigint", args...)
	}
	// Sorted sets: listpack, skiplist by count and by member length, odd scores.
	p.ZAdd(ctx, "zset:small", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -3, Member: "b"},
		redis.Z{Score: 0.1, Member: "c"}, redis.Z{Score: 1e20, Member: "d"}, redis.Z{Score: 7, Member: "42"})
	p.Do(ctx, "ZADD", "zset:special", "inf", "pinf", "-inf", "ninf", "0", "zero", "1e-300", "tiny", "-0", "negzero")
	for i := 0; i < 300; i += 100 {
		zs := make([]redis.Z, 100)
		for j := range zs {
			zs[j] = redis.Z{Score: float64(i+j) / 3, Member: "member:" + strconv.Itoa(i+j)}
		}
		p.ZAdd(ctx, "zset:big", zs...)
	}
	p.ZAdd(ctx, "zset:longmember", redis.Z{Score: 1, Member: strings.Repeat("m", 100)}, redis.Z{Score: 2, Member: "n"})
	// Streams: one node, several nodes with deletions and mixed fields,
	// consumer groups with pending entries, an empty stream with a group.
	p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:small", ID: "1-1", Values: []any{"f", "v", "n", "42"}})
	p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:small", ID: "2-0", Values: []any{"f", "w", "n", "-7"}})
	for i := 1; i <= 700; i++ {
		vals := []any{"field", "value:" + strconv.Itoa(i), "num", strconv.Itoa(i * 1000)}
		if i%7 == 0 {
			vals = []any{"other", strconv.Itoa(-i), "x", randBytes(i % 50)}
		}
		p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:big", ID: strconv.Itoa(1000+i/3) + "-" + strconv.Itoa(i%3), Values: vals})
	}
	p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:big", ID: "5000-0", Values: []any{"big", strings.Repeat("b", 5000)}})
	p.XDel(ctx, "stream:big", "1001-1", "1100-0", "1200-2", "1233-1")
	for i := 1000; i < 1040; i++ {
		p.XDel(ctx, "stream:big", strconv.Itoa(i)+"-0", strconv.Itoa(i)+"-1", strconv.Itoa(i)+"-2")
	}
	p.XGroupCreate(ctx, "stream:big", "g1", "0")
	p.XGroupCreate(ctx, "stream:big", "g2", "$")
	p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "alice", Streams: []string{"stream:big", ">"}, Count: 5})
	p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "bob", Streams: []string{"stream:big", ">"}, Count: 3})
	p.XAck(ctx, "stream:big", "g1", "1040-1")
	p.Do(ctx, "XGROUP", "CREATECONSUMER", "stream:big", "g2", "carol")
	p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:empty", ID: "7-7", Values: []any{"a", "b"}})
	p.XDel(ctx, "stream:empty", "7-7")
	p.XGroupCreate(ctx, "stream:empty", "g", "0")
	// TTLs on one key of each type.
	for _, k := range []string{"str", "num:1", "list:small", "list:big", "hash:small", "hash:big", "set:int16",
		"set:bigint", "zset:small", "zset:big", "hll:dense", "stream:small"} {
		p.PExpireAt(ctx, k, time.UnixMilli(ExpireAt))
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	c5 := Client(t, addr, 5)
	defer c5.Close()
	p5 := c5.Pipeline()
	p5.Set(ctx, "db5:str", "five", 0)
	p5.RPush(ctx, "db5:list", "x", "y")
	p5.Set(ctx, "db5:volatile", "v", 0)
	p5.PExpireAt(ctx, "db5:volatile", time.UnixMilli(ExpireAt))
	if _, err := p5.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// Key is a captured key.
type Key struct {
	Type     string
	Encoding string
	ExpireAt int64 // PEXPIRETIME: -1 none
	Value    string
}

// Capture reads every key of database db at addr.
func Capture(t testing.TB, addr string, db int) map[string]Key {
	t.Helper()
	c := Client(t, addr, db)
	defer c.Close()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Key{}
	for _, k := range keys {
		out[k] = captureKey(t, c, k)
	}
	return out
}

// CaptureKey reads one key of database db at addr.
func CaptureKey(t testing.TB, addr string, db int, key string) Key {
	c := Client(t, addr, db)
	defer c.Close()
	return captureKey(t, c, key)
}

func captureKey(t testing.TB, c *redis.Client, k string) Key {
	t.Helper()
	var err error
	var kk Key
	kk.Type = c.Type(ctx, k).Val()
	kk.Encoding = c.ObjectEncoding(ctx, k).Val()
	kk.ExpireAt, err = c.Do(ctx, "PEXPIRETIME", k).Int64()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	switch kk.Type {
	case "string":
		kk.Value = strconv.Quote(c.Get(ctx, k).Val())
	case "list":
		for _, v := range c.LRange(ctx, k, 0, -1).Val() {
			parts = append(parts, strconv.Quote(v))
		}
		kk.Value = strings.Join(parts, ",")
	case "hash":
		for f, v := range c.HGetAll(ctx, k).Val() {
			parts = append(parts, strconv.Quote(f)+"="+strconv.Quote(v))
		}
		sort.Strings(parts)
		kk.Value = strings.Join(parts, ",")
	case "set":
		parts = c.SMembers(ctx, k).Val()
		for i := range parts {
			parts[i] = strconv.Quote(parts[i])
		}
		sort.Strings(parts)
		kk.Value = strings.Join(parts, ",")
	case "zset":
		for _, z := range c.ZRangeWithScores(ctx, k, 0, -1).Val() {
			parts = append(parts, strconv.Quote(z.Member.(string))+"="+strconv.FormatFloat(z.Score, 'g', -1, 64))
		}
		kk.Value = strings.Join(parts, ",")
	case "stream":
		v, err := c.Do(ctx, "XINFO", "STREAM", k, "FULL", "COUNT", "0").Slice()
		if err != nil {
			t.Fatal(err)
		}
		kk.Value = streamFromInfo(v)
	default:
		t.Fatalf("key %q: unexpected type %s", k, kk.Type)
	}
	return kk
}

// Stream is a stream rendered for comparison: what XINFO STREAM FULL
// shows but the radix tree's inner node count.
type Stream struct {
	Length, Nodes, EntriesAdded   int64
	LastID, MaxDeletedID, FirstID string
	Entries                       []string // "id f v f v"
	Groups                        []string // "name last read pel:[id cons time count] consumers:[name seen [id time count]]"
}

func (s Stream) String() string {
	return fmt.Sprintf("len=%d nodes=%d added=%d last=%s maxdel=%s first=%s entries=%q groups=%q",
		s.Length, s.Nodes, s.EntriesAdded, s.LastID, s.MaxDeletedID, s.FirstID, s.Entries, s.Groups)
}

// streamFromInfo renders a RESP2 XINFO STREAM FULL COUNT 0 reply.
func streamFromInfo(v []any) string {
	var s Stream
	for i := 0; i+1 < len(v); i += 2 {
		val := v[i+1]
		switch v[i] {
		case "length":
			s.Length = val.(int64)
		case "radix-tree-keys":
			s.Nodes = val.(int64)
		case "entries-added":
			s.EntriesAdded = val.(int64)
		case "last-generated-id":
			s.LastID = val.(string)
		case "max-deleted-entry-id":
			s.MaxDeletedID = val.(string)
		case "recorded-first-entry-id":
			s.FirstID = val.(string)
		case "entries":
			for _, e := range val.([]any) {
				s.Entries = append(s.Entries, flat(e))
			}
		case "groups":
			for _, g := range val.([]any) {
				s.Groups = append(s.Groups, flat(g))
			}
		}
	}
	return s.String()
}

// flat renders a reply as space-separated words, nil as "nil".
func flat(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flat(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case nil:
		return "nil"
	}
	return fmt.Sprint(v)
}

// Diff describes the differences between two captures (want, got).
func Diff(want, got map[string]Key, checkEncoding bool) []string {
	var d []string
	short := func(s string) string {
		if len(s) > 200 {
			return s[:200] + fmt.Sprintf("...(%d bytes)", len(s))
		}
		return s
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("%q missing", short(k)))
		case g.Type != w.Type:
			d = append(d, fmt.Sprintf("%q: type %s, want %s", short(k), g.Type, w.Type))
		case g.Value != w.Value:
			d = append(d, fmt.Sprintf("%q: value %s, want %s", short(k), short(g.Value), short(w.Value)))
		case g.ExpireAt != w.ExpireAt:
			d = append(d, fmt.Sprintf("%q: expire %d, want %d", short(k), g.ExpireAt, w.ExpireAt))
		case checkEncoding && g.Encoding != w.Encoding:
			d = append(d, fmt.Sprintf("%q: encoding %s, want %s", short(k), g.Encoding, w.Encoding))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%q unexpected", short(k)))
		}
	}
	sort.Strings(d)
	return d
}
