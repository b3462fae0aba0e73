package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"redgo/internal/localcluster/lctest"
)

// Tests that run the real redgo binary and kill it with SIGKILL.

// redgoBinary builds cmd/redgo once per test run.
func redgoBinary(t *testing.T) string { return lctest.Binary(t) }

type proc struct {
	cmd    *exec.Cmd
	port   int
	dir    string
	exited chan struct{}
}

func (p *proc) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "redgo.log"))
	return string(b)
}

func (p *proc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func (p *proc) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedgo runs `redgo server` with appendonly yes, appendfsync always
// in dir; it returns an error (with the log) if the server exits instead
// of serving.
func startRedgo(t *testing.T, dir string, args ...string) (*proc, error) {
	t.Helper()
	bin := redgoBinary(t)
	port := freePort(t)
	all := append([]string{"server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--logfile", "redgo.log"}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, port: port, dir: dir, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.kill9()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("exited with %d:\n%s", cmd.ProcessState.ExitCode(), p.log())
		default:
		}
		if c, err := net.Dial("tcp", p.addr()); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("redgo did not start:\n%s", p.log())
	return nil, nil
}

func client(t *testing.T, addr string) *redis.Client {
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { rc.Close() })
	return rc
}

var bg = context.Background()

// load runs clients that write until the server dies, recording what the
// server acknowledged: per client, the last INCR value and every RPUSHed
// sequence number; SETs of unique keys.
type load struct {
	mu      sync.Mutex
	counter []int64          // last acknowledged INCR result per client
	pushed  []int64          // acknowledged RPUSHes per client (values 0..n-1, in order)
	sets    map[string]int64 // acknowledged SET key -> value
	acks    atomic.Int64
}

func runLoad(t *testing.T, addr string, clients int, stop <-chan struct{}) (*load, *sync.WaitGroup) {
	l := &load{counter: make([]int64, clients), pushed: make([]int64, clients), sets: map[string]int64{}}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rc := client(t, addr)
			ctr, list := fmt.Sprint("ctr:", c), fmt.Sprint("list:", c)
			for i := int64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch i % 3 {
				case 0:
					var v int64
					if v, err = rc.Incr(bg, ctr).Result(); err == nil {
						l.mu.Lock()
						l.counter[c] = v
						l.mu.Unlock()
					}
				case 1:
					l.mu.Lock()
					n := l.pushed[c]
					l.mu.Unlock()
					if err = rc.RPush(bg, list, n).Err(); err == nil {
						l.mu.Lock()
						l.pushed[c]++
						l.mu.Unlock()
					}
				case 2:
					k := fmt.Sprintf("k:%d:%d", c, i)
					if err = rc.Set(bg, k, i, 0).Err(); err == nil {
						l.mu.Lock()
						l.sets[k] = i
						l.mu.Unlock()
					}
				}
				if err != nil {
					return // the server died: no more acknowledgements
				}
				l.acks.Add(1)
			}
		}(c)
	}
	return l, &wg
}

// verify checks that every acknowledged write is in the restarted server.
func (l *load) verify(t *testing.T, rc *redis.Client) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, want := range l.counter {
		got, _ := rc.Get(bg, fmt.Sprint("ctr:", c)).Int64()
		// An INCR that reached the AOF but whose reply was lost may add one.
		if got < want || got > want+1 {
			t.Errorf("ctr:%d = %d, acknowledged %d", c, got, want)
		}
	}
	for c, n := range l.pushed {
		vals, _ := rc.LRange(bg, fmt.Sprint("list:", c), 0, -1).Result()
		if int64(len(vals)) < n || int64(len(vals)) > n+1 {
			t.Errorf("list:%d has %d items, acknowledged %d", c, len(vals), n)
			continue
		}
		for i, v := range vals {
			if v != strconv.Itoa(i) {
				t.Errorf("list:%d[%d] = %s", c, i, v)
				break
			}
		}
	}
	lost := 0
	for k, v := range l.sets {
		if got, err := rc.Get(bg, k).Int64(); err != nil || got != v {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged SETs lost", lost, len(l.sets))
	}
}

// kill -9 under a concurrent write load (with a rewrite in the middle):
// every acknowledged write is there after the restart.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	dir := t.TempDir()
	p, err := startRedgo(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	l, wg := runLoad(t, p.addr(), 16, stop)
	// Counted in acknowledged writes, not time: a loaded machine is slow.
	waitAcks(t, l, 250)
	if err := client(t, p.addr()).Do(bg, "BGREWRITEAOF").Err(); err != nil {
		t.Fatal(err)
	}
	waitAcks(t, l, 500)
	p.kill9()
	close(stop)
	wg.Wait()
	if l.acks.Load() < 500 {
		t.Fatalf("only %d writes acknowledged", l.acks.Load())
	}
	p2, err := startRedgo(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.verify(t, client(t, p2.addr()))
	t.Logf("%d acknowledged writes before kill -9, all found after restart", l.acks.Load())
}

// kill -9 at a random point of back-to-back rewrites (the log cut at a
// snapshot's instant, the base being written, the manifest switching,
// history being deleted): after the restart every acknowledged write is
// there and none is applied twice (counters and list sequences exact).
func TestKill9DuringRewrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		p, err := startRedgo(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		l, wg := runLoad(t, p.addr(), 16, stop)
		rw := client(t, p.addr())
		var rewrites atomic.Int64
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := rw.Do(bg, "BGREWRITEAOF").Err(); err == nil {
					rewrites.Add(1)
				} else if !strings.Contains(err.Error(), "already in progress") {
					return // the server died
				}
				time.Sleep(time.Millisecond)
			}
		}()
		time.Sleep(time.Duration(400+round*150) * time.Millisecond)
		waitAcks(t, l, 200)
		for start := time.Now(); rewrites.Load() < 2 && time.Since(start) < 30*time.Second; {
			time.Sleep(10 * time.Millisecond)
		}
		p.kill9()
		close(stop)
		wg.Wait()
		if l.acks.Load() < 200 || rewrites.Load() < 2 {
			t.Fatalf("only %d writes acknowledged, %d rewrites started", l.acks.Load(), rewrites.Load())
		}
		p2, err := startRedgo(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		l.verify(t, client(t, p2.addr()))
		t.Logf("round %d: %d acknowledged writes, %d rewrites started before kill -9; all found, none doubled",
			round, l.acks.Load(), rewrites.Load())
		p2.kill9()
	}
}

