// Command gofloor is the smallest Go program that does an init's job for
// the benchmarks: it starts its arguments as a child, passes the usual
// signals on to it (TERM, INT, HUP, QUIT, USR1, USR2, WINCH) through
// os/signal, reaps every child (so it also works as PID 1), and exits with
// the child's code, or 128+N when the child died of signal N.
//
// It is a yardstick, not a peer: measured next to miniinit it shows how much
// of miniinit's start-up time, memory and signal latency is the Go runtime
// itself (the floor any Go init pays) and how much is miniinit's own.  It is
// a module of its own so that the project's `go vet ./...` and
// `go test ./...` leave it out.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: gofloor CMD [ARGS...]\n")
		os.Exit(125)
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		os.Stderr.WriteString("gofloor: exec " + os.Args[1] + ": " + err.Error() + "\n")
		os.Exit(127)
	}
	go func() {
		for s := range sigs {
			_ = syscall.Kill(pid, s.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		p, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			os.Exit(125)
		}
		if p != pid {
			continue // an orphan: reaped, nothing else to do
		}
		if ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ws.ExitStatus())
	}
}
