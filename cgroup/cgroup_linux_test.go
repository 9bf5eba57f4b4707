package cgroup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
	"golang.org/x/sys/unix"
)

// Detect agrees with an independent look at the kernel: statfs says which
// filesystem each chosen mount is, and the chosen hierarchies really hold
// the controllers' files. On this hybrid machine it must say v1.
func TestDetectHost(t *testing.T) {
	l := hostLayout(t)
	t.Logf("layout: %s", l)
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	unifiedHasMemory := false
	if b, err := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
		unifiedHasMemory = slices.Contains(strings.Fields(string(b)), "memory")
	}
	if st.Type == unix.TMPFS_MAGIC && !unifiedHasMemory && l.Version != V1 {
		t.Fatalf("/sys/fs/cgroup is a tmpfs with no memory on cgroup2: want v1, got %s", l)
	}
	for _, c := range Controllers() {
		mp, ok := l.Mounts[c]
		if !ok {
			t.Fatalf("no mount for %s in %s", c, l)
		}
		if err := unix.Statfs(mp, &st); err != nil {
			t.Fatal(err)
		}
		want := int64(unix.CGROUP_SUPER_MAGIC)
		if l.Version == V2 {
			want = unix.CGROUP2_SUPER_MAGIC
		}
		if int64(st.Type) != want {
			t.Errorf("%s at %s: statfs type %#x, want %#x", c, mp, st.Type, want)
		}
	}
	for _, c := range Controllers() {
		if _, ok := l.Mounts[c]; !ok {
			t.Logf("controller %s: not offered by this host", c)
		}
	}
	// The root cgroup has no limit files; its direct children do, so
	// check the file names on a fresh cgroup.
	c := create(t, l, testName(), Resources{})
	for _, k := range knobs {
		dir, ok := c.dirOf(k.controller)
		if !ok || k.file[l.Version] == "" {
			continue
		}
		_, err := os.Stat(filepath.Join(dir, k.file[l.Version]))
		switch {
		case err != nil && k.optional:
			t.Logf("%s: optional file absent on this kernel: %v", k.field, err)
		case err != nil:
			t.Errorf("%s: %v", k.field, err)
		}
	}
}

// Create writes the limits, and the kernel keeps exactly them.
func TestCreateWritesLimits(t *testing.T) {
	l := hostLayout(t)
	for _, r := range []Resources{{MemoryMax: 64 << 20, PidsMax: 64}, {}, {PidsMax: 3}} {
		t.Run(fmt.Sprintf("%+v", r), func(t *testing.T) {
			c := create(t, l, testName(), r)
			if got := c.Paths(); !slices.Equal(got, l.Plan(c.Name(), r).Paths) {
				t.Errorf("Paths() = %v, not the plan's", got)
			}
			mem, _ := c.dirOf("memory")
			pids, _ := c.dirOf("pids")
			memFile := map[Version]string{V1: "memory.limit_in_bytes", V2: "memory.max"}[l.Version]
			wantMem, wantPids := strconv.FormatInt(r.MemoryMax, 10), strconv.FormatInt(r.PidsMax, 10)
			if r.MemoryMax == 0 {
				wantMem = map[Version]string{V1: strconv.FormatInt(maxInt64Pages(), 10), V2: "max"}[l.Version]
			}
			if r.PidsMax == 0 {
				wantPids = "max"
			}
			if got := readTrim(t, filepath.Join(mem, memFile)); got != wantMem {
				t.Errorf("%s = %s, want %s", memFile, got, wantMem)
			}
			if got := readTrim(t, filepath.Join(pids, "pids.max")); got != wantPids {
				t.Errorf("pids.max = %s, want %s", got, wantPids)
			}
			if got, err := c.Limits(); err != nil || !reflect.DeepEqual(got, withInherited(t, l, r)) {
				t.Errorf("Limits() = %+v, %v; want %+v", got, err, withInherited(t, l, r))
			}
		})
	}
}

