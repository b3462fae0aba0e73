package persist

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"redgo/internal/keyspace"
)

// TestRDBPreambleLoader: the loader the AOF uses for its RDB part reports
// exactly the bytes of the image (the log follows) and keeps keys that
// already expired (later log entries may refer to them).
func TestRDBPreambleLoader(t *testing.T) {
	h := newTestHost(t)
	defer h.close()
	p := New(h, Options{})
	const at = 1_700_000_000_000 // ms: the image is written at, loaded after
	h.ks.Now = func() int64 { return at }
	h.ks.DB(0).Set([]byte("a"), keyspace.NewString([]byte("1")), false)
	gone := keyspace.NewString([]byte("x"))
	gone.SetExpire(at + 30)
	h.ks.DB(0).Set([]byte("gone"), gone, false)
	var img bytes.Buffer
	h.ks.LockAll()
	err := p.WriteRDB(h.ks, &img, true)
	h.ks.UnlockAll()
	if err != nil {
		t.Fatal(err)
	}
	tail := "*1\r\n$4\r\nPING\r\n"
	ks := keyspace.New(16)
	ks.Now = func() int64 { return at + 50 } // "gone" has expired
	n, err := LoadRDBPreamble(ks, io.MultiReader(bytes.NewReader(img.Bytes()), strings.NewReader(tail)))
	if err != nil || n != int64(img.Len()) {
		t.Fatalf("consumed %d of %d: %v", n, img.Len(), err)
	}
	ks.LockAll()
	defer ks.UnlockAll()
	if o := ks.DB(0).RawGet([]byte("gone")); o == nil {
		t.Fatal("expired key dropped from the AOF's RDB part")
	}
	if o := ks.DB(0).RawGet([]byte("a")); o == nil || string(o.Bytes()) != "1" {
		t.Fatal("key lost")
	}
}
