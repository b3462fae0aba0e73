// Command gen captures the command metadata (COMMAND and COMMAND DOCS over
// RESP3) of a running redis-server and writes it as JSON, so redgo reports
// the same arity, flags, key specs and docs for the commands it implements.
//
//	go run ./internal/commands/gen -addr 127.0.0.1:6379 > internal/commands/redis_commands.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"

	"redgo/internal/resp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "redis-server address")
	flag.Parse()
	c, err := net.Dial("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r := bufio.NewReaderSize(c, 1<<20)
	do := func(args ...string) resp.Value {
		var w resp.Writer
		w.Array(len(args))
		for _, a := range args {
			w.BulkString(a)
		}
		c.Write(w.Buf)
		v, err := resp.ReadValue(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return v
	}
	do("HELLO", "3")
	out := map[string]any{
		"info": do("COMMAND"),
		"docs": do("COMMAND", "DOCS"),
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