// maxInt64Pages is how v1 shows "no memory limit": the largest int64 that
// is a whole number of pages.
func maxInt64Pages() int64 {
	page := int64(os.Getpagesize())
	return (1<<63 - 1) / page * page
}

// A real process added to the cgroup is listed by Procs and the kernel
// puts it there in every hierarchy.
func TestAddProcs(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{PidsMax: 10})
	p := startGated(t, c, "sleep", "60")
	if got, err := c.Procs(); err != nil || !slices.Equal(got, []int{p.pid()}) {
		t.Fatalf("Procs() = %v, %v; want [%d]", got, err, p.pid())
	}
	want := "/" + Parent + "/" + c.Name()
	for ctl := range l.Mounts {
		ctl = controllerName(l.Version, ctl)
		if l.Version == V2 {
			ctl = ""
		}
		if got := cgroupOf(t, p.pid(), ctl); got != want {
			t.Errorf("/proc/%d/cgroup for %q: %s, want %s", p.pid(), ctl, got, want)
		}
	}
}

// Add names step, path and errno.
func TestAddErrorNamesPathAndErrno(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{})
	// Above the kernel's PID_MAX_LIMIT, so never a live process.
	const bogus = 1 << 23
	err := c.Add(bogus)
	want := "write " + filepath.Join(c.Paths()[0], "cgroup.procs") + ": ESRCH"
	if err == nil || err.Error() != want || !errors.Is(err, unix.ESRCH) {
		t.Fatalf("Add(%d) = %v; want %q wrapping ESRCH", bogus, err, want)
	}
}

// The pids limit holds for real: with pids.max=5, a process that tries to
// fork 20 children gets exactly 4 (itself plus 4 is 5) and 16 failures.
func TestPidsLimitEnforced(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{PidsMax: 5})
	// perl, not sh: a shell exits at its first failed fork, perl's fork
	// returns undef and the loop goes on to count every failure. At the
	// end it kills and reaps its children, so nothing is orphaned.
	script := `$| = 1; <STDIN>; my ($ok, $fail, @kids) = (0, 0);
for (1..20) { my $p = fork(); if (!defined $p) { $fail++ } elsif ($p == 0) { exec "sleep", "30"; exit 127 } else { $ok++; push @kids, $p } }
print "started=$ok failed=$fail\n"; <STDIN>; kill "KILL", @kids; waitpid($_, 0) for @kids;`
	perl := lookPath(t, "perl")
	p := startGated(t, c, perl, "-e", script)
	p.release(t)
	if got := p.readLine(t, 20*time.Second); got != "started=4 failed=16" {
		t.Errorf("perl says %q, want started=4 failed=16", got)
	}
	pidsDir, _ := c.dirOf("pids")
	if got := readTrim(t, filepath.Join(pidsDir, "pids.current")); got != "5" {
		t.Errorf("pids.current = %s, want 5", got)
	}
	if l.Version == V1 || fileExists(filepath.Join(pidsDir, "pids.events")) {
		ev := readTrim(t, filepath.Join(pidsDir, "pids.events"))
		if n, err := keyedValue(ev, "max"); err != nil || n != 16 {
			t.Errorf("pids.events: %q; want max 16", ev)
		}
	}
	if procs, err := c.Procs(); err != nil || len(procs) != 5 {
		t.Errorf("Procs() = %v, %v; want 5 pids", procs, err)
	}
	p.release(t)
	if st := p.wait(t, 10*time.Second); !st.Success() {
		t.Errorf("perl: %v", st)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed (Debian: perl-base, always installed): %v", name, err)
	}
	return p
}

