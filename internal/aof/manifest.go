package aof

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"redgo/internal/resp"
)

// File kinds in a manifest, as Redis 7 writes them.
const (
	TypeBase    = 'b'
	TypeHistory = 'h'
	TypeIncr    = 'i'
)

// Info is one line of a manifest: a file, its sequence and its kind.
type Info struct {
	Name string
	Seq  int64
	Type byte
}

// Manifest lists the files of a multi-part AOF (Redis 7): at most one
// base, then history files (to delete), then the incremental files in
// replay order.
type Manifest struct {
	Base    *Info
	History []Info
	Incr    []Info
	// BaseSeq and IncrSeq are the highest sequences used so far.
	BaseSeq, IncrSeq int64
}

// Names derived from appendfilename, as Redis 7.
func ManifestName(prefix string) string     { return prefix + ".manifest" }
func TempManifestName(prefix string) string { return "temp-" + prefix + ".manifest" }
func BaseName(prefix string, seq int64, rdb bool) string {
	if rdb {
		return prefix + "." + strconv.FormatInt(seq, 10) + ".base.rdb"
	}
	return prefix + "." + strconv.FormatInt(seq, 10) + ".base.aof"
}
func IncrName(prefix string, seq int64) string {
	return prefix + "." + strconv.FormatInt(seq, 10) + ".incr.aof"
}

// Clone returns a deep copy.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{BaseSeq: m.BaseSeq, IncrSeq: m.IncrSeq}
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	c.History = append([]Info(nil), m.History...)
	c.Incr = append([]Info(nil), m.Incr...)
	return c
}

// NewBase sets a new base file, turning the previous one into history,
// and returns its name.
func (m *Manifest) NewBase(prefix string, rdb bool) string {
	if m.Base != nil {
		old := *m.Base
		old.Type = TypeHistory
		m.History = append([]Info{old}, m.History...)
	}
	m.BaseSeq++
	m.Base = &Info{Name: BaseName(prefix, m.BaseSeq, rdb), Seq: m.BaseSeq, Type: TypeBase}
	return m.Base.Name
}

// NewIncr appends a new incremental file and returns its name.
func (m *Manifest) NewIncr(prefix string) string {
	m.IncrSeq++
	m.Incr = append(m.Incr, Info{Name: IncrName(prefix, m.IncrSeq), Seq: m.IncrSeq, Type: TypeIncr})
	return m.Incr[len(m.Incr)-1].Name
}

// IncrsToHistory turns every incremental file but the last keep ones into
// history (after a rewrite, the files the new base covers).
func (m *Manifest) IncrsToHistory(keep int) {
	n := len(m.Incr) - keep
	for i := n - 1; i >= 0; i-- {
		h := m.Incr[i]
		h.Type = TypeHistory
		m.History = append([]Info{h}, m.History...)
	}
	m.Incr = append([]Info(nil), m.Incr[n:]...)
}

// Files returns the base (if any) and incremental files in replay order.
func (m *Manifest) Files() []Info {
	var out []Info
	if m.Base != nil {
		out = append(out, *m.Base)
	}
	return append(out, m.Incr...)
}

// Format renders the manifest in Redis's text format: base first, then
// history, then incremental files, one "file NAME seq N type T" line each.
func (m *Manifest) Format() []byte {
	var b bytes.Buffer
	line := func(i Info) {
		name := i.Name
		if needsRepr(name) {
			name = resp.Repr(name)
		}
		fmt.Fprintf(&b, "file %s seq %d type %c\n", name, i.Seq, i.Type)
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, h := range m.History {
		line(h)
	}
	for _, i := range m.Incr {
		line(i)
	}
	return b.Bytes()
}

// needsRepr mirrors sdsneedsrepr: names with spaces, quotes or
// non-printable bytes are written quoted.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == '"' || c == '\n' || c == '\r' || c == '\t' || c == '\a' || c == '\b' ||
			c < 32 || c > 126 || c == ' ' {
			return true
		}
	}
	return false
}

// ManifestError is a manifest that cannot be used, with Redis's wording.
type ManifestError struct {
	Line    int    // 1-based line number, 0 if not about a line
	Text    string // the offending line
	Message string
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (manifest line %d: '%s')", e.Message, e.Line, e.Text)
	}
	return e.Message
}

// ParseManifest parses a manifest as Redis 7's aofLoadManifestFromFile.
func ParseManifest(data []byte) (*Manifest, error) {
	m := &Manifest{}
	if len(data) == 0 {
		return nil, &ManifestError{Message: "Found an empty AOF manifest"}
	}
	var maxSeq int64
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, raw := range lines {
		if len(raw) == 0 {
			continue
		}
		num := i + 1
		if raw[0] == '#' {
			continue
		}
		if raw[len(raw)-1] != '\n' || len(raw) > 1024 {
			return nil, &ManifestError{Line: num, Text: string(raw), Message: "The AOF manifest file contains too long line"}
		}
		text := strings.Trim(string(raw), " \t\r\n")
		bad := &ManifestError{Line: num, Text: text, Message: "Invalid AOF manifest file format"}
		if text == "" {
			return nil, bad
		}
		argv, ok := resp.SplitArgs([]byte(text), nil)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return nil, bad
		}
		var info Info
		for k := 0; k < len(argv); k += 2 {
			key, val := strings.ToLower(string(argv[k])), string(argv[k+1])
			switch key {
			case "file":
				if strings.ContainsAny(val, "/\\") || val == "." || val == ".." {
					return nil, &ManifestError{Line: num, Text: text, Message: "File can't be a path, just a filename"}
				}
				info.Name = val
			case "seq":
				n, err := strconv.ParseInt(val, 10, 64)
				if err != nil {
					return nil, bad
				}
				info.Seq = n
			case "type":
				if len(val) > 0 {
					info.Type = val[0]
				}
			}
		}
		if info.Name == "" || info.Seq == 0 || info.Type == 0 {
			return nil, bad
		}
		switch info.Type {
		case TypeBase:
			if m.Base != nil {
				return nil, &ManifestError{Line: num, Text: text, Message: "Found duplicate base file information"}
			}
			b := info
			m.Base = &b
			m.BaseSeq = info.Seq
		case TypeHistory:
			m.History = append(m.History, info)
		case TypeIncr:
			if info.Seq <= maxSeq {
				return nil, &ManifestError{Line: num, Text: text, Message: "Found a non-monotonic sequence number"}
			}
			m.Incr = append(m.Incr, info)
			m.IncrSeq, maxSeq = info.Seq, info.Seq
		default:
			return nil, &ManifestError{Line: num, Text: text, Message: "Unknown AOF file type"}
		}
	}
	return m, nil
}
