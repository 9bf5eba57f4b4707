package pid1

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// A container that ends because a workload failed exits with the
// failure's code, never with the 143 of a SIGTERM miniinit sent itself,
// and the report says which workload failed and why; with --zero-on-stop
// a stop asked from outside exits 0 (real processes, miniinit -c).

// dbWebConfig: db essential, web main, both /bin/sleep (no SIGTERM trap:
// they die of it). extraDB and extraWeb go into their tables.
func dbWebConfig(extraDB, extraWeb string) string {
	return `
[[workload]]
name = "db"
command = "/bin/sleep"
args = ["1001"]
essential = true
` + extraDB + `
[[workload]]
name = "web"
command = "/bin/sleep"
args = ["1002"]
main = true
` + extraWeb
}

func (s *sup) pidOf(name string) int {
	s.t.Helper()
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Name == name {
			return w.Pid
		}
	}
	s.t.Fatalf("no workload %s", name)
	return 0
}

// TestFailCodeEssentialKilled is the first case: db, essential,
// killed by a SIGTERM from outside the container's stop. The container
// fails with db's own 143, with --zero-on-stop too.
func TestFailCodeEssentialKilled(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", dbWebConfig("", ""))
	s.start("--zero-on-stop")
	s.waitState("db", "running")
	s.waitState("web", "running")
	if err := syscall.Kill(s.pidOf("db"), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.run.wait(30 * time.Second); code != 143 {
		t.Errorf("exit code %d, want 143 (db's own death by SIGTERM)", code)
	}
	rp := readReport(t, s.report)
	if rp.Shutdown.Reason != "essential-failed" || rp.Shutdown.Workload != "db" ||
		rp.Shutdown.Detail != `essential workload "db" failed: killed by SIGTERM` {
		t.Errorf("report shutdown %+v", rp.Shutdown)
	}
}

// TestFailCodeStartTimeout: the main workload not ready within its
// start_timeout, and an essential one the same: miniinit stops it with
// SIGTERM, and the container fails with 1, not 143; the report names the
// timeout.
func TestFailCodeStartTimeout(t *testing.T) {
	roottest.Require(t)
	never := "ready = { exec = [\"/bin/false\"], interval = \"100ms\" }\nstart_timeout = \"500ms\"\n"
	for _, c := range []struct {
		name, db, web, reason, detail string
	}{
		{"main", "", never, "main-ended", `main workload "web" failed: not ready within start timeout 500ms`},
		{"essential", never, "", "essential-failed", `essential workload "db" failed: not ready within start timeout 500ms`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSup(t, "", dbWebConfig(c.db, c.web))
			s.start("--zero-on-stop")
			if code := s.run.wait(30 * time.Second); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			rp := readReport(t, s.report)
			if rp.Shutdown.Reason != c.reason && !(c.reason == "main-ended" && rp.Shutdown.Reason == reasonMainExited) ||
				rp.Shutdown.Detail != c.detail || rp.ExitCode != 1 {
				t.Errorf("report exit %d, shutdown %+v; want detail %q", rp.ExitCode, rp.Shutdown, c.detail)
			}
		})
	}
}

// TestFailCodeHealthStop: an essential workload whose health check fails
// with action "stop" is stopped with SIGTERM: the container fails with 1.
func TestFailCodeHealthStop(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", dbWebConfig(`health = { exec = ["/bin/false"], interval = "100ms", retries = 2, action = "stop" }`, ""))
	s.start("--zero-on-stop")
	if code := s.run.wait(30 * time.Second); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	rp := readReport(t, s.report)
	if rp.Shutdown.Workload != "db" || !strings.HasPrefix(rp.Shutdown.Detail, `essential workload "db" failed: unhealthy: 2 failed checks`) {
		t.Errorf("report shutdown %+v", rp.Shutdown)
	}
}

// TestFailCodeStopAsked: SIGTERM to miniinit stops the container in
// order: 0 with --zero-on-stop, the main workload's 143 without (tini's
// rule).
func TestFailCodeStopAsked(t *testing.T) {
	roottest.Require(t)
	for _, c := range []struct {
		flags []string
		want  int
	}{{[]string{"--zero-on-stop"}, 0}, {nil, 143}} {
		s := newSup(t, "", dbWebConfig("", ""))
		s.start(c.flags...)
		s.waitState("web", "running")
		s.signal(syscall.SIGTERM)
		if code := s.run.wait(30 * time.Second); code != c.want {
			t.Errorf("%v: exit code %d, want %d", c.flags, code, c.want)
		}
		if rp := readReport(t, s.report); rp.Shutdown.Reason != "signal" || rp.ExitCode != c.want {
			t.Errorf("%v: report exit %d, shutdown %+v", c.flags, rp.ExitCode, rp.Shutdown)
		}
	}
}
