package roottest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minispawn/minispawn/internal/mountinfo"
)

// A leak check compares the host's mount table before and after a test,
// but only the mounts the test could have made: the host is shared with
// other tests, other test binaries and whatever else runs there (a
// container engine mounts and unmounts overlays, shm and netns files all
// the time), and a check that saw those would fail for what the code under
// test never did.

// Mounts is a snapshot of the host's mount table: the lines of
// /proc/self/mountinfo.
type Mounts []string

// SnapshotMounts reads the host's mount table now.
func SnapshotMounts(t testing.TB) Mounts {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return Mounts(strings.Split(strings.TrimSpace(string(b)), "\n"))
}

// Scope says which mounts a test could have made: those whose mount point
// lies under one of its paths, or has one of its names in a component.
type Scope struct {
	// Prefixes are string prefixes of mount points: a directory ("/run/x/"
	// ends in a slash, so that /run/xy is not in it) or the common start of
	// a test's temporary directories (see TempPrefix).
	Prefixes []string
	// Names are unique names of the test's things (a container name): a
	// mount point with a path component that contains one is in scope.
	Names []string
}

// TestScope is the scope of test t: every temporary directory it and its
// subtests make (see TempPrefix), plus the directories dirs (each one
// itself and everything below) and the unique names.
func TestScope(t testing.TB, dirs []string, names ...string) Scope {
	t.Helper()
	s := Scope{Prefixes: []string{TempPrefix(t)}, Names: names}
	for _, d := range dirs {
		s.Prefixes = append(s.Prefixes, strings.TrimSuffix(filepath.Clean(d), "/")+"/")
	}
	return s
}

// TempPrefix is the common start of the paths of every t.TempDir() of t
// and of its subtests: testing names them $TMPDIR/<test name without
// slashes and other unusual characters><random digits>/NNN, a subtest's
// name being its parent's name followed by its own.
func TempPrefix(t testing.TB) string {
	t.Helper()
	dir := filepath.Dir(t.TempDir())
	return strings.TrimRight(dir, "0123456789")
}

// Contains reports whether the mount point mp is in the scope.
func (s Scope) Contains(mp string) bool {
	for _, p := range s.Prefixes {
		if strings.HasPrefix(mp+"/", p) {
			return true
		}
	}
	for _, n := range s.Names {
		if n == "" {
			continue
		}
		for _, c := range strings.Split(mp, "/") {
			if strings.Contains(c, n) {
				return true
			}
		}
	}
	return false
}

// Changes lists what differs between before and now among the mounts in
// scope: "+ line" for a mount that appeared, "- line" for one that went.
// Mounts out of scope are ignored however they changed.
func (before Mounts) Changes(now Mounts, s Scope) []string {
	in := func(m Mounts) map[string]bool {
		set := map[string]bool{}
		for _, line := range m {
			if mp, ok := mountPoint(line); ok && s.Contains(mp) {
				set[line] = true
			}
		}
		return set
	}
	was, is := in(before), in(now)
	var out []string
	for line := range was {
		if !is[line] {
			out = append(out, "- "+line)
		}
	}
	for line := range is {
		if !was[line] {
			out = append(out, "+ "+line)
		}
	}
	slices.Sort(out)
	return out
}

// CheckMounts fails t if a mount in scope s appeared or went since before.
func CheckMounts(t testing.TB, before Mounts, s Scope) {
	t.Helper()
	if changes := before.Changes(SnapshotMounts(t), s); len(changes) > 0 {
		t.Errorf("host mount table changed under the test's paths %q (names %q):\n%s",
			s.Prefixes, s.Names, strings.Join(changes, "\n"))
	}
}

// mountPoint is field 5 of a mountinfo line, unescaped.
func mountPoint(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return "", false
	}
	return mountinfo.Unescape(f[4]), true
}
