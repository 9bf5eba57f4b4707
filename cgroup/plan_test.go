package cgroup

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hybridLayout is this machine's layout.
func hybridLayout() *Layout {
	return V1Layout(map[string]string{
		"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids", "cpu": "/sys/fs/cgroup/cpu",
		"cpuset": "/sys/fs/cgroup/cpuset", "io": "/sys/fs/cgroup/blkio",
	})
}

// allLimits sets every field, with values that survive the kernel's
// rounding (whole pages) and are not the defaults.
var allLimits = Resources{
	MemoryMax: 256 << 20, MemoryHigh: 192 << 20, MemorySwap: 64 << 20, PidsMax: 64,
	CPUQuota: 50000, CPUPeriod: 200000, CPUWeight: 250,
	CpusetCpus: "0-1", CpusetMems: "0", IOWeight: 300,
	IOMax: []IOMax{{Major: 254, Minor: 0, RBps: 1 << 20, WIOps: 120}, {Major: 8, Minor: 16, WBps: 2 << 20, RIOps: 50}},
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
		{"plan-v1-all.golden", hybridLayout(), allLimits},
		// A v1 host with only the required controllers mounted.
		{"plan-v1-minimal.golden", V1Layout(map[string]string{"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"}), limits},
		{"plan-v2.golden", V2Layout("/sys/fs/cgroup"), limits},
		{"plan-v2-unlimited.golden", V2Layout("/sys/fs/cgroup"), Resources{}},
		{"plan-v2-all.golden", V2Layout("/sys/fs/cgroup"), allLimits},
		// A delegated v2 subtree that offers only some controllers.
		{"plan-v2-partial.golden", V2Layout("/sys/fs/cgroup", "memory", "pids", "cpu"), Resources{MemoryMax: 1 << 30, CPUQuota: 20000}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			golden(t, tc.file, tc.layout.Plan("demo", tc.r).String())
		})
	}
}

