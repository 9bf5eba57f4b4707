package confine

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	auditArchI386 = 0x40000003 // AUDIT_ARCH_I386
	sigchld       = 17         // the exit signal in clone(2) flags
)

var (
	retEPERM  = uint32(ActErrno(unix.EPERM))
	retENOSYS = uint32(ActErrno(unix.ENOSYS))
	retAllow  = uint32(ActAllow)
	retKill   = uint32(ActKillProcess)
)

// reference decides a call the slow, obvious way, from the profile's
// definition, for comparison with the compiled program.
func reference(p *SeccompProfile, a *arch, d seccompData) uint32 {
	if d.arch != a.auditArch || a.x32Bit != 0 && d.nr&a.x32Bit != 0 {
		return uint32(p.OtherABI)
	}
	if d.nr > a.maxNr {
		return uint32(p.Unknown)
	}
	for _, r := range p.Rules {
		for _, name := range r.Syscalls {
			if nr, ok := a.sysnum[name]; !ok || nr != d.nr {
				continue
			}
			if r.If == nil || d.args[r.If.Index]&r.If.Mask != 0 {
				return uint32(r.Action)
			}
		}
	}
	return uint32(p.Default)
}

func TestDefaultProfileMatchesDefinition(t *testing.T) {
	p := DefaultSeccomp()
	for _, a := range []*arch{archX86_64(), archAArch64()} {
		t.Run(a.name, func(t *testing.T) {
			prog, err := compile(p, a)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d instructions", len(prog))
			// Every number the table has, one past it, and some
			// arguments for each: clone's and unshare's flags are
			// the only conditions, so this covers both branches.
			argSets := [][6]uint64{{}, {sigchld}, {unix.CLONE_NEWUSER}, {unix.CLONE_NEWNET | sigchld}, {unix.CLONE_NEWTIME}, {unix.CLONE_FILES}, {1 << 40}}
			for nr := uint32(0); nr <= a.maxNr+2; nr++ {
				for _, args := range argSets {
					d := seccompData{nr: nr, arch: a.auditArch, args: args}
					got, err := run(prog, d)
					if err != nil {
						t.Fatalf("nr %d: %v", nr, err)
					}
					if want := reference(p, a, d); got != want {
						t.Fatalf("nr %d args %x: program returns %#x, definition says %#x", nr, args, got, want)
					}
				}
			}
		})
	}
}

