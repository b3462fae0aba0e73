// Package config reads redis.conf-syntax configuration (a file, then
// "--name value" arguments) and serves CONFIG GET/SET/REWRITE. Values are
// validated against the directive table in params.go; errors name the
// file line, as Redis does.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"redgo/internal/obuf"
	"redgo/internal/oomscore"
	"redgo/internal/resp"
)

// Version is the Redis version redgo reports being compatible with.
const Version = "7.0.15"

// Config holds the current value of every directive.
type Config struct {
	mu     sync.RWMutex
	vals   map[string]string // canonical name -> canonical value
	params map[string]*Param // by name and alias
	File   string            // absolute path of the config file, "" if none
	hooks  map[string]func(value string) error

	seenNames map[string]bool // directives given while loading

	// Users are the "user" lines, in order: ACL users to create at
	// startup (the server validates and loads them).
	Users []UserLine
	// RewriteUsers, when set, gives the "user" lines CONFIG REWRITE
	// writes in place of the file's (none when users live in an aclfile).
	RewriteUsers func() []string
	// Renames are the "rename-command <old> <new>" lines, in order (the
	// server applies them; "" as the new name disables the command).
	// CONFIG REWRITE keeps them as they are.
	Renames []UserLine
}

// UserLine is one "user <name> [rule ...]" line of the config file.
type UserLine struct {
	Line int
	Text string
	Args []string // the name, then the rules
}

// New returns a config holding the defaults.
func New() *Config {
	c := &Config{vals: map[string]string{}, params: map[string]*Param{}, hooks: map[string]func(string) error{}}
	for k := range Params {
		p := &Params[k]
		c.params[p.Name] = p
		if p.Alias != "" {
			c.params[p.Alias] = p
		}
		c.vals[p.Name] = p.Default
	}
	return c
}

// FileError is a bad line in a config file (or in the arguments).
type FileError struct {
	File string // "" when the line came from the command line
	Line int
	Text string
	Msg  string
}

func (e *FileError) Error() string {
	where := "the configuration file"
	if e.File != "" {
		where = "the configuration file '" + e.File + "'"
	}
	return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\nReading %s, at line %d\n>>> '%s'\n%s",
		Version, where, e.Line, e.Text, e.Msg)
}

// Load builds a config from a file path ("" for none, "-" for stdin) and
// command-line style arguments ("--port", "7000", ...).
func Load(path string, args []string) (*Config, error) {
	c := New()
	var text strings.Builder
	if path != "" {
		var data []byte
		var err error
		if path == "-" {
			data, err = readAllStdin()
		} else {
			data, err = os.ReadFile(path)
			if abs, e := filepath.Abs(path); e == nil {
				c.File = abs
			}
		}
		if err != nil {
			return nil, fmt.Errorf("Fatal error, can't open config file '%s': %w", path, err)
		}
		text.Write(data)
		text.WriteByte('\n')
	}
	argText, err := ArgsToLines(args)
	if err != nil {
		return nil, err
	}
	text.WriteString(argText)
	if err := c.parse(text.String()); err != nil {
		var fe *FileError
		if errors.As(err, &fe) && fe.File == "" && path != "" && path != "-" {
			fileLines := strings.Count(text.String(), "\n") - strings.Count(argText, "\n")
			if fe.Line <= fileLines {
				fe.File = path
			} else {
				fe.Line -= fileLines // report the position among the arguments
				fe.File = ""
			}
		}
		return nil, err
	}
	return c, nil
}

func readAllStdin() ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := os.Stdin.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, nil
		}
	}
}

