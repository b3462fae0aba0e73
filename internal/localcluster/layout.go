// Package localcluster runs a Redis Cluster of local redgo nodes for
// development and tutorials: what Redis's utils/create-cluster does
// (start, create, stop, watch, tail, call, clean, clean-logs) plus up,
// start and create in one foreground command. Each node lives in its own
// directory, DIR/<port>, with its redis.conf, log, pid file, nodes.conf
// and AOF. Cluster set-up uses our own code (CLUSTER ADDSLOTSRANGE, MEET,
// REPLICATE), so nothing of Redis needs to be installed; the same
// commands work against redis-server nodes.
package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Layout says where the nodes of a local cluster are.
type Layout struct {
	Dir         string // holds one sub-directory per node, named by port
	PortBase    int    // client port of the first node; bus ports are +10000
	Nodes       int
	Replicas    int // replicas per master: the first Nodes/(Replicas+1) nodes are masters
	NodeTimeout int // cluster-node-timeout in ms
	Host        string
	// ServerBin, when set, is a redis-server binary to run the nodes
	// with instead of redgo server.
	ServerBin string
}

// DefaultLayout is the README's cluster: 6 nodes from port 30001 in
// ./redgo-cluster, 3 masters with one replica each.
func DefaultLayout() Layout {
	return Layout{Dir: "redgo-cluster", PortBase: 30001, Nodes: 6, Replicas: 1, NodeTimeout: 5000, Host: "127.0.0.1"}
}

// Check says what is wrong with l, in words a person can act on.
func (l Layout) Check() error {
	switch {
	case l.Nodes < 1 || l.Nodes > 100:
		return fmt.Errorf("--nodes %d: a local cluster has 1 to 100 nodes", l.Nodes)
	case l.PortBase < 1 || l.PortBase+l.Nodes-1+10000 > 65535:
		return fmt.Errorf("--port-base %d: ports %d-%d and their bus ports (+10000) must be below 65536",
			l.PortBase, l.PortBase, l.PortBase+l.Nodes-1)
	case l.Replicas < 0 || l.Nodes/(l.Replicas+1) < 1:
		return fmt.Errorf("--replicas %d with --nodes %d leaves no master: use fewer replicas or more nodes", l.Replicas, l.Nodes)
	case l.NodeTimeout < 1:
		return fmt.Errorf("--node-timeout %d: it is in milliseconds and must be positive", l.NodeTimeout)
	}
	return nil
}

// Ports are the client ports of the nodes.
func (l Layout) Ports() []int {
	p := make([]int, l.Nodes)
	for i := range p {
		p[i] = l.PortBase + i
	}
	return p
}

// Masters is how many of the nodes serve slots.
func (l Layout) Masters() int { return l.Nodes / (l.Replicas + 1) }

// Addr is host:port of a node.
func (l Layout) Addr(port int) string { return l.host() + ":" + strconv.Itoa(port) }

func (l Layout) host() string {
	if l.Host == "" {
		return "127.0.0.1"
	}
	return l.Host
}

// NodeDir is the directory of the node on port.
func (l Layout) NodeDir(port int) string { return filepath.Join(l.Dir, strconv.Itoa(port)) }

// LogPath is the log file of the node on port.
func (l Layout) LogPath(port int) string { return filepath.Join(l.NodeDir(port), "log") }

// PidPath is the pid file of the node on port.
func (l Layout) PidPath(port int) string { return filepath.Join(l.NodeDir(port), "pid") }

// Abs makes Dir absolute (node configs name their directory).
func (l Layout) Abs() (Layout, error) {
	d, err := filepath.Abs(l.Dir)
	l.Dir = d
	return l, err
}

// writeConfig writes DIR/<port>/redis.conf.
func (l Layout) writeConfig(port int) error {
	nd := l.NodeDir(port)
	if err := os.MkdirAll(nd, 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf("port %d\nbind %s\ndir %s\nlogfile log\npidfile %s\n"+
		"cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout %d\nappendonly yes\n"+
		"repl-diskless-sync-delay 0\n",
		port, l.host(), nd, l.PidPath(port), l.NodeTimeout)
	if l.ServerBin == "" {
		// A master stopped by a signal hands its slots to a replica first.
		conf += "shutdown-on-sigterm default failover\nshutdown-on-sigint default failover\n"
	}
	return os.WriteFile(filepath.Join(nd, "redis.conf"), []byte(conf), 0o644)
}

// command is the command line that runs the node in its directory.
func (l Layout) command(exe string) (string, []string) {
	if l.ServerBin != "" {
		return l.ServerBin, []string{"redis.conf"}
	}
	return exe, []string{"server", "redis.conf"}
}

// lastLogLine is the last line of a node's log: why it stopped, often.
func (l Layout) lastLogLine(port int) string {
	b, err := os.ReadFile(l.LogPath(port))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
