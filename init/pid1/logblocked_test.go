package pid1

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestBlockedStderrBlocksNothing is the scenario of a stderr that is full
// (a fifo held open and never read) while a workload fails to start every
// 10 ms with restart = "always", each time with an ERROR line: the log
// queue's send used to block PID 1's loop after ~1,400 lines, and then no
// control request was answered, zombies piled up and SIGTERM was ignored.
// Here stderr stays full for 30 s (at -vv it is full within the first
// seconds), and all along control requests are answered, signals are
// forwarded and orphans reaped; once stderr is read again, one line says
// how many lines were dropped, and SIGTERM ends the run.
func TestBlockedStderrBlocksNothing(t *testing.T) {
	const blocked = 30 * time.Second
	s := newSup(t, "", recordMain+`
[[workload]]
name = "flap"
command = "DIR/no-such-program"
restart = "always"
backoff = { initial = "10ms", multiplier = 1.0, jitter = 0.0 }
[[workload]]
name = "orphans"
command = "/bin/sh"
args = ["-c", "while :; do (sleep 0.02 &); sleep 0.1; done"]
`)
	fifo := filepath.Join(s.dir, "stderr")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	wr, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.run = startMini(t, runOpts{setup: func(c *exec.Cmd) { c.Stderr = wr }}, "-s", "-vv", "-c", s.file)
	wr.Close()
	rec := filepath.Join(s.dir, "rec")
	waitFile(t, filepath.Join(s.dir, "rec-ready"))
	pid := s.run.pid()

	full := func() bool {
		n, err := unix.IoctlGetInt(int(rd.Fd()), unix.TIOCINQ)
		return err == nil && n >= 60<<10
	}
	waitFor(t, 10*time.Second, "stderr to fill", full)
	start := time.Now()
	var sent, requests, mostZombies int
	for time.Since(start) < blocked {
		if _, err := Control(s.socket, ControlRequest{Op: "status"}, 5*time.Second); err != nil {
			t.Fatalf("after %v with stderr full: status: %v", time.Since(start).Round(time.Millisecond), err)
		}
		requests++
		if err := unix.Kill(pid, unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		sent++
		waitFor(t, 5*time.Second, "SIGUSR1 at the workload", func() bool { return len(recorded(t, rec)) == sent })
		all, err := scanProc()
		if err != nil {
			t.Fatal(err)
		}
		zombies := 0
		for _, e := range all {
			if e.PPid == pid && e.State == 'Z' {
				zombies++
			}
		}
		mostZombies = max(mostZombies, zombies)
		if zombies > 10 {
			t.Fatalf("after %v with stderr full: %d zombies wait to be reaped", time.Since(start).Round(time.Millisecond), zombies)
		}
		if !full() {
			t.Fatal("stderr is no longer full: the test no longer tests it")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("with stderr full for %v: %d requests answered, %d signals forwarded, at most %d zombies at once", blocked, requests, sent, mostZombies)

	// Read stderr again: the loss is said, repeated lines are collapsed,
	// and SIGTERM ends the run.
	if err := unix.SetNonblock(int(rd.Fd()), false); err != nil {
		t.Fatal(err)
	}
	var got syncBuffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&got, rd); close(copied) }()
	waitFor(t, 20*time.Second, "the lines dropped to be said, and a collapsed repeat", func() bool {
		out := got.String()
		return strings.Contains(out, `msg="log lines dropped: stderr was blocked" lines=`) &&
			strings.Contains(out, `msg="start workload" workload=flap`) && strings.Contains(out, " suppressed=")
	})
	if err := unix.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.run.wait(30 * time.Second)
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Error("stderr still open 10 s after miniinit ended")
	}
}
