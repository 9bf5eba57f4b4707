package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/roottest"
)

// allLimitsTOML sets every [limits] key but cpu_max (which excludes cpu).
// ioMax is filled in with a real disk of the host by the root tests.
func allLimitsTOML(cpuset, ioMax string) string {
	return fmt.Sprintf(`[limits]
memory = "256M"
memory_high = "192M"
memory_swap = "64M"
pids = 64
cpu = "0.5"
cpu_weight = 250
cpuset_cpus = %q
cpuset_mems = "0"
io_weight = 300
io_max = [%s]
`, cpuset, ioMax)
}

func TestResourcesOf(t *testing.T) {
	for _, tc := range []struct {
		limits string
		want   cgroup.Resources
	}{
		{allLimitsTOML("0-1", `"254:0 rbps=1M wiops=120", "8:16 wbps=2M"`), cgroup.Resources{
			MemoryMax: 256 << 20, MemoryHigh: 192 << 20, MemorySwap: 64 << 20, PidsMax: 64,
			CPUQuota: 50000, CPUWeight: 250, CpusetCpus: "0-1", CpusetMems: "0", IOWeight: 300,
			IOMax: []cgroup.IOMax{{Major: 254, RBps: 1 << 20, WIOps: 120}, {Major: 8, Minor: 16, WBps: 2 << 20}},
		}},
		{"[limits]\ncpu_max = \"20000 50000\"\n", cgroup.Resources{CPUQuota: 20000, CPUPeriod: 50000}},
		{"[limits]\ncpu = \"0.2\"\n", cgroup.Resources{CPUQuota: 20000}},
		{"", cgroup.Resources{}},
	} {
		cfg, err := config.Parse("t.toml", []byte("name = \"n\"\nrootfs.path = \"/\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n"+tc.limits))
		if err != nil {
			t.Fatal(err)
		}
		got := resourcesOf(cfg.Limits)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s\ngot  %+v\nwant %+v", tc.limits, got, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("a valid file gave invalid Resources: %v", err)
		}
	}
}

