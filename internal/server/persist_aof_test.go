package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/aof"
	"redgo/internal/config"
	"redgo/internal/vfs"
)

// startAOF starts a server with appendonly yes in dir (loading what is
// there). It returns the server and a client, or the LoadData error.
func startAOF(t *testing.T, dir string, args ...string) (*Server, *redis.Client, error) {
	t.Helper()
	return startAOFOn(t, nil, dir, args...)
}

// startAOFOn is startAOF with the server's files in fs (nil: the OS's).
func startAOFOn(t *testing.T, fs vfs.FS, dir string, args ...string) (*Server, *redis.Client, error) {
	t.Helper()
	var opts []Option
	if fs != nil {
		opts = append(opts, WithFS(fs))
	}
	return startAOFWith(t, opts, dir, args...)
}

// startAOFWith is startAOF for a server built with opts.
func startAOFWith(t *testing.T, opts []Option, dir string, args ...string) (*Server, *redis.Client, error) {
	t.Helper()
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes"}, args...)
	cfg, err := config.Load("", all)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncBuffer
	s.Log.SetOutput(&logBuf)
	aofLogs.Store(s, &logBuf)
	if err := s.LoadData(); err != nil {
		s.Close()
		return nil, nil, err
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, goRedis(t, s.Addr().String()), nil
}

var aofLogs sync.Map // *Server -> *syncBuffer

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func serverLog(s *Server) string {
	if v, ok := aofLogs.Load(s); ok {
		return v.(*syncBuffer).String()
	}
	return ""
}

func mustStartAOF(t *testing.T, dir string, args ...string) (*Server, *redis.Client) {
	t.Helper()
	return mustStartAOFOn(t, nil, dir, args...)
}

func mustStartAOFOn(t *testing.T, fs vfs.FS, dir string, args ...string) (*Server, *redis.Client) {
	t.Helper()
	s, rc, err := startAOFOn(t, fs, dir, args...)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return s, rc
}

func digest(t *testing.T, rc *redis.Client) string {
	t.Helper()
	v, err := rc.Do(ctx, "DEBUG", "DIGEST").Text()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, rc *redis.Client, args ...any) any {
	t.Helper()
	v, err := rc.Do(ctx, args...).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fillTypes writes keys of every type, with TTLs, transactions and
// several databases.
func fillTypes(t *testing.T, rc *redis.Client) {
	t.Helper()
	do(t, rc, "SET", "s", "v")
	do(t, rc, "SET", "n", "10")
	do(t, rc, "INCRBY", "n", "5")
	do(t, rc, "APPEND", "s", "more")
	do(t, rc, "RPUSH", "l", "a", "b", "c")
	do(t, rc, "LPUSH", "l", "z")
	do(t, rc, "HSET", "h", "f1", "v1", "f2", "v2")
	do(t, rc, "SADD", "set", "m1", "m2", "3")
	do(t, rc, "SADD", "iset", "1", "2", "3")
	do(t, rc, "ZADD", "z", "1.5", "a", "-2", "b", "0.1", "c")
	// Absolute expiry: DEBUG DIGEST includes the TTLs, to the millisecond.
	do(t, rc, "SET", "ttl", "x", "PXAT", fmt.Sprint(time.Now().UnixMilli()+1000000))
	do(t, rc, "PEXPIREAT", "l", fmt.Sprint(time.Now().UnixMilli()+5000000))
	for i := 0; i < 200; i++ {
		do(t, rc, "RPUSH", "biglist", fmt.Sprint(i))
		do(t, rc, "HSET", "bighash", fmt.Sprint("f", i), fmt.Sprint(i))
		do(t, rc, "ZADD", "bigz", fmt.Sprint(i), fmt.Sprint("m", i))
		do(t, rc, "SADD", "bigset", fmt.Sprint("m", i))
	}
	pipe := rc.TxPipeline()
	pipe.Incr(ctx, "n")
	pipe.Do(ctx, "SELECT", "3")
	pipe.Set(ctx, "indb3", "yes", 0)
	pipe.Exec(ctx)
	fillStreams(t, rc)
	do(t, rc, "DEL", "nosuch")
	do(t, rc, "SET", "gone", "1")
	do(t, rc, "DEL", "gone")
	// Whole-database commands.
	do(t, rc, "SET", "moved", "1")
	do(t, rc, "MOVE", "moved", "5")
	do(t, rc, "SWAPDB", "5", "6")
	do(t, rc, "SET", "flushed", "1")
	do(t, rc, "SWAPDB", "0", "7")
	do(t, rc, "FLUSHDB")
	do(t, rc, "SWAPDB", "0", "7")
	do(t, rc, "COPY", "s", "s-copy")
}

func TestAOFRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	fillTypes(t, rc)
	want := digest(t, rc)
	s.Close()
	man := readFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if man != "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
		t.Fatalf("manifest:\n%s", man)
	}
	_, rc2 := mustStartAOF(t, dir)
	if got := digest(t, rc2); got != want {
		t.Fatalf("digest after restart %s, want %s", got, want)
	}
	if v := do(t, rc2, "GET", "indb3"); v != nil {
		t.Fatalf("indb3 leaked into db 0: %v", v)
	}
	rc2.Do(ctx, "SELECT", "3")
	if ttl := rc2.TTL(ctx, "ttl").Val(); ttl <= 0 {
		// TTL is per connection db; check in db 0 with a fresh conn below
	}
	c0 := goRedis(t, rc2.Options().Addr)
	if ttl := c0.TTL(ctx, "ttl").Val(); ttl < 900*time.Second || ttl > 1000*time.Second {
		t.Fatalf("ttl = %v", ttl)
	}
}