// Kill empties a cgroup whose process keeps forking as fast as it can,
// within its bound, and the processes die of SIGKILL.
func TestKillEmpties(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{PidsMax: 20})
	perl := lookPath(t, "perl")
	p := startGated(t, c, perl, "-e", `<STDIN>; while (1) { my $p = fork(); if (defined $p && $p == 0) { exec "sleep", "30"; exit 127 } }`)
	p.release(t)
	// Let it fill the cgroup up to its limit.
	pidsDir, _ := c.dirOf("pids")
	waitFor(t, 10*time.Second, "pids.current to reach 20", func() bool {
		return readTrim(t, filepath.Join(pidsDir, "pids.current")) == "20"
	})
	start := time.Now()
	if err := c.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	t.Logf("Kill emptied 20 tasks of a forking cgroup in %v", time.Since(start))
	if procs, err := c.Procs(); err != nil || len(procs) != 0 {
		t.Fatalf("after Kill, Procs() = %v, %v", procs, err)
	}
	st := p.wait(t, 10*time.Second)
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("forker ended with %v, want killed by SIGKILL", st)
	}
	// Killing an empty cgroup is a no-op.
	if err := c.Kill(); err != nil {
		t.Errorf("second Kill: %v", err)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// After Kill, Remove takes every directory away, including the shared
// parent when this cgroup made it and nobody else uses it; a second
// Remove does nothing.
func TestRemove(t *testing.T) {
	l := hostLayout(t)
	parents := map[string]bool{}
	for _, h := range l.hierarchies() {
		parents[filepath.Join(h, Parent)] = fileExists(filepath.Join(h, Parent))
	}
	c, err := Create(l, testName(), Resources{PidsMax: 10})
	if err != nil {
		t.Fatal(err)
	}
	p := startGated(t, c, "sleep", "60")
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	if err := c.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, dir := range c.Paths() {
		if fileExists(dir) {
			t.Errorf("%s still exists", dir)
		}
	}
	for parent, existed := range parents {
		switch {
		case existed && !fileExists(parent):
			t.Errorf("%s existed before and was removed", parent)
		case !existed && fileExists(parent):
			if entries, _ := filepath.Glob(filepath.Join(parent, "*", "cgroup.procs")); len(entries) == 0 {
				t.Errorf("%s made by this cgroup and left behind empty", parent)
			}
		}
	}
	if err := c.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

// Remove of a cgroup that still holds a process gives up after its bound
// and says which pid is in the way.
func TestRemoveBusyIsBounded(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{})
	p := startGated(t, c, "sleep", "60")
	start := time.Now()
	err := c.Remove()
	took := time.Since(start)
	if err == nil || !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), strconv.Itoa(p.pid())) {
		t.Fatalf("Remove of a populated cgroup: %v; want EBUSY naming pid %d", err, p.pid())
	}
	if took < removeLeafTimeout || took > removeLeafTimeout+time.Second {
		t.Errorf("Remove gave up after %v, want about %v", took, removeLeafTimeout)
	}
	// The directories are still there, so the cleanup's Kill and Remove
	// can finish the job.
	for _, dir := range c.Paths() {
		if !fileExists(dir) {
			t.Errorf("%s gone after a failed Remove", dir)
		}
	}
}

// A cgroup left empty by a run that never cleaned up (its minispawn was
// SIGKILLed) is removed by the next Create, which says so, and the new one
// gets the new limits.
func TestCreateRemovesStaleEmpty(t *testing.T) {
	l := hostLayout(t)
	name := testName()
	old, err := Create(l, name, Resources{PidsMax: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Remove() })
	// old is now abandoned, as a SIGKILLed minispawn would leave it.

	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	c := create(t, l, name, Resources{PidsMax: 9})
	pids, _ := c.dirOf("pids")
	if got := readTrim(t, filepath.Join(pids, "pids.max")); got != "9" {
		t.Errorf("pids.max = %s, want 9 (the new limit)", got)
	}
	for _, dir := range c.Paths() {
		if !strings.Contains(logs.String(), "path="+dir) || !strings.Contains(logs.String(), "level=INFO") {
			t.Errorf("no info log about removing %s; logs:\n%s", dir, logs.String())
		}
	}
}

