package cgroup

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func readMountinfo(t *testing.T, file string) []mountEntry {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseMountinfo(string(text))
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return m
}

// controllersFrom fakes the cgroup.controllers files of cgroup2 mounts: a
// mount point missing from the map reads as ENOENT would.
func controllersFrom(files map[string]string) func(string) (string, error) {
	return func(mp string) (string, error) {
		if s, ok := files[mp]; ok {
			return s, nil
		}
		return "", errors.New("no such file")
	}
}

func TestParseMountinfoHybrid(t *testing.T) {
	// This machine's own table: v1 controllers under /sys/fs/cgroup, a
	// cgroup2 at /sys/fs/cgroup/unified.
	m := readMountinfo(t, "testdata/mountinfo-hybrid")
	byMount := map[string]mountEntry{}
	for _, e := range m {
		byMount[e.MountPoint] = e
	}
	for _, want := range []struct{ mp, fstype, opt string }{
		{"/sys/fs/cgroup", "tmpfs", "mode=755"},
		{"/sys/fs/cgroup/memory", "cgroup", "memory"},
		{"/sys/fs/cgroup/pids", "cgroup", "pids"},
		{"/sys/fs/cgroup/systemd", "cgroup", "name=systemd"},
		{"/sys/fs/cgroup/unified", "cgroup2", "rw"},
	} {
		e, ok := byMount[want.mp]
		if !ok {
			t.Errorf("%s: not parsed", want.mp)
			continue
		}
		if e.FSType != want.fstype || !strings.Contains(","+strings.Join(e.SuperOptions, ",")+",", ","+want.opt+",") || e.Root != "/" {
			t.Errorf("%s: got %+v, want type %s with option %s, root /", want.mp, e, want.fstype, want.opt)
		}
	}
}

func TestParseMountinfoV2(t *testing.T) {
	m := readMountinfo(t, "testdata/mountinfo-v2")
	var cg, escaped *mountEntry
	for i := range m {
		switch m[i].MountPoint {
		case "/sys/fs/cgroup":
			cg = &m[i]
		case "/srv/my data":
			escaped = &m[i]
		}
	}
	// Optional fields (shared:9) sit between the mount options and "-".
	if cg == nil || cg.FSType != "cgroup2" || strings.Join(cg.SuperOptions, ",") != "rw,nsdelegate,memory_recursiveprot" {
		t.Errorf("cgroup2 mount: got %+v", cg)
	}
	if escaped == nil || escaped.FSType != "ext4" {
		t.Errorf(`"\040" in a mount point not unescaped: %+v`, m[len(m)-1])
	}
}

func TestParseMountinfoMalformed(t *testing.T) {
	for _, line := range []string{
		"22 27 0:21 / /proc rw,relatime proc proc rw", // no "-"
		"22 27 0:21 / /proc rw,relatime - proc",       // too few after "-"
		"22 27 0:21",
	} {
		if _, err := parseMountinfo(line + "\n"); err == nil {
			t.Errorf("%q: parsed, want an error", line)
		}
	}
}

func TestLayoutFrom(t *testing.T) {
	hybrid := readMountinfo(t, "testdata/mountinfo-hybrid")
	pureV2 := readMountinfo(t, "testdata/mountinfo-v2")
	var legacy []mountEntry // hybrid without its cgroup2 mount
	for _, e := range hybrid {
		if e.FSType != "cgroup2" {
			legacy = append(legacy, e)
		}
	}
	// A container that sees a subtree of the memory hierarchy before
	// the whole of it.
	subtreeFirst := append([]mountEntry{{Root: "/machine/x", MountPoint: "/mnt/memsub", FSType: "cgroup", SuperOptions: []string{"rw", "memory"}}}, legacy...)
	// Debian 12 v2 controllers as the root cgroup lists them.
	allV2 := "cpuset cpu io memory hugetlb pids rdma misc\n"
	hybridV1 := "cgroup v1: memory at /sys/fs/cgroup/memory, pids at /sys/fs/cgroup/pids, cpu at /sys/fs/cgroup/cpu, cpuset at /sys/fs/cgroup/cpuset, blkio at /sys/fs/cgroup/blkio"
	// Only the required controllers on v1 (no cpu, cpuset, blkio mounts).
	var minimal []mountEntry
	for _, e := range legacy {
		if e.FSType != "cgroup" || slices.Contains(e.SuperOptions, "memory") || slices.Contains(e.SuperOptions, "pids") {
			minimal = append(minimal, e)
		}
	}
	// Debian's usual v1 table: cpu and cpuacct in one hierarchy.
	coMounted := append(slices.Clone(minimal), mountEntry{Root: "/", MountPoint: "/sys/fs/cgroup/cpu,cpuacct", FSType: "cgroup", SuperOptions: []string{"rw", "cpu", "cpuacct"}})

	tests := []struct {
		name        string
		mounts      []mountEntry
		controllers map[string]string
		want        string // Layout.String, or "" when an error is wanted
		wantErr     string
	}{
		{"hybrid, this machine", hybrid, map[string]string{"/sys/fs/cgroup/unified": "hugetlb\n"},
			hybridV1, ""},
		{"hybrid, unreadable cgroup2", hybrid, nil,
			hybridV1, ""},
		{"legacy, no cgroup2", legacy, nil,
			hybridV1, ""},
		{"v1 whole hierarchy wins over a subtree", subtreeFirst, nil,
			hybridV1, ""},
		{"hybrid with controllers moved to cgroup2", hybrid, map[string]string{"/sys/fs/cgroup/unified": "memory pids"},
			"cgroup v2 at /sys/fs/cgroup/unified (memory pids)", ""},
		{"pure v2", pureV2, map[string]string{"/sys/fs/cgroup": allV2},
			"cgroup v2 at /sys/fs/cgroup (memory pids cpu cpuset io)", ""},
		{"v1 with only the required controllers", minimal, nil,
			"cgroup v1: memory at /sys/fs/cgroup/memory, pids at /sys/fs/cgroup/pids", ""},
		{"v1 with cpu and cpuacct co-mounted", coMounted, nil,
			"cgroup v1: memory at /sys/fs/cgroup/memory, pids at /sys/fs/cgroup/pids, cpu at /sys/fs/cgroup/cpu,cpuacct", ""},
		{"delegated v2 without cpuset and io", pureV2, map[string]string{"/sys/fs/cgroup": "cpu memory pids\n"},
			"cgroup v2 at /sys/fs/cgroup (memory pids cpu)", ""},
		{"pure v2 without pids delegated", pureV2, map[string]string{"/sys/fs/cgroup": "cpu io memory"},
			"", "cgroup2 at /sys/fs/cgroup has controllers [cpu io memory], lacks [pids]"},
		{"pure v2, unreadable", pureV2, nil,
			"", "no cgroup hierarchy holds the controllers [memory pids]"},
		{"no cgroups at all", nil, nil,
			"", "no cgroup v1 mount holds any of them"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := layoutFrom(tc.mounts, controllersFrom(tc.controllers))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got layout %v, err %v; want an error containing %q", l, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := l.String(); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
