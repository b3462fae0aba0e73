package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"redgo/internal/vfs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func cmd(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// readAll parses every command of data ("SELECT 0", "SET a 1"...).
func readAll(t *testing.T, data []byte) []string {
	t.Helper()
	s := NewScanner(bytes.NewReader(data), 0, int64(len(data)))
	var out []string
	for {
		args, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		var parts []string
		for _, a := range args {
			parts = append(parts, string(a))
		}
		out = append(out, strings.Join(parts, " "))
	}
}

func newMemWriter(t *testing.T, p Policy) (*vfs.MemFS, *Writer) {
	t.Helper()
	fs := vfs.NewMemFS()
	fs.MkdirAll("d")
	f, err := fs.Create("d/a.aof")
	if err != nil {
		t.Fatal(err)
	}
	fs.SyncDir("d")
	w := NewWriter(p, t.Logf)
	w.Attach(f, 0)
	w.SetOn(true)
	w.Start()
	t.Cleanup(w.Stop)
	return fs, w
}

func TestFeedSelectsAndTracksSelect(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "a", "1")}))
	w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "b", "2")}))
	// A transaction that selects inside: the stream follows it.
	w.WaitDurable(w.Feed(0, [][][]byte{cmd("MULTI"), cmd("SET", "c", "3"), cmd("SELECT", "2"), cmd("SET", "d", "4"), cmd("EXEC")}))
	w.WaitDurable(w.Feed(2, [][][]byte{cmd("SET", "e", "5")}))
	w.WaitDurable(w.Feed(1, [][][]byte{cmd("DEL", "e")}))
	data, _ := fs.ReadFile("d/a.aof")
	got := strings.Join(readAll(t, data), "|")
	want := "SELECT 0|SET a 1|SET b 2|MULTI|SET c 3|SELECT 2|SET d 4|EXEC|SET e 5|SELECT 1|DEL e"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !bytes.HasPrefix(data, []byte("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n")) {
		t.Fatalf("encoding: %q", data[:40])
	}
}

func TestFeedOffReturnsZero(t *testing.T) {
	_, w := newMemWriter(t, Always)
	w.SetOn(false)
	if seq := w.Feed(0, [][][]byte{cmd("SET", "a", "1")}); seq != 0 {
		t.Fatalf("seq = %d", seq)
	}
}

// Every write acknowledged under Always survives a crash of the file
// system (only fsynced data is kept), with many concurrent writers.
func TestAlwaysAcknowledgedSurvivesCrash(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	// A slow disk: there is always written but unsynced data to lose.
	fs.SetFail(func(op, name string) error {
		if op == "sync" {
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	var acked sync.Map
	var wg sync.WaitGroup
	var stop atomic.Bool
	var crashed *vfs.MemFS
	for c := 0; c < 20; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("k%d:%d", c, i)
				if err := w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", k, "v")})); err != nil {
					t.Error(err)
					return
				}
				if !stop.Load() {
					acked.Store(k, true)
				}
			}
		}(c)
	}
	time.Sleep(200 * time.Millisecond)
	// Crash: take the durable state while writers still run, and only count
	// acknowledgements recorded before it.
	stop.Store(true)
	crashed = fs.CrashClone()
	wg.Wait()
	data, _ := crashed.ReadFile("d/a.aof")
	have := map[string]bool{}
	s := NewScanner(bytes.NewReader(data), 0, int64(len(data)))
	for {
		args, err := s.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("crashed file unreadable: %v", err)
			}
			break
		}
		if len(args) == 3 {
			have[string(args[1])] = true
		}
	}
	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		if !have[k.(string)] {
			t.Errorf("acknowledged %s lost", k)
		}
		return true
	})
	if n < 100 {
		t.Fatalf("only %d writes acknowledged", n)
	}
	t.Logf("%d acknowledged writes, all durable", n)
}

