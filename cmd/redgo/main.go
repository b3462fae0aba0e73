// Command redgo is the one binary of the project. Subcommands:
//
//	redgo server [config-file] [--directive value ...]   run a node (same arguments as redis-server)
//	redgo cli [options] [command ...]                    a client with redis-cli's options and output
//	redgo cluster up|start|create|stop|watch|...         run a local cluster (as create-cluster)
//	redgo consistency-test [-h HOST] [-p PORT]           check acknowledged writes survive a failover
//	redgo check-rdb FILE                                 verify an RDB file
//	redgo check-aof [--fix] <file.manifest|file.aof>     check an AOF, as redis-check-aof
package main

import (
	"fmt"
	"os"
	"strings"
)

func usage() {
	fmt.Fprintf(os.Stderr, `Usage: redgo <command> [arguments]

Commands:
  server [config-file] [--directive value ...]   run a node (arguments as redis-server)
  cli [options] [command [arg ...]]             a client: redis-cli's options and output (-c for a cluster)
  cluster up|start|create|stop|watch|tail|call|clean|clean-logs
                                                 a local cluster: up starts 3 masters + 3 replicas
                                                 on ports 30001-30006 (redgo cluster --help)
  consistency-test [-h HOST] [-p PORT]          check a cluster keeps acknowledged writes (run it during a failover)
  check-aof [--fix] <file.manifest|file.aof>     check (and repair) an append-only file
  check-rdb FILE                                 verify an RDB file (as redis-check-rdb)
  version                                        print the version
`)
}

// helps are the --help texts of the commands that have no flag parser
// of their own.
var helps = map[string]string{
	"server": `Usage: redgo server [/path/to/redis.conf] [--directive value ...]
       redgo server -v or --version

Runs a node. Arguments are redis-server's: a redis.conf file, then
directives as --name value, which override the file. Examples:
  redgo server --port 6380
  redgo server /etc/redis/6379.conf --loglevel verbose
  redgo server --port 7000 --cluster-enabled yes --appendonly yes
`,
	"check-aof": `Usage: redgo check-aof [--fix] <file.manifest|file.aof>

Checks an append-only file (or the files of a multi-part AOF's manifest),
as redis-check-aof does; --fix truncates a damaged tail after asking.
`,
	"check-rdb": `Usage: redgo check-rdb FILE

Verifies an RDB file (as redis-check-rdb): its structure, every value and
the checksum.
`,
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(1)
	}
	if len(os.Args) == 3 && (os.Args[2] == "--help" || os.Args[2] == "-h") && helps[os.Args[1]] != "" {
		fmt.Print(helps[os.Args[1]])
		return
	}
	var code int
	switch os.Args[1] {
	case "server":
		code = runServer(os.Args[2:])
	case "cli":
		code = runCli(os.Args[2:])
	case "cluster":
		code = runCluster(os.Args[2:], os.Stdout, os.Stderr)
	case "consistency-test":
		code = runConsistency(os.Args[2:], os.Stdout, os.Stderr)
	case "check-aof":
		code = runCheckAOF(os.Args[2:], os.Stdin, os.Stdout)
	case "check-rdb":
		code = runCheckRDB(os.Args[2:], os.Stdout)
	case "version", "--version", "-v":
		fmt.Println(versionString())
	case "help", "-h", "--help":
		usage()
	default:
		if strings.HasPrefix(os.Args[1], "-") || strings.HasSuffix(os.Args[1], ".conf") {
			code = runServer(os.Args[1:]) // redis-server style invocation
		} else {
			fmt.Fprintf(os.Stderr, "redgo: unknown command %q\n", os.Args[1])
			usage()
			code = 1
		}
	}
	os.Exit(code)
}
