package supervise

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Op is what a Decision asks the caller to do.
type Op int

const (
	// OpStart: start run Run of workload Name, in its own process group
	// (or cgroup), then report Spawned or SpawnFailed.
	OpStart Op = iota + 1
	// OpSignal: send Signal to workload Name's process (run Run) and,
	// as the caller's policy says, its group. Reason ReasonStop marks
	// the first signal of a stop, which At bounds: the caller sends
	// SIGCONT after it (a stopped process must run to act on it, as
	// systemd, s6-svc -d and runit's sv down do), and SIGKILLs at At
	// whatever of the run's tree outlives its process (the machine's
	// OpKill covers the process itself while it runs).
	OpSignal
	// OpKill: SIGKILL everything in workload Name's tree (run Run).
	// Reason says why: "stop-timeout", "budget", "second-signal"; and
	// "sweep" after the process ended on its own, for what it left.
	OpKill
	// OpTimer: make sure a TimerFired{Name} comes at At (replacing any
	// timer armed for Name before); a zero At cancels it. Name "" is
	// the machine's own timer (the stop budget).
	OpTimer
	// OpProbe: run workload Name's Probe (readiness or health) once,
	// giving up after Timeout, and report ProbeDone with ID.
	OpProbe
	// OpShutdown: the container is shutting down, for Reason. Code is
	// the exit code as known so far (the final one comes with OpDrain).
	OpShutdown
	// OpDrain: every workload has ended. Drain the processes left
	// (orphans), SIGKILL them at At, then exit with Code.
	OpDrain
)

// ReasonStop is an OpSignal's Reason when the signal begins a stop.
const ReasonStop = "stop"

var opNames = []string{OpStart: "start", OpSignal: "signal", OpKill: "kill", OpTimer: "timer", OpProbe: "probe", OpShutdown: "shutdown", OpDrain: "drain"}

func (o Op) String() string { return nameOf(opNames, int(o), "op") }

// ProbeKind says which check a probe is for.
type ProbeKind int

const (
	ProbeReady ProbeKind = iota + 1
	ProbeHealth
)

var probeNames = []string{ProbeReady: "ready", ProbeHealth: "health"}

func (k ProbeKind) String() string { return nameOf(probeNames, int(k), "probe") }

// Decision is one thing the caller must do, in the order Handle returned
// it. Only the fields its Op uses are set.
type Decision struct {
	Op      Op
	Name    string
	Run     int
	Signal  syscall.Signal
	At      time.Time
	Probe   ProbeKind
	ID      uint64
	Timeout time.Duration
	Reason  string
	Code    int
}

// String renders d on one line, the form tests and debug logs use:
//
//	start web run=2
//	signal web run=2 SIGTERM
//	kill web run=2 stop-timeout
//	timer web 12:00:05.000 (or "timer web off"; the machine's own
//	    timer prints as "timer (budget) ...")
//	probe web health id=7 timeout=1s
//	shutdown main-ended code=3
//	drain code=3 until 12:00:08.000
func (d Decision) String() string {
	var b strings.Builder
	b.WriteString(d.Op.String())
	switch {
	case d.Name != "":
		b.WriteString(" " + d.Name)
	case d.Op == OpTimer:
		b.WriteString(" (budget)")
	}
	switch d.Op {
	case OpStart:
		b.WriteString(" run=" + strconv.Itoa(d.Run))
	case OpSignal:
		fmt.Fprintf(&b, " run=%d %s", d.Run, SignalName(d.Signal))
	case OpKill:
		fmt.Fprintf(&b, " run=%d %s", d.Run, d.Reason)
	case OpTimer:
		if d.At.IsZero() {
			b.WriteString(" off")
		} else {
			b.WriteString(" " + clockTime(d.At))
		}
	case OpProbe:
		fmt.Fprintf(&b, " %s id=%d timeout=%v", d.Probe, d.ID, d.Timeout)
	case OpShutdown:
		fmt.Fprintf(&b, " %s code=%d", d.Reason, d.Code)
	case OpDrain:
		fmt.Fprintf(&b, " code=%d until %s", d.Code, clockTime(d.At))
	}
	return b.String()
}

func clockTime(t time.Time) string { return t.UTC().Format("15:04:05.000") }

// maxSignal is the highest Linux signal number (SIGRTMAX).
const maxSignal = 64

// signalNames covers the signals a stop or a routing table uses; others
// print by number.
var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGCONT: "SIGCONT", syscall.SIGSTOP: "SIGSTOP", syscall.SIGTSTP: "SIGTSTP",
	syscall.SIGWINCH: "SIGWINCH", syscall.SIGTTIN: "SIGTTIN", syscall.SIGTTOU: "SIGTTOU",
}

// SignalName names sig as "SIGTERM", or "signal 40" for one without a
// name here.
func SignalName(sig syscall.Signal) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}
