package pid1

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// reapAll is the only place in miniinit that waits for a child, and the
// event loop is its only caller (see "One reaper" in doc.go). It collects
// every child that has exited, without blocking, and hands each status to
// found, then reports whether any child is left at all.
//
// It loops wait4(-1, WNOHANG) until 0 (children remain, none exited) or
// ECHILD (no children). SIGCHLD is only a doorbell: the kernel merges
// SIGCHLDs that arrive close together, so one signal may stand for many
// exits, and only draining them all on every ring is correct.
//
// __WALL waits for children whatever signal their exit raises. miniinit
// starts none with another than SIGCHLD, and the kernel resets an adopted
// orphan's to SIGCHLD, so this only makes sure no kind of child can be
// left unreaped.
func reapAll(found func(pid int, ws syscall.WaitStatus)) (noChildren bool, err error) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return true, nil
		case err != nil:
			return false, sysErr("wait4", err)
		case pid == 0:
			return false, nil
		}
		found(pid, ws)
	}
}

// hasChildren reports whether miniinit has any child at all, without
// collecting anything: waitid with WNOWAIT only looks, so reapAll stays
// the one place statuses are taken. On error it says yes, the cautious
// answer for its caller (the drain lists processes only when there can be
// some: see others).
func hasChildren() bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return !errors.Is(err, unix.ECHILD)
	}
}