// ArgsToLines turns "--port 7000 --save ” " style arguments into config
// lines, as redis-server does: an option's values are quoted (so an error
// shows 'port "6379" "6380"'), and an argument starting with "--" is a
// value, not an option, while the option before it has none yet
// ("--port --loglevel verbose" is port "--loglevel" "verbose"); a --save
// followed by an option or nothing saves nothing.
func ArgsToLines(args []string) (string, error) {
	var b strings.Builder
	first, handled := true, true // handled: the last option has a value
	for j, a := range args {
		if handled && strings.HasPrefix(a, "--") && len(a) > 2 {
			if !first {
				b.WriteByte('\n')
			}
			first = false
			b.WriteString(a[2:])
			b.WriteByte(' ')
			parts, ok := resp.SplitArgs([]byte(a), nil)
			if !ok || len(parts) != 1 {
				continue // "--port 6380" in one argument: its value is in it
			}
			handled = false
			if strings.EqualFold(a, "--save") && (j == len(args)-1 || strings.HasPrefix(args[j+1], "--")) {
				b.WriteString(`""`)
				handled = j != len(args)-1
			}
			continue
		}
		// (Before any option, a value still goes on the first line, as
		// in Redis: "loglevel verbose --port 7000" works.)
		first = false
		b.WriteString(resp.Repr(a))
		b.WriteByte(' ')
		handled = true
	}
	if !first {
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// quote renders s as one argument for SplitArgs: as is when it needs
// no quotes, else as sdscatrepr quotes it (CONFIG REWRITE's lines).
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n\"'\\") {
		return s
	}
	return resp.Repr(s)
}

func (c *Config) parse(text string) error {
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fe := func(msg string) error { return &FileError{Line: n + 1, Text: line, Msg: msg} }
		bargs, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			return fe("Unbalanced quotes in configuration line")
		}
		if len(bargs) == 0 {
			continue
		}
		name := strings.ToLower(string(bargs[0]))
		vals := make([]string, len(bargs)-1)
		for k, a := range bargs[1:] {
			vals[k] = string(a)
		}
		if name == "include" {
			if len(vals) != 1 {
				return fe("Bad directive or wrong number of arguments")
			}
			data, err := os.ReadFile(vals[0])
			if err != nil {
				return fe(fmt.Sprintf("Can't open included file: %v", err))
			}
			if err := c.parse(string(data)); err != nil {
				var fe *FileError
				if errors.As(err, &fe) && fe.File == "" {
					fe.File = vals[0]
				}
				return err
			}
			continue
		}
		if name == "user" && len(vals) >= 1 {
			c.Users = append(c.Users, UserLine{Line: n + 1, Text: line, Args: vals})
			continue
		}
		if name == "loadmodule" {
			return fe("Modules are not supported by redgo")
		}
		if name == "rename-command" {
			if len(vals) != 2 {
				return fe("Bad directive or wrong number of arguments")
			}
			c.Renames = append(c.Renames, UserLine{Line: n + 1, Text: line, Args: vals})
			continue
		}
		p := c.params[name]
		if p == nil {
			return fe("Bad directive or wrong number of arguments")
		}
		if p.Kind != Multi && len(vals) != 1 {
			return fe("wrong number of arguments")
		}
		if p.Kind == Multi && len(vals) == 1 {
			// One value of a multi-argument directive is split at its
			// spaces, as Redis does (--replicaof "host port").
			vals = strings.Split(vals[0], " ")
		}
		v, err := p.normalize(vals)
		if err != nil {
			return fe(err.Error())
		}
		v = c.merge(p, v)
		if p.Name == "save" && c.vals["save"] != p.Default && v != "" && c.seen(p.Name) {
			// several save lines accumulate, as Redis
			v = c.vals["save"] + " " + v
		}
		c.vals[p.Name] = v
		c.markSeen(p.Name)
	}
	return nil
}

func (c *Config) seen(name string) bool { return c.seenNames[name] }

// merge combines a directive's new value with the one in force where
// Redis does: client-output-buffer-limit replaces only the classes it
// names, and shows every class in bytes. Callers hold c.mu or own c.
func (c *Config) merge(p *Param, v string) string {
	if p.Name != "client-output-buffer-limit" {
		return v
	}
	base, _ := obuf.Parse(strings.Fields(c.vals[p.Name]), obuf.Limits{}, ParseMemory)
	l, _ := obuf.Parse(strings.Fields(v), base, ParseMemory)
	return l.String()
}

func (c *Config) markSeen(name string) {
	if c.seenNames == nil {
		c.seenNames = map[string]bool{}
	}
	c.seenNames[name] = true
}

