package roottest

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The scenario: while a test runs, a container engine on the same
// host mounts its overlay, shm and netns files and unmounts an older one.
// The leak check sees none of that, and still catches the mounts the code
// under test left under the test's own paths, a subtest's included. A
// check of the whole table (the control) sees the engine's mounts too.
func TestChangesCatchLeakIgnoreHost(t *testing.T) {
	Require(t)
	engine := NewEngine(t)
	before := SnapshotMounts(t)
	scope := TestScope(t, nil)

	engine.Churn(t)
	// The code under test leaks one mount in the test's directory and one
	// in a subtest's.
	leak := MountTmpfs(t, filepath.Join(t.TempDir(), "leaked"))
	var subLeak string
	var after Mounts
	t.Run("sub", func(t *testing.T) {
		subLeak = MountTmpfs(t, filepath.Join(t.TempDir(), "leaked"))
		after = SnapshotMounts(t)
	})

	got := byMountPoint(before.Changes(after, scope))
	want := []string{"+ " + leak, "+ " + subLeak}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("changes in scope %v:\n%s\nwant:\n%s", scope, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Control: the whole table shows the engine's doings.
	all := byMountPoint(before.Changes(after, Scope{Prefixes: []string{"/"}}))
	for _, c := range append([]string{"- " + engine.Gone, "+ " + leak}, prefixed("+ ", engine.Made)...) {
		if !slices.Contains(all, c) {
			t.Errorf("control: the whole table does not show %s:\n%s", c, strings.Join(all, "\n"))
		}
	}
}

func prefixed(p string, list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, p+s)
	}
	return out
}

// byMountPoint turns Changes' lines into "+ mountpoint" or "- mountpoint",
// sorted.
func byMountPoint(changes []string) []string {
	var out []string
	for _, c := range changes {
		mp, _ := mountPoint(c[2:])
		out = append(out, c[:2]+mp)
	}
	slices.Sort(out)
	return out
}
