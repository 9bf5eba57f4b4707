package pid1

import (
	"strconv"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
)

// Probes: the machine asks for one (OpProbe) and the loop runs it. TCP and
// HTTP probes run on a goroutine each (probe_linux.go) and post their
// result. An exec probe is a process, so the loop starts it and the reaper
// collects it like any child: its exit status is the result (0 passes).
// The loop kills it at its timeout, and what it leaves behind when it
// ends, whatever way it ended: see probetree_linux.go.

// probeTimer prefixes the loop's own timer names for exec probes.
const probeTimer = "\x00probe/"

// execProbe is an exec probe in flight.
type execProbe struct {
	name     string
	id       uint64
	pid      int
	timedOut bool
	cgroup   string // its cgroup, when it has one
	cgfd     int    // that cgroup, open; -1 without one
}

// runProbe starts the probe d asks for.
func (l *loop) runProbe(d supervise.Decision) {
	wk := l.works[d.Name]
	if wk == nil {
		return
	}
	pr := wk.w.Health
	if d.Probe == supervise.ProbeReady {
		pr = wk.w.ReadyProbe
	}
	deadline := time.Now().Add(d.Timeout)
	name, id := d.Name, d.ID
	switch {
	case pr.TCP != "":
		go func() {
			ok, detail := probeTCP(pr.TCP, deadline)
			l.post(probeDone{name, id, ok, detail})
		}()
	case pr.HTTP != "":
		go func() {
			ok, detail := probeHTTP(pr.HTTP, deadline)
			l.post(probeDone{name, id, ok, detail})
		}()
	case len(pr.Exec) > 0:
		l.startExecProbe(wk, pr.Exec, id, deadline)
	default:
		l.handle(supervise.ProbeDone{Name: name, ID: id, OK: false, Detail: "no probe"})
	}
}

// startExecProbe runs argv as the workload would run (its environment,
// directory, and, through the exec stage, its user, groups and the rest of
// its confinement), in a session and a cgroup of its own, with no stdin
// and its output discarded. A probe that cannot be confined as asked fails.
func (l *loop) startExecProbe(wk *work, argv []string, id uint64, deadline time.Time) {
	fail := func(detail string) {
		l.handle(supervise.ProbeDone{Name: wk.w.Name, ID: id, OK: false, Detail: detail})
	}
	env, err := l.env(&wk.w)
	if err != nil {
		fail(err.Error())
		return
	}
	dir := wk.w.Dir
	if dir == "" {
		dir = l.startDir
	}
	path, err := lookPath(argv[0], getenv(env, "PATH"), dir)
	if err != nil {
		fail(err.Error())
		return
	}
	if wk.w.confined() {
		if path, argv, env, err = confinedExec(&wk.w, path, argv, env); err != nil {
			fail(err.Error())
			return
		}
	}
	null, err := l.nullStdin()
	if err != nil {
		fail(err.Error())
		return
	}
	defer null.Close()
	files := []uintptr{null.Fd(), null.Fd(), null.Fd()}
	if l.devNull >= 0 {
		files[1], files[2] = uintptr(l.devNull), uintptr(l.devNull)
	}
	pr := &execProbe{name: wk.w.Name, id: id, cgfd: -1}
	pid, err := l.forkProbe(pr, path, argv, &syscall.ProcAttr{Dir: dir, Env: env, Files: files}) // probetree_linux.go
	if err != nil {
		fail("cannot start: " + err.Error())
		return
	}
	pr.pid = pid
	l.probes[pid] = pr
	l.timers.Set(probeTimer+strconv.Itoa(pid), deadline)
}

// execProbeEnded takes an exec probe's exit.
func (l *loop) execProbeEnded(pr *execProbe, ws syscall.WaitStatus) {
	l.timers.Set(probeTimer+strconv.Itoa(pr.pid), time.Time{})
	l.killProbeTree(pr, true) // what it left behind
	ok := !ws.Signaled() && ws.ExitStatus() == 0
	detail := describeStatus(ws)
	if pr.timedOut {
		ok, detail = false, "timed out"
	}
	l.handle(supervise.ProbeDone{Name: pr.name, ID: pr.id, OK: ok, Detail: detail})
}

// execProbeTimeout kills an exec probe past its timeout; its exit, when
// reaped, reports the failure.
func (l *loop) execProbeTimeout(pidText string) {
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		return
	}
	if pr, ok := l.probes[pid]; ok {
		l.log.Info("probe timed out; killing it", "workload", pr.name, "pid", pid)
		pr.timedOut = true
		l.killProbeTree(pr, false)
	}
}
