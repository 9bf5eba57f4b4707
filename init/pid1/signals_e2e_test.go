package pid1

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recordEnv keeps the record helper's own runtime from sending it SIGURG,
// so a SIGURG it records can only have been forwarded.
var recordEnv = []string{"GODEBUG=asyncpreemptoff=1"}

// TestSignalForwarding sends miniinit every signal of the table, in number
// order, and checks what the workload received: exactly the forwarded ones,
// in order; never SIGCHLD, SIGURG or a fault signal. After each signal
// miniinit must still be running, not stopped (SIGTSTP, SIGTTIN, SIGTTOU)
// and not dead (SIGSEGV and the other fault signals, sent by kill).
func TestSignalForwarding(t *testing.T) {
	forEachMode(t, func(t *testing.T, pid1 bool) {
		dir := t.TempDir()
		rec, ready := filepath.Join(dir, "rec"), filepath.Join(dir, "ready")
		r := startMini(t, runOpts{pid1: pid1, env: recordEnv}, "-s", "-v", "--", bin.helper, "record", rec, ready)
		waitFile(t, ready)
		mini := r.pid()
		send := func(s syscall.Signal) {
			t.Helper()
			if err := unix.Kill(mini, s); err != nil {
				t.Fatalf("kill %s: %v", SignalName(s), err)
			}
		}
		var want []syscall.Signal
		arrived := func() bool { return len(recorded(t, rec)) >= len(want) }
		for _, si := range signalTable {
			switch si.act {
			case forward:
				send(si.sig)
				want = append(want, si.sig)
				waitFor(t, 5*time.Second, si.name+" at the workload", arrived)
			case drop:
				send(si.sig)
				waitFor(t, 5*time.Second, "miniinit to drop "+si.name, func() bool {
					return strings.Contains(r.stderr.String(), "signal="+si.name)
				})
			case reap:
				send(si.sig)
			case notCaught:
				// Sent anyway: miniinit must survive them and
				// forward neither (the runtime consumes both).
				if si.sig == unix.SIGURG || si.sig == unix.SIGPROF {
					send(si.sig)
				}
			}
			if st, err := readStat(mini); err != nil || st.State == 'T' || st.State == 'Z' {
				t.Fatalf("after %s, miniinit is in state %q (%v)", si.name, st.State, err)
			}
		}
		// A last one after those that must not arrive, so that they have
		// had every chance to.
		send(unix.SIGUSR1)
		want = append(want, unix.SIGUSR1)
		waitFor(t, 5*time.Second, "the last SIGUSR1", arrived)
		time.Sleep(50 * time.Millisecond)
		if got := recorded(t, rec); !slices.Equal(got, want) {
			t.Errorf("the workload received\n%v\nwant\n%v", names(got), names(want))
		}
		// SIGKILL reaches the workload directly; miniinit exits 128+9.
		for _, c := range childrenOf(t, mini) {
			_ = unix.Kill(c.Pid, unix.SIGKILL)
		}
		if code := r.wait(10 * time.Second); code != 137 {
			t.Errorf("exit code %d, want 137", code)
		}
	})
}

// TestProcessGroupSignals: with -g a signal reaches the workload's whole
// process group, a child of it included; without, only the workload.
func TestProcessGroupSignals(t *testing.T) {
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("g=%v", group), func(t *testing.T) {
			dir := t.TempDir()
			rec, ready := filepath.Join(dir, "rec"), filepath.Join(dir, "ready")
			args := []string{"-s"}
			if group {
				args = append(args, "-g")
			}
			args = append(args, "--", bin.helper, "record", rec, ready, "group")
			r := startMini(t, runOpts{env: recordEnv}, args...)
			leader, err := strconv.Atoi(waitFile(t, ready))
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Kill(r.pid(), unix.SIGUSR1); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "SIGUSR1 at the workload", func() bool { return len(recorded(t, rec)) == 1 })
			if group {
				waitFor(t, 5*time.Second, "SIGUSR1 at the workload's child", func() bool { return len(recorded(t, rec+".child")) == 1 })
			} else {
				time.Sleep(200 * time.Millisecond)
				if got := recorded(t, rec+".child"); len(got) != 0 {
					t.Errorf("without -g the workload's child received %v", names(got))
				}
			}
			// The workload's group ends together; so does miniinit, with
			// the leader's status.
			if err := unix.Kill(-leader, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(10 * time.Second); code != 137 {
				t.Errorf("exit code %d, want 137", code)
			}
		})
	}
}

