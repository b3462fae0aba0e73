package server

import (
	"io"
	"sync/atomic"
)

// loadingReader reads a master's snapshot and turns the server's loading
// state on once more than `after` bytes were read. Redis blocks while it
// loads and answers -LOADING only when it processes events in between,
// every loading-process-events-interval-bytes (2 MB): a short load (an
// empty or small dataset) shows no -LOADING to anyone, only a delay.
// Here the keys are locked for the whole load, so until the flag turns on
// a command with keys waits for the load, one without keys (CLUSTER
// NODES, INFO) is answered.
type loadingReader struct {
	r       io.Reader
	n       int64
	after   int64
	loading *atomic.Bool
}

func (l *loadingReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.n <= l.after {
		if l.n += int64(n); l.n > l.after {
			l.loading.Store(true)
		}
	}
	return n, err
}
