package supervise

import "fmt"

// State is where a workload is in its life. The machine moves a workload
// between states only on events; see the diagram in doc.go.
type State int

const (
	// Waiting: wanted up, waiting for its dependencies.
	Waiting State = iota
	// Starting: started, not yet ready (a oneshot: not yet completed).
	Starting
	// Running: started, with no readiness check to wait for.
	Running
	// Ready: started, and it said it is ready.
	Ready
	// Backoff: ended, and a restart is scheduled.
	Backoff
	// Stopping: sent its stop signal; waiting for it to end.
	Stopping
	// Stopped: ended because it was asked to, or asked to stop before it
	// started.
	Stopped
	// Failed: ended for good against its will: restarts exhausted or not
	// allowed, a required workload failed, or unhealthy with action stop.
	Failed
	// Completed: exited with success and will not be restarted.
	Completed
)

var stateNames = []string{
	Waiting: "waiting", Starting: "starting", Running: "running", Ready: "ready",
	Backoff: "backoff", Stopping: "stopping", Stopped: "stopped", Failed: "failed",
	Completed: "completed",
}

func (s State) String() string { return nameOf(stateNames, int(s), "state") }

// MarshalText writes the state's name, for JSON status and reports.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name, as MarshalText writes it.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown state %q", b)
}

// hasProcess reports whether a workload in state s has a process the
// caller started and has not yet seen end.
func (s State) hasProcess() bool {
	return s == Starting || s == Running || s == Ready || s == Stopping
}

// final reports whether s is an end the machine leaves only on request.
func (s State) final() bool {
	return s == Stopped || s == Failed || s == Completed
}