// TestAOFRewrite: the new base holds the state at the cut, compacted, in
// RDB format (aof-use-rdb-preamble yes, the default) or as commands.
func TestAOFRewrite(t *testing.T) {
	t.Run("rdb", func(t *testing.T) { testAOFRewrite(t, "yes") })
	t.Run("resp", func(t *testing.T) { testAOFRewrite(t, "no") })
}

func testAOFRewrite(t *testing.T, preamble string) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir, "--aof-use-rdb-preamble", preamble)
	ext := map[string]string{"yes": "rdb", "no": "aof"}[preamble]
	fillTypes(t, rc)
	for i := 0; i < 100; i++ {
		do(t, rc, "INCR", "counter")
	}
	want := digest(t, rc)
	if v := do(t, rc, "BGREWRITEAOF"); v != "Background append only file rewriting started" {
		t.Fatalf("BGREWRITEAOF: %v", v)
	}
	waitRewrite(t, s)
	do(t, rc, "SET", "after", "1")
	want2 := digest(t, rc)
	if want2 == want {
		t.Fatal("digest did not change")
	}
	adir := filepath.Join(dir, "appendonlydir")
	man := readFile(t, filepath.Join(adir, "appendonly.aof.manifest"))
	if man != "file appendonly.aof.2.base."+ext+" seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n" {
		t.Fatalf("manifest:\n%s", man)
	}
	ents, _ := os.ReadDir(adir)
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files left: %v", names)
	}
	base := readFile(t, filepath.Join(adir, "appendonly.aof.2.base."+ext))
	switch {
	case ext == "aof" && (strings.Contains(base, "INCR") || !strings.Contains(base, "$7\r\ncounter\r\n$3\r\n100\r\n")):
		t.Fatalf("base is not compacted:\n%.300q", base)
	case ext == "rdb" && (!strings.HasPrefix(base, "REDIS0010") || !strings.Contains(base, "\x08aof-base\xc0\x01") ||
		!strings.Contains(base, "\x07counter\xc0\x64")):
		t.Fatalf("base is not an RDB image with counter=100:\n%.300q", base)
	}
	s.Close()
	_, rc2 := mustStartAOF(t, dir, "--aof-use-rdb-preamble", preamble)
	if got := digest(t, rc2); got != want2 {
		t.Fatalf("digest after rewrite+restart %s, want %s", got, want2)
	}
}

func waitRewrite(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.persist.RewriteRunning() {
		if time.Now().After(deadline) {
			t.Fatal("rewrite did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if aofInfoMap(s)["aof_last_bgrewrite_status"] != "ok" {
		t.Fatalf("rewrite failed:\n%s", serverLog(s))
	}
}

func aofInfoMap(s *Server) map[string]string {
	m := map[string]string{}
	add := func(k, v string) { m[k] = v }
	s.persist.InfoAOF(add)
	s.persist.InfoAOFSizes(add)
	return m
}

// Writes that arrive while a rewrite runs are all kept, exactly once.
// Rewrites while clients write (multi-shard transactions too) lose no
// write and apply none twice: the RDB base is a snapshot taken at the
// instant of the log's cut (a BGSAVE's snapshot running at the same time),
// the RESP base a replay of the files before the cut.
func TestAOFRewriteUnderConcurrentWrites(t *testing.T) {
	t.Run("rdb", func(t *testing.T) { testAOFRewriteUnderConcurrentWrites(t, "yes") })
	t.Run("resp", func(t *testing.T) { testAOFRewriteUnderConcurrentWrites(t, "no") })
}

func testAOFRewriteUnderConcurrentWrites(t *testing.T, preamble string) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir, "--appendfsync", "everysec", "--aof-use-rdb-preamble", preamble)
	var stop atomic.Bool
	var wg sync.WaitGroup
	const clients = 8
	counts := make([]int64, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl := goRedis(t, s.Addr().String())
			for !stop.Load() {
				// Multi-shard writes too: MSET spans shards, a transaction moves data.
				if err := cl.Incr(ctx, fmt.Sprint("ctr", c)).Err(); err != nil {
					t.Error(err)
					return
				}
				if err := cl.RPush(ctx, fmt.Sprint("list", c), counts[c]).Err(); err != nil {
					t.Error(err)
					return
				}
				pipe := cl.TxPipeline()
				pipe.Incr(ctx, "total")
				pipe.MSet(ctx, fmt.Sprint("a", c), counts[c], fmt.Sprint("b", c), counts[c])
				if _, err := pipe.Exec(ctx); err != nil {
					t.Error(err)
					return
				}
				counts[c]++
			}
		}(c)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(30 * time.Millisecond)
		if i == 2 {
			do(t, rc, "BGSAVE")
		}
		for {
			err := rc.Do(ctx, "BGREWRITEAOF").Err()
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), "already in progress") {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		waitRewrite(t, s)
	}
	stop.Store(true)
	wg.Wait()
	want := digest(t, rc)
	var total int64
	for _, n := range counts {
		total += n
	}
	if got, _ := rc.Get(ctx, "total").Int64(); got != total {
		t.Fatalf("total %d, want %d", got, total)
	}
	if n := aofInfoMap(s)["aof_rewrites"]; n != "5" {
		t.Fatalf("%s rewrites", n)
	}
	s.Close()
	_, rc2 := mustStartAOF(t, dir, "--aof-use-rdb-preamble", preamble)
	if got := digest(t, rc2); got != want {
		t.Fatalf("after restart digest %s, want %s", got, want)
	}
	for c := 0; c < clients; c++ {
		if n, _ := rc2.Get(ctx, fmt.Sprint("ctr", c)).Int64(); n != counts[c] {
			t.Fatalf("ctr%d = %d, want %d", c, n, counts[c])
		}
	}
	t.Logf("%d transactions across 5 rewrites", total)
}

