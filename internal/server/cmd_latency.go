package server

// LATENCY and INFO latencystats: the server's side of internal/latency
// (its configuration, where samples come from, the replies).

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"redgo/internal/commands"
	"redgo/internal/config"
	"redgo/internal/latency"
)

// latencyState is the latency monitor and the tracking settings.
type latencyState struct {
	mon      *latency.Monitor
	thresh   atomic.Int64 // latency-monitor-threshold, ms (0: off)
	tracking atomic.Bool  // latency-tracking
	pcts     atomic.Pointer[[]float64]
}

func (l *latencyState) init(cfg *config.Config) {
	l.mon = latency.NewMonitor()
	l.thresh.Store(cfg.Int("latency-monitor-threshold"))
	l.tracking.Store(cfg.Bool("latency-tracking"))
	l.setPercentiles(cfg.Get("latency-tracking-info-percentiles"))
	cfg.OnSet("latency-monitor-threshold", func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		l.thresh.Store(n)
		return nil
	})
	cfg.OnSet("latency-tracking", func(v string) error {
		l.tracking.Store(v == "yes")
		return nil
	})
	cfg.OnSet("latency-tracking-info-percentiles", func(v string) error {
		l.setPercentiles(v)
		return nil
	})
}

func (l *latencyState) setPercentiles(v string) {
	ps, err := config.ParsePercentiles(v)
	if err != nil {
		ps = []float64{50, 99, 99.9}
	}
	l.pcts.Store(&ps)
}

// sample records a latency of d for event when it reaches
// latency-monitor-threshold (Redis's latencyAddSampleIfNeeded).
func (l *latencyState) sample(event string, d time.Duration) {
	if th := l.thresh.Load(); th > 0 {
		if ms := d.Milliseconds(); ms >= th {
			l.mon.Add(event, ms, time.Now().Unix())
		}
	}
}

// command records a command's run: its histogram (latency-tracking) and
// the "command" / "fast-command" event.
func (l *latencyState) command(cmd *commands.Command, d time.Duration) {
	if l.tracking.Load() {
		h := cmd.Latency.Load()
		if h == nil {
			cmd.Latency.CompareAndSwap(nil, latency.NewHistogram())
			h = cmd.Latency.Load()
		}
		h.Record(d.Microseconds() * 1000) // Redis records whole microseconds
	}
	if l.thresh.Load() > 0 {
		event := "command"
		if cmd.Has(commands.FFast) {
			event = "fast-command"
		}
		l.sample(event, d)
	}
}

func init() {
	commands.Register("latency|latest", srvCmd(cmdLatencyLatest))
	commands.Register("latency|history", srvCmd(cmdLatencyHistory))
	commands.Register("latency|reset", srvCmd(cmdLatencyReset))
	commands.Register("latency|graph", srvCmd(cmdLatencyGraph))
	commands.Register("latency|doctor", srvCmd(cmdLatencyDoctor))
	commands.Register("latency|histogram", srvCmd(cmdLatencyHistogram))
	commands.Register("latency|help", cmdLatencyHelp)
}

func cmdLatencyLatest(s *Server, _ *Client, c *commands.Ctx) {
	latest := s.latency.mon.Latest()
	c.W.Array(len(latest))
	for _, e := range latest {
		c.W.Array(4)
		c.W.BulkString(e.Event)
		c.W.Int(e.Time)
		c.W.Int(e.Latency)
		c.W.Int(e.Max)
	}
}

func cmdLatencyHistory(s *Server, _ *Client, c *commands.Ctx) {
	hist := s.latency.mon.History(string(c.Args[2]))
	c.W.Array(len(hist))
	for _, h := range hist {
		c.W.Array(2)
		c.W.Int(h.Time)
		c.W.Int(h.Latency)
	}
}

func cmdLatencyReset(s *Server, _ *Client, c *commands.Ctx) {
	names := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		names = append(names, string(a))
	}
	c.W.Int(int64(s.latency.mon.Reset(names...)))
}

func cmdLatencyGraph(s *Server, _ *Client, c *commands.Ctx) {
	event := string(c.Args[2])
	g, ok := s.latency.mon.Graph(event, time.Now().Unix())
	if !ok {
		c.Error("ERR No samples available for event '" + event + "'")
		return
	}
	c.W.Verbatim(g, "txt")
}

func cmdLatencyDoctor(s *Server, _ *Client, c *commands.Ctx) {
	cfg := s.Cfg
	env := latency.DoctorEnv{
		Threshold:     s.latency.thresh.Load(),
		SlowlogSlower: s.slowlog.thresh.Load(),
		FsyncAlways:   cfg.Get("appendfsync") == "always",
		Hz:            int(cfg.Int("hz")),
		AnonHugePages: anonHugePages(),
	}
	c.W.Verbatim(s.latency.mon.Doctor(env, time.Now().Unix()), "txt")
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...]: for each
// command with samples (a container's subcommands with it), its calls
// and cumulative histogram. Unknown names are skipped.
func cmdLatencyHistogram(s *Server, _ *Client, c *commands.Ctx) {
	var cmds []*commands.Command
	if len(c.Args) == 2 {
		cmds = allCommands()
	} else {
		for _, a := range c.Args[2:] {
			cmd := lookupFullName(a)
			if cmd == nil {
				continue
			}
			cmds = append(cmds, cmd)
			cmds = append(cmds, cmd.SubCommands()...)
		}
	}
	type entry struct {
		name    string
		calls   int64
		buckets []latency.Bucket
	}
	var out []entry
	for _, cmd := range cmds {
		h := cmd.Latency.Load()
		if h == nil {
			continue
		}
		calls, b := h.CDF()
		out = append(out, entry{cmd.Name, calls, b})
	}
	c.W.Map(len(out))
	for _, e := range out {
		c.W.BulkString(e.name)
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(e.calls)
		c.W.BulkString("histogram_usec")
		c.W.Map(len(e.buckets))
		for _, b := range e.buckets {
			c.W.Int(b.Usec)
			c.W.Int(b.Cumulative)
		}
	}
}

func cmdLatencyHelp(c *commands.Ctx) {
	help(c, "LATENCY",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.")
}

// infoLatencystats is INFO's latencystats section: the configured
// percentiles of each command's latency, in microseconds.
func infoLatencystats(s *Server, add func(k, v string)) {
	ps := *s.latency.pcts.Load()
	for _, cmd := range allCommands() {
		h := cmd.Latency.Load()
		if h == nil {
			continue
		}
		vals := h.Percentiles(ps)
		var b strings.Builder
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("p" + config.FormatPercentile(p) + "=" + strconv.FormatFloat(float64(vals[i])/1000, 'f', 3, 64))
		}
		add("latency_percentiles_usec_"+cmd.Name, b.String())
	}
}

// anonHugePages reports whether the process has transparent huge pages
// (DOCTOR's advice), from /proc/self/smaps_rollup.
func anonHugePages() bool {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			f := strings.Fields(rest)
			return len(f) > 0 && f[0] != "0"
		}
	}
	return false
}
