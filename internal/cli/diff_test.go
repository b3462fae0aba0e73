package cli

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"redgo/internal/config"
	"redgo/internal/server"
)

// need returns the path of a Redis tool; without it the test skips, or
// fails when REDGO_REQUIRE_REDIS is set (CI).
func need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatalf("%s not installed but REDGO_REQUIRE_REDIS is set", tool)
		}
		t.Skipf("%s not installed (apt-get install redis-server redis-tools): skipped", tool)
	}
	return p
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs redis-server on a free port.
func startRedis(t testing.TB) int {
	bin := need(t, "redis-server")
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--dir", t.TempDir(), "--enable-debug-command", "yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitPort(t, port)
	return port
}

// startRedgo runs an in-process redgo server on a free port.
func startRedgo(t testing.TB, args ...string) int {
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--enable-debug-command", "yes"}, args...)
	cfg, err := config.Load("", all)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Log.SetOutput(io.Discard)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s.Port()
}

func waitPort(t testing.TB, port int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("port %d never answered", port)
}

// result is what a run of a CLI printed.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("stdout %q stderr %q exit %d", r.stdout, r.stderr, r.code)
}

// runOurs runs redgo cli in-process, stdout not a terminal.
func runOurs(args []string, stdin string) result {
	var out, errw bytes.Buffer
	code := Run(args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errw, Version: "test"})
	return result{out.String(), errw.String(), code}
}

// runRedisCli runs the real redis-cli with stdout on a pipe.
func runRedisCli(t *testing.T, bin string, args []string, stdin string) result {
	cmd := exec.Command(bin, args...)
	var out, errw bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errw
	cmd.Env = append(os.Environ(), "REDISCLI_HISTFILE=/dev/null")
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errw.String(), code}
}

