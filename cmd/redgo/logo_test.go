package main

import (
	"bytes"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test frameworks of Redis wait for " PID: <pid>" in the server's
// stdout; the logo must say it, and be redis-server's but for the version
// line.
func TestLogo(t *testing.T) {
	got := logo("7.0.15", "cluster", 30001, 4321)
	if !regexp.MustCompile(` PID: 4321\n`).MatchString(got) ||
		!strings.Contains(got, "Running in cluster mode") || !strings.Contains(got, "Port: 30001") {
		t.Fatalf("logo:\n%s", got)
	}
	if !showLogo(true, false, "log.txt") || showLogo(false, false, "log.txt") || showLogo(false, true, "") {
		t.Fatal("showLogo")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--always-show-logo", "yes", "--dir", t.TempDir())
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	i := strings.Index(out.String(), "                _._")
	if i < 0 {
		t.Fatalf("no logo from redis-server:\n%s", out.String())
	}
	want := out.String()[i:]
	if j := strings.Index(want, "\n\n"); j >= 0 {
		want = want[:j+2]
	}
	mine := logo("7.0.15", "standalone", port, cmd.Process.Pid)
	version := regexp.MustCompile(`Redis [^\n]* bit`)
	if version.ReplaceAllString(want, "V") != version.ReplaceAllString(mine, "V") {
		t.Fatalf("redis-server's logo:\n%s\nours:\n%s", want, mine)
	}
}
