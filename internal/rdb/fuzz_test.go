package rdb

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"redgo/internal/keyspace"
)

// FuzzLoad: whatever the bytes, Load returns (an *Error when it fails)
// and never panics. Seeds: a file saved by redis-server 7.0 (testdata)
// and files written by this package.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.rdb")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	small := map[string]*keyspace.Object{}
	for k, o := range sampleObjects() {
		if k != "biglist" && k != "bighash" && k != "compressible" {
			small[k] = o
		}
	}
	f.Add(writeFile(f, map[int]map[string]*keyspace.Object{0: small}))
	f.Add([]byte("REDIS0010\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(data)))
		_, err := d.Load(Handler{Entry: func(e *Entry) error {
			if e.Obj == nil {
				t.Fatal("nil object")
			}
			// A loaded value must encode again.
			if _, err := AppendObject(nil, e.Obj, true); err != nil {
				t.Fatal(err)
			}
			return nil
		}})
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}

// FuzzRestore: any payload restores or fails cleanly; a restored value
// dumps to a payload that restores to the same value.
func FuzzRestore(f *testing.F) {
	for _, o := range sampleObjects() {
		p, _ := Dump(o, true)
		if len(p) < 4096 {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		// Fix the checksum so the fuzzer explores the value decoder.
		if len(p) >= 10 {
			p = append([]byte(nil), p...)
			p[len(p)-10], p[len(p)-9] = Version, 0
			sum := CRC64(0, p[:len(p)-8])
			for i := 0; i < 8; i++ {
				p[len(p)-8+i] = byte(sum >> (8 * i))
			}
		}
		o, err := Restore(p, nil)
		if err != nil {
			return
		}
		q, err := Dump(o, false)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := Restore(q, nil)
		if err != nil {
			t.Fatalf("re-dumped payload refused: %v", err)
		}
		if describe(o) != describe(o2) {
			t.Fatalf("%s != %s", describe(o), describe(o2))
		}
	})
}

// TestRedisTestdataFile loads the file saved by redis-server 7.0.15.
func TestRedisTestdataFile(t *testing.T) {
	got, info := loadFile(t, "testdata/redis-7.0.15.rdb")
	if info.Keys != 15 || info.Expires != 2 {
		t.Fatalf("info %+v", info)
	}
	checks := map[string]string{
		"str":    `string:"hello"`,
		"neg":    `string:"-7"`,
		"big64":  `string:"9223372036854775807"`,
		"list":   `list:"a","1","-5","300","70000","99999999999","","-4096"`,
		"hash":   `hash:"f1"="v1","n"="42"`,
		"intset": `set:"1","2","70000","9000000000"`,
		"zset":   `zset:"b"=-3,"d"=0.1,"a"=1.5,"c"=+Inf`,
	}
	for k, want := range checks {
		if g := describe(got[0][k]); g != want {
			t.Errorf("%s: %s, want %s", k, g, want)
		}
	}
	if got[0]["str"].Expire() != 4102444800000 || got[2]["db2"] == nil {
		t.Fatal("expiry or db 2 lost")
	}
}
