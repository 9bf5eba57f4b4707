package pid1

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
	"golang.org/x/sys/unix"
)

// loop is the event loop and everything it owns. Only its goroutine, the one
// Run runs on, touches any of it: there is no lock because there is no
// sharing. Signals reach it through a channel from os/signal, and what the
// helper goroutines learn (notify datagrams, readiness lines, probe
// results, control requests) through events; everything else (starts,
// reaping, timers) happens on it.
type loop struct {
	log  *slog.Logger
	logw *logWriter
	opts Options

	self   int  // our pid, as our own PID namespace numbers it
	isPID1 bool // PID 1 of our namespace: the drain uses kill(-1)
	procOK bool // /proc shows our namespace: the drain can list processes

	sigs   chan os.Signal
	events chan any // from helper goroutines; see onEvent

	// How workloads are started (setup fills these in).
	environ  []string  // miniinit's environment less LISTEN_* and NOTIFY_SOCKET
	startDir string    // the cwd miniinit was started in
	stdio    []uintptr // fds 0-2 for the children
	devNull  int       // /dev/null for StdinNull workloads, -1 when missing
	listen   listenFDs // socket-activation descriptors for the main workload
	shimOK   bool      // the LISTEN_PID shim can run (/proc/self/exe works)
	startSig sigState  // what workloads inherit of signals (inherit.go)
	tty      bool      // the main workload takes the terminal's foreground
	ttyIn    bool      // miniinit's stdin is a terminal
	out      *outputMux
	cgroups  *cgroupTree // nil: process groups only
	notify   *notifySocket
	ctl      *controlServer
	host     *hostLink // the channel to minispawn (hostlink_linux.go)

	// The supervision state machine decides; the loop carries out.
	m      *supervise.Machine
	timers supervise.Timers
	timer  *time.Timer

	works      map[string]*work    // every workload, by name
	order      []*work             // in the order of the configuration
	procs      map[int]*process    // workload processes started and not yet reaped
	leftovers  map[string]*process // runs ended during their stop, until its deadline (stop_linux.go)
	probes     map[int]*execProbe
	main       *work
	lastSignal syscall.Signal // the last signal forwarded while main ran

	// later holds events of one turn that are handled on the next: a
	// failed start's SpawnFailed, whose decision may be to start again at
	// once (backoff 0). Handled in the same turn, that start would recurse
	// into the next one without end, and signals, reaping and control
	// would never be served between them.
	later []supervise.Event

	loaded map[string]bool // the workloads of the configuration in force (reload); nil: opts.Workloads

	shutdown *supervise.Decision // OpShutdown, once decided
	stopAt   time.Time           // the first SIGTERM or SIGINT: the stop budget runs from it
	code     int                 // the exit code OpDrain decided
	drain    *drainState         // set once every workload has ended
	done     bool
}

// work is one workload: its definition and its runs.
type work struct {
	w    Workload
	cur  *process // the latest run's process; nil before the first start
	runs int
}

// run is the event loop. Every wake-up, whatever woke it, ends with a full
// reap: SIGCHLD is a doorbell, and os/signal drops a signal when the
// channel is full, so reaping only on SIGCHLD could miss one.
func (l *loop) run() int {
	l.safely(l.reap)
	for !l.done {
		l.safely(l.step)
	}
	l.drain.stop()
	// The machine's final word: a main workload SIGKILLed at the end of
	// the budget, after the drain was decided, still gives its own code.
	if sum, ok := l.m.Shutdown(); ok {
		l.code = sum.Code
	}
	code := remap(l.code, l.opts.RemapToZero)
	l.log.Info("exiting", "code", code)
	return code
}

// step waits for one event, handles it, and reaps.
func (l *loop) step() {
	select {
	case s := <-l.sigs:
		l.onSignal(s.(syscall.Signal))
	case <-l.timerC():
		l.onTimer()
	case ev := <-l.events:
		l.onEvent(ev)
	case <-l.drain.deadlineC():
		l.onDeadline()
	case <-l.drain.rescanC():
		l.onRescan()
	case <-l.drain.giveUpC():
		l.log.Warn("processes survived SIGKILL; exiting without them", "after", killWait)
		l.done = true
	case <-l.laterC():
		evs := l.later
		l.later = nil
		for _, ev := range evs {
			l.handle(ev)
		}
	}
	l.reap()
}

// closedC is always ready: laterC returns it while events wait.
var closedC = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// laterC is ready while events wait in later; select picks among ready
// cases at random, so signals and control requests are served between
// failed starts however fast they come.
func (l *loop) laterC() <-chan struct{} {
	if len(l.later) == 0 {
		return nil
	}
	return closedC
}

