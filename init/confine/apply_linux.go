package confine

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Apply confines the calling thread as s says, in this order:
//
//  1. umask, rlimits and oom_score_adj: process-wide, and raising a
//     limit or lowering the score needs CAP_SYS_RESOURCE, which step 3
//     usually drops.
//  2. (only without no_new_privs) the seccomp filter: loading one then
//     needs CAP_SYS_ADMIN, which step 3 drops.
//  3. Drop the bounding set while CAP_SETPCAP is still effective.
//  4. Set keepcaps, so the uid change keeps the permitted set; set the
//     supplementary groups, then the gid, then the uid: each needs a
//     capability (CAP_SETGID, CAP_SETUID) the next may lose.
//  5. Set effective and permitted to the kept capabilities the thread
//     still holds; clear inheritable (CVE-2022-24769: an inheritable set
//     lets exec of a binary with inheritable file capabilities gain them)
//     and ambient; clear keepcaps.
//  6. no_new_privs.
//  7. The seccomp filter, last, so it never has to allow the calls of
//     steps 1-6; with SECCOMP_FILTER_FLAG_TSYNC, so every thread of the
//     process gets it, not only the caller.
//
// The contract: call Apply on a goroutine locked to its OS thread
// (runtime.LockOSThread), right before execve on that same thread, and
// exit if Apply or execve fails; never unlock the thread afterwards.
// Capabilities, keepcaps and no_new_privs are per thread, and execve
// keeps the calling thread's. The uid, gid and groups change on every
// thread (Go's syscall package does that), and the filter is synchronised
// to every thread, so no other thread stays privileged on an error path.
//
// Apply validates s first and changes nothing if it is invalid. A failure
// later leaves the thread part-way confined; the error names the step.
func Apply(s Spec) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	var prog []unix.SockFilter
	if s.Seccomp != nil {
		var err error
		if prog, err = s.Seccomp.Program(); err != nil {
			return fmt.Errorf("confine: %w", err)
		}
	}

	// 1. Process-wide limits, while privileged.
	if s.Umask != nil {
		unix.Umask(int(*s.Umask))
	}
	for _, name := range sortedKeys(s.Rlimits) {
		res, _ := ParseRlimit(name)
		l := s.Rlimits[name]
		// Prlimit rather than setrlimit: it also tells the Go runtime
		// not to restore its saved RLIMIT_NOFILE at exec.
		if err := unix.Prlimit(0, res, &unix.Rlimit{Cur: l.Soft, Max: l.Hard}, nil); err != nil {
			return sysErr(err, "set rlimit %s to %s", name, l)
		}
	}
	if s.OOMScoreAdj != nil {
		v := strconv.Itoa(*s.OOMScoreAdj)
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(v), 0); err != nil {
			return sysErr(err, "write %s to /proc/self/oom_score_adj", v)
		}
	}

	// 2. Seccomp early, only when the kernel would refuse it later.
	if s.seccompEarly() {
		if err := loadSeccomp(prog); err != nil {
			return err
		}
	}

	// 3. Bounding set. What the thread holds now bounds what step 5 may
	// set: capset can lower but never raise the permitted set.
	before, err := capGet()
	if err != nil {
		return err
	}
	last := lastCap()
	keep := s.keep() & upTo(last)
	if err := dropBounding(keep, last); err != nil {
		return err
	}

	// 4. Identity.
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return sysErr(err, "set keepcaps")
	}
	if err := setGroups(s.Groups); err != nil {
		return err
	}
	if s.GID != nil {
		g := int(*s.GID)
		if err := syscall.Setresgid(g, g, g); err != nil {
			return sysErr(err, "setresgid %d", g)
		}
	}
	if s.UID != nil {
		u := int(*s.UID)
		if err := syscall.Setresuid(u, u, u); err != nil {
			return sysErr(err, "setresuid %d", u)
		}
	}

	// 5. Final capability sets.
	final := keep & before.prm
	if err := capSetThread(threadCaps{eff: final, prm: final}); err != nil {
		return err
	}
	if err := clearAmbient(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return sysErr(err, "clear keepcaps")
	}

	// 6. no_new_privs.
	if s.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return sysErr(err, "set no_new_privs")
		}
	}

	// 7. Seccomp last.
	if s.Seccomp != nil && !s.seccompEarly() {
		return loadSeccomp(prog)
	}
	return nil
}

// setGroups sets the exact supplementary group list. When the thread
// already has exactly that list it does nothing, so an unprivileged
// caller with no groups can still apply a Spec.
func setGroups(groups []uint32) error {
	want := make([]int, len(groups))
	for i, g := range groups {
		want[i] = int(g)
	}
	have, err := unix.Getgroups()
	if err != nil {
		return sysErr(err, "getgroups")
	}
	slices.Sort(have)
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	if slices.Equal(slices.Compact(have), slices.Compact(sorted)) {
		return nil
	}
	if err := syscall.Setgroups(want); err != nil {
		return sysErr(err, "setgroups [%s]", groupsString(groups))
	}
	return nil
}

// seccompSetModeFilter is SECCOMP_SET_MODE_FILTER (linux/seccomp.h).
const seccompSetModeFilter = 1

// loadSeccomp installs prog on every thread of the process (TSYNC). Other
// threads exist in any Go program; without TSYNC they would run
// unfiltered, which matters only if execve fails, but costs nothing to
// avoid. TSYNC also copies the caller's no_new_privs to them.
func loadSeccomp(prog []unix.SockFilter) error {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	tid, _, errno := unix.Syscall(unix.SYS_SECCOMP, seccompSetModeFilter,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno == unix.EACCES {
		return sysErr(errno, "load seccomp filter (without no_new_privs the kernel requires CAP_SYS_ADMIN)")
	}
	if errno != 0 {
		return sysErr(errno, "load seccomp filter (%d instructions)", len(prog))
	}
	if tid != 0 {
		return fmt.Errorf("confine: load seccomp filter: thread %d has a filter of its own and cannot be synchronised", tid)
	}
	return nil
}
