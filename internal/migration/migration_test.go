package migration

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"redgo/internal/resp"
)

func bs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

func TestParseOptions(t *testing.T) {
	cases := []struct {
		args string
		keys string
		err  string
		want Options
	}{
		{args: "h p k 0 10", keys: "k"},
		{args: "h p k 0 10 COPY replace", keys: "k", want: Options{Copy: true, Replace: true}},
		{args: "h p k 0 10 auth pw", keys: "k", want: Options{Auth: true, Password: []byte("pw")}},
		{args: "h p k 0 10 AUTH2 u pw", keys: "k", want: Options{Auth: true, User: []byte("u"), Password: []byte("pw")}},
		{args: "h p k 0 10 auth", err: ErrSyntax},
		{args: "h p k 0 10 auth2 u", err: ErrSyntax},
		{args: "h p k 0 10 foo", err: ErrSyntax},
		{args: "h p k 0 10 keys a", err: ErrKeysNotEmpty},
		{args: "h p _ 0 10 replace keys a b", keys: "a b", want: Options{Replace: true}},
		{args: "h p _ 0 10 keys", keys: ""},
		// KEYS ends the options: "copy" after it is a key.
		{args: "h p _ 0 10 keys copy", keys: "copy"},
	}
	for _, c := range cases {
		args := bs(strings.Fields("migrate " + strings.ReplaceAll(c.args, "_", "\x00"))...)
		for i, a := range args {
			if string(a) == "\x00" {
				args[i] = []byte{}
			}
		}
		o, err := ParseOptions(args)
		if err != c.err {
			t.Errorf("%s: error %q, want %q", c.args, err, c.err)
			continue
		}
		if err != "" {
			continue
		}
		var keys []string
		for _, k := range o.Keys {
			keys = append(keys, string(k))
		}
		if strings.Join(keys, " ") != c.keys {
			t.Errorf("%s: keys %q, want %q", c.args, keys, c.keys)
		}
		o.Keys = nil
		if !reflect.DeepEqual(o, c.want) {
			t.Errorf("%s: %+v, want %+v", c.args, o, c.want)
		}
	}
}

func TestKeyPositions(t *testing.T) {
	cases := map[string][]int{
		"migrate h p k 0 10":                        {3},
		"migrate h p k 0 10 copy":                   {3},
		"migrate h p _ 0 10 keys a b":               {7, 8},
		"migrate h p _ 0 10 auth keys keys a":       {9},
		"migrate h p _ 0 10 auth2 keys keys keys a": {10},
		"migrate h p k 0 10 keys a":                 nil,
		"migrate h p _ 0 10 keys":                   {},
	}
	for in, want := range cases {
		args := bs(strings.Fields(in)...)
		if string(args[3]) == "_" {
			args[3] = nil
		}
		got := KeyPositions(args)
		if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int64{"6379": 6379, " 12x": 12, "x": 0, "-5": -5, "+7": 7, "": 0} {
		if got := atoi(in); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}

// target is a scripted RESP server: reply decides the answer to each
// command ("" closes the connection).
type target struct {
	ln    net.Listener
	mu    sync.Mutex
	cmds  []string // every command received, space-joined
	conns int
	reply func(args [][]byte) string
	wg    sync.WaitGroup
}

func newTarget(t *testing.T, reply func(args [][]byte) string) *target {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ln: ln, reply: reply}
	tg.wg.Add(1)
	go tg.serve()
	t.Cleanup(func() { ln.Close(); tg.wg.Wait() })
	return tg
}

func (tg *target) port() string { return strconv.Itoa(tg.ln.Addr().(*net.TCPAddr).Port) }

func (tg *target) serve() {
	defer tg.wg.Done()
	for {
		nc, err := tg.ln.Accept()
		if err != nil {
			return
		}
		tg.mu.Lock()
		tg.conns++
		tg.mu.Unlock()
		tg.wg.Add(1)
		go func() {
			defer tg.wg.Done()
			defer nc.Close()
			br := bufio.NewReader(nc)
			var buf []byte
			chunk := make([]byte, 4096)
			for {
				n, err := br.Read(chunk)
				if err != nil {
					return
				}
				buf = append(buf, chunk[:n]...)
				for {
					args, used, _, err := resp.Parse(buf, nil, resp.Limits{})
					if err != nil {
						break
					}
					buf = buf[used:]
					var parts []string
					for _, a := range args {
						if len(a) > 20 {
							a = a[:0] // a payload: not recorded
						}
						parts = append(parts, string(a))
					}
					tg.mu.Lock()
					tg.cmds = append(tg.cmds, strings.Join(parts, " "))
					tg.mu.Unlock()
					r := tg.reply(args)
					if r == "" {
						return
					}
					if _, err := nc.Write([]byte(r)); err != nil {
						return
					}
				}
			}
		}()
	}
}

func (tg *target) connCount() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.conns
}

