package commands

import (
	"strings"

	"redgo/internal/resp"
)

// Extra describes a command (or subcommand, "parent|sub") that redgo has
// and Redis 7.0 does not, such as Valkey 9's CLUSTER MIGRATESLOTS. Its
// COMMAND INFO and COMMAND DOCS entries are built from these fields, in
// the shape of Redis's own entries.
type Extra struct {
	Arity   int
	Flags   []string // COMMAND INFO flags: "admin", "write", "stale"...
	ACL     []string // ACL categories: "@admin", "@slow"...
	Summary string
	Since   string
	Group   string
}

// RegisterExtra registers h under name, which Redis 7.0 does not have,
// with metadata made from e. Keyless commands only.
func RegisterExtra(name string, e Extra, h Handler, opts ...Option) {
	loadMeta()
	name = strings.ToLower(name)
	if _, ok := meta[name]; ok {
		panic("commands: " + name + " is Redis's: use Register")
	}
	bulk := func(s string) resp.Value { return resp.Value{Type: '$', Str: s} }
	set := func(kind byte, items []string) resp.Value {
		v := resp.Value{Type: '~'}
		for _, it := range items {
			v.Elems = append(v.Elems, resp.Value{Type: kind, Str: it})
		}
		return v
	}
	info := resp.Value{Type: '*', Elems: []resp.Value{
		bulk(name), {Type: ':', Int: int64(e.Arity)}, set('+', e.Flags),
		{Type: ':'}, {Type: ':'}, {Type: ':'}, set('+', e.ACL),
		{Type: '~'}, {Type: '~'}, {Type: '~'},
	}}
	docs := resp.Value{Type: '%', Elems: []resp.Value{
		bulk("summary"), bulk(e.Summary), bulk("since"), bulk(e.Since), bulk("group"), bulk(e.Group),
	}}
	meta[name] = metaEntry{info: info, docs: docs}
	Register(name, h, append(opts, func(c *Command) { c.Extra = true })...)
}
