package acl

import "sync"

// Log contexts.
const (
	CtxTopLevel = "toplevel"
	CtxMulti    = "multi"
	CtxLua      = "lua"
)

// groupWindowMs: a denial like a logged one within this time bumps its
// count instead of adding an entry.
const groupWindowMs = 60000

// LogEntry is one ACL LOG entry.
type LogEntry struct {
	Count      int64
	Reason     string // command, key, channel, auth
	Context    string // toplevel, multi, lua
	Object     string // the command, key, channel, or "AUTH"
	Username   string
	CTimeMs    int64  // last update, Unix milliseconds
	ClientInfo string // CLIENT LIST line of the client
}

// ReasonName is the reason field of a denial.
func ReasonName(r Result) string {
	switch r {
	case DeniedCmd:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedChannel:
		return "channel"
	case DeniedAuth:
		return "auth"
	}
	return "unknown"
}

// Log is the ACL security log, newest entry first.
type Log struct {
	mu      sync.Mutex
	entries []*LogEntry
}

// Add records a denial, merging it with a similar recent entry among the
// newest ten (moved to the front), and keeps at most max entries.
func (l *Log) Add(e LogEntry, max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Count = 1
	for i := 0; i < len(l.entries) && i < 10; i++ {
		c := l.entries[i]
		d := c.CTimeMs - e.CTimeMs
		if d < 0 {
			d = -d
		}
		if c.Reason == e.Reason && c.Context == e.Context && d <= groupWindowMs &&
			c.Object == e.Object && c.Username == e.Username {
			c.ClientInfo, c.CTimeMs = e.ClientInfo, e.CTimeMs
			c.Count++
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = c
			return
		}
	}
	l.entries = append([]*LogEntry{&e}, l.entries...)
	if len(l.entries) > max {
		l.entries = l.entries[:max]
	}
}

// Entries returns copies of the newest n entries.
func (l *Log) Entries(n int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, len(l.entries))
	out := make([]LogEntry, n)
	for i := range out {
		out[i] = *l.entries[i]
	}
	return out
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

// Trim keeps at most max entries (acllog-max-len lowered).
func (l *Log) Trim(max int) {
	l.mu.Lock()
	if len(l.entries) > max {
		l.entries = l.entries[:max]
	}
	l.mu.Unlock()
}