func (tg *target) log() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]string(nil), tg.cmds...)
}

func items(keys ...string) []Item {
	var out []Item
	for _, k := range keys {
		out = append(out, Item{Key: []byte(k), Payload: []byte("payload-of-" + k + "-padding-to-be-long")})
	}
	return out
}

func req(port string, keys ...string) *Request {
	return &Request{Host: "127.0.0.1", Port: port, Timeout: time.Second, Items: items(keys...)}
}

func TestMigrateSelectsOnceAndReusesTheConnection(t *testing.T) {
	tg := newTarget(t, func([][]byte) string { return "+OK\r\n" })
	c := NewCache()
	defer c.Close()
	r := req(tg.port(), "a", "b")
	r.DB, r.Replace, r.Asking = 3, true, true
	if res := c.Migrate(r); res.Err != "" || !reflect.DeepEqual(res.Acked, []int{0, 1}) {
		t.Fatalf("got %+v", res)
	}
	r.Items = items("c")
	if res := c.Migrate(r); res.Err != "" || !reflect.DeepEqual(res.Acked, []int{0}) {
		t.Fatalf("got %+v", res)
	}
	want := []string{"SELECT 3", "RESTORE-ASKING a 0  REPLACE", "RESTORE-ASKING b 0  REPLACE", "RESTORE-ASKING c 0  REPLACE"}
	if got := tg.log(); !reflect.DeepEqual(got, want) {
		t.Fatalf("target saw %q, want %q", got, want)
	}
	if tg.connCount() != 1 || c.Len() != 1 {
		t.Fatalf("%d connections, %d cached; want 1, 1", tg.connCount(), c.Len())
	}
	c.CloseIdle(time.Now())
	if c.Len() != 1 {
		t.Fatal("a fresh connection was closed")
	}
	c.CloseIdle(time.Now().Add(CacheTTL + time.Second))
	if c.Len() != 0 {
		t.Fatal("an idle connection was kept")
	}
}

func TestMigrateAuth(t *testing.T) {
	tg := newTarget(t, func(args [][]byte) string {
		if strings.EqualFold(string(args[0]), "auth") && string(args[len(args)-1]) != "pw" {
			return "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
		}
		return "+OK\r\n"
	})
	c := NewCache()
	defer c.Close()
	r := req(tg.port(), "a", "b")
	r.Options = Options{Auth: true, User: []byte("u"), Password: []byte("bad")}
	res := c.Migrate(r)
	if res.Err != errTargetFmt+"WRONGPASS invalid username-password pair or user is disabled." || len(res.Acked) != 0 {
		t.Fatalf("got %+v", res)
	}
	r.Options = Options{Auth: true, Password: []byte("pw")}
	if res := c.Migrate(r); res.Err != "" || len(res.Acked) != 2 {
		t.Fatalf("got %+v", res)
	}
	// The failed call forgot the selected database: SELECT again.
	want := []string{"AUTH u bad", "SELECT 0", "RESTORE a 0 ", "RESTORE b 0 ", "AUTH pw", "SELECT 0", "RESTORE a 0 ", "RESTORE b 0 "}
	if got := tg.log(); !reflect.DeepEqual(got, want) {
		t.Fatalf("target saw %q, want %q", got, want)
	}
}

func TestMigrateTargetErrorKeepsTheOthers(t *testing.T) {
	tg := newTarget(t, func(args [][]byte) string {
		if string(args[1]) == "b" {
			return "-BUSYKEY Target key name already exists.\r\n"
		}
		return "+OK\r\n"
	})
	c := NewCache()
	defer c.Close()
	res := c.Migrate(req(tg.port(), "a", "b", "c"))
	if res.Err != "ERR Target instance replied with error: BUSYKEY Target key name already exists." ||
		!reflect.DeepEqual(res.Acked, []int{0, 2}) {
		t.Fatalf("got %+v", res)
	}
}