func TestPlanPaths(t *testing.T) {
	p := hybridLayout().Plan("demo", Resources{})
	want := []string{"/sys/fs/cgroup/memory/minispawn/demo", "/sys/fs/cgroup/pids/minispawn/demo",
		"/sys/fs/cgroup/cpu/minispawn/demo", "/sys/fs/cgroup/cpuset/minispawn/demo", "/sys/fs/cgroup/blkio/minispawn/demo"}
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
		"write /cg/mp/minispawn/demo/memory.soft_limit_in_bytes = -1\n" +
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

// The resource -> file table read both ways: what Plan writes to a leaf
// parses back, row by row in table order, to the Resources it came from,
// on both versions.
func TestKnobsRoundTrip(t *testing.T) {
	for _, l := range []*Layout{hybridLayout(), V2Layout("/sys/fs/cgroup")} {
		for _, r := range []Resources{
			{}, allLimits, {MemoryMax: 64 << 20, PidsMax: 5}, {PidsMax: 7}, {MemoryMax: 1 << 30},
			{MemoryMax: 4096, MemorySwap: 1 << 40}, {MemoryHigh: 1 << 20},
			{CPUQuota: 20000}, {CPUPeriod: 50000}, {CPUQuota: 1000, CPUPeriod: 1000}, {CPUWeight: 1}, {CPUWeight: 10000},
			{CpusetCpus: "1", CpusetMems: "0"}, {IOWeight: 1}, {IOWeight: 1000},
			{IOMax: []IOMax{{Major: 8, Minor: 0, WBps: 1}}},
		} {
			back := readBack(t, l, l.Plan("rt", r))
			if !reflect.DeepEqual(back, r) {
				t.Errorf("%s: Plan(%+v) writes parse back to %+v", l.Version, r, back)
			}
		}
	}
}

// readBack parses a plan's writes to its leaves as the kernel would show
// them, through the table: a file written several times (io.max, one
// line per device) shows all lines. Inherited files are skipped.
func readBack(t *testing.T, l *Layout, p Plan) Resources {
	t.Helper()
	var back Resources
	for _, k := range knobs {
		file := k.file[l.Version]
		mount, ok := l.Mounts[k.controller]
		if file == "" || !ok {
			continue
		}
		var lines []string
		for _, w := range p.Writes {
			if w.Path == filepath.Join(mount, Parent, "rt", file) && w.From == "" {
				lines = append(lines, w.Value)
			}
		}
		if len(lines) == 0 {
			continue
		}
		if err := k.parse(l.Version, strings.Join(lines, "\n")+"\n", &back); err != nil {
			t.Fatalf("%s %s: parse %q: %v", l.Version, k.field, lines, err)
		}
	}
	slices.SortFunc(back.IOMax, func(a, b IOMax) int { return int(a.Major) - int(b.Major) })
	return back
}

func init() {
	// allLimits' devices in the order Limits and readBack return them.
	slices.SortFunc(allLimits.IOMax, func(a, b IOMax) int { return int(a.Major) - int(b.Major) })
}

// What the kernel shows parses to what Resources means by it: the "no
// limit" and default spellings to 0.
func TestKnobParseKernel(t *testing.T) {
	for _, tc := range []struct {
		ver   Version
		field string
		in    string
		want  Resources
	}{
		{V1, "MemoryMax", "9223372036854771712\n", Resources{}}, // 4 KiB pages
		{V1, "MemoryMax", "9223372036854710272\n", Resources{}}, // 64 KiB pages
		{V2, "MemoryMax", "max\n", Resources{}},
		{V1, "MemoryHigh", "9223372036854771712\n", Resources{}},
		{V2, "MemoryHigh", "134217728\n", Resources{MemoryHigh: 128 << 20}},
		{V1, "MemorySwap", "9223372036854771712\n", Resources{}},
		{V2, "MemorySwap", "max\n", Resources{}},
		{V1, "PidsMax", "max\n", Resources{}},
		{V2, "PidsMax", "max\n", Resources{}},
		{V1, "CPUPeriod", "100000\n", Resources{}},
		{V1, "CPUQuota", "-1\n", Resources{}},
		{V2, "CPUQuota", "max 100000\n", Resources{}},
		{V2, "CPUQuota", "20000 100000\n", Resources{CPUQuota: 20000}},
		{V2, "CPUQuota", "max 50000\n", Resources{CPUPeriod: 50000}},
		{V1, "CPUWeight", "1024\n", Resources{}},
		{V1, "CPUWeight", "2\n", Resources{CPUWeight: 1}},
		{V1, "CPUWeight", "262144\n", Resources{CPUWeight: MaxWeight}},
		{V2, "CPUWeight", "100\n", Resources{}},
		{V1, "CpusetCpus", "0-1\n", Resources{CpusetCpus: "0-1"}},
		{V2, "CpusetMems", "\n", Resources{}},
		{V1, "IOWeight", "100\n", Resources{}},
		{V1, "IOWeight", "default 500\n", Resources{IOWeight: 500}},
		{V2, "IOWeight", "default 100\n8:0 300\n", Resources{}},
		{V1, "IOMax rbps", "254:0 1048576\n8:0 7\n", Resources{IOMax: []IOMax{{Major: 254, RBps: 1 << 20}, {Major: 8, RBps: 7}}}},
		{V1, "IOMax rbps", "", Resources{}},
		{V2, "IOMax rbps", "8:16 rbps=max wbps=4096 riops=max wiops=9\n", Resources{IOMax: []IOMax{{Major: 8, Minor: 16, WBps: 4096, WIOps: 9}}}},
		{V2, "IOMax rbps", "8:16 rbps=max wbps=max riops=max wiops=max\n", Resources{}},
	} {
		k := knobNamed(t, tc.field)
		var got Resources
		if err := k.parse(tc.ver, tc.in, &got); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s parse(%q) = %+v, %v; want %+v", tc.ver, tc.field, tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		ver         Version
		field, text string
	}{
		{V2, "PidsMax", "lots"},
		{V2, "CPUQuota", "20000"},
		{V2, "IOMax rbps", "8:0 speed=9"},
		{V1, "IOMax rbps", "sda 9"},
	} {
		if err := knobNamed(t, tc.field).parse(tc.ver, tc.text, &Resources{}); err == nil {
			t.Errorf("%s %s parse(%q) succeeded", tc.ver, tc.field, tc.text)
		}
	}
}

func knobNamed(t *testing.T, field string) knob {
	t.Helper()
	for _, k := range knobs {
		if k.field == field {
			return k
		}
	}
	t.Fatalf("no knob %s", field)
	return knob{}
}

// cpu.shares <-> cpu.weight is exact over the whole weight range, meets at
// the defaults and stays inside the kernel's shares range.
func TestWeightSharesRoundTrip(t *testing.T) {
	for w := int64(1); w <= MaxWeight; w++ {
		s := sharesOf(w)
		if s < 2 || s > 262144 || weightOf(s) != w {
			t.Fatalf("weight %d -> shares %d -> weight %d", w, s, weightOf(s))
		}
	}
	if sharesOf(defaultWeight) != 1024 || weightOf(1024) != defaultWeight {
		t.Errorf("defaults do not meet: %d, %d", sharesOf(defaultWeight), weightOf(1024))
	}
}

func TestControllersFollowTable(t *testing.T) {
	if got := strings.Join(Controllers(), " "); got != "memory pids cpu cpuset io" {
		t.Errorf("Controllers() = %q", got)
	}
	for _, c := range Required {
		if !slices.Contains(Controllers(), c) {
			t.Errorf("required %s is not in the table", c)
		}
	}
	// Every field of Resources has a row: a new field without one would
	// be silently ignored.
	rt := reflect.TypeFor[Resources]()
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if !slices.ContainsFunc(knobs, func(k knob) bool { return strings.HasPrefix(k.field, name) }) {
			t.Errorf("Resources.%s has no row in knobs", name)
		}
	}
	for _, k := range knobs {
		if k.file[V1] == "" && k.file[V2] == "" {
			t.Errorf("%s has a file on neither version", k.field)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, r := range []Resources{{}, {MemoryMax: 1 << 20, PidsMax: 10}, allLimits,
		{CPUPeriod: MinCPUPeriod}, {CPUPeriod: MaxCPUPeriod}, {CpusetCpus: "0,2-5,7"}} {
		if err := r.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", r, err)
		}
	}
	for _, tc := range []struct {
		r    Resources
		want []string
	}{
		{Resources{MemoryMax: -1, PidsMax: -2}, []string{"MemoryMax = -1", "PidsMax = -2"}},
		{Resources{MemorySwap: 1}, []string{"MemorySwap = 1: needs MemoryMax"}},
		{Resources{MemoryMax: 1 << 62, MemorySwap: 1 << 62}, []string{"overflows"}},
		{Resources{CPUQuota: 999}, []string{"CPUQuota = 999: below"}},
		{Resources{CPUPeriod: 999}, []string{"CPUPeriod = 999"}},
		{Resources{CPUPeriod: MaxCPUPeriod + 1}, []string{"CPUPeriod = 1000001"}},
		{Resources{CPUWeight: MaxWeight + 1, IOWeight: -3}, []string{"CPUWeight = 10001", "IOWeight = -3"}},
		{Resources{CpusetCpus: "3-1", CpusetMems: "a"}, []string{`CpusetCpus = "3-1"`, `CpusetMems = "a"`}},
		{Resources{IOMax: []IOMax{{Major: 8, RBps: 1}, {Major: 8, WBps: 2}, {Major: 9}, {Major: 1, WIOps: -1}}},
			[]string{"device 8:0 listed twice", "IOMax 9:0: sets no limit", "IOMax 1:0: negative"}},
	} {
		err := tc.r.Validate()
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Validate(%+v) = %v; want it to say %q", tc.r, err, want)
			}
		}
	}
}

