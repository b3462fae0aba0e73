package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"redgo/internal/consistency"
)

// quietLogger silences go-redis's own log of failed dials.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

const consistencyUsage = `Usage: redgo consistency-test [options] [host port]

Increments counters spread over a cluster, remembers what each
acknowledged INCR returned and reads the counters back, printing each
second:

  N R (E err) | N W (E err) | L lost | U noack

lost: acknowledged writes the cluster no longer has; noack: writes that
failed for the client but were applied. Run it while a master fails over.
The exit status is 1 when an acknowledged write was lost.

Options:
`

// runConsistency is redgo consistency-test.
func runConsistency(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("redgo consistency-test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("h", "127.0.0.1", "host of a cluster node")
	port := fs.Int("p", 30001, "port of a cluster node")
	keys := fs.Int("keys", 1000, "number of counters")
	duration := fs.Duration("duration", 0, "stop after this long (0: at Ctrl-C)")
	delay := fs.Duration("delay", 0, "pause after each read and write")
	timeout := fs.Duration("timeout", time.Second, "longest wait for one command, retries included")
	user := fs.String("user", "", "ACL user")
	pass := fs.String("a", os.Getenv("REDISCLI_AUTH"), "password (or REDISCLI_AUTH)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), consistencyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	switch fs.NArg() {
	case 0:
	case 2: // consistency-test.rb's form: host port
		*host = fs.Arg(0)
		p, err := strconv.Atoi(fs.Arg(1))
		if err != nil {
			fmt.Fprintf(stderr, "redgo consistency-test: port %q is not a number\n", fs.Arg(1))
			return 1
		}
		*port = p
	default:
		fmt.Fprintf(stderr, "redgo consistency-test: give a node as -h HOST -p PORT or as HOST PORT\n")
		return 1
	}
	if *keys < 1 {
		fmt.Fprintf(stderr, "redgo consistency-test: --keys must be at least 1\n")
		return 1
	}
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	redis.SetLogger(quietLogger{}) // the checker reports errors itself
	rc := consistency.NewClusterClient([]string{addr}, *user, *pass)
	defer rc.Close()
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		fmt.Fprintf(stderr, "redgo consistency-test: cannot reach the cluster at %s: %v\n"+
			"Is the cluster up (redgo cluster up)? Give any node's address with -h and -p.\n", addr, err)
		return 1
	}
	if *duration > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, *duration)
		defer c2()
	}
	c := &consistency.Checker{Store: rc, Keys: *keys, Delay: *delay, Timeout: *timeout, Out: stdout}
	if s := c.Run(ctx); s.Lost > 0 {
		return 1
	}
	return 0
}