// Group commit: many writers share fsyncs.
func TestGroupCommit(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	var syncs atomic.Int64
	fs.SetFail(func(op, name string) error {
		if op == "sync" {
			syncs.Add(1)
			time.Sleep(time.Millisecond) // a slow disk
		}
		return nil
	})
	var wg sync.WaitGroup
	const clients, per = 50, 20
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				w.WaitDurable(w.Feed(0, [][][]byte{cmd("INCR", "x")}))
			}
		}()
	}
	wg.Wait()
	if n := syncs.Load(); n > clients*per/5 {
		t.Fatalf("%d fsyncs for %d writes: no group commit", n, clients*per)
	} else {
		t.Logf("%d fsyncs for %d writes", n, clients*per)
	}
}

func TestFailedFsyncRefusesThenRecovers(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	var broken atomic.Bool
	fs.SetFail(func(op, name string) error {
		if broken.Load() && (op == "sync" || op == "write") {
			return errors.New("No space left on device")
		}
		return nil
	})
	if err := w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "a", "1")})); err != nil {
		t.Fatal(err)
	}
	broken.Store(true)
	err := w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "b", "2")}))
	if err == nil || !strings.Contains(err.Error(), "No space") {
		t.Fatalf("err = %v", err)
	}
	if w.WriteOK() {
		t.Fatal("status still ok")
	}
	// The durable file never holds a torn record.
	data, _ := fs.CrashClone().ReadFile("d/a.aof")
	if got := strings.Join(readAll(t, data), "|"); got != "SELECT 0|SET a 1" {
		t.Fatalf("durable: %s", got)
	}
	broken.Store(false)
	if err := w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "c", "3")})); err != nil {
		t.Fatal(err)
	}
	if !w.WriteOK() {
		t.Fatal("status not restored")
	}
	// The refused write was kept and retried: the log matches memory.
	data, _ = fs.CrashClone().ReadFile("d/a.aof")
	if got := strings.Join(readAll(t, data), "|"); got != "SELECT 0|SET a 1|SET b 2|SET c 3" {
		t.Fatalf("durable after recovery: %s", got)
	}
}

func TestEverySecAndNo(t *testing.T) {
	for _, p := range []Policy{EverySec, No} {
		fs, w := newMemWriter(t, p)
		start := time.Now()
		if err := w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "a", "1")})); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 50*time.Millisecond {
			t.Fatalf("policy %d waited", p)
		}
		deadline := time.Now().Add(3 * time.Second)
		for {
			data, _ := fs.ReadFile("d/a.aof")
			if len(readAll(t, data)) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("policy %d: never written", p)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if p == EverySec {
			for {
				data, _ := fs.CrashClone().ReadFile("d/a.aof")
				if len(data) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("everysec: never fsynced")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

func TestCutBetweenFiles(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	w.WaitDurable(w.Feed(3, [][][]byte{cmd("SET", "a", "1")}))
	nf, _ := fs.Create("d/b.aof")
	fed := w.Feed(3, [][][]byte{cmd("SET", "b", "2")})
	w.Cut(nf, 0)
	if _, err := w.CompleteCut(); err != nil {
		t.Fatal(err)
	}
	w.WaitDurable(fed)
	w.WaitDurable(w.Feed(3, [][][]byte{cmd("SET", "c", "3")}))
	a, _ := fs.ReadFile("d/a.aof")
	b, _ := fs.ReadFile("d/b.aof")
	if got := strings.Join(readAll(t, a), "|"); got != "SELECT 3|SET a 1|SET b 2" {
		t.Fatalf("old file: %s", got)
	}
	if got := strings.Join(readAll(t, b), "|"); got != "SELECT 3|SET c 3" {
		t.Fatalf("new file: %s", got)
	}
}

// The cut is an instant: writes fed after it never reach the old file,
// whether the flusher or CompleteCut completes it, and a cut whose old
// file cannot be completed stays pending (later writes wait) and is
// retried.
func TestCutIsAnInstant(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	var broken atomic.Bool
	fs.SetFail(func(op, name string) error {
		if broken.Load() && name == "d/a.aof" && op == "sync" {
			return errors.New("I/O error")
		}
		return nil
	})
	w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "a", "1")}))
	broken.Store(true) // before the feed: the flusher could fsync it first
	before := w.Feed(0, [][][]byte{cmd("SET", "b", "2")})
	nf, _ := fs.Create("d/b.aof")
	fs.SyncDir("d")
	w.Cut(nf, 0)
	after := w.Feed(0, [][][]byte{cmd("SET", "c", "3")})
	if err := w.WaitDurable(before); err == nil {
		t.Fatal("the old file's tail could not be fsynced, yet its write is durable")
	}
	if _, err := w.CompleteCut(); err == nil {
		t.Fatal("CompleteCut succeeded with a failing fsync")
	}
	if b, _ := fs.ReadFile("d/b.aof"); len(b) != 0 {
		t.Fatalf("written to the new file before the cut completed: %q", b)
	}
	broken.Store(false)
	if err := w.WaitDurable(after); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(before); err != nil {
		t.Fatal(err)
	}
	a, _ := fs.CrashClone().ReadFile("d/a.aof")
	b, _ := fs.CrashClone().ReadFile("d/b.aof")
	if got := strings.Join(readAll(t, a), "|"); got != "SELECT 0|SET a 1|SET b 2" {
		t.Fatalf("old file: %s", got)
	}
	if got := strings.Join(readAll(t, b), "|"); got != "SELECT 0|SET c 3" {
		t.Fatalf("new file: %s", got)
	}
}

