package server

// Shutting down a master that has replicas (Redis 7.0 server.c:
// prepareForShutdown, isReadyToShutdown, finishShutdown): client writes
// are paused and the replicas get shutdown-timeout seconds to acknowledge
// the whole stream, so nothing acknowledged is lost with us. redgo adds
// the hand-over of valkey-io/valkey#939 (Valkey 9's "failover" flag of
// shutdown-on-sigterm / SHUTDOWN FAILOVER): in cluster mode a replica in
// sync is then asked to take our slots (CLUSTER FAILOVER FORCE), and we
// wait until it has them, so a rolling restart shows clients only MOVED.

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"redgo/internal/cluster"
)

// ShutdownFailover reports whether the shutdown caused by sig ("SIGTERM"
// or "SIGINT") hands our slots over first: its shutdown-on-sig* setting
// has the "failover" flag.
func (s *Server) ShutdownFailover(sig string) bool {
	name := "shutdown-on-sigterm"
	if sig == "SIGINT" {
		name = "shutdown-on-sigint"
	}
	for _, f := range strings.Fields(s.Cfg.Get(name)) {
		if strings.EqualFold(f, "failover") {
			return true
		}
	}
	return false
}

// prepareShutdown pauses writes and waits for the replicas to have
// everything (up to shutdown-timeout); with failover, a replica then
// takes over our slots. It returns when we may stop.
func (s *Server) prepareShutdown(failover bool) {
	reps := s.repl.Replicas()
	if len(reps) == 0 || s.repl.IsReplica() {
		return
	}
	timeout := time.Duration(s.Cfg.Int("shutdown-timeout")) * time.Second
	deadline := time.Now().Add(timeout)
	s.pause.set(pauseShutdown, deadline.Add(time.Second), false)
	defer s.pause.unpause(pauseShutdown)
	s.KS.LockAll() // every write in flight has fed the stream
	s.KS.UnlockAll()
	target := s.repl.Offset()
	s.Log.Printf("Waiting for replicas before shutting down.")
	// Every replica still connected must acknowledge target (one that
	// goes away is no longer waited for), as isReadyToShutdown.
	for left := time.Until(deadline); left > 0; left = time.Until(deadline) {
		n := int64(len(s.repl.Replicas()))
		if n == 0 || s.repl.Wait(target, n, min(left, 100*time.Millisecond).Milliseconds()+1) >= n {
			break
		}
	}
	var synced []string // ip:port of replicas that have everything
	for _, r := range s.repl.Replicas() {
		addr := net.JoinHostPort(r.IP, strconv.FormatInt(r.Port, 10))
		if r.Offset >= target {
			synced = append(synced, addr)
		} else {
			s.Log.Printf("# Lagging replica %s reported offset %d behind master, lag=%d, state=%s.",
				addr, target-r.Offset, r.Lag, r.State)
		}
	}
	if !failover || s.cluster == nil {
		return
	}
	s.handOver(synced, deadline)
}

// handOver asks one of our replicas in sync to take over our slots and
// waits until it has them (or the deadline).
func (s *Server) handOver(synced []string, deadline time.Time) {
	cm := s.cluster
	cm.mu.Lock()
	me := cm.st.Myself
	serving := me.IsMaster() && me.Slots.Count() > 0
	var heir *cluster.Node
	for _, r := range me.Replicas {
		addr := net.JoinHostPort(r.IP, strconv.Itoa(r.Port))
		if r.Flags&(cluster.FlagFail|cluster.FlagPFail|cluster.FlagNoFailover) == 0 && contains(synced, addr) {
			heir = r
			break
		}
	}
	var addr, name string
	if heir != nil {
		addr, name = net.JoinHostPort(heir.IP, strconv.Itoa(heir.Port)), heir.Name
	}
	cm.mu.Unlock()
	if !serving {
		return
	}
	if heir == nil {
		s.Log.Printf("# No replica in sync to hand my slots over to: shutting down without a failover")
		return
	}
	s.Log.Printf("Handing my slots over to replica %.40s (%s) before shutting down", name, addr)
	if err := sendCommand(addr, time.Until(deadline), "CLUSTER", "FAILOVER", "FORCE"); err != nil {
		s.Log.Printf("# Replica %s refused to take over: %v", addr, err)
		return
	}
	for time.Now().Before(deadline) {
		cm.mu.Lock()
		done := cm.st.Myself.Slots.Count() == 0
		cm.mu.Unlock()
		if done {
			s.Log.Printf("Replica %.40s took over my slots", name)
			// Clients held by the pause now get -MOVED to it.
			s.pause.unpause(pauseShutdown)
			time.Sleep(100 * time.Millisecond)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Log.Printf("# Replica %.40s did not take over before shutdown-timeout", name)
}

// sendCommand runs one command on the server at addr and fails on an
// error reply.
func sendCommand(addr string, timeout time.Duration, args ...string) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "-") {
		return fmt.Errorf("%s", strings.TrimSpace(line[1:]))
	}
	return nil
}

func contains(a []string, x string) bool {
	for _, v := range a {
		if v == x {
			return true
		}
	}
	return false
}