func TestCheckList(t *testing.T) {
	for _, ok := range []string{"0", "0-1", "0,2-5,7", "3-3"} {
		if err := checkList(ok); err != nil {
			t.Errorf("checkList(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1,", "-1", "2-1", "0 - 1", "a", "1-", "0-70000", "+1"} {
		if err := checkList(bad); err == nil {
			t.Errorf("checkList(%q) succeeded", bad)
		}
	}
}

// Check refuses what the host cannot apply, and names it.
func TestCheck(t *testing.T) {
	partial := V2Layout("/sys/fs/cgroup", "memory", "pids")
	if err := partial.Check(Resources{MemoryMax: 1 << 20, PidsMax: 9}); err != nil {
		t.Errorf("limits on offered controllers: %v", err)
	}
	err := partial.Check(Resources{CPUWeight: 5, IOMax: []IOMax{{Major: 8, RBps: 1, WBps: 1}}})
	for _, want := range []string{
		"limits.cpu_weight needs the cpu controller, which this host's cgroup v2 at /sys/fs/cgroup does not offer",
		"limits.io_max (rbps) needs the io controller", "limits.io_max (wbps) needs the io controller",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: %v; want %q", err, want)
		}
	}
	v1 := V1Layout(map[string]string{"memory": "/m", "pids": "/p"})
	if err := v1.Check(Resources{CpusetCpus: "0"}); err == nil || !strings.Contains(err.Error(), "needs the cpuset controller, which this host's cgroup v1 mounts") {
		t.Errorf("v1 without cpuset: %v", err)
	}
	if err := hybridLayout().Check(Resources{IOWeight: MaxBFQWeight + 1}); err == nil || !strings.Contains(err.Error(), "blkio.bfq.weight") {
		t.Errorf("v1 io weight above 1000: %v", err)
	}
	if err := V2Layout("/sys/fs/cgroup").Check(Resources{IOWeight: MaxWeight}); err != nil {
		t.Errorf("v2 io weight 10000: %v", err)
	}
}

func TestVersionString(t *testing.T) {
	if V1.String() != "v1" || V2.String() != "v2" || Version(7).String() != "Version(7)" {
		t.Error(V1, V2, Version(7))
	}
}
