package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// hostLimits is every limit, with values this host can take: its last CPU,
// its memory node 0 and a whole disk of its own. Limits whose optional
// file this kernel lacks (see knob.optional) are left out, and logged.
func hostLimits(t *testing.T, l *Layout) Resources {
	t.Helper()
	var disk IOMax
	if _, err := fmt.Sscanf(roottest.WholeDisk(t), "%d:%d", &disk.Major, &disk.Minor); err != nil {
		t.Fatal(err)
	}
	disk.RBps, disk.WIOps = 1<<20, 120
	r := Resources{
		MemoryMax: 256 << 20, MemoryHigh: 192 << 20, MemorySwap: 64 << 20, PidsMax: 64,
		CPUQuota: 50000, CPUPeriod: 200000, CPUWeight: 250,
		CpusetCpus: strconv.Itoa(runtime.NumCPU() - 1), CpusetMems: "0", IOWeight: 300,
		IOMax: []IOMax{disk},
	}
	probe := create(t, l, testName(), Resources{})
	for _, k := range knobs {
		dir, ok := probe.dirOf(k.controller)
		if !ok || !k.optional || k.file[l.Version] == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, k.file[l.Version])); err != nil {
			t.Logf("%s: this kernel lacks %s, so the test leaves %s out", k.field, k.file[l.Version], k.field)
			switch {
			case strings.HasPrefix(k.field, "IOMax"):
				r.IOMax = nil
			case k.field == "MemorySwap":
				r.MemorySwap = 0
			case k.field == "IOWeight":
				r.IOWeight = 0
			}
		}
	}
	return r
}

// Every limit lands in its file as the kernel documents the file (checked
// against literal expected text, not through the table), and Limits reads
// all of them back.
func TestCreateWritesEveryLimit(t *testing.T) {
	l := hostLayout(t)
	r := hostLimits(t, l)
	c := create(t, l, testName(), r)
	dev := ""
	if len(r.IOMax) > 0 {
		dev = r.IOMax[0].Device()
	}
	want := map[Version]map[string]string{
		V1: {
			"memory/memory.limit_in_bytes":        "268435456",
			"memory/memory.soft_limit_in_bytes":   "201326592",
			"memory/memory.memsw.limit_in_bytes":  "335544320",
			"pids/pids.max":                       "64",
			"cpu/cpu.cfs_period_us":               "200000",
			"cpu/cpu.cfs_quota_us":                "50000",
			"cpu/cpu.shares":                      "2560",
			"cpuset/cpuset.cpus":                  r.CpusetCpus,
			"cpuset/cpuset.mems":                  "0",
			"cpuset/cgroup.clone_children":        "1",
			"io/blkio.bfq.weight":                 "300",
			"io/blkio.throttle.read_bps_device":   dev + " 1048576",
			"io/blkio.throttle.write_iops_device": dev + " 120",
			"io/blkio.throttle.write_bps_device":  "",
		},
		V2: {
			"memory/memory.max":      "268435456",
			"memory/memory.high":     "201326592",
			"memory/memory.swap.max": "67108864",
			"pids/pids.max":          "64",
			"cpu/cpu.max":            "50000 200000",
			"cpu/cpu.weight":         "250",
			"cpuset/cpuset.cpus":     r.CpusetCpus,
			"cpuset/cpuset.mems":     "0",
			"io/io.weight":           "default 300",
			"io/io.max":              dev + " rbps=1048576 wbps=max riops=max wiops=120",
		},
	}[l.Version]
	for key, value := range want {
		ctl, file, _ := strings.Cut(key, "/")
		dir, ok := c.dirOf(ctl)
		if !ok {
			t.Logf("%s: no %s controller on this host", file, ctl)
			continue
		}
		path := filepath.Join(dir, file)
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && !strings.HasPrefix(file, "cpu") && !strings.HasPrefix(file, "pids") {
			t.Logf("%s: absent on this kernel", path)
			continue
		}
		if err != nil {
			t.Error(err)
			continue
		}
		got := strings.TrimSpace(string(b))
		if file == "io.weight" {
			got, _, _ = strings.Cut(got, "\n") // then per-device lines
		}
		if got != value {
			t.Errorf("%s = %q, want %q", path, got, value)
		}
	}
	if got, err := c.Limits(); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("Limits() = %+v, %v\nwant       %+v", got, err, r)
	}
}

