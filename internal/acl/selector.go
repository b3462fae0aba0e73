package acl

import (
	"strings"
)

// Key pattern permissions (%R~, %W~, %RW~ and ~).
const (
	PermRead  = 1
	PermWrite = 2
	PermAll   = PermRead | PermWrite
)

type keyPattern struct {
	pattern string
	b       []byte // pattern as bytes, for the matcher (never changed)
	perm    int
}

func (k keyPattern) String() string {
	switch k.perm {
	case PermRead:
		return "%R~" + k.pattern
	case PermWrite:
		return "%W~" + k.pattern
	}
	return "~" + k.pattern
}

// selector is one set of permissions: the root selector of a user or one
// of its (...) selectors.
type selector struct {
	root        bool
	allKeys     bool
	allChannels bool
	allCommands bool
	bits        []uint64         // allowed commands by Command.ID; bit Len() is "future commands"
	firstArgs   map[int][]string // allowed first arguments of a command otherwise denied
	keys        []keyPattern     // key patterns, in the order given
	channels    []string         // channel patterns, in the order given
	cat         *Catalog         // the catalog the bits index
}

func newSelector(cat *Catalog, root, allChannels bool) *selector {
	return &selector{root: root, allChannels: allChannels, cat: cat, bits: make([]uint64, cat.Len()/64+1)}
}

func (s *selector) clone() *selector {
	d := *s
	d.bits = append([]uint64(nil), s.bits...)
	d.keys = append([]keyPattern(nil), s.keys...)
	d.channels = append([]string(nil), s.channels...)
	if s.firstArgs != nil {
		d.firstArgs = make(map[int][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			d.firstArgs[k] = append([]string(nil), v...)
		}
	}
	return &d
}

func (s *selector) bit(id int) bool { return s.bits[id/64]&(1<<(id%64)) != 0 }

func (s *selector) setBit(id int, on bool) {
	if on {
		s.bits[id/64] |= 1 << (id % 64)
	} else {
		s.bits[id/64] &^= 1 << (id % 64)
		s.allCommands = false
	}
}

// future reports whether the selector was given +@all (and so would run
// commands added later).
func (s *selector) future() bool { return s.bit(s.cat.Len()) }

func (s *selector) setAll(on bool) {
	var v uint64
	if on {
		v = ^uint64(0)
	}
	for i := range s.bits {
		s.bits[i] = v
	}
	s.allCommands = on
	s.firstArgs = nil
}

// change allows or denies a command and, for a container, all of its
// subcommands.
func (s *selector) change(cmd *Command, allow bool) {
	s.setBit(cmd.ID, allow)
	delete(s.firstArgs, cmd.ID)
	for _, sub := range cmd.Subs {
		s.setBit(sub.ID, allow)
	}
}

func (s *selector) changeCategory(bit uint32, allow bool) {
	s.cat.walk(func(cmd *Command) {
		if cmd.Cats&bit != 0 {
			s.change(cmd, allow)
		}
	})
}

func (s *selector) countCategory(bit uint32) (on, off int) {
	for _, cmd := range s.cat.all {
		if cmd.Cats&bit != 0 {
			if s.bit(cmd.ID) {
				on++
			} else {
				off++
			}
		}
	}
	return
}

func (s *selector) addFirstArg(id int, arg string) {
	if s.firstArgs == nil {
		s.firstArgs = map[int][]string{}
	}
	for _, a := range s.firstArgs[id] {
		if strings.EqualFold(a, arg) {
			return
		}
	}
	s.firstArgs[id] = append(s.firstArgs[id], arg)
}

// hasSpace reports whether s has a whitespace (C isspace) or NUL byte.
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}

// apply applies one selector rule.
func (s *selector) apply(op string) errCode {
	if op == "" {
		return errSyntax
	}
	switch {
	case strings.EqualFold(op, "allkeys") || op == "~*":
		s.allKeys = true
		s.keys = nil
	case strings.EqualFold(op, "resetkeys"):
		s.allKeys = false
		s.keys = nil
	case strings.EqualFold(op, "allchannels") || op == "&*":
		s.allChannels = true
		s.channels = nil
	case strings.EqualFold(op, "resetchannels"):
		s.allChannels = false
		s.channels = nil
	case strings.EqualFold(op, "allcommands") || strings.EqualFold(op, "+@all"):
		s.setAll(true)
	case strings.EqualFold(op, "nocommands") || strings.EqualFold(op, "-@all"):
		s.setAll(false)
	case op[0] == '~' || op[0] == '%':
		return s.addKeyPattern(op)
	case op[0] == '&':
		if s.allChannels {
			return errChannelAfterAll
		}
		if hasSpace(op[1:]) {
			return errSyntax
		}
		for _, c := range s.channels {
			if c == op[1:] {
				return 0
			}
		}
		s.channels = append(s.channels, op[1:])
	case op[0] == '+' && !strings.HasPrefix(op, "+@"):
		return s.allowCommand(op[1:])
	case op[0] == '-' && !strings.HasPrefix(op, "-@"):
		cmd := s.cat.Lookup(op[1:])
		if cmd == nil {
			return errUnknown
		}
		s.change(cmd, false)
	case strings.HasPrefix(op, "+@") || strings.HasPrefix(op, "-@"):
		bit := CategoryBit(op[2:])
		if bit == 0 {
			return errUnknown
		}
		s.changeCategory(bit, op[0] == '+')
	default:
		return errSyntax
	}
	return 0
}

