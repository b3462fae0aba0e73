// Package cli is redgo cli: redis-cli's options, its reply formats (byte
// for byte), -c redirection and an interactive prompt with line editing,
// history and argument hints.
package cli

import (
	"fmt"
	"io"
	"os"

	"redgo/internal/clustermgr"
	"redgo/internal/resp"
)

// Env is what Run talks to.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	StdoutTTY      bool // replies are formatted for a person unless --raw
	StdinTTY       bool // an interactive session keeps a history file
	Version        string
}

// Run runs redgo cli with args (without the program name) and returns
// the exit status.
func Run(args []string, env Env) int {
	o, cmd, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%v\nTry 'redgo cli --help' for the options.\n", err)
		return 1
	}
	switch {
	case o.Help:
		fmt.Fprintf(env.Stdout, "redgo cli %s\n\n%s", env.Version, Usage)
		return 0
	case o.Version:
		fmt.Fprintf(env.Stdout, "redgo cli %s\n", env.Version)
		return 0
	case o.ClusterManager && o.TLS.Enabled:
		fmt.Fprintf(env.Stderr, "redgo cli --cluster does not speak TLS yet: run it without --tls against the nodes' plain port.\n")
		return 1
	case o.ClusterManager:
		if o.HasPass && !o.NoAuthWarning {
			fmt.Fprint(env.Stderr, "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n")
		}
		return clustermgr.Run(cmd, clustermgr.Env{Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr,
			StdoutTTY: env.StdoutTTY, User: o.User, Pass: o.Pass, HasPass: o.HasPass,
			FormatRaw: func(v resp.Value) string { return FormatRaw(v, o.MbDelim) }})
	}
	if !o.outputSet {
		o.Output = OutputRaw
		if env.StdoutTTY || os.Getenv("FAKETTY") != "" {
			o.Output = OutputStandard
		}
	}
	if o.HasPass && !o.NoAuthWarning {
		fmt.Fprint(env.Stderr, "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n")
	}
	s := newSession(o, env.Stdout, env.Stderr)
	s.showPushes = env.StdoutTTY || os.Getenv("FAKETTY") != ""
	if len(cmd) == 0 {
		return repl(s, env)
	}
	return oneShot(s, cmd, env.Stdin)
}

// oneShot runs one command from the command line.
func oneShot(s *session, cmd []string, stdin io.Reader) int {
	if s.o.StdinLast {
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(s.errw, "Reading stdin: %v\n", err)
			return 1
		}
		cmd = append(cmd, string(b))
	}
	s.connect(true) // a failure is reported by issue, which retries it
	if err := s.issue(cmd, s.o.Repeat); err != nil {
		return 1
	}
	return 0
}
