package pid1

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNotifyImpostor: a process of workload impostor (a child of its main
// process, which miniinit knows as impostor's) joins victim's
// process group (setpgid: every workload shares miniinit's session) and
// sends READY=1 from there; victim is not made ready by it, and gate,
// which requires victim ready, does not start. A descendant of a
// workload's own process (not its main process) still makes it ready. With
// cgroup2 and without. The control: the impostor did get into victim's
// process group, which the old check (process group before cgroup)
// accepted as victim's.
func TestNotifyImpostor(t *testing.T) {
	forEachTracking(t, func(t *testing.T, o runOpts, cgroups bool) {
		s := newSup(t, "", markApp+`
[[workload]]
name = "victim"
command = "/bin/sh"
args = ["-c", "echo $$ $NOTIFY_SOCKET > DIR/v.tmp && mv DIR/v.tmp DIR/victim && exec sleep 1000"]
ready = { notify = true }
[[workload]]
name = "impostor"
command = "/bin/sh"
args = ["-c", "HELPER impostor DIR/victim & wait"]
[[workload]]
name = "gate"
command = "HELPER"
args = ["mark", "DIR/gate"]
requires = { victim = "ready" }
[[workload]]
name = "kid"
command = "/bin/sh"
args = ["-c", "HELPER notify & wait"]
ready = { notify = true }
`)
		s.startWith(o)
		victim, _ := strconv.Atoi(strings.Fields(waitFile(t, filepath.Join(s.dir, "victim")))[0])
		impostor, _ := strconv.Atoi(strings.TrimSpace(waitFile(t, filepath.Join(s.dir, "victim.sent"))))
		if pgid, err := unix.Getpgid(impostor); err != nil || pgid != victim {
			t.Fatalf("control: the impostor %d is in group %d (%v), not victim's %d: the attack did not happen", impostor, pgid, err, victim)
		}
		s.waitState("kid", "ready") // the legitimate path, by a child of kid's process
		time.Sleep(300 * time.Millisecond)
		if st := s.state("victim"); st != "starting" {
			t.Errorf("victim is %s after the impostor's READY=1, want starting", st)
		}
		if _, err := os.Stat(filepath.Join(s.dir, "gate")); err == nil {
			t.Error("gate started: the impostor made victim ready")
		}
		if strings.Contains(s.run.stderr.String(), `workload=victim by=notify`) {
			t.Errorf("victim ready by notify:\n%s", s.run.stderr.String())
		}
		s.signal(syscall.SIGTERM)
		s.run.wait(20 * time.Second)
	})
}
