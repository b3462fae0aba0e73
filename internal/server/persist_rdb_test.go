package server

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/rdb"
	"redgo/internal/rdb/rdbtest"
	"redgo/internal/slot"
)

// startRDB starts a server with its files in dir, loading dbfilename
// (appendonly no). It returns the server, or the LoadData error.
func startRDB(t testing.TB, dir string, args ...string) (*Server, error) {
	t.Helper()
	return startRDBWith(t, nil, dir, args...)
}

// startRDBWith is startRDB for a server built with opts.
func startRDBWith(t testing.TB, opts []Option, dir string, args ...string) (*Server, error) {
	t.Helper()
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--dir", dir,
		"--appendonly", "no", "--enable-debug-command", "yes"}, args...)
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
	rdbLogs.Store(s, &logBuf)
	if err := s.LoadData(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, nil
}

var rdbLogs sync.Map // *Server -> *syncBuffer

func mustStartRDB(t testing.TB, dir string, args ...string) *Server {
	t.Helper()
	return mustStartRDBWith(t, nil, dir, args...)
}

func mustStartRDBWith(t testing.TB, opts []Option, dir string, args ...string) *Server {
	t.Helper()
	s, err := startRDBWith(t, opts, dir, args...)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return s
}

func rdbDo(t testing.TB, rc *redis.Client, args ...any) any {
	t.Helper()
	v, err := rc.Do(ctx, args...).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func copyFile(t testing.TB, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func stringsOff(m map[string]rdbtest.Key) map[string]rdbtest.Key {
	out := map[string]rdbtest.Key{}
	for k, v := range m {
		if v.Type == "string" {
			v.Encoding = ""
		}
		out[k] = v
	}
	return out
}

func diffDBs(t *testing.T, what string, wantAddr, gotAddr string, encodings bool) {
	t.Helper()
	for _, db := range []int{0, 5} {
		want, got := rdbtest.Capture(t, wantAddr, db), rdbtest.Capture(t, gotAddr, db)
		if !encodings {
			want, got = stringsOff(want), stringsOff(got)
		}
		if d := rdbtest.Diff(want, got, true); len(d) > 0 {
			t.Fatalf("%s, db %d:\n%s", what, db, strings.Join(d, "\n"))
		}
		if len(want) == 0 {
			t.Fatalf("%s: db %d empty", what, db)
		}
	}
}

// TestRDBFromRedis: a dump.rdb saved by redis-server 7.0 (every type in
// every encoding, TTLs, two databases) loads in redgo with every key,
// value, TTL and encoding as redis-server itself loads it.
func TestRDBFromRedis(t *testing.T) {
	dir := t.TempDir()
	r := rdbtest.StartRedis(t, dir)
	rdbtest.Populate(t, r.Addr)
	rc := rdbtest.Client(t, r.Addr, 0)
	if err := rc.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	r.Stop()
	// The reference: redis-server loading its own file.
	r2 := rdbtest.StartRedis(t, dir)
	dir2 := t.TempDir()
	copyFile(t, filepath.Join(dir, "dump.rdb"), filepath.Join(dir2, "dump.rdb"))
	s := mustStartRDB(t, dir2)
	diffDBs(t, "redgo loading redis's dump.rdb", r2.Addr, s.Addr().String(), true)
	if !strings.Contains(rdbLog(s), "Done loading RDB, keys loaded:") {
		t.Fatalf("log: %s", rdbLog(s))
	}
	if st := s.persist.RDBStatus(); st.LoadedKeys == 0 {
		t.Fatalf("status %+v", st)
	}
}

func rdbLog(s *Server) string {
	if v, ok := rdbLogs.Load(s); ok {
		return v.(*syncBuffer).String()
	}
	return ""
}

// TestRDBToRedis: the same dataset written into redgo and saved with SAVE,
// then with BGSAVE, loads in redis-server 7.0 identically and passes
// redis-check-rdb.
func TestRDBToRedis(t *testing.T) {
	rdbtest.SkipWithoutRedis(t)
	for _, cmd := range []string{"SAVE", "BGSAVE"} {
		t.Run(cmd, func(t *testing.T) {
			dir := t.TempDir()
			s := mustStartRDB(t, dir)
			addr := s.Addr().String()
			rdbtest.Populate(t, addr)
			rc := rdbtest.Client(t, addr, 0)
			defer rc.Close()
			if cmd == "SAVE" {
				if v := rdbDo(t, rc, "SAVE"); v != "OK" {
					t.Fatal(v)
				}
			} else {
				if v := rdbDo(t, rc, "BGSAVE"); v != "Background saving started" {
					t.Fatal(v)
				}
				waitSave(t, s)
			}
			path := filepath.Join(dir, "dump.rdb")
			if bin, err := exec.LookPath("redis-check-rdb"); err == nil {
				out, err := exec.Command(bin, path).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "RDB looks OK!") {
					t.Fatalf("redis-check-rdb: %v\n%s", err, out)
				}
			}
			r := rdbtest.StartRedis(t, dir)
			// Encodings are Redis's own choice at load; they must agree
			// with redgo's for the same data.
			diffDBs(t, "redis-server loading redgo's dump.rdb", addr, r.Addr, false)
			if d := s.dirty.Load(); d != 0 {
				t.Fatalf("dirty %d after save", d)
			}
		})
	}
}

func waitSave(t testing.TB, s *Server) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !s.persist.Saving() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("save did not finish: %+v", s.persist.RDBStatus())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDumpRestoreWithRedis: DUMP payloads move both ways between redgo and
// redis-server 7.0 for every key of every type and encoding.
func TestDumpRestoreWithRedis(t *testing.T) {
	dir := t.TempDir()
	r := rdbtest.StartRedis(t, dir)
	rdbtest.Populate(t, r.Addr)
	s := mustStartRDB(t, t.TempDir())
	addr := s.Addr().String()
	for _, db := range []int{0, 5} {
		rr, gr := rdbtest.Client(t, r.Addr, db), rdbtest.Client(t, addr, db)
		want := rdbtest.Capture(t, r.Addr, db)
		for k := range want {
			p, err := rr.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			pttl := rr.PExpireTime(ctx, k).Val()
			args := []any{"RESTORE", k, "0", p}
			if pttl > 0 {
				args = []any{"RESTORE", k, int64(pttl / time.Millisecond), p, "ABSTTL"}
			}
			if err := gr.Do(ctx, args...).Err(); err != nil {
				t.Fatalf("redgo RESTORE of %q: %v", k, err)
			}
		}
		if d := rdbtest.Diff(stringsOff(want), stringsOff(rdbtest.Capture(t, addr, db)), true); len(d) > 0 {
			t.Fatalf("redis -> redgo, db %d:\n%s", db, strings.Join(d, "\n"))
		}
		// And back: redgo's payloads into a flushed redis.
		rr.FlushDB(ctx)
		for k, w := range want {
			p, err := gr.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			args := []any{"RESTORE", k, "0", p}
			if w.ExpireAt > 0 {
				args = []any{"RESTORE", k, w.ExpireAt, p, "ABSTTL"}
			}
			if err := rr.Do(ctx, args...).Err(); err != nil {
				t.Fatalf("redis RESTORE of %q: %v", k, err)
			}
		}
		if d := rdbtest.Diff(stringsOff(want), stringsOff(rdbtest.Capture(t, r.Addr, db)), true); len(d) > 0 {
			t.Fatalf("redgo -> redis, db %d:\n%s", db, strings.Join(d, "\n"))
		}
		rr.Close()
		gr.Close()
	}
}

// TestRestoreErrorsMatchRedis compares RESTORE and DUMP replies, errors
// included, with redis-server.
func TestRestoreErrorsMatchRedis(t *testing.T) {
	raddr := startRedis(t)
	s := mustStartRDB(t, t.TempDir())
	rc := goRedis(t, raddr)
	payload, err := rc.Dump(ctx, "nothing").Result()
	if err != redis.Nil {
		t.Fatal(payload, err)
	}
	rc.Set(ctx, "src", "value", 0)
	p := rc.Dump(ctx, "src").Val()
	rc.Del(ctx, "src")
	bad := []byte(p)
	bad[1] ^= 0xff
	newer := []byte(p)
	newer[len(newer)-10] = 11
	// A value whose type byte is unknown, with a valid footer.
	junk := []byte{0x42, 0x01, 'x'}
	junk = append(junk, 10, 0)
	sum := rdb.CRC64(0, junk)
	for i := 0; i < 8; i++ {
		junk = append(junk, byte(sum>>(8*i)))
	}
	script := [][]string{
		{"DEL", "k"},
		{"DUMP", "k"},
		{"RESTORE", "k", "0", p},
		{"GET", "k"},
		{"RESTORE", "k", "0", p},
		{"RESTORE", "k", "0", p, "REPLACE"},
		{"RESTORE", "k", "-1", p, "REPLACE"},
		{"RESTORE", "k", "abc", p, "REPLACE"},
		{"RESTORE", "k2", "0", string(bad)},
		{"RESTORE", "k2", "0", string(newer)},
		{"RESTORE", "k2", "0", "short"},
		{"RESTORE", "k2", "0", string(junk)},
		{"RESTORE", "k2", "0", p, "FOO"},
		{"RESTORE", "k2", "0", p, "IDLETIME", "-1"},
		{"RESTORE", "k2", "0", p, "IDLETIME", "x"},
		{"RESTORE", "k2", "0", p, "FREQ", "256"},
		{"RESTORE", "k2", "0", p, "FREQ", "1", "IDLETIME", "1"},
		{"RESTORE", "k2", "0", p, "IDLETIME"},
		{"RESTORE", "k2", "0", p, "IDLETIME", "100"},
		{"OBJECT", "IDLETIME", "k2"},
		{"RESTORE", "k3", "1", p, "ABSTTL"},
		{"EXISTS", "k3"},
		{"RESTORE", "k", "1", p, "ABSTTL", "REPLACE"},
		{"EXISTS", "k"},
		{"RESTORE", "k4", "100000", p},
		{"TTL", "k4"},
		{"RESTORE", "k5", "99999999999999", p, "ABSTTL"},
		{"PEXPIRETIME", "k5"},
		{"SET", "n", "123"},
		{"DUMP", "n"},
		{"RESTORE"},
		{"DEL", "k", "k2", "k3", "k4", "k5", "n"},
	}
	oracle(t, s.Addr().String(), raddr, script)
}

// TestRestorePropagation: RESTORE with a relative TTL reaches the
// propagators with an absolute one; an expired REPLACE becomes a DEL.
func TestRestorePropagation(t *testing.T) {
	s := mustStartRDB(t, t.TempDir())
	rec := &recordProp{}
	s.AddPropagator(rec)
	rc := goRedis(t, s.Addr().String())
	rc.Set(ctx, "src", "v", 0)
	p := rc.Dump(ctx, "src").Val()
	before := time.Now().UnixMilli()
	rdbDo(t, rc, "RESTORE", "a", "100000", p)
	rdbDo(t, rc, "RESTORE", "b", "0", p)
	rdbDo(t, rc, "RESTORE", "b", "1", p, "ABSTTL", "REPLACE")
	got := rec.all()
	if len(got) != 4 {
		t.Fatalf("%q", got)
	}
	a := got[1]
	if len(a) != 5 || a[0] != "RESTORE" || a[4] != "ABSTTL" {
		t.Fatalf("%q", a)
	}
	if at, _ := strconv.ParseInt(a[2], 10, 64); at < before+100000 || at > time.Now().UnixMilli()+100000 {
		t.Fatalf("ttl %s", a[2])
	}
	if strings.Join(got[2], " ") != "RESTORE b 0 "+p || strings.Join(got[3], " ") != "DEL b" {
		t.Fatalf("%q", got[2:])
	}
}

type recordProp struct {
	mu   sync.Mutex
	cmds [][]string
}

func (r *recordProp) Feed(db int, cmds [][][]byte) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		var s []string
		for _, a := range c {
			s = append(s, string(a))
		}
		r.cmds = append(r.cmds, s)
	}
	return 0
}

