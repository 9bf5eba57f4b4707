package pid1

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRemoveStale: what a killed miniinit left is removed, empty cgroups
// only; a running miniinit's, one still holding something, and anything
// else stay. (A plain directory tree stands for the cgroup hierarchy: rmdir
// refuses a non-empty directory as it refuses a populated cgroup.)
func TestRemoveStale(t *testing.T) {
	parent := t.TempDir()
	dead := 4194303 // PID_MAX_LIMIT: never a live pid on a default system
	for ; unix.Kill(dead, 0) != unix.ESRCH; dead-- {
	}
	mk := func(rel string) string {
		p := filepath.Join(parent, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := mk("miniinit." + strconv.Itoa(dead) + "/web.1")
	busy := mk("miniinit." + strconv.Itoa(dead-1) + "/db.3")
	if err := os.WriteFile(filepath.Join(busy, "held"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	alive := mk("miniinit." + strconv.Itoa(os.Getpid()) + "/app.1")
	self := mk("miniinit.77/x.1")
	other := mk("something-else.1")
	removeStale(parent, 77)
	if _, err := os.Stat(filepath.Dir(gone)); err == nil {
		t.Error("a dead miniinit's cgroups were not removed")
	}
	for _, keep := range []string{busy, alive, self, other} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s was removed", keep)
		}
	}
}
