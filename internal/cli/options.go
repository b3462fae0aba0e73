package cli

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Output is how replies are printed.
type Output int

const (
	OutputStandard Output = iota // redis-cli's terminal format: (integer) 1, 1) "a"
	OutputRaw                    // bare values, one per line (default when stdout is not a terminal)
	OutputCSV                    // comma-separated, strings quoted
)

// Options are redis-cli's command-line options that redgo cli supports.
type Options struct {
	Host           string
	Port           int
	Socket         string // unix socket path (-s)
	User           string
	Pass           string
	HasPass        bool // -a, --pass, -u with a password, or REDISCLI_AUTH
	DB             int
	Cluster        bool          // -c: follow -MOVED and -ASK
	Repeat         int64         // -r (negative: forever)
	Interval       time.Duration // -i
	StdinLast      bool          // -x: the last argument is read from stdin
	Output         Output
	outputSet      bool   // --raw, --no-raw or --csv given
	MbDelim        string // -d: between the elements of an array in raw output
	CmdDelim       string // -D: after each reply in raw output
	ErrCode        bool   // -e: exit 1 when the command fails
	Resp3          bool   // -3
	Resp2          bool   // -2
	NoAuthWarning  bool
	TLS            TLSOptions
	Help           bool
	Version        bool
	ClusterManager bool // --cluster was given: the rest goes to the cluster manager
}

// TLSOptions are the --tls flags.
type TLSOptions struct {
	Enabled   bool
	SNI       string
	CACert    string
	CACertDir string
	Cert, Key string
	Insecure  bool
}

// UsageError is a mistake on the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErr(format string, args ...any) error {
	return &UsageError{fmt.Sprintf(format, args...)}
}

// ParseArgs parses redis-cli style options; it returns the options and
// the command to run (empty: interactive mode). Options stop at the
// first argument that does not start with '-', as redis-cli's do.
func ParseArgs(args []string) (*Options, []string, error) {
	o := &Options{Host: "127.0.0.1", Port: 6379, Repeat: 1, MbDelim: "\n", CmdDelim: "\n"}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		last := i == len(args)-1
		// value returns the next argument for an option that takes one.
		value := func() string { i++; return args[i] }
		switch {
		case a == "--help" || (a == "-h" && last):
			o.Help = true
		case a == "-v" || a == "--version":
			o.Version = true
		case a == "-h" && !last:
			o.Host = value()
		case a == "-p" && !last:
			o.Port = atoi(value())
		case a == "-s" && !last:
			o.Socket = value()
		case (a == "-a" || a == "--pass") && !last:
			o.Pass, o.HasPass = value(), true
		case a == "--user" && !last:
			o.User = value()
		case a == "-u" && !last:
			if err := o.parseURI(value()); err != nil {
				return nil, nil, err
			}
		case a == "-n" && !last:
			o.DB = atoi(value())
		case a == "-r" && !last:
			o.Repeat, _ = strconv.ParseInt(value(), 10, 64)
		case a == "-i" && !last:
			f, _ := strconv.ParseFloat(value(), 64)
			o.Interval = time.Duration(f * float64(time.Second))
		case a == "-x":
			o.StdinLast = true
		case a == "-c":
			o.Cluster = true
		case a == "-e":
			o.ErrCode = true
		case a == "-2":
			o.Resp2 = true
		case a == "-3":
			o.Resp3 = true
		case a == "-d" && !last:
			o.MbDelim = value()
		case a == "-D" && !last:
			o.CmdDelim = value()
		case a == "--raw":
			o.Output, o.outputSet = OutputRaw, true
		case a == "--no-raw":
			o.Output, o.outputSet = OutputStandard, true
		case a == "--csv":
			o.Output, o.outputSet = OutputCSV, true
		case a == "--no-auth-warning":
			o.NoAuthWarning = true
		case a == "--cluster":
			o.ClusterManager = true
			o, _, err := o.finish(nil) // REDISCLI_AUTH applies to the cluster manager too
			return o, args[i+1:], err
		case a == "--tls":
			o.TLS.Enabled = true
		case a == "--insecure":
			o.TLS.Insecure = true
		case a == "--sni" && !last:
			o.TLS.SNI = value()
		case a == "--cacert" && !last:
			o.TLS.CACert = value()
		case a == "--cacertdir" && !last:
			o.TLS.CACertDir = value()
		case a == "--cert" && !last:
			o.TLS.Cert = value()
		case a == "--key" && !last:
			o.TLS.Key = value()
		case strings.HasPrefix(a, "-"):
			return nil, nil, usageErr("Unrecognized option or bad number of args for: '%s'", a)
		default:
			return o.finish(args[i:])
		}
	}
	return o.finish(nil)
}

