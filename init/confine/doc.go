// Package confine confines a process right before it execs: capabilities,
// identity, no_new_privs, resource limits and a seccomp filter. Linux only.
//
// It has two callers. minispawn's second stage applies Default (or the
// configured Spec) to the container as a whole, on its one locked thread,
// just before it execs miniinit, so miniinit and every workload inherit
// it. miniinit's per-workload exec stage applies a workload's user,
// groups, capabilities, rlimits, umask and no_new_privs the same way
// before it execs the workload.
//
// A Spec is a plan as data: Spec.String prints the steps Apply will take,
// in order, and Apply takes them (apply_linux.go gives the reasons for
// the order). Apply acts on the calling thread and must be followed by
// execve on that thread: see Apply for the contract.
//
// The seccomp filter is generated in Go, without cgo or libseccomp: a
// SeccompProfile is a list of rules by syscall name, compiled for the
// running architecture (x86_64 or aarch64) by a small classic-BPF
// assembler (bpf.go). DefaultSeccomp documents its deny list rule by rule.
//
// # Defaults
//
//	no_new_privs      on (Default)
//	capabilities      CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE
//	                  SETFCAP SETGID SETPCAP SETUID SYS_CHROOT (podman's set:
//	                  Docker's without MKNOD, NET_RAW, AUDIT_WRITE; see
//	                  defaultCaps)
//	inheritable, ambient  always cleared
//	groups            always set explicitly; none unless listed
//	seccomp           DefaultSeccomp (Default): deny list -> EPERM, clone3 and
//	                  io_uring -> ENOSYS, unknown numbers -> ENOSYS, other ABIs
//	                  (i386, x32) -> kill
//
// The tests attack: each hardening step has a test that attempts the
// escape it prevents, from a confined child, and a control showing the
// same attempt succeeds unconfined.
package confine