func (r *recordProp) WaitDurable(int64) error { return nil }
func (r *recordProp) Pending() int64          { return 0 }

func (r *recordProp) all() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]string(nil), r.cmds...)
}

// TestBgsaveReplies covers BGSAVE's replies and INFO-level status.
func TestBgsaveReplies(t *testing.T) {
	dir := t.TempDir()
	s := mustStartRDB(t, dir)
	rc := goRedis(t, s.Addr().String())
	if err := rc.Do(ctx, "BGSAVE", "FOO").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatal(err)
	}
	rdbDo(t, rc, "SET", "k", "v")
	if v := rdbDo(t, rc, "BGSAVE", "SCHEDULE"); v != "Background saving started" {
		t.Fatal(v)
	}
	waitSave(t, s)
	// Inside a transaction it is scheduled.
	rdbDo(t, rc, "MULTI")
	rdbDo(t, rc, "BGSAVE")
	v := rdbDo(t, rc, "EXEC").([]any)
	if v[0] != "Background saving scheduled" {
		t.Fatal(v)
	}
	time.Sleep(50 * time.Millisecond)
	waitSave(t, s)
	st := s.persist.RDBStatus()
	if !st.LastOK || st.Saves != 2 || st.BgsaveInProgress {
		t.Fatalf("%+v", st)
	}
	m := infoMap(s)
	if m["rdb_saves"] != "2" || m["rdb_last_bgsave_status"] != "ok" || m["rdb_changes_since_last_save"] != "0" ||
		m["rdb_bgsave_in_progress"] != "0" {
		t.Fatalf("%v", m)
	}
	if lastsave := rdbDo(t, rc, "LASTSAVE").(int64); time.Now().Unix()-lastsave > 5 {
		t.Fatal(lastsave)
	}
	// A failed save (dump.rdb is a directory: the rename fails) is
	// reported, and writes are refused per stop-writes-on-bgsave-error.
	os.Remove(filepath.Join(dir, "dump.rdb"))
	os.MkdirAll(filepath.Join(dir, "dump.rdb", "x"), 0o755)
	if err := rc.Do(ctx, "SAVE").Err(); err == nil || err.Error() != "ERR" {
		t.Fatalf("failing SAVE: %v", err)
	}
	rdbDo(t, rc, "BGSAVE")
	waitSave(t, s)
	if s.persist.RDBStatus().LastOK {
		t.Fatal("failed BGSAVE reported ok")
	}
	if m := infoMap(s); m["rdb_last_bgsave_status"] != "err" {
		t.Fatalf("%v", m)
	}
	if s.writesDenied() != "" {
		t.Fatal("writes denied without save rules")
	}
	s.Cfg.Set([][2]string{{"save", "3600 1"}})
	if !strings.HasPrefix(s.writesDenied(), "MISCONF ") {
		t.Fatal("writes allowed after a failed BGSAVE")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
	os.RemoveAll(filepath.Join(dir, "dump.rdb"))
	rdbDo(t, rc, "BGSAVE")
	waitSave(t, s)
	if !s.persist.RDBStatus().LastOK || s.writesDenied() != "" {
		t.Fatal("a good BGSAVE did not clear the error")
	}
}