// A target that dies after acknowledging some keys: those are reported,
// the rest are not, and the error is Redis's.
func TestMigrateTargetDiesMidway(t *testing.T) {
	n := 0
	var mu sync.Mutex
	tg := newTarget(t, func(args [][]byte) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n > 3 { // SELECT + 2 keys, then it dies
			return ""
		}
		return "+OK\r\n"
	})
	c := NewCache()
	defer c.Close()
	res := c.Migrate(req(tg.port(), "a", "b", "c", "d"))
	if res.Err != errReading || !reflect.DeepEqual(res.Acked, []int{0, 1}) {
		t.Fatalf("got %+v", res)
	}
	if c.Len() != 0 {
		t.Fatal("a broken connection stayed cached")
	}
}

// A cached connection the target closed meanwhile is replaced without
// the caller noticing.
func TestMigrateRetriesAClosedConnection(t *testing.T) {
	var mu sync.Mutex
	drop := false
	tg := newTarget(t, func(args [][]byte) string {
		mu.Lock()
		defer mu.Unlock()
		if drop {
			drop = false
			return ""
		}
		return "+OK\r\n"
	})
	c := NewCache()
	defer c.Close()
	if res := c.Migrate(req(tg.port(), "a")); res.Err != "" {
		t.Fatal(res.Err)
	}
	mu.Lock()
	drop = true
	mu.Unlock()
	if res := c.Migrate(req(tg.port(), "b")); res.Err != "" || len(res.Acked) != 1 {
		t.Fatalf("got %+v", res)
	}
	if tg.connCount() != 2 {
		t.Fatalf("%d connections, want 2", tg.conns)
	}
}

func TestMigrateTimeoutIsNotRetried(t *testing.T) {
	tg := newTarget(t, func(args [][]byte) string { time.Sleep(300 * time.Millisecond); return "+OK\r\n" })
	c := NewCache()
	defer c.Close()
	r := req(tg.port(), "a")
	r.Timeout = 50 * time.Millisecond
	if res := c.Migrate(r); res.Err != errReading || len(res.Acked) != 0 {
		t.Fatalf("got %+v", res)
	}
	if tg.connCount() != 1 {
		t.Fatalf("%d connections: a timeout was retried", tg.conns)
	}
}

func TestMigrateConnectErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // nobody listens there now
	c := NewCache()
	defer c.Close()
	if res := c.Migrate(req(port, "a")); res.Err != errWriting {
		t.Fatalf("refused: %+v", res)
	}
	r := req(port, "a")
	r.Host = ""
	if res := c.Migrate(r); res.Err != errConnect {
		t.Fatalf("no host: %+v", res)
	}
	r = req("-1", "a")
	if res := c.Migrate(r); res.Err != errConnect {
		t.Fatalf("negative port: %+v", res)
	}
}

// A target that answers each command as it reads it, with long errors,
// while the sender is still writing a large pipeline: the sender reads
// meanwhile, so neither side stalls.
func TestMigrateLargePipeline(t *testing.T) {
	long := "-ERR " + strings.Repeat("x", 2000) + "\r\n"
	tg := newTarget(t, func(args [][]byte) string {
		if strings.EqualFold(string(args[0]), "select") {
			return "+OK\r\n"
		}
		return long
	})
	c := NewCache()
	defer c.Close()
	var keys []string
	for i := range 5000 {
		keys = append(keys, fmt.Sprint("k", i))
	}
	r := req(tg.port(), keys...)
	r.Timeout = 5 * time.Second
	res := c.Migrate(r)
	if !strings.HasPrefix(res.Err, errTargetFmt+"ERR xxx") || len(res.Acked) != 0 {
		t.Fatalf("got %d acked, %.80q", len(res.Acked), res.Err)
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("y", 10000)
	br := bufio.NewReaderSize(strings.NewReader("+OK\r\n-"+long+"\r\nbare\n"), 16)
	for _, want := range []string{"+OK", "-" + long, "bare"} {
		got, err := readLine(br)
		if err != nil || got != want {
			t.Fatalf("got %.20q %v, want %.20q", got, err, want)
		}
	}
	if _, err := readLine(br); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v", err)
	}
}
