package server

// FUNCTION and FCALL: functions run as EVAL's scripts do (runScript), with
// the flags their library registered them with.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"
	"time"

	"redgo/internal/commands"
	"redgo/internal/rdb"
	"redgo/internal/scripting"
)

func init() {
	for _, name := range []string{"fcall", "fcall_ro"} {
		commands.Register(name, srvCmd(cmdFcall), commands.KeysFunc(evalKeys), commands.LockAllWhen(scriptLocksAll),
			commands.LockSerialWhen(scriptSerial))
	}
	// Loading a library waits for the running function (the functions'
	// state): outside cluster mode, in EXEC, it must not wait while
	// holding some shards only, since a serial FCALL may be waiting for
	// one of them (scriptSerial).
	commands.Register("function|load", srvCmd(cmdFunctionLoad), commands.LockAllWhen(scriptSerial))
	commands.Register("function|delete", srvCmd(cmdFunctionDelete))
	commands.Register("function|flush", srvCmd(cmdFunctionFlush))
	commands.Register("function|list", srvCmd(cmdFunctionList))
	commands.Register("function|kill", srvCmd(cmdFunctionKill))
	commands.Register("function|stats", srvCmd(cmdFunctionStats))
	commands.Register("function|help", srvCmd(func(s *Server, cc *Client, c *commands.Ctx) { c.W.BulkStrings(functionHelp) }))
}

var functionHelp = []string{
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
	"HELP",
	"    Prints this help.",
}

func cmdFcall(s *Server, cc *Client, c *commands.Ctx) {
	ro := c.Cmd.Name == "fcall_ro"
	fn := s.scripts.Function(c.Args[1])
	if fn == nil {
		c.Error("ERR Function not found")
		return
	}
	if _, ok := commands.ParseInt(c.Args[2]); !ok {
		c.Error("ERR Bad number of keys provided")
		return
	}
	nk, ok := numKeys(c)
	if !ok {
		return
	}
	if msg := s.scriptRefusal(cc, fn.Flags, ro); msg != "" {
		c.Error(msg)
		return
	}
	run := &scripting.Run{Function: fn, Name: fn.Name, Keys: c.Args[3 : 3+nk], Args: c.Args[3+nk:],
		ReadOnly: ro || fn.Flags&scripting.FlagNoWrites != 0, Command: c.Args}
	s.runScript(cc, c, run, fn.Flags)
}

func cmdFunctionLoad(s *Server, cc *Client, c *commands.Ctx) {
	replace := false
	i := 2
	for ; i < len(c.Args)-1; i++ {
		if !c.ArgIs(i, "replace") {
			c.Error("ERR Unknown option given: " + string(c.Args[i]))
			return
		}
		replace = true
	}
	if i >= len(c.Args) {
		c.Error("ERR Function code is missing")
		return
	}
	name, errText := s.scripts.LoadLibrary(string(c.Args[i]), replace)
	if errText != "" {
		c.Error(errText)
		return
	}
	c.Dirty++
	c.W.BulkString(name)
}

func cmdFunctionDelete(s *Server, cc *Client, c *commands.Ctx) {
	if !s.scripts.DeleteLibrary(string(c.Args[2])) {
		c.Error("ERR Library not found")
		return
	}
	c.Dirty++
	c.W.OK()
}

