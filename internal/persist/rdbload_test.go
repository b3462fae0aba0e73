package persist

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"redgo/internal/keyspace"
)

// TestRDBPreambleLoader: the loader the AOF uses for its RDB part reports
// exactly the bytes of the image (the log follows) and keeps keys that
// already expired (later log entries may refer to them).
func TestRDBPreambleLoader(t *testing.T) {
	h := newTestHost(t)
	defer h.close()
	p := New(h, Options{})
	h.ks.DB(0).Set([]byte("a"), keyspace.NewString([]byte("1")), false)
	gone := keyspace.NewString([]byte("x"))
	gone.SetExpire(h.ks.Now() + 30)
	h.ks.DB(0).Set([]byte("gone"), gone, false)
	var img bytes.Buffer
	h.ks.LockAll()
	err := p.WriteRDB(h.ks, &img, true)
	h.ks.UnlockAll()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	tail := "*1\r\n$4\r\nPING\r\n"
	ks := keyspace.New(16)
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
