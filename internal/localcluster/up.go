package localcluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Up is `redgo cluster up`: it starts the nodes of l as child processes
// of exe, creates the cluster (or restarts the one the directories
// hold: nodes.conf keeps IDs, epochs and slots), waits until it is
// ready and stays in the foreground until a signal on sig, then stops
// every node. It returns the exit status.
func Up(l Layout, exe string, out, errw io.Writer, sig <-chan os.Signal) int {
	l, err := l.Abs()
	if err != nil {
		fmt.Fprintln(errw, err)
		return 1
	}
	u := &upRun{l: l, out: out, errw: errw, sig: sig, exited: make(chan int, l.Nodes)}
	code := u.run(exe)
	u.stop()
	return code
}

type upRun struct {
	l         Layout
	out, errw io.Writer
	sig       <-chan os.Signal
	procs     []*exec.Cmd
	done      []chan struct{} // closed when procs[i] ended
	exited    chan int        // port of a node whose process ended
}

func (u *upRun) fail(err error) int {
	fmt.Fprintln(u.errw, "redgo cluster up:", err)
	return 1
}

func (u *upRun) exitedMsg(port int) string {
	return fmt.Sprintf("node %d exited: %s (log: %s)", port, u.l.lastLogLine(port), u.l.LogPath(port))
}

func (u *upRun) run(exe string) int {
	for _, port := range u.l.Ports() {
		if pid, ok := runningPid(u.l, port); ok {
			return u.fail(fmt.Errorf("node %d is already running (pid %d): stop it with `redgo cluster stop` first", port, pid))
		}
		if err := u.l.writeConfig(port); err != nil {
			return u.fail(err)
		}
		if err := u.spawn(exe, port); err != nil {
			return u.fail(err)
		}
	}
	ports := u.l.Ports()
	fmt.Fprintf(u.out, "Started %d nodes in %s (ports %d-%d)\n", len(ports), u.l.Dir, ports[0], ports[len(ports)-1])
	if err := u.wait(10*time.Second, func() error {
		for _, p := range ports {
			if _, err := call(u.l.Addr(p), "PING"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return u.fail(err)
	}
	if err := u.create(); err != nil {
		return u.fail(err)
	}
	if err := u.wait(60*time.Second, func() error { return Ready(u.l) }); err != nil {
		return u.fail(err)
	}
	fmt.Fprintf(u.out, "Cluster ready: %d masters, %d replicas, all 16384 slots covered, cluster_state:ok on every node.\n",
		u.l.Masters(), u.l.Nodes-u.l.Masters())
	fmt.Fprintf(u.out, "Connect with: redgo cli -c -p %d\n", ports[0])
	fmt.Fprintf(u.out, "Press Ctrl-C to stop every node.\n")
	return u.serve(exe)
}

// serve waits for a signal; a node that dies (a crash, a kill -9 to
// watch a failover) is reported, and the others carry on.
func (u *upRun) serve(exe string) int {
	for alive := u.l.Nodes; ; {
		select {
		case s := <-u.sig:
			fmt.Fprintf(u.out, "Received %v: stopping the nodes...\n", s)
			return 0
		case port := <-u.exited:
			fmt.Fprintf(u.errw, "redgo cluster up: %s; restart it with: (cd %s && %s server redis.conf)\n",
				u.exitedMsg(port), u.l.NodeDir(port), exe)
			if alive--; alive == 0 {
				return 1
			}
		}
	}
}

func (u *upRun) spawn(exe string, port int) error {
	bin, args := u.l.command(exe)
	cmd := exec.Command(bin, args...)
	cmd.Dir = u.l.NodeDir(port)
	cmd.Stdout, cmd.Stderr = u.errw, u.errw
	// Ctrl-C at a terminal reaches only us (we stop the nodes in order);
	// a node dies with us even if we are killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting node %d: %v", port, err)
	}
	done := make(chan struct{})
	u.procs, u.done = append(u.procs, cmd), append(u.done, done)
	go func() { cmd.Wait(); close(done); u.exited <- port }()
	return nil
}

// wait polls fn until it succeeds, a signal comes, a node dies or the
// time is up.
func (u *upRun) wait(total time.Duration, fn func() error) error {
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %v: %w", total, err)
		}
		select {
		case s := <-u.sig:
			return fmt.Errorf("interrupted by %v", s)
		case port := <-u.exited:
			return errors.New(u.exitedMsg(port))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// create builds a fresh cluster; nodes that already serve slots (a
// restart) are only met again, as their nodes.conf describes them.
func (u *upRun) create() error {
	fresh := true
	for _, port := range u.l.Ports() {
		info, err := callStr(u.l.Addr(port), "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if infoField(info, "cluster_slots_assigned") != "0" {
			fresh = false
		}
	}
	if !fresh {
		fmt.Fprint(u.out, "The nodes already form a cluster (nodes.conf): restarting it as it was\n")
		return meet(u.l, io.Discard)
	}
	if err := assignSlots(u.l, io.Discard); err != nil {
		return err
	}
	if err := meet(u.l, io.Discard); err != nil {
		return err
	}
	return replicate(u.l, io.Discard)
}

// stop sends SIGTERM to every node still running and waits for them;
// a node that does not stop within 10 s is killed.
func (u *upRun) stop() {
	for i, c := range u.procs {
		select {
		case <-u.done[i]:
		default:
			c.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(10 * time.Second)
	for i, c := range u.procs {
		select {
		case <-u.done[i]:
		case <-deadline:
			c.Process.Kill()
			<-u.done[i]
		}
	}
	if len(u.procs) > 0 {
		fmt.Fprintln(u.out, "All nodes stopped.")
	}
}
