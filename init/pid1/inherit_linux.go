package pid1

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sigIgn is SIG_IGN, the handler value that ignores a signal.
const sigIgn = 1

// Filled by miniinit_rt0 (entry_linux_*.s) before the Go runtime starts,
// when the binary was linked with EntryLDFlag: startCaptured is then 1.
var (
	startCaptured uint32
	startBlocked  uint64
	startIgnored  uint64
	// sigactBuf receives one struct sigaction from the kernel.
	sigactBuf [4]uint64
)

// visibleAtStart is the signal state as the runtime left it when this
// package is initialised (on the main thread): what a binary without the
// entry point can still hand on.
var visibleAtStart = readSigState()

// inheritedSignals is the signal state miniinit was started with, as
// exactly as this binary can know it (see inherit.go).
func inheritedSignals() sigState {
	if startCaptured == 1 {
		return sigState{blocked: startBlocked, ignored: startIgnored}
	}
	return visibleAtStart
}

// workloadSignals is the state workloads start with: the inherited one,
// or a clean one under minispawn.
func (l *loop) workloadSignals() sigState {
	if l.opts.HostFD > 0 {
		return sigState{}
	}
	return inheritedSignals()
}

// readSigState reads the calling thread's mask and the process's ignored
// signals.
func readSigState() sigState {
	var s sigState
	var mask unix.Sigset_t
	if unix.PthreadSigmask(unix.SIG_BLOCK, nil, &mask) == nil {
		s.blocked = mask.Val[0]
	}
	for sig := 1; sig <= maxSignal; sig++ {
		var act [4]uint64
		_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0)
		if e == 0 && act[0] == sigIgn {
			s.ignored |= 1 << (sig - 1)
		}
	}
	return s
}

// withThreadMask runs fork (a ForkExec) on a thread whose mask is mask:
// the child starts with the mask its parent's thread had when it forked,
// and keeps it across exec. The thread's own mask is put back after.
func withThreadMask(mask uint64, fork func() (int, error)) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.Sigset_t
	set := unix.Sigset_t{Val: [16]uint64{mask}}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &set, &old); err != nil {
		return fork()
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	return fork()
}

// applySigState makes s the signal state this process hands to the program
// it executes next: its ignored signals set to SIG_IGN (the others keep
// their disposition, which exec turns into the default) and the calling
// thread's mask. The caller is a shim about to exec, locked to its thread.
func applySigState(s sigState) {
	for sig := 1; sig <= maxSignal; sig++ {
		if s.ignored&(1<<(sig-1)) == 0 || sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			continue
		}
		act := [4]uint64{sigIgn}
		_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	}
	set := unix.Sigset_t{Val: [16]uint64{s.blocked}}
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &set, nil)
}
