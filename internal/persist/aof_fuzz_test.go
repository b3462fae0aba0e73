package persist

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"redgo/internal/aof"
	"redgo/internal/keyspace"
	"redgo/internal/vfs"
)

// FuzzAOFLoad: whatever bytes the AOF holds, loading it either succeeds
// (possibly cutting a torn tail) or returns an error; it never panics,
// and a repaired file loads again without error.
func FuzzAOFLoad(f *testing.F) {
	c := func(args ...string) string { return string(aof.AppendCommandStrings(nil, args...)) }
	f.Add([]byte(c("SELECT", "0") + c("SET", "a", "1") + c("RPUSH", "l", "x", "y") + c("INCR", "a")))
	f.Add([]byte(c("MULTI") + c("SET", "a", "1") + c("SELECT", "3") + c("ZADD", "z", "1", "m") + c("EXEC")))
	f.Add([]byte(c("MULTI") + c("SET", "a", "1")))
	f.Add([]byte(c("SET", "a", "1") + "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$4\r\nab"))
	f.Add([]byte(c("HSET", "h", "f", "v") + c("SADD", "s", "1", "2") + c("PEXPIREAT", "h", "99999999999999") + c("SWAPDB", "0", "1")))
	f.Add([]byte(c("SELECT", "99") + c("FLUSHALL") + c("EXEC") + c("GETEX", "a", "PX", "1")))
	f.Add([]byte("#TS:1\r\n" + c("SET", "k", "v", "PXAT", "1")))
	h := newTestHost(f)
	p := New(h, Options{})
	// An RDB-format base (aof-use-rdb-preamble) followed by commands.
	ks := keyspace.New(16)
	ks.DB(0).Set([]byte("str"), keyspace.NewString([]byte("v")), false)
	ks.DB(2).Set([]byte("num"), keyspace.NewString([]byte("12345")), false)
	var img bytes.Buffer
	if err := p.WriteRDB(ks, &img, true); err != nil {
		f.Fatal(err)
	}
	f.Add(append(img.Bytes(), c("SELECT", "0")+c("APPEND", "str", "w")...))
	f.Add(img.Bytes()[:img.Len()-3])
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := vfs.NewMemFS()
		mem.MkdirAll("/d")
		mem.WriteFile("/d/a.aof", data)
		st := &aofState{p: p, fs: mem, dir: "/d", prefix: "a.aof"}
		h.ks = keyspace.New(16)
		_, err := st.loadFile(newReplayer(h, h.ks), "a.aof", true)
		if err != nil {
			if strings.Contains(err.Error(), "cannot be replayed") && os.Getenv("AOF_FUZZ_PANICS") != "" {
				t.Fatalf("handler panic: %v", err)
			}
			if strings.Contains(err.Error(), "aof-load-truncated") {
				t.Fatalf("truncated file refused although aof-load-truncated is yes: %v", err)
			}
			return
		}
		// Loaded (maybe after a cut): the file on disk now loads cleanly.
		h.ks = keyspace.New(16)
		if _, err := st.loadFile(newReplayer(h, h.ks), "a.aof", true); err != nil {
			t.Fatalf("reload after a successful load: %v", err)
		}
		if got, _ := mem.ReadFile("/d/a.aof"); len(got) > len(data) {
			t.Fatal("the file grew")
		}
	})
}
