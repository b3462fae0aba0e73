package acl

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"redgo/internal/resp"
)

// Users is the set of ACL users of a server. The "default" user always
// exists. Methods are safe for concurrent use.
type Users struct {
	cat       *Catalog
	pubsubAll atomic.Bool // acl-pubsub-default is allchannels

	mu    sync.RWMutex
	users map[string]*User
	def   *User
	// restricted counts users that are not unrestricted; 0 lets the
	// server skip checks entirely.
	anyRestricted atomic.Bool
}

// NewUsers returns a set holding the default user (on, nopass, ~* &*
// +@all).
func NewUsers(cat *Catalog) *Users {
	us := &Users{cat: cat, users: map[string]*User{}}
	us.def = &User{Name: "default"}
	us.def.st.Store(defaultState(cat))
	us.users["default"] = us.def
	return us
}

func defaultState(cat *Catalog) *state {
	st := newState(cat, false)
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		st.apply(cat, op, false)
	}
	return st.finish()
}

// Catalog returns the command catalog the users' rules refer to.
func (us *Users) Catalog() *Catalog { return us.cat }

// SetPubsubDefault sets acl-pubsub-default: allchannels (true) or
// resetchannels, for users and selectors created from now on.
func (us *Users) SetPubsubDefault(all bool) { us.pubsubAll.Store(all) }

// Default returns the default user.
func (us *Users) Default() *User { return us.def }

// Get returns a user by name, nil if there is none.
func (us *Users) Get(name string) *User {
	us.mu.RLock()
	defer us.mu.RUnlock()
	return us.users[name]
}

