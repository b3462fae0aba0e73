package obuf

import (
	"strconv"
	"strings"
	"testing"
)

func mem(s string) (int64, bool) {
	mul := int64(1)
	if strings.HasSuffix(s, "mb") {
		s, mul = strings.TrimSuffix(s, "mb"), 1<<20
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mul, err == nil
}

func TestParse(t *testing.T) {
	base, err := Parse(strings.Fields("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"), Limits{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"wrong number", "", ErrArgs},
		{"invalid_class 10mb 10mb 60", "", ErrClass},
		{"master 10mb 10mb 60", "", ErrClass},
		{"normal 10mbs 10mb 60", "", ErrValue},
		{"replica 10mb 10mbs 60", "", ErrValue},
		{"pubsub 10mb 10mb 60s", "", ErrValue},
		{"pubsub 10mb 10mb -1", "", ErrValue},
		{"normal 1mb 2mb 60 bogus 1 1 1", "", ErrClass}, // nothing applied
		{"normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80",
			"normal 1048576 2097152 60 slave 3145728 4194304 70 pubsub 5242880 6291456 80", nil},
		{"PUBSUB 1 2 3", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1 2 3", nil},
	} {
		got, err := Parse(strings.Fields(tc.in), base, mem)
		if err != tc.err {
			t.Errorf("%q: error %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			if got != base {
				t.Errorf("%q: a refused value changed the limits: %v", tc.in, got)
			}
			continue
		}
		if got.String() != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got.String(), tc.want)
		}
	}
}

func TestTrackerOver(t *testing.T) {
	lim := Limit{Hard: 1000, Soft: 100, SoftSeconds: 3}
	var tr Tracker
	steps := []struct {
		used, now int64
		want      bool
	}{
		{50, 10, false},
		{150, 10, false}, // soft passed: the clock starts
		{150, 13, false}, // 3 s: not more than SoftSeconds yet
		{50, 13, false},  // under: the clock stops
		{150, 14, false}, // restarts at 14
		{150, 17, false},
		{150, 18, true}, // more than 3 s past the soft limit
		{1000, 18, true},
	}
	for i, s := range steps {
		if got := tr.Over(s.used, lim, s.now); got != s.want {
			t.Fatalf("step %d (%d bytes at %d): %v, want %v", i, s.used, s.now, got, s.want)
		}
	}
	var fresh Tracker
	if !fresh.Over(1000, lim, 1) || fresh.Over(999, Limit{Hard: 1000}, 1) {
		t.Fatal("the hard limit is reached at exactly Hard bytes")
	}
	if fresh.Over(1<<40, Limit{}, 1) {
		t.Fatal("no limit closed a client")
	}
}