func (s *selector) addKeyPattern(op string) errCode {
	if s.allKeys {
		return errKeyAfterAll
	}
	perm, off := PermAll, 1
	if op[0] == '%' {
		perm = 0
		for ; off < len(op); off++ {
			switch ch := op[off]; {
			case (ch == 'R' || ch == 'r') && perm&PermRead == 0:
				perm |= PermRead
			case (ch == 'W' || ch == 'w') && perm&PermWrite == 0:
				perm |= PermWrite
			case ch == '~':
				off++
				goto done
			default:
				return errSyntax
			}
		}
	done:
		if perm == 0 { // Redis 7.0 would store a pattern it cannot render
			return errSyntax
		}
	}
	pat := op[min(off, len(op)):]
	if hasSpace(pat) {
		return errSyntax
	}
	for i := range s.keys {
		if s.keys[i].pattern == pat {
			s.keys[i].perm |= perm
			return 0
		}
	}
	s.keys = append(s.keys, keyPattern{pattern: pat, b: []byte(pat), perm: perm})
	s.allKeys = false
	return 0
}

func (s *selector) allowCommand(name string) errCode {
	i := strings.LastIndexByte(name, '|')
	if i < 0 {
		cmd := s.cat.Lookup(name)
		if cmd == nil {
			return errUnknown
		}
		s.change(cmd, true)
		return 0
	}
	base, sub := name[:i], name[i+1:]
	cmd := s.cat.Lookup(base)
	if cmd == nil {
		return errUnknown
	}
	if cmd.Parent != nil {
		return errFirstArgOfSub
	}
	if sub == "" {
		return errSyntax
	}
	if cmd.Subs != nil {
		sc := s.cat.Lookup(name)
		if sc == nil {
			return errUnknown
		}
		s.change(sc, true)
		return 0
	}
	s.addFirstArg(cmd.ID, sub)
	return 0
}

// describeCommands renders the command rules as Redis does: +@all or
// -@all, then the categories that best approximate the bitmap, then the
// single commands that make it exact.
func (s *selector) describeCommands() string {
	var b strings.Builder
	fake := newSelector(s.cat, false, false)
	additive := !s.future()
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		fake.setAll(true)
	}
	temp := newSelector(s.cat, false, false)
	copy(temp.bits, s.bits)
	applied := make([]bool, len(Categories))
	for {
		best, mindiff, maxsame := -1, int(^uint(0)>>1), 0
		for j := range Categories {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(1 << j)
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < mindiff || diff == mindiff && same > maxsame) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		sign, inv := "-@", "+@"
		if additive {
			sign, inv = "+@", "-@"
		}
		fake.changeCategory(1<<best, sign == "+@")
		temp.changeCategory(1<<best, inv == "+@")
		b.WriteString(sign + Categories[best] + " ")
		applied[best] = true
	}
	for _, cmd := range s.cat.top {
		s.describeSingle(&b, fake, cmd)
		for _, sub := range cmd.Subs {
			s.describeSingle(&b, fake, sub)
		}
	}
	out := b.String()
	return out[:len(out)-1]
}

func (s *selector) describeSingle(b *strings.Builder, fake *selector, cmd *Command) {
	user, f := s.bit(cmd.ID), fake.bit(cmd.ID)
	if user != f {
		if user {
			b.WriteByte('+')
		} else {
			b.WriteByte('-')
		}
		b.WriteString(cmd.Name)
		b.WriteByte(' ')
		fake.change(cmd, user)
	}
	if !user {
		for _, a := range s.firstArgs[cmd.ID] {
			b.WriteString("+" + cmd.Name + "|" + a + " ")
		}
	}
}

// keysString is the "keys" field of ACL GETUSER.
func (s *selector) keysString() string {
	if s.allKeys {
		return "~*"
	}
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

// channelsString is the "channels" field of ACL GETUSER.
func (s *selector) channelsString() string {
	if s.allChannels {
		return "&*"
	}
	parts := make([]string, len(s.channels))
	for i, c := range s.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

// describe renders the selector as ACL LIST does.
func (s *selector) describe() string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			b.WriteString(k.String() + " ")
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(s.describeCommands())
	return b.String()
}
