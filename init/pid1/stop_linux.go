package pid1

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Stopping a run's whole tree.
//
// A stop signal (the machine's OpSignal with ReasonStop) goes to the run's
// process group and its cgroup (signalWorkload), and, when the run has no
// cgroup, to every other process /proc shows under it (runTree); SIGCONT
// follows it at once, so that a stopped process runs its handler rather
// than meet SIGKILL at the deadline with the signal still pending.
//
// The machine's kill at stop_timeout (OpKill) covers the run while its
// process lives. When that process ends first, what it leaves behind (a
// child that ignores the stop signal) is the loop's: it is killed at that
// same deadline (a timer named treeTimer+workload), or at the workload's
// next start if that comes first, so neither `ctl stop` nor a restart
// leaves survivors.

// treeTimer prefixes the loop's own timer names for what stopped runs left.
const treeTimer = "\x00tree/"

// stopWorkload sends p the first signal of its stop, then SIGCONT, and
// records the deadline for what p leaves behind.
func (l *loop) stopWorkload(p *process, sig syscall.Signal, killAt time.Time) {
	p.killAt = killAt
	tree := l.scanTree(p, true)
	for _, s := range []syscall.Signal{sig, unix.SIGCONT} {
		l.signalWorkload(p, s)
		for _, e := range tree {
			if e.Pgrp != p.pid { // the group had it already
				_ = signalProc(e, s)
			}
		}
		if sig == unix.SIGCONT || sig == unix.SIGKILL {
			break
		}
	}
}

// killWorkload SIGKILLs p's whole tree: its process group, its cgroup when
// it has one, else what /proc shows under it.
func (l *loop) killWorkload(p *process) {
	_ = ignoreESRCH(unix.Kill(-p.pid, unix.SIGKILL))
	l.sweepCgroup(p)
	for _, e := range l.scanTree(p, true) {
		_ = signalProc(e, unix.SIGKILL)
	}
}

// endedStopping takes the end of p's process during its stop: what it left
// behind gets until the stop's deadline.
func (l *loop) endedStopping(p *process) {
	if p.killAt.IsZero() {
		return
	}
	l.leftovers[p.w.Name] = p
	l.timers.Set(treeTimer+p.w.Name, p.killAt)
}

// killLeftovers SIGKILLs what p, a run that has ended, left behind: its
// cgroup (while it is its workload's current one), or its process group
// and what /proc shows under the processes recorded at its stop.
func (l *loop) killLeftovers(p *process) {
	if l.leftovers[p.w.Name] == p {
		delete(l.leftovers, p.w.Name)
		l.timers.Set(treeTimer+p.w.Name, time.Time{})
	}
	l.sweepCgroup(p)
	if !l.byProc(p) || p.killAt.IsZero() {
		return // a run that ended by itself had its group killed then (onExit)
	}
	for _, e := range l.scanTree(p, false) {
		_ = signalProc(e, unix.SIGKILL)
	}
}

// onTreeTimer: the stop deadline of a run whose process ended before it.
func (l *loop) onTreeTimer(name string) {
	if p := l.leftovers[name]; p != nil {
		l.log.Info("stop timeout: SIGKILL to what the workload's process left", "workload", name, "run", p.run)
		l.killLeftovers(p)
	}
}

// byProc reports whether p's tree is tracked through /proc: in supervised
// mode, when p was not born into a cgroup (which holds the whole tree by
// itself) and /proc shows miniinit's namespace.
func (l *loop) byProc(p *process) bool {
	return l.opts.Supervised && !p.cgroup && l.procOK
}

// scanTree lists p's tree when it is tracked through /proc (else nil);
// with remember, it also records the tree, so that processes orphaned
// later (their parent ends and they come to miniinit) are still known as
// p's, with their descendants.
func (l *loop) scanTree(p *process, remember bool) []procEntry {
	if !l.byProc(p) {
		return nil
	}
	all, err := scanProc()
	if err != nil {
		l.log.Debug("scan /proc for a workload's processes", "workload", p.w.Name, "err", err)
		return nil
	}
	other, reused := l.procs[p.pid]
	tree := runTree(all, p, l.self, !reused || other == p)
	if remember {
		if p.tree == nil {
			p.tree = map[procKey]bool{}
		}
		for _, e := range tree {
			p.tree[e.key()] = true
		}
	}
	return tree
}

// runTree picks from all (a scan of /proc) the processes of run p, p's
// own process and self excluded: the members of its process group (when
// group says the group number is still p's: not reused by another of
// miniinit's children), the processes recorded in p.tree (the same start
// time: not a reused pid), and every descendant of p's process (while it
// runs) and of those, by parent chain. A process that left the group and
// was orphaned before any scan saw it is out of reach: a cgroup is what
// holds every process for sure.
func runTree(all []procEntry, p *process, self int, group bool) []procEntry {
	roots := map[int]bool{}
	if p.running {
		roots[p.pid] = true
	}
	var out []procEntry
	take := func(e procEntry) {
		if e.Pid != self && e.Pid != p.pid && e.State != 'Z' && !roots[e.Pid] {
			roots[e.Pid] = true
			out = append(out, e)
		}
	}
	for _, e := range all {
		if group && e.Pgrp == p.pid || p.tree[e.key()] {
			take(e)
		}
	}
	for _, e := range under(all, roots) {
		take(e)
	}
	return out
}
