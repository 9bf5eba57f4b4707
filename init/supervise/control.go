package supervise

import "time"

// wantUp makes u wanted, with everything it requires: what failed or was
// stopped waits to start again with a clean record, what waits in backoff
// starts at once, and what is being stopped comes back once it has ended.
// A completed requirement stays completed; u itself, completed, runs again.
func (m *Machine) wantUp(u *unit, now time.Time) {
	seen := map[*unit]bool{}
	var up func(v *unit, self bool)
	up = func(v *unit, self bool) {
		if seen[v] {
			return
		}
		seen[v] = true
		v.want = true
		switch {
		case v.state == Failed || v.state == Stopped || v.state == Completed && self:
			v.fails, v.attempt, v.reason = nil, 0, ""
			m.setState(v, Waiting, now)
		case v.state == Backoff:
			v.restartAt = time.Time{}
			m.setState(v, Waiting, now)
		case v.state == Stopping:
			v.then = thenRestart
		}
		for _, l := range v.deps {
			if l.required {
				up(l.u, false)
			}
		}
	}
	up(u, true)
}

// wantDown makes u unwanted, with everything that requires it: reconcile
// then stops them, dependents first.
func (m *Machine) wantDown(u *unit, why string) {
	seen := map[*unit]bool{}
	var down func(v *unit)
	down = func(v *unit) {
		if seen[v] {
			return
		}
		seen[v] = true
		v.want = false
		if v.state == Stopping && v.then != thenFailed {
			v.then, v.reason = thenStopped, why
		}
		for _, d := range v.dependents {
			for _, l := range d.deps {
				if l.u == v && l.required {
					down(d)
				}
			}
		}
	}
	down(u)
}

// restart stops u if it has a process and starts it again once it has
// ended; without a process it is a start.
func (m *Machine) restart(u *unit, now time.Time, why string) {
	if !u.state.hasProcess() {
		m.wantUp(u, now)
		return
	}
	u.want = true
	if u.state == Stopping {
		u.then = thenRestart
		return
	}
	m.stop(u, thenRestart, why, now)
}