// TestBrokenStderrRaisesNothing: miniinit's stderr is a pipe nobody reads.
// Each log line then raises SIGPIPE at miniinit; that one is miniinit's
// own business and must not reach the workload (see log_linux.go), while a
// SIGPIPE sent with kill still is forwarded. miniinit must not die of it.
func TestBrokenStderrRaisesNothing(t *testing.T) {
	dir := t.TempDir()
	rec, ready := filepath.Join(dir, "rec"), filepath.Join(dir, "ready")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	r := startMini(t, runOpts{env: recordEnv, setup: func(c *exec.Cmd) { c.Stderr = pw }},
		"-s", "-vv", "--", bin.helper, "record", rec, ready)
	pw.Close()
	waitFile(t, ready)
	want := []syscall.Signal{unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE, unix.SIGUSR1}
	for i, s := range want {
		if err := unix.Kill(r.pid(), s); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, SignalName(s), func() bool { return len(recorded(t, rec)) > i })
	}
	time.Sleep(100 * time.Millisecond)
	if got := recorded(t, rec); !slices.Equal(got, want) {
		t.Errorf("the workload received %v, want %v", names(got), names(want))
	}
	for _, c := range childrenOf(t, r.pid()) {
		_ = unix.Kill(c.Pid, unix.SIGKILL)
	}
	if code := r.wait(10 * time.Second); code != 137 {
		t.Errorf("exit code %d, want 137", code)
	}
}

// openPTY returns a new pseudo-terminal's master and slave ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal("unlockpt:", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal("ptsname:", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// drain copies the master side somewhere, so that the terminal's buffer
// never fills and blocks a writer.
func drainPTY(master *os.File) *syncBuffer {
	var b syncBuffer
	go func() { _, _ = io.Copy(&b, master) }()
	return &b
}

// TestTerminalForeground: with a controlling terminal whose foreground
// miniinit holds, the workload gets a process group of its own and the
// foreground, as under tini; without one, it gets its own group only.
func TestTerminalForeground(t *testing.T) {
	type ttyState struct{ Pid, Pgrp, Fg int }
	read := func(t *testing.T, path string) ttyState {
		var s ttyState
		if err := json.Unmarshal([]byte(waitFile(t, path)), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("tty", func(t *testing.T) {
		master, slave := openPTY(t)
		drainPTY(master)
		out := filepath.Join(t.TempDir(), "tty")
		code, r := runMini(t, runOpts{setup: func(c *exec.Cmd) {
			c.Stdin, c.Stdout = slave, slave
			c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		}}, "-s", "--", bin.helper, "tty", out)
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
		s := read(t, out)
		if s.Pgrp != s.Pid || s.Fg != s.Pid || s.Pid == r.pid() {
			t.Errorf("workload %+v: want its own process group in the foreground", s)
		}
	})
	t.Run("no-tty", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "tty")
		if code, _ := runMini(t, runOpts{}, "-s", "--", bin.helper, "tty", out); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		if s := read(t, out); s.Pgrp != s.Pid || s.Fg != -1 {
			t.Errorf("workload %+v: want its own process group and no terminal", s)
		}
	})
}