func cmdFunctionFlush(s *Server, cc *Client, c *commands.Ctx) {
	if len(c.Args) > 3 {
		c.Error("ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.")
		return
	}
	if len(c.Args) == 3 && !c.ArgIs(2, "sync") && !c.ArgIs(2, "async") {
		c.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	s.scripts.FlushFunctions()
	c.Dirty++
	c.W.OK()
}

func cmdFunctionList(s *Server, cc *Client, c *commands.Ctx) {
	withCode, pattern, named := false, "", false
	for i := 2; i < len(c.Args); i++ {
		switch {
		case c.ArgIs(i, "withcode") && !withCode:
			withCode = true
		case c.ArgIs(i, "libraryname") && !named:
			named = true
			if i+1 >= len(c.Args) {
				c.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern = string(c.Args[i])
		default:
			c.Error("ERR Unknown argument " + string(c.Args[i]))
			return
		}
	}
	var libs []*scripting.Library
	for _, l := range s.scripts.Libraries() {
		if pattern == "" || commands.GlobMatch([]byte(pattern), []byte(l.Name), false) {
			libs = append(libs, l)
		}
	}
	c.W.Array(len(libs))
	for _, l := range libs {
		n := 3
		if withCode {
			n = 4
		}
		c.W.Map(n)
		c.W.BulkString("library_name")
		c.W.BulkString(l.Name)
		c.W.BulkString("engine")
		c.W.BulkString("LUA")
		c.W.BulkString("functions")
		c.W.Array(len(l.Functions))
		for _, fn := range l.Functions {
			c.W.Map(3)
			c.W.BulkString("name")
			c.W.BulkString(fn.Name)
			c.W.BulkString("description")
			if fn.Desc == "" {
				c.W.Null()
			} else {
				c.W.BulkString(fn.Desc)
			}
			c.W.BulkString("flags")
			flags := scripting.FlagNames(fn.Flags)
			c.W.Set(len(flags))
			for _, f := range flags {
				c.W.Simple(f)
			}
		}
		if withCode {
			c.W.BulkString("library_code")
			c.W.BulkString(l.Code)
		}
	}
}

func cmdFunctionKill(s *Server, cc *Client, c *commands.Ctx) {
	if msg := s.scripts.Kill(false); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

func cmdFunctionStats(s *Server, cc *Client, c *commands.Ctx) {
	c.W.Map(2)
	c.W.BulkString("running_script")
	if r := s.scripts.Busy(); r != nil && !r.Eval {
		c.W.Map(3)
		c.W.BulkString("name")
		c.W.BulkString(r.Name)
		c.W.BulkString("command")
		c.W.Array(len(r.Command))
		for _, a := range r.Command {
			c.W.Bulk(a)
		}
		c.W.BulkString("duration_ms")
		c.W.Int(time.Since(r.Start).Milliseconds())
	} else {
		c.W.Null()
	}
	c.W.BulkString("engines")
	c.W.Map(1)
	c.W.BulkString("LUA")
	c.W.Map(2)
	c.W.BulkString("libraries_count")
	c.W.Int(int64(len(s.scripts.Libraries())))
	c.W.BulkString("functions_count")
	c.W.Int(int64(s.scripts.FunctionCount()))
}

func init() {
	commands.Register("function|dump", srvCmd(cmdFunctionDump))
	commands.Register("function|restore", srvCmd(cmdFunctionRestore), commands.LockAllWhen(scriptSerial))
}

// cmdFunctionDump is FUNCTION DUMP: every library as a FUNCTION2 RDB
// entry, then the RDB version and a CRC-64, as DUMP payloads.
func cmdFunctionDump(s *Server, cc *Client, c *commands.Ctx) {
	var b []byte
	for _, l := range s.scripts.Libraries() {
		b = rdb.AppendFunction(b, []byte(l.Code), false)
	}
	b = binary.LittleEndian.AppendUint16(b, rdb.Version)
	b = binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b))
	c.W.Bulk(b)
}

// cmdFunctionRestore is FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
func cmdFunctionRestore(s *Server, cc *Client, c *commands.Ctx) {
	policy := "append"
	if len(c.Args) > 4 {
		c.Error("ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.")
		return
	}
	if len(c.Args) == 4 {
		policy = strings.ToLower(string(c.Args[3]))
		if policy != "flush" && policy != "append" && policy != "replace" {
			c.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	p := c.Args[2]
	if rdb.VerifyDump(p) != nil {
		c.Error("ERR DUMP payload version or checksum are wrong")
		return
	}
	r := bufio.NewReader(bytes.NewReader(p[:len(p)-10]))
	d := rdb.NewDecoder(r)
	var codes []string
	for {
		op, err := r.ReadByte()
		if err != nil {
			break
		}
		if op != 245 {
			c.Error("ERR given type is not a function")
			return
		}
		code, err := d.String()
		if err != nil {
			c.Error("ERR can not read data type")
			return
		}
		codes = append(codes, string(code))
	}
	if policy == "append" {
		existing := map[string]bool{}
		for _, l := range s.scripts.Libraries() {
			existing[l.Name] = true
		}
		for _, code := range codes {
			if name, _, _, errText := scripting.LibraryMeta(code); errText == "" && existing[name] {
				c.Error("ERR Library " + name + " already exists")
				return
			}
		}
	}
	if policy == "flush" {
		s.scripts.FlushFunctions()
	}
	for _, code := range codes {
		if _, errText := s.scripts.LoadLibrary(code, policy != "append"); errText != "" {
			c.Error(errText)
			return
		}
	}
	c.Dirty++
	c.W.OK()
}
