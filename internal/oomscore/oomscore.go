// Package oomscore sets the process's Linux OOM-killer score adjustment
// (/proc/self/oom_score_adj) as Redis's oom-score-adj and
// oom-score-adj-values directives do (Redis's setOOMScoreAdj).
//
// With oom-score-adj no (the default) the file is never touched. Turned
// on, the value of the process's class (master or replica) is written,
// added to the value the file held when the adjuster first took control
// (relative, yes) or as is (absolute), clamped to [-1000, 1000]. Turned
// off again, that first value is written back.
//
// The caller's duties:
//  1. Use Check to validate oom-score-adj-values before storing it.
//  2. Call SetMode and SetValues when the directives change (the value at
//     start too), and SetReplica when the role changes.
//  3. A returned error means the file could not be read or written: the
//     adjuster has put its previous state back; refuse the change.
package oomscore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Classes of oom-score-adj-values, in their order.
const (
	Master = iota
	Replica
	BgChild // a forked child: redgo does not fork
	numClasses
)

// ErrValues is the text Redis gives for a value out of range.
const ErrValues = "Invalid oom-score-adj-values, elements must be between -2000 and 2000."

// ErrApply is the text Redis gives when the file cannot be written.
const ErrApply = "Failed to set current oom_score_adj. Check server logs."

// Check validates an oom-score-adj-values value: three integers in
// [-2000, 2000], separated by spaces.
func Check(v string) error {
	_, err := ParseValues(v)
	return err
}

// ParseValues parses an oom-score-adj-values value.
func ParseValues(v string) ([numClasses]int, error) {
	var out [numClasses]int
	f := strings.Fields(v)
	if len(f) != numClasses {
		return out, errors.New("wrong number of arguments")
	}
	for i, s := range f {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < -2000 || n > 2000 {
			return out, errors.New(ErrValues)
		}
		out[i] = int(n)
	}
	return out, nil
}

// Adjuster owns the OOM score of one process.
type Adjuster struct {
	mu       sync.Mutex
	path     string
	mode     string // no, yes, relative, absolute
	values   [numClasses]int
	replica  bool
	adjusted bool // the file holds a value we wrote
	base     int  // the file's value before we first wrote it
	logf     func(format string, args ...any)
}

// New returns an adjuster of the file at path (/proc/self/oom_score_adj
// for the running process), in mode no with Redis's default values; logf
// receives the warnings Redis logs.
func New(path string, logf func(format string, args ...any)) *Adjuster {
	return &Adjuster{path: path, mode: "no", values: [numClasses]int{0, 200, 800}, logf: logf}
}

// SetMode applies oom-score-adj (no, yes, relative, absolute).
func (a *Adjuster) SetMode(mode string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.mode
	a.mode = strings.ToLower(mode)
	return a.applyOr(func() { a.mode = old })
}

// SetValues applies an oom-score-adj-values value (checked by Check).
func (a *Adjuster) SetValues(v string) error {
	vals, err := ParseValues(v)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if vals[Replica] < vals[Master] || vals[BgChild] < vals[Replica] {
		a.logf("# The oom-score-adj-values configuration may not work for non-privileged processes! Please consult the documentation.")
	}
	old := a.values
	a.values = vals
	return a.applyOr(func() { a.values = old })
}

// SetReplica applies a role change: a replica takes the replica class.
func (a *Adjuster) SetReplica(replica bool) error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.replica == replica {
		return nil
	}
	old := a.replica
	a.replica = replica
	return a.applyOr(func() { a.replica = old })
}

// applyOr applies the state; on failure it undoes the change with undo
// and applies the previous state again (Redis's CONFIG SET rollback).
func (a *Adjuster) applyOr(undo func()) error {
	err := a.apply()
	if err != nil {
		undo()
		a.apply()
		return errors.New(ErrApply)
	}
	return nil
}

// apply is Redis's setOOMScoreAdj(-1) (a.mu held).
func (a *Adjuster) apply() error {
	var val int
	switch {
	case a.mode != "no":
		if !a.adjusted {
			b, err := os.ReadFile(a.path)
			if err != nil {
				a.logf("# Unable to read oom_score_adj: %v", err)
				return err
			}
			a.base, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			a.adjusted = true
		}
		class := Master
		if a.replica {
			class = Replica
		}
		val = a.values[class]
		if a.mode != "absolute" {
			val += a.base
		}
		val = min(max(val, -1000), 1000)
	case a.adjusted:
		a.adjusted = false
		val = a.base
	default:
		return nil
	}
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_TRUNC, 0)
	if err == nil {
		_, err = fmt.Fprintf(f, "%d\n", val)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		a.logf("# Unable to write oom_score_adj: %v", err)
	}
	return err
}
