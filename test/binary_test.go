package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"redgo/internal/localcluster/lctest"
)

// redgoBinary builds cmd/redgo once per test run.
func redgoBinary(t *testing.T) string { return lctest.Binary(t) }

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestBadConfigStopsStart(t *testing.T) {
	bin := redgoBinary(t)
	conf := filepath.Join(t.TempDir(), "redis.conf")
	os.WriteFile(conf, []byte("port 7000\nappendfsync sometimes\n"), 0o644)
	out, err := exec.Command(bin, "server", conf).CombinedOutput()
	if err == nil {
		t.Fatal("server started with a bad config")
	}
	want := "Reading the configuration file '" + conf + "', at line 2\n>>> 'appendfsync sometimes'\nargument(s) must be one of the following: everysec, always, no"
	if !strings.Contains(string(out), want) {
		t.Fatalf("output:\n%s\nwant it to contain:\n%s", out, want)
	}
}

func TestDaemonizePidfileAndSigterm(t *testing.T) {
	bin := redgoBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	pidfile := filepath.Join(dir, "redgo.pid")
	cmd := exec.Command(bin, "server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "yes",
		"--pidfile", pidfile, "--logfile", filepath.Join(dir, "log"), "--dir", dir, "--save", "")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("daemonize: %v %s", err, out)
	}
	var pid int
	eventually(t, 5*time.Second, func() error {
		b, err := os.ReadFile(pidfile)
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err
	})
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if out := cli(t, port, "PING\n"); strings.TrimSpace(out) != "PONG" {
		t.Fatalf("PING: %q", out)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	eventually(t, 5*time.Second, func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("pid %d still running", pid)
		}
		return nil
	})
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Fatalf("pidfile left behind: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if !strings.Contains(string(log), "Received SIGTERM scheduling shutdown") {
		t.Fatalf("log:\n%s", log)
	}
}