func TestStopFlushesAndLateWritesStillDurable(t *testing.T) {
	fs, w := newMemWriter(t, EverySec)
	w.Feed(0, [][][]byte{cmd("SET", "a", "1")})
	w.Stop()
	seq := w.Feed(0, [][][]byte{cmd("SET", "b", "2")})
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	data, _ := fs.CrashClone().ReadFile("d/a.aof")
	if got := strings.Join(readAll(t, data), "|"); got != "SELECT 0|SET a 1|SET b 2" {
		t.Fatalf("after stop: %s", got)
	}
}

func TestScannerErrors(t *testing.T) {
	good := string(AppendCommandStrings(nil, "SET", "a", "1"))
	cases := []struct {
		in        string
		truncated bool
		valid     int64
		cmds      int
	}{
		{good + good, false, -1, 2},
		{"#TS:123\r\n" + good, false, -1, 1},
		{good + good[:10], true, int64(len(good)), 1},
		{good + "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$100\r\nab", true, int64(len(good)), 1},
		{good + "*3", true, int64(len(good)), 1},
		{good + "xx" + good, false, int64(len(good)), 1},
		{good + "*3\r\n$3\r\nSET\r\n$1\r\naXX$1\r\n1\r\n", false, int64(len(good)), 1},
		{good + "*0\r\n", false, -1, 2}, // an empty command: the loader refuses it, check-aof does not
		{good + "*1\r\n$-5\r\n", false, int64(len(good)), 1},
		{good + "*1\r\n$99999999999999999999999\r\n", false, int64(len(good)), 1},
		{"*1\r\n$9999999999\r\nabc", true, 0, 0},
	}
	for i, c := range cases {
		s := NewScanner(strings.NewReader(c.in), 0, int64(len(c.in)))
		n := 0
		var err error
		for {
			_, err = s.Next()
			if err != nil {
				break
			}
			n++
		}
		if n != c.cmds {
			t.Errorf("case %d: %d commands, want %d", i, n, c.cmds)
		}
		if c.valid < 0 {
			if err != io.EOF {
				t.Errorf("case %d: %v", i, err)
			}
			continue
		}
		e := AsError(err)
		if e == nil || e.Truncated != c.truncated || e.ValidUpTo != c.valid {
			t.Errorf("case %d: err %+v, want truncated=%v valid=%d", i, e, c.truncated, c.valid)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	text := "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n" +
		"file appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n"
	m, err := ParseManifest([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Format()); got != text {
		t.Fatalf("format:\n%s", got)
	}
	if m.BaseSeq != 2 || m.IncrSeq != 4 || len(m.Files()) != 3 {
		t.Fatalf("parsed %+v", m)
	}
	m.NewIncr("appendonly.aof")
	m.NewBase("appendonly.aof", false)
	m.IncrsToHistory(1)
	// Redis's order: the rewritten incrementals, oldest first, then the old base.
	want := "file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type h\n" +
		"file appendonly.aof.4.incr.aof seq 4 type h\nfile appendonly.aof.2.base.rdb seq 2 type h\n" +
		"file appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.5.incr.aof seq 5 type i\n"
	if got := string(m.Format()); got != want {
		t.Fatalf("after rewrite:\n%s\nwant:\n%s", got, want)
	}
	q := &Manifest{Incr: []Info{{Name: "my file.aof", Seq: 1, Type: TypeIncr}}}
	if got := string(q.Format()); got != "file \"my file.aof\" seq 1 type i\n" {
		t.Fatalf("quoted: %q", got)
	}
	if back, err := ParseManifest(q.Format()); err != nil || back.Incr[0].Name != "my file.aof" {
		t.Fatalf("quoted back: %v %+v", err, back)
	}
	for _, bad := range []string{"", "file a seq 1\n", "file a seq 1 type i", "file ../a seq 1 type i\n",
		"file a seq 2 type i\nfile b seq 1 type i\n", "file a seq 1 type b\nfile b seq 2 type b\n", "file a seq 1 type x\n",
		"file a seq x type i\n"} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	good := string(AppendCommandStrings(nil, "SET", "a", "1"))
	multi := string(AppendCommandStrings(nil, "MULTI"))
	exec := string(AppendCommandStrings(nil, "EXEC"))
	cases := []struct {
		in      string
		okUpTo  int
		problem string
	}{
		{good + multi + good + exec, len(good + multi + good + exec), ""},
		{good + multi + good, len(good), "Reached EOF before reading EXEC for MULTI"},
		{good + good[:12], len(good), "Expected to read"},
		{good + exec, len(good), "Unexpected EXEC"},
		{multi + multi, 0, "Unexpected MULTI"},
	}
	for i, c := range cases {
		r := Check(strings.NewReader(c.in), int64(len(c.in)), 1, "x")
		if r.OKUpTo != int64(c.okUpTo) || !strings.Contains(r.Problem, c.problem) || (c.problem == "") != (r.Problem == "") {
			t.Errorf("case %d: %+v", i, r)
		}
	}
	// Same numbers as redis-check-aof 7.0 on the same bytes.
	in := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\nXXXX*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n"
	r := Check(strings.NewReader(in), int64(len(in)), 1, "x")
	if r.OKUpTo != 50 || r.Line != 13 || !r.FormatError {
		t.Fatalf("redis case: %+v", r)
	}
}

// With fsyncs back to back, the clients an fsync releases would miss the
// next one (it starts before they write again) and each fsync would cover
// about half the clients. gather makes one fsync cover nearly all.
func TestGroupCommitCoversAllClients(t *testing.T) {
	fs, w := newMemWriter(t, Always)
	fs.SetFail(func(op, name string) error {
		if op == "sync" {
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	const clients = 50
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				w.WaitDurable(w.Feed(0, [][][]byte{cmd("SET", "a", "1")}))
				n.Add(1)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	per := float64(n.Load()) / float64(w.Syncs())
	t.Logf("%d writes, %.1f per fsync", n.Load(), per)
	if per < 0.7*clients {
		t.Fatalf("%.1f writes per fsync with %d clients: fsyncs do not gather the clients", per, clients)
	}
}
