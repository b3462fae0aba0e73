package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"redgo/internal/aof"
)

// checkAOF is `redgo check-aof [--fix] <file.manifest|file.aof>`, which
// does what redis-check-aof 7.0 does, with the same output: it checks a
// multi-part AOF through its manifest, or a single file, and with --fix
// cuts the last file at the end of its last whole command (after asking).
type checkAOF struct {
	in   *bufio.Reader
	out  io.Writer
	line int64 // line counter, carried across the files of a manifest
}

// errExit ends the check with status 1 (the message is already printed).
var errExit = errors.New("exit 1")

const (
	checkOK = iota
	checkEmpty
	checkTruncated
)

func runCheckAOF(args []string, stdin io.Reader, stdout io.Writer) int {
	c := &checkAOF{in: bufio.NewReader(stdin), out: stdout, line: 1}
	var path string
	fix := false
	switch {
	case len(args) == 1:
		path = args[0]
	case len(args) == 2 && args[0] == "--fix":
		path, fix = args[1], true
	default:
		fmt.Fprintf(stdout, "Usage: redgo check-aof [--fix] <file.manifest|file.aof>\n")
		return 1
	}
	var err error
	switch fileKind(path, stdout) {
	case "manifest":
		err = c.multiPart(path, fix)
	case "rdb", "aof":
		err = c.oldStyle(path, fix)
	default:
		err = errExit
	}
	if err != nil {
		return 1
	}
	return 0
}

// fileKind tells a manifest ("file ..."), an RDB-preamble file ("REDIS")
// and a plain AOF apart, as redis-check-aof's getInputFileType.
func fileKind(path string, out io.Writer) string {
	f, err := os.Open(path)
	if err != nil {
		msg := err.Error()
		if e := errors.Unwrap(err); e != nil {
			msg = e.Error()
		}
		fmt.Fprintf(out, "Cannot open file %s: %s\n", path, strings.ToUpper(msg[:1])+msg[1:])
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintf(out, "Cannot stat file: %s\n", path)
		return ""
	}
	head := make([]byte, 5)
	n, _ := io.ReadFull(f, head)
	switch {
	case st.Size() >= 30 && n >= 4 && string(head[:4]) == "file":
		return "manifest"
	case st.Size() >= 8 && n == 5 && string(head) == "REDIS":
		return "rdb"
	}
	return "aof"
}

func (c *checkAOF) oldStyle(path string, fix bool) error {
	fmt.Fprintf(c.out, "Start checking Old-Style AOF\n")
	ret, err := c.single(path, path, true, fix)
	if err != nil {
		return err
	}
	switch ret {
	case checkOK:
		fmt.Fprintf(c.out, "AOF %s is valid\n", path)
	case checkEmpty:
		fmt.Fprintf(c.out, "AOF %s is empty\n", path)
	case checkTruncated:
		fmt.Fprintf(c.out, "Successfully truncated AOF %s\n", path)
	}
	return nil
}

