package pid1

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// Wait statuses as the kernel encodes them: exit code in bits 8-15; signal
// in bits 0-6, with 0x80 for a core dump.
func exited(code int) syscall.WaitStatus           { return syscall.WaitStatus(code << 8) }
func killed(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }
func cored(sig syscall.Signal) syscall.WaitStatus  { return syscall.WaitStatus(sig) | 0x80 }

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		ws   syscall.WaitStatus
		code int
		text string
	}{
		{exited(0), 0, "exited with code 0"},
		{exited(1), 1, "exited with code 1"},
		{exited(3), 3, "exited with code 3"},
		{exited(255), 255, "exited with code 255"},
		{killed(syscall.SIGTERM), 143, "killed by SIGTERM"},
		{killed(syscall.SIGKILL), 137, "killed by SIGKILL"},
		{killed(syscall.SIGINT), 130, "killed by SIGINT"},
		{cored(syscall.SIGSEGV), 139, "killed by SIGSEGV (core dumped)"},
		{killed(64), 192, "killed by SIGRTMAX"},
	} {
		if got := exitCode(c.ws); got != c.code {
			t.Errorf("exitCode(%#x) = %d, want %d", int(c.ws), got, c.code)
		}
		if got := describeStatus(c.ws); got != c.text {
			t.Errorf("describeStatus(%#x) = %q, want %q", int(c.ws), got, c.text)
		}
	}
}

func TestStartErrorCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{&commandError{fmt.Errorf("%q %w", "x", errNotFound)}, ExitNotFound},
		{execError(syscall.ENOENT), ExitNotFound},
		{&commandError{&os.PathError{Op: "exec", Path: "/x", Err: syscall.ENOENT}}, ExitNotFound},
		{execError(syscall.EACCES), ExitNotExecutable},
		{execError(syscall.ENOEXEC), ExitNotExecutable},
		{&commandError{&os.PathError{Op: "exec", Path: "/x", Err: syscall.EISDIR}}, ExitNotExecutable},
		{&cwdError{"/gone", syscall.ENOENT}, ExitNotExecutable},
		// An ENOENT that is not the command's is miniinit's failure
		// (issue 16 item 12: a missing env file used to give 127).
		{fmt.Errorf("env file: %w", &os.PathError{Op: "open", Path: "/etc/x.env", Err: syscall.ENOENT}), ExitSetup},
		{syscall.ENOENT, ExitSetup},
		{syscall.EMFILE, ExitSetup},
	} {
		if got := startErrorCode(c.err); got != c.code {
			t.Errorf("startErrorCode(%v) = %d, want %d", c.err, got, c.code)
		}
	}
}

func TestRemap(t *testing.T) {
	for _, c := range []struct {
		code   int
		toZero []int
		want   int
	}{
		{143, nil, 143},
		{143, []int{143}, 0},
		{3, []int{1, 3}, 0},
		{2, []int{1, 3}, 2},
		{127, []int{127}, 0},
		{0, []int{5}, 0},
	} {
		if got := remap(c.code, c.toZero); got != c.want {
			t.Errorf("remap(%d, %v) = %d, want %d", c.code, c.toZero, got, c.want)
		}
	}
}
