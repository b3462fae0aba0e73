package main

// redgo cluster up: a local cluster in one command. It starts N nodes as
// child processes of this binary (127.0.0.1, ports port-base..., bus port
// + 10000), each in its own directory with redis.conf, log, nodes.conf
// and AOF; joins them with CLUSTER MEET, spreads the 16384 slots over
// the masters and gives each master its replicas (--replicas, 1 by
// default: 3 masters + 3 replicas), waits for cluster_state:ok on every
// node and every replica's link up, and stays in the foreground until Ctrl-C or SIGTERM,
// when it stops every node. A directory that already holds a cluster is
// restarted as it is (nodes.conf keeps IDs, epochs and slots).

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"redgo/internal/resp"
	"redgo/internal/slot"
)

func runCluster(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "up" {
		fmt.Fprintln(stderr, "Usage: redgo cluster up [--dir DIR] [--port-base PORT] [--nodes N] [--replicas R] [--node-timeout MS]")
		return 1
	}
	fs := flag.NewFlagSet("cluster up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "redgo-cluster", "directory holding one sub-directory per node")
	base := fs.Int("port-base", 30001, "client port of the first node (bus ports are +10000)")
	n := fs.Int("nodes", 6, "number of nodes")
	replicas := fs.Int("replicas", 1, "replicas per master: the first nodes/(replicas+1) nodes are masters")
	timeout := fs.Int("node-timeout", 5000, "cluster-node-timeout in ms")
	if err := fs.Parse(args[1:]); err != nil {
		return 1
	}
	if *n < 1 || *n > 100 || *base < 1 || *base+*n-1+10000 > 65535 {
		fmt.Fprintln(stderr, "redgo cluster up: bad --nodes or --port-base")
		return 1
	}
	if *replicas < 0 || *n/(*replicas+1) < 1 {
		fmt.Fprintln(stderr, "redgo cluster up: --replicas leaves no master")
		return 1
	}
	u := &clusterUp{out: stdout, errw: stderr, masters: *n / (*replicas + 1)}
	for i := range *n {
		u.ports = append(u.ports, *base+i)
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	code := u.run(*dir, *timeout, sig)
	u.stop()
	return code
}

type clusterUp struct {
	out, errw io.Writer
	ports     []int
	masters   int // ports[:masters] serve the slots; the others replicate them in turn
	procs     []*exec.Cmd
	done      []chan struct{} // closed when procs[i] ended
	exited    chan int        // index of a node whose process ended
	dir       string          // absolute; node i logs to dir/<port>/log
}

// exitedMsg says which node ended and the last line of its log (why, as
// "bind: address already in use").
func (u *clusterUp) exitedMsg(i int) string {
	path := filepath.Join(u.dir, strconv.Itoa(u.ports[i]), "log")
	msg := fmt.Sprintf("node %d exited", u.ports[i])
	if b, err := os.ReadFile(path); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
			msg += ": " + last
		}
	}
	return msg + " (log: " + path + ")"
}

