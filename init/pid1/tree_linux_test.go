package pid1

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minispawn/minispawn/init/roottest"
	"golang.org/x/sys/unix"
)

// TestRemoveStale: what a killed miniinit left is removed, empty cgroups
// only; a running miniinit's (its lock is held: here by the test), one
// still holding something, and anything else stay, whatever pid their
// names carry. (A plain directory tree stands for the cgroup hierarchy:
// rmdir refuses a non-empty directory as it refuses a populated cgroup,
// and flock works alike on both.)
func TestRemoveStale(t *testing.T) {
	parent := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(parent, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := mk(cgroupPrefix + instanceID(1) + "/web.1")
	busy := mk(cgroupPrefix + instanceID(1) + "/db.3")
	if err := os.WriteFile(filepath.Join(busy, "held"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Alive: another PID-1 miniinit's, locked, with an empty cgroup
	// between two runs of a workload.
	alive := mk(cgroupPrefix + instanceID(1) + "/job.1")
	fd, err := unix.Open(filepath.Dir(alive), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	old := mk("miniinit.77/x.1") // an older miniinit's name: no lock to go by
	other := mk("something-else.1")
	removeStale(parent)
	if _, err := os.Stat(filepath.Dir(gone)); err == nil {
		t.Error("a dead miniinit's cgroups were not removed")
	}
	for _, keep := range []string{busy, alive, old, other} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s was removed", keep)
		}
	}
}

// TestInstanceID: two miniinits with the same pid (PID 1 of two
// namespaces) get different names, which removeStale recognizes.
func TestInstanceID(t *testing.T) {
	a, b := instanceID(1), instanceID(1)
	if a == b || !strings.HasPrefix(a, "1.") {
		t.Errorf("instance ids %q and %q", a, b)
	}
	for name, want := range map[string]bool{
		cgroupPrefix + a: true, cgroupPrefix + "1": false, cgroupPrefix + "1.xyz": false,
		cgroupPrefix + "x.0123456789abcdef": false, "other." + a: false,
	} {
		if got := isInstanceCgroup(name); got != want {
			t.Errorf("isInstanceCgroup(%q) = %v", name, got)
		}
	}
}

// TestParsePids: a pid of 0 (a process outside miniinit's PID namespace)
// is never taken from cgroup.procs.
func TestParsePids(t *testing.T) {
	got := parsePids([]byte("12\n0\n7\n-3\n"))
	if len(got) != 2 || got[0] != 12 || got[1] != 7 {
		t.Errorf("parsePids = %v, want [12 7]", got)
	}
}

// TestCollectPastRuns: a past run's cgroup that could not be removed at
// the next start (its killed processes had not died yet) is removed once
// they have: collect, which each start and each reaped orphan run. (It
// stayed until miniinit exited: a crash loop left a trail of them.)
func TestCollectPastRuns(t *testing.T) {
	roottest.Require(t)
	roottest.Need(t, cgroupParentForTest() != "", "no cgroup2 hierarchy mounted")
	tr, err := setupCgroups(instanceID(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.remove()
	fd, err := tr.open("w", 1)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	tr.cur["w"].tainted = true // as after cgroup.kill, before the process has died
	if _, err := tr.open("w", 2); err != nil {
		t.Fatal(err)
	}
	past := filepath.Join(tr.dir, "w.1")
	if _, err := os.Stat(past); err != nil {
		t.Fatalf("w.1, still populated, is gone: %v", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !tr.stale() {
		t.Fatal("no past run to collect")
	}
	tr.collect()
	if _, err := os.Stat(past); err == nil {
		t.Error("w.1 was not removed once empty")
	}
	if _, err := os.Stat(filepath.Join(tr.dir, "w.2")); err != nil || tr.stale() {
		t.Errorf("the current run's cgroup: %v, stale %v", err, tr.stale())
	}
}
