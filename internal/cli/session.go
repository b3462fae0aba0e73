package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"redgo/internal/resp"
)

// session is the state redis-cli keeps between commands: where it is
// connected, the selected database, MULTI, the redirection to follow.
type session struct {
	o           *Options
	out, errw   io.Writer
	interactive bool

	host           string
	port           int
	c              *conn // nil when not connected
	db             int   // the database selected on c
	inMulti, resp3 bool
	preMultiDB     int

	reissue bool // a -MOVED or -ASK asks to send the command again
	asking  bool // send ASKING first (-ASK)
	lastErr bool // the last reply was an error
	pubsub  bool // in SUBSCRIBE: RESP3 pushes are the replies

	showPushes bool // print out-of-band pushes (stdout is a terminal)
	hints      bool // show argument hints at the prompt (:set hints)
}

func newSession(o *Options, out, errw io.Writer) *session {
	return &session{o: o, out: out, errw: errw, host: o.Host, port: o.Port, hints: true}
}

// connect (re)connects, authenticates, selects the database and switches
// to RESP3 if asked. quiet leaves errors unprinted.
func (s *session) connect(quiet bool) error {
	if s.c != nil {
		s.c.close()
		s.c, s.db, s.inMulti = nil, 0, false
	}
	socket := s.o.Socket
	if s.reissue {
		socket = "" // a redirection names host:port
	}
	c, err := dial(s.o, s.host, s.port, socket)
	if err != nil {
		if !quiet {
			where := net.JoinHostPort(s.host, strconv.Itoa(s.port))
			if socket != "" {
				where = socket
			}
			if strings.HasPrefix(err.Error(), "Could not") {
				fmt.Fprintln(s.errw, err)
			} else {
				fmt.Fprintf(s.errw, "Could not connect to Redis at %s: %v\n", where, err)
			}
		}
		return err
	}
	s.c = c
	if s.o.HasPass {
		args := []string{"AUTH", s.o.Pass}
		if s.o.User != "" {
			args = []string{"AUTH", s.o.User, s.o.Pass}
		}
		if err := s.setup(args, "AUTH failed: %s\n"); err != nil {
			return err
		}
	}
	if s.o.DB != 0 {
		if err := s.setup([]string{"SELECT", strconv.Itoa(s.o.DB)}, "SELECT "+strconv.Itoa(s.o.DB)+" failed: %s\n"); err != nil {
			return err
		}
		s.db = s.o.DB
	}
	if s.o.Resp3 {
		if err := s.setup([]string{"HELLO", "3"}, "HELLO 3 failed: %s\n"); err != nil {
			return err
		}
		s.resp3 = true
	}
	return nil
}

// setup sends a connection set-up command; an error reply is printed
// with format and returned.
func (s *session) setup(args []string, format string) error {
	v, err := s.c.do(args...)
	if err != nil {
		fmt.Fprintf(s.errw, "\nI/O error\n")
		return err
	}
	if v.Type == '-' {
		fmt.Fprintf(s.errw, format, v.Str)
		return errors.New(v.Str)
	}
	return nil
}

// prompt is redis-cli's: host:port[db](TX)> .
func (s *session) prompt() string {
	p := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	if s.o.Socket != "" && !s.o.Cluster {
		p = "redis " + s.o.Socket
	}
	if s.db != 0 {
		p += "[" + strconv.Itoa(s.db) + "]"
	}
	if s.inMulti {
		p += "(TX)"
	}
	return p + "> "
}

// errExit is returned when -e met an error reply.
var errExit = errors.New("error reply")

// issue runs argv repeat times, following redirections in cluster mode.
func (s *session) issue(argv []string, repeat int64) error {
	for {
		if s.c == nil || s.reissue {
			if err := s.connect(false); err != nil {
				s.reissue = false
				return err
			}
		}
		s.reissue = false
		if s.asking {
			s.asking = false
			if v, err := s.c.do("ASKING"); err != nil || v.Type == '-' {
				fmt.Fprintf(s.errw, "ASKING failed: %s\n", v.Str)
				return errors.New("ASKING failed")
			}
		}
		if err := s.send(argv, repeat); err != nil {
			if s.c != nil {
				s.c.close()
				s.c = nil
			}
			return err
		}
		if !(s.o.Cluster && s.reissue) {
			return nil
		}
	}
}

// send is cliSendCommand: it sends argv repeat times (forever when
// negative) and prints each reply.
func (s *session) send(argv []string, repeat int64) error {
	name := strings.ToLower(argv[0])
	rawStrings := rawCommand(argv)
	for repeat < 0 || repeat > 0 {
		repeat--
		if err := s.c.send(argv); err != nil {
			return err
		}
		switch {
		case name == "monitor":
			return s.stream(rawStrings, false)
		case name == "subscribe" || name == "psubscribe" || name == "ssubscribe":
			if s.o.Output != OutputRaw {
				fmt.Fprint(s.out, "Reading messages... (press Ctrl-C to quit)\n")
			}
			return s.stream(rawStrings, true)
		}
		if name == "shutdown" {
			return s.shutdown(rawStrings)
		}
		v, err := s.readReply(rawStrings)
		if err != nil {
			return err
		}
		s.track(argv, v)
		if s.reissue {
			return nil
		}
		if s.o.Interval > 0 {
			time.Sleep(s.o.Interval)
		}
	}
	return nil
}

// shutdown reads SHUTDOWN's reply: the connection closing is success.
func (s *session) shutdown(rawStrings bool) error {
	if _, err := s.c.r.Peek(1); err != nil {
		s.c.close()
		s.c = nil
		return nil
	}
	_, err := s.readReply(rawStrings)
	return err
}

