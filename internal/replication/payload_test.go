package replication

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// mark is the EOF mark of a diskless transfer captured from redis-server
// 7.0.15 (see TestRedisHandshakeTranscripts).
const mark = "0884bbad5aa3a24223b255d12c5e88a1834586c6"

func TestParseBulk(t *testing.T) {
	cases := []struct {
		line string
		want Bulk
		err  error
	}{
		{"$EOF:" + mark, Bulk{Size: -1, Mark: mark}, nil},
		{"$EOF:" + mark + "extra", Bulk{Size: -1, Mark: mark}, nil},
		{"$175", Bulk{Size: 175}, nil},
		{"$0", Bulk{Size: 0}, nil},
		{"$EOF:short", Bulk{}, ErrBadBulk},
		{"$-1", Bulk{}, ErrBadBulk},
		{"$", Bulk{}, ErrBadBulk},
		{"+OK", Bulk{}, ErrBadBulk},
	}
	for _, c := range cases {
		got, err := ParseBulk(c.line)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("%q: %+v %v", c.line, got, err)
		}
	}
}

// chunked returns at most size bytes per Read.
type chunked struct {
	r    io.Reader
	size int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(p) > c.size {
		p = p[:c.size]
	}
	return c.r.Read(p)
}

func TestPayloadSized(t *testing.T) {
	payload := "REDIS0010\xfa\tredis-ver\x067.0.15\xff"
	after := "*1\r\n$4\r\nPING\r\n"
	src := strings.NewReader(payload + after)
	p := NewPayloadReader(&chunked{src, 3}, Bulk{Size: int64(len(payload))})
	got, err := io.ReadAll(p)
	if err != nil || string(got) != payload || p.Received() != int64(len(payload)) {
		t.Fatalf("%q %v", got, err)
	}
	if rest, _ := io.ReadAll(src); string(rest) != after {
		t.Fatalf("read past the payload: %q left", rest)
	}
	p = NewPayloadReader(strings.NewReader(payload[:10]), Bulk{Size: int64(len(payload))})
	if _, err := io.ReadAll(p); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	p = NewPayloadReader(iotest.TimeoutReader(strings.NewReader(payload)), Bulk{Size: 100})
	if _, err := io.ReadAll(p); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestPayloadMarked(t *testing.T) {
	payload := "REDIS0010\xfa\tredis-ver\x067.0.15" + strings.Repeat("x", 50000) + mark[:39] + "\xff"
	for _, size := range []int{1, 7, 39, 40, 41, 4096, 1 << 20} {
		p := NewPayloadReader(&chunked{strings.NewReader(payload + mark + "tail"), size}, Bulk{Size: -1, Mark: mark})
		got, err := io.ReadAll(iotest.OneByteReader(p))
		if err != nil || string(got) != payload {
			t.Fatalf("chunks of %d: %d bytes, %v", size, len(got), err)
		}
		if got := string(p.Rest()); !strings.HasPrefix("tail", got) {
			t.Fatalf("chunks of %d: rest %q", size, got)
		}
	}
	p := NewPayloadReader(strings.NewReader(payload+mark[:39]), Bulk{Size: -1, Mark: mark})
	if _, err := io.ReadAll(p); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated mark: %v", err)
	}
}

// FuzzPayloadReader reads arbitrary bytes in arbitrary chunks under both
// framings: never a panic, success only with the whole payload (the
// first size bytes, or everything before the first mark), ErrTruncated
// otherwise.
func FuzzPayloadReader(f *testing.F) {
	f.Add([]byte("REDIS0010\xfa\tredis-ver\x067.0.15\xff\xa5\x06;\xaf\xb9m\xe9\xef"+mark+"*2\r\n"), true, uint16(0), uint8(5))
	f.Add([]byte("REDIS0010\xff"+mark[:20]), true, uint16(0), uint8(0))
	f.Add([]byte("REDIS0010\xff*1\r\n$4\r\nPING\r\n"), false, uint16(10), uint8(2))
	f.Add([]byte("REDIS"), false, uint16(10), uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, marked bool, size uint16, chunk uint8) {
		b := Bulk{Size: int64(size)}
		if marked {
			b = Bulk{Size: -1, Mark: mark}
		}
		p := NewPayloadReader(&chunked{bytes.NewReader(data), int(chunk) + 1}, b)
		var got []byte
		buf := make([]byte, int(chunk)%53+1)
		var err error
		for err == nil {
			var n int
			n, err = p.Read(buf)
			got = append(got, buf[:n]...)
		}
		want, complete := data, true
		if marked {
			i := bytes.Index(data, []byte(mark))
			complete = i >= 0
			if complete {
				want = data[:i]
				if rest := data[i+IDLen:]; !bytes.HasPrefix(rest, p.Rest()) {
					t.Fatalf("rest %q is not what followed the mark", p.Rest())
				}
			}
		} else if complete = len(data) >= int(size); complete {
			want = data[:size]
		}
		switch {
		case complete && err != io.EOF:
			t.Fatalf("complete payload: %v", err)
		case complete && !bytes.Equal(got, want):
			t.Fatalf("payload %q, want %q", got, want)
		case !complete && !errors.Is(err, ErrTruncated):
			t.Fatalf("truncated stream reported %v", err)
		}
	})
}
