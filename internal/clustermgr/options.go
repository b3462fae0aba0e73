package clustermgr

import (
	"fmt"
	"strconv"
	"strings"
)

// Options are the --cluster-* options and the connection options the
// subcommands use.
type Options struct {
	Replicas          int      // --cluster-replicas
	MasterID          string   // --cluster-master-id
	From, To          string   // --cluster-from, --cluster-to
	FromUser          string   // --cluster-from-user
	FromPass          string   // --cluster-from-pass
	Weights           []string // --cluster-weight n1=w1 ...
	Slots             int      // --cluster-slots
	Timeout           int      // --cluster-timeout (ms)
	Pipeline          int      // --cluster-pipeline
	Threshold         float64  // --cluster-threshold
	Yes               bool     // --cluster-yes
	Simulate          bool     // --cluster-simulate
	Replace           bool     // --cluster-replace
	Copy              bool     // --cluster-copy
	Slave             bool     // --cluster-slave
	UseEmptyMasters   bool     // --cluster-use-empty-masters
	SearchMultiOwners bool     // --cluster-search-multiple-owners
	FixUnreachable    bool     // --cluster-fix-with-unreachable-masters
	OnlyMasters       bool     // --cluster-only-masters
	OnlyReplicas      bool     // --cluster-only-replicas
	Verbose           bool     // --verbose

	User, Pass string // --user, -a/--pass
	HasPass    bool

	fix bool // the fix subcommand
}

// defaults are redis-cli's.
func defaults() Options {
	return Options{Timeout: 60000, Pipeline: 10, Threshold: 2}
}

// parse reads what follows --cluster: the subcommand, its arguments
// (the words up to the first option) and the options, which may come
// anywhere after it, as redis-cli reads them. Connection options that
// come before --cluster are in base.
func parse(base Options, args []string) (string, []string, Options, error) {
	o := base
	if len(args) == 0 {
		return "", nil, o, usageErr("--cluster needs a subcommand: redgo cli --cluster help lists them")
	}
	name := args[0]
	var cmdArgs []string
	i := 1
	for ; i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		cmdArgs = append(cmdArgs, args[i])
	}
	for ; i < len(args); i++ {
		a := args[i]
		last := i == len(args)-1
		next := func() string { i++; return args[i] }
		switch {
		case a == "--cluster-only-masters":
			o.OnlyMasters = true
		case a == "--cluster-only-replicas":
			o.OnlyReplicas = true
		case a == "--cluster-replicas" && !last:
			o.Replicas = atoi(next())
		case a == "--cluster-master-id" && !last:
			o.MasterID = next()
		case a == "--cluster-from" && !last:
			o.From = next()
		case a == "--cluster-to" && !last:
			o.To = next()
		case a == "--cluster-from-user" && !last:
			o.FromUser = next()
		case a == "--cluster-from-pass" && !last:
			o.FromPass = next()
		case a == "--cluster-weight" && !last:
			if o.Weights != nil {
				return "", nil, o, usageErr("WARNING: you cannot use --cluster-weight more than once.\n" +
					"You can set more weights by adding them as a space-separated list, ie:\n--cluster-weight n1=w n2=w")
			}
			o.Weights = []string{}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") && strings.Contains(args[i+1], "=") {
				o.Weights = append(o.Weights, next())
			}
		case a == "--cluster-slots" && !last:
			o.Slots = atoi(next())
		case a == "--cluster-timeout" && !last:
			o.Timeout = atoi(next())
		case a == "--cluster-pipeline" && !last:
			o.Pipeline = atoi(next())
		case a == "--cluster-threshold" && !last:
			o.Threshold, _ = strconv.ParseFloat(next(), 64)
		case a == "--cluster-yes":
			o.Yes = true
		case a == "--cluster-simulate":
			o.Simulate = true
		case a == "--cluster-replace":
			o.Replace = true
		case a == "--cluster-copy":
			o.Copy = true
		case a == "--cluster-slave":
			o.Slave = true
		case a == "--cluster-use-empty-masters":
			o.UseEmptyMasters = true
		case a == "--cluster-search-multiple-owners":
			o.SearchMultiOwners = true
		case a == "--cluster-fix-with-unreachable-masters":
			o.FixUnreachable = true
		case a == "--verbose":
			o.Verbose = true
		case (a == "-a" || a == "--pass") && !last:
			o.Pass, o.HasPass = next(), true
		case a == "--user" && !last:
			o.User = next()
		case a == "--help":
			return "help", nil, o, nil
		case a == "--no-auth-warning":
		default:
			return "", nil, o, usageErr("Unrecognized option or bad number of args for: '%s'", a)
		}
	}
	return name, cmdArgs, o, nil
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// command is one subcommand: its arity (negative: at least), its
// arguments and options for help, and its function.
type command struct {
	name  string
	arity int
	args  string
	opts  string
	run   func(m *Manager, args []string) bool
}

