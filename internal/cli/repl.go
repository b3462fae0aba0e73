package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"

	"redgo/internal/resp"
)

// HistEnv names the environment variable that overrides the history file.
const HistEnv = "REDGOCLI_HISTFILE"

// historyPath is ~/.redgocli_history, or $REDGOCLI_HISTFILE ("" or
// /dev/null turns the file off).
func historyPath() string {
	if p, ok := os.LookupEnv(HistEnv); ok {
		if p == "" || p == os.DevNull {
			return ""
		}
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".redgocli_history")
}

// lineReader is where the REPL's lines come from: a line editor on a
// terminal, plain lines otherwise.
type lineReader interface {
	readLine(prompt string) (string, error)
	saveHistory(line string)
	close()
}

// repl is the interactive mode.
func repl(s *session, env Env) int {
	s.interactive = true
	s.connect(false)
	var help helpTable
	if s.c != nil {
		help = loadHelp(s.c)
	}
	var lr lineReader
	if env.StdinTTY {
		ed, err := newEditor(hintPainter{help, &s.hints}, help, env)
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			return 1
		}
		lr = ed
	} else {
		lr = &plainReader{sc: bufio.NewScanner(env.Stdin)}
	}
	defer lr.close()
	for {
		prompt := "not connected> "
		if s.c != nil {
			prompt = s.prompt()
		}
		line, err := lr.readLine(prompt)
		if err != nil {
			return 0 // EOF or Ctrl-C, as redis-cli
		}
		if quit := s.replLine(line, lr, help); quit {
			return 0
		}
	}
}

// replLine runs one typed line; it says whether to quit.
func (s *session) replLine(line string, lr lineReader, help helpTable) bool {
	if strings.TrimSpace(line) == "" {
		return false
	}
	raw, ok := resp.SplitArgs([]byte(line), nil)
	if !ok {
		fmt.Fprint(s.out, "Invalid argument(s)\n")
		lr.saveHistory(line)
		return false
	}
	if len(raw) == 0 {
		return false
	}
	argv := make([]string, len(raw))
	for i, a := range raw {
		argv[i] = string(a)
	}
	repeat, skip := int64(1), 0
	if n, err := strconv.ParseInt(argv[0], 10, 64); err == nil && len(argv) > 1 {
		if n <= 0 {
			fmt.Fprint(s.out, "Invalid redis-cli repeat command option value.\n")
			return false
		}
		repeat, skip = n, 1
	}
	if !sensitive(argv[skip:]) {
		lr.saveHistory(line)
	}
	argv = argv[skip:]
	switch name := strings.ToLower(argv[0]); {
	case name == "quit" || name == "exit":
		return true
	case name == "help" || name == "?":
		help.printHelp(s.out, argv[1:])
	case name == "connect" && len(argv) == 3:
		s.host, s.port = argv[1], atoi(argv[2])
		s.connect(false)
	case name == "clear" && len(argv) == 1:
		fmt.Fprint(s.out, "\x1b[H\x1b[2J")
	case name == ":set" && len(argv) >= 2:
		switch strings.ToLower(argv[1]) {
		case "hints":
			s.hints = true
		case "nohints":
			s.hints = false
		default:
			fmt.Fprintf(s.out, "unknown redis-cli preference '%s'\n", argv[1])
		}
	case strings.HasPrefix(name, ":"):
		fmt.Fprintf(s.out, "unknown redis-cli internal command '%s'\n", argv[0])
	default:
		start := time.Now()
		s.issue(argv, repeat)
		if d := time.Since(start); d >= 500*time.Millisecond && s.o.Output == OutputStandard {
			fmt.Fprintf(s.out, "(%.2fs)\n", d.Seconds())
		}
	}
	return false
}

// sensitive says whether a command line holds a password and stays out
// of the history file (redis-cli.c: isSensitiveCommand).
func sensitive(argv []string) bool {
	is := func(i int, name string) bool { return i < len(argv) && strings.EqualFold(argv[i], name) }
	switch {
	case is(0, "auth"), is(0, "acl") && is(1, "setuser"):
		return true
	case is(0, "config") && is(1, "set") && (is(2, "masterauth") || is(2, "masteruser") || is(2, "requirepass")):
		return true
	case is(0, "hello") || is(0, "migrate"):
		for i := range argv {
			if is(i, "auth") || is(i, "auth2") {
				return true
			}
		}
	}
	return false
}

// editor is the line editor of a terminal session.
type editor struct {
	rl   *readline.Instance
	hist bool
}

func newEditor(painter readline.Painter, complete readline.AutoCompleter, env Env) (*editor, error) {
	path := historyPath()
	rl, err := readline.NewEx(&readline.Config{
		HistoryFile:            path,
		DisableAutoSaveHistory: true,
		Painter:                painter,
		AutoComplete:           complete,
		Stdout:                 env.Stdout,
		Stderr:                 env.Stderr,
	})
	if err != nil {
		return nil, err
	}
	return &editor{rl: rl, hist: path != ""}, nil
}

func (e *editor) readLine(prompt string) (string, error) {
	e.rl.SetPrompt(prompt)
	return e.rl.Readline()
}

func (e *editor) saveHistory(line string) { e.rl.SaveHistory(line) }
func (e *editor) close()                  { e.rl.Close() }

// hintPainter draws the argument hint in grey after the cursor when the
// cursor is at the end of the line, and moves the cursor back; on is
// the :set hints / :set nohints preference.
type hintPainter struct {
	help helpTable
	on   *bool
}

func (p hintPainter) Paint(line []rune, pos int) []rune {
	if pos != len(line) || len(p.help) == 0 || !*p.on {
		return line
	}
	h := p.help.hint(string(line))
	if strings.TrimSpace(h) == "" {
		return line
	}
	w := len([]rune(h))
	out := append([]rune{}, line...)
	out = append(out, []rune("\x1b[0;90;49m"+h+"\x1b[0m\x1b["+strconv.Itoa(w)+"D")...)
	return out
}

// plainReader reads lines from a pipe, without prompt or history, as
// linenoise does when stdin is not a terminal.
type plainReader struct{ sc *bufio.Scanner }

func (p *plainReader) readLine(string) (string, error) {
	if !p.sc.Scan() {
		if err := p.sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return p.sc.Text(), nil
}

func (p *plainReader) saveHistory(string) {}
func (p *plainReader) close()             {}
