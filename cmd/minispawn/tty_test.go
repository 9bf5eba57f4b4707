package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// termOutput collects what a pty master reads.
type termOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *termOutput) waitFor(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		ok := strings.Contains(o.buf.String(), want)
		o.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t.Fatalf("terminal never showed %q; it shows:\n%q", want, o.buf.String())
}

// startOnTerminal runs minispawn with args on the terminal term (its
// controlling terminal, stdin and stdout; stderr goes to stderr), and
// collects what the terminal shows. exited is closed once it ended.
func startOnTerminal(t *testing.T, term *console, stderr io.Writer, args ...string) (*exec.Cmd, chan struct{}, *termOutput) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "minispawn"), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.slave, term.slave, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	out := new(termOutput)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := term.master.Read(b)
			out.mu.Lock()
			out.buf.Write(b[:n])
			out.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return cmd, exited, out
}

// TestTTY runs `minispawn -t` on a terminal of the test's own (a pty whose
// slave is minispawn's controlling terminal, as a person's would be). The
// container's terminal is a pty of its own devpts: `tty` prints its name.
func TestTTY(t *testing.T) {
	roottest.Require(t)
	term, err := openPTY("/dev/ptmx")
	if err != nil {
		t.Fatal(err)
	}
	defer term.master.Close()
	defer term.slave.Close()
	sfd := int(term.slave.Fd())
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 77}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}

	root := busyboxRoot(t)
	script := `[ -t 0 ] && echo "is-a-tty"; echo "size $(busybox stty size)"; ` +
		`echo "name $(busybox tty)"; echo "pts" $(busybox ls /dev/pts); ` +
		`trap 'echo "resized $(busybox stty size)"' WINCH; trap 'echo caught-int; exit 9' INT; ` +
		`echo ready; while :; do busybox sleep 0.05; done`
	cmd, exited, out := startOnTerminal(t, term, term.slave, "run", "-t", "--rootfs", root, "--name", containerName(t),
		"--", "/bin/sh", "-c", script)
	out.waitFor(t, "ready", 30*time.Second)
	out.waitFor(t, "is-a-tty", time.Second)
	out.waitFor(t, "size 33 77", time.Second)
	// The pty is the container's own, from its devpts: `tty` names it,
	// and /dev/pts lists it beside ptmx.
	out.waitFor(t, "name /dev/pts/0", time.Second)
	out.waitFor(t, "pts 0 ptmx", time.Second)

	// While the container runs, the caller's terminal is raw.
	during, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if during.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("caller's terminal not raw while the container runs: lflag %#o", during.Lflag)
	}

	// The window size follows SIGWINCH.
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 100}); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGWINCH)
	out.waitFor(t, "resized 40 100", 5*time.Second)

	// ^C typed on the caller's terminal reaches the workload.
	if _, err := term.master.Write([]byte{0x03}); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, "caught-int", 5*time.Second)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("minispawn did not exit after the workload did")
	}
	if code := cmd.ProcessState.ExitCode(); code != 9 {
		t.Errorf("exit %d, want 9", code)
	}
	after, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("terminal not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestTTYHangupEndsTheContainer is issue 16's closing of the terminal of
// `minispawn run -t -- sh`: the terminal hangs up (TIOCVHANGUP on its
// slave, what the kernel does when a terminal's master closes), and the
// shell's HUP trap runs and ends it, or an interactive shell at its
// prompt ends as its terminal hangs up in turn; minispawn ends with it.
// Before, minispawn took the SIGHUP for a reload, and both ran on.
func TestTTYHangupEndsTheContainer(t *testing.T) {
	roottest.Require(t)
	for _, tc := range []struct {
		name, typed, shown string
		args               []string
		code               int
	}{
		{"trap", "", "armed",
			[]string{"-c", `trap 'echo hangup > /hup-trap; exit 5' HUP; echo armed; while :; do busybox sleep 0.05; done`}, 5},
		{"interactive", "echo arm''ed\r", "armed", nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term, err := openPTY("/dev/ptmx")
			if err != nil {
				t.Fatal(err)
			}
			defer term.master.Close()
			defer term.slave.Close()
			root := busyboxRoot(t)
			// Mount points of its own, so that the root is the
			// directory itself, where the trap's file lands.
			for _, d := range []string{"proc", "sys", "dev", "run"} {
				if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"run", "-t", "--rootfs", root, "--name", containerName(t), "--", "/bin/sh"}, tc.args...)
			var stderr bytes.Buffer
			cmd, exited, out := startOnTerminal(t, term, &stderr, args...)
			if tc.typed != "" {
				if _, err := term.master.Write([]byte(tc.typed)); err != nil {
					t.Fatal(err)
				}
			}
			out.waitFor(t, tc.shown, 30*time.Second)
			if err := unix.IoctlSetInt(int(term.slave.Fd()), unix.TIOCVHANGUP, 0); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("minispawn still runs 10 s after its terminal hung up\nstderr:\n%s", &stderr)
			}
			if tc.code < 0 {
				return
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit %d, want the trap's %d\nstderr:\n%s", code, tc.code, &stderr)
			}
			if got, err := os.ReadFile(filepath.Join(root, "hup-trap")); err != nil || string(got) != "hangup\n" {
				t.Errorf("the shell's HUP trap did not run: %q, %v", got, err)
			}
		})
	}
}