// setupData fills a server with a value of every type, including bytes
// that need quoting.
var setupData = [][]string{
	{"FLUSHALL"},
	{"SET", "str", "hello world"},
	{"SET", "bin", "a\x00b\"c\\d\ne\rf\tg\ah\bi\x7f\xff\xe2\x82\xac"},
	{"SET", "empty", ""},
	{"SET", "num", "42"},
	{"RPUSH", "list", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"},
	{"HSET", "hash", "f1", "v1", "f2", "v2"},
	{"SADD", "set", "x"},
	{"ZADD", "zset", "1.5", "m1", "2", "m2", "-3.25", "m3"},
	{"XADD", "stream", "1-1", "field", "value", "f2", "v2"},
	{"XADD", "stream", "2-1", "field", "value2"},
}

// corpus covers every reply type, nesting, empty aggregates and errors.
var corpus = [][]string{
	{"PING"}, {"ECHO", "hi there"}, {"GET", "str"}, {"GET", "bin"}, {"GET", "empty"}, {"GET", "nokey"},
	{"INCRBY", "num", "0"}, {"STRLEN", "str"}, {"SET", "k", "v"}, {"MGET", "str", "nokey", "bin"},
	{"LRANGE", "list", "0", "-1"}, {"LRANGE", "list", "0", "2"}, {"LRANGE", "nolist", "0", "-1"},
	{"HGETALL", "hash"}, {"HGETALL", "nohash"}, {"SMEMBERS", "set"}, {"SMEMBERS", "noset"},
	{"ZRANGE", "zset", "0", "-1", "WITHSCORES"}, {"ZSCORE", "zset", "m3"},
	{"XRANGE", "stream", "-", "+"}, {"XREAD", "STREAMS", "stream", "0"},
	{"EVAL", "return {1, {2, {3, 'x'}}, {}, {'a', {}}}", "0"},
	{"EVAL", "return {1,2,3,4,5,6,7,8,9,10,{11,12}}", "0"},
	{"EVAL", "return {err='My error'}", "0"},
	{"GET"}, {"NOSUCHCOMMAND", "x"}, {"LPUSH", "str", "x"},
	{"CLIENT", "SETNAME", "cli"}, {"CLIENT", "GETNAME"}, {"SETNX", "str", "x"},
	{"COMMAND", "INFO", "get"}, {"COMMAND", "DOCS", "set"},
	{"DEBUG", "PROTOCOL", "double"}, {"DEBUG", "PROTOCOL", "null"}, {"DEBUG", "PROTOCOL", "array"},
	{"DEBUG", "PROTOCOL", "set"}, {"DEBUG", "PROTOCOL", "map"}, {"DEBUG", "PROTOCOL", "true"},
	{"DEBUG", "PROTOCOL", "false"}, {"DEBUG", "PROTOCOL", "verbatim"}, {"DEBUG", "PROTOCOL", "push"},
	{"CLUSTER", "INFO"},
}

// modes are the output modes compared; each runs with RESP2 and RESP3.
var modes = [][]string{{"--no-raw"}, {}, {"--raw"}, {"--csv"}, {"--no-raw", "-3"}, {"-3"}, {"--csv", "-3"},
	{"-d", "|", "-D", "#"}}

// The same corpus through redis-cli and redgo cli, against redis-server
// and against a redgo server: the outputs are equal byte for byte in
// every output mode.
func TestOutputMatchesRedisCli(t *testing.T) {
	bin := need(t, "redis-cli")
	servers := map[string]int{"redis-server": startRedis(t), "redgo": startRedgo(t)}
	for name, port := range servers {
		p := strconv.Itoa(port)
		for _, cmd := range setupData {
			if r := runOurs(append([]string{"-p", p}, cmd...), ""); r.code != 0 {
				t.Fatalf("%s: setup %q: %+v", name, cmd, r)
			}
		}
		n := 0
		for _, mode := range modes {
			for _, cmd := range corpus {
				args := append(append([]string{"-p", p}, mode...), cmd...)
				want := runRedisCli(t, bin, args, "")
				got := runOurs(args, "")
				if got != want {
					t.Errorf("%s: %q\nredis-cli: %v\nredgo cli: %v", name, args, want, got)
				}
				n++
			}
		}
		t.Logf("%s: %d command/mode pairs equal", name, n)
	}
}

// Errors and flags around the command: -e, -x, -r, -n, a refused
// connection, a wrong password, a bad option.
func TestFlagsMatchRedisCli(t *testing.T) {
	bin := need(t, "redis-cli")
	port := startRedis(t)
	p := strconv.Itoa(port)
	cases := []struct {
		args  []string
		stdin string
	}{
		{[]string{"-p", p, "-e", "GET"}, ""},
		{[]string{"-p", p, "-e", "--no-raw", "NOSUCH"}, ""},
		{[]string{"-p", p, "-x", "SET", "fromstdin"}, "line1\nline2\n"},
		{[]string{"-p", p, "GET", "fromstdin"}, ""},
		{[]string{"-p", p, "-r", "3", "INCRBY", "ctr", "0"}, ""},
		{[]string{"-p", p, "--no-raw", "-r", "2", "LRANGE", "nolist", "0", "-1"}, ""},
		{[]string{"-p", p, "-n", "3", "SET", "indb3", "x"}, ""},
		{[]string{"-p", p, "-n", "3", "--no-raw", "DBSIZE"}, ""},
		{[]string{"-p", p, "--no-raw", "DBSIZE"}, ""},
		{[]string{"-u", "redis://127.0.0.1:" + p + "/3", "GET", "indb3"}, ""},
		{[]string{"-p", p, "-a", "wrong", "PING"}, ""},
		{[]string{"-p", p, "-a", "wrong", "--no-auth-warning", "PING"}, ""},
		{[]string{"-p", strconv.Itoa(freePort(t)), "PING"}, ""},
		{[]string{"-p", p, "--bogus", "PING"}, ""},
		{[]string{"-p", p, "-2", "-3", "PING"}, ""},
	}
	for _, c := range cases {
		want := runRedisCli(t, bin, c.args, c.stdin)
		got := runOurs(c.args, c.stdin)
		if c.args[2] == "--bogus" || c.args[2] == "-2" {
			// Same first line and status; ours adds a pointer to --help.
			got.stderr = strings.SplitAfter(got.stderr, "\n")[0]
		}
		if got != want {
			t.Errorf("%q\nredis-cli: %v\nredgo cli: %v", c.args, want, got)
		}
	}
}

// Interactive mode on a pipe: no prompt, replies in the terminal format
// only with --no-raw, quit ends it, repeat counts work.
func TestPipedInteractiveMatchesRedisCli(t *testing.T) {
	bin := need(t, "redis-cli")
	port := startRedis(t)
	p := strconv.Itoa(port)
	script := "set a 1\n3 incr a\nget a\n\"unbalanced\nselect 2\nget a\nmulti\nexec\nhelp\nquit\nget a\n"
	for _, mode := range [][]string{{}, {"--no-raw"}} {
		args := append([]string{"-p", p}, mode...)
		runOurs([]string{"-p", p, "FLUSHALL"}, "")
		want := runRedisCli(t, bin, args, strings.Replace(script, "help\n", "", 1))
		runOurs([]string{"-p", p, "FLUSHALL"}, "")
		got := runOurs(args, strings.Replace(script, "help\n", "", 1))
		if got != want {
			t.Errorf("%q\nredis-cli: %v\nredgo cli: %v", args, want, got)
		}
	}
}

func ExampleFormatTTY() {
	fmt.Print(FormatTTY(parse("*2\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n")))
	// Output:
	// 1) "a"
	// 2) 1) (integer) 1
	//    2) (nil)
}