// normalize validates vals and returns the canonical value.
// shutdownFlags are shutdown-on-sigterm's and shutdown-on-sigint's flags
// in the order CONFIG GET shows them ("default" is none of them); the
// last, redgo's own, hands a master's slots to a replica first
// (internal/server handover.go). The error lists Redis's.
var shutdownFlags = []string{"save", "nosave", "now", "force", "failover"}

// normalizeShutdownFlags checks a shutdown-on-sig* value as Redis's
// flags enum does and returns its flags in their own order.
func normalizeShutdownFlags(vals []string) (string, error) {
	var words []string
	for _, v := range vals {
		words = append(words, strings.Fields(v)...)
	}
	bad := errors.New("argument(s) must be one of the following: default, save, nosave, now, force")
	if len(words) == 0 {
		return "", bad
	}
	set := map[string]bool{}
	for _, w := range words {
		w = strings.ToLower(w)
		if w != "default" && !slices.Contains(shutdownFlags, w) {
			return "", bad
		}
		set[w] = true
	}
	if set["save"] && set["nosave"] {
		return "", errors.New("shutdown options SAVE and NOSAVE can't be used simultaneously")
	}
	var out []string
	for _, f := range shutdownFlags {
		if set[f] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return "default", nil
	}
	return strings.Join(out, " "), nil
}

func (p *Param) normalize(vals []string) (string, error) {
	if p.Kind == Multi {
		switch p.Name {
		case "save":
			return normalizeSave(vals)
		case "latency-tracking-info-percentiles":
			return normalizePercentiles(vals)
		case "client-output-buffer-limit":
			// Checked alone here; merged into the classes in force by
			// merge.
			v := strings.Join(vals, " ") // a lone "" changes nothing, as Redis
			_, err := obuf.Parse(strings.Fields(v), obuf.Limits{}, ParseMemory)
			return v, err
		case "oom-score-adj-values":
			v := strings.Join(vals, " ")
			return v, oomscore.Check(v)
		case "shutdown-on-sigterm", "shutdown-on-sigint":
			return normalizeShutdownFlags(vals)
		case "replicaof": // setConfigReplicaOfOption
			if len(vals) != 2 {
				return "", errors.New("wrong number of arguments")
			}
			if !(strings.EqualFold(vals[0], "no") && strings.EqualFold(vals[1], "one")) {
				if port, err := strconv.Atoi(vals[1]); err != nil || port < 0 || port > 65535 {
					return "", errors.New("Invalid master port")
				}
			}
			return strings.Join(vals, " "), nil
		}
		return strings.Join(vals, " "), nil
	}
	v := vals[0]
	if p.Canon != nil {
		return p.Canon(v)
	}
	if p.Check != nil {
		if err := p.Check(v); err != nil {
			return "", err
		}
	}
	switch p.Kind {
	case Bool:
		switch strings.ToLower(v) {
		case "yes":
			return "yes", nil
		case "no":
			return "no", nil
		}
		return "", errors.New("argument must be 'yes' or 'no'")
	case Int:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", errors.New("argument couldn't be parsed into an integer")
		}
		if n < p.Min || n > p.Max {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", p.Min, p.Max)
		}
		return strconv.FormatInt(n, 10), nil
	case Memory:
		n, ok := ParseMemory(v)
		if !ok {
			return "", errors.New("argument must be a memory value")
		}
		if n < p.Min || n > p.Max {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", p.Min, p.Max)
		}
		return strconv.FormatInt(n, 10), nil
	case Enum:
		lv := strings.ToLower(v)
		for _, x := range p.Enum {
			if x == lv {
				return x, nil
			}
		}
		return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(p.Enum, ", "))
	}
	return v, nil
}

