package consistency

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"redgo/internal/localcluster"
	"redgo/internal/localcluster/lctest"
)

// syncBuffer is a bytes.Buffer the checker and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The tutorial's demo: a 3+3 redgo cluster, the checker running, a
// master killed with kill -9. The checker sees errors while the slots
// are unserved, the replica takes over, the errors stop, and no
// acknowledged write is lost.
func TestFailoverLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 6-node cluster")
	}
	failover(t, lctest.Layout(t, 21101))
}

// The same against redis-server nodes: the checker works with any
// Redis Cluster.
func TestFailoverRedisServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 6-node cluster")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDGO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not installed but REDGO_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not installed: skipped")
	}
	l := lctest.Layout(t, 21121)
	l.ServerBin = bin
	failover(t, l)
}

// failover runs the checker on the cluster of l, kills the first master
// and checks what the checker saw.
func failover(t *testing.T, l localcluster.Layout) {
	redis.SetLogger(quietLogger{}) // the checker reports the errors
	l = lctest.Start(t, l)
	rc := NewClusterClient([]string{l.Addr(l.PortBase)}, "", "")
	defer rc.Close()
	out := &syncBuffer{}
	c := &Checker{Store: rc, Keys: 1000, Out: out}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	eventually(t, 3*time.Minute, func() error { return atLeast(c.Stats().Writes, 300, "acknowledged writes") })
	victim, replica := l.PortBase, l.PortBase+l.Masters()
	lctest.Kill9(t, l, victim)
	// The failover may be over before a command times out (go-redis
	// retries through MOVED), so failed writes are not required here.
	eventually(t, 3*time.Minute, func() error { return isMaster(l, replica) })
	// After the failover: writes go through again, without new errors.
	after := c.Stats()
	eventually(t, 3*time.Minute, func() error {
		s := c.Stats()
		if s.FailedWrites != after.FailedWrites {
			after = s
			return fmt.Errorf("still failing: %s", s.Line())
		}
		return atLeast(s.Writes, after.Writes+300, "writes after the failover")
	})
	cancel()
	s := <-done
	done <- s
	t.Logf("%s\n%s", s.Line(), out.String())
	if s.Lost != 0 {
		t.Fatalf("%d acknowledged writes lost", s.Lost)
	}
	line := regexp.MustCompile(`(?m)^\d+ R \(\d+ err\) \| \d+ W \(\d+ err\) \| \d+ lost \| \d+ noack$`)
	if !line.MatchString(out.String()) || !strings.Contains(out.String(), "no acknowledged write was lost") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func atLeast(n, want int64, what string) error {
	if n < want {
		return fmt.Errorf("%d %s, waiting for %d", n, what, want)
	}
	return nil
}

// isMaster says whether the node on port has become a master.
func isMaster(l localcluster.Layout, port int) error {
	info, err := singleInfo(l.Addr(port))
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:master") {
		return fmt.Errorf("node %d is not a master yet", port)
	}
	return nil
}

func eventually(t *testing.T, total time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", total, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func singleInfo(addr string) (string, error) {
	rc := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer rc.Close()
	return rc.Info(context.Background(), "replication").Result()
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
