package pid1

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// The drain: what happens when the main workload has ended and other
// processes still run. tini, dumb-init and catatonit exit at once, and the
// kernel SIGKILLs whatever is left (tini#180, dumb-init#212); miniinit
// gives it the chance to finish cleanly:
//
//  1. SIGTERM to every other process: as PID 1, with kill(-1), which
//     reaches the whole namespace, orphans included; as a subreaper, to
//     each of its descendants found by walking /proc's parent chains.
//  2. Every rescanEvery, SIGTERM to any process that has since become
//     miniinit's child (an orphan whose parent exited) and has not had one.
//     New processes whose parent lives are left to that parent: they are
//     typically part of its own shutdown.
//  3. As soon as wait4 reports no children at all, the drain is over: as a
//     PID 1 or a subreaper, having no children means having no
//     descendants, because every orphan comes to miniinit.
//  4. At the grace deadline, SIGKILL to everything left, then at most
//     killWait more for it to be reaped.
//
// Processes are named by (pid, start time) and signalled through a pidfd
// after checking that start time again (see signalProc), so a reused pid is
// never hit. Each gets SIGTERM once, with one narrow exception as PID 1: a
// process forked between the scan and kill(-1) gets the kill(-1) SIGTERM
// without being on the list, and a second one if it is orphaned later.

// drainState is the drain's part of the loop's state.
type drainState struct {
	began, ended time.Time
	deadline     *time.Timer
	rescan       *time.Ticker
	giveUp       *time.Timer
	termed       map[procKey]bool
	running      []procEntry // what was still running when it began
	killed       []procEntry // what was still running at the deadline
}

// beginDrain runs step 1 and arms the timers, once every workload has
// ended: the deadline is the grace period, but never past until (the end
// of the stop budget); a deadline already passed (a second shutdown
// request, an exhausted budget) skips to step 4.
func (l *loop) beginDrain(until time.Time) {
	d := &drainState{began: time.Now(), termed: map[procKey]bool{}, running: []procEntry{}, killed: []procEntry{}}
	l.drain = d
	others, err := l.others()
	if err != nil {
		l.log.Warn("cannot list the remaining processes; signalling the workloads' process groups instead", "err", err)
	}
	if others != nil {
		// What is already dying (a workload's tree SIGKILLed at its
		// stop timeout, an instant before its last process was
		// reaped) is not still running, only not yet reaped.
		d.running = append(d.running, notDying(others)...)
	}
	grace := min(l.opts.grace(), time.Until(until))
	if grace <= 0 {
		l.onDeadline()
		return
	}
	if len(d.running) == 0 {
		// Nothing left: the reap that follows ends the run.
		d.deadline = time.NewTimer(grace)
		return
	}
	for _, e := range d.running {
		d.termed[e.key()] = true
	}
	l.log.Info("every workload has ended; terminating the remaining processes",
		"remaining", fmt.Sprint(d.running), "grace", grace)
	l.signalOthers(d.running, err, unix.SIGTERM)
	d.deadline = time.NewTimer(grace)
	d.rescan = time.NewTicker(rescanEvery)
}

// onRescan runs step 2.
func (l *loop) onRescan() {
	if !l.procOK {
		return
	}
	all, err := scanProc()
	if err != nil {
		l.log.Debug("rescan /proc", "err", err)
		return
	}
	for _, e := range all {
		if e.PPid != l.self || e.State == 'Z' || l.drain.termed[e.key()] {
			continue
		}
		l.drain.termed[e.key()] = true
		l.log.Info("terminating a process adopted during the drain", "pid", e.Pid, "comm", e.Comm)
		if err := signalProc(e, unix.SIGTERM); err != nil {
			l.log.Warn("signal adopted process", "err", sysErr(fmt.Sprintf("SIGTERM to %v", e), err))
		}
	}
}

// onDeadline runs step 4.
func (l *loop) onDeadline() {
	d := l.drain
	if d.rescan != nil {
		d.rescan.Stop()
	}
	if d.deadline != nil {
		d.deadline.Stop()
		d.deadline = nil
	}
	others, err := l.others()
	if others != nil {
		d.killed = others
	}
	if len(d.killed) > 0 || err != nil {
		l.log.Warn("drain deadline: sending SIGKILL", "remaining", fmt.Sprint(d.killed))
	}
	l.signalOthers(d.killed, err, unix.SIGKILL)
	d.giveUp = time.NewTimer(killWait)
}

// others lists every process the drain is responsible for, miniinit
// excluded: as PID 1 every process in /proc (which is ours), as a subreaper
// its descendants.
func (l *loop) others() ([]procEntry, error) {
	if !l.procOK {
		return nil, errors.New("/proc does not show miniinit's PID namespace")
	}
	// No child means no other process to answer for (step 3 above):
	// spare the walk of /proc, which as a subreaper reads the stat of
	// every process on the host (about 1 ms for ~120 of them).
	if !hasChildren() {
		return []procEntry{}, nil
	}
	all, err := scanProc()
	if err != nil {
		return nil, err
	}
	if l.isPID1 {
		return alive(all, l.self), nil
	}
	return descendants(all, l.self), nil
}

// signalOthers sends sig to everything the drain is responsible for: the
// whole namespace as PID 1; else each listed process; else, when /proc
// could not be listed (listErr), the workloads' process groups, which is
// the best a subreaper without /proc can do.
func (l *loop) signalOthers(list []procEntry, listErr error, sig unix.Signal) {
	switch {
	case l.isPID1:
		if err := killNamespace(sig); err != nil {
			l.log.Error("signal the namespace", "err", err)
		}
	case listErr == nil:
		for _, e := range list {
			if err := signalProc(e, sig); err != nil {
				l.log.Warn("signal process", "err", sysErr(fmt.Sprintf("%s to %v", SignalName(sig), e), err))
			}
		}
	default:
		for _, wk := range l.order {
			if p := wk.cur; p != nil && p.pid > 0 {
				_ = ignoreESRCH(unix.Kill(-p.pid, sig))
			}
		}
	}
}

// killNamespace signals every process of miniinit's PID namespace but
// miniinit: kill(2) with pid -1, which from PID 1 means exactly that. It
// refuses to run anywhere but PID 1: elsewhere, kill(-1) reaches every
// process the caller may signal on the machine.
func killNamespace(sig unix.Signal) error {
	if unix.Getpid() != 1 {
		return errors.New("refusing kill(-1): miniinit is not PID 1 of its namespace")
	}
	if err := ignoreESRCH(unix.Kill(-1, sig)); err != nil {
		return sysErr("kill -1 "+SignalName(sig), err)
	}
	return nil
}

func (d *drainState) deadlineC() <-chan time.Time {
	if d == nil || d.deadline == nil {
		return nil
	}
	return d.deadline.C
}

func (d *drainState) rescanC() <-chan time.Time {
	if d == nil || d.rescan == nil || d.giveUp != nil {
		return nil
	}
	return d.rescan.C
}

func (d *drainState) giveUpC() <-chan time.Time {
	if d == nil || d.giveUp == nil {
		return nil
	}
	return d.giveUp.C
}

// finish records the end of the drain; nil (no drain was needed) is fine.
func (d *drainState) finish() {
	if d != nil && d.ended.IsZero() {
		d.ended = time.Now()
	}
}

// stop releases the timers.
func (d *drainState) stop() {
	if d == nil {
		return
	}
	d.finish()
	for _, t := range []*time.Timer{d.deadline, d.giveUp} {
		if t != nil {
			t.Stop()
		}
	}
	if d.rescan != nil {
		d.rescan.Stop()
	}
}
