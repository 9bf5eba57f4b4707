package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// Every way a run can end leaves the host as it was. Normal exits and
// crashes are covered by TestExitCodePassesThrough; these are the rest.

func TestBadConfigLeavesNothing(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	cfg := writeConfig(t, fmt.Sprintf("name = %q\n[rootfs]\nbuild = [\"/bin/sh\"]\n[[workload]]\nname = \"x\"\n", name))
	res := runMinispawn(t, 20*time.Second, "-c", cfg)
	if res.code != exitSetup {
		t.Errorf("exit %d, want %d", res.code, exitSetup)
	}
	if !strings.Contains(res.stderr, cfg+":") || !strings.Contains(res.stderr, "command") {
		t.Errorf("error does not name the file position and the missing command:\n%s", res.stderr)
	}
	checkNothingLeft(t, before, name, "")
}

func TestSetupFailureNamesStepPathErrno(t *testing.T) {
	roottest.Require(t)
	t.Run("missing root", func(t *testing.T) {
		name := containerName(t)
		before := snapshotHost(t)
		missing := filepath.Join(t.TempDir(), "no-such-root")
		cfg := writeConfig(t, fmt.Sprintf("name = %q\n[rootfs]\npath = %q\n[[workload]]\nname = \"x\"\ncommand = \"/bin/true\"\n", name, missing))
		res := runMinispawn(t, 20*time.Second, "-c", cfg)
		if res.code != exitSetup {
			t.Errorf("exit %d, want %d\n%s", res.code, exitSetup, res.stderr)
		}
		if !strings.Contains(res.stderr, missing) {
			t.Errorf("error does not name %s:\n%s", missing, res.stderr)
		}
		checkNothingLeft(t, before, name, "")
	})
	t.Run("mount target is a file", func(t *testing.T) {
		// A root whose proc is a regular file: mounting /proc fails
		// inside the container, after cgroup and namespaces exist.
		name := containerName(t)
		before := snapshotHost(t)
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "proc"), []byte("not a directory"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := writeConfig(t, fmt.Sprintf("name = %q\n[rootfs]\npath = %q\n[[workload]]\nname = \"x\"\ncommand = \"/bin/true\"\n", name, root))
		res := runMinispawn(t, 20*time.Second, "-c", cfg)
		if res.code != exitSetup {
			t.Errorf("exit %d, want %d\n%s", res.code, exitSetup, res.stderr)
		}
		if !strings.Contains(res.stderr, "proc") || !strings.Contains(res.stderr, "ENOTDIR") {
			t.Errorf("error does not name the step, path and errno:\n%s", res.stderr)
		}
		checkNothingLeft(t, before, name, "")
	})
}