// A cgroup that holds processes makes Create fail, naming the container
// and the pids, and Create leaves it as it was.
func TestCreateRefusesRunning(t *testing.T) {
	l := hostLayout(t)
	name := testName()
	c := create(t, l, name, Resources{PidsMax: 11})
	p := startGated(t, c, "sleep", "60")

	again, err := Create(l, name, Resources{PidsMax: 99})
	if err == nil {
		again.Remove()
		t.Fatal("Create over a running container succeeded")
	}
	msg := err.Error()
	if !errors.Is(err, ErrRunning) || !strings.Contains(msg, "seems to be running") ||
		!strings.Contains(msg, strconv.Itoa(p.pid())) || !strings.Contains(msg, name) {
		t.Errorf("error %q: want ErrRunning naming %s and pid %d", msg, name, p.pid())
	}
	t.Logf("error: %v", err)
	if procs, err := c.Procs(); err != nil || !slices.Equal(procs, []int{p.pid()}) {
		t.Errorf("the running cgroup changed: Procs() = %v, %v", procs, err)
	}
	if r, err := c.Limits(); err != nil || r.PidsMax != 11 {
		t.Errorf("the running cgroup's limits changed: %+v, %v", r, err)
	}
}

// A Create that fails part-way (the kernel refuses a value, after other
// directories and writes are done) removes all it made, and says which
// write failed.
func TestCreateFailureUndoes(t *testing.T) {
	l := hostLayout(t)
	name := testName()
	parents := map[string]bool{}
	for _, h := range l.hierarchies() {
		parents[filepath.Join(h, Parent)] = fileExists(filepath.Join(h, Parent))
	}
	// More than the kernel's PID_MAX_LIMIT: valid to Validate, refused
	// by pids.max. By then every directory is made and the memory limits
	// are written.
	r := Resources{MemoryMax: 64 << 20, PidsMax: 1 << 40}
	plan := l.Plan(name, r)
	var failing Write
	for _, w := range plan.Writes {
		if filepath.Base(w.Path) == "pids.max" {
			failing = w
		}
	}
	c, err := Create(l, name, r)
	if err == nil {
		c.Remove()
		t.Fatal("Create with pids.max 2^40 succeeded")
	}
	want := "write " + failing.Path + ": EINVAL"
	if err.Error() != want || !errors.Is(err, unix.EINVAL) {
		t.Errorf("error %q, want %q wrapping EINVAL", err, want)
	}
	for _, dir := range plan.Paths {
		if fileExists(dir) {
			t.Errorf("%s left behind", dir)
		}
	}
	for parent, existed := range parents {
		if !existed && fileExists(parent) {
			if entries, _ := filepath.Glob(filepath.Join(parent, "*", "cgroup.procs")); len(entries) == 0 {
				t.Errorf("%s made by the failed Create and left behind", parent)
			}
		}
	}
}

// Invalid input fails before anything is touched.
func TestCreateRejectsBadInput(t *testing.T) {
	l := hostLayout(t)
	for _, tc := range []struct {
		name string
		r    Resources
	}{{"../escape", Resources{}}, {"tasks", Resources{}}, {testName(), Resources{PidsMax: -1}}} {
		if c, err := Create(l, tc.name, tc.r); err == nil {
			c.Remove()
			t.Errorf("Create(%q, %+v) succeeded", tc.name, tc.r)
		}
		for _, dir := range l.Plan(tc.name, tc.r).Paths {
			// ("tasks" exists, as the parent's control file.)
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				t.Errorf("%s made", dir)
			}
		}
	}
}

// An allocation past the memory limit is OOM-killed inside the cgroup,
// and OOMKills counts it.
func TestOOMKills(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{MemoryMax: 32 << 20})
	if n, err := c.OOMKills(); err != nil || n != 0 {
		t.Fatalf("OOMKills() before = %d, %v; want 0", n, err)
	}
	// tail keeps the last line of its input in memory, and /dev/zero has
	// no newline: it grows until the OOM killer stops it.
	p := startGated(t, c, "sh", "-c", "read x; exec tail /dev/zero")
	p.release(t)
	st := p.wait(t, 30*time.Second)
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("tail ended with %v, want killed by SIGKILL", st)
	}
	if n, err := c.OOMKills(); err != nil || n != 1 {
		t.Errorf("OOMKills() after = %d, %v; want 1", n, err)
	}
}

