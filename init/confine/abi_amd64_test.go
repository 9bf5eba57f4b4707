package confine

import (
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestSeccompOtherABIsKilled: the classic filter bypass on x86_64 is to
// make the call through another ABI, whose numbers the filter does not
// check: mount is 21 through int 0x80 (i386) and 165|0x40000000 as x32.
// The filter kills the process instead. Controls: unconfined, the same
// calls reach the kernel (EFAULT for the bad i386 mount arguments;
// ENOSYS for x32 on kernels built without it).
func TestSeccompOtherABIsKilled(t *testing.T) {
	roottest.Require(t)
	const i386Mount = "21"
	x32Mount := strconv.Itoa(0x40000000 | unix.SYS_MOUNT)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"i386 mount via int 0x80", []string{"int80", i386Mount}},
		{"x32 mount", []string{"raw", x32Mount}},
	} {
		t.Run(c.name, func(t *testing.T) {
			argv := append([]string{attackPath(t)}, c.args...)
			ctlRun := child{specs: unconfined, argv: argv}.run(t)
			r := child{specs: seccompOnly, argv: argv}.run(t)
			if abiUnreachable(ctlRun) {
				// Some machines (kernels booted with ia32_emulation=0,
				// or hypervisors that do not route int 0x80) fault the
				// instruction before any system call is made: the ABI
				// cannot be used to bypass anything there. The confined
				// run must then fail the same way or be killed; it must
				// never reach the kernel.
				if !abiUnreachable(r) && !r.killedBy(syscall.SIGSYS) {
					t.Fatalf("confined: %v, stdout %q; want the same fault as the control or SIGSYS", r.status, r.stdout)
				}
				t.Logf("this machine faults the %s call before the kernel sees it (control and confined alike)", c.name)
				return
			}
			if !ctlRun.status.Exited() || ctlRun.status.ExitStatus() != 0 {
				t.Fatalf("control: %v; stdout %q; stderr %q", ctlRun.status, ctlRun.stdout, ctlRun.stderr)
			}
			ctl := answer(strings.TrimSpace(ctlRun.stdout), c.args)
			if ctl == "EPERM" || ctl == "ok" {
				t.Fatalf("control: %s; want the kernel's own error", ctl)
			}
			if !r.killedBy(syscall.SIGSYS) {
				t.Fatalf("confined: %v, stdout %q; want killed by SIGSYS", r.status, r.stdout)
			}
			t.Logf("control %s; confined: killed by SIGSYS", ctl)
		})
	}
}

// TestSyscallTableMatchesUnix spot-checks the generated x86_64 table
// against golang.org/x/sys's constants.
func TestSyscallTableMatchesUnix(t *testing.T) {
	for name, want := range map[string]int{
		"read": unix.SYS_READ, "mount": unix.SYS_MOUNT, "clone": unix.SYS_CLONE, "clone3": unix.SYS_CLONE3,
		"ptrace": unix.SYS_PTRACE, "kexec_load": unix.SYS_KEXEC_LOAD, "bpf": unix.SYS_BPF, "unshare": unix.SYS_UNSHARE,
		"setns": unix.SYS_SETNS, "io_uring_setup": unix.SYS_IO_URING_SETUP, "mount_setattr": unix.SYS_MOUNT_SETATTR,
	} {
		if got := sysnumX86_64()[name]; int(got) != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if nativeArch() != archX86_64() {
		t.Fatal("nativeArch on amd64 is not x86_64")
	}
}

// abiUnreachable reports whether the helper died of a fault raised by the
// system call instruction itself (the Go runtime turns the SIGSEGV into
// "fatal error: fault", exit 2): the machine offers no such entry point.
func abiUnreachable(r result) bool {
	return r.status.Exited() && r.status.ExitStatus() == 2 &&
		strings.Contains(r.stderr, "fatal error: fault") && strings.Contains(r.stderr, "signal SIGSEGV")
}
