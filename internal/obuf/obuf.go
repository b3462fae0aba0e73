// Package obuf owns the client output buffer limits of the
// client-output-buffer-limit directive: their syntax, validated as Redis
// 7.0 does (config.c: updateClientOutputBufferLimit), and the rule that
// says when a client whose output waits unsent has to be closed
// (networking.c: checkClientOutputBufferLimits).
package obuf

import (
	"errors"
	"strconv"
	"strings"
)

// Class is a client's kind as far as its output limit goes.
type Class int

// The classes, in the order CONFIG GET lists them.
const (
	Normal Class = iota
	Replica
	Pubsub
	nClasses
)

var classNames = [nClasses]string{"normal", "slave", "pubsub"}

// Limit is one class's limit. Zero fields are off.
type Limit struct {
	Hard, Soft  int64 // bytes
	SoftSeconds int64 // how long the soft limit may be passed
}

// Limits are the limits of every class.
type Limits [nClasses]Limit

// The errors of a malformed value, Redis's texts.
var (
	ErrArgs  = errors.New("Wrong number of arguments in buffer limit configuration.")
	ErrClass = errors.New("Invalid client class specified in buffer limit configuration.")
	ErrValue = errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
)

// Parse reads words, groups of <class> <hard> <soft> <soft seconds>, and
// returns base with the classes they name replaced. Nothing is applied
// unless every group is valid. memory reads a size with Redis's units
// (1mb, 64k...).
func Parse(words []string, base Limits, memory func(string) (int64, bool)) (Limits, error) {
	if len(words)%4 != 0 {
		return base, ErrArgs
	}
	out := base
	for i := 0; i < len(words); i += 4 {
		class, ok := classByName(words[i])
		if !ok {
			return base, ErrClass
		}
		hard, okh := memory(words[i+1])
		soft, oks := memory(words[i+2])
		secs, err := strconv.ParseInt(words[i+3], 10, 32)
		if !okh || !oks || hard < 0 || soft < 0 || err != nil || secs < 0 {
			return base, ErrValue
		}
		out[class] = Limit{Hard: hard, Soft: soft, SoftSeconds: secs}
	}
	return out, nil
}

// classByName is getClientTypeByName without "master", which has no
// limit of its own.
func classByName(s string) (Class, bool) {
	switch strings.ToLower(s) {
	case "normal":
		return Normal, true
	case "slave", "replica":
		return Replica, true
	case "pubsub":
		return Pubsub, true
	}
	return 0, false
}

// String is the value as CONFIG GET shows it: every class, in bytes.
func (l Limits) String() string {
	var b strings.Builder
	for c, lim := range l {
		if c > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(classNames[c])
		for _, n := range []int64{lim.Hard, lim.Soft, lim.SoftSeconds} {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(n, 10))
		}
	}
	return b.String()
}

// Of returns the limit of class c.
func (l *Limits) Of(c Class) Limit { return l[c] }

// Tracker is one client's soft-limit clock.
type Tracker struct {
	softSince int64 // unix seconds the soft limit was first seen passed; 0: not passed
}

// Over reports whether a client with used bytes of output waiting must
// be closed at unix second now: used reached the hard limit, or has
// stayed at or past the soft one for more than its seconds. Each call
// with used under the soft limit restarts the soft clock.
func (t *Tracker) Over(used int64, lim Limit, now int64) bool {
	if lim.Hard > 0 && used >= lim.Hard {
		return true
	}
	if lim.Soft == 0 || used < lim.Soft {
		t.softSince = 0
		return false
	}
	if t.softSince == 0 {
		t.softSince = now
		return false
	}
	return now-t.softSince > lim.SoftSeconds
}
