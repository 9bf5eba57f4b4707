package supervise

import "time"

// reconcile steers every unit towards what is wanted of it, until nothing
// more changes: starts what waits and may start, fails what can no longer
// start, stops what is no longer wanted once its dependents are down, and
// begins the shutdown when the main or an essential workload is over.
func (m *Machine) reconcile(now time.Time) {
	// Every round either changes some unit's state for good or stops; the
	// bound only guards PID 1 against a bug turning this into a spin.
	for range 4*len(m.units) + 8 {
		changed := false
		for _, u := range m.units {
			if m.step(u, now) {
				changed = true
			}
		}
		if m.checkTriggers(now) {
			changed = true
		}
		if !changed {
			break
		}
	}
	m.prune()
	if m.shut != nil && !m.shut.drained && !m.anyProcess() {
		m.drain(m.shut.deadline)
	}
}

// step moves u one step if it can, and reports whether it did.
func (m *Machine) step(u *unit, now time.Time) bool {
	switch {
	case !u.want && (u.state == Waiting || u.state == Backoff):
		u.restartAt = time.Time{}
		u.reason = "not started: stop requested"
		if m.shut != nil {
			u.reason = "not started: shutdown"
		}
		m.setState(u, Stopped, now)
		return true
	case !u.want && u.state.hasProcess() && u.state != Stopping:
		if m.shut != nil && m.shut.drained {
			return false // everything has had SIGKILL; stop signals are moot
		}
		for _, d := range u.dependents {
			if !d.want && d.state.hasProcess() {
				return false // reverse order: dependents stop first
			}
		}
		why := "stopped by request"
		if m.shut != nil {
			why = "shutdown"
		}
		m.stop(u, thenStopped, why, now)
		return true
	case !u.want || !m.booted || m.shut != nil:
		return false
	case u.state == Waiting:
		switch v, dep := m.verdict(u); v {
		case goAhead:
			m.start(u, now)
			return true
		case blocked:
			u.reason = "required workload " + dep.spec.Name + " is " + dep.state.String()
			m.setState(u, Failed, now)
			return true
		}
	case u.state.hasProcess() && u.state != Stopping:
		if dep := m.brokenRequirement(u); dep != nil {
			m.stop(u, thenFailed, "required workload "+dep.spec.Name+" is "+dep.state.String(), now)
			return true
		}
	}
	return false
}

type verdict int

const (
	wait verdict = iota
	goAhead
	blocked
)

// verdict says whether u may start now: every dependency meets its
// condition, or (after only) can no longer meet it. A required one that
// can no longer meet it blocks u for good; it is returned.
func (m *Machine) verdict(u *unit) (verdict, *unit) {
	for _, l := range u.deps {
		switch {
		case l.u.meets(l.cond):
		case l.u.hopeless():
			if l.required {
				return blocked, l.u
			}
		default:
			return wait, nil
		}
	}
	return goAhead, nil
}

// meets reports whether u meets condition c now.
func (u *unit) meets(c Condition) bool {
	if u.state == Completed {
		return true
	}
	switch c {
	case CondStarted:
		return u.state == Running || u.state == Ready || u.state == Starting && u.pid != 0
	case CondReady:
		return u.state == Running || u.state == Ready
	case CondHealthy:
		return (u.state == Running || u.state == Ready) && (u.spec.Health.Interval == 0 || u.healthKnown && u.healthy)
	}
	return false
}

// hopeless reports whether u will not get anywhere unless someone asks:
// it failed, or it was stopped and is not wanted.
func (u *unit) hopeless() bool {
	return u.state == Failed || u.state == Stopped && !u.want || u.removed
}

// brokenRequirement returns a workload u requires that has failed or
// been stopped for good, or nil.
func (m *Machine) brokenRequirement(u *unit) *unit {
	for _, l := range u.deps {
		if l.required && l.u.hopeless() && l.u.state != Completed {
			return l.u
		}
	}
	return nil
}

func (m *Machine) anyProcess() bool {
	for _, u := range m.units {
		if u.state.hasProcess() {
			return true
		}
	}
	return false
}
