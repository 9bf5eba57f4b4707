package pid1

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/hostlink"
	"github.com/minispawn/minispawn/init/supervise"
	"golang.org/x/sys/unix"
)

// Run does miniinit's whole job: it sets up, starts opts.Workloads, runs
// the event loop until the main workload has ended and the drain is over,
// and returns the exit code for the process (see exitcode.go): the main
// workload's, or ExitSetup when setup failed and nothing was started.
//
// Run changes process-wide state (signal dispositions, the working
// directory, the subreaper flag, descriptors, /proc) and waits for every
// child of the process, so it is for a process that does nothing else: call
// it from main, on the main goroutine locked to the main thread, and exit
// with what it returns. Once setup is done, Run releases that lock, the
// caller's included: see below.
func Run(opts Options) int {
	// Setup runs on the main thread: the name (step 1) and the
	// parent-death signal (step 3) belong to the thread that sets them.
	runtime.LockOSThread()

	// Descriptors 0-2 must exist before anything opens a file: a closed
	// one would be taken by the first file opened and reach the workload.
	stdio := ensureStdio()
	log, logw := newLogger(opts.Verbosity)
	defer logw.Close()

	if err := opts.validate(); err != nil {
		log.Error("invalid options", "err", err)
		return ExitSetup
	}
	l, err := setup(opts, log, logw, stdio)
	if err != nil {
		log.Error("setup", "err", err)
		return ExitSetup
	}
	// No signal.Stop on the way out: the process exits, and Stop would
	// wait about a millisecond for os/signal to go idle, for nothing.

	// Nothing from here on is thread-scoped, and the loop runs unlocked
	// (both locks: Run's and the caller's), so that the runtime can run
	// it on the thread that os/signal woke up for a signal rather than
	// wake the main thread as well: about 20% less forwarding latency on
	// a 2-core VM. The main thread lives on (the runtime ends only
	// threads a goroutine exits locked to), and so do the ones workloads
	// are forked from, so no parent-death signal fires early.
	runtime.UnlockOSThread()
	runtime.UnlockOSThread()

	// Children inherited from whoever executed miniinit (a shell's
	// background jobs) are reaped like any orphan; then the workloads,
	// as the machine orders them.
	l.reap()
	l.safely(func() { l.handle(supervise.Boot{}) })
	// No debug.FreeOSMemory here: measured (contrib/bench B1, B2), the
	// forced GC cycle costs 1-3 ms of start-up and leaves ~250 KiB more
	// resident (mark workers' stacks and GC metadata) than the parse's
	// garbage it returns, with or without a configuration file.
	code := l.run()
	l.finish()
	logw.flushRepeats() // before the report, which a stderr report ends with
	l.writeReport(code)
	return code
}

// finish lets the output of the last workloads reach stdout and stderr
// (a pipe a survivor still holds is read until it is dry, after a
// second), and closes what the run opened. See flushOutput for how long
// it waits.
func (l *loop) finish() {
	if l.out != nil {
		l.flushOutput()
	}
	if l.notify != nil {
		l.notify.Close()
	}
	if l.ctl != nil {
		l.ctl.Close()
	}
	if l.cgroups != nil {
		l.cgroups.remove()
	}
}

