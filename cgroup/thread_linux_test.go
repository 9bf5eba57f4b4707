package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEnterThreadBornInside: a process forked by a thread inside the
// cgroup (EnterThread) is in the cgroup in every hierarchy from its first
// instruction, and after leave no thread of this process is left there and
// the thread is back where it was, with its CPU affinity.
func TestEnterThreadBornInside(t *testing.T) {
	l := hostLayout(t)
	c := create(t, l, testName(), Resources{})
	rescue(t, c)
	if l.Version != V1 {
		if _, err := c.EnterThread(); !errors.Is(err, ErrNotV1) {
			t.Fatalf("EnterThread on %v: %v, want ErrNotV1", l.Version, err)
		}
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		t.Fatal(err)
	}

	leave, err := c.EnterThread()
	if err != nil {
		t.Fatalf("EnterThread: %v", err)
	}
	inside, _ := os.ReadFile("/proc/thread-self/cgroup")
	// sleep 60 is killed by the cleanup of create (Kill) and reaped here.
	pid, ferr := syscall.ForkExec("/bin/sleep", []string{"sleep", "60"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err := leave(); err != nil {
		t.Errorf("leave: %v", err)
	}
	if ferr != nil {
		t.Fatalf("fork inside: %v", ferr)
	}
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	})

	own := mustParse(t, string(inside))
	child := mustParse(t, readString(t, "/proc/"+strconv.Itoa(pid)+"/cgroup"))
	for _, leaf := range c.Paths() {
		mount := filepath.Dir(filepath.Dir(leaf))
		ctrl := l.controllersAt(mount)[0]
		want := "/" + Parent + "/" + c.Name()
		if p, _ := pathOf(own, ctrl); p != want {
			t.Errorf("%s: the thread was in %q while inside, want %q", ctrl, p, want)
		}
		if p, _ := pathOf(child, ctrl); p != want {
			t.Errorf("%s: the child is in %q, want %q", ctrl, p, want)
		}
		tids, err := parsePids(readString(t, filepath.Join(leaf, "tasks")))
		if err != nil {
			t.Fatal(err)
		}
		for _, tid := range tids {
			if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); err == nil {
				t.Errorf("%s: thread %d of the test process is still in the cgroup", ctrl, tid)
			}
		}
	}
	if procs, err := c.Procs(); err != nil || !slices.Equal(procs, []int{pid}) {
		t.Errorf("Procs = %v, %v; want only the child %d", procs, err, pid)
	}
	if after := readString(t, "/proc/thread-self/cgroup"); after != string(before) {
		t.Errorf("after leave the thread is in\n%s\nwant\n%s", after, before)
	}
	var now unix.CPUSet
	if err := unix.SchedGetaffinity(0, &now); err != nil || now != cpus {
		t.Errorf("CPU affinity after leave: %v (%v), want as before", now, err)
	}
}

// TestEnterThreadEvictsRuntimeThreads: a thread the Go runtime starts from
// the thread while it is inside is born in the cgroup; leave moves it back
// out. The runtime does not start one on demand, so another thread of the
// test is put in the cgroup the way such a birth would leave it.
func TestEnterThreadEvictsRuntimeThreads(t *testing.T) {
	l := hostLayout(t)
	if l.Version != V1 {
		// v2 has no thread step-in to evict from: the container's first
		// process is cloned into its cgroup directly (CLONE_INTO_CGROUP),
		// which TestV2* and minispawn's limits tests cover.
		t.Log("cgroup v2: nothing to evict (the clone goes into the cgroup)")
		return
	}
	c := create(t, l, testName(), Resources{})
	rescue(t, c)
	tid := make(chan int)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		runtime.LockOSThread() // a thread of its own until stop
		tid <- unix.Gettid()
		<-stop
	}()
	other := <-tid

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	leave, err := c.EnterThread()
	if err != nil {
		t.Fatal(err)
	}
	for _, leaf := range c.Paths() {
		if err := writeFile(filepath.Join(leaf, "tasks"), strconv.Itoa(other)); err != nil {
			t.Fatal(err)
		}
	}
	if err := leave(); err != nil {
		t.Errorf("leave: %v", err)
	}
	for _, leaf := range c.Paths() {
		tids, err := parsePids(readString(t, filepath.Join(leaf, "tasks")))
		if err != nil {
			t.Fatal(err)
		}
		if len(tids) != 0 {
			t.Errorf("%s still holds threads %v (the other test thread is %d, this one %d)", leaf, tids, other, unix.Gettid())
		}
	}
}

// rescue moves every thread of the test process out of c before the
// cleanup of create kills what c holds: should leave fail, that would be
// the test process itself.
func rescue(t *testing.T, c *Cgroup) {
	t.Helper()
	home := mustParse(t, readString(t, "/proc/self/cgroup"))
	t.Cleanup(func() {
		for _, leaf := range c.Paths() {
			mount := filepath.Dir(filepath.Dir(leaf))
			p, _ := pathOf(home, c.layout.controllersAt(mount)[0])
			b, _ := os.ReadFile(filepath.Join(leaf, "tasks"))
			tids, _ := parsePids(string(b))
			for _, tid := range tids {
				if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); err == nil {
					t.Errorf("rescuing thread %d from %s", tid, leaf)
					writeFile(filepath.Join(mount, p, "tasks"), strconv.Itoa(tid))
				}
			}
		}
	})
}

func mustParse(t *testing.T, text string) []threadCgroup {
	t.Helper()
	cgs, err := parseThreadCgroups(text)
	if err != nil {
		t.Fatal(err)
	}
	return cgs
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
