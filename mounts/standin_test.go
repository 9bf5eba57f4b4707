package mounts

import (
	"reflect"
	"strings"
	"testing"
)

// fakeRoot is a root as a set of paths: "/etc" a directory, "/ln@" a
// symlink that leads nowhere.
type fakeRoot map[string]bool

func (f fakeRoot) Exists(p string) (bool, error) { return f[p] || f[p+"@"], nil }
func (f fakeRoot) IsDir(p string) (bool, error)  { return f[p], nil }

func TestFindMissing(t *testing.T) {
	plan := append(DefaultMounts(),
		Mount{Source: "tmpfs", Target: "/data", FSType: "tmpfs"},
		Mount{Source: "tmpfs", Target: "/deep/a/b", FSType: "tmpfs"},
		Mount{Source: "/srv/f.txt", Target: "/etc/f.txt", Flags: msBind},
		Mount{Source: "tmpfs", Target: "/data/sub", FSType: "tmpfs"}, // on /data's tmpfs
		Mount{Source: "tmpfs", Target: "/ln/x", FSType: "tmpfs"},     // below a dangling symlink
	)
	plan = append(plan, DefaultMasks()...) // skip what is missing: never made
	for _, c := range []struct {
		root          fakeRoot
		targets, dirs string
	}{
		// A bare root: everything is made on a stand-in for /.
		{fakeRoot{"/etc": true, "/ln@": true},
			"/proc /sys /dev /run /data /deep/a/b /etc/f.txt /ln/x", "/ /etc"},
		// A full root lacks only the file's targets; /deep/a exists.
		{fakeRoot{"/proc": true, "/sys": true, "/dev": true, "/run": true, "/etc": true, "/deep": true, "/deep/a": true, "/data": true, "/ln@": true},
			"/deep/a/b /etc/f.txt /ln/x", "/ /etc /deep/a"},
		// Nothing missing.
		{fakeRoot{"/proc": true, "/sys": true, "/dev": true, "/run": true, "/etc": true, "/etc/f.txt": true, "/deep/a/b": true, "/data": true, "/ln": true, "/ln/x": true},
			"", ""},
	} {
		m, err := FindMissing(plan, c.root)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(m.Targets, " "); got != c.targets {
			t.Errorf("targets %q, want %q", got, c.targets)
		}
		if got := strings.Join(m.Dirs, " "); got != c.dirs {
			t.Errorf("dirs %q, want %q", got, c.dirs)
		}
		if m.Empty() != (c.targets == "") {
			t.Errorf("Empty() = %v for %+v", m.Empty(), m)
		}
	}
	if m, _ := FindMissing(nil, fakeRoot{}); !reflect.DeepEqual(m, Missing{}) {
		t.Errorf("an empty plan misses %+v", m)
	}
}
