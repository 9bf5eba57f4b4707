package pid1

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
	"golang.org/x/sys/unix"
)

// TestSideBySide: two miniinits, each PID 1 of a PID namespace of its own
// but without a cgroup or network namespace (unshare -p, bwrap, docker
// with the host's cgroupns, two containers of a pod), under one cgroup2
// parent and in one network namespace, do not touch each other:
//   - their notify sockets do not collide: both see their db ready;
//   - B's start-up leaves A's cgroups alone, the empty one of A's
//     completed oneshot included: A can run it again;
//   - B's db ending (its cgroup swept with cgroup.kill) does not kill A's;
//   - a process of the host put into A's db cgroup, which A sees as pid 0
//     in cgroup.procs, never makes A signal its own process group when A
//     stops db: A keeps running.
//
// On the old code both were miniinit.1, both bound @miniinit/notify/1 (B
// got EADDRINUSE), B's start-up removed A's job.1, B's sweep killed A's
// db, and kill(0, SIGTERM) shut A down.
func TestSideBySide(t *testing.T) {
	roottest.Require(t)
	roottest.Need(t, cgroupParentForTest() != "", "no cgroup2 hierarchy mounted")
	const conf = markApp + `
[[workload]]
name = "db"
command = "/bin/sh"
args = ["-c", "%s"]
ready = { notify = true }
restart = "never"
[[workload]]
name = "job"
kind = "oneshot"
command = "HELPER"
args = ["mark", "DIR/job", "0"]
`
	a := newSup(t, "", strings.Replace(conf, "%s", "exec HELPER notify", 1))
	a.startWith(runOpts{newPID: true})
	a.waitState("db", "ready")
	a.waitState("job", "completed")
	aDB := hostPidOf(t, a.run.pid(), "testhelper")
	dbCgroup := cgroupOf(t, aDB)

	// B's db becomes ready, then ends by itself: B sweeps its cgroup.
	b := newSup(t, "", strings.Replace(conf, "%s", "HELPER notify & sleep 0.5; kill $!; exit 3", 1))
	b.startWith(runOpts{newPID: true})
	b.waitState("db", "ready")
	b.waitState("db", "failed")
	if strings.Contains(b.run.stderr.String(), "no notify socket") {
		t.Fatalf("B has no notify socket:\n%s", b.run.stderr.String())
	}

	// A is untouched: its db runs on, its job runs again.
	time.Sleep(200 * time.Millisecond)
	if err := unix.Kill(aDB, 0); err != nil {
		t.Fatalf("A's db was killed by B: %v", err)
	}
	a.waitState("db", "ready")
	if resp := a.ctl(ControlRequest{Op: "start", Name: "job"}); !resp.OK {
		t.Fatalf("start job: %+v", resp)
	}
	waitFor(t, 10*time.Second, "A's job to run again", func() bool { return count(filepath.Join(a.dir, "job"), "start") == 2 })
	a.waitState("job", "completed")

	// A process outside A's PID namespace, in A's db cgroup.
	outsider := exec.Command("sleep", "1000")
	if err := outsider.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = outsider.Process.Kill(); _ = outsider.Wait() })
	if err := os.WriteFile(filepath.Join(dbCgroup, "cgroup.procs"), []byte(strconv.Itoa(outsider.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	if resp := a.ctl(ControlRequest{Op: "stop", Name: "db"}); !resp.OK {
		t.Fatalf("stop db: %+v", resp)
	}
	a.waitState("db", "stopped")
	time.Sleep(200 * time.Millisecond)
	if st := a.state("app"); st != "running" {
		t.Fatalf("A's app is %s after A stopped db, want running", st)
	}
	if strings.Contains(a.run.stderr.String(), "shutdown requested") {
		t.Fatalf("A signalled itself:\n%s", a.run.stderr.String())
	}
	for _, s := range []*sup{a, b} {
		s.signal(syscall.SIGTERM)
		if code := s.run.wait(20 * time.Second); code != 0 {
			t.Errorf("exit %d\n%s", code, s.run.stderr.String())
		}
	}
}

// hostPidOf returns the pid, as this test sees it, of the child of parent
// whose command name is comm.
func hostPidOf(t *testing.T, parent int, comm string) int {
	t.Helper()
	var pid int
	waitFor(t, 10*time.Second, comm+" under "+strconv.Itoa(parent), func() bool {
		for _, e := range childrenOf(t, parent) {
			if e.Comm == comm {
				pid = e.Pid
				return true
			}
		}
		return false
	})
	return pid
}

// cgroupOf returns the directory of pid's cgroup v2.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	rel, err := ownCgroup("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	mount, err := cgroup2Mount()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(mount, rel)
}
