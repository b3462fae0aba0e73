package rdb

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/rdb/rdbtest"
)

// toKey renders a decoded object as rdbtest.Capture renders a key.
func toKey(o *keyspace.Object) rdbtest.Key {
	k := rdbtest.Key{ExpireAt: -1, Encoding: encodingOf(o)}
	if o.Expire() != 0 {
		k.ExpireAt = o.Expire()
	}
	var parts []string
	switch o.Type() {
	case keyspace.TString:
		k.Type, k.Encoding, k.Value = "string", "", strconv.Quote(string(o.Bytes()))
		return k
	case keyspace.TList:
		k.Type = "list"
		for v := range o.List().All() {
			parts = append(parts, strconv.Quote(string(v)))
		}
	case keyspace.THash:
		k.Type = "hash"
		o.Hash().ForEach(func(f, v []byte) bool {
			parts = append(parts, strconv.Quote(string(f))+"="+strconv.Quote(string(v)))
			return true
		})
		sort.Strings(parts)
	case keyspace.TSet:
		k.Type = "set"
		o.Set().ForEach(func(m []byte) bool {
			parts = append(parts, strconv.Quote(string(m)))
			return true
		})
		sort.Strings(parts)
	case keyspace.TZSet:
		k.Type = "zset"
		o.ZSet().ForEach(func(e datatype.ZEntry) bool {
			parts = append(parts, strconv.Quote(e.Member)+"="+strconv.FormatFloat(e.Score, 'g', -1, 64))
			return true
		})
	case keyspace.TStream:
		k.Type, k.Value = "stream", streamKey(o.Stream()).String()
		return k
	}
	k.Value = strings.Join(parts, ",")
	return k
}

// noStringEncodings returns a copy of m without string encodings (a
// decoded string has no OBJECT ENCODING of its own).
func noStringEncodings(m map[string]rdbtest.Key) map[string]rdbtest.Key {
	out := map[string]rdbtest.Key{}
	for k, v := range m {
		if v.Type == "string" {
			v.Encoding = ""
		}
		out[k] = v
	}
	return out
}

