package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
)

// errCode says why a rule was refused (Redis's errno values).
type errCode int

const (
	errSyntax errCode = iota + 1
	errUnknown
	errKeyAfterAll
	errChannelAfterAll
	errNoSuchPass
	errBadHash
	errDuplicateUser
	errFirstArgOfSub
)

func (e errCode) String() string {
	switch e {
	case errUnknown:
		return "Unknown command or category name in ACL"
	case errSyntax:
		return "Syntax error"
	case errKeyAfterAll:
		return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	case errChannelAfterAll:
		return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	case errNoSuchPass:
		return "The password you are trying to remove from the user does not exist"
	case errBadHash:
		return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	case errDuplicateUser:
		return "Duplicate user found. A user can only be defined once in config files"
	case errFirstArgOfSub:
		return "Allowing first-arg of a subcommand is not supported"
	}
	return "Wrong format"
}

// User flags, in the order ACL LIST and GETUSER show them.
const (
	flagOn = 1 << iota
	flagOff
	flagNoPass
	flagSkipSanitize
	flagSanitize
)

var flagNames = []string{"on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"}

// User is one ACL user. Its permissions are an immutable snapshot
// replaced as a whole by ACL SETUSER, so a connection may check them
// without locks while another changes them.
type User struct {
	Name string
	st   atomic.Pointer[state]
}

// state is a user's flags, passwords and selectors at one moment.
type state struct {
	flags     int
	passwords []string    // SHA-256 hex of each password, in the order added
	selectors []*selector // [0] is the root selector
	// unrestricted: one selector with every command, key and channel;
	// the check is skipped.
	unrestricted bool
	deleted      bool // the user was removed (DELUSER, ACL LOAD)
}

func newState(cat *Catalog, allChannels bool) *state {
	return &state{flags: flagOff, selectors: []*selector{newSelector(cat, true, allChannels)}}
}

func (st *state) clone() *state {
	d := &state{flags: st.flags, passwords: append([]string(nil), st.passwords...)}
	for _, s := range st.selectors {
		d.selectors = append(d.selectors, s.clone())
	}
	return d
}

func (st *state) finish() *state {
	r := st.selectors[0]
	st.unrestricted = len(st.selectors) == 1 && r.allCommands && r.allKeys && r.allChannels
	return st
}

// HashPassword returns the SHA-256 hex digest ACL stores for a password.
func HashPassword(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// apply applies one rule of ACL SETUSER (or of a user line) to st.
// pubsubAll is acl-pubsub-default (allchannels) for reset and new
// selectors.
func (st *state) apply(cat *Catalog, op string, pubsubAll bool) errCode {
	if op == "" {
		return 0
	}
	switch {
	case strings.EqualFold(op, "on"):
		st.flags = st.flags&^flagOff | flagOn
	case strings.EqualFold(op, "off"):
		st.flags = st.flags&^flagOn | flagOff
	case strings.EqualFold(op, "skip-sanitize-payload"):
		st.flags = st.flags&^flagSanitize | flagSkipSanitize
	case strings.EqualFold(op, "sanitize-payload"):
		st.flags = st.flags&^flagSkipSanitize | flagSanitize
	case strings.EqualFold(op, "nopass"):
		st.flags |= flagNoPass
		st.passwords = nil
	case strings.EqualFold(op, "resetpass"):
		st.flags &^= flagNoPass
		st.passwords = nil
	case op[0] == '>' || op[0] == '#':
		h := op[1:]
		if op[0] == '>' {
			h = HashPassword([]byte(op[1:]))
		} else if !validHash(h) {
			return errBadHash
		}
		if !contains(st.passwords, h) {
			st.passwords = append(st.passwords, h)
		}
		st.flags &^= flagNoPass
	case op[0] == '<' || op[0] == '!':
		h := op[1:]
		if op[0] == '<' {
			h = HashPassword([]byte(op[1:]))
		} else if !validHash(h) {
			return errBadHash
		}
		i := index(st.passwords, h)
		if i < 0 {
			return errNoSuchPass
		}
		st.passwords = append(st.passwords[:i:i], st.passwords[i+1:]...)
	case op[0] == '(' && op[len(op)-1] == ')':
		s := newSelector(cat, false, pubsubAll)
		args, ok := splitArgs(op[1 : len(op)-1])
		if !ok {
			return errSyntax
		}
		for _, a := range args {
			if e := s.apply(a); e != 0 {
				return e
			}
		}
		st.selectors = append(st.selectors, s)
	case strings.EqualFold(op, "clearselectors"):
		st.selectors = st.selectors[:1]
	case strings.EqualFold(op, "reset"):
		st.passwords = nil
		st.flags = flagOff | flagSanitize
		r := newSelector(cat, true, pubsubAll)
		st.selectors = []*selector{r}
	default:
		return st.selectors[0].apply(op)
	}
	return 0
}

func contains(list []string, s string) bool { return index(list, s) >= 0 }

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// mergeSelectors joins arguments that form one "(...)" selector split by
// spaces. It returns the index of an unmatched "(" argument when the
// parenthesis is never closed.
func mergeSelectors(args []string) ([]string, int) {
	var out []string
	open := -1
	var cur string
	for i, a := range args {
		if open < 0 && a != "" && a[0] == '(' && a[len(a)-1] != ')' {
			open, cur = i, a
			continue
		}
		if open >= 0 {
			cur += " " + a
			if a != "" && a[len(a)-1] == ')' {
				out = append(out, cur)
				open = -1
			}
			continue
		}
		out = append(out, a)
	}
	if open >= 0 {
		return nil, open
	}
	return out, -1
}

// Enabled reports whether the user may authenticate (on).
func (u *User) Enabled() bool { return u.st.Load().flags&flagOn != 0 }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.st.Load().flags&flagNoPass != 0 }

