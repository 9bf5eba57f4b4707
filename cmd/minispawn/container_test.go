package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/roottest"
)

// testRootBinaries make the ephemeral root of most tests: enough for a
// shell that traps signals, sleeps and reads /proc.
const testRootBinaries = `["/bin/sh", "/bin/cat", "/bin/sleep", "/bin/hostname", "/bin/ps", "/bin/ls"]`

// containerName is unique per test and run, so tests never meet each
// other's cgroups.
func containerName(t *testing.T) string {
	n := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("t-%s-%d", strings.Trim(n, "-"), os.Getpid())
}

// shellConfig is a one-workload container running script under /bin/sh.
func shellConfig(t *testing.T, name, script, extra string) string {
	return writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = %s
[limits]
memory = "128M"
pids = 64
%s
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", %q]
`, name, testRootBinaries, extra, script))
}

// dirShellConfig is a one-workload container of the directory root,
// running script under /bin/sh; extra comes after the workload's args
// (more of its keys, then tables).
func dirShellConfig(t *testing.T, name, root, extra, script string) string {
	return writeConfig(t, fmt.Sprintf(`name = %q
rootfs.path = %q
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", %q]
%s
`, name, root, script, extra))
}

// hostState is what a container must leave exactly as it found it.
type hostState struct {
	mounts roottest.Mounts
	// scope is what of the mount table the test could change: its own
	// temporary directories and minispawn's staging directory (the
	// container's name is added when checking). Other tests, other test
	// binaries and a container engine mount elsewhere on the same host.
	scope roottest.Scope
}

func snapshotHost(t *testing.T) hostState {
	t.Helper()
	return hostState{mounts: roottest.SnapshotMounts(t), scope: roottest.TestScope(t, []string{stagingDir})}
}

// mountChanges lists the mounts of test t's scope (the snapshotting test's
// and t's temporary directories, the staging directory and any mount point
// naming container name) that appeared or went since before.
func mountChanges(t *testing.T, before hostState, name string) []string {
	t.Helper()
	s := before.scope
	s.Prefixes = append(slices.Clip(s.Prefixes), roottest.TempPrefix(t))
	s.Names = append(slices.Clip(s.Names), name)
	return before.mounts.Changes(roottest.SnapshotMounts(t), s)
}

// cgroupDirs are where a container named name would have its cgroup on
// this host's v1 hierarchies (and a v2 one, for other hosts).
func cgroupDirs(name string) []string {
	var dirs []string
	for _, c := range []string{"memory", "pids", "cpu", "cpuset", "blkio", "unified", ""} {
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", c, "minispawn", name))
	}
	return dirs
}

// leftOnHost lists what the container named name left on the host since
// before: a mount under the test's paths, a cgroup, a process (one whose
// command line holds marker).
func leftOnHost(t *testing.T, before hostState, name, marker string) []string {
	t.Helper()
	var left []string
	if changes := mountChanges(t, before, name); len(changes) > 0 {
		left = append(left, "host mount table changed under the test's paths:\n"+strings.Join(changes, "\n"))
	}
	for _, d := range cgroupDirs(name) {
		if _, err := os.Stat(d); err == nil {
			left = append(left, "cgroup "+d+" left behind")
		}
	}
	if marker != "" {
		if pids := findProcs(marker); len(pids) > 0 {
			left = append(left, fmt.Sprintf("processes left behind: %v", pids))
		}
	}
	return left
}

// checkNothingLeft fails the test if the container left a mount, a cgroup
// or a process on the host (see leftOnHost).
func checkNothingLeft(t *testing.T, before hostState, name, marker string) {
	t.Helper()
	for _, l := range leftOnHost(t, before, name, marker) {
		t.Error(l)
	}
}

// stopAndClean ends a minispawn a test started, the way a person would:
// SIGTERM, so minispawn removes the container's cgroup itself; SIGKILL
// only if that does not end it in time. After a SIGKILL, the empty cgroup
// minispawn could not remove (its next run would) is removed here, so no
// test leaves one behind. done is closed once the process was reaped.
func stopAndClean(cmd *exec.Cmd, done <-chan struct{}, cfg string) {
	name := ""
	if c, err := config.Load(cfg); err == nil {
		name = c.Name
	}
	stopAndCleanName(cmd, done, name)
}

// stopAndCleanName is stopAndClean for the container called name.
func stopAndCleanName(cmd *exec.Cmd, done <-chan struct{}, name string) {
	if cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// A container that ignores SIGTERM (or a stopped miniinit).
		cmd.Process.Kill()
		<-done
	}
	// Whoever ended it (this, or a test's context, with SIGKILL), an
	// empty cgroup left behind goes; after a clean exit there is none.
	if name == "" {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, d := range cgroupDirs(name) {
		for {
			err := os.Remove(d)
			if err == nil || os.IsNotExist(err) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// findProcs lists pids whose command line contains marker.
func findProcs(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cl, []byte(marker)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestDemoRunsUnderMiniinit(t *testing.T) {
	roottest.Require(t)
	before := snapshotHost(t)
	res := runMinispawn(t, 60*time.Second, "-c", "../../contrib/examples/demo.toml")
	if res.code != 0 {
		t.Fatalf("demo: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "hostname: minispawn-demo") {
		t.Errorf("demo did not print its hostname:\n%s", res.stdout)
	}
	// ps inside: PID 1 is miniinit (parent 0), the workload its child.
	if !regexp.MustCompile(`(?m)^\s*1\s+0\s+miniinit\b`).MatchString(res.stdout) {
		t.Errorf("ps does not show miniinit as PID 1:\n%s", res.stdout)
	}
	if !regexp.MustCompile(`(?m)^\s*\d+\s+1\s+sh\b`).MatchString(res.stdout) {
		t.Errorf("ps does not show the workload under PID 1:\n%s", res.stdout)
	}
	checkNothingLeft(t, before, "demo", "")
}

func TestExitCodePassesThrough(t *testing.T) {
	roottest.Require(t)
	checkExitCodes(t, "", "")
}

// checkExitCodes runs a shell workload that exits 0, 3, or dies of
// SIGKILL or SIGTERM, in a container with the extra configuration, and
// checks minispawn's exit code and that nothing (and no process holding
// leftover in its command line) stays behind.
func checkExitCodes(t *testing.T, extra, leftover string) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -KILL $$", 137},
		{"kill -TERM $$", 143},
	} {
		t.Run(fmt.Sprint(tc.want), func(t *testing.T) {
			name := containerName(t)
			before := snapshotHost(t)
			res := runMinispawn(t, 60*time.Second, "-c", shellConfig(t, name, tc.script, extra))
			if res.code != tc.want {
				t.Errorf("%q: exit %d, want %d\nstderr:\n%s", tc.script, res.code, tc.want, res.stderr)
			}
			checkNothingLeft(t, before, name, leftover)
		})
	}
}

// started is a minispawn running in the background.
type started struct {
	cmd    *exec.Cmd
	lines  chan string
	done   chan struct{}
	stderr *bytes.Buffer
	seen   []string // lines read by expect, in order
}

// startMinispawn starts minispawn and returns once the workload printed
// "ready". The process is killed at the end of the test if still running.
func startMinispawn(t *testing.T, cfg string) *started {
	t.Helper()
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := startMinispawnArgs(t, c.Name, "-c", cfg)
	s.expect(t, "ready", 30*time.Second)
	return s
}

// startMinispawnArgs starts minispawn with args for container name, and
// stops it (stopAndClean) at the end of the test if still running.
func startMinispawnArgs(t *testing.T, name string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "minispawn"), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: cmd, lines: make(chan string, 100), done: make(chan struct{}), stderr: new(bytes.Buffer)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopAndCleanName(cmd, s.done, name)
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		cmd.Wait()
		close(s.lines)
		close(s.done)
	}()
	return s
}

// expect waits for a line of output equal to want.
func (s *started) expect(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("minispawn ended before printing %q\nstderr:\n%s", want, s.stderr)
			}
			s.seen = append(s.seen, line)
			if line == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %v\nstderr:\n%s", want, timeout, s.stderr)
		}
	}
}

// wait returns minispawn's exit code, bounded by timeout.
func (s *started) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		t.Fatalf("minispawn still running after %v", timeout)
	}
	return s.cmd.ProcessState.ExitCode()
}

func TestSignalsReachWorkloadThroughMiniinit(t *testing.T) {
	roottest.Require(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			name := containerName(t)
			before := snapshotHost(t)
			script := `trap 'echo caught; exit 7' TERM INT; echo ready; while :; do sleep 0.05; done`
			s := startMinispawn(t, shellConfig(t, name, script, ""))
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			s.expect(t, "caught", 10*time.Second)
			if code := s.wait(t, 10*time.Second); code != 7 {
				t.Errorf("exit %d, want the workload's 7\nstderr:\n%s", code, s.stderr)
			}
			checkNothingLeft(t, before, name, "")
		})
	}
}

func TestNamespacesAndLimits(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	script := `echo "host=$(hostname)"; echo netdevs; ls /sys/class/net; echo end-netdevs; cat /proc/self/cgroup; ls /; echo ready; exec sleep 30`
	s := startMinispawn(t, shellConfig(t, name, script, ""))
	// While it runs: the limits are in the container's cgroup, and the
	// workload is in that cgroup.
	// Each limit's file on v1, then on v2: whichever this host has.
	limits := []struct {
		files []string
		want  string
	}{
		{[]string{"/sys/fs/cgroup/pids/minispawn/" + name + "/pids.max", "/sys/fs/cgroup/minispawn/" + name + "/pids.max"}, "64"},
		{[]string{"/sys/fs/cgroup/memory/minispawn/" + name + "/memory.limit_in_bytes", "/sys/fs/cgroup/minispawn/" + name + "/memory.max"}, fmt.Sprint(128 << 20)},
	}
	for _, l := range limits {
		var data []byte
		var err error
		var file string
		for _, file = range l.files {
			if data, err = os.ReadFile(file); err == nil {
				break
			}
		}
		if err != nil {
			t.Errorf("limit file: %v", err)
			continue
		}
		if got := strings.TrimSpace(string(data)); got != l.want {
			t.Errorf("%s = %s, want %s", file, got, l.want)
		}
	}
	if procs := containerPids(t, name); len(procs) < 2 {
		t.Errorf("container cgroup holds %q, want miniinit and the workload", procs)
	}
	// Nothing mounted inside shows on the host while it runs either.
	if changes := mountChanges(t, before, name); len(changes) > 0 {
		t.Errorf("container mounts visible on the host:\n%s", strings.Join(changes, "\n"))
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.wait(t, 15*time.Second)

	out := strings.Join(s.seen, "\n")
	if !strings.Contains(out, "host="+name) {
		t.Errorf("hostname is not the container's name:\n%s", out)
	}
	// The network namespace holds the loopback device and nothing else.
	if !strings.Contains(out, "netdevs\nlo\nend-netdevs") {
		t.Errorf("network devices inside are not just lo:\n%s", out)
	}
	// The cgroup namespace is rooted at the container's cgroup.
	for _, line := range s.seen {
		if m := regexp.MustCompile(`^\d+:[^:]*:(.*)$`).FindStringSubmatch(line); m != nil && m[1] != "/" {
			t.Errorf("cgroup path %q inside, want /", line)
		}
	}
	// pivot_root: the root holds what the build put there, not the host's.
	if strings.Contains(out, "\nhome\n") || strings.Contains(out, "\nboot\n") {
		t.Errorf("host directories visible in the root:\n%s", out)
	}
	checkNothingLeft(t, before, name, "")
}

// TestCachedRootIsKeptAndReused: with rootfs.cache the built root stays on
// the host and the next run uses it as it is.
func TestCachedRootIsKeptAndReused(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	cache := filepath.Join(t.TempDir(), "cache")
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = ["/bin/sh", "/bin/cat"]
cache = %q
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", "cat /etc/passwd >/dev/null && echo ok"]
`, name, cache))
	before := snapshotHost(t)
	for i := 0; i < 2; i++ {
		res := runMinispawn(t, 60*time.Second, "-c", cfg)
		if res.code != 0 || !strings.Contains(res.stdout, "ok") {
			t.Fatalf("run %d: exit %d\n%s%s", i, res.code, res.stdout, res.stderr)
		}
		root := cachedRoot(t, cache)
		st, err := os.Stat(filepath.Join(root, "bin"))
		if err != nil {
			t.Fatalf("run %d: cached root missing: %v", i, err)
		}
		if i == 0 {
			defer func(mt time.Time) {
				st, err := os.Stat(filepath.Join(root, "bin"))
				if err == nil && !st.ModTime().Equal(mt) {
					t.Errorf("cached root was rebuilt although nothing changed")
				}
			}(st.ModTime())
		}
	}
	checkNothingLeft(t, before, name, "")
}
