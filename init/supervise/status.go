package supervise

import (
	"slices"
	"strconv"
	"time"
)

// Status is a snapshot of one workload, for `miniinit ctl status`, the
// health answer and the end-of-run report.
type Status struct {
	Name      string    `json:"name"`
	State     State     `json:"state"`
	Since     time.Time `json:"since"`
	Main      bool      `json:"main,omitempty"`
	Essential bool      `json:"essential,omitempty"`
	Run       int       `json:"run"`           // starts so far
	Restarts  int       `json:"restarts"`      // starts after the first
	Pid       int       `json:"pid,omitempty"` // while it has a process
	// Health is "" without a health check, else "unknown" (not yet
	// checked, or without a process to check: stopped, failed...),
	// "healthy" or "unhealthy".
	Health string `json:"health,omitempty"`
	// Exit is how the last run ended; nil while it has not.
	Exit       *Exit  `json:"exit,omitempty"`
	StartError string `json:"start_error,omitempty"`
	// Reason says why the workload is in its state, when it is not
	// the obvious one: "gave up after 5 failures within 1m0s", "stopped
	// by request", "unhealthy: 3 failed checks (exit 1)".
	Reason string `json:"reason,omitempty"`
	// Text is the last STATUS= the workload sent.
	Text string `json:"status_text,omitempty"`
	// Killed: its last stop ended in SIGKILL.
	Killed bool `json:"sigkilled,omitempty"`
	// Probe is the detail of the last probe result.
	Probe string `json:"probe,omitempty"`
	// OutputDropped and OutputDroppedBytes are the lines and bytes of
	// output dropped (log_overflow = "drop"), filled in by miniinit.
	OutputDropped      uint64 `json:"output_dropped,omitempty"`
	OutputDroppedBytes uint64 `json:"output_dropped_bytes,omitempty"`
}

// MarshalJSON-friendly field names for Exit.
func (e Exit) String() string { return describeExit(e) }

// Status returns every workload's status, in the order of the specs.
func (m *Machine) Status() []Status {
	out := make([]Status, 0, len(m.units))
	for _, u := range m.units {
		out = append(out, m.statusOf(u))
	}
	return out
}

// Removed returns the last status of each workload a reload removed and
// the machine has forgotten since (once it had ended), by name: state
// stopped (or the end it had reached), reason "removed by reload".
func (m *Machine) Removed() map[string]Status { return m.removed }

func (m *Machine) statusOf(u *unit) Status {
	st := Status{
		Name: u.spec.Name, State: u.state, Since: u.since,
		Main: u.spec.Main, Essential: u.spec.Essential,
		Run: u.run, Restarts: max(u.run-1, 0), Pid: u.pid,
		StartError: u.startErr, Reason: u.reason, Text: u.text,
		Killed: u.killed, Probe: u.probeDetail,
	}
	if u.spec.Health.Interval > 0 {
		switch {
		case !u.healthKnown || !u.state.hasProcess():
			// Not checked yet, or no process to check: a stopped
			// or failed workload is not healthy.
			st.Health = "unknown"
		case u.healthy:
			st.Health = "healthy"
		default:
			st.Health = "unhealthy"
		}
	}
	if u.ended {
		e := u.exit
		st.Exit = &e
	}
	return st
}

// Healthy answers `miniinit health`: true only when the main workload and
// every essential one are ready (a oneshot: completed) and, where they have
// a health check, passed the last one. Otherwise it also returns a line for
// each that is not, and false. With neither main nor essential workloads
// every workload counts, as for the readiness the host is told: then no
// one workload is the container, so all of them are.
func (m *Machine) Healthy() (bool, []string) {
	var bad []string
	if m.shut != nil {
		bad = append(bad, "shutting down ("+m.shut.reason+")")
	}
	key := func(u *unit) bool { return u.spec.Main || u.spec.Essential }
	anyKey := slices.ContainsFunc(m.units, key)
	for _, u := range m.units {
		if anyKey && !key(u) || u.removed {
			continue
		}
		if !u.meets(CondHealthy) {
			line := u.spec.Name + ": " + u.state.String()
			if u.state == Running || u.state == Ready {
				line += ", unhealthy"
				if !u.healthKnown {
					line += " (not yet checked)"
				}
			}
			bad = append(bad, line)
		}
	}
	return len(bad) == 0, bad
}

// Summary describes the shutdown, for the report.
type Summary struct {
	// Reason: "signal", "main-ended", "essential-failed" or
	// "nothing-left".
	Reason string `json:"reason"`
	// Signal names the signal for reason "signal".
	Signal string `json:"signal,omitempty"`
	// Workload names the workload for "main-ended" and
	// "essential-failed", and for "nothing-left" the first failed one
	// (whose code is the container's), if any.
	Workload string    `json:"workload,omitempty"`
	Began    time.Time `json:"began"`
	// Deadline is the end of the stop budget.
	Deadline time.Time `json:"deadline"`
	// Code is the container's exit code as known now: final once the
	// main workload (if any) has ended.
	Code    int  `json:"exit_code"`
	Drained bool `json:"drained"`
}

// Shutdown returns the shutdown's summary, and false before one began.
func (m *Machine) Shutdown() (Summary, bool) {
	s := m.shut
	if s == nil {
		return Summary{}, false
	}
	// The code as known now: a main workload that ends after the drain
	// began (SIGKILLed at the budget's end) still gives its own.
	sum := Summary{Reason: s.reason, Began: s.began, Deadline: s.deadline, Drained: s.drained, Code: m.exitCode()}
	if s.signal != 0 {
		sum.Signal = SignalName(s.signal)
	}
	if s.cause != nil {
		sum.Workload = s.cause.spec.Name
	}
	return sum, true
}

// State returns workload name's state (Stopped for an unknown name).
func (m *Machine) State(name string) State {
	if u := m.byName[name]; u != nil {
		return u.state
	}
	return Stopped
}

// Has reports whether a workload is named name, for control requests.
func (m *Machine) Has(name string) bool { return m.byName[name] != nil }

// ShuttingDown reports whether the shutdown has begun.
func (m *Machine) ShuttingDown() bool { return m.shut != nil }

// describeExit renders an exit for reasons and logs: "exited with code 3",
// "killed by SIGTERM".
func describeExit(e Exit) string {
	if e.Signal != 0 {
		return "killed by " + SignalName(e.Signal)
	}
	return "exited with code " + itoa(e.Code)
}

func itoa(n int) string { return strconv.Itoa(n) }