func normalizeSave(vals []string) (string, error) {
	if len(vals) == 0 || len(vals) == 1 && vals[0] == "" {
		return "", nil // "save" alone or save "": no save points, as Redis
	}
	if len(vals) == 1 {
		// One argument holding the pairs (save "3600 1 300 100"): split
		// by spaces, as Redis 7.0 does for its multi-argument directives.
		vals = strings.Fields(vals[0])
	}
	if len(vals)%2 != 0 {
		return "", errors.New("Invalid save parameters")
	}
	for i, v := range vals {
		// seconds at least 1, changes at least 0
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || i%2 == 0 && n < 1 {
			return "", errors.New("Invalid save parameters")
		}
	}
	return strings.Join(vals, " "), nil
}

// ParseMemory parses "100", "100b", "1k", "1kb", "2mb", "1gb" (k = 1000, kb = 1024).
func ParseMemory(v string) (int64, bool) {
	l := strings.ToLower(v)
	mul := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(l, suf.s) {
			l, mul = l[:len(l)-len(suf.s)], suf.m
			break
		}
	}
	n, err := strconv.ParseInt(l, 10, 64)
	if err != nil {
		return 0, false
	}
	return n * mul, true
}

// Get returns the value of a directive (by name or alias).
func (c *Config) Get(name string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if p := c.params[name]; p != nil {
		return c.vals[p.Name]
	}
	return ""
}

// Int returns an integer directive's value.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Get(name), 10, 64)
	return n
}

// Bool returns a yes/no directive's value.
func (c *Config) Bool(name string) bool { return c.Get(name) == "yes" }

// OnSet registers fn to apply a new value of name at run time; it runs
// under CONFIG SET before the value is stored and may refuse it.
func (c *Config) OnSet(name string, fn func(value string) error) { c.hooks[name] = fn }

