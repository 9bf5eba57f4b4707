package pid1

import (
	"errors"
	"strconv"
	"syscall"
)

// Exit codes. miniinit exits with the main workload's code, computed as a
// shell computes $?; the codes below are the only ones it makes up itself.
//
//	workload exited with N            N
//	workload killed by signal n       128+n (SIGTERM 143, SIGKILL 137)
//	command not found                 127 (not in PATH, or ENOENT from exec)
//	found but could not be run        126 (EACCES, ENOEXEC, a directory, bad cwd)
//	miniinit itself failed            125 (bad flags, bad config, a setup step,
//	                                       a workload's env file it cannot read)
//
// Then -e N (Options.RemapToZero) turns any listed code into 0, whatever
// produced it, as tini's -e does.
//
// 125 is what docker and podman return when the runtime, not the container,
// failed; miniinit sits in the same place in the chain. It covers usage
// errors too, so that one number means "the workload never ran because of
// miniinit", which 2 (a common workload code) could not.
const (
	ExitSetup         = 125
	ExitNotExecutable = 126
	ExitNotFound      = 127
	exitSignalBase    = 128
)

// errNotFound is the start error for a command that is in no PATH entry.
var errNotFound = errors.New("not found in PATH")

// exitCode maps a reaped child's status to the shell convention above.
// Stopped and continued statuses never reach it: the reaper does not ask
// for them (no WUNTRACED, no WCONTINUED).
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return exitSignalBase + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// cwdError is a working directory a workload cannot start in: exit 126
// (found, but could not be run), not the 127 its ENOENT would suggest.
type cwdError struct {
	dir string
	err error
}

func (e *cwdError) Error() string { return "working directory " + e.dir + ": " + e.err.Error() }
func (e *cwdError) Unwrap() error { return e.err }

// describeStatus renders a status for logs: "exited with code 3", "killed
// by SIGTERM", "killed by SIGSEGV (core dumped)".
func describeStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		s := "killed by " + SignalName(ws.Signal())
		if ws.CoreDump() {
			s += " (core dumped)"
		}
		return s
	}
	return "exited with code " + strconv.Itoa(ws.ExitStatus())
}

// commandError is a failure of the command itself: not found (127), or
// found but not runnable (126). Only these make 127 or 126: an ENOENT of
// anything else at start (an env file, an output file) is miniinit's own
// failure to set the workload up.
type commandError struct{ err error }

func (e *commandError) Error() string { return e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// startErrorCode maps a failure to start a workload to 127 when the command
// does not exist, 126 for anything else that kept the command from running
// (its working directory, its confinement included), and 125 for a failure
// of miniinit's own setup around it (an env file it cannot read...).
func startErrorCode(err error) int {
	var cwd *cwdError
	var conf *confineError
	var cmd *commandError
	switch {
	case errors.As(err, &cwd), errors.As(err, &conf):
		return ExitNotExecutable
	case !errors.As(err, &cmd):
		return ExitSetup
	case errors.Is(err, errNotFound), errors.Is(err, syscall.ENOENT):
		return ExitNotFound
	}
	return ExitNotExecutable
}

// remap applies -e: a code listed in toZero becomes 0.
func remap(code int, toZero []int) int {
	for _, z := range toZero {
		if code == z {
			return 0
		}
	}
	return code
}
