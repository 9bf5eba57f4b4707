package pid1

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// An exec probe's tree: what a probe starts is killed with it. A probe
// runs in a session of its own (so in a process group of its own too) and,
// when miniinit has cgroups, in a cgroup of its own, which a process that
// leaves the session (setsid sleep 1000 &) does not leave. When the probe
// ends, or at its timeout, everything in its cgroup is SIGKILLed, else
// everything in its process group and session.

// forkProbe starts an exec probe, born into a cgroup of its own when there
// are cgroups.
func (l *loop) forkProbe(pr *execProbe, path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	attr.Sys = &syscall.SysProcAttr{Setsid: true}
	if l.cgroups != nil {
		name, fd, err := l.cgroups.newProbe()
		if err != nil {
			l.log.Warn("no cgroup for an exec probe; tracking it by session", "workload", pr.name, "err", err)
		} else {
			attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, fd
			pid, err := syscall.ForkExec(path, argv, attr)
			if err == nil {
				pr.cgroup, pr.cgfd = name, fd
				return pid, nil
			}
			l.cgroups.endProbe(name, fd)
			if !errors.Is(err, unix.ENOSYS) {
				return 0, err
			}
			attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = false, 0
		}
	}
	return syscall.ForkExec(path, argv, attr)
}

// killProbeTree SIGKILLs pr's tree: its process group, and its cgroup, or
// without one, every process in its session or group. ended: pr's process
// has been reaped, and its cgroup goes too.
func (l *loop) killProbeTree(pr *execProbe, ended bool) {
	_ = ignoreESRCH(unix.Kill(-pr.pid, unix.SIGKILL))
	if pr.cgfd >= 0 && l.cgroups == nil { // cgroups given up meanwhile (spawn)
		unix.Close(pr.cgfd)
		pr.cgfd = -1
	}
	if pr.cgfd >= 0 {
		if !ended {
			l.cgroups.killLeaf(pr.cgroup)
			return
		}
		l.cgroups.endProbe(pr.cgroup, pr.cgfd)
		pr.cgfd = -1
		return
	}
	if !l.procOK {
		return
	}
	all, err := scanProc()
	if err != nil {
		return
	}
	for _, e := range all {
		if e.Pid != l.self && e.State != 'Z' && (e.Sid == pr.pid || e.Pgrp == pr.pid) {
			_ = signalProc(e, unix.SIGKILL)
		}
	}
}
