package keyspace

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"redgo/internal/slot"
)

// snapHarness drives a Snapshot by hand: writes call BeforeWrite first,
// as the dispatcher does; take walks all slots.
type snapHarness struct {
	ks   *Keyspace
	sn   *Snapshot
	got  map[string]string // "db/key" -> value, from captures and the walk
	dups []string
}

func newSnapHarness(t *testing.T, ks *Keyspace) *snapHarness {
	h := &snapHarness{ks: ks, got: map[string]string{}}
	ks.LockAll()
	h.sn = ks.BeginSnapshot(func(shard, db int, key string, o *Object) {
		if shard != ShardOf([]byte(key)) {
			t.Errorf("capture of %q with shard %d", key, shard)
		}
		h.put(db, key, o)
	})
	ks.UnlockAll()
	return h
}

func (h *snapHarness) put(db int, key string, o *Object) {
	k := fmt.Sprintf("%d/%s", db, key)
	if _, ok := h.got[k]; ok {
		h.dups = append(h.dups, k)
	}
	h.got[k] = string(o.Bytes())
}

func (h *snapHarness) set(db int, key, val string) {
	h.ks.LockAll()
	defer h.ks.UnlockAll()
	h.sn.BeforeWrite(db, []byte(key))
	h.ks.DB(db).Set([]byte(key), NewString([]byte(val)), false)
}

func (h *snapHarness) del(db int, key string) {
	h.ks.LockAll()
	defer h.ks.UnlockAll()
	h.sn.BeforeWrite(db, []byte(key))
	h.ks.DB(db).Delete([]byte(key))
}

func (h *snapHarness) takeSlots(db int, from, to int) {
	for s := from; s < to; s++ {
		sh := s % NShards
		h.ks.ShardLock(sh)
		h.sn.TakeSlot(db, s, func(k string, o *Object) { h.put(db, k, o) }, 0, nil)
		h.ks.ShardUnlock(sh)
	}
}

func dump(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestSnapshotPointInTime(t *testing.T) {
	ks := New(4)
	now := int64(1_000_000)
	ks.Now = func() int64 { return now }
	want := map[string]string{}
	lockedSet := func(db int, k, v string, exp int64) {
		ks.LockAll()
		o := NewString([]byte(v))
		o.SetExpire(exp)
		ks.DB(db).Set([]byte(k), o, false)
		ks.UnlockAll()
	}
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("key:%d", i)
		lockedSet(0, k, "v0-"+k, 0)
		want["0/"+k] = "v0-" + k
		if i%3 == 0 {
			lockedSet(1, k, "v1-"+k, 0)
			want["1/"+k] = "v1-" + k
		}
	}
	lockedSet(0, "expired", "x", now-1) // expired but not deleted: in it, as in Redis's RDB files
	want["0/expired"] = "x"
	lockedSet(2, "gone", "g", 0) // flushed below
	want["2/gone"] = "g"
	h := newSnapHarness(t, ks)
	now += 10
	// The expired key is deleted after the instant: captured first.
	ks.BeforeExpire = func(db int, key string) { h.sn.BeforeWrite(db, []byte(key)) }
	if n := ks.ActiveExpire(1 << 20); n != 1 {
		t.Fatalf("active expiry deleted %d keys", n)
	}
	// Walk half of db 0, then write everywhere, then finish.
	h.takeSlots(0, 0, slot.Count/2)
	for i := 0; i < 2000; i += 7 {
		k := fmt.Sprintf("key:%d", i)
		h.set(0, k, "new")
		h.set(0, k, "newer")
		h.del(1, k)
		h.set(1, "fresh:"+k, "fresh") // created after the instant
	}
	ks.LockAll()
	h.sn.BeforeFlush(2)
	ks.DB(2).Flush()
	ks.UnlockAll()
	h.set(2, "gone", "recreated")
	ks.LockAll()
	h.sn.CaptureDB(3) // empty at the instant: nothing
	ks.UnlockAll()
	h.takeSlots(0, slot.Count/2, slot.Count)
	for db := 1; db < 4; db++ {
		h.takeSlots(db, 0, slot.Count)
	}
	if len(h.dups) > 0 {
		t.Fatalf("keys handed out twice: %v", h.dups[:min(5, len(h.dups))])
	}
	if g, w := dump(h.got), dump(want); g != w {
		t.Fatalf("snapshot differs from the instant:\n got %d keys\nwant %d keys", len(h.got), len(want))
	}
	// Once everything is taken, writes capture nothing.
	n := len(h.got)
	h.set(0, "key:1", "later")
	if len(h.got) != n {
		t.Fatal("capture after the walk")
	}
	if m, c := h.sn.EarlyKeys(); m == 0 || c == 0 || c > m {
		t.Fatalf("early keys %d/%d", m, c)
	}
}

// TestSnapshotChunkedWalk: a slot walked in chunks, with writes, deletes,
// new keys, a flush and a whole-database capture between the chunks,
// still yields the instant, each key once.
func TestSnapshotChunkedWalk(t *testing.T) {
	for _, between := range []string{"writes", "flush", "capture"} {
		t.Run(between, func(t *testing.T) {
			ks := New(2)
			want := map[string]string{}
			ks.LockAll()
			// Keys of one slot (hash tag), plus a few elsewhere.
			for i := 0; i < 500; i++ {
				k := fmt.Sprintf("{tag}:%d", i)
				ks.DB(0).Set([]byte(k), NewString([]byte("v"+k)), false)
				want["0/"+k] = "v" + k
			}
			ks.UnlockAll()
			h := newSnapHarness(t, ks)
			s := slot.OfString("{tag}")
			sh := s % NShards
			pauses := 0
			ks.ShardLock(sh)
			h.sn.TakeSlot(0, s, func(k string, o *Object) { h.put(0, k, o) }, 16, func() {
				pauses++
				ks.ShardUnlock(sh)
				switch {
				case between == "writes":
					for j := 0; j < 5; j++ {
						k := fmt.Sprintf("{tag}:%d", (pauses*37+j*101)%500)
						if j == 4 {
							h.del(0, k)
						} else {
							h.set(0, k, "new")
						}
						h.set(0, fmt.Sprintf("{tag}:new%d-%d", pauses, j), "fresh")
					}
				case between == "flush" && pauses == 3:
					ks.LockAll()
					h.sn.BeforeFlush(0)
					ks.DB(0).Flush()
					ks.UnlockAll()
					h.set(0, "{tag}:1", "after flush")
				case between == "capture" && pauses == 3:
					ks.LockAll()
					h.sn.CaptureDB(-1)
					ks.UnlockAll()
					h.set(0, "{tag}:2", "after capture")
				}
				ks.ShardLock(sh)
			})
			ks.ShardUnlock(sh)
			h.takeSlots(0, 0, slot.Count)
			h.takeSlots(1, 0, slot.Count)
			if pauses == 0 {
				t.Fatal("no pause")
			}
			if len(h.dups) > 0 {
				t.Fatalf("keys handed out twice: %v", h.dups[:min(5, len(h.dups))])
			}
			if g, w := dump(h.got), dump(want); g != w {
				t.Fatalf("snapshot differs from the instant: %d keys, want %d", len(h.got), len(want))
			}
		})
	}
}