// A busy loop under a quota of a fifth of a CPU gets at most about that:
// only a loose bound (under half) is asserted, and that the kernel
// throttled it. On a busy machine the loop may get less than its quota
// and so never be throttled in a given second: it is watched in rounds
// of a second, up to 15, until the kernel reports throttling.
func TestCPUQuotaLimits(t *testing.T) {
	l := hostLayout(t)
	if _, ok := l.Mounts["cpu"]; !ok {
		t.Fatalf("no cpu controller on this host (%s)", l)
	}
	c := create(t, l, testName(), Resources{CPUQuota: 20000})
	p := startGated(t, c, "sh", "-c", "read x; while :; do :; done")
	p.release(t)
	cpuDir, _ := c.dirOf("cpu")
	var stat string
	var total time.Duration
	for round := 1; round <= 15; round++ {
		used0, at0 := runTime(t, p.pid()), time.Now()
		time.Sleep(time.Second)
		used, wall := runTime(t, p.pid())-used0, time.Since(at0)
		total += used
		share := float64(used) / float64(wall)
		stat = readTrim(t, filepath.Join(cpuDir, "cpu.stat"))
		t.Logf("round %d: busy loop with CPUQuota 20000/100000: %.0f%% of a CPU; cpu.stat: %s", round, 100*share, strings.ReplaceAll(stat, "\n", ", "))
		if share >= 0.5 {
			t.Fatalf("busy loop used %.0f%% of a CPU, want about 20%% (at most 50%%)", 100*share)
		}
		if n, err := keyedValue(stat, "nr_throttled"); err == nil && n > 0 {
			break
		}
	}
	if total == 0 {
		t.Errorf("the busy loop never ran")
	}
	if n, err := keyedValue(stat, "nr_throttled"); err != nil || n == 0 {
		t.Errorf("cpu.stat shows no throttling after 15 s: %q", stat)
	}
}

// runTime is the CPU time pid has run, from /proc/PID/schedstat: the one
// counter both versions have for a single process.
func runTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	f := strings.Fields(readTrim(t, fmt.Sprintf("/proc/%d/schedstat", pid)))
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(ns)
}

// A process that joins a cgroup with CpusetCpus runs only there.
func TestCpusetPins(t *testing.T) {
	l := hostLayout(t)
	if _, ok := l.Mounts["cpuset"]; !ok {
		t.Fatalf("no cpuset controller on this host (%s)", l)
	}
	cpu := strconv.Itoa(runtime.NumCPU() - 1)
	c := create(t, l, testName(), Resources{CpusetCpus: cpu})
	p := startGated(t, c, "sh", "-c", "read x; grep Cpus_allowed_list /proc/self/status")
	p.release(t)
	if got := p.readLine(t, 10*time.Second); got != "Cpus_allowed_list:\t"+cpu {
		t.Errorf("in the cgroup: %q, want CPU %s only", got, cpu)
	}
}

