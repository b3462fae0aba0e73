// Package notify is Redis's keyspace notifications without the pub/sub:
// the event classes of notify-keyspace-events (parsed and rendered as
// Redis 7.0 does), and a Notifier that turns an event on a key into the
// __keyspace@<db>__:<key> and __keyevent@<db>__:<event> messages and
// hands them to a publish function.
//
// The caller's duties:
//  1. Fire an event after the change it reports, with the key's shard
//     held, so subscribers see events in the order the changes happened.
//  2. Keep Fire cheap when nothing is enabled: it loads one word and
//     returns; the channel names are only built for an enabled class.
package notify

import (
	"strconv"
	"sync/atomic"
)

// Class is a set of event classes (Redis's NOTIFY_* bits, same values).
type Class uint32

const (
	Keyspace Class = 1 << 0  // K: __keyspace@<db>__:<key> messages
	Keyevent Class = 1 << 1  // E: __keyevent@<db>__:<event> messages
	Generic  Class = 1 << 2  // g: DEL, EXPIRE, RENAME...
	String   Class = 1 << 3  // $
	List     Class = 1 << 4  // l
	Set      Class = 1 << 5  // s
	Hash     Class = 1 << 6  // h
	Zset     Class = 1 << 7  // z
	Expired  Class = 1 << 8  // x: a key deleted because its TTL passed
	Evicted  Class = 1 << 9  // e: a key evicted for maxmemory
	Stream   Class = 1 << 10 // t
	KeyMiss  Class = 1 << 11 // m: a read command found no key (not in A)
	Loaded   Class = 1 << 12 // modules only; never set from a string
	Module   Class = 1 << 13 // d: module events (accepted, never fired)
	NewKey   Class = 1 << 14 // n: a key was created (not in A)

	// All is 'A': every class but m and n.
	All = Generic | String | List | Set | Hash | Zset | Expired | Evicted | Stream | Module
)

// ErrClasses is CONFIG SET's reason for a bad class string.
const ErrClasses = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."

// Parse reads a notify-keyspace-events value as Redis's
// keyspaceEventsStringToFlags: each character adds a class; any other
// character makes the whole value invalid.
func Parse(s string) (Class, bool) {
	var f Class
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			f |= All
		case 'g':
			f |= Generic
		case '$':
			f |= String
		case 'l':
			f |= List
		case 's':
			f |= Set
		case 'h':
			f |= Hash
		case 'z':
			f |= Zset
		case 'x':
			f |= Expired
		case 'e':
			f |= Evicted
		case 'K':
			f |= Keyspace
		case 'E':
			f |= Keyevent
		case 't':
			f |= Stream
		case 'm':
			f |= KeyMiss
		case 'd':
			f |= Module
		case 'n':
			f |= NewKey
		default:
			return 0, false
		}
	}
	return f, true
}

// String renders f as CONFIG GET shows it (Redis's
// keyspaceEventsFlagsToString): A when every class of A is set, else the
// classes one by one, then K, E and m. A hides n.
func (f Class) String() string { return f.render(true) }

// Lossless renders f with every class spelled out (never A), so that
// Parse gives f back.
func (f Class) Lossless() string { return f.render(false) }

func (f Class) render(useA bool) string {
	var b []byte
	if useA && f&All == All {
		b = append(b, 'A')
	} else {
		for _, c := range [...]struct {
			f  Class
			ch byte
		}{{Generic, 'g'}, {String, '$'}, {List, 'l'}, {Set, 's'}, {Hash, 'h'}, {Zset, 'z'},
			{Expired, 'x'}, {Evicted, 'e'}, {Stream, 't'}, {Module, 'd'}, {NewKey, 'n'}} {
			if f&c.f != 0 {
				b = append(b, c.ch)
			}
		}
	}
	if f&Keyspace != 0 {
		b = append(b, 'K')
	}
	if f&Keyevent != 0 {
		b = append(b, 'E')
	}
	if f&KeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// Canonical parses s and renders it losslessly (the value CONFIG SET
// stores; Show renders it for CONFIG GET).
func Canonical(s string) (string, bool) {
	f, ok := Parse(s)
	if !ok {
		return "", false
	}
	return f.Lossless(), true
}

// Show renders a stored (Canonical) value as CONFIG GET shows it.
func Show(stored string) string {
	f, _ := Parse(stored)
	return f.String()
}

// Notifier fires events. The zero value and a nil *Notifier fire nothing.
type Notifier struct {
	flags atomic.Uint32
	// publish delivers one message to the node's own subscribers (not
	// over the cluster bus: every node fires for its own keys).
	publish func(channel, msg []byte)
}

// New returns a Notifier that publishes with publish.
func New(publish func(channel, msg []byte)) *Notifier { return &Notifier{publish: publish} }

// SetClasses sets the enabled classes.
func (n *Notifier) SetClasses(f Class) { n.flags.Store(uint32(f)) }

// Classes returns the enabled classes.
func (n *Notifier) Classes() Class {
	if n == nil {
		return 0
	}
	return Class(n.flags.Load())
}

// Enabled reports whether an event of class c would be published.
func (n *Notifier) Enabled(c Class) bool {
	return n != nil && Class(n.flags.Load())&c != 0
}

// Fire publishes event on key of database db when class c is enabled:
// first the keyspace message (event on the key's channel) when K is set,
// then the keyevent message (the key on the event's channel) when E is.
func (n *Notifier) Fire(c Class, event string, db int, key []byte) {
	if n == nil {
		return
	}
	f := Class(n.flags.Load())
	if f&c == 0 {
		return
	}
	n.fire(f, event, db, key)
}

func (n *Notifier) fire(f Class, event string, db int, key []byte) {
	if f&Keyspace != 0 {
		ch := make([]byte, 0, 16+len(key))
		ch = append(ch, "__keyspace@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		n.publish(ch, []byte(event))
	}
	if f&Keyevent != 0 {
		ch := make([]byte, 0, 16+len(event))
		ch = append(ch, "__keyevent@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		n.publish(ch, key)
	}
}
