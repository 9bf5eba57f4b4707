package pid1

import (
	"bytes"
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

// withoutCgroup2 runs miniinit in a mount namespace of its own where the
// cgroup2 hierarchy is unmounted, as in a container that has none: it
// tracks workloads without cgroups.
func withoutCgroup2(t *testing.T) runOpts {
	t.Helper()
	roottest.Require(t)
	mount, err := cgroup2Mount()
	if err != nil {
		return runOpts{} // none here anyway
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatal(err)
	}
	return runOpts{setup: func(c *exec.Cmd) {
		c.Args = append([]string{"unshare", "-m", "--propagation", "private", "--", "/bin/sh", "-c", `umount -l "$0" && exec "$@"`, mount}, c.Args...)
		c.Path = unshare
	}}
}

// forEachTracking runs test with miniinit tracking workloads by cgroup2
// and, in a mount namespace without the cgroup2 hierarchy, without.
func forEachTracking(t *testing.T, test func(t *testing.T, o runOpts, cgroups bool)) {
	t.Run("cgroup", func(t *testing.T) {
		roottest.Need(t, cgroupParentForTest() != "", "no cgroup2 hierarchy mounted")
		test(t, runOpts{}, true)
	})
	t.Run("no-cgroup", func(t *testing.T) { test(t, withoutCgroup2(t), false) })
}

// checkTracking fails the test unless miniinit tracks its workloads as
// the test meant: by cgroup or not.
func checkTracking(t *testing.T, s *sup, cgroups bool) {
	t.Helper()
	if none := strings.Contains(s.run.stderr.String(), "no cgroups for the workloads"); none == cgroups {
		t.Fatalf("cgroups %v, but miniinit says:\n%s", cgroups, s.run.stderr.String())
	}
}

// withArg lists the live processes under root whose command line has arg.
func withArg(t *testing.T, root int, arg string) []int {
	t.Helper()
	all, err := scanProc()
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range descendants(all, root) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(e.Pid) + "/cmdline")
		if slices := bytes.Split(b, []byte{0}); len(slices) > 1 && string(slices[1]) == arg {
			out = append(out, e.Pid)
		}
	}
	return out
}

// TestStopKillsTree: `ctl stop` with stop_timeout 1s leaves nothing of the
// workload once the second has passed, the child that ignores SIGTERM
// included, although the workload's own process ended at once; and three
// `ctl restart`s leave only the current run's child, with cgroup2 and
// without. (The child lived on until the final drain, and piled up across
// restarts without cgroup2.)
func TestStopKillsTree(t *testing.T) {
	forEachTracking(t, func(t *testing.T, o runOpts, cgroups bool) {
		s := newSup(t, "", markApp+`
[[workload]]
name = "w"
command = "/bin/sh"
args = ["-c", "sh -c 'trap \"\" TERM; exec sleep 1000' & sleep 100000"]
stop_timeout = "1s"
`)
		s.startWith(o)
		root := s.run.pid()
		waitFor(t, 10*time.Second, "the child", func() bool { return len(withArg(t, root, "1000")) == 1 })
		checkTracking(t, s, cgroups)
		for i := 1; i <= 3; i++ {
			if r := s.ctl(ControlRequest{Op: "restart", Name: "w"}); !r.OK {
				t.Fatal(r.Error)
			}
			waitFor(t, 10*time.Second, "the restart", func() bool {
				for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
					if w.Name == "w" {
						return w.Run == i+1 && w.State.String() == "running"
					}
				}
				return false
			})
		}
		waitFor(t, 10*time.Second, "one child after 3 restarts", func() bool { return len(withArg(t, root, "1000")) == 1 })
		stopped := time.Now()
		if r := s.ctl(ControlRequest{Op: "stop", Name: "w"}); !r.OK {
			t.Fatal(r.Error)
		}
		s.waitState("w", "stopped")
		waitFor(t, 10*time.Second, "no child after the stop", func() bool { return len(withArg(t, root, "1000")) == 0 })
		if d := time.Since(stopped); d < 900*time.Millisecond {
			t.Errorf("the child was killed after %v, before stop_timeout", d)
		}
		s.signal(syscall.SIGTERM)
		if code := s.run.wait(20 * time.Second); code != 0 {
			t.Errorf("exit %d", code)
		}
	})
}

// TestStopSendsCont: a workload stopped by SIGSTOP with a SIGTERM handler
// runs its handler at `ctl stop`, well before stop_timeout: SIGCONT
// follows the stop signal. (It met SIGKILL at stop_timeout instead.)
func TestStopSendsCont(t *testing.T) {
	forEachTracking(t, func(t *testing.T, o runOpts, cgroups bool) {
		s := newSup(t, "", markApp+`
[[workload]]
name = "w"
command = "HELPER"
args = ["sleeper", "DIR"]
stop_timeout = "20s"
`)
		s.startWith(o)
		pid, _ := strconv.Atoi(strings.TrimSpace(waitFile(t, filepath.Join(s.dir, "sleeper.pid"))))
		if err := unix.Kill(pid, unix.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the workload to stop", func() bool {
			e, err := readStat(pid)
			return err == nil && e.State == 'T'
		})
		if r := s.ctl(ControlRequest{Op: "stop", Name: "w"}); !r.OK {
			t.Fatal(r.Error)
		}
		waitFor(t, 10*time.Second, "its SIGTERM handler", func() bool {
			_, err := os.Stat(filepath.Join(s.dir, "terminated"))
			return err == nil
		})
		s.waitState("w", "stopped")
		for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
			if w.Name == "w" && w.Killed {
				t.Errorf("w was SIGKILLed: %+v", w)
			}
		}
		s.signal(syscall.SIGTERM)
		s.run.wait(20 * time.Second)
	})
}

// TestCrashLoopLeavesNoCgroups: a crash loop whose runs each leave a
// child behind (`sleep 100 & exit 1`, backoff 0) leaves no trail of empty
// cgroups: once it has given up, miniinit's cgroup holds the main
// workload's and the last run's only. (118 runs left 28 until the exit.)
func TestCrashLoopLeavesNoCgroups(t *testing.T) {
	roottest.Require(t)
	roottest.Need(t, cgroupParentForTest() != "", "no cgroup2 hierarchy mounted")
	s := newSup(t, "", markApp+`
[[workload]]
name = "flap"
command = "/bin/sh"
args = ["-c", "sleep 100 & exit 1"]
restart = "always"
backoff = { initial = "0s" }
give_up = { failures = 118 }
`)
	s.start()
	waitFor(t, 60*time.Second, "flap to give up", func() bool { return s.state("flap") == "failed" })
	dir := filepath.Dir(cgroupOf(t, hostPidOf(t, s.run.pid(), "testhelper")))
	var left []string
	waitFor(t, 10*time.Second, "the past runs' cgroups to go", func() bool {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		left = left[:0]
		for _, e := range ents {
			if e.IsDir() {
				left = append(left, e.Name())
			}
		}
		return len(left) <= 2
	})
	t.Logf("left: %v", left)
	s.signal(syscall.SIGTERM)
	s.run.wait(20 * time.Second)
}
