package latency

import (
	"fmt"
	"strings"
)

// DoctorEnv is what DOCTOR's advice depends on besides the events.
type DoctorEnv struct {
	Threshold        int64 // latency-monitor-threshold, ms
	SlowlogSlower    int64 // slowlog-log-slower-than, µs
	FsyncAlways      bool  // appendfsync always
	Hz               int
	AnonHugePages    bool // the process has transparent huge pages
	ForkRateGBPerSec float64
}

// Doctor is LATENCY DOCTOR's report, with Redis's wording: every event
// with its statistics, then the advice those events call for.
func (m *Monitor) Doctor(env DoctorEnv, now int64) string {
	names, stats := m.eventStats(now)
	if len(names) == 0 && env.Threshold == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
			"You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. " +
			"If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	advise := map[string]bool{}
	advices := 0
	flag := func(names ...string) {
		for _, n := range names {
			advise[n] = true
			advices++
		}
	}
	for i, e := range names {
		ls := stats[i]
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, e, ls.Samples, ls.Avg, ls.MAD, float64(ls.Period)/float64(ls.Samples), ls.AllTimeHigh)
		switch strings.ToLower(e) {
		case "fork":
			quality := "excellent"
			switch r := env.ForkRateGBPerSec; {
			case r < 10:
				quality = "terrible"
				flag("better_vm")
			case r < 25:
				quality = "poor"
				flag("better_vm")
			case r < 100:
				quality = "good"
			}
			fmt.Fprintf(&b, " Fork rate is %.2f GB/sec (%s).", env.ForkRateGBPerSec, quality)
		case "command":
			if env.SlowlogSlower < 0 {
				flag("slowlog_enabled")
			} else if env.SlowlogSlower/1000 > env.Threshold {
				flag("slowlog_tuning")
			}
			flag("slowlog_inspect", "large_objects")
		case "fast-command":
			flag("scheduler")
		case "aof-write-pending-fsync":
			flag("local_disk", "disk_contention", "ssd", "data_writeback")
		case "aof-write-active-child":
			flag("no_appendfsync", "data_writeback", "ssd")
		case "aof-write-alone":
			flag("local_disk", "data_writeback", "ssd")
		case "aof-fsync-always":
			flag("relax_fsync_policy")
		case "aof-fstat", "rdb-unlink-temp-file":
			flag("disk_contention", "local_disk")
		case "aof-rewrite-diff-write", "aof-rename":
			flag("write_load_info", "data_writeback", "ssd", "local_disk")
		case "expire-cycle":
			flag("hz", "large_objects")
		case "eviction-del":
			flag("large_objects")
		case "eviction-cycle":
			flag("mass_eviction")
		}
		b.WriteByte('\n')
	}
	if env.AnonHugePages {
		flag("disable_thp")
	}
	switch {
	case len(names) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. " +
			"I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
		return b.String()
	case advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. " +
			"Please use the Redis community to get some help, providing this report in your help request.\n")
		return b.String()
	}
	b.WriteString("\nI have a few advices for you:\n\n")
	for _, a := range adviceOrder {
		if !advise[a.name] || (a.when != nil && !a.when(env)) {
			continue
		}
		if a.name == "slowlog_enabled" || a.name == "slowlog_tuning" {
			fmt.Fprintf(&b, a.text, env.Threshold*1000)
		} else {
			b.WriteString(a.text)
		}
	}
	return b.String()
}

// adviceOrder is DOCTOR's advice, in the order Redis prints it.
var adviceOrder = []struct {
	name string
	when func(DoctorEnv) bool
	text string
}{
	{"better_vm", nil, "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n"},
	{"slowlog_enabled", nil, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"},
	{"slowlog_tuning", nil, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n"},
	{"slowlog_inspect", nil, "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"},
	{"scheduler", nil, "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
		"  1) Lower the system load.\n" +
		"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
		"  3) Check if you have a \"noisy neighbour\" problem.\n" +
		"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
		"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"},
	{"local_disk", nil, "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n"},
	{"ssd", nil, "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n"},
	{"data_writeback", nil, "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n"},
	{"disk_contention", nil, "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n"},
	{"no_appendfsync", nil, "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n"},
	{"relax_fsync_policy", func(e DoctorEnv) bool { return e.FsyncAlways }, "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n"},
	{"write_load_info", nil, "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n"},
	{"hz", func(e DoctorEnv) bool { return e.Hz < 100 }, "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n"},
	{"large_objects", nil, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"},
	{"mass_eviction", nil, "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n"},
	{"disable_thp", nil, "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n"},
}
