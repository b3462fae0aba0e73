package commands

import "strconv"

// scanCursor parses a SCAN/HSCAN/SSCAN/ZSCAN cursor as Redis's strtoul-based parser does:
// no leading space, optional sign (a negative value wraps), digits only,
// no overflow; the empty string is cursor 0.
func scanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && isSpace(b[0]) {
		return 0, false
	}
	p := b
	neg := false
	if len(p) > 0 && (p[0] == '+' || p[0] == '-') {
		neg = p[0] == '-'
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if len(p) == 0 {
		return 0, len(b) == 0
	}
	v, err := strconv.ParseUint(string(p), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}