// setup runs the steps before the first workload starts. Their order
// matters; each says why it comes where it does. An error here means
// nothing was started, and Run exits with ExitSetup.
func setup(opts Options, log *slog.Logger, logw *logWriter, stdio []uintptr) (*loop, error) {
	l := &loop{
		log: log, logw: logw, opts: opts, self: unix.Getpid(), stdio: stdio,
		procs: map[int]*process{}, leftovers: map[string]*process{}, probes: map[int]*execProbe{}, works: map[string]*work{},
		events: make(chan any, 256), devNull: -1,
	}
	parentAtStart := unix.Getppid()

	// 1. Name: first, so that ps and /proc show "miniinit" from here on,
	//    even when the binary was executed from a memfd.
	if err := setName("miniinit"); err != nil {
		log.Debug("set process name", "err", err)
	}
	// 1a. Not dumpable: before anything it holds is worth taking (the
	//     channel to minispawn, step 2a), so no workload can take its
	//     descriptors or read its memory (dumpable_linux.go).
	if err := becomeNonDumpable(); err != nil {
		return nil, err
	}

	// 2. Signals, before anything is started: from here on no signal
	//    sent to miniinit takes its default action (for SIGTERM, SIGINT
	//    and SIGHUP, the exit of PID 1), a SIGTSTP cannot stop it, and a
	//    SIGCHLD that comes before the loop runs waits in the channel.
	//    The list is explicit: see signals.go for why.
	var sigs []os.Signal
	for _, s := range intake() {
		sigs = append(sigs, s)
	}
	l.sigs = make(chan os.Signal, 256)
	register(l.sigs, sigs)
	// 2a. The channel to minispawn, and the news that signals are
	//     caught: minispawn sends none before it, since the kernel drops
	//     a signal this PID 1 has no handler for (hostlink_linux.go). It
	//     is taken as a close-on-exec copy, so step 7 does not close it.
	l.openHostLink()
	l.hostSend(hostlink.Message{{Key: hostlink.SignalsCaught, Value: "1"}})

	// 3. Parent-death signal: after step 2, so that the signal, when it
	//    comes, is caught and forwarded rather than ending miniinit.
	if opts.ParentDeathSignal != 0 {
		if err := setParentDeathSignal(opts.ParentDeathSignal, parentAtStart); err != nil {
			return nil, err
		}
	}

	// 4. Reaper: PID 1 is its namespace's reaper already. Anything else
	//    becomes a child subreaper, before the first fork, so that even
	//    the first workload's orphans come to miniinit.
	l.isPID1 = l.self == 1
	//    No warning when asked to (-s) or when whoever executed miniinit
	//    made it one already: either way it is what was meant.
	if !l.isPID1 {
		already := isSubreaper()
		if err := becomeSubreaper(); err != nil {
			log.Warn("cannot become a child subreaper: orphans will not be reaped or drained by miniinit", "err", err)
		} else if !opts.Subreaper && !already {
			log.Warn("not PID 1: running as a child subreaper, so orphans are still reaped and drained (-s silences this)")
		}
	}

	// 5. Working directory: workloads start where miniinit was started
	//    (docker's WORKDIR); miniinit itself moves to "/" so that it pins
	//    no mount for as long as the container lives (catatonit#28). A
	//    relative report path keeps meaning what the user meant.
	dir, err := os.Getwd()
	if err != nil {
		log.Warn("cannot read the working directory; workloads start in /", "err", err)
		dir = "/"
	}
	l.startDir = dir
	if r := l.opts.Report; r != "" && r != "-" && !filepath.IsAbs(r) {
		l.opts.Report = filepath.Join(dir, r)
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, sysErr("chdir /", err)
	}

	// 6. /proc, PID 1 only: before step 7, which lists /proc/self/fd, and
	//    before any workload, which expects a /proc of its namespace.
	if l.isPID1 {
		if err := ensureProc(log); err != nil {
			return nil, err
		}
	}
	l.procOK = procIsOurs()

	// 7. Descriptors, before the first fork: keep the socket-activation
	//    ones for the main workload, close everything else inherited.
	env := os.Environ()
	listen, err := takeListenFDs(env, l.self)
	if err != nil {
		log.Warn("not passing socket-activation descriptors on", "err", err)
	}
	l.listen = listen
	l.environ = withoutKeys(env, listenKeys...)
	closed, err := closeInherited(3 + l.listen.n)
	if err != nil {
		log.Warn("closing inherited descriptors", "err", err)
	}
	if len(closed) > 0 {
		log.Debug("closed inherited descriptors", "fds", closed)
	}
	if l.listen.n > 0 {
		l.shimOK = l.procOK && unix.Access(selfExe, unix.X_OK) == nil
		if !l.shimOK {
			log.Warn("cannot set LISTEN_PID for the main workload (needs /proc/self/exe); passing the descriptors without it")
		}
	}
	l.startSig = l.workloadSignals()
	if l.startSig.ignored != 0 && !(l.procOK && unix.Access(selfExe, unix.X_OK) == nil) {
		log.Warn("workloads cannot inherit the signals miniinit was started with ignored (needs /proc/self/exe)", "signals", l.startSig.String())
		l.startSig.ignored = 0
	}

	// 8. Terminal: the main workload takes the foreground only if
	//    miniinit holds it (tini's job control, without stealing the
	//    terminal when miniinit is a shell's background job).
	l.tty = foregroundTTY()
	_, err = unix.IoctlGetTermios(0, unix.TCGETS)
	l.ttyIn = err == nil

	// 9. Supervision: after step 7, so that the descriptors opened here
	//    (/dev/null, the notify socket, the output pipes' writer) are
	//    not taken for inherited ones and closed.
	if err := l.setupSupervision(); err != nil {
		return nil, err
	}
	return l, nil
}