// lastIncr returns the path of the last incremental file of dir's AOF.
func lastIncr(t *testing.T, dir string) string {
	t.Helper()
	man, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for _, line := range strings.Split(string(man), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[5] == "i" {
			last = f[1]
		}
	}
	return filepath.Join(dir, "appendonlydir", last)
}

// A torn last record (a crash mid-write): aof-load-truncated yes loads up
// to the last whole command and cuts the file; no refuses and says how to
// repair; redgo check-aof --fix repairs.
func TestKill9TornTail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	dir := t.TempDir()
	p, err := startRedgo(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	l, wg := runLoad(t, p.addr(), 8, stop)
	// Writes must have reached the file (a loaded machine may take longer
	// than the 300 ms that are usually plenty).
	time.Sleep(300 * time.Millisecond)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		l.mu.Lock()
		acked := l.counter[0]
		l.mu.Unlock()
		if acked >= 10 {
			break
		}
	}
	p.kill9()
	close(stop)
	wg.Wait()
	incr := lastIncr(t, dir)
	data, _ := os.ReadFile(incr)
	// Tear the last record: drop its last 5 bytes, and forget that write.
	torn := len(data) - 5
	os.Truncate(incr, int64(torn))
	lastStart := strings.LastIndex(string(data), "\n*") + 1 // values hold no "\n*"
	forgetLast(l, data[lastStart:])

	if _, err := startRedgo(t, dir, "--aof-load-truncated", "no"); err == nil ||
		!strings.Contains(err.Error(), "redgo check-aof --fix") || !strings.Contains(err.Error(), filepath.Base(incr)) {
		t.Fatalf("start with aof-load-truncated no: %v", err)
	}
	p2, err := startRedgo(t, dir, "--aof-load-truncated", "yes")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("!!! Truncating the AOF %s at offset %d !!!", filepath.Base(incr), lastStart)
	if !strings.Contains(p2.log(), want) {
		t.Fatalf("log lacks %q:\n%s", want, p2.log())
	}
	l.verify(t, client(t, p2.addr()))
	p2.kill9()
	if fi, _ := os.Stat(incr); fi.Size() != int64(lastStart) {
		t.Fatalf("file not cut: %d bytes, want %d", fi.Size(), lastStart)
	}
}

// forgetLast undoes the acknowledgement of the write in rec, which the
// test tore off the end of the file (its client may have seen a reply).
func forgetLast(l *load, rec []byte) {
	s := string(rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	parts := strings.Split(s, "\r\n")
	if len(parts) < 5 {
		return
	}
	key := parts[4]
	switch {
	case strings.HasPrefix(key, "ctr:"):
		c, _ := strconv.Atoi(key[4:])
		l.counter[c]--
	case strings.HasPrefix(key, "list:"):
		c, _ := strconv.Atoi(key[5:])
		l.pushed[c]--
	default:
		delete(l.sets, key)
	}
}

// Corruption in the middle refuses to start, naming file and offset;
// redgo check-aof --fix cuts the file there and the server starts.
func TestCorruptAOFRefusesThenCheckAOFFixes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	p, err := startRedgo(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	rc := client(t, p.addr())
	for i := 0; i < 10; i++ {
		rc.Set(bg, fmt.Sprint("key", i), i, 0)
	}
	p.kill9()
	incr := lastIncr(t, dir)
	data, _ := os.ReadFile(incr)
	at := strings.Index(string(data), "key5") - 4 // the "$4" header of key5
	data[at] = '!'
	os.WriteFile(incr, data, 0o644)
	_, err = startRedgo(t, dir)
	want := fmt.Sprintf("Bad file format reading the append only file %s at offset %d", filepath.Base(incr), at)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
	fix := exec.Command(redgoBinary(t), "check-aof", "--fix", filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	fix.Stdin = strings.NewReader("y\n")
	out, err := fix.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Successfully truncated AOF") {
		t.Fatalf("check-aof --fix: %v\n%s", err, out)
	}
	p2, err := startRedgo(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	rc2 := client(t, p2.addr())
	if n, _ := rc2.DBSize(bg).Result(); n != 5 {
		t.Fatalf("DBSIZE %d after the cut at key5", n)
	}
}

// waitAcks waits until the load has n acknowledged writes (a minute at
// most: then the check after the kill reports the shortfall).
func waitAcks(t *testing.T, l *load, n int64) {
	t.Helper()
	for start := time.Now(); l.acks.Load() < n && time.Since(start) < time.Minute; {
		time.Sleep(10 * time.Millisecond)
	}
}
