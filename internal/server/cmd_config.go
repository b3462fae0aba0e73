package server

import (
	"strconv"
	"strings"

	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/keyspace"
)

func init() {
	commands.Register("config|get", srvCmd(cmdConfigGet))
	// LockAll: hooks change limits that handlers read under shard locks.
	// So a Config.OnSet hook runs with every shard held and must not take
	// shard locks itself (start background work in a goroutine instead).
	commands.Register("config|set", srvCmd(cmdConfigSet), commands.LockAll())
	commands.Register("config|rewrite", srvCmd(cmdConfigRewrite))
	commands.Register("config|resetstat", srvCmd(cmdConfigResetstat))
	commands.Register("config|help", cmdConfigHelp)
}

// registerEncodingHooks points the keyspace's encoding thresholds
// (ks.Limits) at their directives: the startup value now, CONFIG SET later
// (CONFIG SET runs with every shard locked, so no handler reads a limit
// while it changes).
func registerEncodingHooks(cfg *config.Config, ks *keyspace.Keyspace) {
	for _, name := range ks.Limits.Names() {
		set := func(v string) error {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ks.Limits.Set(name, n)
			}
			return nil
		}
		set(cfg.Get(name))
		cfg.OnSet(name, set)
	}
}

// hasGlob reports whether a CONFIG GET argument is a pattern.
func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

func cmdConfigGet(s *Server, cc *Client, c *commands.Ctx) {
	s.recordReplicaof()
	var pairs [][2]string
	seen := map[string]bool{}
	var patterns []string
	for _, a := range c.Args[2:] {
		name := string(a)
		if hasGlob(name) {
			patterns = append(patterns, name)
			continue
		}
		// An exact name is echoed as given, as Redis does.
		lower := strings.ToLower(name)
		m := s.Cfg.Match([]string{lower}, func(p, n string) bool { return p == n })
		if len(m) == 1 && !seen[lower] {
			seen[lower] = true
			pairs = append(pairs, [2]string{name, m[0][1]})
		}
	}
	if len(patterns) > 0 {
		for _, kv := range s.Cfg.Match(patterns, func(p, n string) bool {
			return commands.GlobMatch([]byte(p), []byte(n), true)
		}) {
			if !seen[kv[0]] {
				seen[kv[0]] = true
				pairs = append(pairs, kv)
			}
		}
	}
	c.W.Map(len(pairs))
	for _, kv := range pairs {
		c.W.BulkString(kv[0])
		c.W.BulkString(kv[1])
	}
}

func cmdConfigSet(s *Server, cc *Client, c *commands.Ctx) {
	if (len(c.Args)-2)%2 != 0 {
		c.Error(commands.ErrSyntax)
		return
	}
	var pairs [][2]string
	for i := 2; i+1 < len(c.Args); i += 2 {
		pairs = append(pairs, [2]string{string(c.Args[i]), string(c.Args[i+1])})
	}
	if err := s.Cfg.SetAs(pairs, allowedBy(s.Cfg.Get("enable-protected-configs"), cc)); err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
}

func cmdConfigRewrite(s *Server, cc *Client, c *commands.Ctx) {
	s.recordReplicaof()
	if err := s.Cfg.Rewrite(); err != nil {
		s.Log.Printf("# CONFIG REWRITE failed: %v", err)
		c.Error(err.Error())
		return
	}
	s.Log.Printf("CONFIG REWRITE executed with success.")
	c.W.OK()
}

// srvCmd(cmdConfigResetstat) clears what Redis's resetServerStats,
// resetCommandTableStats and resetErrorTableStats clear.
func cmdConfigResetstat(s *Server, cc *Client, c *commands.Ctx) {
	s.resetStats()
	c.W.OK()
}

func (s *Server) resetStats() {
	st := &s.stats
	for _, a := range []interface{ Store(int64) }{&st.Connections, &st.Commands, &st.Rejected, &st.NetIn, &st.NetOut,
		&st.ExpiredKeys, &st.PubsubMessages, &st.ErrorReplies, &st.UnexpectedErrReplies,
		&st.IOReadsProcessed, &st.IOWritesProcessed, &s.KS.Hits, &s.KS.Misses, &s.KS.ExpiredKeys, &s.KS.LazyFreed} {
		a.Store(0)
	}
	st.errMu.Lock()
	st.errCounts = map[string]int64{}
	st.errMu.Unlock()
	for _, cmd := range allCommands() {
		cmd.Calls.Store(0)
		cmd.Usec.Store(0)
		cmd.RejectedCalls.Store(0)
		cmd.FailedCalls.Store(0)
		cmd.Latency.Store(nil)
	}
	s.repl.ResetStats() // sync_full, sync_partial_ok, sync_partial_err
	s.admin.peakMem.Store(0)
	s.admin.mu.Lock()
	s.admin.samples = [3]metricSamples{}
	s.admin.mu.Unlock()
}

func cmdConfigHelp(c *commands.Ctx) {
	help(c, "CONFIG",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.")
}
