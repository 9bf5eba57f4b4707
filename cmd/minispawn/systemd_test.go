package main

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
)

// TestDelegatedLayoutV2: the container's cgroup goes below the unit's,
// with the controllers the unit was given; without memory or pids the
// unit lacks Delegate=, and the error says so.
func TestDelegatedLayoutV2(t *testing.T) {
	l := cgroup.V2Layout("/sys/fs/cgroup")
	ctrls := func(have ...string) func(string) ([]string, error) {
		return func(dir string) ([]string, error) {
			if dir != "/sys/fs/cgroup/system.slice/web.service" {
				t.Errorf("controllers read from %s", dir)
			}
			return have, nil
		}
	}
	sub, notes, err := delegatedLayout(l, "/system.slice/web.service", ctrls("cpuset", "cpu", "io", "memory", "pids"), nil)
	if err != nil || len(notes) != 0 {
		t.Fatal(err, notes)
	}
	p := sub.Plan("web", cgroup.Resources{})
	if len(p.Paths) != 1 || p.Paths[0] != "/sys/fs/cgroup/system.slice/web.service/minispawn/web" {
		t.Errorf("container cgroup %v, want below the unit's", p.Paths)
	}
	for _, w := range p.Writes {
		if !strings.HasPrefix(w.Path, "/sys/fs/cgroup/system.slice/web.service/") {
			t.Errorf("writes outside the unit's subtree: %s", w)
		}
	}
	if got := sub.String(); got != "cgroup v2 at /sys/fs/cgroup/system.slice/web.service (memory pids cpu cpuset io)" {
		t.Errorf("layout %s", got)
	}
	// pids only: no memory controller delegated.
	_, _, err = delegatedLayout(l, "/system.slice/web.service", ctrls("pids"), nil)
	if err == nil || !strings.Contains(err.Error(), "Delegate=yes") {
		t.Errorf("without memory: %v, want an error naming Delegate=yes", err)
	}
	rerr := errors.New("read failed")
	if _, _, err := delegatedLayout(l, "/x.service", func(string) ([]string, error) { return nil, rerr }, nil); !errors.Is(err, rerr) {
		t.Errorf("read error lost: %v", err)
	}
	if _, _, err := delegatedLayout(l, "x.service", ctrls("memory", "pids"), nil); err == nil {
		t.Error("a relative unit path was accepted")
	}
}

// TestDelegatedLayoutV1: each hierarchy at the unit's directory where
// systemd made one; elsewhere at its root, with a note.
func TestDelegatedLayoutV1(t *testing.T) {
	l := cgroup.V1Layout(map[string]string{
		"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids", "cpu": "/sys/fs/cgroup/cpu,cpuacct",
	})
	made := map[string]bool{
		"/sys/fs/cgroup/memory/system.slice/web.service": true,
		"/sys/fs/cgroup/pids/system.slice/web.service":   true,
	}
	sub, notes, err := delegatedLayout(l, "/system.slice/web.service", nil, func(d string) bool { return made[d] })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory": "/sys/fs/cgroup/memory/system.slice/web.service",
		"pids":   "/sys/fs/cgroup/pids/system.slice/web.service",
		"cpu":    "/sys/fs/cgroup/cpu,cpuacct",
	}
	if !maps.Equal(sub.Mounts, want) {
		t.Errorf("mounts %v, want %v", sub.Mounts, want)
	}
	if len(notes) != 1 || notes[0] != "cpu" {
		t.Errorf("controllers left at the root: %q, want [cpu]", notes)
	}
	paths := sub.Plan("web", cgroup.Resources{}).Paths
	if !strings.Contains(strings.Join(paths, " "), "/sys/fs/cgroup/memory/system.slice/web.service/minispawn/web") {
		t.Errorf("paths %v", paths)
	}
}

func TestCgroupDriverOverride(t *testing.T) {
	for _, tc := range []struct {
		file config.CgroupDriver
		env  string
		want config.CgroupDriver
	}{
		{config.CgroupAuto, "", config.CgroupAuto},
		{config.CgroupAuto, "cgroupfs", config.CgroupCgroupfs},
		{config.CgroupCgroupfs, "systemd", config.CgroupSystemd},
	} {
		if got, err := cgroupDriver(tc.file, tc.env); err != nil || got != tc.want {
			t.Errorf("cgroupDriver(%q, %q) = %q, %v; want %q", tc.file, tc.env, got, err, tc.want)
		}
	}
	if _, err := cgroupDriver(config.CgroupAuto, "v2"); err == nil || !strings.Contains(err.Error(), cgroupDriverEnv) {
		t.Errorf("a bad override: %v", err)
	}
}

func TestUnitTypeAndScopeName(t *testing.T) {
	for in, want := range map[string]string{"web.service": "Service", "minispawn-a.b.scope": "Scope", "x": "", "x.": ""} {
		if got := unitType(in); got != want {
			t.Errorf("unitType(%q) = %q, want %q", in, got, want)
		}
	}
	if got := scopeName("db.1"); got != "minispawn-db.1.scope" {
		t.Errorf("scopeName = %q", got)
	}
}