// setupSupervision makes the state machine and what the workloads need
// from miniinit: /dev/null, the output writer and the notify socket
// (supervised mode), the control socket when asked for.
func (l *loop) setupSupervision() error {
	o := &l.opts
	mopts := supervise.Options{StopBudget: o.StopBudget, Routes: o.Routes, ZeroOnStop: o.ZeroOnStop}
	if o.Seed != 0 {
		mopts.Rand = supervise.NewRand(o.Seed)
	}
	m, err := supervise.New(specs(o.Workloads), mopts)
	if err != nil {
		return err
	}
	l.m = m
	for _, w := range o.Workloads {
		wk := &work{w: w}
		l.works[w.Name] = wk
		l.order = append(l.order, wk)
		if w.Main {
			l.main = wk
		}
	}
	if fd, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0); err == nil {
		l.devNull = fd
	}
	if !o.Supervised {
		return nil
	}
	// The service manager's NOTIFY_SOCKET, if miniinit was given one,
	// is not the workloads' to use: they get miniinit's own.
	l.environ = withoutKeys(l.environ, "NOTIFY_SOCKET")
	l.out = newOutputMux(int(l.stdio[1]), int(l.stdio[2]), l.log)
	id := instanceID(l.self)
	if t, err := setupCgroups(id); err != nil {
		l.log.Info("no cgroups for the workloads; tracking them by process group", "err", err)
	} else {
		l.cgroups = t
	}
	n, err := listenNotify(notifyName(id))
	if err != nil {
		l.log.Warn("no notify socket: workloads with ready.notify will never be ready", "err", err)
	} else {
		l.notify = n
		go func() {
			for m := range n.out {
				l.post(m)
			}
		}()
	}
	if o.Control != "" {
		c, err := listenControl(o.Control, l)
		if err != nil {
			l.log.Warn("no control socket", "path", o.Control, "err", err)
		} else {
			l.ctl = c
		}
	}
	return nil
}

// flushOutput waits for the last output to be written, however slow its
// reader, while it still answers `ctl status` and signals: waiting for
// the reader is bounded by nothing but a shutdown. Once SIGTERM or SIGINT
// has come (before the end of the run, or during this wait), the wait
// ends when the stop budget, counted from that signal, runs out, or at a
// second such signal; then what was not written is abandoned, and a
// warning (through the log, which drops rather than block) says how many
// bytes of which workload were not delivered.
func (l *loop) flushOutput() {
	stop := make(chan struct{})
	done := make(chan bool, 1)
	go func() { done <- l.out.flush(time.Second, stop) }()
	var budget <-chan time.Time
	startBudget := func() {
		budget = time.NewTimer(time.Until(l.stopAt.Add(l.budget()))).C
	}
	if !l.stopAt.IsZero() {
		startBudget()
	}
	abandon := func(why string) {
		close(stop)
		<-done
		for name, n := range l.out.undelivered() {
			l.log.Warn("output not delivered: "+why, "workload", name, "bytes", n)
		}
	}
	for {
		select {
		case <-done:
			return
		case <-budget:
			abandon("the stop budget ran out while its reader did not take it")
			return
		case s := <-l.sigs:
			sig := s.(syscall.Signal)
			if sig != unix.SIGTERM && sig != unix.SIGINT {
				continue
			}
			if l.stopAt.IsZero() {
				l.stopAt = time.Now()
				l.log.Info("shutdown requested while output is written: waiting at most the stop budget", "signal", SignalName(sig), "budget", l.budget())
				startBudget()
				continue
			}
			abandon("shutdown requested again while its reader did not take it")
			return
		case ev := <-l.events:
			if c, ok := ev.(*ctlRequest); ok {
				l.flushControl(c)
			}
		}
	}
}

// flushControl answers a control request while the run's last output is
// written: status and logs, as ever; anything else is refused, since
// nothing may start any more.
func (l *loop) flushControl(c *ctlRequest) {
	switch c.req.Op {
	case "status", "logs":
		l.onControl(c)
	default:
		c.reply <- ControlResponse{Error: fmt.Sprintf("%s: miniinit is exiting (writing the last output)", c.req.Op)}
	}
}
