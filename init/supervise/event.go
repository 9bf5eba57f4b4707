package supervise

import (
	"syscall"
	"time"
)

// Event is what the caller tells the machine: something happened to a
// process, a timer it was asked to arm fired, or someone asked for
// something. The caller owns every process, wait and timer; the machine
// owns only the decisions.
//
// Events naming an unknown workload, or a Run other than the workload's
// current one, are stale (a late probe result, a message from a process
// already replaced) and ignored.
type Event interface{ event() }

// Boot starts the machine: every workload is wanted up, in dependency
// order. Handle ignores a second Boot.
type Boot struct{}

// Spawned: the process for run Run of the workload was started (its exec
// succeeded) with pid Pid.
type Spawned struct {
	Name string
	Run  int
	Pid  int
}

// SpawnFailed: run Run could not be started (command not found, exec
// refused...). Code is the exit code that stands for it (127, 126), Err
// says why. It counts as a failure.
type SpawnFailed struct {
	Name string
	Run  int
	Code int
	Err  string
}

// Exited: the workload's process for run Run ended.
type Exited struct {
	Name string
	Run  int
	Exit Exit
}

// Exit is how a process ended: Code by the shell's rules (N for exit(N),
// 128+n for death by signal n) and, for a death by signal, Signal.
type Exit struct {
	Code   int
	Signal syscall.Signal
}

// ExitCode returns the Exit for exit(code).
func ExitCode(code int) Exit { return Exit{Code: code} }

// KilledBy returns the Exit for a death by sig.
func KilledBy(sig syscall.Signal) Exit { return Exit{Code: 128 + int(sig), Signal: sig} }

// ReadyNotified: the workload said it is ready (READY=1 on the notify
// socket, a line on its readiness descriptor). Ignored unless its
// readiness kind is ReadyNotify or ReadyFD.
type ReadyNotified struct {
	Name string
	Run  int
}

// StatusNotified: the workload sent a status text (STATUS=...), kept for
// status output.
type StatusNotified struct {
	Name string
	Run  int
	Text string
}

// ProbeDone is the result of the probe decided with ID: OK or not, and a
// short Detail for status output ("exit 1", "connection refused").
type ProbeDone struct {
	Name   string
	ID     uint64
	OK     bool
	Detail string
}

// TimerFired: the timer armed for Name ("" for the machine's own) went
// off. Early or spurious firings are harmless: the machine acts only on
// deadlines that have passed by its clock, and arms the timer again.
type TimerFired struct{ Name string }

// ShutdownRequested: a signal (SIGTERM, SIGINT) asks the container to
// stop. The first begins the ordered shutdown; any later one skips to
// SIGKILL.
type ShutdownRequested struct{ Signal syscall.Signal }

// SignalReceived: miniinit was sent Signal, which is neither a shutdown
// request nor one it handles itself. It goes to the workloads the routing
// table names for it, or to every workload with a process when it names
// none.
type SignalReceived struct{ Signal syscall.Signal }

// StartRequested: start Name (and what it requires) if it is not up; a
// workload waiting in backoff starts at once. Refused during shutdown.
type StartRequested struct{ Name string }

// StopRequested: stop Name, and first what requires it.
type StopRequested struct{ Name string }

// RestartRequested: stop Name if it runs, then start it again at once; no
// backoff, and it counts as no failure.
type RestartRequested struct{ Name string }

func (Boot) event()              {}
func (Spawned) event()           {}
func (SpawnFailed) event()       {}
func (Exited) event()            {}
func (ReadyNotified) event()     {}
func (StatusNotified) event()    {}
func (ProbeDone) event()         {}
func (TimerFired) event()        {}
func (ShutdownRequested) event() {}
func (SignalReceived) event()    {}
func (StartRequested) event()    {}
func (StopRequested) event()     {}
func (RestartRequested) event()  {}

// Clock is where the machine reads the time. Tests use a fake one; the
// event loop passes SystemClock.
type Clock interface{ Now() time.Time }

// SystemClock reads time.Now.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
