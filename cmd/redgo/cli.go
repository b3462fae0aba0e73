package main

import (
	"os"

	"golang.org/x/term"

	"redgo/internal/cli"
	"redgo/internal/config"
)

// runCli is redgo cli: redis-cli's options and output (internal/cli).
func runCli(args []string) int {
	return cli.Run(args, cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		Version:   config.Version,
	})
}
