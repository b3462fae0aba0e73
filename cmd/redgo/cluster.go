package main

// redgo cluster: a local cluster of redgo nodes, as Redis's
// utils/create-cluster (internal/localcluster does the work).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/term"

	"redgo/internal/cli"
	"redgo/internal/config"
	"redgo/internal/localcluster"
)

const clusterUsage = `Usage: redgo cluster <command> [options]

A local Redis Cluster for development and the tutorial, as Redis's
utils/create-cluster. Each node has its own directory DIR/<port> with its
redis.conf, log, pid file, nodes.conf and AOF.

Commands:
  up                 start the nodes and create the cluster, stay in the foreground
                     (Ctrl-C stops every node); a second run restarts the same cluster
  start              start the nodes in the background
  create             join started nodes: masters share the slots, the others replicate
  stop               stop the nodes (SHUTDOWN NOSAVE)
  watch              a live view of the nodes: roles, slots, links, keys, ops/s
  tail [N]           follow the log of the Nth node (1 = first), or of every node
  call CMD [ARG...]  run a command on every node (output as redgo cli)
  clean              remove the nodes' directories (data, logs, configs)
  clean-logs         remove the nodes' logs only

Options (every command):
  --dir DIR          directory of the node directories (default redgo-cluster)
  --port-base PORT   client port of the first node (default 30001, or the environment's
                     REDGO_CLUSTER_PORT_BASE; bus ports are +10000)
  --nodes N          number of nodes (default 6)
  --replicas R       replicas per master (default 1: 3 masters + 3 replicas)
  --node-timeout MS  cluster-node-timeout of new nodes (default 5000)
  --server-bin PATH  run the nodes with this redis-server instead of redgo server

Run redgo cluster <command> --help for a command's own options.
`

// runCluster dispatches redgo cluster's subcommands.
func runCluster(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, clusterUsage)
		return 1
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, clusterUsage)
		return 0
	case "up", "start", "create", "stop", "watch", "tail", "call", "clean", "clean-logs":
	default:
		fmt.Fprintf(stderr, "redgo cluster: unknown command %q\n\n%s", sub, clusterUsage)
		return 1
	}
	fs := flag.NewFlagSet("redgo cluster "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	l := localcluster.DefaultLayout()
	if v := os.Getenv("REDGO_CLUSTER_PORT_BASE"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(stderr, "redgo cluster: REDGO_CLUSTER_PORT_BASE=%q is not a port number\n", v)
			return 1
		}
		l.PortBase = p
	}
	fs.StringVar(&l.Dir, "dir", l.Dir, "directory holding one sub-directory per node")
	fs.IntVar(&l.PortBase, "port-base", l.PortBase, "client port of the first node (bus ports are +10000)")
	fs.IntVar(&l.Nodes, "nodes", l.Nodes, "number of nodes")
	fs.IntVar(&l.Replicas, "replicas", l.Replicas, "replicas per master: the first nodes/(replicas+1) nodes are masters")
	fs.IntVar(&l.NodeTimeout, "node-timeout", l.NodeTimeout, "cluster-node-timeout in ms")
	fs.StringVar(&l.ServerBin, "server-bin", "", "run the nodes with this redis-server binary instead of redgo server")
	interval := fs.Duration("interval", time.Second, "watch: time between refreshes")
	count := fs.Int("count", 0, "watch: refreshes before exiting (0: until Ctrl-C)")
	lines := fs.Int("n", 10, "tail: lines of each log to print first")
	noFollow := fs.Bool("no-follow", false, "tail: print and exit instead of following")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: redgo cluster %s [options]%s\n\nOptions:\n", sub, subArgs[sub])
		fs.PrintDefaults()
	}
	rest, err := parseFlags(fs, args, sub != "call")
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if err := l.Check(); err != nil {
		fmt.Fprintf(stderr, "redgo cluster %s: %v\n", sub, err)
		return 1
	}
	c := clusterCmd{l: l, out: stdout, errw: stderr, args: rest}
	switch sub {
	case "up":
		return c.up()
	case "start":
		err = c.start()
	case "create":
		err = localcluster.Create(l, stdout)
	case "stop":
		err = localcluster.Stop(l, stdout)
	case "watch":
		err = c.watch(*interval, *count)
	case "tail":
		err = c.tail(*lines, !*noFollow)
	case "call":
		return c.call()
	case "clean":
		err = localcluster.Clean(l, stdout)
	case "clean-logs":
		err = localcluster.CleanLogs(l, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "redgo cluster %s: %v\n", sub, err)
		return 1
	}
	return 0
}

// parseFlags parses args; with interleave, options may also follow the
// positional arguments (tail 2 --no-follow). call's command is left
// as it is: its arguments may start with '-'.
func parseFlags(fs *flag.FlagSet, args []string, interleave bool) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if !interleave || len(args) == 0 {
			return append(rest, args...), nil
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}

// subArgs are the positional arguments of each subcommand, for --help.
var subArgs = map[string]string{"tail": " [N]", "call": " COMMAND [ARG...]"}

type clusterCmd struct {
	l         localcluster.Layout
	out, errw io.Writer
	args      []string
}

func (c clusterCmd) exe() (string, error) {
	if c.l.ServerBin != "" {
		return c.l.ServerBin, nil
	}
	return os.Executable()
}

func (c clusterCmd) up() int {
	exe, err := c.exe()
	if err != nil {
		fmt.Fprintln(c.errw, err)
		return 1
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	return localcluster.Up(c.l, exe, c.out, c.errw, sig)
}

func (c clusterCmd) start() error {
	exe, err := c.exe()
	if err != nil {
		return err
	}
	return localcluster.Start(c.l, exe, c.out)
}

// interruptible is a context that ends at Ctrl-C or SIGTERM.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func (c clusterCmd) watch(interval time.Duration, count int) error {
	ctx, cancel := interruptible()
	defer cancel()
	return localcluster.Watch(ctx, c.l, c.out, localcluster.WatchOptions{
		Interval: interval, Count: count, TTY: isTerminal(c.out)})
}

func (c clusterCmd) tail(lines int, follow bool) error {
	ports := c.l.Ports()
	if len(c.args) > 0 {
		n, err := strconv.Atoi(c.args[0])
		if err != nil || n < 1 || n > c.l.Nodes {
			return fmt.Errorf("%q: give the node's number, 1 to %d (1 is port %d)", c.args[0], c.l.Nodes, c.l.PortBase)
		}
		ports = []int{c.l.PortBase + n - 1}
	}
	ctx, cancel := interruptible()
	defer cancel()
	return localcluster.Tail(ctx, c.l, ports, lines, follow, c.out)
}

// call runs the command on every node with redgo cli; the status is
// the worst of them.
func (c clusterCmd) call() int {
	if len(c.args) == 0 {
		fmt.Fprintln(c.errw, "redgo cluster call: give the command to run on every node, e.g. redgo cluster call info replication")
		return 1
	}
	code := 0
	for _, port := range c.l.Ports() {
		args := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, c.args...)
		if rc := cli.Run(args, cli.Env{Stdin: os.Stdin, Stdout: c.out, Stderr: c.errw,
			StdoutTTY: isTerminal(c.out), Version: config.Version}); rc != 0 {
			code = rc
		}
	}
	return code
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
