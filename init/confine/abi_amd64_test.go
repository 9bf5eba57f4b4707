package confine

import (
	"strconv"
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
			ctl := answer(attack(t, unconfined, c.args...), c.args)
			if ctl == "EPERM" || ctl == "ok" {
				t.Fatalf("control: %s; want the kernel's own error", ctl)
			}
			r := child{specs: seccompOnly, argv: append([]string{attackPath(t)}, c.args...)}.run(t)
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
