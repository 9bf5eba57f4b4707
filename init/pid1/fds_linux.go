package pid1

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Descriptors.
//
// A workload gets fds 0, 1 and 2, and nothing else but the socket-activation
// descriptors (below). Anything else miniinit inherited is closed before the
// first workload starts: a pipe end held open by PID 1 keeps whoever reads
// the other end waiting for an EOF that never comes (and see runc's
// CVE-2024-21626 for what a leaked descriptor can open). What is left open
// (the Go runtime's own, all of them close-on-exec already) is marked
// close-on-exec once more, so that nothing a listing missed can leak.

// ensureStdio gives miniinit fds 0, 1 and 2: one that was closed is opened
// on /dev/null before anything else can take its number (the Go runtime's
// first descriptor would otherwise land on it and reach the workload as its
// stdin). It returns the descriptors to hand to workloads; an fd that stays
// closed (no /dev/null in the root) is passed as closed (-1).
func ensureStdio() []uintptr {
	files := make([]uintptr, 3)
	for fd := range 3 {
		files[fd] = uintptr(fd)
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			continue
		}
		nfd, err := unix.Open("/dev/null", unix.O_RDWR, 0)
		switch {
		case err != nil:
			files[fd] = math.MaxUint // -1 to syscall.ForkExec: closed in the child
		case nfd != fd:
			_ = unix.Dup3(nfd, fd, 0)
			_ = unix.Close(nfd)
		}
	}
	return files
}

// listenFDs is the socket-activation hand-over of sd_listen_fds(3): N
// descriptors from fd 3 on, for the main workload.
type listenFDs struct {
	n     int
	names string // LISTEN_FDNAMES, passed on untouched
}

// listenKeys are the variables of the protocol. No workload inherits them
// from miniinit: the main workload gets them rewritten, the others not at
// all, since the descriptors are not theirs.
var listenKeys = []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"}

// takeListenFDs reads LISTEN_FDS from env. The descriptors are miniinit's
// to pass on when LISTEN_PID is its own pid, or unset (some launchers leave
// it out); a LISTEN_PID naming another process means they were meant for
// someone else, and they are closed like any other inherited descriptor.
func takeListenFDs(env []string, self int) (listenFDs, error) {
	s := getenv(env, "LISTEN_FDS")
	if s == "" {
		return listenFDs{}, nil
	}
	if p := getenv(env, "LISTEN_PID"); p != "" && p != strconv.Itoa(self) {
		return listenFDs{}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<16 {
		return listenFDs{}, fmt.Errorf("LISTEN_FDS=%q: not a descriptor count", s)
	}
	for fd := 3; fd < 3+n; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return listenFDs{}, fmt.Errorf("LISTEN_FDS=%d: fd %d: %w", n, fd, sysErr("fcntl F_GETFD", err))
		}
	}
	return listenFDs{n: n, names: getenv(env, "LISTEN_FDNAMES")}, nil
}

// closeInherited closes every descriptor from keepEnd on that miniinit
// inherited, and marks every descriptor from 3 on close-on-exec, the kept
// ones [3, keepEnd) included: the main workload gets those through its
// ProcAttr.Files, which clears the flag in that child only.
//
// "Inherited" means not close-on-exec: a descriptor that came through
// execve(2) had the flag clear, and the Go runtime sets it on every
// descriptor it opens, so the runtime's own are never touched. Listing
// /proc/self/fd needs /proc; without it the inherited descriptors stay open
// in miniinit, but still cannot reach a workload.
func closeInherited(keepEnd int) (closed []int, err error) {
	ents, lerr := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < keepEnd {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue // the listing's own descriptor, or one of the runtime's
		}
		if unix.Close(fd) == nil {
			closed = append(closed, fd)
		}
	}
	err = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		// Before Linux 5.11: flag what the listing found instead.
		err = nil
		for _, e := range ents {
			if fd, cerr := strconv.Atoi(e.Name()); cerr == nil && fd >= 3 {
				_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
			}
		}
	}
	if err != nil {
		return closed, sysErr("close_range CLOSE_RANGE_CLOEXEC", err)
	}
	if lerr != nil {
		return closed, fmt.Errorf("list /proc/self/fd: %w", lerr)
	}
	return closed, nil
}

// foregroundTTY reports whether fd 0 is miniinit's controlling terminal and
// miniinit's process group holds its foreground. Only then does the main
// workload take the foreground, as tini's child does: a miniinit started
// as a shell's background job must not steal the terminal from the shell.
func foregroundTTY() bool {
	pg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil && pg == unix.Getpgrp()
}
