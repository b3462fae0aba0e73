package acl

// Result is the outcome of a permission check (Redis's ACL_DENIED_*
// values, whose order picks which denial to report).
type Result int

const (
	OK Result = iota
	DeniedCmd
	DeniedKey
	DeniedAuth // only in ACL LOG entries
	DeniedChannel
)

// KeyRef is one key argument of a command: its position in args and
// what the command does with it (Perm* bits: read for key specs with
// "access", write for "insert", "delete" or "update").
type KeyRef struct {
	Pos  int
	Perm int
}

// ChanRef is one channel argument: its position, and whether it is a
// pattern (PSUBSCRIBE), matched literally against the user's patterns.
type ChanRef struct {
	Pos     int
	Pattern bool
}

// Request is one command call to check.
type Request struct {
	Cmd  *Command
	Args [][]byte // Args[0] is the command name
	// Keys and Channels are the key and channel arguments; the caller
	// may leave them out when the user has all keys (NeedsKeys) or all
	// channels (NeedsChannels).
	Keys     []KeyRef
	Channels []ChanRef
}

// NeedsKeys reports whether some selector of the user limits keys (the
// check then needs the request's keys).
func (u *User) NeedsKeys() bool {
	for _, s := range u.st.Load().selectors {
		if !s.allKeys {
			return true
		}
	}
	return false
}

// NeedsChannels reports whether some selector limits channels.
func (u *User) NeedsChannels() bool {
	for _, s := range u.st.Load().selectors {
		if !s.allChannels {
			return true
		}
	}
	return false
}

// Check reports whether the user may run the request and, when not, the
// reason and the position of the key or channel refused. As Redis: the
// first selector that allows the call wins; otherwise a command denial
// loses to a key or channel one, and the later position wins.
func (u *User) Check(r *Request) (Result, int) {
	st := u.st.Load()
	if st.unrestricted {
		return OK, 0
	}
	if st.deleted {
		return DeniedCmd, 0
	}
	res, last := DeniedCmd, 0
	for _, s := range st.selectors {
		got, pos := s.check(r)
		if got == OK {
			return OK, 0
		}
		if got > res || got == res && pos > last {
			res, last = got, pos
		}
	}
	return res, last
}

func (s *selector) check(r *Request) (Result, int) {
	cmd := r.Cmd
	if !s.allCommands && !cmd.NoAuth && !s.bit(cmd.ID) {
		idx := 1
		if cmd.Parent != nil {
			idx = 2
		}
		allowed := false
		if len(r.Args) > idx {
			for _, a := range s.firstArgs[cmd.ID] {
				if equalFold(a, r.Args[idx]) {
					allowed = true
					break
				}
			}
		}
		if !allowed {
			return DeniedCmd, 0
		}
	}
	if !s.allKeys {
		for _, k := range r.Keys {
			if !s.keyAllowed(r.Args[k.Pos], k.Perm) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !s.allChannels {
		for _, c := range r.Channels {
			if !channelAllowed(s.channels, r.Args[c.Pos], c.Pattern, s.cat.match) {
				return DeniedChannel, c.Pos
			}
		}
	}
	return OK, 0
}

func (s *selector) keyAllowed(key []byte, perm int) bool {
	if s.allKeys {
		return true
	}
	for _, p := range s.keys {
		if p.perm&perm != perm {
			continue
		}
		if s.cat.match(p.b, key) {
			return true
		}
	}
	return false
}

func channelAllowed(list []string, ch []byte, pattern bool, match func(p, s []byte) bool) bool {
	for _, p := range list {
		if pattern && p == string(ch) || !pattern && match([]byte(p), ch) {
			return true
		}
	}
	return false
}

// ChannelAllowed reports whether the user may use a channel (or, with
// pattern, a PSUBSCRIBE pattern), as pub/sub revocation checks.
func (u *User) ChannelAllowed(ch []byte, pattern bool) bool {
	st := u.st.Load()
	if st.deleted {
		return false
	}
	for _, s := range st.selectors {
		if s.allChannels || channelAllowed(s.channels, ch, pattern, s.cat.match) {
			return true
		}
	}
	return false
}

func equalFold(a string, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// CheckWithAllKeys reports whether some selector of the user both allows
// the request and grants perm on every key (allkeys, or a "*" pattern
// with perm), as SORT's BY and GET patterns require.
func (u *User) CheckWithAllKeys(r *Request, perm int) bool {
	st := u.st.Load()
	if st.unrestricted {
		return true
	}
	if st.deleted {
		return false
	}
	for _, s := range st.selectors {
		if got, _ := s.check(r); got != OK {
			continue
		}
		if s.allKeys {
			return true
		}
		for _, p := range s.keys {
			if p.perm&perm == perm && p.pattern == "*" {
				return true
			}
		}
	}
	return false
}
