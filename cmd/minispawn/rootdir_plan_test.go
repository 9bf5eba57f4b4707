package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/mounts"
)

// TestPlanMissingTargets: what a user's root directory lacks decides the
// plan, and `check` prints it: a writable root gets stand-ins, a
// read-only one an overlay, a built or cached root and an overlay are
// not looked at, and a root that cannot be read is said to be unknown.
func TestPlanMissingTargets(t *testing.T) {
	lacks := mounts.Missing{Targets: []string{"/proc", "/data", "/etc/f.txt"}, Dirs: []string{"/", "/etc"}}
	found := func(string, []mounts.Mount) (mounts.Missing, error) { return lacks, nil }
	for _, tc := range []struct {
		rootfs  config.Rootfs
		find    func(string, []mounts.Mount) (mounts.Missing, error)
		want    []string
		overlay bool // the root becomes an overlay
	}{
		{config.Rootfs{Path: "/r"}, found, []string{
			"4. root: /r (bind-mounted onto itself; minispawn creates nothing in it)\n",
			"4b. it lacks the mount targets /proc /data /etc/f.txt: they are made on stand-ins",
			"     stand-in for /\n     stand-in for /etc\n5. mounts",
		}, false},
		{config.Rootfs{Path: "/r", ReadOnly: true}, found, []string{
			"4. root: overlay of /r, which stays unchanged: it is read-only and lacks the mount targets /proc /data /etc/f.txt, which are made on the overlay's tmpfs",
			"8. remount / read-only",
		}, true},
		{config.Rootfs{Path: "/r"}, func(string, []mounts.Mount) (mounts.Missing, error) { return mounts.Missing{}, nil },
			[]string{"4. root: /r (bind-mounted onto itself; minispawn creates nothing in it)\n5. mounts"}, false},
		{config.Rootfs{Path: "/r"}, func(string, []mounts.Mount) (mounts.Missing, error) {
			return mounts.Missing{}, errors.New("open /r: ENOENT")
		},
			[]string{"4b. mount targets the root lacks: unknown (open /r: ENOENT)"}, false},
		{config.Rootfs{Path: "/r", Overlay: true}, found, []string{"writes go to a tmpfs"}, true},
		{config.Rootfs{Build: []string{"/bin/sh"}}, found, []string{"4. root: ephemeral tmpfs"}, false},
	} {
		c := &config.Config{Name: "web", Hostname: "web", File: "web.toml", Rootfs: tc.rootfs}
		p := newPlan(c, nil, "/m")
		err := p.planMissing(tc.find)
		if (err != nil) != strings.Contains(tc.want[0], "unknown") {
			t.Errorf("%+v: planMissing: %v", tc.rootfs, err)
		}
		if p.Root.Overlay != tc.overlay {
			t.Errorf("%+v: overlay %v, want %v", tc.rootfs, p.Root.Overlay, tc.overlay)
		}
		s := p.String()
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("%+v: plan lacks %q:\n%s", tc.rootfs, w, s)
			}
		}
		if want := strings.Contains(tc.want[len(tc.want)-1], "stand-in"); strings.Contains(s, "stand-in for") != want {
			t.Errorf("%+v: stand-ins printed: %v, want %v:\n%s", tc.rootfs, !want, want, s)
		}
	}
}