// Match returns name/value pairs of the directives matching any pattern,
// sorted by name. Aliases are reported under their own name when the
// pattern names them exactly, as Redis.
func (c *Config) Match(patterns []string, match func(pattern, name string) bool) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := map[string]bool{}
	var out [][2]string
	for _, p := range Params {
		for _, name := range []string{p.Name, p.Alias} {
			if name == "" || seen[name] {
				continue
			}
			for _, pat := range patterns {
				lp := strings.ToLower(pat)
				if p.Hidden && lp != name {
					continue
				}
				if match(lp, name) {
					seen[name] = true
					out = append(out, [2]string{name, p.show(c.vals[p.Name])})
					break
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// SetError is a refused CONFIG SET; Error() is the full reply text.
type SetError struct{ Msg string }

func (e *SetError) Error() string { return e.Msg }

// Set applies CONFIG SET name value [name value ...] atomically: every
// pair is validated first, then hooks run and values are stored.
func (c *Config) Set(pairs [][2]string) error { return c.SetAs(pairs, true) }

// SetAs is Set for a client that may (protectedOK) or may not set the
// protected directives (enable-protected-configs).
func (c *Config) SetAs(pairs [][2]string, protectedOK bool) error {
	type change struct {
		p *Param
		v string
	}
	var changes []change
	for _, kv := range pairs {
		p := c.params[strings.ToLower(kv[0])]
		if p == nil {
			return &SetError{fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", kv[0])}
		}
		if !p.Mutable {
			return &SetError{fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config", kv[0])}
		}
		if p.Protected && !protectedOK {
			return &SetError{fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - can't set protected config", kv[0])}
		}
		var vals []string
		if p.Kind == Multi {
			parts, ok := resp.SplitArgs([]byte(kv[1]), nil)
			if !ok {
				return &SetError{fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - Invalid argument", kv[0])}
			}
			for _, x := range parts {
				vals = append(vals, string(x))
			}
			if len(vals) == 0 {
				vals = []string{""}
			}
		} else {
			vals = []string{kv[1]}
		}
		v, err := p.normalize(vals)
		if err != nil {
			return &SetError{fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", kv[0], err)}
		}
		for _, ch := range changes {
			if ch.p == p {
				return &SetError{fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - duplicate parameter", kv[0])}
			}
		}
		c.mu.RLock()
		v = c.merge(p, v)
		c.mu.RUnlock()
		changes = append(changes, change{p, v})
	}
	for i, ch := range changes {
		if h := c.hooks[ch.p.Name]; h != nil {
			if err := h(ch.v); err != nil {
				// Roll back what the earlier ones applied, as Redis
				// restores and re-applies the old values.
				for j := i - 1; j >= 0; j-- {
					if h := c.hooks[changes[j].p.Name]; h != nil {
						c.mu.RLock()
						old := c.vals[changes[j].p.Name]
						c.mu.RUnlock()
						h(old)
					}
				}
				return &SetError{fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", ch.p.Name, err)}
			}
		}
	}
	c.mu.Lock()
	for _, ch := range changes {
		c.vals[ch.p.Name] = ch.v
	}
	c.mu.Unlock()
	return nil
}

// Record stores the value of a directive the server changed by other
// means than CONFIG SET (REPLICAOF changes replicaof), for CONFIG GET and
// CONFIG REWRITE: no check, no hook.
func (c *Config) Record(name, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.params[name]; p != nil {
		c.vals[p.Name] = value
	}
}

// Rewrite writes the current configuration back to the file it was
// loaded from: known directives are updated in place (duplicates dropped),
// unknown lines and comments are kept, and directives that differ from
// their defaults and are not in the file are appended.
func (c *Config) Rewrite() error { return c.rewrite(false) }

// RewriteAll is DEBUG CONFIG-REWRITE-FORCE-ALL: Rewrite, with every
// directive written, those at their default value too (hidden ones
// excepted).
func (c *Config) RewriteAll() error { return c.rewrite(true) }

func (c *Config) rewrite(all bool) error {
	if c.File == "" {
		return errors.New("ERR The server is running without a config file")
	}
	data, err := os.ReadFile(c.File)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("ERR Rewriting config file: %w", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	done := map[string]bool{}
	var out []string
	const marker = "# Generated by CONFIG REWRITE"
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		t := strings.TrimSpace(line)
		if t == marker {
			continue
		}
		if t == "" || t[0] == '#' {
			out = append(out, line)
			continue
		}
		args, ok := resp.SplitArgs([]byte(t), nil)
		if !ok || len(args) == 0 {
			out = append(out, line)
			continue
		}
		if strings.EqualFold(string(args[0]), "user") && c.RewriteUsers != nil {
			if !done["user"] {
				done["user"] = true
				out = append(out, c.RewriteUsers()...)
			}
			continue
		}
		p := c.params[strings.ToLower(string(args[0]))]
		if p == nil {
			out = append(out, line)
			continue
		}
		if done[p.Name] {
			continue
		}
		done[p.Name] = true
		out = append(out, c.lines(p)...)
	}
	var extra []string
	for k := range Params {
		p := &Params[k]
		if done[p.Name] || c.vals[p.Name] == p.Default && !(all && !p.Hidden) {
			continue
		}
		extra = append(extra, c.lines(p)...)
	}
	if !done["user"] && c.RewriteUsers != nil {
		extra = append(extra, c.RewriteUsers()...)
	}
	if len(extra) > 0 {
		out = append(out, marker)
		out = append(out, extra...)
	}
	tmp := c.File + ".tmp-rewrite"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("ERR Rewriting config file: %w", err)
	}
	_, err = f.WriteString(strings.Join(out, "\n") + "\n")
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err == nil {
		err = os.Rename(tmp, c.File)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ERR Rewriting config file: %w", err)
	}
	return nil
}

func (c *Config) lines(p *Param) []string {
	v := c.vals[p.Name]
	if p.Kind == Multi {
		if p.Name == "save" {
			if v == "" {
				return []string{`save ""`}
			}
			f := strings.Fields(v)
			var out []string
			for k := 0; k+1 < len(f); k += 2 {
				out = append(out, "save "+f[k]+" "+f[k+1])
			}
			return out
		}
		if p.Name == "replicaof" && v == "" {
			return nil // a master: no line, as Redis's rewrite
		}
		return []string{p.Name + " " + v}
	}
	return []string{p.Name + " " + quote(p.show(v))}
}

// show is the value as CONFIG GET and CONFIG REWRITE render it.
func (p *Param) show(v string) string {
	if p.Show != nil {
		return p.Show(v)
	}
	return v
}
