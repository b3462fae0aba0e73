package localcluster

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"
)

// Stop shuts every node of l down (SHUTDOWN NOSAVE, as create-cluster
// stop; SIGTERM to a node that does not answer) and waits until their
// processes are gone.
func Stop(l Layout, out io.Writer) error {
	var failed []error
	for _, port := range l.Ports() {
		pid, alive := runningPid(l, port)
		_, err := call(l.Addr(port), "SHUTDOWN", "NOSAVE")
		switch {
		case err == nil || !errors.Is(err, ErrUnreachable):
			// The connection closes instead of a reply: the node stops.
			fmt.Fprintf(out, "Stopping %d\n", port)
		case alive:
			fmt.Fprintf(out, "Stopping %d (pid %d, not answering: SIGTERM)\n", port, pid)
			syscall.Kill(pid, syscall.SIGTERM)
		default:
			fmt.Fprintf(out, "Node %d is not running\n", port)
			continue
		}
		if err := waitGone(l, port, 30*time.Second); err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// waitGone waits until the node's process has ended.
func waitGone(l Layout, port int, total time.Duration) error {
	for deadline := time.Now().Add(total); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, alive := runningPid(l, port)
		_, err := call(l.Addr(port), "PING")
		if !alive && err != nil {
			return nil
		}
	}
	return fmt.Errorf("node %d still running after %v (log: %s)", port, total, l.LogPath(port))
}
