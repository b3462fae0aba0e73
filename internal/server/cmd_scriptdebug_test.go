package server

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// debugSessions are Lua debugger sessions (SCRIPT DEBUG, the protocol
// redis-cli --ldb speaks) run on redgo and on redis-server; every reply
// must be the same bytes, and the data after them the same.
var debugSessions = []struct {
	mode   string // YES or SYNC
	script string
	keys   []string
	args   []string
	cmds   [][]string // debugger commands, until the script ends
	check  []string   // a command whose reply is compared after the session
}{
	{"SYNC", "local v = redis.call('GET', KEYS[1])\nredis.call('INCR', KEYS[1])\nlocal t = {1, 2, 'x', {a=1}}\nredis.debug('hello', t, 5)\nfor i = 1, 2 do\n  v = (v or 0) + i\nend\nreturn v\n",
		[]string{"dk"}, []string{"a1"},
		[][]string{{"s"}, {"n"}, {"p"}, {"p", "v"}, {"l"}, {"l", "3", "1"}, {"w"}, {"b", "6"}, {"b"}, {"b", "-6"}, {"b", "0"},
			{"e", "1+1"}, {"e", "KEYS"}, {"e", "nosuch("}, {"e", "error('x')"}, {"r", "get", "dk"}, {"r", "ping"}, {"m"}, {"m", "10"},
			{"t"}, {"h"}, {"foo"}, {"b", "x"}, {"b", "-99"}, {"c"}},
		[]string{"GET", "dk"}},
	{"SYNC", "local function add(a, b)\n  local s = a + b\n  return s\nend\nlocal total = 0\nfor i = 1, 3 do\n  total = add(total, i)\nend\nredis.breakpoint()\nlocal big = redis.call('LRANGE', KEYS[1], 0, -1)\nredis.pcall('NOSUCH')\nredis.pcall('SET', 'a')\nredis.pcall('INCR', KEYS[1])\nreturn {total, big}\n",
		[]string{"dl"}, nil,
		[][]string{{"s"}, {"s"}, {"s"}, {"t"}, {"s"}, {"c"}, {"p", "total"}, {"p", "nope"}, {"p", "ARGV"},
			{"m", "70"}, {"r", "lrange", "dl", "0", "-1"}, {"s"}, {"s"}, {"s"}, {"s"}, {"s"}},
		[]string{"LLEN", "dl"}},
	{"YES", "redis.call('SET', KEYS[1], 'changed')\nredis.call('DEL', KEYS[2])\nredis.call('SET', 'newkey', '1')\nreturn redis.call('GET', KEYS[1])\n",
		[]string{"dk", "dl"}, nil, [][]string{{"c"}}, []string{"MGET", "dk", "dl", "newkey"}},
	{"SYNC", "redis.call('SET', KEYS[1], 'changed')\nredis.call('DEL', KEYS[1])\nreturn 1\n",
		[]string{"dk"}, nil, [][]string{{"s"}, {"a"}}, []string{"GET", "dk"}},
	{"YES", "local t = nil\nreturn t.x\n", nil, nil, [][]string{{"s"}, {"s"}}, []string{"PING"}},
}