func (o *Options) finish(cmd []string) (*Options, []string, error) {
	if o.Socket != "" && o.Cluster {
		return nil, nil, usageErr("Options -c and -s are mutually exclusive.")
	}
	if o.Resp2 && o.Resp3 {
		return nil, nil, usageErr("Options -2 and -3 are mutually exclusive.")
	}
	if !o.HasPass {
		if p, ok := os.LookupEnv("REDISCLI_AUTH"); ok {
			o.Pass, o.HasPass = p, true
		}
	}
	return o, cmd, nil
}

// parseURI reads redis://[[user]:password@]host[:port][/db]; rediss://
// turns TLS on.
func (o *Options) parseURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return usageErr("Invalid URI scheme")
	}
	o.TLS.Enabled = o.TLS.Enabled || u.Scheme == "rediss"
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			o.User, o.Pass, o.HasPass = u.User.Username(), p, true
		} else {
			o.Pass, o.HasPass = u.User.Username(), true
		}
	}
	if h := u.Hostname(); h != "" {
		o.Host = h
	}
	if p := u.Port(); p != "" {
		o.Port = atoi(p)
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		o.DB = atoi(db)
	}
	return nil
}

// atoi is C's atoi: the leading digits, 0 when there are none.
func atoi(s string) int {
	n, neg := 0, false
	s = strings.TrimLeft(s, " \t")
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// Usage is the help text of redgo cli.
const Usage = `Usage: redgo cli [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -s <socket>        Server socket (overrides hostname and port).
  -a <password>      Password to use when connecting to the server.
                     You can also use the REDISCLI_AUTH environment
                     variable to pass this password more safely
                     (if both are used, this argument takes precedence).
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  -u <uri>           Server URI (redis://[[user]:password@]host[:port][/db]).
  -r <repeat>        Execute specified command N times.
  -i <interval>      When -r is used, waits <interval> seconds per command.
                     It is possible to specify sub-second times like -i 0.1.
  -n <db>            Database number.
  -2                 Start session in RESP2 protocol mode.
  -3                 Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN.
  -d <delimiter>     Delimiter between response bulks for raw formatting (default: \n).
  -D <delimiter>     Delimiter between responses for raw formatting (default: \n).
  -c                 Enable cluster mode (follow -ASK and -MOVED redirections).
  -e                 Return exit error code when command execution fails.
  --tls              Establish a secure TLS connection.
  --sni <host>       Server name indication for TLS.
  --cacert <file>    CA Certificate file to verify with.
  --cacertdir <dir>  Directory where trusted CA certificates are stored.
  --insecure         Allow insecure TLS connection by skipping cert validation.
  --cert <file>      Client certificate to authenticate with.
  --key <file>       Private key file to authenticate with.
  --raw              Use raw formatting for replies (default when STDOUT is
                     not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --csv              Output in CSV format.
  --no-auth-warning  Don't show warning message when using password on command
                     line interface.
  --cluster <command> [args...] [opts...]
                     Cluster Manager command and arguments (see below).
  --help             Output this help and exit.
  --version          Output version and exit.

Examples:
  cat /etc/passwd | redgo cli -x set mypasswd
  redgo cli -r 100 lpush mylist x
  redgo cli -r 100 -i 1 info | grep used_memory_human:
  redgo cli -c -p 30001 set foo bar

Cluster Manager Commands:
  Use --cluster help to list all available cluster manager commands.

When no command is given, redgo cli starts in interactive mode, with line
editing, history (~/.redgocli_history, or the file REDGOCLI_HISTFILE names)
and argument hints.
`
