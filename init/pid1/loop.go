package pid1

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"syscall"
	"time"
)

// loop is the event loop and everything it owns. Only its goroutine, the one
// Run runs on, touches any of it: there is no lock because there is no
// sharing. Signals reach it through a channel from os/signal; everything
// else (starts, reaping, the drain's timers) happens on it.
type loop struct {
	log  *slog.Logger
	logw *logWriter
	opts Options

	self   int  // our pid, as our own PID namespace numbers it
	isPID1 bool // PID 1 of our namespace: the drain uses kill(-1)
	procOK bool // /proc shows our namespace: the drain can list processes

	sigs chan os.Signal

	// How workloads are started (setup fills these in).
	environ  []string  // miniinit's environment less LISTEN_*
	startDir string    // the cwd miniinit was started in
	stdio    []uintptr // fds 0-2 for the children
	listen   listenFDs // socket-activation descriptors for the main workload
	shimOK   bool      // the LISTEN_PID shim can run (/proc/self/exe works)
	tty      bool      // the main workload takes the terminal's foreground

	procs      map[int]*process // started and not yet reaped, by pid
	started    []*process       // every start, in order
	main       *process
	lastSignal syscall.Signal // the last signal forwarded while main ran

	drain *drainState // set once main has ended with others still running
	done  bool
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
	code := remap(l.main.code, l.opts.RemapToZero)
	l.log.Info("exiting", "code", code)
	return code
}

// step waits for one event, handles it, and reaps.
func (l *loop) step() {
	select {
	case s := <-l.sigs:
		l.onSignal(s.(syscall.Signal))
	case <-l.drain.deadlineC():
		l.onDeadline()
	case <-l.drain.rescanC():
		l.onRescan()
	case <-l.drain.giveUpC():
		l.log.Warn("processes survived SIGKILL; exiting without them", "after", killWait)
		l.done = true
	}
	l.reap()
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
		l.log.Info("forwarding signal", "signal", SignalName(sig))
		l.forward(sig)
	}
}

// forward sends sig to every workload process still running. After the
// main workload has ended that is only the other workloads, which the drain
// is stopping anyway.
func (l *loop) forward(sig syscall.Signal) {
	if l.main != nil && l.main.running {
		l.lastSignal = sig
	}
	for _, p := range l.started {
		if p.running {
			l.signalWorkload(p, sig)
		}
	}
}

// reap collects every exited child, routes each status to the process
// that started it, and moves the run on: once the main workload has
// ended, to the drain while anything else remains, and to the end when
// nothing does.
func (l *loop) reap() {
	none, err := reapAll(l.onExit)
	if err != nil {
		l.log.Error("reap", "err", err)
		return
	}
	if l.main == nil || l.main.running {
		return
	}
	switch {
	case none:
		l.drain.finish()
		l.done = true
	case l.drain == nil:
		l.beginDrain()
	}
}

// onExit receives one reaped status.
func (l *loop) onExit(pid int, ws syscall.WaitStatus) {
	p, ok := l.procs[pid]
	if !ok {
		level := slog.LevelDebug
		if l.opts.WarnOnReap {
			level = slog.LevelWarn
		}
		l.log.Log(context.Background(), level, "reaped orphan", "pid", pid, "status", describeStatus(ws))
		return
	}
	delete(l.procs, pid)
	p.running, p.status, p.code = false, ws, exitCode(ws)
	l.log.Info("workload ended", "workload", p.w.Name, "pid", pid, "status", describeStatus(ws))
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
