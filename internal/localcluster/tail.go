package localcluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Tail prints the last lines of the logs of the given ports and, with
// follow, what they append until ctx ends, as tail -f does (a header
// names the node when there are several).
func Tail(ctx context.Context, l Layout, ports []int, lines int, follow bool, w io.Writer) error {
	offsets := make([]int64, len(ports))
	last := -1
	for i, port := range ports {
		b, err := os.ReadFile(l.LogPath(port))
		if err != nil {
			return fmt.Errorf("node %d has no log yet (%v): is it started? (redgo cluster start)", port, err)
		}
		offsets[i] = int64(len(b))
		text := lastLines(string(b), lines)
		if len(ports) > 1 {
			fmt.Fprintf(w, "==> %d <==\n", port)
			last = i
		}
		io.WriteString(w, text)
	}
	for follow {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
		for i, port := range ports {
			copyNew(l.LogPath(port), &offsets[i], func(text string) {
				if len(ports) > 1 && last != i {
					fmt.Fprintf(w, "\n==> %d <==\n", port)
					last = i
				}
				io.WriteString(w, text)
			})
		}
	}
	return nil
}

// copyNew passes what path holds past *off to emit and moves *off; a
// file that shrank (a cleaned log) is read from its start again.
func copyNew(path string, off *int64, emit func(string)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() < *off {
		*off = 0
	}
	if fi.Size() == *off {
		return 0, nil
	}
	buf := make([]byte, fi.Size()-*off)
	n, err := f.ReadAt(buf, *off)
	*off += int64(n)
	if n > 0 {
		emit(string(buf[:n]))
	}
	return n, err
}

// lastLines is the last n lines of text.
func lastLines(text string, n int) string {
	if n <= 0 {
		return ""
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