func TestDefaultProfileVerdicts(t *testing.T) {
	prog, err := compile(DefaultSeccomp(), archX86_64())
	if err != nil {
		t.Fatal(err)
	}
	x := func(name string) uint32 { return sysnumX86_64()[name] }
	for _, c := range []struct {
		what string
		d    seccompData
		want uint32
	}{
		{"read", seccompData{nr: x("read")}, retAllow},
		{"mount", seccompData{nr: x("mount")}, retEPERM},
		{"finit_module", seccompData{nr: x("finit_module")}, retEPERM},
		{"kexec_load", seccompData{nr: x("kexec_load")}, retEPERM},
		{"ptrace", seccompData{nr: x("ptrace")}, retEPERM},
		{"bpf", seccompData{nr: x("bpf")}, retEPERM},
		{"unshare of a user namespace", seccompData{nr: x("unshare"), args: [6]uint64{unix.CLONE_NEWUSER}}, retEPERM},
		{"unshare of a time namespace", seccompData{nr: x("unshare"), args: [6]uint64{unix.CLONE_NEWTIME}}, retEPERM},
		{"unshare of the fd table", seccompData{nr: x("unshare"), args: [6]uint64{unix.CLONE_FILES | unix.CLONE_FS}}, retAllow},
		{"setns", seccompData{nr: x("setns")}, retEPERM},
		{"clone for a thread", seccompData{nr: x("clone"), args: [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}}, retAllow},
		{"clone for fork", seccompData{nr: x("clone"), args: [6]uint64{sigchld}}, retAllow},
		{"clone with CLONE_NEWUSER", seccompData{nr: x("clone"), args: [6]uint64{unix.CLONE_NEWUSER | sigchld}}, retEPERM},
		{"clone with CLONE_NEWNS", seccompData{nr: x("clone"), args: [6]uint64{unix.CLONE_NEWNS}}, retEPERM},
		{"clone with CLONE_NEWCGROUP", seccompData{nr: x("clone"), args: [6]uint64{unix.CLONE_NEWCGROUP}}, retEPERM},
		{"clone3", seccompData{nr: x("clone3")}, retENOSYS},
		{"io_uring_setup", seccompData{nr: x("io_uring_setup")}, retENOSYS},
		{"syscall 1000", seccompData{nr: 1000}, retENOSYS},
		{"one past the table", seccompData{nr: archX86_64().maxNr + 1}, retENOSYS},
		{"last in the table", seccompData{nr: archX86_64().maxNr}, retAllow},
		{"x32 getpid", seccompData{nr: 0x40000000 | x("getpid")}, retKill},
		{"x32 mount", seccompData{nr: 0x40000000 | x("mount")}, retKill},
		{"i386 mount (int 0x80)", seccompData{nr: 21, arch: auditArchI386}, retKill},
		{"aarch64 arch on x86_64", seccompData{nr: 0, arch: unix.AUDIT_ARCH_AARCH64}, retKill},
	} {
		if c.d.arch == 0 {
			c.d.arch = unix.AUDIT_ARCH_X86_64
		}
		got, err := run(prog, c.d)
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.what, Action(got), Action(c.want))
		}
	}
}

// TestArgMaskHighWord covers the upper half of a 64-bit argument mask,
// which the default profile does not use.
func TestArgMaskHighWord(t *testing.T) {
	p := &SeccompProfile{Name: "t", Default: ActAllow, Unknown: ActErrno(unix.ENOSYS), OtherABI: ActKillProcess,
		Rules: []SeccompRule{{Syscalls: []string{"mmap"}, Action: ActErrno(unix.EACCES), If: &ArgMask{Index: 3, Mask: 1<<36 | 1}}}}
	prog, err := compile(p, archX86_64())
	if err != nil {
		t.Fatal(err)
	}
	nr := sysnumX86_64()["mmap"]
	for args, want := range map[uint64]uint32{0: retAllow, 1: uint32(ActErrno(unix.EACCES)), 1 << 36: uint32(ActErrno(unix.EACCES)), 1 << 35: retAllow, 2: retAllow} {
		d := seccompData{nr: nr, arch: unix.AUDIT_ARCH_X86_64}
		d.args[3] = args
		if got, _ := run(prog, d); got != want {
			t.Errorf("arg3 %#x: got %s, want %s", args, Action(got), Action(want))
		}
		d.nr = sysnumX86_64()["munmap"]
		if got, _ := run(prog, d); got != retAllow {
			t.Errorf("munmap with arg3 %#x: got %s, want allow", args, Action(got))
		}
	}
}

// TestLongRuleIsChunked: a rule with more syscalls than one conditional
// jump can skip still assembles, and denies every one of them.
func TestLongRuleIsChunked(t *testing.T) {
	var names []string
	for name := range sysnumX86_64() {
		names = append(names, name)
	}
	p := &SeccompProfile{Name: "all", Default: ActAllow, Unknown: ActErrno(unix.ENOSYS), OtherABI: ActKillProcess,
		Rules: []SeccompRule{{Syscalls: names, Action: ActErrno(unix.EPERM)}}}
	prog, err := compile(p, archX86_64())
	if err != nil {
		t.Fatal(err)
	}
	for name, nr := range sysnumX86_64() {
		if got, _ := run(prog, seccompData{nr: nr, arch: unix.AUDIT_ARCH_X86_64}); got != retEPERM {
			t.Fatalf("%s: got %s, want EPERM", name, Action(got))
		}
	}
}

