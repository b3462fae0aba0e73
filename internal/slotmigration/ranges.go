package slotmigration

import (
	"errors"
	"fmt"
	"strconv"

	"redgo/internal/slot"
)

// ParseRanges parses pairs of slots "start end" (inclusive) into a sorted
// list of distinct slots, with CLUSTER ADDSLOTSRANGE's error texts.
func ParseRanges(args [][]byte) ([]int, error) {
	if len(args) == 0 || len(args)%2 != 0 {
		return nil, errors.New("ERR syntax error")
	}
	var seen [slot.Count]bool
	for i := 0; i < len(args); i += 2 {
		a, err1 := parseSlot(args[i])
		b, err2 := parseSlot(args[i+1])
		if err1 != nil {
			return nil, err1
		}
		if err2 != nil {
			return nil, err2
		}
		if a > b {
			return nil, fmt.Errorf("ERR start slot number %d is greater than end slot number %d", a, b)
		}
		for j := a; j <= b; j++ {
			if seen[j] {
				return nil, fmt.Errorf("ERR Slot %d specified multiple times", j)
			}
			seen[j] = true
		}
	}
	var out []int
	for j, ok := range seen {
		if ok {
			out = append(out, j)
		}
	}
	return out, nil
}

func parseSlot(a []byte) (int, error) {
	n, err := strconv.Atoi(string(a))
	if err != nil || n < 0 || n >= slot.Count {
		return 0, errors.New("ERR Invalid or out of range slot")
	}
	return n, nil
}

// Ranges turns a sorted list of slots into "start end" pairs.
func Ranges(slots []int) [][2]int {
	var out [][2]int
	for _, j := range slots {
		if n := len(out); n > 0 && out[n-1][1] == j-1 {
			out[n-1][1] = j
			continue
		}
		out = append(out, [2]int{j, j})
	}
	return out
}

// rangeArgs is Ranges as command arguments.
func rangeArgs(slots []int) [][]byte {
	var out [][]byte
	for _, r := range Ranges(slots) {
		out = append(out, []byte(strconv.Itoa(r[0])), []byte(strconv.Itoa(r[1])))
	}
	return out
}
