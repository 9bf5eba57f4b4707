package pid1

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes the kernel hand miniinit the orphans of its
// descendants, as it hands them to PID 1 (prctl PR_SET_CHILD_SUBREAPER,
// Linux 3.4). That is what lets miniinit reap and drain as a plain process.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return sysErr("prctl PR_SET_CHILD_SUBREAPER", err)
	}
	return nil
}

// isSubreaper reports whether miniinit is a child subreaper already: the
// setting survives execve(2), so a parent that set it before executing
// miniinit (a supervisor's launcher, a test harness) has made it one.
func isSubreaper() bool {
	var v int32
	err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0, 0, 0)
	return err == nil && v != 0
}

// setName sets the calling thread's name, which is the process's name in
// ps and /proc/PID/comm when that thread is the main thread (cmd/miniinit
// keeps main there). It matters when miniinit was executed from a memfd,
// whose name the kernel would otherwise show as a number.
func setName(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0); err != nil {
		return sysErr("prctl PR_SET_NAME", err)
	}
	return nil
}

// setParentDeathSignal asks for sig when the parent exits, then closes the
// race the prctl(2) manual describes: if the parent died before the call,
// nothing would ever arrive, so miniinit raises it at itself.
//
// The setting belongs to the calling thread, and the kernel delivers it to
// the whole process while that thread lives: Run calls it during setup,
// locked to the main thread, which lives as long as the process.
func setParentDeathSignal(sig syscall.Signal, parentAtStart int) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(sig), 0, 0, 0); err != nil {
		return sysErr("prctl PR_SET_PDEATHSIG", err)
	}
	if unix.Getppid() != parentAtStart {
		return unix.Kill(unix.Getpid(), sig)
	}
	return nil
}
