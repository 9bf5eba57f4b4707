package confine

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Action is what a seccomp filter returns for a system call: a
// SECCOMP_RET_* value with its data (the errno, for ActErrno).
type Action uint32

// Actions a profile may use.
const (
	// ActAllow lets the system call run.
	ActAllow Action = unix.SECCOMP_RET_ALLOW
	// ActKillProcess kills the whole process with SIGSYS (Linux 4.14).
	ActKillProcess Action = unix.SECCOMP_RET_KILL_PROCESS
)

// ActErrno fails the system call with errno e, without running it.
func ActErrno(e unix.Errno) Action {
	return Action(unix.SECCOMP_RET_ERRNO | uint32(e)&unix.SECCOMP_RET_DATA)
}

// Errno returns the errno of an ActErrno action, and whether a is one.
func (a Action) Errno() (unix.Errno, bool) {
	if uint32(a)&unix.SECCOMP_RET_ACTION_FULL != unix.SECCOMP_RET_ERRNO {
		return 0, false
	}
	return unix.Errno(uint32(a) & unix.SECCOMP_RET_DATA), true
}

// String prints "allow", "kill process" or the errno name ("EPERM").
func (a Action) String() string {
	switch a {
	case ActAllow:
		return "allow"
	case ActKillProcess:
		return "kill process"
	}
	if e, ok := a.Errno(); ok {
		if name := unix.ErrnoName(e); name != "" {
			return name
		}
		return fmt.Sprintf("errno %d", int(e))
	}
	return fmt.Sprintf("action %#x", uint32(a))
}

func (a Action) validate() error {
	if a == ActAllow || a == ActKillProcess {
		return nil
	}
	if e, ok := a.Errno(); ok && e != 0 && e <= 4095 {
		return nil
	}
	return fmt.Errorf("seccomp action %s: only allow, kill process and errno 1..4095 are supported", a)
}

// ArgMask restricts a rule to calls where argument Index (0..5) has any
// bit of Mask set: for clone(2) flags, say.
type ArgMask struct {
	Index int
	Mask  uint64
}

// SeccompRule gives one Action to a group of system calls.
type SeccompRule struct {
	// Syscalls are kernel names ("mount"). A name the running
	// architecture does not have (iopl on aarch64) is skipped there;
	// a name no supported architecture has is a Validate error.
	Syscalls []string
	Action   Action
	// If, when set, narrows the rule to calls whose argument matches.
	If *ArgMask `json:",omitempty"`
	// Why says what the group is and why it has this action.
	Why string
}

// SeccompProfile is a filter as data: an ordered rule list, first match
// wins, and what to do with everything the rules do not name.
type SeccompProfile struct {
	Name  string
	Rules []SeccompRule
	// Default applies to known system calls no rule matches.
	Default Action
	// Unknown applies to system call numbers above the highest one this
	// build's table knows: calls newer than the table, which no rule can
	// have reviewed. ENOSYS makes a C library fall back as it would on an
	// older kernel.
	Unknown Action
	// OtherABI applies to calls made through another ABI of the same
	// machine: i386 (int 0x80) or x32 on x86_64. Their numbers differ,
	// so the rules, written for the native numbers, cannot apply.
	OtherABI Action
}

// Validate reports unknown syscall names, malformed argument conditions
// and unsupported actions.
func (p *SeccompProfile) Validate() error {
	for _, a := range []Action{p.Default, p.Unknown, p.OtherABI} {
		if err := a.validate(); err != nil {
			return fmt.Errorf("seccomp profile %q: %w", p.Name, err)
		}
	}
	for i, r := range p.Rules {
		if err := r.Action.validate(); err != nil {
			return fmt.Errorf("seccomp profile %q rule %d: %w", p.Name, i, err)
		}
		if len(r.Syscalls) == 0 {
			return fmt.Errorf("seccomp profile %q rule %d: no syscalls", p.Name, i)
		}
		if r.If != nil && (r.If.Index < 0 || r.If.Index > 5 || r.If.Mask == 0) {
			return fmt.Errorf("seccomp profile %q rule %d: argument condition needs index 0..5 and a non-zero mask", p.Name, i)
		}
		for _, name := range r.Syscalls {
			if !knownSyscall(name) {
				return fmt.Errorf("seccomp profile %q rule %d: unknown syscall %q (not in the x86_64 or aarch64 table)", p.Name, i, name)
			}
		}
	}
	return nil
}

// Counts tells, for the running architecture, how many system calls each
// action applies to unconditionally, and how many are conditional.
func (p *SeccompProfile) Counts() (byAction map[Action]int, conditional int) {
	byAction = map[Action]int{}
	arch := nativeArch()
	seen := map[string]bool{}
	for _, r := range p.Rules {
		for _, name := range r.Syscalls {
			if arch != nil {
				if _, ok := arch.sysnum[name]; !ok {
					continue
				}
			}
			if seen[name] {
				continue // an earlier rule already decides it
			}
			if r.If != nil {
				conditional++
				continue
			}
			seen[name] = true
			byAction[r.Action]++
		}
	}
	return byAction, conditional
}

// Summary is one line for a plan: "default (54 syscalls denied with
// EPERM, 4 with ENOSYS, 1 by argument; unknown -> ENOSYS)".
func (p *SeccompProfile) Summary() string {
	by, cond := p.Counts()
	var acts []Action
	for a := range by {
		acts = append(acts, a)
	}
	sort.Slice(acts, func(i, j int) bool {
		return by[acts[i]] > by[acts[j]] || by[acts[i]] == by[acts[j]] && acts[i] < acts[j]
	})
	var parts []string
	for i, a := range acts {
		switch {
		case i == 0 && a != ActAllow:
			parts = append(parts, fmt.Sprintf("%d syscalls denied with %s", by[a], a))
		case a == ActAllow:
			parts = append(parts, fmt.Sprintf("%d allowed", by[a]))
		default:
			parts = append(parts, fmt.Sprintf("%d with %s", by[a], a))
		}
	}
	if cond > 0 {
		parts = append(parts, fmt.Sprintf("%d by argument", cond))
	}
	tail := fmt.Sprintf("unknown -> %s, other ABIs -> %s, rest -> %s", p.Unknown, p.OtherABI, p.Default)
	if len(parts) == 0 {
		return fmt.Sprintf("%s (%s)", p.Name, tail)
	}
	return fmt.Sprintf("%s (%s; %s)", p.Name, strings.Join(parts, ", "), tail)
}

// String prints the whole profile, one rule a line, in match order.
func (p *SeccompProfile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seccomp profile %q, first match wins:\n", p.Name)
	fmt.Fprintf(&b, "  %-12s calls through another ABI (i386, x32)\n", p.OtherABI)
	fmt.Fprintf(&b, "  %-12s syscall numbers above the table's highest\n", p.Unknown)
	for _, r := range p.Rules {
		cond := ""
		if r.If != nil {
			cond = fmt.Sprintf(" if arg%d & %#x", r.If.Index, r.If.Mask)
		}
		fmt.Fprintf(&b, "  %-12s %s%s: %s\n", r.Action, strings.Join(r.Syscalls, " "), cond, r.Why)
	}
	fmt.Fprintf(&b, "  %-12s everything else\n", p.Default)
	return b.String()
}
