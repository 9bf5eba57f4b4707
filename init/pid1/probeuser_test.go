package pid1

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestSupervisedExecProbesRunAsWorkload: a workload's exec probes (ready
// and health) run as its user and groups, through the exec stage, not as
// miniinit (root); a workload without a user has its probes run as
// miniinit, as it runs itself.
func TestSupervisedExecProbesRunAsWorkload(t *testing.T) {
	roottest.Require(t)
	// nobody must be able to write the probes' files: a directory open
	// to all (the test's own are 0700).
	open, err := os.MkdirTemp("", "pid1-probe-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	ids := func(name string) string {
		f := filepath.Join(open, name)
		return `["/bin/sh", "-c", "echo $(id -u) $(id -g) $(id -G) > ` + f + `.tmp && mv ` + f + `.tmp ` + f + `"]`
	}
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR"]
main = true
[[workload]]
name = "svc"
command = "/bin/sh"
args = ["-c", "exec sleep 60"]
user = "nobody"
group = "65534"
groups = ["44"]
ready = { exec = `+ids("ready")+`, interval = "50ms" }
health = { exec = `+ids("health")+`, interval = "100ms" }
[[workload]]
name = "rootsvc"
command = "/bin/sh"
args = ["-c", "exec sleep 60"]
ready = { exec = `+ids("root-ready")+`, interval = "50ms" }
`)
	s.start()
	for file, want := range map[string]string{"ready": "65534 65534 65534 44", "health": "65534 65534 65534 44"} {
		if got := strings.TrimSpace(waitFile(t, filepath.Join(open, file))); got != want {
			t.Errorf("%s probe ran as %q (uid gid groups), want %q", file, got, want)
		}
	}
	// (root's supplementary groups are the test's own: the ids only)
	if got := waitFile(t, filepath.Join(open, "root-ready")); !strings.HasPrefix(got, "0 0 ") {
		t.Errorf("rootsvc's probe ran as %q (uid gid groups), want root", got)
	}
	s.waitState("svc", "ready")
	waitFor(t, 10*time.Second, "svc healthy", func() bool {
		for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
			if w.Name == "svc" {
				return w.Health == "healthy"
			}
		}
		return false
	})
	s.signal(syscall.SIGTERM)
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