// Issue 16 item 12: a missing env_files file is a setup failure that names
// the file (125), not "command not found" (127), though its errno is
// ENOENT; the command itself missing is still 127.
func TestMissingEnvFileIsSetupError(t *testing.T) {
	roottest.Require(t)
	for _, tc := range []struct {
		name, command, envFile string
		code                   int
		says                   string
	}{
		{"env file", "/bin/sh", "/etc/missing.env", exitSetup, "/etc/missing.env"},
		{"command", "/bin/no-such-command", "", 127, "/bin/no-such-command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := containerName(t)
			before := snapshotHost(t)
			envFiles := ""
			if tc.envFile != "" {
				envFiles = fmt.Sprintf("env_files = [%q]\n", tc.envFile)
			}
			cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = ["/bin/sh"]
[[workload]]
name = "sh"
command = %q
args = ["-c", "echo ran"]
%s`, name, tc.command, envFiles))
			res := runMinispawn(t, 30*time.Second, "-c", cfg)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.says) || strings.Contains(res.stdout, "ran") {
				t.Errorf("exit %d, want %d and a message naming %s\nstdout:\n%s\nstderr:\n%s",
					res.code, tc.code, tc.says, res.stdout, res.stderr)
			}
			checkNothingLeft(t, before, name, "")
		})
	}
}

// TestSigkillOfMinispawn: the container dies with minispawn; the empty
// cgroup that a killed minispawn cannot remove is removed by the next run
// of the same container.
func TestSigkillOfMinispawn(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	marker := fmt.Sprintf("%d.%d", 4000+os.Getpid()%1000, time.Now().UnixNano()%1000)
	cfg := shellConfig(t, name, "echo ready; exec sleep "+marker, "")
	s := startMinispawn(t, cfg)
	waitForProcs(t, marker, 1)
	killAndWaitOut(t, s, name, marker)
	// The next run cleans up and runs normally.
	res := runMinispawn(t, 60*time.Second, "-c", shellConfig(t, name, "exit 0", ""))
	if res.code != 0 {
		t.Fatalf("next run: exit %d\n%s", res.code, res.stderr)
	}
	checkNothingLeft(t, before, name, marker)
}

// killAndWaitOut SIGKILLs a running minispawn and waits (bounded) until
// its container is gone: the workload holding marker first, then every
// process of the container's cgroup (the kernel ends miniinit last, a
// little later), as a person would see with systemd-cgls.
func killAndWaitOut(t *testing.T, s *started, name, marker string) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.wait(t, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for len(findProcs(marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("container processes outlived minispawn: %v", findProcs(marker))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The kernel ends the rest of the container (miniinit last) a little
	// later; wait for the cgroup to be empty, as a person would see with
	// systemd-cgls, before starting again.
	for {
		var procs []string
		for _, d := range cgroupDirs(name) {
			if data, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil {
				procs = strings.Fields(string(data))
				break
			}
		}
		if len(procs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container cgroup still holds %v", procs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForProcs waits (10 s at most) until n processes hold marker in
// their command line: the workload's "ready" comes a moment before it
// execs into the program the marker names.
func waitForProcs(t *testing.T, marker string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := findProcs(marker)
		if len(pids) == n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d processes with %q running, found %v", n, marker, pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The leak check blames a test only for what it could have made: while a
// container runs, a container engine on the same host mounts its shm,
// overlay and netns files and unmounts an older one (the 14 false
// failures of the issue); a mount the code under test leaves in the
// test's own directory is still caught, and alone.
func TestLeakCheckIgnoresUnrelatedHostMounts(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	engine := roottest.NewEngine(t)
	before := snapshotHost(t)
	s := startMinispawn(t, shellConfig(t, name, "echo ready; exec sleep 30", ""))
	engine.Churn(t)
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.wait(t, 15*time.Second)
	if left := leftOnHost(t, before, name, ""); len(left) != 0 {
		t.Errorf("the engine's mounts were blamed on the test:\n%s", strings.Join(left, "\n"))
	}

	leak := roottest.MountTmpfs(t, filepath.Join(t.TempDir(), "leaked"))
	left := leftOnHost(t, before, name, "")
	if len(left) != 1 || !strings.Contains(left[0], "+ ") || !strings.Contains(left[0], " "+leak+" ") {
		t.Errorf("the leak of %s is not the one thing reported:\n%s", leak, strings.Join(left, "\n"))
	}
	for _, mp := range engine.Made {
		if strings.Contains(strings.Join(left, "\n"), mp) {
			t.Errorf("%s was blamed on the test", mp)
		}
	}
}

// Issue 16 item 15: a SIGKILL of miniinit from the host ends the container
// with 137, and minispawn says that PID 1 died and of which signal; a
// workload killed by the same signal is not mistaken for it.
func TestSigkillOfMiniinitIsReported(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	s := startMinispawn(t, shellConfig(t, name, "echo ready; exec sleep 600", ""))
	if err := syscall.Kill(miniinitPid(t, s.cmd.Process.Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t, 15*time.Second); code != 137 {
		t.Errorf("exit %d, want 137\nstderr:\n%s", code, s.stderr)
	}
	if want := "PID 1 (miniinit) died, killed by SIGKILL"; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, s.stderr)
	}
	checkNothingLeft(t, before, name, "")

	// The control: the workload killed, miniinit exits 137 itself.
	res := runMinispawn(t, 60*time.Second, "-c", shellConfig(t, name, "kill -KILL $$", ""))
	if res.code != 137 || strings.Contains(res.stderr, "PID 1") {
		t.Errorf("workload SIGKILLed: exit %d, want 137 and no word of PID 1\n%s", res.code, res.stderr)
	}
}
