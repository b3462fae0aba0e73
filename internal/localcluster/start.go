package localcluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Start starts every node of l as a background process of exe (redgo
// server, or any binary that takes redis-server's arguments), each in
// its own session so it outlives us, and waits until they all answer.
func Start(l Layout, exe string, out io.Writer) error {
	l, err := l.Abs()
	if err != nil {
		return err
	}
	exited := make(chan int, l.Nodes)
	for _, port := range l.Ports() {
		if pid, ok := runningPid(l, port); ok {
			return fmt.Errorf("node %d is already running (pid %d): stop it with `redgo cluster stop` first", port, pid)
		}
		if _, err := call(l.Addr(port), "PING"); err == nil {
			return fmt.Errorf("port %d is already in use by a server this directory does not know: "+
				"stop it, or choose other ports with --port-base", port)
		}
		if err := l.writeConfig(port); err != nil {
			return err
		}
		fmt.Fprintf(out, "Starting %d\n", port)
		if err := spawn(l, exe, port, exited); err != nil {
			return err
		}
	}
	return waitAnswer(l, exited, 30*time.Second)
}

// spawn starts the node on port detached from us; its end is reported
// on exited.
func spawn(l Layout, exe string, port int, exited chan<- int) error {
	bin, args := l.command(exe)
	cmd := exec.Command(bin, args...)
	cmd.Dir = l.NodeDir(port)
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting node %d: %v", port, err)
	}
	go func() { cmd.Wait(); exited <- port }()
	return nil
}

// waitAnswer waits until every node answers PING, a node exits (its log
// says why) or the time is up.
func waitAnswer(l Layout, exited <-chan int, total time.Duration) error {
	deadline := time.Now().Add(total)
	for {
		var err error
		for _, port := range l.Ports() {
			if _, err = call(l.Addr(port), "PING"); err != nil {
				break
			}
		}
		if err == nil {
			return nil
		}
		select {
		case port := <-exited:
			return fmt.Errorf("node %d exited: %s (log: %s)", port, l.lastLogLine(port), l.LogPath(port))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nodes did not answer within %v: %w", total, err)
		}
	}
}

// runningPid is the pid in the node's pid file, if that process lives.
func runningPid(l Layout, port int) (int, bool) {
	b, err := os.ReadFile(l.PidPath(port))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	err = syscall.Kill(pid, 0)
	return pid, err == nil || errors.Is(err, syscall.EPERM)
}
