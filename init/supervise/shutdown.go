package supervise

import (
	"syscall"
	"time"
)

// Shutdown reasons, as OpShutdown and the report give them.
const (
	reasonSignal      = "signal"           // SIGTERM or SIGINT to miniinit
	reasonMainEnded   = "main-ended"       // the main workload ended for good
	reasonEssential   = "essential-failed" // an essential workload failed for good
	reasonNothingLeft = "nothing-left"     // no main, and every workload ended for good
)

// ExitEssentialFallback is the container's exit code when an essential
// workload fails for good without a failing code of its own (it never
// started because a requirement failed, or it exited 0 after being
// stopped as unhealthy).
const ExitEssentialFallback = 1

// shutdown is the state of a shutdown in progress.
type shutdown struct {
	reason   string
	signal   syscall.Signal // reasonSignal: which
	cause    *unit          // reasonMainEnded, reasonEssential: which; reasonNothingLeft: the first failed, if any
	began    time.Time
	deadline time.Time // the stop budget's end
	drained  bool      // OpDrain decided: every workload has ended
	code     int       // as decided with OpDrain
}

// checkTriggers begins the shutdown when the run is over: the main
// workload ended for good, an essential one failed, or, with no main,
// every workload ended for good (completed, failed or stopped, none with
// a restart pending: backoff and waiting are not final). It reports
// whether it began one.
func (m *Machine) checkTriggers(now time.Time) bool {
	if m.shut != nil || !m.booted {
		return false
	}
	if m.main != nil && m.main.state.final() {
		m.beginShutdown(now, reasonMainEnded, 0, m.main)
		return true
	}
	for _, u := range m.units {
		if u.spec.Essential && u.state == Failed {
			m.beginShutdown(now, reasonEssential, 0, u)
			return true
		}
	}
	if m.main == nil && len(m.units) > 0 {
		var failed *unit
		for _, u := range m.units {
			if !u.state.final() {
				return false
			}
			if u.state == Failed && failed == nil {
				failed = u
			}
		}
		m.beginShutdown(now, reasonNothingLeft, 0, failed)
		return true
	}
	return false
}

// beginShutdown makes every workload unwanted; reconcile then stops them
// in reverse dependency order, each stop's kill no later than the budget's
// end, at which the machine's own timer SIGKILLs whatever remains.
func (m *Machine) beginShutdown(now time.Time, reason string, sig syscall.Signal, cause *unit) {
	m.shut = &shutdown{reason: reason, signal: sig, cause: cause, began: now, deadline: now.Add(m.budget)}
	for _, u := range m.units {
		u.want = false
	}
	m.emit(Decision{Op: OpShutdown, Reason: reason, Code: m.exitCode()})
}

// killAll SIGKILLs every workload with a process and ends the shutdown at
// once: the caller's drain, with a deadline of now, SIGKILLs the rest.
func (m *Machine) killAll(why string, now time.Time) {
	for _, u := range m.units {
		if u.state.hasProcess() {
			m.kill(u, why)
		}
	}
	if !m.shut.drained {
		m.drain(now)
	}
}

func (m *Machine) drain(until time.Time) {
	m.shut.drained = true
	m.shut.code = m.exitCode()
	m.emit(Decision{Op: OpDrain, At: until, Code: m.shut.code})
}

// exitCode is the container's exit code, as far as it is known:
//
//	main-ended, signal   the main workload's last code (one of its
//	                     SuccessCodes becomes 0); with no main, 0; when the
//	                     main never ended, 128+signal for a signal. A main
//	                     workload that failed gives its code as failedCode
//	                     says (1 when it ended on a stop of the machine's:
//	                     a start timeout, unhealthy, a requirement failed).
//	                     With ZeroOnStop, a stop asked from outside (the
//	                     signal, or a stop of main by request) gives 0 when
//	                     main ended by its stop signal or never started
//	essential-failed     the failed workload's code as failedCode says
//	nothing-left         0 when every workload completed or was stopped;
//	                     else as essential-failed, for the first failed
//	                     workload in the order of the specs
//
// So a shutdown for a failure never exits with the 128+n of a signal the
// machine sent, and never with 0.
func (m *Machine) exitCode() int {
	s := m.shut
	switch s.reason {
	case reasonEssential:
		return failedCode(s.cause)
	case reasonNothingLeft:
		if s.cause == nil {
			return 0
		}
		return failedCode(s.cause)
	}
	u := m.main
	switch {
	case u == nil:
		return 0
	case u.ended && u.success(u.exit):
		return 0
	case u.state == Failed:
		return failedCode(u)
	case m.zeroOnStop && s.reason == reasonSignal && !u.ended:
		return 0 // main still stopping, or never started
	case m.zeroOnStop && u.state == Stopped && m.endedByStop(u):
		return 0
	case u.ended:
		return u.exit.Code
	case s.reason == reasonSignal:
		return 128 + int(s.signal)
	}
	return ExitEssentialFallback
}

// endedByStop reports whether u, stopped, ended the way a stop ends it:
// by its stop signal or the shutdown's (as a death, or as the 128+n a
// shell that caught it exits with), or it never ran.
func (m *Machine) endedByStop(u *unit) bool {
	if !u.ended {
		return true
	}
	by := func(sig syscall.Signal) bool {
		return sig != 0 && (u.exit.Signal == sig || u.exit.Code == 128+int(sig))
	}
	return by(m.stopSignal(u)) || by(m.shut.signal)
}

// failedCode is the exit code a failed workload gives the container: its
// last code, or ExitEssentialFallback when that is 0 (stopped as
// unhealthy, say), when it never ran (a requirement failed first), or
// when its end came after a stop signal the machine sent (its start
// timeout, an unhealthy check with action stop, a failed requirement):
// then the code says how the stop went, not what failed.
func failedCode(u *unit) int {
	if u.ended && u.exit.Code != 0 && !u.stopEnded {
		return u.exit.Code
	}
	return ExitEssentialFallback
}

// prune forgets the units a reload removed, once they have ended.
func (m *Machine) prune() {
	keep := m.units[:0]
	changed := false
	for _, u := range m.units {
		if u.removed && !u.state.hasProcess() {
			if m.removed == nil {
				m.removed = map[string]Status{}
			}
			st := m.statusOf(u)
			if !st.State.final() {
				st.State = Stopped // removed before it ever started
			}
			st.Reason = "removed by reload"
			m.removed[u.spec.Name] = st
			delete(m.byName, u.spec.Name)
			changed = true
			continue
		}
		keep = append(keep, u)
	}
	m.units = keep
	if changed {
		m.link()
	}
}