func TestScriptDebugOracle(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	for i, sess := range debugSessions {
		var out [2][]string
		for j, addr := range []string{s.Addr().String(), redisAddr} {
			setup := dialRaw(t, addr)
			for _, c := range [][]string{{"FLUSHALL"}, {"SET", "dk", "5"}, {"RPUSH", "dl", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"}} {
				setup.do(c...)
			}
			c := dialRaw(t, addr)
			_, r := c.do("SCRIPT", "DEBUG", sess.mode)
			out[j] = append(out[j], string(r))
			eval := append([]string{"EVAL", sess.script, itoaTest(len(sess.keys))}, sess.keys...)
			c.send(append(eval, sess.args...)...)
			_, r = c.read()
			out[j] = append(out[j], string(r))
			ended := bytes.HasSuffix(r, []byte("+<endsession>\r\n"))
			for _, cmd := range sess.cmds {
				if ended {
					break
				}
				c.send(cmd...)
				_, r = c.read()
				out[j] = append(out[j], strings.Join(cmd, " ")+" => "+string(r))
				ended = bytes.HasSuffix(r, []byte("+<endsession>\r\n"))
			}
			if ended {
				_, r = c.read() // the script's reply
				out[j] = append(out[j], string(r))
			}
			_, r = setup.do(sess.check...)
			out[j] = append(out[j], string(r))
		}
		if strings.Join(out[0], "\n") != strings.Join(out[1], "\n") {
			for k := 0; k < len(out[0]) || k < len(out[1]); k++ {
				var a, b string
				if k < len(out[0]) {
					a = out[0][k]
				}
				if k < len(out[1]) {
					b = out[1][k]
				}
				if a != b {
					t.Errorf("session %d step %d:\n redgo: %q\n redis: %q", i, k, a, b)
				}
			}
		}
	}
}

func itoaTest(n int) string { return strconv.Itoa(n) }

// SCRIPT DEBUG's own errors: in a pipeline with a reply pending, a bad
// mode, EVALSHA while debugging.
func TestScriptDebugErrorsOracle(t *testing.T) {
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	var out [2]string
	for j, addr := range []string{s.Addr().String(), redisAddr} {
		c := dialRaw(t, addr)
		c.conn.Write([]byte("PING\r\nSCRIPT DEBUG YES\r\n"))
		for i := 0; i < 2; i++ {
			_, r := c.read()
			out[j] += string(r)
		}
		for _, cmd := range [][]string{{"SCRIPT", "DEBUG", "maybe"}, {"SCRIPT", "DEBUG", "SYNC"},
			{"EVALSHA", "0123456789012345678901234567890123456789", "0"}, {"EVALSHA", "abc", "0"},
			{"SCRIPT", "DEBUG", "NO"}, {"EVALSHA", "0123456789012345678901234567890123456789", "0"}} {
			_, r := c.do(cmd...)
			out[j] += string(r)
		}
	}
	if out[0] != out[1] {
		t.Errorf("redgo: %q\nredis: %q", out[0], out[1])
	}
}

// redis-cli --ldb (YES) and --ldb-sync-mode drive the same session on
// redgo and redis-server: the same screen, and YES leaves the data as it
// was while SYNC keeps the writes.
func TestScriptDebugRedisCli(t *testing.T) {
	needTool(t, "redis-cli")
	redisAddr := startRedis(t)
	s, _ := startServer(t)
	script := filepath.Join(t.TempDir(), "s.lua")
	os.WriteFile(script, []byte("local v = redis.call('GET', KEYS[1])\nredis.call('INCR', KEYS[1])\nlocal t = {1, 'x', {a=1}}\nredis.debug('hello', t, ARGV[1])\nfor i = 1, 2 do\n  v = (v or 0) + i\nend\nreturn v\n"), 0o644)
	input := "s\nn\np\np v\nl\nb 6\nc\ne 1+1\nr get k\nw\nt\nc\n"
	for _, mode := range []string{"--ldb", "--ldb-sync-mode"} {
		var out [2]string
		for j, addr := range []string{s.Addr().String(), redisAddr} {
			c := dialRaw(t, addr)
			c.do("SET", "k", "5")
			host, port, _ := net.SplitHostPort(addr)
			cmd := exec.Command("redis-cli", "-h", host, "-p", port, mode, "--eval", script, "k", ",", "a1")
			cmd.Stdin = strings.NewReader(input)
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli %s: %v\n%s", mode, err, b)
			}
			_, after := c.do("GET", "k")
			out[j] = string(b) + "\nafter: " + string(after)
		}
		if out[0] != out[1] {
			t.Errorf("%s:\nredgo:\n%s\nredis:\n%s", mode, out[0], out[1])
		}
		want := "$1\r\n5\r\n" // YES: rolled back
		if mode == "--ldb-sync-mode" {
			want = "$1\r\n6\r\n"
		}
		if !strings.Contains(out[0], "* Stopped at 6, stop reason = break point") || !strings.HasSuffix(out[0], want) {
			t.Errorf("%s: unexpected session:\n%s", mode, out[0])
		}
	}
}