// Unrestricted reports whether the user may run anything (the check can
// be skipped): one selector with all commands, keys and channels.
func (u *User) Unrestricted() bool { return u.st.Load().unrestricted }

// Deleted reports whether the user was removed.
func (u *User) Deleted() bool { return u.st.Load().deleted }

// CheckPassword reports whether pass authenticates the user.
func (u *User) CheckPassword(pass []byte) bool {
	st := u.st.Load()
	if st.deleted || st.flags&flagOn == 0 {
		return false
	}
	if st.flags&flagNoPass != 0 {
		return true
	}
	h := []byte(HashPassword(pass))
	ok := false
	for _, p := range st.passwords {
		if subtle.ConstantTimeCompare(h, []byte(p)) == 1 {
			ok = true
		}
	}
	return ok
}

// Describe renders the user's rules as ACL LIST shows them (without the
// "user <name> " prefix).
func (u *User) Describe() string { return u.st.Load().describe() }

func (st *state) describe() string {
	var b strings.Builder
	for i, n := range flagNames {
		if st.flags&(1<<i) != 0 {
			b.WriteString(n + " ")
		}
	}
	for _, p := range st.passwords {
		b.WriteString("#" + p + " ")
	}
	for _, s := range st.selectors {
		if s.root {
			b.WriteString(s.describe())
		} else {
			fmt.Fprintf(&b, " (%s)", s.describe())
		}
	}
	return b.String()
}

// SelectorInfo is one selector as ACL GETUSER shows it.
type SelectorInfo struct {
	Commands, Keys, Channels string
}

// Info is a user as ACL GETUSER shows it.
type Info struct {
	Flags     []string
	Passwords []string
	Root      SelectorInfo
	Selectors []SelectorInfo
}

// Info returns what ACL GETUSER shows of the user.
func (u *User) Info() Info {
	st := u.st.Load()
	var in Info
	for i, n := range flagNames {
		if st.flags&(1<<i) != 0 {
			in.Flags = append(in.Flags, n)
		}
	}
	in.Passwords = append([]string{}, st.passwords...)
	for i, s := range st.selectors {
		si := SelectorInfo{Commands: s.describeCommands(), Keys: s.keysString(), Channels: s.channelsString()}
		if i == 0 {
			in.Root = si
		} else {
			in.Selectors = append(in.Selectors, si)
		}
	}
	return in
}