// Names returns the user names sorted.
func (us *Users) Names() []string {
	us.mu.RLock()
	defer us.mu.RUnlock()
	out := make([]string, 0, len(us.users))
	for n := range us.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// List returns ACL LIST's lines, sorted by user name.
func (us *Users) List() []string {
	var out []string
	for _, n := range us.Names() {
		if u := us.Get(n); u != nil {
			out = append(out, "user "+n+" "+u.Describe())
		}
	}
	return out
}

// AnyRestricted reports whether some user has less than every
// permission; when false no permission check is needed.
func (us *Users) AnyRestricted() bool { return us.anyRestricted.Load() }

func (us *Users) recount() {
	any := false
	for _, u := range us.users {
		if !u.st.Load().unrestricted {
			any = true
		}
	}
	us.anyRestricted.Store(any)
}

// SetUser is ACL SETUSER: it applies rules to the user name (created
// when missing). Either every rule applies or none does; the error text
// is Redis's (without "ERR ").
func (us *Users) SetUser(name string, rules []string) (*User, error) {
	if hasSpace(name) {
		return nil, fmt.Errorf("Usernames can't contain spaces or null characters")
	}
	merged, bad := mergeSelectors(rules)
	if bad >= 0 {
		return nil, fmt.Errorf("Unmatched parenthesis in acl selector starting at '%s'.", rules[bad])
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	u := us.users[name]
	var st *state
	if u != nil {
		st = u.st.Load().clone()
	} else {
		st = newState(us.cat, us.pubsubAll.Load())
	}
	for _, op := range merged {
		if e := st.apply(us.cat, op, us.pubsubAll.Load()); e != 0 {
			return nil, fmt.Errorf("Error in ACL SETUSER modifier '%s': %s", op, e)
		}
	}
	if u == nil {
		u = &User{Name: name}
		us.users[name] = u
	}
	u.st.Store(st.finish())
	us.recount()
	return u, nil
}

// Delete is ACL DELUSER: it removes the named users (never "default")
// and returns those removed.
func (us *Users) Delete(names []string) ([]*User, error) {
	for _, n := range names {
		if n == "default" {
			return nil, fmt.Errorf("The 'default' user cannot be removed")
		}
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	var out []*User
	for _, n := range names {
		if u := us.users[n]; u != nil {
			delete(us.users, n)
			markDeleted(u)
			out = append(out, u)
		}
	}
	us.recount()
	return out, nil
}

func markDeleted(u *User) {
	st := u.st.Load().clone()
	st.deleted = true
	st.unrestricted = false
	u.st.Store(st)
}

// SetDefaultPassword is requirepass: "" makes the default user nopass,
// otherwise its only password.
func (us *Users) SetDefaultPassword(pass string) {
	us.mu.Lock()
	defer us.mu.Unlock()
	st := us.def.st.Load().clone()
	st.apply(us.cat, "resetpass", false)
	if pass == "" {
		st.apply(us.cat, "nopass", false)
	} else {
		st.apply(us.cat, ">"+pass, false)
	}
	us.def.st.Store(st.finish())
	us.recount()
}

// Authenticate returns the user name and pass authenticate, or nil.
func (us *Users) Authenticate(name string, pass []byte) *User {
	u := us.Get(name)
	if u == nil || !u.CheckPassword(pass) {
		return nil
	}
	return u
}

// ValidateRules checks the rules of a config file "user" line as Redis
// does before loading: unknown commands and categories are not errors
// yet. It returns the index in args (counting from the user name's
// rules) of the bad rule and the reason.
func (us *Users) ValidateRules(rules []string) (int, string, bool) {
	merged, bad := mergeSelectors(rules)
	if bad >= 0 {
		return bad, "Syntax error", false
	}
	st := newState(us.cat, us.pubsubAll.Load())
	for j, op := range merged {
		if e := st.apply(us.cat, op, us.pubsubAll.Load()); e != 0 && e != errUnknown {
			return j, e.String(), false
		}
	}
	return 0, "", true
}

// LoadConfigured creates the users of config file "user" lines (each
// line's arguments after "user": the name, then rules), as Redis does at
// startup. A line naming "default" resets the default user first.
func (us *Users) LoadConfigured(lines [][]string) error {
	for _, l := range lines {
		name := l[0]
		if hasSpace(name) {
			return fmt.Errorf("Spaces not allowed in ACL usernames")
		}
		merged, _ := mergeSelectors(l[1:])
		us.mu.Lock()
		u := us.users[name]
		var st *state
		if u == nil {
			st = newState(us.cat, us.pubsubAll.Load())
		} else {
			st = u.st.Load().clone()
			st.apply(us.cat, "reset", us.pubsubAll.Load())
		}
		for _, op := range merged {
			if e := st.apply(us.cat, op, us.pubsubAll.Load()); e != 0 {
				us.mu.Unlock()
				return fmt.Errorf("Error loading ACL rule '%s' for the user named '%s': %s", op, name, e)
			}
		}
		if u == nil {
			u = &User{Name: name}
			us.users[name] = u
		}
		u.st.Store(st.finish())
		us.recount()
		us.mu.Unlock()
	}
	return nil
}

// Render returns the ACL file text of the current users (ACL SAVE).
func (us *Users) Render() string {
	var b strings.Builder
	for _, l := range us.List() {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Load replaces every user by the users of an ACL file's text (ACL
// LOAD). filename names the file in errors. Either the whole file loads
// or nothing changes; the error lists every bad line as Redis does. The
// users that were replaced or removed are returned (their clients must
// be disconnected), the default user excepted: it keeps its identity.
func (us *Users) Load(filename, text string) ([]*User, error) {
	var errs strings.Builder
	fresh := map[string]*state{}
	var order []string
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", filename, n)
			continue
		}
		name := argv[1]
		if hasSpace(name) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", filename, n, name)
			continue
		}
		if _, dup := fresh[name]; dup {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", name, n)
			continue
		}
		st := newState(us.cat, us.pubsubAll.Load())
		fresh[name] = st
		order = append(order, name)
		merged, bad := mergeSelectors(argv[2:])
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", filename, n)
		}
		syntax := false
		for _, op := range merged {
			op = strings.Trim(op, "\t\r\n")
			e := st.apply(us.cat, op, us.pubsubAll.Load())
			switch {
			case e == errUnknown:
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", filename, n, op, e)
			case e != 0 && !syntax:
				fmt.Fprintf(&errs, "%s:%d: %s. ", filename, n, e)
				syntax = true
			}
		}
	}
	if errs.Len() > 0 {
		errs.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return nil, fmt.Errorf("%s", errs.String())
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	var gone []*User
	for name, u := range us.users {
		if name != "default" {
			markDeleted(u)
			gone = append(gone, u)
		}
	}
	us.users = map[string]*User{"default": us.def}
	for _, name := range order {
		st := fresh[name].finish()
		if name == "default" {
			us.def.st.Store(st)
			continue
		}
		u := &User{Name: name}
		u.st.Store(st)
		us.users[name] = u
	}
	if _, ok := fresh["default"]; !ok {
		us.def.st.Store(defaultState(us.cat))
	}
	us.recount()
	return gone, nil
}

// splitArgs splits a selector's inner text as Redis's sdssplitargs; an
// unbalanced quote yields no arguments.
func splitArgs(s string) ([]string, bool) {
	args, ok := resp.SplitArgs([]byte(s), nil)
	if !ok {
		return nil, true
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out, true
}
