package cgroup

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hybridLayout is this machine's layout.
func hybridLayout() *Layout {
	return V1Layout(map[string]string{"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"})
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	file = filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs\ngot:\n%s\nwant:\n%s", file, got, want)
	}
}

func TestPlanGolden(t *testing.T) {
	limits := Resources{MemoryMax: 256 << 20, PidsMax: 64}
	for _, tc := range []struct {
		file   string
		layout *Layout
		r      Resources
	}{
		{"plan-v1.golden", hybridLayout(), limits},
		{"plan-v1-unlimited.golden", hybridLayout(), Resources{}},
		{"plan-v2.golden", V2Layout("/sys/fs/cgroup"), limits},
		{"plan-v2-unlimited.golden", V2Layout("/sys/fs/cgroup"), Resources{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			golden(t, tc.file, tc.layout.Plan("demo", tc.r).String())
		})
	}
}

func TestPlanPaths(t *testing.T) {
	p := hybridLayout().Plan("demo", Resources{})
	want := []string{"/sys/fs/cgroup/memory/minispawn/demo", "/sys/fs/cgroup/pids/minispawn/demo"}
	if strings.Join(p.Paths, " ") != strings.Join(want, " ") {
		t.Errorf("v1 Paths = %v, want %v", p.Paths, want)
	}
	p = V2Layout("/sys/fs/cgroup/").Plan("demo", Resources{})
	if len(p.Paths) != 1 || p.Paths[0] != "/sys/fs/cgroup/minispawn/demo" {
		t.Errorf("v2 Paths = %v", p.Paths)
	}
	// Every path is a planned directory, made after its parent.
	for _, l := range []*Layout{hybridLayout(), V2Layout("/sys/fs/cgroup")} {
		p := l.Plan("x", Resources{})
		for _, path := range p.Paths {
			iLeaf, iParent := indexOf(p.Dirs, path), indexOf(p.Dirs, filepath.Dir(path))
			if iLeaf < 0 || iParent < 0 || iParent > iLeaf {
				t.Errorf("%s: %s not made after its parent in %v", l, path, p.Dirs)
			}
		}
	}
}

// Co-mounted v1 controllers (memory and pids in one hierarchy) make one
// cgroup, not two.
func TestPlanV1CoMounted(t *testing.T) {
	l := V1Layout(map[string]string{"memory": "/cg/mp", "pids": "/cg/mp"})
	got := l.Plan("demo", Resources{MemoryMax: 4096, PidsMax: 3}).String()
	want := "mkdir /cg/mp/minispawn\n" +
		"mkdir /cg/mp/minispawn/demo\n" +
		"write /cg/mp/minispawn/demo/memory.limit_in_bytes = 4096\n" +
		"write /cg/mp/minispawn/demo/pids.max = 3\n"
	if got != want {
		t.Errorf("got:\n%swant:\n%s", got, want)
	}
	if s := l.String(); s != "cgroup v1: memory,pids at /cg/mp" {
		t.Errorf("String() = %q", s)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// The resource -> file table read both ways: what Plan writes parses back
// to the Resources it came from, on both versions.
func TestKnobsRoundTrip(t *testing.T) {
	values := []int64{0, 1, 4096, 123456789, 1 << 40}
	for _, ver := range []Version{V1, V2} {
		for _, k := range knobs {
			for _, v := range values {
				s := k.format(ver, v)
				got, err := k.parse(ver, s+"\n")
				if err != nil || got != v {
					t.Errorf("%s %s: format(%d) = %q parses to %d, %v", ver, k.field, v, s, got, err)
				}
			}
		}
	}
	for _, l := range []*Layout{hybridLayout(), V2Layout("/sys/fs/cgroup")} {
		for _, r := range []Resources{{}, {MemoryMax: 64 << 20, PidsMax: 5}, {PidsMax: 7}, {MemoryMax: 1 << 30}} {
			var back Resources
			for _, w := range l.Plan("rt", r).Writes {
				for _, k := range knobs {
					if filepath.Base(w.Path) == k.file[l.Version] && l.Mounts[k.controller] != "" &&
						strings.HasPrefix(w.Path, l.Mounts[k.controller]) {
						v, err := k.parse(l.Version, w.Value)
						if err != nil {
							t.Fatal(err)
						}
						k.set(&back, v)
					}
				}
			}
			if back != r {
				t.Errorf("%s: Plan(%+v) writes parse back to %+v", l.Version, r, back)
			}
		}
	}
}

// What the kernel shows for "no limit" parses to 0.
func TestKnobParseKernelUnlimited(t *testing.T) {
	mem, pids := knobs[0], knobs[1]
	for _, tc := range []struct {
		k   knob
		ver Version
		in  string
	}{
		{mem, V1, "9223372036854771712\n"}, // 4 KiB pages
		{mem, V1, "9223372036854710272\n"}, // 64 KiB pages
		{mem, V2, "max\n"},
		{pids, V1, "max\n"},
		{pids, V2, "max\n"},
	} {
		if v, err := tc.k.parse(tc.ver, tc.in); err != nil || v != 0 {
			t.Errorf("%s %s parse(%q) = %d, %v; want 0", tc.ver, tc.k.field, tc.in, v, err)
		}
	}
	if _, err := pids.parse(V2, "lots"); err == nil {
		t.Error("parse(\"lots\") succeeded")
	}
}

func TestControllersFollowTable(t *testing.T) {
	if got := strings.Join(Controllers(), " "); got != "memory pids" {
		t.Errorf("Controllers() = %q", got)
	}
	for _, k := range knobs {
		for _, ver := range []Version{V1, V2} {
			if k.file[ver] != "" && k.unlimited[ver] == "" {
				t.Errorf("%s %s: a file without a spelling of 'no limit'", ver, k.field)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Resources{MemoryMax: 1 << 20, PidsMax: 10}).Validate(); err != nil {
		t.Errorf("valid limits: %v", err)
	}
	if err := (Resources{}).Validate(); err != nil {
		t.Errorf("no limits: %v", err)
	}
	err := Resources{MemoryMax: -1, PidsMax: -2}.Validate()
	if err == nil || !strings.Contains(err.Error(), "MemoryMax = -1") || !strings.Contains(err.Error(), "PidsMax = -2") {
		t.Errorf("negative limits: got %v, want both fields named", err)
	}
}

func TestVersionString(t *testing.T) {
	if V1.String() != "v1" || V2.String() != "v2" || Version(7).String() != "Version(7)" {
		t.Error(V1, V2, Version(7))
	}
}