// stream prints replies until the connection ends (MONITOR, SUBSCRIBE)
// or, for MONITOR, until an error reply.
func (s *session) stream(rawStrings, pubsub bool) error {
	s.pubsub = pubsub
	defer func() { s.pubsub = false }()
	for {
		v, err := s.readReply(rawStrings)
		if err != nil {
			return err
		}
		if v.Type == '-' && !pubsub {
			return nil
		}
	}
}

// readReply reads one reply and prints it, or notes a redirection.
func (s *session) readReply(rawStrings bool) (resp.Value, error) {
	v, err := s.c.read()
	if err != nil {
		if err == io.EOF && s.interactive {
			return v, err
		}
		fmt.Fprintf(s.errw, "Error: %s\n", ioErrText(err))
		return v, err
	}
	for v.Type == '>' && !s.pubsub {
		s.push(v)
		if v, err = s.c.read(); err != nil {
			fmt.Fprintf(s.errw, "Error: %s\n", ioErrText(err))
			return v, err
		}
	}
	s.lastErr = v.Type == '-'
	if s.o.Cluster && v.Type == '-' && (strings.HasPrefix(v.Str, "MOVED ") || strings.HasPrefix(v.Str, "ASK ")) {
		s.redirect(v.Str)
		return v, nil
	}
	if !s.interactive && s.o.ErrCode && v.Type == '-' {
		fmt.Fprintf(s.errw, "%s\n", v.Str)
		return v, errExit
	}
	io.WriteString(s.out, s.format(v, rawStrings))
	return v, nil
}

// push prints an out-of-band RESP3 push as redis-cli does on a
// terminal (cliPushHandler); raw output drops them.
func (s *session) push(v resp.Value) {
	if !s.showPushes {
		return
	}
	if s.o.Output == OutputStandard && len(v.Elems) == 2 && v.Elems[0].Str == "invalidate" && v.Elems[1].Type == '*' {
		keys := make([]string, len(v.Elems[1].Elems))
		for i, k := range v.Elems[1].Elems {
			keys[i] = "'" + k.Str + "'"
		}
		fmt.Fprintf(s.out, "-> invalidate: %s\n", strings.Join(keys, ", "))
		return
	}
	io.WriteString(s.out, s.format(v, false))
}

// redirect follows "MOVED 3999 127.0.0.1:6381" or "ASK ...".
func (s *session) redirect(msg string) {
	f := strings.Fields(msg)
	if len(f) < 3 {
		return
	}
	i := strings.LastIndexByte(f[2], ':')
	if i < 0 {
		return
	}
	s.host, s.port = f[2][:i], atoi(f[2][i+1:])
	if s.interactive {
		fmt.Fprintf(s.out, "-> Redirected to slot [%d] located at %s:%d\n", atoi(f[1]), s.host, s.port)
	}
	s.reissue = true
	s.asking = f[0] == "ASK"
}

// format renders a reply in the session's output mode.
func (s *session) format(v resp.Value, rawStrings bool) string {
	if rawStrings {
		return FormatRaw(v, s.o.MbDelim)
	}
	switch s.o.Output {
	case OutputRaw:
		return FormatRaw(v, s.o.MbDelim) + s.o.CmdDelim
	case OutputCSV:
		return FormatCSV(v) + "\n"
	}
	return FormatTTY(v)
}

// track follows SELECT, MULTI/EXEC/DISCARD and RESET for the prompt.
func (s *session) track(argv []string, v resp.Value) {
	name := strings.ToLower(argv[0])
	ok := v.Type != '-'
	switch {
	case name == "select" && len(argv) == 2 && ok:
		s.db = atoi(argv[1])
		s.o.DB = s.db
	case name == "multi" && len(argv) == 1 && ok:
		s.inMulti, s.preMultiDB = true, s.db
	case name == "exec" && len(argv) == 1 && s.inMulti:
		s.inMulti = false
		if !ok || v.Null || v.Type == '_' {
			s.db = s.preMultiDB
			s.o.DB = s.db
		}
	case name == "discard" && len(argv) == 1 && ok:
		s.inMulti = false
		s.db = s.preMultiDB
		s.o.DB = s.db
	case name == "reset" && len(argv) == 1 && ok:
		s.inMulti, s.db, s.o.DB, s.resp3 = false, 0, 0, false
	}
}

// rawCommand says whether redis-cli prints the reply of argv verbatim
// even on a terminal (INFO, CLUSTER NODES, CLIENT LIST and the like).
func rawCommand(argv []string) bool {
	is := func(i int, names ...string) bool {
		if i >= len(argv) {
			return false
		}
		for _, n := range names {
			if strings.EqualFold(argv[i], n) {
				return true
			}
		}
		return false
	}
	n := len(argv)
	switch {
	case is(0, "info", "lolwut"):
		return true
	case is(0, "debug") && is(1, "htstats", "htstats-key", "client-eviction"):
		return true
	case is(0, "memory") && is(1, "malloc-stats", "doctor"):
		return true
	case n == 2 && is(0, "cluster") && is(1, "nodes", "info"):
		return true
	case is(0, "client") && is(1, "list", "info"):
		return true
	case n == 3 && is(0, "latency") && is(1, "graph"):
		return true
	case n == 2 && is(0, "latency") && is(1, "doctor"):
		return true
	case is(0, "proxy") && is(1, "info"):
		return true
	}
	return false
}

// ioErrText words a read error as hiredis does.
func ioErrText(err error) string {
	if err == io.EOF {
		return "Server closed the connection"
	}
	if ne, ok := err.(*net.OpError); ok {
		return connectError(ne).Error()
	}
	return err.Error()
}
