package persist

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// testHost is a Host without a server: commands run through commands.Exec
// (data commands only), the log is kept, goroutines are tracked.
type testHost struct {
	cfg   *config.Config
	ks    *keyspace.Keyspace
	quit  chan struct{}
	wg    sync.WaitGroup
	dirty atomic.Int64

	mu    sync.Mutex
	log   []string
	props []Propagator
}

func newTestHost(t testing.TB, args ...string) *testHost {
	t.Helper()
	cfg, err := config.Load("", append([]string{"--port", "0", "--save", ""}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return &testHost{cfg: cfg, ks: keyspace.New(int(cfg.Int("databases"))), quit: make(chan struct{})}
}

// close stops the goroutines started through Go.
func (h *testHost) close() {
	close(h.quit)
	h.wg.Wait()
}

func (h *testHost) Config() *config.Config       { return h.cfg }
func (h *testHost) Keyspace() *keyspace.Keyspace { return h.ks }
func (h *testHost) Done() <-chan struct{}        { return h.quit }
func (h *testHost) Dirty() int64                 { return h.dirty.Load() }
func (h *testHost) Saved(n int64)                { h.dirty.Add(-n) }
func (h *testHost) PauseWrites(on bool)          {}

func (h *testHost) Logf(format string, args ...any) {
	h.mu.Lock()
	h.log = append(h.log, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *testHost) Go(fn func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
}

func (h *testHost) AddPropagator(p Propagator) {
	h.mu.Lock()
	h.props = append(h.props, p)
	h.mu.Unlock()
}

func (h *testHost) ReplInfo() (ReplInfo, bool) { return ReplInfo{}, false }

func (h *testHost) ExecLoaded(ks *keyspace.Keyspace, db int, args [][]byte, w *resp.Writer) {
	commands.Exec(ks, db, w, args)
}
