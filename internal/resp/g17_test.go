package resp

import (
	"fmt"
	"math"
	"testing"
)

// AppendG17 is C's %.17g, non-finite values included (DEBUG DIGEST of a
// sorted set with an infinite score formats it this way).
func TestAppendG17(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1.5, "1.5"}, {0.1, "0.10000000000000001"},
		{1e17, "1e+17"}, {1e16, "10000000000000000"}, {1e-5, "1.0000000000000001e-05"}, {-3, "-3"},
	}
	for _, c := range cases {
		if got := string(AppendG17(nil, c.f)); got != c.want {
			t.Errorf("AppendG17(%v) = %q, want %q", c.f, got, c.want)
		}
	}
	// The finite cases agree with Go's %g at 17 digits where C and Go agree.
	for _, f := range []float64{123.456, 1e100, -2.5e-300} {
		if got, want := string(AppendG17(nil, f)), fmt.Sprintf("%.17g", f); got != want {
			t.Errorf("AppendG17(%v) = %q, fmt gives %q", f, got, want)
		}
	}
}