func infoMap(s *Server) map[string]string {
	m := map[string]string{}
	s.persist.InfoRDB(func(k, v string) { m[k] = v })
	return m
}

// TestSaveRulesAndShutdown: a save rule fires a BGSAVE; SHUTDOWN saves;
// the next start loads what was saved, TTLs included.
func TestSaveRulesAndShutdown(t *testing.T) {
	dir := t.TempDir()
	s := mustStartRDB(t, dir, "--save", "1", "2")
	rc := goRedis(t, s.Addr().String())
	rdbDo(t, rc, "SET", "a", "1")
	rdbDo(t, rc, "SET", "b", "2", "PX", "100000")
	eventually(t, 5*time.Second, func() error {
		if s.persist.RDBStatus().Saves == 0 {
			return fmt.Errorf("no save yet")
		}
		return nil
	})
	if !strings.Contains(rdbLog(s), "changes in 1 seconds. Saving...") {
		t.Fatalf("log: %s", rdbLog(s))
	}
	rdbDo(t, rc, "SET", "c", "3")
	if err := rc.Do(ctx, "SHUTDOWN").Err(); err == nil || !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "closed") {
		// SHUTDOWN closes the connection without a reply.
		if err != nil {
			t.Logf("shutdown: %v", err)
		}
	}
	eventually(t, 5*time.Second, func() error {
		if !s.closing.Load() {
			return fmt.Errorf("still running")
		}
		return nil
	})
	s.Close()
	s2 := mustStartRDB(t, dir)
	rc2 := goRedis(t, s2.Addr().String())
	if v := rdbDo(t, rc2, "MGET", "a", "b", "c"); fmt.Sprint(v) != "[1 2 3]" {
		t.Fatal(v)
	}
	if ttl := rdbDo(t, rc2, "PTTL", "b").(int64); ttl < 90000 || ttl > 100000 {
		t.Fatal(ttl)
	}
}

