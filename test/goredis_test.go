package test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

var bg = context.Background()

func client(t *testing.T, port int, proto int) *redis.Client {
	rc := redis.NewClient(&redis.Options{
		Addr:                     fmt.Sprintf("127.0.0.1:%d", port),
		Protocol:                 proto,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func check[T comparable](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestGoRedisFamilies exercises every command family through go-redis v9,
// in RESP2 and RESP3.
func TestGoRedisFamilies(t *testing.T) {
	s := startRedgo(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			rc := client(t, s.Port(), proto)
			rc.FlushAll(bg)
			// strings
			check(t, "set", rc.Set(bg, "s", "v", time.Minute).Val(), rc.Set(bg, "s", "v", time.Minute).Err(), "OK")
			v, err := rc.Get(bg, "s").Result()
			check(t, "get", v, err, "v")
			n, err := rc.IncrBy(bg, "n", 5).Result()
			check(t, "incrby", n, err, int64(5))
			f, err := rc.IncrByFloat(bg, "n", 0.5).Result()
			check(t, "incrbyfloat", f, err, 5.5)
			if _, err := rc.Get(bg, "nosuch").Result(); err != redis.Nil {
				t.Errorf("get missing: %v", err)
			}
			ttl, err := rc.TTL(bg, "s").Result()
			if err != nil || ttl <= 58*time.Second || ttl > time.Minute {
				t.Errorf("ttl %v %v", ttl, err)
			}
			// lists
			n, err = rc.RPush(bg, "l", "a", "b", "c").Result()
			check(t, "rpush", n, err, int64(3))
			l, err := rc.LRange(bg, "l", 0, -1).Result()
			check(t, "lrange", strings.Join(l, ","), err, "a,b,c")
			// hashes
			n, err = rc.HSet(bg, "h", "f1", "1", "f2", "2").Result()
			check(t, "hset", n, err, int64(2))
			hm, err := rc.HGetAll(bg, "h").Result()
			check(t, "hgetall", len(hm), err, 2)
			check(t, "hgetall f2", hm["f2"], err, "2")
			// sets
			n, err = rc.SAdd(bg, "set", "x", "y", "z").Result()
			check(t, "sadd", n, err, int64(3))
			b, err := rc.SIsMember(bg, "set", "y").Result()
			check(t, "sismember", b, err, true)
			n, err = rc.SCard(bg, "set").Result()
			check(t, "scard", n, err, int64(3))
			// sorted sets
			n, err = rc.ZAdd(bg, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"}).Result()
			check(t, "zadd", n, err, int64(2))
			zs, err := rc.ZRangeWithScores(bg, "z", 0, -1).Result()
			if err != nil || len(zs) != 2 || zs[1].Score != 2.5 || zs[1].Member != "b" {
				t.Errorf("zrange withscores %v %v", zs, err)
			}
			sc, err := rc.ZScore(bg, "z", "b").Result()
			check(t, "zscore", sc, err, 2.5)
			// hyperloglog
			rc.PFAdd(bg, "hll", "a", "b", "c")
			n, err = rc.PFCount(bg, "hll").Result()
			check(t, "pfcount", n, err, int64(3))
			// keys
			n, err = rc.Exists(bg, "s", "l", "nosuch").Result()
			check(t, "exists", n, err, int64(2))
			typ, err := rc.Type(bg, "z").Result()
			check(t, "type", typ, err, "zset")
			keys, cursor, err := rc.Scan(bg, 0, "*", 1000).Result()
			if err != nil || cursor != 0 || len(keys) != 7 {
				t.Errorf("scan: %v %d %v", keys, cursor, err)
			}
			n, err = rc.DBSize(bg).Result()
			check(t, "dbsize", n, err, int64(7))
			// wrong type
			if err := rc.LPush(bg, "s", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE Operation against a key holding the wrong kind of value") {
				t.Errorf("wrongtype: %v", err)
			}
			// server
			info, err := rc.Info(bg, "server").Result()
			if err != nil || !strings.Contains(info, "redis_version:") {
				t.Errorf("info: %v", err)
			}
		})
	}
}

// TestBlockingAcrossClients checks wake-up, FIFO order and timeouts.
func TestBlockingAcrossClients(t *testing.T) {
	s := startRedgo(t)
	pusher := client(t, s.Port(), 3)
	var wg sync.WaitGroup
	results := make([]string, 3)
	for i := 0; i < 3; i++ {
		c := client(t, s.Port(), 2)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := c.BLPop(bg, 5*time.Second, "q").Result()
			if err != nil {
				results[i] = "err:" + err.Error()
				return
			}
			results[i] = r[1]
		}(i)
		// Make the order of blocking deterministic.
		eventually(t, 5*time.Second, func() error {
			info := pusher.Info(bg, "clients").Val()
			if !strings.Contains(info, fmt.Sprintf("blocked_clients:%d", i+1)) {
				return errors.New("not blocked yet")
			}
			return nil
		})
	}
	pusher.RPush(bg, "q", "first", "second", "third")
	wg.Wait()
	if strings.Join(results, ",") != "first,second,third" {
		t.Fatalf("served %v, want FIFO order", results)
	}
	if n := pusher.LLen(bg, "q").Val(); n != 0 {
		t.Fatalf("list left with %d", n)
	}
	// Timeout.
	start := time.Now()
	_, err := pusher.BLPop(bg, 100*time.Millisecond, "empty").Result()
	if err != redis.Nil || time.Since(start) < 90*time.Millisecond {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	// BLMOVE between two lists wakes a BLPOP on the destination.
	c := client(t, s.Port(), 2)
	done := make(chan string)
	go func() {
		r, _ := c.BLPop(bg, 5*time.Second, "dst").Result()
		done <- strings.Join(r, ",")
	}()
	eventually(t, 5*time.Second, func() error {
		if !strings.Contains(pusher.Info(bg, "clients").Val(), "blocked_clients:1") {
			return errors.New("not blocked")
		}
		return nil
	})
	pusher.RPush(bg, "src", "moved")
	pusher.LMove(bg, "src", "dst", "LEFT", "RIGHT")
	if got := <-done; got != "dst,moved" {
		t.Fatalf("chained wake got %q", got)
	}
}

// TestTransactionsAndWatch checks MULTI/EXEC, EXECABORT and WATCH conflicts.
func TestTransactionsAndWatch(t *testing.T) {
	s := startRedgo(t)
	a, b := client(t, s.Port(), 2), client(t, s.Port(), 2)
	a.Set(bg, "k", "1", 0)
	err := a.Watch(bg, func(tx *redis.Tx) error {
		b.Set(bg, "k", "2", 0) // conflicting write by another client
		_, err := tx.TxPipelined(bg, func(p redis.Pipeliner) error {
			p.Set(bg, "k", "3", 0)
			return nil
		})
		return err
	}, "k")
	if err != redis.TxFailedErr {
		t.Fatalf("watch conflict: %v", err)
	}
	if v := a.Get(bg, "k").Val(); v != "2" {
		t.Fatalf("k = %q after aborted transaction", v)
	}
	// Without conflict it commits.
	err = a.Watch(bg, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(bg, func(p redis.Pipeliner) error {
			p.Incr(bg, "k")
			p.Incr(bg, "k")
			return nil
		})
		return err
	}, "k")
	if err != nil || a.Get(bg, "k").Val() != "4" {
		t.Fatalf("tx: %v %q", err, a.Get(bg, "k").Val())
	}
	// A watched key that expires fails EXEC.
	a.Set(bg, "e", "v", 50*time.Millisecond)
	err = a.Watch(bg, func(tx *redis.Tx) error {
		time.Sleep(100 * time.Millisecond)
		_, err := tx.TxPipelined(bg, func(p redis.Pipeliner) error {
			p.Set(bg, "other", "x", 0)
			return nil
		})
		return err
	}, "e")
	if err != redis.TxFailedErr {
		t.Fatalf("watch expiry: %v", err)
	}
	// Queued syntax error aborts the whole transaction.
	_, err = a.TxPipelined(bg, func(p redis.Pipeliner) error {
		p.Set(bg, "x", "1", 0)
		p.Do(bg, "INCR") // wrong arity, rejected at queue time
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "EXECABORT") && !strings.Contains(err.Error(), "wrong number of arguments") {
		t.Fatalf("execabort: %v", err)
	}
	if a.Exists(bg, "x").Val() != 0 {
		t.Fatal("aborted transaction wrote")
	}
}

// TestPubSub checks SUBSCRIBE/PSUBSCRIBE delivery in RESP2 and RESP3.
func TestPubSub(t *testing.T) {
	s := startRedgo(t)
	for _, proto := range []int{2, 3} {
		sub := client(t, s.Port(), proto)
		pub := client(t, s.Port(), 2)
		ps := sub.Subscribe(bg, "news")
		if _, err := ps.Receive(bg); err != nil {
			t.Fatal(err)
		}
		if err := ps.PSubscribe(bg, "n*"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, func() error {
			if n := pub.PubSubNumPat(bg).Val(); n != 1 {
				return fmt.Errorf("numpat %d", n)
			}
			return nil
		})
		n, err := pub.Publish(bg, "news", "hello").Result()
		check(t, "publish receivers", n, err, int64(2))
		got := map[string]bool{}
		for i := 0; i < 2; i++ {
			m, err := ps.ReceiveMessage(bg)
			if err != nil {
				t.Fatal(err)
			}
			got[m.Pattern+"|"+m.Channel+"|"+m.Payload] = true
		}
		if !got["|news|hello"] || !got["n*|news|hello"] {
			t.Fatalf("resp%d messages %v", proto, got)
		}
		chans, _ := pub.PubSubChannels(bg, "*").Result()
		if strings.Join(chans, ",") != "news" {
			t.Fatalf("channels %v", chans)
		}
		ps.Close()
		eventually(t, 5*time.Second, func() error {
			if n := pub.PubSubNumPat(bg).Val(); n != 0 {
				return fmt.Errorf("numpat %d after close", n)
			}
			return nil
		})
	}
}

// TestMoveWakesBlockedInOtherDB: a BLPOP in db 1 is served by MOVE from db 0.
func TestMoveWakesBlockedInOtherDB(t *testing.T) {
	s := startRedgo(t)
	a := client(t, s.Port(), 2)
	b := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.Port()), DB: 1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { b.Close() })
	done := make(chan string, 1)
	go func() {
		r, err := b.BLPop(bg, 5*time.Second, "l").Result()
		done <- fmt.Sprint(r, err)
	}()
	eventually(t, 5*time.Second, func() error {
		if !strings.Contains(a.Info(bg, "clients").Val(), "blocked_clients:1") {
			return errors.New("not blocked")
		}
		return nil
	})
	a.RPush(bg, "l", "x")
	if n, err := a.Move(bg, "l", 1).Result(); err != nil || !n {
		t.Fatalf("move: %v %v", n, err)
	}
	if got := <-done; got != "[l x] <nil>" {
		t.Fatalf("blocked client got %q", got)
	}
}
