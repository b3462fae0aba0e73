package localcluster

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"redgo/internal/slot"
)

// Create joins the nodes of l into a cluster, as redis-cli --cluster
// create --cluster-replicas does: the first Masters() nodes share the
// 16384 slots in contiguous ranges and get distinct config epochs, every
// node meets the first, and each other node replicates a master in
// turn. It refuses nodes that are not empty and waits until every node
// reports cluster_state:ok and every replica is in sync.
func Create(l Layout, out io.Writer) error {
	for _, port := range l.Ports() {
		if err := checkEmpty(l.Addr(port)); err != nil {
			return err
		}
	}
	if err := assignSlots(l, out); err != nil {
		return err
	}
	if err := meet(l, out); err != nil {
		return err
	}
	if err := replicate(l, out); err != nil {
		return err
	}
	fmt.Fprint(out, "Waiting for the cluster to join\n")
	if err := poll(60*time.Second, func() error { return Ready(l) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "[OK] All %d slots covered.\n", slot.Count)
	return nil
}

// checkEmpty is redis-cli's check before create: a node that knows other
// nodes, serves slots or holds keys is not taken.
func checkEmpty(addr string) error {
	info, err := callStr(addr, "CLUSTER", "INFO")
	if err != nil {
		return fmt.Errorf("%w\nStart the nodes first (redgo cluster start), or check --port-base and --nodes", err)
	}
	keys, err := call(addr, "DBSIZE")
	if err != nil {
		return err
	}
	if infoField(info, "cluster_known_nodes") != "1" || infoField(info, "cluster_slots_assigned") != "0" || keys.Int != 0 {
		return fmt.Errorf("[ERR] Node %s is not empty. Either the node already knows other nodes "+
			"(check with CLUSTER NODES) or contains some key in database 0.\n"+
			"To start afresh: redgo cluster stop, redgo cluster clean, redgo cluster start", addr)
	}
	return nil
}

// assignSlots gives master i the slots [i*16384/n, (i+1)*16384/n).
func assignSlots(l Layout, out io.Writer) error {
	n := l.Masters()
	fmt.Fprintf(out, ">>> Performing hash slots allocation on %d nodes...\n", l.Nodes)
	for i, port := range l.Ports()[:n] {
		lo, hi := i*slot.Count/n, (i+1)*slot.Count/n-1
		fmt.Fprintf(out, "Master[%d] -> Slots %d - %d (%s)\n", i, lo, hi, l.Addr(port))
		if _, err := call(l.Addr(port), "CLUSTER", "ADDSLOTSRANGE", itoa(lo), itoa(hi)); err != nil {
			return err
		}
		// Distinct config epochs, as redis-cli --cluster create.
		if _, err := call(l.Addr(port), "CLUSTER", "SET-CONFIG-EPOCH", itoa(i+1)); err != nil {
			return err
		}
	}
	return nil
}

// meet introduces every node to the first; gossip does the rest.
func meet(l Layout, out io.Writer) error {
	fmt.Fprint(out, ">>> Sending CLUSTER MEET messages to join the cluster\n")
	first := l.Addr(l.PortBase)
	for _, port := range l.Ports()[1:] {
		if _, err := call(first, "CLUSTER", "MEET", l.host(), strconv.Itoa(port)); err != nil {
			return err
		}
	}
	return nil
}

// replicate makes node Masters()+i a replica of master i mod Masters().
func replicate(l Layout, out io.Writer) error {
	n := l.Masters()
	ports := l.Ports()
	for i, port := range ports[n:] {
		master := ports[i%n]
		id, err := callStr(l.Addr(master), "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Adding replica %s to %s\n", l.Addr(port), l.Addr(master))
		// The replica must have heard of its master before it can follow it.
		if err := poll(30*time.Second, func() error {
			_, err := call(l.Addr(port), "CLUSTER", "REPLICATE", id)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// Ready checks that every node knows every other, serves all slots,
// says ok, and that every replica is in sync with its master.
func Ready(l Layout) error {
	for _, port := range l.Ports() {
		addr := l.Addr(port)
		info, err := callStr(addr, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if s := infoField(info, "cluster_state"); s != "ok" {
			return fmt.Errorf("node %s: cluster_state:%s", addr, s)
		}
		if k := infoField(info, "cluster_known_nodes"); k != itoa(l.Nodes) {
			return fmt.Errorf("node %s knows %s nodes of %d", addr, k, l.Nodes)
		}
		if k := infoField(info, "cluster_slots_ok"); k != itoa(slot.Count) {
			return fmt.Errorf("node %s: cluster_slots_ok:%s", addr, k)
		}
		repl, err := callStr(addr, "INFO", "replication")
		if err != nil {
			return err
		}
		if infoField(repl, "role") == "slave" && infoField(repl, "master_link_status") != "up" {
			return fmt.Errorf("node %s: replica not in sync with its master yet", addr)
		}
	}
	return nil
}

// poll runs fn until it succeeds or the time is up.
func poll(total time.Duration, fn func() error) error {
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %v: %w", total, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
