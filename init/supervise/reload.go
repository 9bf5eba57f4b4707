package supervise

import (
	"errors"
	"reflect"
	"slices"
	"syscall"
)

// ErrShuttingDown is Reload's error once the shutdown has begun.
var ErrShuttingDown = errors.New("shutting down")

// Reload replaces the specs, for `miniinit ctl reload`. A workload whose
// definition changed (named in changed: its command, environment or
// anything else the caller runs it with; or its Spec differs) is
// restarted if it has a process, and started again if it had failed or
// completed; one stopped by request stays stopped. New workloads start as
// their dependencies allow; workloads no longer in specs are stopped
// (dependents first) and forgotten once ended. Unchanged workloads are not
// touched.
//
// On an error (specs break the contract of New, or the shutdown has
// begun) nothing changes.
func (m *Machine) Reload(specs []Spec, changed []string) ([]Decision, error) {
	if m.shut != nil {
		return nil, ErrShuttingDown
	}
	if err := checkSpecs(specs); err != nil {
		return nil, err
	}
	m.out = nil
	now := m.clock.Now()
	keep := map[string]bool{}
	var units []*unit
	var restart []*unit
	for _, s := range specs {
		keep[s.Name] = true
		u := m.byName[s.Name]
		if u == nil || u.removed {
			if u != nil {
				// Removed by an earlier reload and still ending: the
				// new one is a new workload, once the old has gone.
				// Until then it keeps the old record under its name,
				// wanted again, and starts when the old process ends.
				u.removed = false
				u.want = m.booted
				if u.state == Stopping && u.want {
					u.then = thenRestart
				}
			} else {
				u = &unit{state: Waiting, since: now, want: m.booted}
				m.byName[s.Name] = u
			}
			u.spec = s
			if u.state.final() {
				u.want = m.booted
				m.setState(u, Waiting, now)
			}
			units = append(units, u)
			continue
		}
		if slices.Contains(changed, s.Name) || !reflect.DeepEqual(u.spec, s) {
			// A process is stopped as the definition it was started
			// with says: its stop signal and timeout.
			if u.state.hasProcess() && u.state != Stopping {
				u.want = true
				m.stop(u, thenRestart, "definition changed", now)
			}
			restart = append(restart, u)
		}
		u.spec = s
		units = append(units, u)
	}
	for _, u := range m.units {
		if !keep[u.spec.Name] {
			u.removed = true
			m.wantDown(u, "removed by reload")
			units = append(units, u)
		}
	}
	m.units = units
	m.main = nil
	m.link()
	for _, u := range restart {
		switch {
		case u.state == Stopping && u.want:
			u.then = thenRestart
		case u.state == Failed || u.state == Completed:
			m.wantUp(u, now)
		}
	}
	m.reconcile(now)
	m.syncTimers()
	out := m.out
	m.out = nil
	return out, nil
}

// SetRoutes replaces the signal routes (Options.Routes), for a reload.
func (m *Machine) SetRoutes(routes map[syscall.Signal][]string) { m.routes = routes }
