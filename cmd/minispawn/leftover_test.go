package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// existingCgroupDirs returns those of cgroupDirs(name) that exist.
func existingCgroupDirs(name string) []string {
	var out []string
	for _, d := range cgroupDirs(name) {
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// emptyCgroup makes an empty container cgroup name by hand, in the first
// hierarchy minispawn uses here, and removes it at the end of the test.
func emptyCgroup(t *testing.T, name string) string {
	t.Helper()
	for _, d := range cgroupDirs(name) {
		if _, err := os.Stat(filepath.Dir(d)); err != nil {
			continue
		}
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(d) })
		return d
	}
	t.Fatalf("no minispawn cgroup parent among %v", cgroupDirs(name))
	return ""
}

// Issue 10 item 6: any start removes the empty cgroups of containers that
// no longer run, whatever their names (minispawns SIGKILLed), and never
// one that holds a process, one whose name lock is held, or one that no
// minispawn left (no lock file: a cgroup made by other means).
func TestLeftoverCgroupsOfKilledMinispawnsGo(t *testing.T) {
	roottest.Require(t)
	base := containerName(t)
	running := base + "-run"
	r := startMinispawn(t, shellConfig(t, running, "echo ready; exec sleep 600", ""))
	// All three run before any is killed: each start sweeps, and would
	// otherwise take the cgroups of those killed before it.
	type victim struct {
		name, marker string
		s            *started
	}
	var victims []victim
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("%s-k%d", base, i)
		marker := fmt.Sprintf("%d.%d%d", 5000+os.Getpid()%1000, i, time.Now().UnixNano()%1000)
		s := startMinispawn(t, shellConfig(t, name, "echo ready; exec sleep "+marker, ""))
		waitForProcs(t, marker, 1)
		victims = append(victims, victim{name, marker, s})
	}
	var killed []string
	for _, v := range victims {
		killAndWaitOut(t, v.s, v.name, v.marker)
		if len(existingCgroupDirs(v.name)) == 0 {
			t.Fatalf("%s: a SIGKILLed minispawn left no cgroup: nothing to test", v.name)
		}
		killed = append(killed, v.name)
	}
	// An empty cgroup whose name lock is held: a start between its lock
	// and its first process.
	locked := base + "-locked"
	l, err := lockName(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	lockedDir := emptyCgroup(t, locked)
	// An empty cgroup no minispawn left.
	foreignDir := emptyCgroup(t, base+"-foreign")

	res := runMinispawn(t, 60*time.Second, "-c", shellConfig(t, base+"-new", "exit 0", ""))
	if res.code != 0 {
		t.Fatalf("new start: exit %d\n%s", res.code, res.stderr)
	}
	for _, name := range killed {
		if dirs := existingCgroupDirs(name); len(dirs) > 0 {
			t.Errorf("leftover cgroup of killed %s still there: %v\nstderr of the new start:\n%s", name, dirs, res.stderr)
		}
		if _, err := os.Stat(filepath.Join(nameLockDir, name)); !os.IsNotExist(err) {
			t.Errorf("name lock file of %s still there: %v", name, err)
		}
	}
	if len(existingCgroupDirs(running)) == 0 || len(containerPids(t, running)) == 0 {
		t.Errorf("the running container's cgroup was touched")
	}
	for _, d := range []string{lockedDir, foreignDir} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
	r.cmd.Process.Signal(unix.SIGTERM)
	r.wait(t, 15*time.Second)
}
