package server

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// redisLogWriter prefixes each line as Redis does:
// "1234:M 21 Nov 2026 23:35:15.123 * message".
type redisLogWriter struct {
	mu      sync.Mutex
	out     io.Writer
	pid     int
	replica *atomic.Bool // the role letter: S while it is set, else M
}

func (w *redisLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := strings.TrimRight(string(p), "\n")
	level := "*"
	if strings.HasPrefix(msg, "# ") || strings.HasPrefix(msg, "- ") || strings.HasPrefix(msg, ". ") {
		level, msg = msg[:1], msg[2:]
	}
	now := time.Now()
	role := 'M'
	if w.replica != nil && w.replica.Load() {
		role = 'S'
	}
	_, err := fmt.Fprintf(w.out, "%d:%c %s.%03d %s %s\n", w.pid, role, now.Format("02 Jan 2006 15:04:05"),
		now.Nanosecond()/1e6, level, msg)
	return len(p), err
}

// OpenLog points the server's log at the configured logfile (stderr when
// empty). Lines starting "# " are warnings, as Redis's "#" level.
func (s *Server) OpenLog() error {
	var out io.Writer = os.Stdout
	if f := s.Cfg.Get("logfile"); f != "" {
		file, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("Can't open the log file: %w", err)
		}
		out = file
	}
	s.Log = log.New(&redisLogWriter{out: out, pid: os.Getpid(), replica: &s.isReplica}, "", 0)
	return nil
}

// LogRaw writes text to the log as it is, without the line prefix
// (serverLogRaw with LL_RAW: the startup logo).
func (s *Server) LogRaw(text string) {
	if w, ok := s.Log.Writer().(*redisLogWriter); ok {
		w.mu.Lock()
		defer w.mu.Unlock()
		io.WriteString(w.out, text)
		return
	}
	s.Log.Print(text)
}
