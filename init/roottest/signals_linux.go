package roottest

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ExecWithSignals executes path with argv and env, with exactly the
// signals ignored set to SIG_IGN and the signals blocked in the mask, and
// every other signal at its default: tini's sigconf test starts tini so.
// It returns only on failure.
func ExecWithSignals(ignored, blocked []unix.Signal, path string, argv, env []string) error {
	runtime.LockOSThread() // exec keeps the calling thread's mask
	in := func(sigs []unix.Signal, s int) bool {
		for _, x := range sigs {
			if int(x) == s {
				return true
			}
		}
		return false
	}
	var mask unix.Sigset_t
	for s := 1; s <= 64; s++ {
		if s == int(unix.SIGKILL) || s == int(unix.SIGSTOP) {
			continue
		}
		act := [4]uint64{0} // SIG_DFL
		if in(ignored, s) {
			act[0] = 1 // SIG_IGN
		}
		_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(s), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
		if in(blocked, s) {
			mask.Val[(s-1)/64] |= 1 << ((s - 1) % 64)
		}
	}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &mask, nil); err != nil {
		return err
	}
	return unix.Exec(path, argv, env)
}