const hostArgs = "<host:port> or <host> <port> - separated by either colon or space"

var commands []command

func init() {
	commands = []command{
		{"create", -2, "host1:port1 ... hostN:portN", "replicas <arg>", (*Manager).create},
		{"check", -1, hostArgs, "search-multiple-owners", (*Manager).check},
		{"info", -1, hostArgs, "", (*Manager).info},
		{"fix", -1, hostArgs, "search-multiple-owners,fix-with-unreachable-masters", (*Manager).fixCmd},
		{"reshard", -1, hostArgs, "from <arg>,to <arg>,slots <arg>,yes,timeout <arg>,pipeline <arg>,replace", (*Manager).reshard},
		{"rebalance", -1, hostArgs, "weight <node1=w1...nodeN=wN>,use-empty-masters,timeout <arg>,simulate,pipeline <arg>,threshold <arg>,replace", (*Manager).rebalance},
		{"add-node", 2, "new_host:new_port existing_host:existing_port", "slave,master-id <arg>", (*Manager).addNode},
		{"del-node", 2, "host:port node_id", "", (*Manager).delNode},
		{"call", -2, "host:port command arg arg .. arg", "only-masters,only-replicas", (*Manager).call},
		{"set-timeout", 2, "host:port milliseconds", "", (*Manager).setTimeout},
		{"import", 1, "host:port", "from <arg>,from-user <arg>,from-pass <arg>,from-askpass,copy,replace", (*Manager).importCmd},
		{"backup", 2, "host:port backup_directory", "", (*Manager).backup},
		{"help", 0, "", "", (*Manager).help},
	}
}

// Help is redis-cli --cluster help's text.
func Help() string {
	var b strings.Builder
	b.WriteString("Cluster Manager Commands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-15s%s\n", c.name, c.args)
		if c.opts == "" {
			continue
		}
		for _, o := range strings.Split(c.opts, ",") {
			fmt.Fprintf(&b, "  %-15s--cluster-%s\n", "", o)
		}
	}
	b.WriteString("\nFor check, fix, reshard, del-node, set-timeout, info, rebalance, call, import, backup " +
		"you can specify the host and port of any working node in the cluster.\n")
	b.WriteString("\nCluster Manager Options:\n")
	b.WriteString("  --cluster-yes  Automatic yes to cluster commands prompts\n\n")
	return b.String()
}

const invalidHostArg = "[ERR] Invalid arguments: you need to pass either a valid address " +
	"(ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)\n"

// hostFromArgs is getClusterHostFromCmdArgs: "ip:port" or "ip port".
func hostFromArgs(args []string) (string, int, bool) {
	var ip string
	var port int
	if len(args) == 1 {
		var ok bool
		ip, port, _, ok = parseAddr(args[0])
		if !ok {
			return "", 0, false
		}
	} else if len(args) >= 2 {
		ip, port = args[0], atoi(args[1])
	}
	if ip == "" || port == 0 {
		return "", 0, false
	}
	return ip, port, true
}