func loadFile(t *testing.T, path string) (map[int]map[string]*keyspace.Object, Info) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[int]map[string]*keyspace.Object{}
	d := NewDecoder(bufio.NewReader(f))
	info, err := d.Load(Handler{Entry: func(e *Entry) error {
		if got[e.DB] == nil {
			got[e.DB] = map[string]*keyspace.Object{}
		}
		got[e.DB][string(e.Key)] = e.Obj
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return got, info
}

func asKeys(objs map[string]*keyspace.Object) map[string]rdbtest.Key {
	out := map[string]rdbtest.Key{}
	for k, o := range objs {
		out[k] = toKey(o)
	}
	return out
}

// TestRedisFileBothWays: a dump.rdb saved by redis-server 7.0 with every
// type in every encoding loads here with every key, value, encoding and
// TTL; written back by this package, it loads in redis-server identically
// and passes redis-check-rdb.
func TestRedisFileBothWays(t *testing.T) {
	dir := t.TempDir()
	r := rdbtest.StartRedis(t, dir)
	rdbtest.Populate(t, r.Addr)
	want := map[int]map[string]rdbtest.Key{0: rdbtest.Capture(t, r.Addr, 0), 5: rdbtest.Capture(t, r.Addr, 5)}
	c := rdbtest.Client(t, r.Addr, 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r.Stop()
	got, info := loadFile(t, filepath.Join(dir, "dump.rdb"))
	if info.Version != 10 || info.Checksum == 0 {
		t.Fatalf("info %+v", info)
	}
	for db, w := range want {
		if d := rdbtest.Diff(noStringEncodings(w), asKeys(got[db]), true); len(d) > 0 {
			t.Fatalf("db %d: redis file loaded with differences:\n%s", db, strings.Join(d, "\n"))
		}
	}

	// Write it back and let redis-server load it.
	dir2 := t.TempDir()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Header([]Aux{{"redis-ver", "7.0.15"}, {"redis-bits", "64"}, {"ctime", "1700000000"},
		{"used-mem", "1000000"}, {"aof-base", "0"}}, true)
	for _, db := range []int{0, 5} {
		b := AppendSelectDB(nil, db)
		b = AppendResizeDB(b, len(got[db]), 0)
		for k, o := range got[db] {
			var err error
			if b, err = AppendEntry(b, k, o, EntryOptions{Compress: true, Idle: -1, Freq: -1}); err != nil {
				t.Fatal(err)
			}
		}
		w.Write(b)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir2, "dump.rdb")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if bin, err := exec.LookPath("redis-check-rdb"); err == nil {
		out, err := exec.Command(bin, path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "RDB looks OK!") {
			t.Fatalf("redis-check-rdb: %v\n%s", err, out)
		}
	}
	r2 := rdbtest.StartRedis(t, dir2)
	for db, wk := range want {
		// String encodings are Redis's choice at load, whatever the file.
		if d := rdbtest.Diff(noStringEncodings(wk), noStringEncodings(rdbtest.Capture(t, r2.Addr, db)), true); len(d) > 0 {
			t.Fatalf("db %d: redis-server loaded our file with differences:\n%s", db, strings.Join(d, "\n"))
		}
	}
}

// TestRedisDumpPayloads: DUMP payloads of redis-server restore here, ours
// restore in redis-server, and without compression ours are byte for byte
// Redis's for every key whose encoding has a defined order.
func TestRedisDumpPayloads(t *testing.T) {
	dir := t.TempDir()
	r := rdbtest.StartRedis(t, dir)
	rdbtest.Populate(t, r.Addr)
	want := rdbtest.Capture(t, r.Addr, 0)
	c := rdbtest.Client(t, r.Addr, 0)
	defer c.Close()
	for _, compress := range []bool{true, false} {
		if !compress {
			c.ConfigSet(ctx, "rdbcompression", "no")
		}
		for k, wk := range want {
			p, err := c.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			o, err := Restore([]byte(p), nil)
			if err != nil {
				t.Fatalf("%q: restore of redis payload: %v", k, err)
			}
			got := toKey(o)
			got.ExpireAt = wk.ExpireAt
			if wk.Type == "string" {
				got.Encoding = wk.Encoding
			}
			if d := rdbtest.Diff(map[string]rdbtest.Key{k: wk}, map[string]rdbtest.Key{k: got}, true); len(d) > 0 {
				t.Fatalf("redis payload: %s", d[0])
			}
			ours, err := Dump(o, compress)
			if err != nil {
				t.Fatal(err)
			}
			ordered := wk.Encoding != "hashtable" && wk.Encoding != "skiplist"
			if !compress && ordered && !bytes.Equal(ours, []byte(p)) {
				t.Errorf("%q (%s): payload differs from Redis's:\nredis %q\nours  %q", k, wk.Encoding, short(p), short(string(ours)))
			}
			if err := c.RestoreReplace(ctx, "copy", 0, string(ours)).Err(); err != nil {
				t.Fatalf("%q: redis refused our payload: %v", k, err)
			}
			back := rdbtest.CaptureKey(t, r.Addr, 0, "copy")
			back.ExpireAt = wk.ExpireAt
			if wk.Type == "string" {
				back.Encoding = wk.Encoding // RESTORE makes embstr of a raw string, in Redis too
			}
			if d := rdbtest.Diff(map[string]rdbtest.Key{k: wk}, map[string]rdbtest.Key{k: back}, true); len(d) > 0 {
				t.Fatalf("our payload in redis: %s", d[0])
			}
		}
	}
}

var ctx = context.Background()

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// streamKey renders a stream as rdbtest captures one from XINFO STREAM FULL.
func streamKey(s *datatype.Stream) rdbtest.Stream {
	out := rdbtest.Stream{Length: int64(s.Len()), Nodes: int64(s.Blocks()), EntriesAdded: int64(s.EntriesAdded),
		LastID: s.LastID.String(), MaxDeletedID: s.MaxDeletedID.String(), FirstID: s.FirstID.String()}
	s.Range(datatype.StreamID{}, datatype.MaxStreamID, false, func(id datatype.StreamID, fv [][]byte) bool {
		words := []string{id.String()}
		for _, x := range fv {
			words = append(words, string(x))
		}
		out.Entries = append(out.Entries, "["+id.String()+" ["+strings.Join(words[1:], " ")+"]]")
		return true
	})
	for _, g := range s.Groups() {
		read := "nil"
		if g.EntriesRead != datatype.InvalidEntriesRead {
			read = strconv.FormatInt(g.EntriesRead, 10)
		}
		lag := "nil"
		if n, ok := s.Lag(g); ok {
			lag = strconv.FormatInt(n, 10)
		}
		var pel []string
		for i := 0; i < g.PEL.Len(); i++ {
			n := g.PEL.ValAt(i)
			pel = append(pel, fmt.Sprintf("[%s %s %d %d]", g.PEL.KeyAt(i), n.Consumer.Name, n.DeliveryTime, n.DeliveryCount))
		}
		var cons []string
		for _, c := range g.Consumers() {
			var cp []string
			for i := 0; i < c.PEL.Len(); i++ {
				n := c.PEL.ValAt(i)
				cp = append(cp, fmt.Sprintf("[%s %d %d]", c.PEL.KeyAt(i), n.DeliveryTime, n.DeliveryCount))
			}
			cons = append(cons, fmt.Sprintf("[name %s seen-time %d pel-count %d pending [%s]]", c.Name, c.SeenTime, c.PEL.Len(), strings.Join(cp, " ")))
		}
		out.Groups = append(out.Groups, fmt.Sprintf("[name %s last-delivered-id %s entries-read %s lag %s pel-count %d pending [%s] consumers [%s]]",
			g.Name, g.LastID, read, lag, g.PEL.Len(), strings.Join(pel, " "), strings.Join(cons, " ")))
	}
	return out
}