// FD is for CLONE_INTO_CGROUP, which needs v2: on v1 it is an error, on v2
// a directory descriptor.
func TestFD(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{})
	fd, err := c.FD()
	if l.Version == V1 {
		if err == nil {
			unix.Close(fd)
			t.Fatal("FD on v1 succeeded")
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("FD is not a directory: %v", err)
	}
}

// Processes the payload moved into cgroups of its own below the
// container's are still the container's: Procs lists them, Create refuses
// to replace them, Kill kills them and Remove removes those cgroups too.
func TestSubCgroups(t *testing.T) {
	l := hostLayout(t)
	name := testName()
	c := create(t, l, name, Resources{PidsMax: 10})
	top := startGated(t, c, "sleep", "60")
	nested := startGated(t, c, "sleep", "60")
	for _, dir := range c.Paths() {
		sub := filepath.Join(dir, "payload", "deeper")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(filepath.Join(sub, "cgroup.procs"), strconv.Itoa(nested.pid())); err != nil {
			t.Fatal(err)
		}
	}
	want := []int{top.pid(), nested.pid()}
	slices.Sort(want)
	if got, err := c.Procs(); err != nil || !slices.Equal(got, want) {
		t.Fatalf("Procs() = %v, %v; want %v", got, err, want)
	}
	_, err := Create(l, name, Resources{})
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), strconv.Itoa(nested.pid())) {
		t.Errorf("Create over a container with a nested process: %v; want ErrRunning naming pid %d", err, nested.pid())
	}
	if err := c.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	for _, p := range []*proc{top, nested} {
		if ws := p.wait(t, 10*time.Second).Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("pid %d: %v, want killed by SIGKILL", p.pid(), ws)
		}
	}
	if err := c.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, dir := range c.Paths() {
		if fileExists(dir) {
			t.Errorf("%s left", dir)
		}
	}
}

// This host cannot give cgroup v2 any controller, so limits on v2 are not
// testable here. Everything else of v2 is: on the first cgroup2 mount (on
// this hybrid host, the one without controllers), make the directories the v2 plan makes and check FD
// with CLONE_INTO_CGROUP, Add, Procs, Kill through cgroup.kill and
// cgroup.events, OOMKills' error, and Remove.
func TestV2WithoutControllers(t *testing.T) {
	hostLayout(t) // root gate
	v2 := cgroup2Mount(t)
	lv2 := V2Layout(v2)
	name := testName()
	plan := lv2.Plan(name, Resources{})
	c := &Cgroup{layout: lv2, name: name, paths: plan.Paths, parents: map[string]bool{}}
	if err := c.makeDirs(plan); err != nil {
		t.Fatal(c.undo(err))
	}
	t.Cleanup(func() {
		c.Kill()
		if err := c.Remove(); err != nil {
			t.Errorf("cleanup Remove: %v", err)
		}
	})

	// CLONE_INTO_CGROUP: the child starts inside, never outside.
	fd, err := c.FD()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cloned := exec.CommandContext(ctx, "sleep", "60")
	cloned.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	err = cloned.Start()
	unix.Close(fd)
	if err != nil {
		t.Fatalf("start with CLONE_INTO_CGROUP: %v", err)
	}
	clonedDone := make(chan struct{})
	go func() { cloned.Wait(); close(clonedDone) }()
	t.Cleanup(func() { cancel(); <-clonedDone })
	if got := cgroupOf(t, cloned.Process.Pid, ""); got != "/"+Parent+"/"+name {
		t.Errorf("cloned child's v2 cgroup: %s", got)
	}

	added := startGated(t, c, "sleep", "60")
	want := []int{cloned.Process.Pid, added.pid()}
	slices.Sort(want)
	if got, err := c.Procs(); err != nil || !slices.Equal(got, want) {
		t.Fatalf("Procs() = %v, %v; want %v", got, err, want)
	}
	// On the hybrid host this cgroup2 has no memory controller, so there
	// is no memory.events to read; on a v2 host whose root delegates
	// memory (the VM tier), the counter is there and still 0.
	delegated := slices.Contains(strings.Fields(readTrim(t, filepath.Join(v2, "cgroup.subtree_control"))), "memory")
	if n, err := c.OOMKills(); delegated && (err != nil || n != 0) {
		t.Errorf("OOMKills with memory delegated = %d, %v; want 0", n, err)
	} else if !delegated && err == nil {
		t.Error("OOMKills without a memory controller succeeded")
	}
	if err := c.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if got := readTrim(t, filepath.Join(c.Paths()[0], "cgroup.events")); !strings.Contains(got, "populated 0") {
		t.Errorf("cgroup.events after Kill: %q", got)
	}
	if ws := added.wait(t, 10*time.Second).Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("added process: %v, want killed by SIGKILL", ws)
	}
	select {
	case <-clonedDone:
		if ws := cloned.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("cloned process: %v, want killed by SIGKILL", ws)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cloned process not reaped 10s after Kill")
	}
	if err := c.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if fileExists(c.Paths()[0]) {
		t.Errorf("%s left", c.Paths()[0])
	}
}

