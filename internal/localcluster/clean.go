package localcluster

import (
	"fmt"
	"io"
	"os"
)

// Clean removes the nodes' directories (data, logs, configs), as
// create-cluster clean does; it refuses while a node runs.
func Clean(l Layout, out io.Writer) error {
	if err := notRunning(l); err != nil {
		return err
	}
	for _, port := range l.Ports() {
		dir := l.NodeDir(port)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		fmt.Fprintf(out, "Cleaning %s\n", dir)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	os.Remove(l.Dir) // only if empty
	return nil
}

// CleanLogs removes the nodes' logs only.
func CleanLogs(l Layout, out io.Writer) error {
	for _, port := range l.Ports() {
		path := l.LogPath(port)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		fmt.Fprintf(out, "Cleaning %s\n", path)
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

func notRunning(l Layout) error {
	for _, port := range l.Ports() {
		if pid, ok := runningPid(l, port); ok {
			return fmt.Errorf("node %d is still running (pid %d): stop the nodes first (redgo cluster stop)", port, pid)
		}
	}
	return nil
}