func TestOOMMessage(t *testing.T) {
	for _, tc := range []struct {
		r     cgroup.Resources
		ver   cgroup.Version
		kills int
		want  string
	}{
		{cgroup.Resources{MemoryMax: 32 << 20}, cgroup.V1, 1,
			"the container hit its memory limit, memory = 32M (memory.limit_in_bytes 33554432): the kernel's OOM killer ended a process (a process killed by it exits with 137)"},
		{cgroup.Resources{MemoryMax: 1000000, MemorySwap: 1 << 30}, cgroup.V2, 3,
			"the container hit its memory limit, memory = 1000000 (memory.max 1000000), memory_swap = 1G (memory.swap.max): the kernel's OOM killer ended 3 processes (a process killed by it exits with 137)"},
		{cgroup.Resources{}, cgroup.V2, 1,
			"the kernel's OOM killer ended a process of the container, which has no memory limit of its own (the host, or a cgroup above it, ran out of memory)"},
	} {
		if got := oomMessage(tc.r, tc.ver, tc.kills); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// `minispawn check` prints every cgroup write that a run would make, for
// this host's layout, each once.
func TestCheckPrintsEveryCgroupWrite(t *testing.T) {
	layout, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "name = \"limits-check\"\nrootfs.path = \"/\"\n[[workload]]\nname = \"w\"\ncommand = \"/bin/true\"\n"+
		allLimitsTOML("0", `"254:0 rbps=1M"`))
	res := runMinispawn(t, 20*time.Second, "check", "-c", cfg)
	if res.code != 0 {
		t.Fatalf("check: exit %d\n%s", res.code, res.stderr)
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan := layout.Plan("limits-check", resourcesOf(c.Limits))
	for _, w := range plan.Writes {
		if n := strings.Count(res.stdout, w.String()+"\n"); n != 1 {
			t.Errorf("%q printed %d times, want once", w, n)
		}
	}
	if len(plan.Writes) < 10 {
		t.Errorf("only %d writes planned on %s:\n%s", len(plan.Writes), layout, plan)
	}
	t.Logf("%s\n%s", layout, plan)
}

// limitsRoot is the build list of the limit tests' roots.
const limitsRoot = `["/bin/sh", "/bin/cat", "/bin/sleep", "/usr/bin/tail", "/usr/bin/perl"]`

// limitsConfig is a container of workloads (TOML [[workload]] tables)
// under limits.
func limitsConfig(t *testing.T, name, limits, workloads string) string {
	return writeConfig(t, fmt.Sprintf("name = %q\n[rootfs]\nbuild = %s\n[init]\ngrace = \"1s\"\n%s\n%s", name, limitsRoot, limits, workloads))
}

func shWorkload(name, script string, main bool) string {
	return fmt.Sprintf("[[workload]]\nname = %q\ncommand = \"/bin/sh\"\nargs = [\"-c\", %q]\nmain = %v\n", name, script, main)
}

// containerDir is the container's cgroup directory in the hierarchy of
// controller.
func containerDir(t *testing.T, controller, name string) string {
	t.Helper()
	l, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	mount, ok := l.Mounts[controller]
	if !ok {
		t.Fatalf("this host offers no %s controller (%s)", controller, l)
	}
	return filepath.Join(mount, cgroup.Parent, name)
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// A workload that allocates past the memory limit is OOM-killed: the
// container exits 137 and minispawn says which limit was hit.
func TestOOMKillExits137(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	// tail keeps the last line in memory, and /dev/zero has no newline.
	cfg := limitsConfig(t, name, "[limits]\nmemory = \"32M\"\npids = 16\n",
		"[[workload]]\nname = \"hog\"\ncommand = \"/usr/bin/tail\"\nargs = [\"/dev/zero\"]\n")
	res := runMinispawn(t, 60*time.Second, "-c", cfg)
	if res.code != 137 {
		t.Errorf("exit %d, want 137\nstderr:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "hit its memory limit, memory = 32M") || !strings.Contains(res.stderr, "OOM killer") {
		t.Errorf("stderr does not name the memory limit:\n%s", res.stderr)
	}
	t.Logf("stderr:\n%s", res.stderr)
	checkNothingLeft(t, before, name, "")
}

// A fork bomb fills the pids limit and no more, while PID 1 (miniinit)
// keeps working: SIGTERM still ends the container with the main
// workload's code, and nothing is left behind.
func TestForkBombStopsAtPidsMax(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	const limit = 20
	marker := fmt.Sprintf("%d.%d", 7000+os.Getpid()%1000, time.Now().UnixNano()%1000)
	// perl, not sh: a shell gives up at its first failed fork, perl's
	// fork returns undef and every process forks on, for ever.
	cfg := limitsConfig(t, name, fmt.Sprintf("[limits]\npids = %d\n", limit),
		shWorkload("main", "echo ready; exec sleep "+marker, true)+
			"[[workload]]\nname = \"bomb\"\ncommand = \"/usr/bin/perl\"\nargs = [\"-e\", \"while (1) { fork() }\"]\n")
	s := startMinispawn(t, cfg)
	pidsDir := containerDir(t, "pids", name)

	// Watch the tasks for 2s: they must reach the limit (the bomb runs)
	// and never pass it. The tasks listed, not pids.current: the kernel
	// charges a fork before it checks the limit and takes the charge back
	// when the fork is refused, so pids.current may show limit+1 for an
	// instant without any task more than the limit existing.
	most := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		text, err := os.ReadFile(filepath.Join(pidsDir, tasksFile(pidsDir)))
		if err != nil {
			t.Fatalf("the container is gone while the bomb runs: %v\nstderr:\n%s", err, s.stderr)
		}
		most = max(most, len(strings.Fields(string(text))))
	}
	if most > limit {
		t.Errorf("%d tasks at once, above pids.max %d", most, limit)
	}
	if most < limit {
		t.Errorf("at most %d tasks: the bomb never filled the limit of %d", most, limit)
	}
	events := readTrimmed(t, filepath.Join(pidsDir, "pids.events"))
	t.Logf("tasks peaked at %d; pids.events: %s", most, events)
	if !strings.HasPrefix(events, "max ") || strings.HasPrefix(events, "max 0") {
		t.Errorf("pids.events %q: no fork was refused", events)
	}

	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d, want 0 (a stop asked of minispawn, the main workload dead of its SIGTERM)\nstderr:\n%s", code, s.stderr)
	}
	t.Logf("SIGTERM to exit during the bomb: %v", time.Since(start))
	checkNothingLeft(t, before, name, marker)
}

// cpu = "0.2" holds a busy loop to about a fifth of a CPU. Only a loose
// bound is asserted (under half a CPU), and that the kernel throttled the
// loop: on a busy machine it may get less than its quota in a given
// second, so it is watched in rounds of a second, up to 15, until the
// kernel reports throttling.
func TestCPUQuotaThrottles(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	cfg := limitsConfig(t, name, "[limits]\ncpu = \"0.2\"\n", shWorkload("spin", "echo ready; while :; do :; done", true))
	s := startMinispawn(t, cfg)
	cpuDir := containerDir(t, "cpu", name)
	var stat string
	var total time.Duration
	for round := 1; round <= 15; round++ {
		used0, at0 := cgroupCPUTime(t, cpuDir), time.Now()
		time.Sleep(time.Second)
		used, wall := cgroupCPUTime(t, cpuDir)-used0, time.Since(at0)
		total += used
		share := float64(used) / float64(wall)
		stat = readTrimmed(t, filepath.Join(cpuDir, "cpu.stat"))
		t.Logf("round %d: busy loop under cpu = \"0.2\": %.0f%% of a CPU over %v; cpu.stat: %s", round, 100*share, wall.Round(time.Millisecond), strings.ReplaceAll(stat, "\n", ", "))
		if share >= 0.5 {
			t.Errorf("busy loop used %.0f%% of a CPU, want about 20%% (at most 50%%)", 100*share)
			break
		}
		if strings.Contains(stat, "nr_throttled ") && !strings.Contains(stat, "nr_throttled 0\n") {
			break
		}
	}
	if total == 0 {
		t.Errorf("the busy loop never ran")
	}
	if !strings.Contains(stat, "nr_throttled ") || strings.Contains(stat, "nr_throttled 0\n") {
		t.Errorf("cpu.stat shows no throttling after 15 s: %s", stat)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.wait(t, 15*time.Second)
	checkNothingLeft(t, before, name, "")
}

// cgroupCPUTime is the CPU time used by the tasks of the cgroup dir of
// the cpu controller: cpu.stat's usage_usec on v2; on v1, where the cpu
// hierarchy has no usage counter of its own (cpuacct may be mounted
// apart), the sum of the tasks' /proc/TID/schedstat run times.
func cgroupCPUTime(t *testing.T, dir string) time.Duration {
	t.Helper()
	stat := readTrimmed(t, filepath.Join(dir, "cpu.stat"))
	for _, line := range strings.Split(stat, "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return time.Duration(n) * time.Microsecond
		}
	}
	var sum time.Duration
	for _, tid := range strings.Fields(readTrimmed(t, filepath.Join(dir, "tasks"))) {
		b, err := os.ReadFile("/proc/" + tid + "/schedstat")
		if err != nil {
			continue // exited
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += time.Duration(n)
		}
	}
	return sum
}

// cpuset_cpus pins the container: the workload sees only that CPU in its
// affinity mask.
func TestCpusetPinsContainer(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	cpu := strconv.Itoa(runtime.NumCPU() - 1) // the last CPU, so not just "0"
	cfg := limitsConfig(t, name, "[limits]\ncpuset_cpus = \""+cpu+"\"\n", shWorkload("show", "cat /proc/self/status", true))
	res := runMinispawn(t, 60*time.Second, "-c", cfg)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "Cpus_allowed_list:\t"+cpu+"\n") {
		t.Errorf("the workload is not pinned to CPU %s:\n%s", cpu, res.stdout)
	}
	checkNothingLeft(t, before, name, "")
}

// optionalLimitFiles are the limit files some kernels lack (the cgroup
// package's optional knobs), with the [limits] key that writes each and
// how the setup error names it (issue 16 item 15: the key, never a Go
// field).
var optionalLimitFiles = map[string]struct{ key, field string }{
	"memory.memsw.limit_in_bytes":      {"memory_swap", "limits.memory_swap"},
	"memory.swap.max":                  {"memory_swap", "limits.memory_swap"},
	"blkio.bfq.weight":                 {"io_weight", "limits.io_weight"},
	"io.weight":                        {"io_weight", "limits.io_weight"},
	"blkio.throttle.read_bps_device":   {"io_max", "limits.io_max"},
	"blkio.throttle.write_bps_device":  {"io_max", "limits.io_max"},
	"blkio.throttle.read_iops_device":  {"io_max", "limits.io_max"},
	"blkio.throttle.write_iops_device": {"io_max", "limits.io_max"},
	"io.max":                           {"io_max", "limits.io_max"},
}

// lackedLimitFiles returns which of files ("controller/file") a new
// cgroup of this kernel lacks, probed in a cgroup of its own. Only the
// optional files may be missing; any other is a failure.
func lackedLimitFiles(t *testing.T, l *cgroup.Layout, files []string) map[string]bool {
	t.Helper()
	probe := containerName(t) + "-probe"
	c, err := cgroup.Create(l, probe, cgroup.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Remove(); err != nil {
			t.Error(err)
		}
	}()
	lacked := map[string]bool{}
	for _, key := range files {
		controller, file, _ := strings.Cut(key, "/")
		_, err := os.Stat(filepath.Join(containerDir(t, controller, probe), file))
		if err == nil {
			continue
		}
		if _, ok := optionalLimitFiles[file]; !ok || !os.IsNotExist(err) {
			t.Fatalf("%s: %v", key, err)
		}
		lacked[key] = true
	}
	return lacked
}

// withoutLimits drops the lines setting keys from a [limits] table.
func withoutLimits(toml string, keys map[string]bool) string {
	var kept []string
	for _, line := range strings.SplitAfter(toml, "\n") {
		key, _, _ := strings.Cut(line, " =")
		if !keys[key] {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}

// Every limit of the file is in the kernel's files while the container
// runs, as this host's hierarchy version spells it. A limit whose file
// this kernel lacks (blkio.bfq.weight without BFQ, memsw without swap
// accounting...) stays a setup error naming the file, checked here where
// the kernel lacks it; the others are checked for their values with that
// limit left out. Where the kernel has every file, all values are checked.
func TestAllLimitsApplied(t *testing.T) {
	roottest.Require(t)
	l, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	dev := roottest.WholeDisk(t)
	want := map[cgroup.Version]map[string]string{
		cgroup.V1: {
			"memory/memory.limit_in_bytes":        "268435456",
			"memory/memory.soft_limit_in_bytes":   "201326592",
			"memory/memory.memsw.limit_in_bytes":  "335544320",
			"pids/pids.max":                       "64",
			"cpu/cpu.cfs_quota_us":                "50000",
			"cpu/cpu.cfs_period_us":               "100000",
			"cpu/cpu.shares":                      "2560",
			"cpuset/cpuset.cpus":                  "0",
			"cpuset/cpuset.mems":                  "0",
			"io/blkio.bfq.weight":                 "300",
			"io/blkio.throttle.read_bps_device":   dev + " 1048576",
			"io/blkio.throttle.write_iops_device": dev + " 120",
			"io/blkio.throttle.write_bps_device":  "",
			"cpuset/cgroup.clone_children":        "1",
		},
		cgroup.V2: {
			"memory/memory.max":      "268435456",
			"memory/memory.high":     "201326592",
			"memory/memory.swap.max": "67108864",
			"pids/pids.max":          "64",
			"cpu/cpu.max":            "50000 100000",
			"cpu/cpu.weight":         "250",
			"cpuset/cpuset.cpus":     "0",
			"cpuset/cpuset.mems":     "0",
			"io/io.weight":           "default 300",
			"io/io.max":              dev + " rbps=1048576 wbps=max riops=max wiops=120",
		},
	}[l.Version]
	files := make([]string, 0, len(want))
	for key := range want {
		files = append(files, key)
	}
	sort.Strings(files)
	lacked := lackedLimitFiles(t, l, files)
	lackedKeys := map[string]bool{}
	for key := range lacked {
		_, file, _ := strings.Cut(key, "/")
		lackedKeys[optionalLimitFiles[file].key] = true
	}
	limits := allLimitsTOML("0", fmt.Sprintf("%q", dev+" rbps=1M wiops=120"))
	workload := shWorkload("wait", "echo ready; exec sleep 30", true)

	for limit := range lackedKeys {
		t.Run("kernel lacks "+limit, func(t *testing.T) {
			name := containerName(t)
			before := snapshotHost(t)
			others := maps.Clone(lackedKeys)
			delete(others, limit)
			res := runMinispawn(t, 60*time.Second, "-c", limitsConfig(t, name, withoutLimits(limits, others), workload))
			if res.code != exitSetup {
				t.Errorf("exit %d, want %d (setup error)\nstderr:\n%s", res.code, exitSetup, res.stderr)
			}
			named := false
			for _, key := range files {
				controller, file, _ := strings.Cut(key, "/")
				if !lacked[key] || optionalLimitFiles[file].key != limit {
					continue
				}
				path := filepath.Join(containerDir(t, controller, name), file)
				named = named || strings.Contains(res.stderr, "write "+path+": ENOENT (this kernel lacks the file, so it cannot apply "+optionalLimitFiles[file].field)
			}
			if !named {
				t.Errorf("the error does not name the missing file, ENOENT and the limit:\n%s", res.stderr)
			}
			t.Logf("stderr:\n%s", res.stderr)
			checkNothingLeft(t, before, name, "")
		})
	}

	t.Run("values", func(t *testing.T) {
		name := containerName(t)
		before := snapshotHost(t)
		s := startMinispawn(t, limitsConfig(t, name, withoutLimits(limits, lackedKeys), workload))
		for _, key := range files {
			if lacked[key] {
				t.Logf("%s: this kernel lacks the file; its limit was left out", key)
				continue
			}
			controller, file, _ := strings.Cut(key, "/")
			got := readTrimmed(t, filepath.Join(containerDir(t, controller, name), file))
			if controller == "io" && strings.HasSuffix(file, "weight") {
				got, _, _ = strings.Cut(got, "\n") // v2 adds per-device lines
			}
			if got != want[key] {
				t.Errorf("%s/%s = %q, want %q", controller, file, got, want[key])
			}
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.wait(t, 15*time.Second)
		checkNothingLeft(t, before, name, "")
	})
}

// tasksFile names the file that lists every task (thread) of a cgroup:
// tasks on v1, cgroup.threads on v2.
func tasksFile(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "tasks")); err == nil {
		return "tasks"
	}
	return "cgroup.threads"
}

// Issue 16 item 11: a limit too small to start miniinit is a clear
// configuration error, with nothing left behind: no Go runtime crash, no
// cgroup. From flags it is the command line's error (2), from a file the
// file's (125, at its line).
func TestLimitTooSmallToStart(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	for _, tc := range []struct {
		flag, value, says string
	}{
		{"--memory", "1K", "at least 6M"},
		{"--memory", "100", "at least 6M"},
		{"--memory", "1", "at least 6M"},
		{"--pids", "2", "at least 16"},
		{"--pids", "6", "at least 16"},
		{"--pids", "10", "at least 16"},
	} {
		name := containerName(t)
		before := snapshotHost(t)
		res := runMinispawn(t, 30*time.Second, "run", "--rootfs", root, "--name", name, tc.flag, tc.value, "--", "/bin/sh", "-c", "echo ran")
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.flag+": limits: ") || !strings.Contains(res.stderr, tc.says) ||
			strings.Contains(res.stderr, "goroutine") || strings.Contains(res.stdout, "ran") {
			t.Errorf("%s %s: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", tc.flag, tc.value, res.code, exitUsage, tc.says, res.stdout, res.stderr)
		}
		checkNothingLeft(t, before, name, "")
	}
	name := containerName(t)
	cfg := limitsConfig(t, name, "[limits]\nmemory = \"1K\"\n", shWorkload("main", "echo ran", true))
	res := runMinispawn(t, 30*time.Second, "-c", cfg)
	if res.code != exitSetup || !strings.Contains(res.stderr, cfg+":") || !strings.Contains(res.stderr, "at least 6M") {
		t.Errorf("memory = \"1K\" in a file: exit %d, want %d and the file's position\n%s", res.code, exitSetup, res.stderr)
	}
}
