package confine

import "golang.org/x/sys/unix"

// namespaceFlags are the clone(2) flags that create a namespace.
// CLONE_NEWTIME is absent: in clone(2) its bit belongs to the exit signal
// (CSIGNAL); only clone3 and unshare take it, and both are handled whole.
const namespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// DefaultSeccomp is the container default: a deny list over an allow-all
// default, written for workloads that must keep running unchanged.
//
// It is a deny list, not an allow list, on purpose: the capability drop
// already makes most of these calls fail with EPERM for a root workload,
// and this filter is the second wall, for calls that need no capability
// (bpf, userfaultfd, perf_event_open, keyctl, user namespaces) or that
// reach kernel code a container has no use for. Calls newer than the
// table fail with ENOSYS instead of running unreviewed.
//
// Each call returns a fresh profile; callers may edit it.
func DefaultSeccomp() *SeccompProfile {
	eperm := ActErrno(unix.EPERM)
	enosys := ActErrno(unix.ENOSYS)
	return &SeccompProfile{
		Name:     "default",
		Default:  ActAllow,
		Unknown:  enosys,
		OtherABI: ActKillProcess,
		Rules: []SeccompRule{
			{Action: eperm, Why: "load or unload kernel code",
				Syscalls: []string{"init_module", "finit_module", "delete_module",
					"create_module", "get_kernel_syms", "query_module"}},
			{Action: eperm, Why: "replace or stop the running kernel",
				Syscalls: []string{"kexec_load", "kexec_file_load", "reboot"}},
			{Action: eperm, Why: "change the mount tree, which minispawn fixed before exec (old and new mount API)",
				Syscalls: []string{"mount", "umount2", "pivot_root", "open_tree", "open_tree_attr",
					"move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"}},
			{Action: eperm, Why: "host-wide swap",
				Syscalls: []string{"swapon", "swapoff"}},
			{Action: eperm, Why: "open files by handle, bypassing the mount namespace (the 'shocker' escape)",
				Syscalls: []string{"open_by_handle_at", "name_to_handle_at"}},
			{Action: eperm, Why: "large kernel attack surface needing no capability for some uses: eBPF, perf events, userfaultfd (stalls the kernel mid-copy in exploits)",
				Syscalls: []string{"bpf", "perf_event_open", "userfaultfd"}},
			{Action: eperm, Why: "read or write another process's memory",
				Syscalls: []string{"ptrace", "process_vm_readv", "process_vm_writev"}},
			{Action: eperm, Why: "the kernel keyring is not namespaced",
				Syscalls: []string{"keyctl", "add_key", "request_key"}},
			{Action: eperm, Why: "join a namespace: the namespace is the fd's, so no argument tells which",
				Syscalls: []string{"setns"}},
			{Action: eperm, If: &ArgMask{Index: 0, Mask: namespaceFlags | unix.CLONE_NEWTIME},
				Why:      "create a namespace: a new user namespace hands back every capability inside it; unshare of files, fs or semaphores stays allowed",
				Syscalls: []string{"unshare"}},
			{Action: eperm, If: &ArgMask{Index: 0, Mask: namespaceFlags},
				Why:      "clone creating a namespace (flags is argument 0 on x86_64 and aarch64)",
				Syscalls: []string{"clone"}},
			{Action: enosys, Why: "clone3 passes its flags in memory a filter cannot read: ENOSYS makes the C library fall back to clone, which is checked above",
				Syscalls: []string{"clone3"}},
			{Action: enosys, Why: "io_uring: a large, often-exploited surface; ENOSYS lets programs fall back to ordinary I/O",
				Syscalls: []string{"io_uring_setup", "io_uring_enter", "io_uring_register"}},
			{Action: eperm, Why: "host-wide quotas, accounting and profiling",
				Syscalls: []string{"quotactl", "quotactl_fd", "acct", "lookup_dcookie"}},
			{Action: eperm, Why: "the clock is host-wide",
				Syscalls: []string{"settimeofday", "clock_settime", "clock_adjtime", "adjtimex"}},
			{Action: eperm, Why: "the kernel log leaks kernel addresses",
				Syscalls: []string{"syslog"}},
			{Action: eperm, Why: "raw I/O port access",
				Syscalls: []string{"iopl", "ioperm"}},
			{Action: eperm, Why: "obsolete calls no workload needs (vm86 is i386-only, covered by the ABI check)",
				Syscalls: []string{"uselib", "nfsservctl", "_sysctl"}},
		},
	}
}