// cgroup2Mount returns the first cgroup2 mount point.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	text := readTrim(t, "/proc/self/mountinfo")
	mounts, err := parseMountinfo(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			return m.MountPoint
		}
	}
	t.Fatal("no cgroup2 mount")
	return ""
}

// Containers come and go at the same time: each Create/Remove pair races
// the others on the shared parent (one Remove takes the parent away while
// another Create is between its two mkdirs). All must succeed and leave
// nothing of theirs behind. The layout is rooted in a fresh cgroup, so the
// shared parent does not exist at the start whatever the host holds.
func TestConcurrentContainersShareParent(t *testing.T) {
	l := isolatedLayout(t, hostLayout(t))
	const workers, rounds = 6, 40
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < rounds; i++ {
				name := testName()
				c, err := Create(l, name, Resources{PidsMax: 8})
				if err != nil {
					errs <- fmt.Errorf("Create %s: %w", name, err)
					return
				}
				if err := c.Remove(); err != nil {
					errs <- fmt.Errorf("Remove %s: %w", name, err)
					return
				}
				for _, dir := range c.Paths() {
					if fileExists(dir) {
						errs <- fmt.Errorf("%s left behind", dir)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("workers did not finish within 60s")
		}
	}
}

// isolatedLayout is l re-rooted in a fresh cgroup per hierarchy, so that
// Parent starts absent. Cleanup removes it (and a Parent left in it).
func isolatedLayout(t *testing.T, l *Layout) *Layout {
	t.Helper()
	base := testName()
	mounts := map[string]string{}
	for c, h := range l.Mounts {
		mounts[c] = filepath.Join(h, base)
	}
	for _, h := range l.hierarchies() {
		if l.Version == V2 {
			// The new root gets the controllers only if the real one
			// delegates them, as every Create makes it do.
			if err := writeFile(filepath.Join(h, "cgroup.subtree_control"), subtreeControl(l.controllersAt(h))); err != nil {
				t.Fatal(err)
			}
		}
		dir := filepath.Join(h, base)
		if err := mkdir(dir); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, d := range []string{filepath.Join(dir, Parent), dir} {
				if err := rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
					t.Errorf("cleanup: %v", err)
				}
			}
		})
		if l.Version == V1 && l.Mounts["cpuset"] == h {
			// A v1 cpuset starts empty: give the new root what the
			// real root has, as a host's own cgroups would.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if err := inherit(filepath.Join(dir, f), filepath.Join(h, f)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return &Layout{Version: l.Version, Mounts: mounts}
}

// BenchmarkCreateRemove measures a container cgroup's set-up and
// tear-down with limits, on this host.
func BenchmarkCreateRemove(b *testing.B) {
	roottest.Require(b)
	l, err := Detect()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := Create(l, testName(), Resources{MemoryMax: 64 << 20, PidsMax: 64})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Remove(); err != nil {
			b.Fatal(err)
		}
	}
}
