package server

import (
	"bufio"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"redgo/internal/commands"
	"redgo/internal/config"
)

func init() {
	// LockAll: the keyspace section counts keys in every shard.
	commands.Register("info", srvCmd(cmdInfo), commands.LockAll())
}

// infoSection is one "# Title" block of INFO.
type infoSection struct {
	name  string // as INFO takes it
	title string // as the header shows it
	def   bool   // part of "default" (and of plain INFO)
	fn    func(s *Server, add func(k, v string))
}

// infoSections in Redis 7.0's order.
var infoSections = []infoSection{
	{"server", "Server", true, infoServer},
	{"clients", "Clients", true, infoClients},
	{"memory", "Memory", true, infoMemory},
	{"persistence", "Persistence", true, infoPersistence},
	{"stats", "Stats", true, infoStats},
	{"replication", "Replication", true, infoReplication},
	{"cpu", "CPU", true, infoCPU},
	{"modules", "Modules", true, func(*Server, func(k, v string)) {}},
	{"commandstats", "Commandstats", false, infoCommandstats},
	{"errorstats", "Errorstats", true, infoErrorstats},
	{"latencystats", "Latencystats", false, infoLatencystats},
	{"cluster", "Cluster", true, infoCluster},
	{"keyspace", "Keyspace", true, infoKeyspace},
}

// setInfoSection replaces the fields of one INFO section (persistence,
// replication... hook in here as they arrive).
func (s *Server) setInfoSection(name string, fn func(s *Server, add func(k, v string))) {
	s.admin.mu.Lock()
	defer s.admin.mu.Unlock()
	if s.admin.sections == nil {
		s.admin.sections = map[string]func(*Server, func(k, v string)){}
	}
	s.admin.sections[name] = fn
}

func cmdInfo(s *Server, cc *Client, c *commands.Ctx) {
	want := map[string]bool{}
	all, everything := false, false
	if len(c.Args) == 1 {
		want["default"] = true
	}
	for _, a := range c.Args[1:] {
		name := strings.ToLower(string(a))
		switch name {
		case "all":
			all = true
		case "everything":
			everything = true
		default:
			want[name] = true
		}
	}
	c.W.Verbatim(s.genInfo(want, all || everything), "txt")
}

