package pid1

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// A configuration file without a main workload, end to end (miniinit -c
// with real processes): the run ends at SIGTERM, at an essential
// workload's failure, or once every workload has ended for good.

// TestSupervisedNoMainAllEnded: a oneshot completes and a longrun is
// stopped through the control socket; nothing is left, nothing failed:
// exit 0, and the report says why.
func TestSupervisedNoMainAllEnded(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", `
[[workload]]
name = "job"
kind = "oneshot"
command = "HELPER"
args = ["mark", "DIR/job", "0"]
[[workload]]
name = "srv"
command = "HELPER"
args = ["mark", "DIR/srv"]
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "srv"))
	s.waitState("job", "completed")
	// One workload left running: the container runs on.
	time.Sleep(200 * time.Millisecond)
	if st := s.state("srv"); st != "running" {
		t.Fatalf("srv is %s, want running", st)
	}
	if resp := s.ctl(ControlRequest{Op: "stop", Name: "srv"}); !resp.OK {
		t.Fatalf("stop srv: %+v", resp)
	}
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0 (nothing failed)", code)
	}
	if n := count(filepath.Join(s.dir, "srv"), "term"); n != 1 {
		t.Errorf("srv was not stopped with its stop signal: %v", lines(filepath.Join(s.dir, "srv")))
	}
	rp := readReport(t, s.report)
	if rp.Main != nil || rp.Shutdown.Reason != "nothing-left" || rp.Shutdown.Detail != "every workload has ended" {
		t.Errorf("report: main %+v, shutdown %+v", rp.Main, rp.Shutdown)
	}
}

// TestSupervisedNoMainFailure: once every workload has ended, one that
// failed gives its code; a restart still pending keeps the container up.
func TestSupervisedNoMainFailure(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", `
[[workload]]
name = "ok"
kind = "oneshot"
command = "HELPER"
args = ["mark", "DIR/ok", "0"]
[[workload]]
name = "flaky"
command = "HELPER"
args = ["mark", "DIR/flaky", "3"]
restart = "on-failure"
backoff = { initial = "300ms", multiplier = 1.0, jitter = 0.0 }
give_up = { failures = 3 }
`)
	start := time.Now()
	code := s.start().wait(30 * time.Second)
	if code != 3 {
		t.Errorf("exit code %d, want 3 (flaky's)", code)
	}
	if n := count(filepath.Join(s.dir, "flaky"), "start"); n != 3 {
		t.Errorf("flaky started %d times, want 3 (the container waited for its restarts)", n)
	}
	// Two backoffs of 300ms: the container did not end at the first
	// failure.
	if elapsed := time.Since(start); elapsed < 600*time.Millisecond {
		t.Errorf("ended after %v, before flaky's restarts", elapsed)
	}
	rp := readReport(t, s.report)
	if rp.Shutdown.Reason != "nothing-left" || rp.Shutdown.Workload != "flaky" || !strings.Contains(rp.Shutdown.Detail, `"flaky" failed`) {
		t.Errorf("report shutdown %+v", rp.Shutdown)
	}
}

// TestSupervisedNoMainSignal: longruns without main run until SIGTERM,
// which stops them all in order; exit 0.
func TestSupervisedNoMainSignal(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", `
[[workload]]
name = "a"
command = "HELPER"
args = ["mark", "DIR/a"]
[[workload]]
name = "b"
command = "HELPER"
args = ["mark", "DIR/b"]
after = { a = "started" }
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "a"))
	waitFile(t, filepath.Join(s.dir, "b"))
	time.Sleep(200 * time.Millisecond)
	select {
	case <-s.run.done:
		t.Fatalf("miniinit ended with both workloads running:\n%s", s.run.stderr.String())
	default:
	}
	s.signal(syscall.SIGTERM)
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	for _, name := range []string{"a", "b"} {
		if n := count(filepath.Join(s.dir, name), "term"); n != 1 {
			t.Errorf("%s not stopped by SIGTERM: %v", name, lines(filepath.Join(s.dir, name)))
		}
	}
	if rp := readReport(t, s.report); rp.Shutdown.Reason != "signal" {
		t.Errorf("report shutdown %+v", rp.Shutdown)
	}
}

// TestSupervisedNoMainEssential: an essential workload's failure ends a
// container without main at once, with its code, the others stopped.
func TestSupervisedNoMainEssential(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", `
[[workload]]
name = "srv"
command = "HELPER"
args = ["mark", "DIR/srv"]
[[workload]]
name = "core"
essential = true
command = "/bin/sh"
args = ["-c", "while [ ! -e DIR/srv ]; do sleep 0.02; done; exit 5"]
`)
	if code := s.start().wait(30 * time.Second); code != 5 {
		t.Errorf("exit code %d, want 5 (core's)", code)
	}
	if n := count(filepath.Join(s.dir, "srv"), "term"); n != 1 {
		t.Errorf("srv not stopped: %v", lines(filepath.Join(s.dir, "srv")))
	}
	if rp := readReport(t, s.report); rp.Shutdown.Reason != "essential-failed" || rp.Shutdown.Workload != "core" {
		t.Errorf("report shutdown %+v", rp.Shutdown)
	}
}
