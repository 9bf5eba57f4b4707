package main

import "syscall"

// minispawn's own exit codes. They sit apart from the codes a workload
// gives (which minispawn passes through unchanged), following the
// convention of docker and podman: 125 means the container never ran.
const (
	// exitSetup: the configuration was invalid or a setup step failed, so
	// no workload ran. The message on stderr names the step, path and
	// errno, or every problem in the configuration.
	exitSetup = 125
	// exitUsage: the command line itself was wrong.
	exitUsage = 2
	// exitAbort: SIGABRT (systemd's watchdog) ended the container, as a
	// death by SIGABRT would read, without the Go runtime's dump.
	exitAbort = 128 + int(syscall.SIGABRT)
)

// statusCode turns the container's wait status into minispawn's exit code:
// N for exit N, 128+n for death by signal n, as a shell reports it.
func statusCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return exitSetup
}
