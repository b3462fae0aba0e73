package latency

import "strings"

// point is one sample of a sparkline with its label.
type point struct {
	value float64
	label string
}

// The characters of a filled sparkline: three steps per row, '|' below
// the top of a column.
const fillChars = "_o#"

// sparkline draws seq as Redis's LATENCY GRAPH does: rows text rows per
// chunk of at most cols samples, each sample a column scaled between the
// sequence's minimum and maximum, its label written downwards under it
// after a blank line.
func sparkline(b *strings.Builder, seq []point, cols, rows int) {
	if len(seq) == 0 {
		return
	}
	lo, hi := seq[0].value, seq[0].value
	labels := false
	for _, p := range seq {
		lo, hi = min(lo, p.value), max(hi, p.value)
		labels = labels || p.label != ""
	}
	for off := 0; off < len(seq); off += cols {
		if off != 0 {
			b.WriteByte('\n')
		}
		end := min(off+cols, len(seq))
		sparkRange(b, seq[off:end], lo, hi, rows, labels)
	}
}

func sparkRange(b *strings.Builder, seq []point, lo, hi float64, rows int, labels bool) {
	span := hi - lo
	if span == 0 {
		span = 1
	}
	steps := len(fillChars) * rows
	line := make([]byte, len(seq))
	for row := 0; ; row++ {
		more := false
		for j := range line {
			line[j] = ' '
		}
		for j, p := range seq {
			step := int(float64(int((p.value-lo)*float64(steps))) / span)
			step = min(max(step, 0), steps-1)
			if row < rows {
				more = true
				c := step - (rows-row-1)*len(fillChars)
				switch {
				case c >= 0 && c < len(fillChars):
					line[j] = fillChars[c]
				case c >= len(fillChars):
					line[j] = '|'
				}
				continue
			}
			if labels && row-rows < 1 { // one blank line before the labels
				more = true
				break
			}
			if k := row - rows - 1; len(p.label) > k {
				more = true
				line[j] = p.label[k]
			}
		}
		if !more {
			return
		}
		b.Write(line)
		b.WriteByte('\n')
	}
}
