package pid1

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Socket activation: why a re-exec.
//
// sd_listen_fds(3) accepts the descriptors only when LISTEN_PID is the pid
// of the process reading them, so the variable must hold the workload's own
// pid, which exists only after the fork. systemd, catatonit and the other C
// launchers set it in the child between fork and exec. A Go program cannot
// run code there, so miniinit does the next simplest thing: the child
// executes miniinit again (/proc/self/exe) under a marker argv[0]; that tiny
// second program, which is already the workload's process, sets LISTEN_PID
// to its pid and executes the real command. The pid does not change across
// exec, so the workload reads its own pid.
//
//	miniinit ──fork──▶ child ──exec /proc/self/exe──▶ shim: LISTEN_PID=getpid()
//	                                                   ──exec command──▶ workload
//
// It costs one extra exec, only for the main workload, only when
// LISTEN_FDS is set. During that exec a signal to the workload meets the
// Go runtime's defaults, not the workload's handlers: the window is the
// startup of a static binary, about a millisecond.

// listenShimArg0 marks miniinit executed as the shim. Its argv is
// [listenShimArg0, resolved command path, command argv...].
const listenShimArg0 = "miniinit:listen-pid"

// selfExe re-executes miniinit; the magic link works even when the binary
// was deleted or lives in a memfd.
const selfExe = "/proc/self/exe"

// MaybeListenShim returns at once unless args (os.Args) are a shim
// invocation; then it never returns. cmd/miniinit calls it first thing.
//
// It also runs the exec stage (confine_linux.go), which shares the
// mechanism.
func MaybeListenShim(args []string) {
	maybeExecShim(args)
	if len(args) < 3 || (args[0] != listenShimArg0 && args[0] != startShimArg0) {
		return
	}
	runtime.LockOSThread() // for good: the mask set for exec is this thread's
	path, argv := args[1], args[2:]
	env := os.Environ()
	if args[0] == listenShimArg0 {
		env = workloadEnv(env, []string{"LISTEN_PID=" + strconv.Itoa(os.Getpid())})
	}
	env = takeAndApplySigState(env)
	err := unix.Exec(path, argv, env)
	// Past this point the process is the workload that failed to start:
	// report it the way a failed exec is reported, with 126 or 127.
	msg := fmt.Sprintf("miniinit: level=ERROR msg=\"start workload\" err=%q\n", sysErr("exec "+path, err).Error())
	_, _ = unix.Write(2, []byte(msg))
	os.Exit(startErrorCode(execError(err)))
}

// shimArgv is the argv that makes a child run the shim for path and argv.
func shimArgv(path string, argv []string) []string {
	return append([]string{listenShimArg0, path}, argv...)
}

// startShimArg0 marks miniinit executed as the shim for nothing but the
// signal state (inherit.go): the same shim, without LISTEN_PID.
const startShimArg0 = "miniinit:start"

// startShimArgv is the argv that makes a child run the start shim.
func startShimArgv(path string, argv []string) []string {
	return append([]string{startShimArg0, path}, argv...)
}

// takeAndApplySigState applies the signal state that signalsEnv in env
// carries, and returns env without it. A malformed value is reported and
// ignored: the workload still starts.
func takeAndApplySigState(env []string) []string {
	env, st, ok, err := takeSigState(env)
	if err != nil {
		_, _ = unix.Write(2, []byte(fmt.Sprintf("miniinit: level=WARN msg=\"start workload\" err=%q\n", err.Error())))
	}
	if ok && err == nil {
		applySigState(st)
	}
	return env
}
