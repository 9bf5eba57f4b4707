package supervise

import (
	"slices"
	"time"
)

// syncTimers decides OpTimer for every timer whose deadline changed since
// it was last decided: the earliest deadline of each unit, and the stop
// budget's end for the machine's own ("").
func (m *Machine) syncTimers() {
	want := map[string]time.Time{}
	for _, u := range m.units {
		next := time.Time{}
		for _, t := range []time.Time{u.restartAt, u.startBy, u.killAt, u.probeAt} {
			if !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		if !next.IsZero() {
			want[u.spec.Name] = next
		}
	}
	if m.shut != nil && !m.shut.drained {
		want[""] = m.shut.deadline
	}
	var names []string
	for n := range m.armed {
		names = append(names, n)
	}
	for n := range want {
		if _, ok := m.armed[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names) // decisions in a fixed order
	for _, n := range names {
		at, ok := want[n]
		if old, armed := m.armed[n]; armed && ok && old.Equal(at) {
			continue
		}
		m.emit(Decision{Op: OpTimer, Name: n, At: at})
		if ok {
			m.armed[n] = at
		} else {
			delete(m.armed, n)
		}
	}
}

// Timers keeps the deadlines OpTimer decisions ask for, for an event loop
// that runs one real timer: Set applies a decision, Next says when that
// timer should fire, Due takes the names whose deadline has passed.
type Timers struct {
	at map[string]time.Time
}

// Set applies an OpTimer decision (a zero at cancels name's timer).
func (t *Timers) Set(name string, at time.Time) {
	if t.at == nil {
		t.at = map[string]time.Time{}
	}
	if at.IsZero() {
		delete(t.at, name)
		return
	}
	t.at[name] = at
}

// Next returns the earliest deadline, and false when none is set.
func (t *Timers) Next() (time.Time, bool) {
	var next time.Time
	for _, at := range t.at {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, !next.IsZero()
}

// Due removes and returns, sorted, the names whose deadline is not after
// now.
func (t *Timers) Due(now time.Time) []string {
	var due []string
	for n, at := range t.at {
		if !at.After(now) {
			due = append(due, n)
			delete(t.at, n)
		}
	}
	slices.Sort(due)
	return due
}
