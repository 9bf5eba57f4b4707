package pid1

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// blockedFifo makes a fifo in dir and returns its read end (held open,
// never read unless the test does) and a write end for miniinit.
func blockedFifo(t *testing.T, dir string) (rd, wr *os.File) {
	t.Helper()
	fifo := filepath.Join(dir, "out.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	if wr, err = os.OpenFile(fifo, os.O_WRONLY, 0); err != nil {
		t.Fatal(err)
	}
	return rd, wr
}

// TestOutputBlockedExitsWithinStopBudget is the hostile run's scenario: a
// workload writes 1,000,000 bytes to stderr, which is a fifo nobody reads,
// and SIGTERM comes 2 s later. miniinit used to wait for the reader in its
// flush at exit forever, on the loop's goroutine: control went
// unanswered, a second SIGTERM did nothing. Now control answers during
// the wait and miniinit exits when the stop budget (3 s) runs out. With
// the workload's stdout blocked instead (and miniinit's stderr free), the
// way out says how many bytes of which workload were not delivered.
func TestOutputBlockedExitsWithinStopBudget(t *testing.T) {
	for _, fd := range []string{"stderr", "stdout"} {
		t.Run(fd, func(t *testing.T) {
			redir := ">&2"
			if fd == "stdout" {
				redir = ""
			}
			s := newSup(t, `stop_budget = "3s"`, `
[[workload]]
name = "w"
command = "/bin/sh"
args = ["-c", "head -c 1000000 /dev/zero `+redir+`; sleep 30"]
`)
			_, wr := blockedFifo(t, s.dir)
			s.startWith(runOpts{setup: func(c *exec.Cmd) {
				if fd == "stderr" {
					c.Stderr = wr
				} else {
					c.Stdout = wr
				}
			}})
			wr.Close()
			s.waitState("w", "running")
			time.Sleep(2 * time.Second)
			if err := unix.Kill(s.run.pid(), unix.SIGTERM); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			time.Sleep(time.Second)
			// The workload is gone; miniinit waits for the reader, and
			// still answers.
			if _, err := Control(s.socket, ControlRequest{Op: "status"}, 5*time.Second); err != nil {
				t.Fatalf("status while the output waits: %v", err)
			}
			s.run.wait(15 * time.Second)
			if took := time.Since(sent); took > 8*time.Second {
				t.Errorf("miniinit took %v after SIGTERM, stop budget 3s", took)
			}
			if fd == "stdout" {
				errs := s.run.stderr.String()
				if !strings.Contains(errs, "output not delivered") || !strings.Contains(errs, "workload=w") {
					t.Errorf("no warning of the output not delivered:\n%s", errs)
				}
			}
		})
	}
}

// TestOutputWaitAfterMainEndsEndsAtSIGTERM: without a shutdown (the main
// workload ended by itself, its 200,000 bytes in the pipes) miniinit waits for the reader of its stdout
// for as long as it takes, answering control; a SIGTERM during that wait
// ends it when the stop budget runs out.
func TestOutputWaitAfterMainEndsEndsAtSIGTERM(t *testing.T) {
	s := newSup(t, `stop_budget = "3s"`, `
[[workload]]
name = "w"
command = "/bin/sh"
args = ["-c", "head -c 200000 /dev/zero"]
`)
	_, wr := blockedFifo(t, s.dir)
	s.startWith(runOpts{setup: func(c *exec.Cmd) { c.Stdout = wr }})
	wr.Close()
	// It ends at once; then 4 s, past the stop budget: nothing but a
	// signal bounds the wait.
	time.Sleep(4 * time.Second)
	select {
	case <-s.run.done:
		t.Fatal("miniinit exited with output still unwritten")
	default:
	}
	if _, err := Control(s.socket, ControlRequest{Op: "status"}, 5*time.Second); err != nil {
		t.Fatalf("status while the output waits: %v", err)
	}
	if err := unix.Kill(s.run.pid(), unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	s.run.wait(15 * time.Second)
	if took := time.Since(sent); took > 8*time.Second {
		t.Errorf("miniinit took %v after SIGTERM, stop budget 3s", took)
	}
	if errs := s.run.stderr.String(); !strings.Contains(errs, "output not delivered") {
		t.Errorf("no warning of the output not delivered:\n%s", errs)
	}
}

// TestOutputDropAtExitCounted is the hostile run's scenario for
// log_overflow = "drop": a workload writes 12,000,010 bytes
// (`yes line-xxxx | head -n 1200000; echo LAST-LINE`) and ends; the reader
// of stdout reads only after 5 s. What was queued for the writer at exit
// (up to 512 KiB, LAST-LINE among it) used to vanish uncounted. Now it is
// counted as dropped, with a warning: what the reader got and what the
// report says was dropped add up to what the workload wrote, and no
// "output blocked" line comes after the one that says the output ended.
func TestOutputDropAtExitCounted(t *testing.T) {
	const written = 12_000_010
	s := newSup(t, "", `
[[workload]]
name = "w"
command = "/bin/sh"
args = ["-c", "yes line-xxxx | head -n 1200000; echo LAST-LINE"]
log_overflow = "drop"
`)
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	start := time.Now()
	s.startWith(runOpts{setup: func(c *exec.Cmd) { c.Stdout = wr }})
	wr.Close()
	time.Sleep(5*time.Second - time.Since(start))
	got, err := io.ReadAll(rd) // to EOF: miniinit has exited
	if err != nil {
		t.Fatal(err)
	}
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	r := readReport(t, s.report)
	var dropped, lines uint64
	for _, w := range r.Workloads {
		if w.Name == "w" {
			dropped, lines = w.OutputDroppedBytes, w.OutputDropped
		}
	}
	errs := s.run.stderr.String()
	if uint64(len(got))+dropped != written {
		t.Errorf("delivered %d + dropped %d = %d, written %d\n%s", len(got), dropped, uint64(len(got))+dropped, written, errs)
	}
	if nl := uint64(bytes.Count(got, []byte("\n"))); nl+lines != 1_200_001 {
		t.Errorf("delivered %d lines + dropped %d = %d, written 1200001", nl, lines, nl+lines)
	}
	if bytes.HasSuffix(got, []byte("LAST-LINE\n")) == strings.Contains(errs, "output dropped at exit") {
		t.Errorf("LAST-LINE delivered: %v; stderr:\n%s", bytes.HasSuffix(got, []byte("LAST-LINE\n")), errs)
	}
	if i := strings.Index(errs, "the workload's output ended"); i >= 0 && strings.Contains(errs[i:], "output blocked") {
		t.Errorf("an \"output blocked\" line after the output ended:\n%s", errs)
	}
}
