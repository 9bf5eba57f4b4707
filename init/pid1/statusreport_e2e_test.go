package pid1

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What status and the report say about workloads at the edges of their
// lives: stopped, recovered, removed, killed, ended unasked.

// workloadIn returns name's entry in a report.
func workloadIn(t *testing.T, rp report, name string) workloadReport {
	t.Helper()
	for _, w := range rp.Workloads {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no workload %s in the report: %+v", name, rp.Workloads)
	return workloadReport{}
}

// statusOf returns name's status.
func (s *sup) statusOf(name string) (st struct{ State, Health, Reason string }) {
	s.t.Helper()
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Name == name {
			st.State, st.Health, st.Reason = w.State.String(), w.Health, w.Reason
			return st
		}
	}
	s.t.Fatalf("no workload %s in status", name)
	return st
}

// TestStatusHealthRecoveryAndStop: a workload's failing checks make it
// unhealthy with a reason; once they pass again the reason goes (it used
// to stay: "unhealthy: 2 failed checks" next to healthy); after `ctl stop
// web-b` its health reads unknown, not healthy as it used to.
func TestStatusHealthRecoveryAndStop(t *testing.T) {
	s := newSup(t, "", recordMain+`
[[workload]]
name = "web-b"
command = "/bin/sleep"
args = ["100000"]
health = { exec = ["test", "-e", "DIR/alive"], interval = "100ms", retries = 2 }
`)
	alive := filepath.Join(s.dir, "alive")
	os.WriteFile(alive, nil, 0o644)
	s.start()
	waitFor(t, 10*time.Second, "web-b healthy", func() bool { return s.statusOf("web-b").Health == "healthy" })
	os.Remove(alive)
	waitFor(t, 10*time.Second, "web-b unhealthy", func() bool { return s.statusOf("web-b").Health == "unhealthy" })
	if r := s.statusOf("web-b").Reason; !strings.HasPrefix(r, "unhealthy: 2 failed checks") {
		t.Errorf("unhealthy web-b: reason %q", r)
	}
	os.WriteFile(alive, nil, 0o644)
	waitFor(t, 10*time.Second, "web-b healthy again", func() bool { return s.statusOf("web-b").Health == "healthy" })
	if st := s.statusOf("web-b"); st.Reason != "" {
		t.Errorf("recovered web-b: reason %q", st.Reason)
	}
	if r := s.ctl(ControlRequest{Op: "stop", Name: "web-b"}); !r.OK {
		t.Fatal(r.Error)
	}
	s.waitState("web-b", "stopped")
	if st := s.statusOf("web-b"); st.Health != "unknown" {
		t.Errorf("stopped web-b: health %q, want unknown", st.Health)
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

// TestReportRemovedByReload: a workload a reload removed is in the
// report as stopped, "removed by reload" (it read "waiting").
func TestReportRemovedByReload(t *testing.T) {
	s := newSup(t, "", recordMain+`
[[workload]]
name = "old"
command = "HELPER"
args = ["mark", "DIR/old"]
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "old"))
	b, _ := os.ReadFile(s.file)
	doc := string(b)
	cut := strings.Index(doc, "\n[[workload]]\nname = \"old\"")
	if cut < 0 {
		t.Fatalf("no workload old in\n%s", doc)
	}
	os.WriteFile(s.file, []byte(doc[:cut]+"\n"), 0o644)
	if r := s.ctl(ControlRequest{Op: "reload"}); !r.OK {
		t.Fatalf("reload: %+v", r)
	}
	waitFor(t, 10*time.Second, "old stopped", func() bool { return count(filepath.Join(s.dir, "old"), "term") == 1 })
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
	w := workloadIn(t, readReport(t, s.report), "old")
	if w.State != "stopped" || w.Reason != "removed by reload" || w.Running {
		t.Errorf("removed workload in the report: %+v", w)
	}
}

// TestReportOwnKilledNotStillRunning: a workload whose shell and its
// child both ignore SIGTERM is SIGKILLed, tree and all, at its stop
// timeout; the shell is reaped, the drain begins at once, and the child,
// SIGKILLed but not yet gone (it holds 512 MiB the kernel must free), used
// to be listed under still_running, as if it had escaped. Nothing
// escaped: still_running is empty.
func TestReportOwnKilledNotStillRunning(t *testing.T) {
	for i := range 3 {
		s := newSup(t, "", recordMain+`
[[workload]]
name = "stubborn"
command = "/bin/sh"
args = ["-c", "trap '' TERM; HELPER hog 512 DIR/started & wait"]
stop_timeout = "200ms"
`)
		s.start()
		waitFile(t, filepath.Join(s.dir, "started"))
		s.signal(syscall.SIGTERM)
		s.run.wait(30 * time.Second)
		rp := readReport(t, s.report)
		if len(rp.StillRunning) != 0 {
			t.Errorf("run %d: still_running %v: the workload's own SIGKILLed processes", i, rp.StillRunning)
		}
		if w := workloadIn(t, rp, "stubborn"); !w.SigKilled {
			t.Errorf("run %d: stubborn was not SIGKILLed: %+v", i, w)
		}
	}
}

// TestReportEndedBeforeStopSignal: db, which api requires, is stopped
// only after api; when db ends by itself while api is still stopping, it
// was never sent its stop signal, and the report says how it ended (it
// said "ended during stop").
func TestReportEndedBeforeStopSignal(t *testing.T) {
	s := newSup(t, "", recordMain+`
[[workload]]
name = "db"
command = "HELPER"
args = ["mark", "DIR/db"]
[[workload]]
name = "api"
command = "/bin/sh"
args = ["-c", "trap '' TERM; echo started > DIR/api; while :; do sleep 0.05; done"]
requires = { db = "started" }
stop_timeout = "3s"
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "api"))
	db := s.pids()["db"]
	s.signal(syscall.SIGTERM)
	waitFor(t, 10*time.Second, "api stopping", func() bool { return s.state("api") == "stopping" })
	if st := s.state("db"); st != "running" {
		t.Fatalf("db %s while api stops", st)
	}
	if err := unix.Kill(db, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.run.wait(30 * time.Second)
	w := workloadIn(t, readReport(t, s.report), "db")
	if w.State != "stopped" || w.Reason != "killed by SIGKILL before its stop signal" {
		t.Errorf("db in the report: %+v", w)
	}
	if n := count(filepath.Join(s.dir, "db"), "term"); n != 0 {
		t.Errorf("db got SIGTERM after all")
	}
}
