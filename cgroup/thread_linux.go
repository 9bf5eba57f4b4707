package cgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrNotV1 is what EnterThread returns on cgroup v2, which has
// CLONE_INTO_CGROUP (FD) for the same purpose.
var ErrNotV1 = errors.New("cgroup: a thread steps into a cgroup only on v1 (v2 clones into it)")

// EnterThread moves the calling OS thread, and only that thread, into the
// cgroup in every hierarchy, and returns leave, which moves it back to
// where it was. A process the thread forks in between is born in the
// cgroup: this is v1's counterpart of cloning into a cgroup on v2, and it
// replaces Add(pid) after the fork.
//
// Why: Add moves a whole process (cgroup.procs), for which the kernel takes
// its thread-group lock for writing, and that waits for an RCU grace
// period: 6 to 20 ms on a 2-core VM (Linux 6.18), the largest single cost
// of starting a container there. Writing "0" to a v1 "tasks" file moves
// only the writing thread, which the kernel does without that lock: about
// 0.2 ms for the first hierarchy and 0.02 ms for the next.
//
// The caller must hold its OS thread (runtime.LockOSThread) from before
// EnterThread until leave has returned, and fork nothing but the one
// process in between. While inside, the thread counts as one task of the
// cgroup (pids), runs on its CPUs (cpuset) and under its CPU quota.
//
// leave also undoes what Go's runtime might have done meanwhile: a thread
// it started from this one (the runtime starts one whenever it needs, from
// whichever thread it is on) was born in the cgroup too, and is moved back
// by its id. And the thread's CPU affinity, which the cpuset controller
// sets on a move, is put back as it was. On failure EnterThread has moved
// the thread back already.
func (c *Cgroup) EnterThread() (leave func() error, err error) {
	if c.layout.Version != V1 {
		return nil, ErrNotV1
	}
	text, err := readFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	own, err := parseThreadCgroups(text)
	if err != nil {
		return nil, err
	}
	// Where the thread is now, in each hierarchy of the cgroup: checked
	// before the first move, so that a failure here moves nothing.
	home := make([]string, len(c.paths))
	for i, leaf := range c.paths {
		mount := filepath.Dir(filepath.Dir(leaf))
		if filepath.Join(mount, Parent, c.name) != leaf {
			return nil, fmt.Errorf("cgroup: %s is not %s/%s/NAME", leaf, mount, Parent)
		}
		cs := c.layout.controllersAt(mount)
		if len(cs) == 0 {
			return nil, fmt.Errorf("cgroup: no controller of %s in the layout", mount)
		}
		p, ok := pathOf(own, cs[0])
		if !ok {
			return nil, fmt.Errorf("cgroup: /proc/thread-self/cgroup names no %s hierarchy", cs[0])
		}
		home[i] = filepath.Join(mount, p, "tasks")
		if ok, err := exists(home[i]); err != nil || !ok {
			return nil, fmt.Errorf("cgroup: this thread's %s cgroup (%s) is out of reach", cs[0], home[i])
		}
	}
	var cpus unix.CPUSet
	cpusErr := unix.SchedGetaffinity(0, &cpus)

	moved := 0
	back := func() error {
		var errs []error
		for i := moved - 1; i >= 0; i-- {
			if err := writeFile(home[i], "0"); err != nil {
				errs = append(errs, err)
			}
		}
		if cpusErr == nil {
			var now unix.CPUSet
			if unix.SchedGetaffinity(0, &now) == nil && now != cpus {
				if err := unix.SchedSetaffinity(0, &cpus); err != nil {
					errs = append(errs, fmt.Errorf("cgroup: restore CPU affinity: %w", err))
				}
			}
		}
		return errors.Join(errs...)
	}
	for _, leaf := range c.paths {
		if err := writeFile(filepath.Join(leaf, "tasks"), "0"); err != nil {
			return nil, errors.Join(err, back())
		}
		moved++
	}
	return func() error {
		return errors.Join(back(), c.evictOwnThreads(home))
	}, nil
}

// evictOwnThreads moves any thread of this process still in the cgroup
// back to home (one tasks file per hierarchy, in c.paths order).
func (c *Cgroup) evictOwnThreads(home []string) error {
	var errs []error
	for i, leaf := range c.paths {
		text, err := readFile(filepath.Join(leaf, "tasks"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tids, err := parsePids(text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, tid := range tids {
			if ok, _ := exists("/proc/self/task/" + strconv.Itoa(tid)); !ok {
				continue // the child's, or gone
			}
			if err := writeFile(home[i], strconv.Itoa(tid)); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