func TestAOFBgrewriteaofErrors(t *testing.T) {
	// A rewrite held at its first slot by the snapshot walk's hook.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(db, sl int) { once.Do(func() { close(entered); <-release }) }
	s, rc, err := startAOFWith(t, []Option{WithSnapshotWalk(0, hook)}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	do(t, rc, "SET", "k", "v")
	if err := rc.Do(ctx, "BGREWRITEAOF").Err(); err != nil {
		t.Fatal(err)
	}
	<-entered
	err = rc.Do(ctx, "BGREWRITEAOF").Err()
	close(release)
	if err == nil || err.Error() != "ERR Background append only file rewriting already in progress" {
		t.Fatalf("err = %v", err)
	}
	waitRewrite(t, s)
}

func appendFile(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(data)
	f.Close()
}

func TestAOFTruncatedTail(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	do(t, rc, "SET", "a", "1")
	do(t, rc, "SET", "b", "2")
	s.Close()
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	whole := int64(len(readFile(t, incr)))
	appendFile(t, incr, "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhel")

	// aof-load-truncated no: refuse, and say how to repair.
	_, _, err := startAOF(t, dir, "--aof-load-truncated", "no")
	if err == nil || !strings.Contains(err.Error(), "redgo check-aof --fix") ||
		!strings.Contains(err.Error(), "appendonly.aof.1.incr.aof") || !strings.Contains(err.Error(), fmt.Sprint(whole)) {
		t.Fatalf("err = %v", err)
	}
	// yes: load up to the last whole command, warn with the offset, cut the file.
	s2, rc2 := mustStartAOF(t, dir)
	if v := do(t, rc2, "MGET", "a", "b", "c"); fmt.Sprint(v) != "[1 2 <nil>]" {
		t.Fatalf("MGET = %v", v)
	}
	log := serverLog(s2)
	if !strings.Contains(log, "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!") ||
		!strings.Contains(log, fmt.Sprintf("Truncating the AOF appendonly.aof.1.incr.aof at offset %d", whole)) {
		t.Fatalf("log:\n%s", log)
	}
	do(t, rc2, "SET", "d", "4")
	s2.Close()
	if size := int64(len(readFile(t, incr))); size <= whole {
		t.Fatalf("size %d", size)
	}
	_, rc3 := mustStartAOF(t, dir, "--aof-load-truncated", "no")
	if v := do(t, rc3, "MGET", "a", "b", "c", "d"); fmt.Sprint(v) != "[1 2 <nil> 4]" {
		t.Fatalf("MGET after repair = %v", v)
	}
}

func TestAOFIncompleteTransactionDropped(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	do(t, rc, "SET", "a", "1")
	s.Close()
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	appendFile(t, incr, string(aof.AppendCommandStrings(nil, "MULTI"))+string(aof.AppendCommandStrings(nil, "SET", "a", "2")))
	s2, rc2 := mustStartAOF(t, dir)
	if v := do(t, rc2, "GET", "a"); v != "1" {
		t.Fatalf("a = %v: half a transaction applied", v)
	}
	if !strings.Contains(serverLog(s2), "Truncating the AOF") {
		t.Fatalf("log:\n%s", serverLog(s2))
	}
}

func TestAOFCorruptMiddleRefuses(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	do(t, rc, "SET", "a", "1")
	do(t, rc, "SET", "b", "2")
	s.Close()
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	data := readFile(t, incr)
	i := strings.Index(data, "$1\r\nb")
	bad := data[:i] + "?" + data[i+1:]
	os.WriteFile(incr, []byte(bad), 0o644)
	_, _, err := startAOF(t, dir)
	if err == nil || !strings.Contains(err.Error(), "Bad file format reading the append only file appendonly.aof.1.incr.aof at offset "+fmt.Sprint(i)) {
		t.Fatalf("err = %v", err)
	}
	if got := readFile(t, incr); got != bad {
		t.Fatal("a corrupt file was modified")
	}
}

func TestAOFUnknownCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	s, _ := mustStartAOF(t, dir)
	s.Close()
	appendFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof"), string(aof.AppendCommandStrings(nil, "NOSUCHCMD", "x")))
	_, _, err := startAOF(t, dir)
	if err == nil || !strings.Contains(err.Error(), "Unknown command 'NOSUCHCMD'") {
		t.Fatalf("err = %v", err)
	}
}

func TestAOFEnableAtRunTime(t *testing.T) {
	dir := t.TempDir()
	s, rc := startServer(t, "--dir", dir, "--appendfsync", "always", "--enable-debug-command", "yes")
	if err := s.LoadData(); err != nil {
		t.Fatal(err)
	}
	fillTypes(t, rc)
	if err := rc.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	do(t, rc, "SET", "after-enable", "1")
	waitRewrite(t, s)
	do(t, rc, "SET", "after-base", "2")
	if m := aofInfoMap(s); m["aof_enabled"] != "1" || m["aof_rewrites"] != "1" || m["aof_last_bgrewrite_status"] != "ok" {
		t.Fatalf("info %v", m)
	}
	want := digest(t, rc)
	// Off: nothing more is written.
	if err := rc.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
		t.Fatal(err)
	}
	do(t, rc, "SET", "while-off", "3")
	s.Close()
	_, rc2 := mustStartAOF(t, dir)
	if v := do(t, rc2, "EXISTS", "after-enable", "after-base", "while-off"); v != int64(2) {
		t.Fatalf("EXISTS = %v", v)
	}
	do(t, rc2, "DEL", "nosuch")
	_ = want
}