// safely runs f and survives a panic in it. PID 1 dying takes the whole
// container with it, so once the loop runs, a bug is logged with its stack
// and the loop carries on; the next event gets a fresh start.
func (l *loop) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("recovered from a panic in the event loop; carrying on", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// onSignal applies the signal table to a signal sent to miniinit.
func (l *loop) onSignal(sig syscall.Signal) {
	switch classify(sig) {
	case reap:
		// The reap that follows every wake-up handles it.
	case drop:
		l.log.Warn("ignoring a fault signal sent to miniinit: those are never forwarded", "signal", SignalName(sig))
	case forward:
		if l.opts.Supervised && (sig == unix.SIGTERM || sig == unix.SIGINT) {
			l.requestShutdown(sig)
			return
		}
		if l.main != nil && l.main.cur != nil && l.main.cur.running {
			l.lastSignal = sig
		}
		if (sig == unix.SIGTERM || sig == unix.SIGINT) && l.stopAt.IsZero() {
			l.stopAt = time.Now() // bounds the wait for the last output (flushOutput)
		}
		l.log.Info("forwarding signal", "signal", SignalName(sig))
		l.handle(supervise.SignalReceived{Signal: sig})
	}
}

// requestShutdown takes SIGTERM or SIGINT in supervised mode: the first
// begins the ordered shutdown; any later one skips to SIGKILL, for the
// workloads (the machine decides that) and for the drain.
func (l *loop) requestShutdown(sig syscall.Signal) {
	second := l.shutdown != nil
	if l.stopAt.IsZero() {
		l.stopAt = time.Now()
	}
	if second {
		l.log.Warn("shutdown requested again: SIGKILL to everything", "signal", SignalName(sig))
	} else {
		l.log.Info("shutdown requested", "signal", SignalName(sig))
	}
	l.lastSignal = sig
	l.handle(supervise.ShutdownRequested{Signal: sig})
	if second && l.drain != nil && l.drain.giveUp == nil {
		l.onDeadline()
	}
}

// reap collects every exited child and routes each status to the process
// that started it. Once the drain has begun (every workload has ended),
// the run is over when no child is left.
func (l *loop) reap() {
	none, err := reapAll(l.onExit)
	if err != nil {
		l.log.Error("reap", "err", err)
		return
	}
	if l.drain != nil && none {
		l.drain.finish()
		l.done = true
	}
}

// onExit receives one reaped status.
func (l *loop) onExit(pid int, ws syscall.WaitStatus) {
	if p, ok := l.procs[pid]; ok {
		delete(l.procs, pid)
		p.running, p.status, p.code = false, ws, exitCode(ws)
		l.log.Info("workload ended", "workload", p.w.Name, "run", p.run, "pid", pid, "status", describeStatus(ws))
		if l.opts.Supervised && l.m.State(p.w.Name) != supervise.Stopping {
			// What a process that ended by itself left in its group
			// goes with it: a restart must not meet the last run's
			// children. After a stop, what is left had the stop
			// signal too and may still be finishing until the stop's
			// deadline (stop_linux.go).
			_ = ignoreESRCH(unix.Kill(-pid, unix.SIGKILL))
			l.sweepCgroup(p)
		} else if l.opts.Supervised {
			l.endedStopping(p)
		}
		exit := supervise.Exit{Code: p.code}
		if ws.Signaled() {
			exit.Signal = ws.Signal()
		}
		l.handle(supervise.Exited{Name: p.w.Name, Run: p.run, Exit: exit})
		return
	}
	if pr, ok := l.probes[pid]; ok {
		delete(l.probes, pid)
		l.execProbeEnded(pr, ws)
		return
	}
	if l.cgroups != nil && l.cgroups.stale() {
		l.cgroups.collect() // it may have been the last of a past run's cgroup
	}
	level := slog.LevelDebug
	if l.opts.WarnOnReap {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "reaped orphan", "pid", pid, "status", describeStatus(ws))
}

// killWait bounds the wait after SIGKILL. SIGKILL cannot be caught, but a
// process in uninterruptible sleep (a hung NFS read) dies only when that
// sleep ends; PID 1 does not wait for it forever.
const killWait = 2 * time.Second

// rescanEvery is how often the drain looks for orphans it has not yet
// signalled. An orphan handed to miniinit does not announce itself (the
// kernel sends no SIGCHLD for a living child changing parents), so the
// drain looks.
const rescanEvery = 100 * time.Millisecond
