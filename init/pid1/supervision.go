package pid1

import (
	"strings"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
)

// The loop's side of package supervise: the machine decides, and these
// functions carry out its decisions and feed it what happened. Every call
// runs on the loop's goroutine.

// handle gives the machine one event and carries out what it decides, in
// order. A decision may itself lead to events (a start to Spawned), which
// are handled on the spot, so the machine always sees things in the order
// they happened.
func (l *loop) handle(ev supervise.Event) {
	for _, d := range l.m.Handle(ev) {
		l.do(d)
	}
	l.armTimer()
	l.reportHost() // hostlink_linux.go: what minispawn should tell systemd
}

// do carries out one decision.
func (l *loop) do(d supervise.Decision) {
	l.log.Debug("decision", "do", d) // formatted only when logged
	switch d.Op {
	case supervise.OpStart:
		l.startRun(d.Name, d.Run)
	case supervise.OpSignal:
		if p := l.live(d.Name, d.Run); p != nil {
			if d.Reason == supervise.ReasonStop {
				l.stopWorkload(p, d.Signal, d.At) // stop_linux.go
			} else {
				l.signalWorkload(p, d.Signal)
			}
		}
	case supervise.OpKill:
		if p := l.live(d.Name, d.Run); p != nil {
			l.log.Warn("SIGKILL to workload", "workload", d.Name, "why", d.Reason)
			l.killWorkload(p)
		}
	case supervise.OpTimer:
		l.timers.Set(d.Name, d.At)
	case supervise.OpProbe:
		l.runProbe(d)
	case supervise.OpShutdown:
		dd := d
		l.shutdown = &dd
		l.log.Info("shutting down", "reason", d.Reason, "budget", l.budget())
	case supervise.OpDrain:
		l.code = d.Code
		l.beginDrain(d.At)
	}
}

// live returns workload name's process for run, if it is running.
func (l *loop) live(name string, run int) *process {
	if wk := l.works[name]; wk != nil && wk.cur != nil && wk.cur.run == run && wk.cur.running {
		return wk.cur
	}
	return nil
}

func (l *loop) budget() time.Duration {
	if l.opts.StopBudget > 0 {
		return l.opts.StopBudget
	}
	return supervise.DefaultStopBudget
}

// The loop keeps one real timer, for the earliest of the deadlines the
// machine asked for and of its own (exec probe timeouts, named with
// probeTimer's prefix; stop deadlines of what ended runs left, treeTimer's).

func (l *loop) armTimer() {
	next, ok := l.timers.Next()
	if !ok {
		if l.timer != nil {
			l.timer.Stop()
		}
		return
	}
	d := max(time.Until(next), 0)
	if l.timer == nil {
		l.timer = time.NewTimer(d)
		return
	}
	l.timer.Reset(d)
}

func (l *loop) timerC() <-chan time.Time {
	if l.timer == nil {
		return nil
	}
	return l.timer.C
}

func (l *loop) onTimer() {
	for _, name := range l.timers.Due(time.Now()) {
		if pid, ok := strings.CutPrefix(name, probeTimer); ok {
			l.execProbeTimeout(pid)
			continue
		}
		if w, ok := strings.CutPrefix(name, treeTimer); ok {
			l.onTreeTimer(w)
			continue
		}
		l.handle(supervise.TimerFired{Name: name})
	}
	l.armTimer()
}

// Events from the helper goroutines.

// readyLine: the workload wrote its readiness line (ready.fd).
type readyLine struct {
	name string
	run  int
}

// probeDone: a TCP or HTTP probe's result.
type probeDone struct {
	name   string
	id     uint64
	ok     bool
	detail string
}

func (l *loop) onEvent(ev any) {
	switch e := ev.(type) {
	case readyLine:
		l.log.Info("workload ready", "workload", e.name, "by", "fd")
		l.handle(supervise.ReadyNotified{Name: e.name, Run: e.run})
	case probeDone:
		l.handle(supervise.ProbeDone{Name: e.name, ID: e.id, OK: e.ok, Detail: e.detail})
	case notifyMsg:
		l.onNotify(e)
	case *ctlRequest:
		l.onControl(e)
	case hostMsg:
		l.onHostMsg(e) // hostlink_linux.go
	}
}

// post hands an event to the loop from a helper goroutine. It never
// blocks the helper for long: the loop drains events on every wake-up,
// and the channel is large; a helper still finding it full waits, which
// is what keeps results from being lost.
func (l *loop) post(ev any) { l.events <- ev }
