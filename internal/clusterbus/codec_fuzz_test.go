package clusterbus

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"redgo/internal/cluster"
)

// FuzzDecode: Decode never panics; whatever it accepts re-encodes, and
// the re-encoding decodes to the same message and encodes to the same
// bytes again. ReadMsg, fed the input in two pieces, frames it the same.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/redis7.0-*.bin")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2 * cluster.MsgTypeCount {
		b, err := Encode(randMsg(r, cluster.MsgType(i%cluster.MsgTypeCount)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)

		half := len(data) / 2
		framed, rerr := ReadMsg(io.MultiReader(bytes.NewReader(data[:half]), bytes.NewReader(data[half:])), nil, 1<<20)
		if err == nil && (rerr != nil || !bytes.Equal(framed, data)) {
			t.Fatalf("Decode accepts what ReadMsg frames as %d bytes, %v", len(framed), rerr)
		}
		if err != nil {
			if !knownErr(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		enc, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v\n%+v", err, m)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs\n%+v\n%+v", m, m2)
		}
		enc2, _ := Encode(m2)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding is not stable")
		}
	})
}

func knownErr(err error) bool {
	for _, e := range []error{ErrShort, ErrLong, ErrSignature, ErrVersion, ErrUnknownType, ErrLength, ErrExtension} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
