package cli

// Command help and argument hints, built as redis-cli 7.0 builds them
// from the server's COMMAND DOCS (redis-cli.c: cliAddArgument,
// hintsCallback).

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"redgo/internal/resp"
)

// helpEntry describes one command or subcommand.
type helpEntry struct {
	words   []string // "CONFIG", "GET"
	params  string   // "parameter [parameter ...]"
	summary string
	since   string
	group   string
}

// helpTable is the commands a server documents, by full name.
type helpTable []helpEntry

// loadHelp asks the server for COMMAND DOCS; a server without it gives
// an empty table (no hints, no help).
func loadHelp(c *conn) helpTable {
	v, err := c.do("COMMAND", "DOCS")
	if err != nil || v.Type == '-' {
		return nil
	}
	var t helpTable
	t.add(v, nil)
	sort.Slice(t, func(i, j int) bool {
		return strings.Join(t[i].words, " ") < strings.Join(t[j].words, " ")
	})
	return t
}

// add reads a COMMAND DOCS map (name, docs, name, docs...); parent is
// the command whose subcommands they are.
func (t *helpTable) add(v resp.Value, parent []string) {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		name := v.Elems[i].Str
		if parent != nil {
			name = name[strings.IndexByte(name, '|')+1:]
		}
		e := helpEntry{words: append(append([]string{}, parent...), strings.ToUpper(name))}
		docs := v.Elems[i+1]
		var subs *resp.Value
		for j := 0; j+1 < len(docs.Elems); j += 2 {
			val := docs.Elems[j+1]
			switch docs.Elems[j].Str {
			case "summary":
				e.summary = val.Str
			case "since":
				e.since = val.Str
			case "group":
				e.group = val.Str
			case "arguments":
				e.params = concatArgs(val, " ")
			case "subcommands":
				subs = &docs.Elems[j+1]
			}
		}
		*t = append(*t, e)
		if subs != nil {
			t.add(*subs, e.words)
		}
	}
}

func concatArgs(args resp.Value, sep string) string {
	parts := make([]string, 0, len(args.Elems))
	for _, a := range args.Elems {
		parts = append(parts, argString(a))
	}
	return strings.Join(parts, sep)
}

// argString renders one argument: [TOKEN name [name ...]].
func argString(a resp.Value) string {
	var name, typ, token string
	var optional, multiple, multipleToken, hasToken bool
	var sub resp.Value
	for i := 0; i+1 < len(a.Elems); i += 2 {
		val := a.Elems[i+1]
		switch a.Elems[i].Str {
		case "name":
			name = val.Str
		case "type":
			typ = val.Str
		case "token":
			token, hasToken = orEmpty(val.Str), true
		case "arguments":
			sub = val
		case "flags":
			for _, f := range val.Elems {
				optional = optional || f.Str == "optional"
				multiple = multiple || f.Str == "multiple"
				multipleToken = multipleToken || f.Str == "multiple_token"
			}
		}
	}
	var repeat string
	switch typ {
	case "oneof":
		repeat = concatArgs(sub, "|")
	case "block":
		repeat = concatArgs(sub, " ")
	case "pure-token":
	default:
		repeat = orEmpty(name)
	}
	if hasToken && typ != "pure-token" {
		token += " "
	}
	var b strings.Builder
	if optional {
		b.WriteString("[")
	}
	b.WriteString(token + repeat)
	if multiple {
		b.WriteString(" [")
		if multipleToken {
			b.WriteString(token)
		}
		b.WriteString(repeat + " ...]")
	}
	if optional {
		b.WriteString("]")
	}
	return b.String()
}

func orEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// lookup finds the entry with the longest name that starts argv.
func (t helpTable) lookup(argv []string) *helpEntry {
	var best *helpEntry
	for i := range t {
		e := &t[i]
		if len(e.words) > len(argv) || (best != nil && len(e.words) <= len(best.words)) {
			continue
		}
		match := true
		for j, w := range e.words {
			if !strings.EqualFold(w, argv[j]) {
				match = false
				break
			}
		}
		if match {
			best = e
		}
	}
	return best
}

// hint is what redis-cli shows after the typed line: the arguments not
// typed yet.
func (t helpTable) hint(line string) string {
	argv, ok := resp.SplitArgs([]byte(line), nil)
	if !ok || len(argv) == 0 {
		return ""
	}
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = string(a)
	}
	e := t.lookup(words)
	if e == nil {
		return ""
	}
	h := e.params
	for remove := len(words) - len(e.words); remove > 0 && h != ""; h = h[1:] {
		if h[0] == '[' {
			break
		}
		if h[0] == ' ' {
			remove--
		}
	}
	if !strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\t") {
		h = " " + h
	}
	return h
}

// printHelp is the REPL's "help <command>" (cliOutputCommandHelp).
func (t helpTable) printHelp(w io.Writer, argv []string) {
	if len(argv) == 0 {
		fmt.Fprintf(w, "redgo cli\nTo get help about Redis commands type:\n"+
			"      \"help <command>\" for help on <command>\n"+
			"      \"help <tab>\" to get a list of possible help topics\n"+
			"      \"quit\" to exit\n\n")
		return
	}
	for i := range t {
		e := &t[i]
		if strings.EqualFold(e.words[0], argv[0]) && (len(argv) < 2 || len(e.words) > 1 && strings.EqualFold(e.words[1], argv[1])) {
			fmt.Fprintf(w, "\r\n  \x1b[1m%s\x1b[0m \x1b[90m%s\x1b[0m\r\n", strings.Join(e.words, " "), e.params)
			fmt.Fprintf(w, "  \x1b[33msummary:\x1b[0m %s\r\n", e.summary)
			if e.since != "" {
				fmt.Fprintf(w, "  \x1b[33msince:\x1b[0m %s\r\n", e.since)
			}
			if e.group != "" {
				fmt.Fprintf(w, "  \x1b[33mgroup:\x1b[0m %s\r\n", e.group)
			}
		}
	}
	fmt.Fprint(w, "\r\n")
}

// Do completes the command name being typed (the line's first word),
// as redis-cli's Tab does; it is readline's AutoCompleter.
func (t helpTable) Do(line []rune, pos int) ([][]rune, int) {
	typed := string(line[:pos])
	if strings.ContainsAny(typed, " \t") {
		return nil, 0
	}
	var out [][]rune
	seen := map[string]bool{}
	for _, e := range t {
		name := e.words[0]
		if len(name) >= len(typed) && strings.EqualFold(name[:len(typed)], typed) && !seen[name] {
			seen[name] = true
			rest := name[len(typed):]
			if isLower(typed) {
				rest = strings.ToLower(rest)
			}
			out = append(out, []rune(rest+" "))
		}
	}
	return out, len([]rune(typed))
}

// isLower says whether s has no upper-case letter.
func isLower(s string) bool { return strings.ToLower(s) == s }
