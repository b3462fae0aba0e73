package server

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
)

// A snapshot shorter than loading-process-events-interval-bytes never
// shows the loading state; a longer one does once past it.
func TestLoadingReader(t *testing.T) {
	var on atomic.Bool
	io.Copy(io.Discard, &loadingReader{r: strings.NewReader(strings.Repeat("x", 1000)), after: 1024, loading: &on})
	if on.Load() {
		t.Fatal("a 1000-byte load turned loading on")
	}
	r := &loadingReader{r: strings.NewReader(strings.Repeat("x", 3000)), after: 1024, loading: &on}
	buf := make([]byte, 512)
	for range 2 {
		r.Read(buf)
	}
	if on.Load() {
		t.Fatal("loading on before 1024 bytes were read")
	}
	r.Read(buf)
	if !on.Load() {
		t.Fatal("loading still off after 1536 bytes")
	}
}