func TestAOFEnableThenRewriteDigest(t *testing.T) {
	dir := t.TempDir()
	s, rc := startServer(t, "--dir", dir, "--enable-debug-command", "yes")
	s.LoadData()
	fillTypes(t, rc)
	rc.ConfigSet(ctx, "appendonly", "yes")
	waitRewrite(t, s)
	do(t, rc, "INCR", "n")
	want := digest(t, rc)
	s.Close()
	_, rc2 := mustStartAOF(t, dir)
	if got := digest(t, rc2); got != want {
		t.Fatalf("digest %s, want %s", got, want)
	}
}

// Infinite scores survive a rewrite (DEBUG DIGEST cannot be used: it
// does not handle them yet).
func TestAOFRewriteInfScores(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	do(t, rc, "ZADD", "z", "+inf", "a", "-inf", "b", "1e300", "c")
	do(t, rc, "BGREWRITEAOF")
	waitRewrite(t, s)
	s.Close()
	_, rc2 := mustStartAOF(t, dir)
	if v := fmt.Sprint(do(t, rc2, "ZRANGE", "z", "0", "-1", "WITHSCORES")); v != "[[b -Inf] [c 1e+300] [a +Inf]]" {
		t.Fatalf("ZRANGE = %s", v)
	}
}

// Relative TTLs reach the AOF as absolute times: a restart does not
// extend them.
func TestAOFRelativeExpiryBecomesAbsolute(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	do(t, rc, "SET", "a", "1", "EX", "100")
	do(t, rc, "SETEX", "b", "100", "1")
	do(t, rc, "PSETEX", "c", "100000", "1")
	do(t, rc, "SET", "d", "1")
	do(t, rc, "GETEX", "d", "PX", "100000")
	do(t, rc, "EXPIRE", "d", "100")
	do(t, rc, "SET", "e", "1", "PX", "100000", "GET")
	do(t, rc, "SET", "f", "1", "EX", "100")
	do(t, rc, "GETEX", "f", "PERSIST")
	s.Close()
	incr := readFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof"))
	for _, bad := range []string{"$2\r\nEX\r\n", "SETEX", "PSETEX", "GETEX", "$2\r\nPX\r\n"} {
		if strings.Contains(incr, strings.ReplaceAll(bad, "\\r\\n", "\r\n")) {
			t.Errorf("relative form %q in the AOF", bad)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	_, rc2 := mustStartAOF(t, dir)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if ttl := rc2.PTTL(ctx, k).Val(); ttl > 99*time.Second || ttl < 90*time.Second {
			t.Errorf("%s: ttl %v after restart", k, ttl)
		}
	}
	if ttl := rc2.TTL(ctx, "f").Val(); ttl != -1 {
		t.Errorf("f: ttl %v", ttl)
	}
}

// The commands with an expiry reach the AOF as Redis 7.0 writes them
// (SET ... PXAT, PEXPIREAT, PERSIST, DEL), byte for byte but for the
// times: the same commands against redis-server give the same log.
func TestAOFExpiryFormsAsRedis(t *testing.T) {
	script := [][]any{
		{"SET", "k", "v", "EX", "100", "NX", "GET"}, {"SETEX", "k2", "100", "v"}, {"PSETEX", "k4", "100000", "v"},
		{"GETEX", "k", "EX", "50"}, {"GETEX", "k", "PERSIST"}, {"GETEX", "k", "PERSIST"}, {"GETEX", "k2", "PXAT", "1"},
		{"SET", "k3", "v", "pxat", "99999999999999"}, {"SET", "k5", "v", "exat", "99999999999"}, {"EXPIRE", "k3", "100"},
		{"GETEX", "k5"}, {"SET", "k6", "v", "KEEPTTL"},
	}
	times := regexp.MustCompile(`\$13\r\n1\d{12}\r\n`)
	run := func(rc *redis.Client) {
		for _, args := range script {
			rc.Do(ctx, args...)
		}
	}
	dir := t.TempDir()
	raddr := startRedis(t, "--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
	rr := goRedis(t, raddr)
	run(rr)
	rr.Do(ctx, "SHUTDOWN", "NOSAVE")
	time.Sleep(100 * time.Millisecond)
	want := times.ReplaceAllString(readFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")), "T")
	dir2 := t.TempDir()
	s, rc := mustStartAOF(t, dir2)
	run(rc)
	s.Close()
	got := times.ReplaceAllString(readFile(t, filepath.Join(dir2, "appendonlydir", "appendonly.aof.1.incr.aof")), "T")
	if got != want {
		t.Fatalf("redgo's AOF:\n%q\nredis's:\n%q", got, want)
	}
}

func TestAOFOldStyleFileUpgraded(t *testing.T) {
	dir := t.TempDir()
	old := string(aof.AppendCommandStrings(nil, "SELECT", "0")) + string(aof.AppendCommandStrings(nil, "SET", "old", "style"))
	os.WriteFile(filepath.Join(dir, "appendonly.aof"), []byte(old), 0o644)
	_, rc := mustStartAOF(t, dir)
	if v := do(t, rc, "GET", "old"); v != "style" {
		t.Fatalf("GET old = %v", v)
	}
	man := readFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if man != "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
		t.Fatalf("manifest:\n%s", man)
	}
	if _, err := os.Stat(filepath.Join(dir, "appendonly.aof")); !os.IsNotExist(err) {
		t.Fatal("old file still in dir")
	}
}

func TestAOFAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir, "--auto-aof-rewrite-min-size", "4096", "--auto-aof-rewrite-percentage", "100",
		"--appendfsync", "no")
	for i := 0; i < 2000; i++ {
		do(t, rc, "SET", "k", fmt.Sprint(i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for aofInfoMap(s)["aof_rewrites"] == "0" {
		if time.Now().After(deadline) {
			t.Fatalf("no automatic rewrite; info %v", aofInfoMap(s))
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitRewrite(t, s)
	if !strings.Contains(serverLog(s), "Starting automatic rewriting of AOF on") {
		t.Fatal("no log line")
	}
	m := aofInfoMap(s)
	if m["aof_base_size"] == "0" || m["aof_current_size"] == "" {
		t.Fatalf("info %v", m)
	}
}

// A write that cannot be made durable is refused, INFO says so, and the
// server recovers when the disk does.
func TestAOFWriteErrorRefused(t *testing.T) {
	mem := vfs.NewMemFS()
	var broken atomic.Bool
	mem.SetFail(func(op, name string) error {
		if broken.Load() && (op == "write" || op == "sync") {
			return errors.New("No space left on device")
		}
		return nil
	})
	dir := "/mem"
	s, rc := mustStartAOFOn(t, mem, dir)
	do(t, rc, "SET", "a", "1")
	queued := dialRaw(t, s.Addr().String()) // a transaction queued before the failure
	queued.str("MULTI")
	queued.str("INCR", "a")
	broken.Store(true)
	err := rc.Set(ctx, "b", "2", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF Errors writing to the AOF file: No space left on device") {
		t.Fatalf("SET under a full disk: %v", err)
	}
	if m := aofInfoMap(s); m["aof_last_write_status"] != "err" {
		t.Fatalf("info %v", m)
	}
	// Until a retry succeeds, every write (and PING) is refused before it
	// runs, in a transaction too; reads get the error as well, since they
	// could show the write that is not durable (b).
	for _, args := range [][]any{{"SET", "b", "2"}, {"PING"}, {"GET", "a"}} {
		if err := rc.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF Errors writing to the AOF file: No space left on device") {
			t.Fatalf("%v while the AOF is failing: %v", args, err)
		}
	}
	if got := queued.str("EXEC"); got != "EXECABORT Transaction discarded because of: MISCONF Errors writing to the AOF file: No space left on device" {
		t.Fatalf("EXEC: %q", got)
	}
	raw := dialRaw(t, s.Addr().String())
	for _, step := range [][2]string{{"MULTI", "OK"}, {"INCR a", "MISCONF"}, {"EXEC", "EXECABORT Transaction discarded because of previous errors."}} {
		if got := raw.str(strings.Fields(step[0])...); !strings.HasPrefix(got, step[1]) {
			t.Fatalf("%s: %q", step[0], got)
		}
	}
	broken.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for rc.Set(ctx, "c", "3", 0).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("writes still refused after the disk recovered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := aofInfoMap(s); m["aof_last_write_status"] != "ok" {
		t.Fatalf("info %v", m)
	}
	if v := do(t, rc, "GET", "b"); v != "2" { // applied before its fsync failed; logged by the retry
		t.Fatalf("GET b = %v", v)
	}
	if !strings.Contains(serverLog(s), "AOF write error looks solved") {
		t.Fatal("no recovery log line")
	}
}

// appendfsync always: no reply shows a write before it is fsynced. A
// reader of a key whose write waits for its fsync, and a blocked client
// served by that write, get their replies only after the fsync (as Redis,
// which answers after the fsync of its event-loop iteration): a crash
// cannot take back what a client has seen.
func TestAOFReadersWaitForFsync(t *testing.T) {
	mem := vfs.NewMemFS()
	gate := make(chan struct{})
	var hold atomic.Bool
	mem.SetFail(func(op, name string) error {
		if op == "sync" && hold.Load() {
			<-gate
		}
		return nil
	})
	s, rc := mustStartAOFOn(t, mem, "/mem")
	var open sync.Once
	t.Cleanup(func() { open.Do(func() { close(gate) }) }) // before the server's Close
	do(t, rc, "SET", "k", "old")
	waiter := dialRaw(t, s.Addr().String())
	waiter.send("BLPOP", "list", "0")
	time.Sleep(50 * time.Millisecond) // blocked
	hold.Store(true)
	writer := dialRaw(t, s.Addr().String())
	writer.send("MULTI")
	writer.send("SET", "k", "new")
	writer.send("RPUSH", "list", "x")
	writer.send("EXEC")
	deadline := time.Now().Add(5 * time.Second)
	for s.persist.AOFUnsynced() == 0 { // the transaction ran and waits for its fsync
		if time.Now().After(deadline) {
			t.Fatal("the write did not happen")
		}
		time.Sleep(time.Millisecond)
	}
	reader := dialRaw(t, s.Addr().String())
	reader.send("GET", "k")
	for _, c := range []*rawConn{reader, waiter} { // (the writer's MULTI reply may be out already)
		c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		var b [1]byte
		if n, err := c.conn.Read(b[:]); n > 0 || err == nil {
			t.Fatalf("a reply before the fsync: %q", b[:n])
		}
	}
	open.Do(func() { close(gate) })
	if v, _ := reader.read(); v.Str != "new" {
		t.Fatalf("GET after the fsync: %q", v)
	}
	if v, _ := waiter.read(); len(v.Elems) != 2 || v.Elems[1].Str != "x" {
		t.Fatalf("BLPOP: %+v", v)
	}
}

// appendfsync everysec: a failed background write refuses later writes
// with MISCONF until a retry succeeds, as Redis (aof_last_write_status).
func TestAOFEverysecWriteErrorRefusesWrites(t *testing.T) {
	mem := vfs.NewMemFS()
	var broken atomic.Bool
	mem.SetFail(func(op, name string) error {
		if broken.Load() && op == "write" {
			return errors.New("No space left on device")
		}
		return nil
	})
	s, rc := mustStartAOFOn(t, mem, "/mem", "--appendfsync", "everysec")
	do(t, rc, "SET", "a", "1")
	broken.Store(true)
	do(t, rc, "SET", "b", "2") // acknowledged at once (everysec); its write will fail
	deadline := time.Now().Add(5 * time.Second)
	for aofInfoMap(s)["aof_last_write_status"] != "err" {
		if time.Now().After(deadline) {
			t.Fatal("the failed write was not noticed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := rc.Set(ctx, "c", "3", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF Errors writing to the AOF file: No space left on device") {
		t.Fatalf("SET after a failed AOF write: %v", err)
	}
	broken.Store(false)
	deadline = time.Now().Add(5 * time.Second)
	for rc.Set(ctx, "c", "3", 0).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("writes still refused after the disk recovered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Close()
	_, rc2 := mustStartAOFOn(t, mem, "/mem")
	for k, want := range map[string]string{"a": "1", "b": "2", "c": "3"} {
		if v := do(t, rc2, "GET", k); v != want {
			t.Fatalf("after restart %s = %v", k, v)
		}
	}
}

// Power loss: a MemFS crash clone keeps only fsynced data. Every write
// acknowledged under appendfsync always is there after a restart.
func TestAOFCrashKeepsAcknowledged(t *testing.T) {
	mem := vfs.NewMemFS()
	// A slow disk: there is always written but unsynced data to lose.
	mem.SetFail(func(op, name string) error {
		if op == "sync" {
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	dir := "/mem"
	s, _ := mustStartAOFOn(t, mem, dir)
	var acked sync.Map
	var nacked atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for c := 0; c < 10; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl := goRedis(t, s.Addr().String())
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("k%d:%d", c, i)
				if cl.Set(ctx, k, i, 0).Err() != nil {
					return
				}
				if !stop.Load() {
					acked.Store(k, i)
					nacked.Add(1)
				}
			}
		}(c)
	}
	// Crash in the middle of a rewrite too. Progress is counted in
	// acknowledged writes, not time (a loaded machine is slow).
	waitFor := func(n int64) {
		for start := time.Now(); nacked.Load() < n && time.Since(start) < time.Minute; {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(40)
	goRedis(t, s.Addr().String()).Do(ctx, "BGREWRITEAOF")
	waitFor(nacked.Load() + 20)
	stop.Store(true)
	crashed := mem.CrashClone()
	wg.Wait()
	s.Close()
	_, rc := mustStartAOFOn(t, crashed, dir)
	n := 0
	acked.Range(func(k, v any) bool {
		n++
		if got, err := rc.Get(ctx, k.(string)).Int(); err != nil || got != v.(int) {
			t.Errorf("acknowledged %s lost (%v %v)", k, got, err)
			return false
		}
		return true
	})
	if n < 50 {
		t.Fatalf("only %d acknowledged", n)
	}
	t.Logf("%d acknowledged writes survived", n)
}

var _ = io.Discard

// An AOF directory written by redis-server 7.0 (RDB or RESP base) loads in redgo
// with the same dataset (DEBUG DIGEST, which redgo computes as Redis).
func TestAOFFromRedisLoads(t *testing.T) {
	t.Run("rdb-base", func(t *testing.T) { testAOFFromRedisLoads(t, "yes", "rdb") })
	t.Run("resp-base", func(t *testing.T) { testAOFFromRedisLoads(t, "no", "aof") })
}

func testAOFFromRedisLoads(t *testing.T, preamble, ext string) {
	dir := t.TempDir()
	raddr := startRedis(t, "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", preamble)
	rr := goRedis(t, raddr)
	fillTypes(t, rr)
	do(t, rr, "BGREWRITEAOF") // a RESP base from Redis's own rewrite, then more writes
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")), "appendonly.aof.2.base."+ext) {
		if time.Now().After(deadline) {
			t.Fatal("redis did not rewrite")
		}
		time.Sleep(10 * time.Millisecond)
	}
	do(t, rr, "SET", "after-rewrite", "1")
	do(t, rr, "RPUSH", "biglist", "tail")
	want, wantDigest := dataset(t, raddr), digest(t, rr)
	rr.Do(ctx, "SHUTDOWN", "NOSAVE")
	time.Sleep(100 * time.Millisecond)
	s, rc := mustStartAOF(t, dir)
	if got := dataset(t, s.Addr().String()); got != want {
		t.Fatalf("redgo loaded:\n%s\nredis had:\n%s", got, want)
	}
	if got := digest(t, rc); got != wantDigest {
		t.Errorf("DEBUG DIGEST %s, redis had %s", got, wantDigest)
	}
}

// redgo's AOF directory (base from a rewrite, then incremental writes)
// loads in redis-server 7.0 with the same dataset.
func TestAOFLoadsInRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	fillTypes(t, rc)
	do(t, rc, "BGREWRITEAOF")
	waitRewrite(t, s)
	do(t, rc, "SET", "after-rewrite", "1")
	pipe := rc.TxPipeline()
	pipe.Incr(ctx, "n")
	pipe.LPush(ctx, "l", "head")
	pipe.Exec(ctx)
	want, wantDigest := dataset(t, s.Addr().String()), digest(t, rc)
	s.Close()
	raddr := startRedis(t, "--dir", dir, "--appendonly", "yes")
	waitLoaded(t, raddr)
	if got := dataset(t, raddr); got != want {
		t.Fatalf("redis loaded:\n%s\nredgo had:\n%s", got, want)
	}
	if got := digest(t, goRedis(t, raddr)); got != wantDigest {
		t.Fatalf("redis DEBUG DIGEST %s, redgo had %s", got, wantDigest)
	}
}

// waitLoaded waits until redis-server has loaded its data (it accepts
// connections while loading and answers -LOADING).
func waitLoaded(t *testing.T, addr string) {
	t.Helper()
	c := dialRaw(t, addr)
	deadline := time.Now().Add(10 * time.Second)
	for strings.HasPrefix(c.str("PING"), "LOADING") {
		if time.Now().After(deadline) {
			t.Fatal("redis-server still loading")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dataset lists every key of every database with its type, DEBUG
// DIGEST-VALUE and PEXPIRETIME, sorted: what DEBUG DIGEST summarizes,
// readable when it differs.
func dataset(t *testing.T, addr string) string {
	t.Helper()
	c := dialRaw(t, addr)
	var out []string
	for db := 0; db < 16; db++ {
		c.do("SELECT", fmt.Sprint(db))
		keys, _ := c.do("KEYS", "*")
		for _, k := range keys.Elems {
			out = append(out, fmt.Sprintf("%d %s %s %s %s", db, k.Str, c.str("TYPE", k.Str),
				c.str("DEBUG", "DIGEST-VALUE", k.Str), c.str("PEXPIRETIME", k.Str)))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// BGREWRITEAOF with the AOF off writes a base and a manifest without an
// incremental file, as Redis; turning the AOF on at the next start loads it.
func TestAOFRewriteWhileOff(t *testing.T) {
	dir := t.TempDir()
	s, rc := startServer(t, "--dir", dir, "--enable-debug-command", "yes")
	if err := s.LoadData(); err != nil {
		t.Fatal(err)
	}
	fillTypes(t, rc)
	want := digest(t, rc)
	if v := do(t, rc, "BGREWRITEAOF"); v != "Background append only file rewriting started" {
		t.Fatalf("BGREWRITEAOF: %v", v)
	}
	waitRewrite(t, s)
	man := readFile(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if man != "file appendonly.aof.1.base.rdb seq 1 type b\n" {
		t.Fatalf("manifest:\n%s", man)
	}
	if m := aofInfoMap(s); m["aof_enabled"] != "0" || m["aof_rewrites"] != "1" {
		t.Fatalf("info %v", m)
	}
	s.Close()
	_, rc2 := mustStartAOF(t, dir)
	if got := digest(t, rc2); got != want {
		t.Fatalf("digest %s, want %s", got, want)
	}
}

// SHUTDOWN with appendfsync everysec leaves everything on disk.
func TestAOFShutdownFlushes(t *testing.T) {
	mem := vfs.NewMemFS()
	s, rc := mustStartAOFOn(t, mem, "/mem", "--appendfsync", "everysec")
	for i := 0; i < 100; i++ {
		do(t, rc, "RPUSH", "l", fmt.Sprint(i))
	}
	s.Shutdown(false)
	deadline := time.Now().Add(5 * time.Second)
	for !s.closing.Load() || aofStatesHas(s) {
		if time.Now().After(deadline) {
			t.Fatal("server did not stop")
		}
		time.Sleep(time.Millisecond)
	}
	crashClone := mem.CrashClone()
	_, rc2 := mustStartAOFOn(t, crashClone, "/mem")
	if n := rc2.LLen(ctx, "l").Val(); n != 100 {
		t.Fatalf("LLEN %d after shutdown", n)
	}
}

func aofStatesHas(s *Server) bool { return s.persist.HasAOF() }

// A rewrite from the log takes every shard for its cut, and INFO (a
// command run with every shard locked) reads the AOF's state: they must
// take the locks in one order. INFO in a loop while rewrites start used
// to hang both (a replica's full sync starts one).
func TestAOFRewriteWithInfo(t *testing.T) {
	dir := t.TempDir()
	s, rc := mustStartAOF(t, dir)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ic := goRedis(t, s.Addr().String())
		for {
			select {
			case <-stop:
				return
			default:
			}
			ic.Info(ctx, "persistence")
		}
	}()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := 0; i < 20; i++ {
			rc.Set(ctx, "k", i, 0)
			s.persist.Rewrite()
			waitRewrite(t, s)
		}
	}()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("rewrites and INFO deadlocked")
	}
	close(stop)
	<-done
}

// TestDebugLoadAOF: the dataset and the functions are replaced by what
// the AOF holds (the unit/functions and stream suites reload through it).
func TestDebugLoadAOF(t *testing.T) {
	_, rc := mustStartAOF(t, t.TempDir())
	rc.Set(ctx, "a", "1", 0)
	rc.RPush(ctx, "l", "x", "y")
	rc.Do(ctx, "FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 7 end)")
	rc.Do(ctx, "XADD", "s", "1-1", "k", "v")
	if err := rc.Do(ctx, "DEBUG", "LOADAOF").Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.Get(ctx, "a").Val(); v != "1" {
		t.Errorf("a = %q after DEBUG LOADAOF", v)
	}
	if n := rc.LLen(ctx, "l").Val(); n != 2 {
		t.Errorf("LLEN l = %d", n)
	}
	if n := rc.Do(ctx, "XLEN", "s").Val(); n != int64(1) {
		t.Errorf("XLEN s = %v", n)
	}
	if v, err := rc.Do(ctx, "FCALL", "f", "0").Int(); err != nil || v != 7 {
		t.Errorf("FCALL f = %v, %v", v, err)
	}
	if n := rc.DBSize(ctx).Val(); n != 3 {
		t.Errorf("DBSIZE = %d", n)
	}
	// Writes after the reload go on into the same AOF.
	rc.Incr(ctx, "a")
	if err := rc.Do(ctx, "DEBUG", "LOADAOF").Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.Get(ctx, "a").Val(); v != "2" {
		t.Errorf("a = %q after the second DEBUG LOADAOF", v)
	}
	_, plain := startServer(t, "--enable-debug-command", "yes")
	if err := plain.Do(ctx, "DEBUG", "LOADAOF").Err(); err == nil {
		t.Error("DEBUG LOADAOF without an AOF succeeded")
	}
}

// TestDebugLoadAOFOff: with appendonly no, DEBUG LOADAOF loads the files
// a BGREWRITEAOF wrote, as Redis (unit/other "EXPIRES after a reload
// (snapshot + append only file rewrite)").
func TestDebugLoadAOFOff(t *testing.T) {
	s, err := startRDB(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rc := goRedis(t, s.Addr().String())
	rc.Set(ctx, "x", "10", 0)
	rc.Expire(ctx, "x", 1000*time.Second)
	if err := rc.Do(ctx, "BGREWRITEAOF").Err(); err != nil {
		t.Fatal(err)
	}
	waitRewrite(t, s)
	rc.Set(ctx, "x", "changed", 0)
	rc.Set(ctx, "y", "new", 0)
	if err := rc.Do(ctx, "DEBUG", "LOADAOF").Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.Get(ctx, "x").Val(); v != "10" {
		t.Errorf("x = %q after DEBUG LOADAOF", v)
	}
	if ttl := rc.TTL(ctx, "x").Val(); ttl < 900*time.Second {
		t.Errorf("TTL x = %v", ttl)
	}
	if n := rc.DBSize(ctx).Val(); n != 1 {
		t.Errorf("DBSIZE = %d", n)
	}
}

// TestAOFStreamTrimWithLimit: an XADD whose ~ trim was cut short by LIMIT
// is logged as the exact trim it made (MAXLEN = n, LIMIT kept), which the
// AOF loader accepts without the limit, as Redis's mustObeyClient.
func TestAOFStreamTrimWithLimit(t *testing.T) {
	_, rc := mustStartAOF(t, t.TempDir(), "--stream-node-max-entries", "10")
	for i := 0; i < 100; i++ {
		rc.Do(ctx, "XADD", "s", "*", "x", "v")
	}
	rc.Do(ctx, "XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "x", "v")
	want := rc.Do(ctx, "XLEN", "s").Val()
	rc.ConfigSet(ctx, "stream-node-max-entries", "1")
	if err := rc.Do(ctx, "DEBUG", "LOADAOF").Err(); err != nil {
		t.Fatal(err)
	}
	if got := rc.Do(ctx, "XLEN", "s").Val(); got != want || want != int64(71) {
		t.Errorf("XLEN after DEBUG LOADAOF = %v, before %v (Redis: 71)", got, want)
	}
}

// TestBgrewriteaofInMulti: BGREWRITEAOF queued in MULTI is scheduled,
// as Redis, and starts after EXEC; it used to wait for the shard locks
// EXEC held, which waited for it: every client hung.
func TestBgrewriteaofInMulti(t *testing.T) {
	for _, aofOn := range []bool{false, true} {
		var s *Server
		var rc *redis.Client
		if aofOn {
			s, rc = mustStartAOF(t, t.TempDir())
		} else {
			var err error
			if s, err = startRDB(t, t.TempDir()); err != nil {
				t.Fatal(err)
			}
			rc = goRedis(t, s.Addr().String())
		}
		c := dialRaw(t, s.Addr().String())
		c.do("MULTI")
		c.do("SET", "foo", "bar")
		c.do("BGREWRITEAOF")
		c.conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, raw := c.do("EXEC"); string(raw) != "*2\r\n+OK\r\n+Background append only file rewriting scheduled\r\n" {
			t.Fatalf("EXEC: %q", raw)
		}
		eventually(t, 5*time.Second, func() error {
			if n := aofInfoMap(s)["aof_rewrites"]; n != "1" {
				return fmt.Errorf("aof_rewrites:%s", n)
			}
			return nil
		})
		waitRewrite(t, s)
		if v := rc.Get(ctx, "foo").Val(); v != "bar" {
			t.Fatalf("foo = %q", v)
		}
		// INFO total_forks counts the background jobs Redis forks for
		// (unit/multi waits for it to grow).
		forks := func() string {
			for _, l := range strings.Split(rc.Info(ctx, "stats").Val(), "\r\n") {
				if v, ok := strings.CutPrefix(l, "total_forks:"); ok {
					return v
				}
			}
			return ""
		}
		if f := forks(); f != "1" {
			t.Fatalf("total_forks:%s after one rewrite", f)
		}
		rc.Do(ctx, "BGSAVE")
		if f := forks(); f != "2" {
			t.Fatalf("total_forks:%s after a BGSAVE", f)
		}
	}
}
