package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// TestMain lets the test binary act as redgo cli (REDGO_CLI_MAIN=1), so
// the interactive mode can run on a pty without building cmd/redgo.
func TestMain(m *testing.M) {
	if os.Getenv("REDGO_CLI_MAIN") == "1" {
		os.Exit(Run(os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
			StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())), StdinTTY: term.IsTerminal(int(os.Stdin.Fd())),
			Version: "test"}))
	}
	os.Exit(m.Run())
}

// ptyCli is redgo cli running on a pseudo-terminal.
type ptyCli struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	seen int // expect searches from here
	done chan struct{}
}

func startPtyCli(t *testing.T, env []string, args ...string) *ptyCli {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "REDGO_CLI_MAIN=1", "TERM=xterm"), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyCli{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				close(p.done)
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); f.Close() })
	return p
}

// expect waits until want appears in the output after the last match.
func (p *ptyCli) expect(want string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		s := p.out.String()
		p.mu.Unlock()
		if i := strings.Index(s[p.seen:], want); i >= 0 {
			p.seen += i + len(want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Fatalf("never saw %q; output after the last match:\n%q", want, p.out.String()[p.seen:])
}

func (p *ptyCli) send(s string) {
	if _, err := p.f.WriteString(s); err != nil {
		p.t.Fatal(err)
	}
}

// The interactive mode on a terminal: prompt, argument hints, replies in
// the terminal format, the prompt following SELECT and MULTI, history
// recalled with the up arrow and kept in the history file (passwords
// left out), quit.
func TestInteractiveOnPty(t *testing.T) {
	port := startRedgo(t)
	hist := filepath.Join(t.TempDir(), "history")
	p := startPtyCli(t, []string{HistEnv + "=" + hist}, "-p", strconv.Itoa(port))
	prompt := "127.0.0.1:" + strconv.Itoa(port) + "> "
	p.expect(prompt)
	p.send("set ")
	p.expect("key value [NX|XX]") // the hint, from COMMAND DOCS
	p.send("foo \"b a r\"\r")
	p.expect("OK\r\n")
	p.expect(prompt)
	p.send("strl\t") // Tab completes the command name
	p.expect("strlen ")
	p.send("foo\r")
	p.expect("(integer) 5\r\n")
	p.send("get foo\r")
	p.expect("\"b a r\"\r\n")
	p.send("rpush l a b\r")
	p.expect("(integer) 2\r\n")
	p.send("lrange l 0 -1\r")
	p.expect("1) \"a\"\r\n2) \"b\"\r\n")
	p.send("\x1b[A\x1b[A\r") // up twice: rpush l a b again
	p.expect("(integer) 4\r\n")
	p.send("auth secret\r")
	p.expect("(error) ")
	p.send("select 2\r")
	p.expect("127.0.0.1:" + strconv.Itoa(port) + "[2]> ")
	p.send("multi\r")
	p.expect("[2](TX)> ")
	p.send("exec\r")
	p.expect("(empty array)\r\n")
	p.send(":set nohints\r")
	p.expect("[2]> ")
	from := p.seen
	p.send("get nokey\r")
	p.expect("(nil)\r\n")
	p.mu.Lock()
	typed := p.out.String()[from:p.seen]
	p.mu.Unlock()
	if strings.Contains(typed, "\x1b[0;90;49m") {
		t.Fatalf(":set nohints still shows hints: %q", typed)
	}
	p.send("quit\r")
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("quit did not end the session")
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	h := string(b)
	if !strings.Contains(h, `set foo "b a r"`) || !strings.Contains(h, "lrange l 0 -1") || strings.Contains(h, "secret") {
		t.Fatalf("history file:\n%s", h)
	}
}