func (u *clusterUp) run(dir string, timeout int, sig chan os.Signal) int {
	abs, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintln(u.errw, err)
		return 1
	}
	u.dir = abs
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(u.errw, err)
		return 1
	}
	u.exited = make(chan int, len(u.ports))
	for i, p := range u.ports {
		nd := filepath.Join(abs, strconv.Itoa(p))
		if err := os.MkdirAll(nd, 0o755); err != nil {
			fmt.Fprintln(u.errw, err)
			return 1
		}
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile log\n"+
			"cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout %d\nappendonly yes\n"+
			"repl-diskless-sync-delay 0\nshutdown-on-sigterm default failover\nshutdown-on-sigint default failover\n",
			p, nd, timeout)
		if err := os.WriteFile(filepath.Join(nd, "redis.conf"), []byte(conf), 0o644); err != nil {
			fmt.Fprintln(u.errw, err)
			return 1
		}
		cmd := exec.Command(exe, "server", "redis.conf")
		cmd.Dir = nd
		cmd.Stdout, cmd.Stderr = u.errw, u.errw
		// Ctrl-C at a terminal reaches only us (we stop the nodes in
		// order); a node dies with us even if we are killed outright.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			fmt.Fprintf(u.errw, "starting node %d: %v\n", p, err)
			return 1
		}
		done := make(chan struct{})
		u.procs, u.done = append(u.procs, cmd), append(u.done, done)
		go func() { cmd.Wait(); close(done); u.exited <- i }()
	}
	fmt.Fprintf(u.out, "Started %d nodes in %s (ports %d-%d)\n", len(u.ports), abs, u.ports[0], u.ports[len(u.ports)-1])

	// Wait for every node to answer, then join them unless they already
	// form the cluster (a restart).
	if err := u.wait(sig, 10*time.Second, func() error {
		for _, p := range u.ports {
			if _, err := call(p, "PING"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		fmt.Fprintln(u.errw, "redgo cluster up:", err)
		return 1
	}
	if err := u.create(); err != nil {
		fmt.Fprintln(u.errw, "redgo cluster up:", err)
		return 1
	}
	if err := u.wait(sig, 60*time.Second, u.ready); err != nil {
		fmt.Fprintln(u.errw, "redgo cluster up:", err)
		return 1
	}
	fmt.Fprintf(u.out, "Cluster ready: %d masters, %d replicas, all 16384 slots covered, cluster_state:ok on every node.\n",
		u.masters, len(u.ports)-u.masters)
	fmt.Fprintf(u.out, "Connect with: redis-cli -c -p %d\n", u.ports[0])
	fmt.Fprintf(u.out, "Press Ctrl-C to stop every node.\n")
	// A node that dies (a crash, a kill -9 to watch a failover) is
	// reported; the others carry on. Its command line restarts it.
	for alive := len(u.ports); ; {
		select {
		case s := <-sig:
			fmt.Fprintf(u.out, "Received %v: stopping the nodes...\n", s)
			return 0
		case i := <-u.exited:
			fmt.Fprintf(u.errw, "redgo cluster up: %s; restart it with: (cd %s && %s server redis.conf)\n",
				u.exitedMsg(i), filepath.Join(u.dir, strconv.Itoa(u.ports[i])), exe)
			if alive--; alive == 0 {
				return 1
			}
		}
	}
}

// wait polls fn until it succeeds, a signal comes, a node dies or the
// time is up.
func (u *clusterUp) wait(sig chan os.Signal, total time.Duration, fn func() error) error {
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
		case s := <-sig:
			return fmt.Errorf("interrupted by %v", s)
		case i := <-u.exited:
			return errors.New(u.exitedMsg(i))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// create assigns slots and epochs to masters that have none, meets
// every node from the first one, and makes each other node that is
// still an empty master a replica (CLUSTER REPLICATE), as redis-cli
// --cluster create --cluster-replicas does. A restarted cluster is left
// as its nodes.conf files describe it.
func (u *clusterUp) create() error {
	n := u.masters
	fresh := false
	for i, p := range u.ports[:n] {
		info, err := call(p, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if infoField(info, "cluster_slots_assigned") == "0" {
			fresh = true
			lo, hi := i*slot.Count/n, (i+1)*slot.Count/n-1
			if _, err := call(p, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
				return err
			}
			// Distinct config epochs, as redis-cli --cluster create.
			call(p, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1))
		}
	}
	for _, p := range u.ports[1:] {
		if _, err := call(u.ports[0], "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(p)); err != nil {
			return err
		}
	}
	if !fresh {
		return nil
	}
	ids := make([]string, n)
	for i, p := range u.ports[:n] {
		id, err := call(p, "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		ids[i] = id
	}
	for i, p := range u.ports[n:] {
		master := ids[i%n]
		// The replica must know its master before it can follow it.
		if err := u.wait(nil, 30*time.Second, func() error {
			_, err := call(p, "CLUSTER", "REPLICATE", master)
			return err
		}); err != nil {
			return fmt.Errorf("node %d: CLUSTER REPLICATE %s: %w", p, master, err)
		}
	}
	return nil
}

// ready checks that every node knows every other and says ok.
func (u *clusterUp) ready() error {
	for _, p := range u.ports {
		info, err := call(p, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if s := infoField(info, "cluster_state"); s != "ok" {
			return fmt.Errorf("node %d: cluster_state:%s", p, s)
		}
		if k := infoField(info, "cluster_known_nodes"); k != strconv.Itoa(len(u.ports)) {
			return fmt.Errorf("node %d knows %s nodes", p, k)
		}
		if k := infoField(info, "cluster_slots_ok"); k != strconv.Itoa(slot.Count) {
			return fmt.Errorf("node %d: cluster_slots_ok:%s", p, k)
		}
		repl, err := call(p, "INFO", "replication")
		if err != nil {
			return err
		}
		if infoField(repl, "role") == "slave" && infoField(repl, "master_link_status") != "up" {
			return fmt.Errorf("node %d: replica not in sync with its master yet", p)
		}
	}
	return nil
}

// stop sends SIGTERM to every node still running and waits for them;
// a node that does not stop within 10 s is killed.
func (u *clusterUp) stop() {
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

// call sends one command to 127.0.0.1:port and returns the reply as a
// string; an error reply is an error.
func call(port int, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	v, err := resp.ReadValue(bufio.NewReader(c))
	if err != nil {
		return "", err
	}
	if v.Type == '-' {
		return "", errors.New(v.Str)
	}
	return v.Str, nil
}

// infoField returns the value of name in an INFO-style text.
func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}