// TestBackgroundTerminalWrites is job control under a shell: miniinit is a
// foreground job of an interactive shell (so its process group is not
// orphaned), hands the terminal to the workload, and then logs while in
// the background, with TOSTOP set. The kernel answers such a write with
// SIGTTOU; a caught SIGTTOU restarts the write and comes again, forever,
// and each would be forwarded. miniinit must neither hang nor forward it.
func TestBackgroundTerminalWrites(t *testing.T) {
	master, slave := openPTY(t)
	term := drainPTY(master)
	dir := t.TempDir()
	rec, ready, rc := filepath.Join(dir, "rec"), filepath.Join(dir, "ready"), filepath.Join(dir, "rc")
	script := fmt.Sprintf("stty tostop; %s -s -v -- %s record %s %s; echo $? > %s", bin.miniinit, bin.helper, rec, ready, rc)
	sh := exec.Command("/bin/sh", "-m", "-c", script)
	sh.Env = append(os.Environ(), recordEnv...)
	sh.Stdin, sh.Stdout, sh.Stderr = slave, slave, slave
	sh.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	sh.WaitDelay = 5 * time.Second
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sh.Wait() }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			killTree(sh.Process.Pid)
			<-done
		}
		if t.Failed() {
			t.Logf("terminal:\n%s", term.String())
		}
	})
	waitFile(t, ready)
	var mini int
	for _, c := range childrenOf(t, sh.Process.Pid) {
		if c.Comm == "miniinit" {
			mini = c.Pid
		}
	}
	if mini == 0 {
		t.Fatal("miniinit not found under the shell")
	}
	for i, s := range []syscall.Signal{unix.SIGUSR1, unix.SIGUSR2} {
		if err := unix.Kill(mini, s); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, SignalName(s)+" at the workload", func() bool { return len(recorded(t, rec)) > i })
	}
	waitFor(t, 5*time.Second, "miniinit's log line on the terminal", func() bool {
		return strings.Contains(term.String(), "signal=SIGUSR2")
	})
	time.Sleep(100 * time.Millisecond)
	if got := recorded(t, rec); !slices.Equal(got, []syscall.Signal{unix.SIGUSR1, unix.SIGUSR2}) {
		t.Errorf("the workload received %v, want [SIGUSR1 SIGUSR2]", names(got))
	}
	for _, c := range childrenOf(t, mini) {
		_ = unix.Kill(c.Pid, unix.SIGKILL)
	}
	if got := strings.TrimSpace(waitFile(t, rc)); got != "137" {
		t.Errorf("miniinit exited %s, want 137", got)
	}
}

// TestParentDeathSignal: with -p SIGUSR1, the death of miniinit's parent
// (a shell that starts it in the background and exits) reaches miniinit
// as SIGUSR1, which it forwards like any other signal.
func TestParentDeathSignal(t *testing.T) {
	dir := t.TempDir()
	rec, ready, pidFile := filepath.Join(dir, "rec"), filepath.Join(dir, "ready"), filepath.Join(dir, "pid")
	script := fmt.Sprintf(`%s -s -p SIGUSR1 -- %s record %s %s & echo $! > %s
while [ ! -e %s ]; do sleep 0.01; done`, bin.miniinit, bin.helper, rec, ready, pidFile, ready)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sh := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	sh.Env = append(os.Environ(), recordEnv...)
	// A file, not a pipe: miniinit, in the background, keeps the
	// shell's output open, and a pipe would never reach EOF.
	out, err := os.Create(filepath.Join(dir, "sh.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sh.Stdout, sh.Stderr = out, out
	sh.WaitDelay = 5 * time.Second
	if err := sh.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("sh: %v\n%s", err, b)
	}
	mini, err := strconv.Atoi(strings.TrimSpace(waitFile(t, pidFile)))
	if err != nil {
		t.Fatal(err)
	}
	// With the shell gone, miniinit is this (subreaper) process's child:
	// reap it here, by pid, whatever happens.
	t.Cleanup(func() {
		killTree(mini)
		_ = unix.Kill(mini, unix.SIGKILL)
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(mini, &ws, 0, nil)
	})
	waitFor(t, 5*time.Second, "SIGUSR1 at the workload", func() bool { return len(recorded(t, rec)) == 1 })
	if got := recorded(t, rec); got[0] != unix.SIGUSR1 {
		t.Errorf("the workload received %v, want [SIGUSR1]", names(got))
	}
	for _, c := range childrenOf(t, mini) {
		_ = unix.Kill(c.Pid, unix.SIGKILL)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(mini, &ws, 0, nil); err != nil || exitCode(ws) != 137 {
		t.Errorf("miniinit: %v, %s; want exit code 137", err, describeStatus(ws))
	}
}
