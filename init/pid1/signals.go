package pid1

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// action is what miniinit does with a signal sent to it. The table that maps
// every signal to its action is signalTable (signals_linux.go).
type action int

const (
	// forward: send it on to the workloads (each one's pid, or its process
	// group with -g). This is every catchable signal but the ones below.
	forward action = iota
	// reap: SIGCHLD only. A doorbell for the reaper, never forwarded: the
	// workload's children are its own business, and miniinit's children
	// (including adopted orphans) are miniinit's.
	reap
	// drop: the fault signals (SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
	// SIGSEGV, SIGSYS). When the kernel raises one for a real fault, the Go
	// runtime still crashes or panics as usual; catching them only means
	// that a stray "kill -SEGV 1" cannot take PID 1, and with it the whole
	// container, down. They are never forwarded, as tini and catatonit
	// never forward them.
	drop
	// notCaught: never registered with os/signal. SIGKILL and SIGSTOP
	// cannot be; SIGURG is the Go runtime's preemption signal and
	// registering it would forward the runtime's own traffic
	// (golang/go#37942); SIGPROF belongs to the runtime's profiler, which
	// os/signal never lets go of (runtime.sigenable); 32 to 34 belong to
	// the C library's threading, and the runtime leaves them alone.
	notCaught
)

func (a action) String() string {
	switch a {
	case forward:
		return "forward"
	case reap:
		return "reap"
	case drop:
		return "drop"
	case notCaught:
		return "not-caught"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// signalInfo is one row of the signal table.
type signalInfo struct {
	sig  syscall.Signal
	name string
	act  action
}

// classify returns what miniinit does with sig. Signals outside the table
// (32, 33, anything above 64) are not caught.
func classify(sig syscall.Signal) action {
	if si, ok := lookupSignal(sig); ok {
		return si.act
	}
	return notCaught
}

// intake lists every signal miniinit registers with os/signal: the table
// minus the not-caught rows. It is an explicit list on purpose: the
// no-argument form of signal.Notify would include SIGURG.
func intake() []syscall.Signal {
	var out []syscall.Signal
	for _, si := range signalTable {
		if si.act != notCaught {
			out = append(out, si.sig)
		}
	}
	return out
}

func lookupSignal(sig syscall.Signal) (signalInfo, bool) {
	for _, si := range signalTable {
		if si.sig == sig {
			return si, true
		}
	}
	return signalInfo{}, false
}

// SignalName returns the conventional name of sig ("SIGTERM",
// "SIGRTMIN+3"), or "signal N" for a number outside the table.
func SignalName(sig syscall.Signal) string {
	if si, ok := lookupSignal(sig); ok {
		return si.name
	}
	return "signal " + strconv.Itoa(int(sig))
}

// ParseSignal reads a signal given by name or number: "SIGTERM", "TERM",
// "term", "15", "SIGRTMIN+3", "RTMAX-2". It accepts exactly the signals in
// the table, and numbers 1 to 64.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > maxSignal {
			return 0, fmt.Errorf("signal number %d out of range 1-%d", n, maxSignal)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for _, si := range signalTable {
		if si.name == name {
			return si.sig, nil
		}
	}
	// SIGRTMAX-n is the other common spelling of a real-time signal.
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX-"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && int(sigRTMax)-n >= int(sigRTMin) {
			return sigRTMax - syscall.Signal(n), nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}