// On v1 a new cpuset is empty and takes no task. The shared parent gets
// the root's CPUs when it has none, but keeps what an administrator gave
// it; the leaf gets the parent's. (On v2 an empty cpuset means "all of the
// parent's", which the second half checks there.)
func TestCpusetInherit(t *testing.T) {
	host := hostLayout(t)
	if _, ok := host.Mounts["cpuset"]; !ok {
		t.Fatalf("no cpuset controller on this host (%s)", host)
	}
	l := isolatedLayout(t, host)
	mount := l.Mounts["cpuset"]
	a := create(t, l, testName(), Resources{})
	if host.Version == V1 {
		// Fresh parent: it inherits all of the (isolated) root's CPUs.
		if got, want := readTrim(t, filepath.Join(mount, Parent, "cpuset.cpus")), readTrim(t, filepath.Join(mount, "cpuset.cpus")); got != want {
			t.Errorf("shared parent cpuset.cpus = %q, want the root's %q", got, want)
		}
	}
	startGated(t, a, "sleep", "60") // joins: the cpuset is not empty

	// An administrator made the parent and narrowed it (in a second
	// isolated root): a new container keeps to it.
	l = isolatedLayout(t, host)
	mount = l.Mounts["cpuset"]
	narrow := strconv.Itoa(runtime.NumCPU() - 1)
	if err := mkdir(filepath.Join(mount, Parent)); err != nil {
		t.Fatal(err)
	}
	if l.Version == V2 {
		// The parent of a v2 cpuset must delegate the controller.
		if err := writeFile(filepath.Join(mount, "cgroup.subtree_control"), "+cpuset"); err != nil {
			t.Fatal(err)
		}
	}
	for file, v := range map[string]string{"cpuset.cpus": narrow, "cpuset.mems": "0"} {
		if err := writeFile(filepath.Join(mount, Parent, file), v); err != nil {
			t.Fatal(err)
		}
	}
	b := create(t, l, testName(), Resources{})
	dir, _ := b.dirOf("cpuset")
	file := map[Version]string{V1: "cpuset.cpus", V2: "cpuset.cpus.effective"}[l.Version]
	if got := readTrim(t, filepath.Join(dir, file)); got != narrow {
		t.Errorf("leaf %s = %q, want the narrowed parent's %q", file, got, narrow)
	}
	p := startGated(t, b, "sh", "-c", "read x; grep Cpus_allowed_list /proc/self/status")
	p.release(t)
	if got := p.readLine(t, 10*time.Second); got != "Cpus_allowed_list:\t"+narrow {
		t.Errorf("in the leaf: %q, want CPU %s only", got, narrow)
	}
	if got := readTrim(t, filepath.Join(mount, Parent, "cpuset.cpus")); got != narrow {
		t.Errorf("Create widened the administrator's parent to %q", got)
	}
}

// A limit on a controller the host does not offer fails Create before
// anything is made, and says which limit and which controller.
func TestCreateRefusesMissingController(t *testing.T) {
	host := hostLayout(t)
	l := &Layout{Version: host.Version, Mounts: map[string]string{"memory": host.Mounts["memory"], "pids": host.Mounts["pids"]}}
	name := testName()
	c, err := Create(l, name, Resources{PidsMax: 5, CPUQuota: 20000, IOWeight: 5})
	if err == nil {
		c.Remove()
		t.Fatal("Create with a cpu limit and no cpu controller succeeded")
	}
	for _, want := range []string{"limits.cpu (or cpu_max) needs the cpu controller", "limits.io_weight needs the " + controllerName(l.Version, "io") + " controller"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	for _, dir := range l.Plan(name, Resources{}).Paths {
		if fileExists(dir) {
			t.Errorf("%s made", dir)
		}
	}
}

// A file some kernels lack is named as such when a limit needs it. The
// weight files are never in a hierarchy's root cgroup (v1 blkio.bfq.weight
// and v2 io.weight alike), which stands in for a kernel without them.
func TestApplyNamesMissingOptionalFile(t *testing.T) {
	l := hostLayout(t)
	file := map[Version]string{V1: "blkio.bfq.weight", V2: "io.weight"}[l.Version]
	path := filepath.Join(l.Mounts["memory"], file)
	if fileExists(path) {
		t.Fatalf("%s exists: the premise is wrong", path)
	}
	err := apply(Write{Path: path, Value: "50"})
	want := "write " + path + ": ENOENT (this kernel lacks the file, so it cannot apply limits.io_weight)"
	if !errors.Is(err, unix.ENOENT) || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