func TestProfileString(t *testing.T) {
	p := DefaultSeccomp()
	s := p.String()
	for _, want := range []string{
		`seccomp profile "default", first match wins:`,
		"  kill process calls through another ABI (i386, x32)\n",
		"  ENOSYS       syscall numbers above the table's highest\n",
		"  EPERM        mount umount2 pivot_root",
		"  EPERM        clone if arg0 & 0x7e020000: clone creating a namespace",
		"  ENOSYS       clone3: clone3 passes its flags in memory",
		"  allow        everything else\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
	if nativeArch() == archX86_64() {
		want := "default (48 syscalls denied with EPERM, 4 with ENOSYS, 2 by argument; unknown -> ENOSYS, other ABIs -> kill process, rest -> allow)"
		if got := p.Summary(); got != want {
			t.Errorf("Summary() = %q, want %q", got, want)
		}
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{
		ActAllow:                     "allow",
		ActKillProcess:               "kill process",
		ActErrno(unix.EPERM):         "EPERM",
		ActErrno(unix.ENOSYS):        "ENOSYS",
		ActErrno(unix.Errno(4000)):   "errno 4000",
		Action(unix.SECCOMP_RET_LOG): "action 0x7ffc0000",
	} {
		if got := a.String(); got != want {
			t.Errorf("%#x: got %q, want %q", uint32(a), got, want)
		}
	}
	if e, ok := ActErrno(unix.EPERM).Errno(); !ok || e != unix.EPERM {
		t.Errorf("ActErrno(EPERM).Errno() = %v, %v", e, ok)
	}
	if _, ok := ActAllow.Errno(); ok {
		t.Error("ActAllow reports an errno")
	}
}

func TestProfileValidate(t *testing.T) {
	ok := func() *SeccompProfile {
		return &SeccompProfile{Name: "p", Default: ActAllow, Unknown: ActErrno(unix.ENOSYS), OtherABI: ActKillProcess,
			Rules: []SeccompRule{{Syscalls: []string{"mount"}, Action: ActErrno(unix.EPERM)}}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid profile: %v", err)
	}
	if err := DefaultSeccomp().Validate(); err != nil {
		t.Fatalf("default profile: %v", err)
	}
	for _, c := range []struct {
		what  string
		edit  func(p *SeccompProfile)
		error string
	}{
		{"typo", func(p *SeccompProfile) { p.Rules[0].Syscalls = []string{"mout"} }, `unknown syscall "mout"`},
		{"no syscalls", func(p *SeccompProfile) { p.Rules[0].Syscalls = nil }, "no syscalls"},
		{"errno 0", func(p *SeccompProfile) { p.Rules[0].Action = ActErrno(0) }, "errno 1..4095"},
		{"trap", func(p *SeccompProfile) { p.Default = Action(unix.SECCOMP_RET_TRAP) }, "only allow, kill process"},
		{"bad arg index", func(p *SeccompProfile) { p.Rules[0].If = &ArgMask{Index: 6, Mask: 1} }, "index 0..5"},
		{"zero mask", func(p *SeccompProfile) { p.Rules[0].If = &ArgMask{Index: 0} }, "non-zero mask"},
	} {
		p := ok()
		c.edit(p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: got %v, want an error containing %q", c.what, err, c.error)
		}
	}
}

// TestNamesAbsentOnOneArch: names only one architecture has are valid
// and skipped where missing, not errors.
func TestNamesAbsentOnOneArch(t *testing.T) {
	p := DefaultSeccomp()
	if _, ok := archAArch64().sysnum["iopl"]; ok {
		t.Fatal("aarch64 table has iopl: pick another x86-only name")
	}
	if _, err := compile(p, archAArch64()); err != nil {
		t.Fatal(err)
	}
	if _, err := compile(p, nil); err == nil {
		t.Fatal("compile without an architecture succeeded")
	}
}