func (c *checkAOF) multiPart(path string, fix bool) error {
	fmt.Fprintf(c.out, "Start checking Multi Part AOF\n")
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(c.out, "Fatal error: can't open the AOF manifest file %s for reading: %v\n", path, err)
		return errExit
	}
	m, err := aof.ParseManifest(data)
	if err != nil {
		fmt.Fprintf(c.out, "\n*** FATAL AOF MANIFEST FILE ERROR ***\n")
		var me *aof.ManifestError
		if errors.As(err, &me) {
			if me.Line > 0 {
				fmt.Fprintf(c.out, "Reading the manifest file, at line %d\n", me.Line)
				fmt.Fprintf(c.out, ">>> '%s'\n", strings.TrimRight(me.Text, "\r\n"))
			}
			fmt.Fprintf(c.out, "%s\n", me.Message)
		}
		return errExit
	}
	dir := filepath.Dir(path)
	files := m.Files()
	for i, info := range files {
		last := i == len(files)-1
		p := filepath.Join(dir, info.Name)
		kind := "INCR"
		if info.Type == aof.TypeBase {
			kind = "BASE"
			if fileKind(p, c.out) == "rdb" {
				fmt.Fprintf(c.out, "Start to check BASE AOF (RDB format).\n")
			} else {
				fmt.Fprintf(c.out, "Start to check BASE AOF (RESP format).\n")
			}
		} else if i == 0 || files[i-1].Type == aof.TypeBase {
			fmt.Fprintf(c.out, "Start to check INCR files.\n")
		}
		ret, err := c.single(info.Name, p, last, fix)
		if err != nil {
			return err
		}
		switch ret {
		case checkOK:
			fmt.Fprintf(c.out, "%s AOF %s is valid\n", kind, info.Name)
		case checkEmpty:
			fmt.Fprintf(c.out, "%s AOF %s is empty\n", kind, info.Name)
		case checkTruncated:
			fmt.Fprintf(c.out, "Successfully truncated AOF %s\n", info.Name)
		}
	}
	fmt.Fprintf(c.out, "All AOF files and manifest are valid\n")
	return nil
}

// single checks one file, as checkSingleAof.
func (c *checkAOF) single(name, path string, last, fix bool) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(c.out, "Cannot open file: %s, aborting...\n", name)
		return 0, errExit
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintf(c.out, "Cannot stat file: %s, aborting...\n", name)
		return 0, errExit
	}
	size := st.Size()
	if size == 0 {
		return checkEmpty, nil
	}
	// An RDB preamble (an RDB-format base, or an old AOF written with
	// aof-use-rdb-preamble) is checked as redis-check-rdb does, then the
	// commands after it.
	var pre int64
	head := make([]byte, 5)
	if n, _ := io.ReadFull(f, head); n == 5 && size >= 8 && string(head) == "REDIS" {
		f.Seek(0, io.SeekStart)
		var ok bool
		if pre, ok = checkRDBImage(name, f, c.out); !ok {
			fmt.Fprintf(c.out, "RDB preamble of AOF file is not sane, aborting.\n")
			return 0, errExit
		}
		fmt.Fprintf(c.out, "RDB preamble is OK, proceeding with AOF tail...\n")
	}
	if _, err := f.Seek(pre, io.SeekStart); err != nil {
		fmt.Fprintf(c.out, "Cannot seek in file: %s, aborting...\n", name)
		return 0, errExit
	}
	r := aof.CheckFrom(f, pre, size, c.line, path)
	c.line = r.Line
	if r.FormatError {
		fmt.Fprintf(c.out, "AOF %s format error\n", name)
	}
	if r.Problem != "" {
		fmt.Fprintf(c.out, "%s\n", r.Problem)
	}
	diff := size - r.OKUpTo
	fmt.Fprintf(c.out, "AOF analyzed: filename=%s, size=%d, ok_up_to=%d, ok_up_to_line=%d, diff=%d\n",
		name, size, r.OKUpTo, r.Line, diff)
	if diff == 0 {
		return checkOK, nil
	}
	if !fix {
		fmt.Fprintf(c.out, "AOF %s is not valid. Use the --fix option to try fixing it.\n", name)
		return 0, errExit
	}
	if !last {
		fmt.Fprintf(c.out, "Failed to truncate AOF %s because it is not the last file\n", name)
		return 0, errExit
	}
	fmt.Fprintf(c.out, "This will shrink the AOF %s from %d bytes, with %d bytes, to %d bytes\n", name, size, diff, r.OKUpTo)
	fmt.Fprintf(c.out, "Continue? [y/N]: ")
	answer, _ := c.in.ReadString('\n')
	if !strings.HasPrefix(strings.ToLower(answer), "y") {
		fmt.Fprintf(c.out, "Aborting...\n")
		return 0, errExit
	}
	if err := f.Truncate(r.OKUpTo); err != nil {
		fmt.Fprintf(c.out, "Failed to truncate AOF %s\n", name)
		return 0, errExit
	}
	return checkTruncated, nil
}
