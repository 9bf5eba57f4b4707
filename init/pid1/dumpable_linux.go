package pid1

import "golang.org/x/sys/unix"

// becomeNonDumpable clears miniinit's dumpable flag (prctl
// PR_SET_DUMPABLE 0). PID 1 holds what no workload may have: the channel
// to minispawn (root on the host), the control and notify sockets. The
// kernel lets a process take another's descriptors (pidfd_getfd), compare
// them (kcmp), read its memory (process_vm_readv, /proc/PID/mem), its
// environment or trace it only when the target is dumpable or the caller
// has CAP_SYS_PTRACE over it; a non-dumpable miniinit is out of reach of
// a workload without that capability, root inside included, whatever the
// seccomp filter. Its /proc/1 files become root's, and no core dump is
// written. miniinit's own /proc/self reads are unaffected, and workloads
// are dumpable again once they exec (the kernel resets the flag).
func becomeNonDumpable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return sysErr("prctl PR_SET_DUMPABLE", err)
	}
	return nil
}