// TestCorruptFileRefused: a damaged dump.rdb stops the start with an
// error naming the offset; it never panics.
func TestCorruptFileRefused(t *testing.T) {
	dir := t.TempDir()
	s := mustStartRDB(t, dir)
	rc := goRedis(t, s.Addr().String())
	for i := 0; i < 100; i++ {
		rdbDo(t, rc, "RPUSH", "l"+strconv.Itoa(i%5), strings.Repeat("x", i))
		rdbDo(t, rc, "HSET", "h", "f"+strconv.Itoa(i), i)
	}
	rdbDo(t, rc, "SAVE")
	s.Close()
	path := filepath.Join(dir, "dump.rdb")
	good, _ := os.ReadFile(path)
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 40; i++ {
		b := append([]byte(nil), good...)
		if i%2 == 0 {
			b = b[:r.IntN(len(b))]
		} else {
			b[9+r.IntN(len(b)-9)] ^= byte(1 + r.IntN(255))
		}
		os.WriteFile(path, b, 0o644)
		_, err := startRDB(t, dir)
		if err == nil {
			t.Fatalf("case %d: corrupt file accepted", i)
		}
		if !strings.Contains(err.Error(), "offset") {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

// TestDebugReload: DEBUG RELOAD saves, flushes and reloads; its options
// and errors are Redis's.
func TestDebugReload(t *testing.T) {
	dir := t.TempDir()
	s := mustStartRDB(t, dir)
	addr := s.Addr().String()
	rc := goRedis(t, addr)
	rdbtest.Populate(t, addr)
	want := rdbtest.Capture(t, addr, 0)
	if v := rdbDo(t, rc, "DEBUG", "RELOAD"); v != "OK" {
		t.Fatal(v)
	}
	if d := rdbtest.Diff(stringsOff(want), stringsOff(rdbtest.Capture(t, addr, 0)), true); len(d) > 0 {
		t.Fatalf("%s", strings.Join(d, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
	// NOSAVE reloads the file as it is: later writes are gone.
	rdbDo(t, rc, "SET", "later", "x")
	rdbDo(t, rc, "DEBUG", "RELOAD", "NOSAVE")
	if v := rdbDo(t, rc, "EXISTS", "later"); v != int64(0) {
		t.Fatal("NOSAVE kept a write made after the save")
	}
	// NOFLUSH without MERGE finds the keys already there.
	err := rc.Do(ctx, "DEBUG", "RELOAD", "NOFLUSH", "NOSAVE").Err()
	if err == nil || err.Error() != "ERR Error trying to load the RDB dump, check server logs." {
		t.Fatal(err)
	}
	rdbDo(t, rc, "DEBUG", "RELOAD", "NOFLUSH", "NOSAVE", "MERGE")
	err = rc.Do(ctx, "DEBUG", "RELOAD", "FOO").Err()
	if err == nil || err.Error() != "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options." {
		t.Fatal(err)
	}
	if d := rdbtest.Diff(stringsOff(want), stringsOff(rdbtest.Capture(t, addr, 0)), true); len(d) > 0 {
		t.Fatalf("%s", strings.Join(d, "\n"))
	}
}

// TestBgsavePointInTime: while a BGSAVE of a dataset runs, one client
// applies a deterministic sequence of writes (SET, DEL, HSET, LPUSH,
// RENAME, FLUSHDB in db 1, SWAPDB...) spread over all slots and another
// client reads. The file must equal the dataset after exactly some prefix
// of that sequence: a single instant.
func TestBgsavePointInTime(t *testing.T) {
	dir := t.TempDir()
	// Small chunks so that writes get in between the chunks of a slot.
	s := mustStartRDBWith(t, []Option{WithSnapshotWalk(3, nil)}, dir)
	addr := s.Addr().String()
	rc := goRedis(t, addr)
	// Filler so the walk takes a while (a long command: no read timeout).
	slow := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: -1})
	defer slow.Close()
	rdbDo(t, slow, "DEBUG", "POPULATE", "300000", "filler", "50")
	const nkeys = 3000
	type op struct{ args []any }
	rnd := rand.New(rand.NewPCG(9, 9))
	var ops []op
	for i := 1; i <= 60000; i++ {
		k := "k:" + strconv.Itoa(rnd.IntN(nkeys))
		switch i % 10 {
		case 3:
			ops = append(ops, op{[]any{"DEL", k}})
		case 5:
			ops = append(ops, op{[]any{"HSET", "h" + k, "f" + strconv.Itoa(i%7), i}})
		case 7:
			ops = append(ops, op{[]any{"LPUSH", "l" + k, i}})
		case 9:
			ops = append(ops, op{[]any{"RENAME", "{" + k + "}a", "{" + k + "}b"}})
		default:
			ops = append(ops, op{[]any{"SET", k, i}})
		}
	}
	// Seed the RENAME sources.
	for i := 0; i < nkeys; i++ {
		rdbDo(t, rc, "SET", "{k:"+strconv.Itoa(i)+"}a", "r"+strconv.Itoa(i))
	}
	var applied atomic.Int64
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		wc := goRedis(t, addr)
		p := wc.Pipeline()
		for i, o := range ops {
			if i == 200 {
				close(started)
			}
			p.Do(ctx, o.args...)
			if p.Len() == 20 || i == len(ops)-1 {
				p.Exec(ctx) // RENAME of a missing key errors: fine
				applied.Store(int64(i + 1))
			}
		}
	}()
	<-started
	if v := rdbDo(t, rc, "BGSAVE"); v != "Background saving started" {
		t.Fatal(v)
	}
	waitSave(t, s)
	duringSave := applied.Load()
	<-done
	t.Logf("%d writes were applied when the save finished", duringSave)
	if applied.Load() != int64(len(ops)) {
		t.Fatal("writer stopped early")
	}
	// Read the file.
	f, err := os.Open(filepath.Join(dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file := map[string]string{}
	fillers := 0
	d := rdb.NewDecoder(bufio.NewReader(f))
	if _, err := d.Load(rdb.Handler{Entry: func(e *rdb.Entry) error {
		k := string(e.Key)
		if strings.HasPrefix(k, "filler:") {
			fillers++
			return nil
		}
		if _, dup := file[k]; dup {
			return fmt.Errorf("key %q twice", k)
		}
		file[k] = describeObj(e.Obj)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if fillers != 300000 {
		t.Fatalf("%d filler keys", fillers)
	}
	// Replay the writes into a model, keeping count of the keys on which
	// model and file differ, until they agree.
	lists := map[string][]string{}
	hashes := map[string]map[string]string{}
	model := map[string]string{}
	for i := 0; i < nkeys; i++ {
		model["{k:"+strconv.Itoa(i)+"}a"] = "string:r" + strconv.Itoa(i)
	}
	bad := map[string]bool{}
	check := func(k string) {
		if model[k] != file[k] {
			bad[k] = true
		} else {
			delete(bad, k)
		}
	}
	for k := range model {
		check(k)
	}
	for k := range file {
		check(k)
	}
	set := func(k, v string) {
		if v == "" {
			delete(model, k)
		} else {
			model[k] = v
		}
		check(k)
	}
	for i := 0; i <= len(ops); i++ {
		if len(bad) == 0 {
			t.Logf("the file is the state after %d of %d writes", i, len(ops))
			return
		}
		if i == len(ops) {
			break
		}
		a := ops[i].args
		k := a[1].(string)
		switch a[0] {
		case "SET":
			set(k, "string:"+strconv.Itoa(a[2].(int)))
		case "DEL":
			delete(lists, k)
			delete(hashes, k)
			set(k, "")
		case "HSET":
			if hashes[k] == nil {
				hashes[k] = map[string]string{}
			}
			hashes[k][a[2].(string)] = strconv.Itoa(a[3].(int))
			var parts []string
			for f, v := range hashes[k] {
				parts = append(parts, f+"="+v)
			}
			sortStr(parts)
			set(k, "hash:"+strings.Join(parts, ","))
		case "LPUSH":
			lists[k] = append([]string{strconv.Itoa(a[2].(int))}, lists[k]...)
			set(k, "list:"+strings.Join(lists[k], ","))
		case "RENAME":
			if v, ok := model[k]; ok {
				set(k, "")
				set(a[2].(string), v)
			}
		}
	}
	var sample []string
	for k := range bad {
		if len(sample) < 5 {
			sample = append(sample, fmt.Sprintf("%s: model %q file %q", k, model[k], file[k]))
		}
	}
	t.Fatalf("the file matches no prefix of the writes (%d keys in file):\n%s", len(file), strings.Join(sample, "\n"))
}

func sortStr(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func describeObj(o *keyspace.Object) string {
	switch o.Type() {
	case keyspace.TString:
		return "string:" + string(o.Bytes())
	case keyspace.TList:
		var parts []string
		for v := range o.List().All() {
			parts = append(parts, string(v))
		}
		return "list:" + strings.Join(parts, ",")
	case keyspace.THash:
		var parts []string
		o.Hash().ForEach(func(f, v []byte) bool {
			parts = append(parts, string(f)+"="+string(v))
			return true
		})
		sortStr(parts)
		return "hash:" + strings.Join(parts, ",")
	}
	return "?"
}

// TestBgsaveSpecialWrites: with the walk stopped halfway through database
// 0, writes that reach keys in other ways (FLUSHDB, FLUSHALL-free SWAPDB,
// MOVE, COPY ... DB, MULTI/EXEC, a BLMOVE served by a push, RENAME,
// DEBUG POPULATE) all leave the file equal to the dataset at BGSAVE.
func TestBgsaveSpecialWrites(t *testing.T) {
	dir := t.TempDir()
	var walkHook atomic.Pointer[func(db, sl int)]
	s := mustStartRDBWith(t, []Option{WithSnapshotWalk(0, func(db, sl int) {
		if h := walkHook.Load(); h != nil {
			(*h)(db, sl)
		}
	})}, dir)
	addr := s.Addr().String()
	c := func(db int) *redis.Client { return rdbtest.Client(t, addr, db) }
	for db := 0; db < 5; db++ {
		rc := c(db)
		for i := 0; i < 2000; i++ {
			k := fmt.Sprintf("k%d:%d", db, i)
			rdbDo(t, rc, "SET", k, "v"+k)
			if i%50 == 0 {
				rdbDo(t, rc, "RPUSH", "l"+k, "a", "b")
			}
		}
		rc.Close()
	}
	want := map[int]map[string]rdbtest.Key{}
	for db := 0; db < 5; db++ {
		want[db] = rdbtest.Capture(t, addr, db)
	}
	stop := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	hook := func(db, sl int) {
		if db == 0 && sl == slot8000 {
			once.Do(func() { close(stop); <-release })
		}
	}
	walkHook.Store(&hook)
	c0, c1, c2 := c(0), c(1), c(2)
	defer c0.Close()
	defer c1.Close()
	defer c2.Close()
	// A client blocked on BLMOVE, to be served while the walk is stopped:
	// its destination is a list the walk has not reached, written only by
	// the served command (blocking.go's hook).
	dest := ""
	for i := 0; i < 2000; i += 50 {
		if k := fmt.Sprintf("lk0:%d", i); slot.OfString(k) > slot8000+100 {
			dest = k
			break
		}
	}
	// The source shares dest's shard, so the pushing client serves the
	// waiter itself (without it the waiter would retry on its own).
	src := ""
	for i := 0; src == ""; i++ {
		if k := fmt.Sprintf("src:%d", i); slot.OfString(k)%64 == slot.OfString(dest)%64 {
			src = k
		}
	}
	blocked := make(chan error, 1)
	go func() {
		bc := c(0)
		defer bc.Close()
		blocked <- bc.Do(ctx, "BLMOVE", src, dest, "LEFT", "RIGHT", "10").Err()
	}()
	time.Sleep(50 * time.Millisecond)
	if v := rdbDo(t, c0, "BGSAVE"); v != "Background saving started" {
		t.Fatal(v)
	}
	<-stop
	for i := 0; i < 2000; i += 3 {
		k := fmt.Sprintf("k0:%d", i)
		switch i % 4 {
		case 0:
			rdbDo(t, c0, "SET", k, "changed")
		case 1:
			rdbDo(t, c0, "MOVE", k, "4")
		case 2:
			rdbDo(t, c0, "COPY", k, fmt.Sprintf("k2:%d", i), "DB", "2", "REPLACE")
		case 3:
			rdbDo(t, c0, "RENAME", k, "renamed:"+k)
		}
	}
	rdbDo(t, c0, "LPUSH", src, "x") // serves BLMOVE: writes dest
	if n := rdbDo(t, c0, "LLEN", dest); n != int64(3) {
		t.Fatalf("BLMOVE not served: %v", n)
	}
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	pipe := c1.TxPipeline()
	for i := 0; i < 100; i++ {
		pipe.Set(ctx, fmt.Sprintf("k1:%d", i), "in-multi", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	rdbDo(t, c1, "FLUSHDB")
	rdbDo(t, c1, "SET", "after-flush", "x")
	rdbDo(t, c2, "SWAPDB", "2", "3")
	rdbDo(t, c2, "DEBUG", "POPULATE", "100", "pop")
	close(release)
	waitSave(t, s)
	// Load the file into a fresh server and compare with the instant.
	dir2 := t.TempDir()
	copyFile(t, filepath.Join(dir, "dump.rdb"), filepath.Join(dir2, "dump.rdb"))
	s2 := mustStartRDB(t, dir2)
	for db := 0; db < 5; db++ {
		got := rdbtest.Capture(t, s2.Addr().String(), db)
		if d := rdbtest.Diff(stringsOff(want[db]), stringsOff(got), true); len(d) > 0 {
			t.Fatalf("db %d differs from the instant of BGSAVE (%d differences):\n%s", db, len(d),
				strings.Join(d[:min(10, len(d))], "\n"))
		}
	}
}

// slot8000 stops the walk in the middle of the slots.
const slot8000 = 8000

// TestFlushAllSaves: with save points set, FLUSHALL saves the emptied
// dataset at once and rdb_changes_since_last_save is 0 after it, as
// Redis's flushAllDataAndResetRDB (unit/other "FLUSHALL should reset the
// dirty counter to 0 if we enable save"): a restart cannot bring back the
// flushed keys from an older dump. Without save points nothing is saved.
func TestFlushAllSaves(t *testing.T) {
	dir := t.TempDir()
	s := mustStartRDB(t, dir, "--save", "3600 1 300 100 60 10000")
	rc := goRedis(t, s.Addr().String())
	rdbDo(t, rc, "SET", "a", "1")
	rdbDo(t, rc, "SAVE")
	rdbDo(t, rc, "SET", "b", "2")
	rdbDo(t, rc, "FLUSHALL")
	info := rc.Info(ctx, "persistence").Val()
	if !strings.Contains(info, "rdb_changes_since_last_save:0\r\n") {
		t.Fatalf("after FLUSHALL:\n%s", info)
	}
	s.Close()
	s2 := mustStartRDB(t, dir)
	if n := rdbDo(t, goRedis(t, s2.Addr().String()), "DBSIZE").(int64); n != 0 {
		t.Fatalf("keys after a restart: %d", n)
	}
	s3 := mustStartRDB(t, t.TempDir())
	rc3 := goRedis(t, s3.Addr().String())
	rdbDo(t, rc3, "SET", "a", "1")
	rdbDo(t, rc3, "FLUSHALL")
	if info := rc3.Info(ctx, "persistence").Val(); strings.Contains(info, "rdb_changes_since_last_save:0\r\n") {
		t.Fatalf("FLUSHALL without save points saved:\n%s", info)
	}
}

// TestFlushAllAbortsBgsave: FLUSHALL stops a BGSAVE in progress, which
// counts as not done (integration/rdb "Test FLUSHALL aborts bgsave").
func TestFlushAllAbortsBgsave(t *testing.T) {
	s := mustStartRDB(t, t.TempDir())
	rc := goRedis(t, s.Addr().String())
	rdbDo(t, rc, "DEBUG", "POPULATE", "2000")
	rdbDo(t, rc, "CONFIG", "SET", "rdb-key-save-delay", "1000") // 2 s
	rdbDo(t, rc, "BGSAVE")
	rdbDo(t, rc, "FLUSHALL")
	eventually(t, 2*time.Second, func() error {
		if info := rc.Info(ctx, "persistence").Val(); !strings.Contains(info, "rdb_bgsave_in_progress:0\r\n") {
			return fmt.Errorf("BGSAVE still running")
		}
		return nil
	})
	if info := rc.Info(ctx, "persistence").Val(); strings.Contains(info, "rdb_changes_since_last_save:0\r\n") {
		t.Fatalf("the aborted BGSAVE counted as a save:\n%s", info)
	}
}

// SETBIT and BITFIELD SET count a change only when the key is made or
// grows or the bits change (Redis's unit/bitops "SETBIT/BITFIELD only
// increase dirty when the value changed").
func TestBitWritesCountOnlyChanges(t *testing.T) {
	s, rc := startServer(t, "--save", "")
	ctx := context.Background()
	dirty := func() int {
		n, _ := strconv.Atoi(infoMap(s)["rdb_changes_since_last_save"])
		return n
	}
	steps := []struct {
		cmds [][]any
		add  int
	}{
		{[][]any{{"SETBIT", "foo", 0, 0}, {"BITFIELD", "foo2", "SET", "i5", 0, 0}}, 2}, // made
		{[][]any{{"SETBIT", "foo", 0, 0}, {"BITFIELD", "foo2", "SET", "i5", 0, 0}}, 0}, // no change
		{[][]any{{"SETBIT", "foo", 0, 1}, {"SETBIT", "foo", 0, 1}, {"SETBIT", "foo", 0, 0}, {"SETBIT", "foo", 0, 0},
			{"BITFIELD", "foo2", "SET", "i5", 0, 1}, {"BITFIELD", "foo2", "SET", "i5", 0, 1},
			{"BITFIELD", "foo2", "SET", "i5", 0, 0}, {"BITFIELD", "foo2", "SET", "i5", 0, 0}}, 4},
		{[][]any{{"BITFIELD", "foo3", "INCRBY", "i5", 0, 1}, {"BITFIELD", "foo3", "INCRBY", "i5", 0, 1}}, 2},
		{[][]any{{"SETBIT", "foo", 90, 0}, {"BITFIELD", "foo2", "SET", "i5", 90, 0}}, 2}, // grew
	}
	for i, st := range steps {
		before := dirty()
		for _, c := range st.cmds {
			if err := rc.Do(ctx, c...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if got := dirty() - before; got != st.add {
			t.Fatalf("step %d: %d changes, want %d", i, got, st.add)
		}
	}
}