// genInfo renders the selected sections ("default" selects the default set).
func (s *Server) genInfo(want map[string]bool, all bool) string {
	var b strings.Builder
	n := 0
	for _, sec := range infoSections {
		if !all && !want[sec.name] && !(want["default"] && sec.def) {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# ")
		b.WriteString(sec.title)
		b.WriteString("\r\n")
		fn := sec.fn
		s.admin.mu.Lock()
		if o := s.admin.sections[sec.name]; o != nil {
			fn = o
		}
		s.admin.mu.Unlock()
		fn(s, func(k, v string) {
			b.WriteString(k)
			b.WriteByte(':')
			b.WriteString(v)
			b.WriteString("\r\n")
		})
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa2(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

var buildID = randomHex(16)

func infoServer(s *Server, add func(k, v string)) {
	var u syscall.Utsname
	osName := "Linux"
	if syscall.Uname(&u) == nil {
		osName = cstr(u.Sysname[:]) + " " + cstr(u.Release[:]) + " " + cstr(u.Machine[:])
	}
	exe, _ := os.Executable()
	now := time.Now()
	uptime := int64(now.Sub(s.startTime).Seconds())
	mode := "standalone"
	if s.Cfg.Bool("cluster-enabled") {
		mode = "cluster"
	}
	port := strconv.Itoa(s.Port())
	add("redis_version", config.Version)
	add("redis_git_sha1", "00000000")
	add("redis_git_dirty", "0")
	add("redis_build_id", buildID)
	add("redis_mode", mode)
	add("os", osName)
	add("arch_bits", strconv.Itoa(strconv.IntSize))
	add("monotonic_clock", "POSIX clock_gettime")
	add("multiplexing_api", "epoll")
	add("atomicvar_api", "c11-builtin")
	add("gcc_version", "0.0.0")
	add("process_id", strconv.Itoa(os.Getpid()))
	add("process_supervised", "no")
	add("run_id", s.runID)
	add("tcp_port", port)
	add("server_time_usec", itoa(now.UnixMicro()))
	add("uptime_in_seconds", itoa(uptime))
	add("uptime_in_days", itoa(uptime/86400))
	add("hz", s.Cfg.Get("hz"))
	add("configured_hz", s.Cfg.Get("hz"))
	add("lru_clock", itoa(int64(s.KS.LRUClock()&(1<<24-1))))
	add("executable", exe)
	add("config_file", s.Cfg.File)
	add("io_threads_active", "0")
}

func cstr[T int8 | uint8](b []T) string {
	out := make([]byte, 0, len(b))
	for _, ch := range b {
		if ch == 0 {
			break
		}
		out = append(out, byte(ch))
	}
	return string(out)
}

func (s *Server) clientList() []*Client {
	s.mu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func infoClients(s *Server, add func(k, v string)) {
	clients := s.clientList()
	var maxIn, maxOut int64
	for _, c := range clients {
		maxIn = max(maxIn, c.snap.qbuf.Load())
		c.mu.Lock()
		maxOut = max(maxOut, int64(len(c.out)))
		c.mu.Unlock()
	}
	add("connected_clients", strconv.Itoa(len(clients)))
	add("cluster_connections", "0")
	add("maxclients", itoa(s.maxClients.Load()))
	add("client_recent_max_input_buffer", itoa(maxIn))
	add("client_recent_max_output_buffer", itoa(maxOut))
	add("blocked_clients", itoa(s.stats.BlockedClients.Load()))
	add("tracking_clients", strconv.FormatInt(s.track.Clients(), 10))
	add("clients_in_timeout_table", "0")
}

// bytesToHuman formats n as Redis's bytesToHuman.
func bytesToHuman(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return itoa(n) + "B"
	case n < 1<<20:
		return ftoa2(d/1024) + "K"
	case n < 1<<30:
		return ftoa2(d/(1<<20)) + "M"
	case n < 1<<40:
		return ftoa2(d/(1<<30)) + "G"
	case n < 1<<50:
		return ftoa2(d/(1<<40)) + "T"
	case n < 1<<60:
		return ftoa2(d/(1<<50)) + "P"
	}
	return itoa(n) + "B"
}

func readMemStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// processRSS returns the resident set size from /proc/self/statm.
func processRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func systemMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "MemTotal:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				kb, _ := strconv.ParseInt(fs[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func ratio(a, b int64) string { return ftoa2(fratio(a, b)) }

func infoMemory(s *Server, add func(k, v string)) {
	f := s.memFigures()
	used, peak, rss, startup := f.used, f.peak, f.rss, f.startup
	clientsMem, overhead, dataset := f.clientsNormal, f.overhead, f.dataset
	active, resident := f.active, f.resident
	total := systemMemory()
	maxmem := s.Cfg.Int("maxmemory")
	add("used_memory", itoa(used))
	add("used_memory_human", bytesToHuman(used))
	add("used_memory_rss", itoa(rss))
	add("used_memory_rss_human", bytesToHuman(rss))
	add("used_memory_peak", itoa(peak))
	add("used_memory_peak_human", bytesToHuman(peak))
	add("used_memory_peak_perc", ftoa2(float64(used)*100/float64(max(peak, 1)))+"%")
	add("used_memory_overhead", itoa(overhead))
	add("used_memory_startup", itoa(startup))
	add("used_memory_dataset", itoa(dataset))
	add("used_memory_dataset_perc", ftoa2(f.datasetPerc())+"%")
	add("allocator_allocated", itoa(f.allocated))
	add("allocator_active", itoa(active))
	add("allocator_resident", itoa(resident))
	add("total_system_memory", itoa(total))
	add("total_system_memory_human", bytesToHuman(total))
	// Scripts (internal/scripting): the cached bodies; the Lua states'
	// own memory is Go heap, counted in used_memory.
	scriptMem := f.scripts
	libs, fns := s.scripts.FunctionStats()
	add("used_memory_lua", "31744")
	add("used_memory_vm_eval", "31744")
	add("used_memory_lua_human", "31.00K")
	add("used_memory_scripts_eval", itoa(scriptMem))
	add("number_of_cached_scripts", itoa(int64(s.scripts.Len())))
	add("number_of_functions", itoa(int64(fns)))
	add("number_of_libraries", itoa(int64(libs)))
	add("used_memory_vm_functions", "32768")
	add("used_memory_vm_total", "64512")
	add("used_memory_vm_total_human", "63.00K")
	add("used_memory_functions", "0")
	add("used_memory_scripts", itoa(scriptMem))
	add("used_memory_scripts_human", bytesToHuman(scriptMem))
	add("maxmemory", itoa(maxmem))
	add("maxmemory_human", bytesToHuman(maxmem))
	add("maxmemory_policy", s.Cfg.Get("maxmemory-policy"))
	add("allocator_frag_ratio", ratio(active, used))
	add("allocator_frag_bytes", itoa(active-used))
	add("allocator_rss_ratio", ratio(resident, active))
	add("allocator_rss_bytes", itoa(resident-active))
	add("rss_overhead_ratio", ratio(rss, resident))
	add("rss_overhead_bytes", itoa(rss-resident))
	add("mem_fragmentation_ratio", ratio(rss, used))
	add("mem_fragmentation_bytes", itoa(rss-used))
	for _, k := range []string{"mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers",
		"mem_clients_slaves", "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer"} {
		v := "0"
		if k == "mem_clients_normal" {
			v = itoa(clientsMem)
		}
		add(k, v)
	}
	add("mem_allocator", runtime.Version())
	add("active_defrag_running", "0")
	add("lazyfree_pending_objects", "0")
	add("lazyfreed_objects", strconv.FormatInt(s.KS.LazyFreed.Load(), 10))
}

// infoPersistence reports "nothing happening" until persistence hooks in.
func infoPersistence(s *Server, add func(k, v string)) {
	s.persist.InfoRDB(add) // loading ... rdb_last_load_keys_loaded
	s.persist.InfoAOF(add) // aof_enabled ... aof_last_cow_size
	add("module_fork_in_progress", "0")
	add("module_fork_last_cow_size", "0")
	s.persist.InfoAOFSizes(add) // aof_current_size ... when the AOF is on
	s.persist.InfoLoading(add)  // loading_start_time ... while a load is visible
}

func infoStats(s *Server, add func(k, v string)) {
	st := &s.stats
	ops, in, out := s.admin.rates()
	p := s.pubsub
	p.mu.RLock()
	channels, patterns, shard := len(p.channels), len(p.patterns), len(p.shard)
	p.mu.RUnlock()
	add("total_connections_received", itoa(st.Connections.Load()))
	add("total_commands_processed", itoa(st.Commands.Load()))
	add("instantaneous_ops_per_sec", itoa(int64(ops)))
	add("total_net_input_bytes", itoa(st.NetIn.Load()))
	add("total_net_output_bytes", itoa(st.NetOut.Load()))
	add("total_net_repl_input_bytes", "0")
	add("total_net_repl_output_bytes", "0")
	add("instantaneous_input_kbps", ftoa2(in/1024))
	add("instantaneous_output_kbps", ftoa2(out/1024))
	add("instantaneous_input_repl_kbps", "0.00")
	add("instantaneous_output_repl_kbps", "0.00")
	add("rejected_connections", itoa(st.Rejected.Load()))
	full, pok, perr := s.repl.Stats()
	add("sync_full", itoa(full))
	add("sync_partial_ok", itoa(pok))
	add("sync_partial_err", itoa(perr))
	add("expired_keys", itoa(s.KS.ExpiredKeys.Load()+st.ExpiredKeys.Load()))
	add("expired_stale_perc", "0.00")
	add("expired_time_cap_reached_count", "0")
	add("expire_cycle_cpu_milliseconds", "0")
	add("evicted_keys", itoa(s.mem.evicted.Load()))
	add("evicted_clients", itoa(s.cev.evicted.Load()))
	for _, k := range []string{"total_eviction_exceeded_time", "current_eviction_exceeded_time"} {
		add(k, "0")
	}
	add("keyspace_hits", itoa(s.KS.Hits.Load()))
	add("keyspace_misses", itoa(s.KS.Misses.Load()))
	add("pubsub_channels", strconv.Itoa(channels))
	add("pubsub_patterns", strconv.Itoa(patterns))
	add("pubsubshard_channels", strconv.Itoa(shard))
	add("latest_fork_usec", "0")
	add("total_forks", itoa(s.persist.BackgroundJobs())) // redgo does not fork: the jobs Redis forks for
	add("migrate_cached_sockets", strconv.Itoa(s.migrate.Len()))
	for _, k := range []string{"slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
		"active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time",
		"tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"} {
		add(k, "0")
	}
	add("unexpected_error_replies", itoa(st.UnexpectedErrReplies.Load()))
	add("total_error_replies", itoa(st.ErrorReplies.Load()))
	add("dump_payload_sanitizations", "0")
	add("total_reads_processed", itoa(st.IOReadsProcessed.Load()))
	add("total_writes_processed", itoa(st.IOWritesProcessed.Load()))
	add("io_threaded_reads_processed", "0")
	add("io_threaded_writes_processed", "0")
	add("reply_buffer_shrinks", "0")
	add("reply_buffer_expands", "0")
}

func tvSeconds(tv syscall.Timeval) string {
	return strconv.FormatInt(int64(tv.Sec), 10) + "." + pad6(int64(tv.Usec))
}

func pad6(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < 6 {
		s = strings.Repeat("0", 6-len(s)) + s
	}
	return s
}

func infoCPU(s *Server, add func(k, v string)) {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	add("used_cpu_sys", tvSeconds(self.Stime))
	add("used_cpu_user", tvSeconds(self.Utime))
	add("used_cpu_sys_children", tvSeconds(children.Stime))
	add("used_cpu_user_children", tvSeconds(children.Utime))
	// Go has no main thread: the process totals stand in for it.
	add("used_cpu_sys_main_thread", tvSeconds(self.Stime))
	add("used_cpu_user_main_thread", tvSeconds(self.Utime))
}

// allCommands returns every registered command and subcommand.
func allCommands() []*commands.Command {
	var out []*commands.Command
	for _, c := range commands.All() {
		out = append(out, c)
		out = append(out, c.SubCommands()...)
	}
	return out
}

func infoCommandstats(s *Server, add func(k, v string)) {
	for _, c := range allCommands() {
		calls, usec := c.Calls.Load(), c.Usec.Load()
		rej, failed := c.RejectedCalls.Load(), c.FailedCalls.Load()
		if calls == 0 && rej == 0 && failed == 0 {
			continue
		}
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		add("cmdstat_"+c.Name, "calls="+itoa(calls)+",usec="+itoa(usec)+",usec_per_call="+ftoa2(per)+
			",rejected_calls="+itoa(rej)+",failed_calls="+itoa(failed))
	}
}

func infoErrorstats(s *Server, add func(k, v string)) {
	st := &s.stats
	st.errMu.Lock()
	names := make([]string, 0, len(st.errCounts))
	for k := range st.errCounts {
		names = append(names, k)
	}
	sort.Strings(names)
	counts := make([]int64, len(names))
	for i, k := range names {
		counts[i] = st.errCounts[k]
	}
	st.errMu.Unlock()
	for i, k := range names {
		add("errorstat_"+k, "count="+itoa(counts[i]))
	}
}

func infoCluster(s *Server, add func(k, v string)) {
	add("cluster_enabled", boolInt(s.Cfg.Bool("cluster-enabled")))
}

// infoKeyspace lists the non-empty databases. INFO runs with every shard
// locked.
func infoKeyspace(s *Server, add func(k, v string)) {
	for i := 0; i < s.KS.NumDB(); i++ {
		db := s.KS.DB(i)
		n := db.Len()
		if n == 0 {
			continue
		}
		add("db"+strconv.Itoa(i), "keys="+strconv.Itoa(n)+",expires="+strconv.Itoa(db.Expires())+",avg_ttl=0")
	}
}
