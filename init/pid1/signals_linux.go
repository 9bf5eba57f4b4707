package pid1

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// sigRTMin and sigRTMax bound the real-time signals miniinit can use.
	// The kernel's range starts at 32; the C library keeps 32 and 33 for
	// itself, so SIGRTMIN is 34 for every program a workload is likely to
	// be, and miniinit names them the same way.
	sigRTMin  = syscall.Signal(34)
	sigRTMax  = syscall.Signal(64)
	maxSignal = 64
)

// signalTable is the forwarding policy, one row per signal, in number order.
// doc.go has the same table in prose; signals_test.go checks both the
// policy and every name against golang.org/x/sys/unix.
var signalTable = append([]signalInfo{
	{unix.SIGHUP, "SIGHUP", forward},
	{unix.SIGINT, "SIGINT", forward},
	{unix.SIGQUIT, "SIGQUIT", forward},
	{unix.SIGILL, "SIGILL", drop},
	{unix.SIGTRAP, "SIGTRAP", drop},
	{unix.SIGABRT, "SIGABRT", drop},
	{unix.SIGBUS, "SIGBUS", drop},
	{unix.SIGFPE, "SIGFPE", drop},
	{unix.SIGKILL, "SIGKILL", notCaught},
	{unix.SIGUSR1, "SIGUSR1", forward},
	{unix.SIGSEGV, "SIGSEGV", drop},
	{unix.SIGUSR2, "SIGUSR2", forward},
	{unix.SIGPIPE, "SIGPIPE", forward},
	{unix.SIGALRM, "SIGALRM", forward},
	{unix.SIGTERM, "SIGTERM", forward},
	{unix.SIGSTKFLT, "SIGSTKFLT", forward},
	{unix.SIGCHLD, "SIGCHLD", reap},
	{unix.SIGCONT, "SIGCONT", forward},
	{unix.SIGSTOP, "SIGSTOP", notCaught},
	{unix.SIGTSTP, "SIGTSTP", forward},
	{unix.SIGTTIN, "SIGTTIN", forward},
	{unix.SIGTTOU, "SIGTTOU", forward},
	{unix.SIGURG, "SIGURG", notCaught},
	{unix.SIGXCPU, "SIGXCPU", forward},
	{unix.SIGXFSZ, "SIGXFSZ", forward},
	{unix.SIGVTALRM, "SIGVTALRM", forward},
	{unix.SIGPROF, "SIGPROF", notCaught},
	{unix.SIGWINCH, "SIGWINCH", forward},
	{unix.SIGIO, "SIGIO", forward},
	{unix.SIGPWR, "SIGPWR", forward},
	{unix.SIGSYS, "SIGSYS", drop},
}, realtimeSignals()...)

// realtimeSignals are SIGRTMIN (34) to SIGRTMAX (64). All are forwarded
// (systemd in a container, for one, stops on SIGRTMIN+3) but SIGRTMIN
// itself: the Go runtime leaves 32 to 34 to the C library (34 is musl's
// SIGSYNCCALL, golang/go#39343), at their default action, and os/signal
// cannot catch them. As PID 1 of a namespace the kernel then ignores a
// SIGRTMIN sent to miniinit; as a plain process it ends miniinit.
func realtimeSignals() []signalInfo {
	var out []signalInfo
	for s := sigRTMin; s <= sigRTMax; s++ {
		name, act := "SIGRTMIN+"+strconv.Itoa(int(s-sigRTMin)), forward
		switch s {
		case sigRTMin:
			name, act = "SIGRTMIN", notCaught
		case sigRTMax:
			name = "SIGRTMAX"
		}
		out = append(out, signalInfo{s, name, act})
	}
	return out
}

// register has os/signal deliver sigs to c and returns once every one of
// them is caught. The runtime enables each signal with a round trip to a
// thread of its own (the one that keeps Notify's signals unblocked); from
// Run's goroutine, which is locked to its thread, each round trip also puts
// that thread to sleep and wakes it again. A goroutine of its own, not
// locked, has the ~57 round trips take about 60% of the time (about 380 µs
// rather than 630 µs on a 2-core VM), and the caller waits for it: nothing
// changes in what is caught, or when, relative to the caller's next step.
func register(c chan<- os.Signal, sigs []os.Signal) {
	done := make(chan struct{})
	go func() {
		signal.Notify(c, sigs...)
		close(done)
	}()
	<-done
}
