package test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribeOn subscribes to channel and pattern on port and waits for
// both confirmations.
func subscribeOn(t *testing.T, port int, channel, pattern string) *redis.PubSub {
	t.Helper()
	ps := client(t, port, 2).Subscribe(bg, channel)
	if _, err := ps.Receive(bg); err != nil {
		t.Fatal(err)
	}
	if err := ps.PSubscribe(bg, pattern); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Receive(bg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps
}

// expectMessages reads n messages from ps and wants exactly want
// ("pattern|channel|payload").
func expectMessages(t *testing.T, ps *redis.PubSub, want ...string) {
	t.Helper()
	got := map[string]bool{}
	ch := ps.Channel()
	for range want {
		select {
		case m := <-ch:
			got[m.Pattern+"|"+m.Channel+"|"+m.Payload] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out; got %v, want %v", got, want)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// clusterPubSub publishes on every node and wants every other node's
// subscriber (channel and pattern) to get the message; the reply counts
// local receivers only.
func clusterPubSub(t *testing.T, ports []int) {
	subs := make([]*redis.PubSub, len(ports))
	for i, p := range ports {
		subs[i] = subscribeOn(t, p, "news", "n*")
	}
	for _, p := range ports {
		msg := fmt.Sprintf("hello from %d", p)
		n, err := client(t, p, 2).Publish(bg, "news", msg).Result()
		check(t, "publish receivers", n, err, int64(2))
		for j := range ports {
			expectMessages(t, subs[j], "|news|"+msg, "n*|news|"+msg)
		}
	}
}

// Three redgo nodes: PUBLISH on any node reaches subscribers of every
// node; SPUBLISH is served (and delivered) where the slot lives.
func TestClusterPublish(t *testing.T) {
	need(t, "redis-cli")
	ports := busPorts(t, 3, false)
	for _, p := range ports {
		startClusterNode(t, p, false)
	}
	createCluster(t, ports)
	clusterPubSub(t, ports)
	clusterLinks(t, ports)

	// SPUBLISH: MOVED away from the owner, delivered on the owner.
	owner, other := -1, -1
	for _, p := range ports {
		err := client(t, p, 2).SPublish(bg, "snews", "x").Err()
		if err == nil {
			owner = p
		} else if strings.HasPrefix(err.Error(), "MOVED ") {
			other = p
		} else {
			t.Fatalf("SPUBLISH on %d: %v", p, err)
		}
	}
	if owner < 0 || other < 0 {
		t.Fatalf("SPUBLISH owner %d other %d", owner, other)
	}
	ss := client(t, owner, 2).SSubscribe(bg, "snews")
	if _, err := ss.Receive(bg); err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	n, err := client(t, owner, 2).SPublish(bg, "snews", "sharded").Result()
	check(t, "spublish receivers", n, err, int64(1))
	select {
	case m := <-ss.Channel():
		if m.Channel != "snews" || m.Payload != "sharded" {
			t.Fatalf("smessage %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no smessage")
	}
}

// redis-server 7.0 and redgo in one cluster: PUBLISH crosses both ways.
func TestClusterPublishMixed(t *testing.T) {
	need(t, "redis-cli")
	need(t, "redis-server")
	ports := busPorts(t, 3, false)
	for i, p := range ports {
		startClusterNode(t, p, i == 1)
	}
	createCluster(t, ports)
	clusterPubSub(t, ports)
	clusterLinks(t, ports)
}

// clusterLinks wants CLUSTER LINKS on every node to show one link to and
// one link from each other node, idle, created in the last minute.
func clusterLinks(t *testing.T, ports []int) {
	t.Helper()
	ids := map[int]string{}
	for _, p := range ports {
		id, err := client(t, p, 2).ClusterMyID(bg).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids[p] = id
	}
	eventually(t, 10*time.Second, func() error {
		for _, p := range ports {
			for _, proto := range []int{2, 3} {
				links, err := client(t, p, proto).ClusterLinks(bg).Result()
				if err != nil {
					return fmt.Errorf("node %d: %v", p, err)
				}
				var got, want []string
				for _, l := range links {
					if l.Events != "r" || l.SendBufferUsed != 0 || l.SendBufferAllocated != 0 {
						return fmt.Errorf("node %d: link %+v", p, l)
					}
					if d := time.Now().UnixMilli() - l.CreateTime; d < 0 || d > 60_000 {
						return fmt.Errorf("node %d: link %+v created %d ms ago", p, l, d)
					}
					got = append(got, l.Direction+" "+l.Node)
				}
				for _, q := range ports {
					if q != p {
						want = append(want, "to "+ids[q], "from "+ids[q])
					}
				}
				sort.Strings(got)
				sort.Strings(want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					return fmt.Errorf("node %d RESP%d: links %v, want %v", p, proto, got, want)
				}
			}
		}
		return nil
	})
}
