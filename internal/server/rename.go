package server

// rename-command: a config directive that gives a command another name
// or none ("" disables it), as Redis's, which operators use to hide
// FLUSHALL, CONFIG, KEYS and the like. The command table is shared by
// every server of the process, so the renames are this server's overlay
// on it, consulted where a command is named (dispatch, COMMAND GETKEYS,
// ACL DRYRUN, the master's stream, the AOF); with no rename-command line
// the lookup is the table's. Scripts' redis.call still finds commands by
// their own names.

import (
	"strings"

	"redgo/internal/commands"
	"redgo/internal/config"
)

// renames maps the lower-case names changed by rename-command: a
// command's new name, or nil for a name that no longer exists.
type renames map[string]*commands.Command

// initRenames applies the config's rename-command lines in order, with
// Redis's errors for a missing command or a taken name.
func (s *Server) initRenames(cfg *config.Config) error {
	if len(cfg.Renames) == 0 {
		return nil
	}
	r := renames{}
	lookup := func(name string) *commands.Command {
		if cmd, ok := r[strings.ToLower(name)]; ok {
			return cmd
		}
		return commands.Lookup([]byte(name))
	}
	for _, l := range cfg.Renames {
		from, to := l.Args[0], l.Args[1]
		cmd := lookup(from)
		if cmd == nil {
			return &config.FileError{File: cfg.File, Line: l.Line, Text: l.Text, Msg: "No such command in rename-command"}
		}
		r[strings.ToLower(from)] = nil
		if to != "" {
			if lookup(to) != nil {
				return &config.FileError{File: cfg.File, Line: l.Line, Text: l.Text, Msg: "Target command name already exists"}
			}
			r[strings.ToLower(to)] = cmd
		}
	}
	s.renamed = r
	return nil
}

// lookupCommand finds the command a client names, after rename-command.
func (s *Server) lookupCommand(name []byte) *commands.Command {
	if s.renamed == nil {
		return commands.Lookup(name)
	}
	var buf [32]byte
	lower := buf[:0]
	if len(name) > len(buf) {
		lower = make([]byte, 0, len(name))
	}
	for _, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	if cmd, ok := s.renamed[string(lower)]; ok {
		return cmd
	}
	return commands.Lookup(name)
}

// findCommand is commands.Find after rename-command: the master's stream
// and the AOF carry a renamed command under the name its client used, as
// Redis's do, so a replica or a reload needs the same rename-command.
func (s *Server) findCommand(args [][]byte) (*commands.Command, string) {
	cmd := s.lookupCommand(args[0])
	if cmd == nil {
		return nil, commands.UnknownCommand(args)
	}
	return commands.Resolve(cmd, args)
}
