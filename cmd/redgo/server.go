package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"syscall"

	"redgo/internal/config"
	"redgo/internal/procs"
	"redgo/internal/server"
)

func versionString() string {
	return "redgo server v=" + config.Version + " (Redis " + config.Version + " compatible)"
}

// runServer parses redis-server style arguments, starts the node and
// runs until SIGINT/SIGTERM or SHUTDOWN.
func runServer(args []string) int {
	path := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		path, args = args[0], args[1:]
	}
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-v") {
		fmt.Println(versionString())
		return 0
	}
	cfg, err := config.Load(path, args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cfg.Bool("daemonize") && os.Getenv("REDGO_DAEMON_CHILD") == "" {
		return daemonize()
	}
	if dir := cfg.Get("dir"); dir != "" {
		if err := os.Chdir(dir); err != nil {
			fmt.Fprintf(os.Stderr, "Can't chdir to '%s': %v\n", dir, err)
			return 1
		}
	}
	s, err := server.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.OpenLog(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.LoadData(); err != nil {
		s.Log.Printf("# %v", err)
		return 1
	}
	if err := s.ClusterVerifyData(); err != nil {
		s.Log.Printf("# %v", err)
		return 1
	}
	if err := s.Listen(); err != nil {
		s.Log.Printf("# %v", err)
		return 1
	}
	// One P until more get more done (procs): fewer cross-thread
	// wake-ups per request.
	defer procs.Start(s.Work)()
	pidfile := cfg.Get("pidfile")
	if pidfile == "" && cfg.Bool("daemonize") {
		pidfile = "/var/run/redis_" + cfg.Get("port") + ".pid"
	}
	if pidfile != "" {
		os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
		defer os.Remove(pidfile)
	}
	if path := os.Getenv("REDGO_CPUPROFILE"); path != "" {
		// Developer aid: a CPU profile of the whole run, written at shutdown.
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv("REDGO_MEMPROFILE"); path != "" {
		// Developer aid: where the whole run allocated (go tool pprof
		// -sample_index=alloc_space), written at shutdown.
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if path := os.Getenv("REDGO_TRACE"); path != "" {
		// Developer aid: an execution trace of the whole run (go tool trace).
		if f, err := os.Create(path); err == nil {
			trace.Start(f)
			defer trace.Stop()
		}
	}
	s.Log.Printf("redgo %s, pid=%d, just started", config.Version, os.Getpid())
	mode := "standalone"
	if cfg.Bool("cluster-enabled") {
		mode = "cluster"
	}
	if showLogo(cfg.Bool("always-show-logo"), cfg.Bool("syslog-enabled"), cfg.Get("logfile")) {
		s.LogRaw(logo(config.Version, mode, s.Port(), os.Getpid()))
	} else {
		s.Log.Printf("Running mode=%s, port=%d.", mode, s.Port())
	}
	s.Log.Printf("# Server initialized")
	done := make(chan struct{})
	s.OnShutdown(func() { close(done) })
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		failed := false
		for {
			select {
			case got := <-sig:
				if failed && got == syscall.SIGINT {
					// As Redis: a second SIGINT after a shutdown that
					// could not complete exits at once.
					s.Log.Printf("# You insist... exiting now.")
					os.Exit(1)
				}
				s.Log.Printf("# Received %s scheduling shutdown...", sigName(got))
				// As Redis: a SIGTERM saves when save rules are configured,
				// and a master lets its replicas catch up first. When that
				// fails (the save), the server goes on and the next
				// signal tries again.
				err := s.ShutdownGracefully(strings.TrimSpace(cfg.Get("save")) != "", s.ShutdownFailover(sigName(got)))
				if err == nil {
					return
				}
				failed = true
				s.Log.Printf("# %s received but errors trying to shut down the server, check the logs for more information", sigName(got))
			case <-done:
				return
			}
		}
	}()
	s.Log.Printf("Ready to accept connections tcp")
	if err := s.Serve(); err != nil {
		s.Log.Printf("# %v", err)
		return 1
	}
	<-done
	s.Log.Printf("# redgo is now ready to exit, bye bye...")
	return 0
}

func sigName(s os.Signal) string {
	if s == syscall.SIGINT {
		return "SIGINT"
	}
	return "SIGTERM"
}

// daemonize re-runs this process detached from the terminal and returns.
func daemonize() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), "REDGO_DAEMON_CHILD=1")
	devnull, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
