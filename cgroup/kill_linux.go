package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// killTimeout bounds Kill.
const killTimeout = 5 * time.Second

// Kill sends SIGKILL to every process in the cgroup until it is empty, or
// fails after about 5s naming the pids that are left.
//
// On v2 it first writes cgroup.kill (Linux 5.14+), which kills the whole
// subtree in the kernel, forks in flight included. Then, and on v1, it
// loops: read cgroup.procs, SIGKILL what is listed, until nothing is. A
// process that forks between two rounds is caught by the next one; the
// pids limit bounds how many there can be. On v2 "empty" also means
// cgroup.events says "populated 0", which covers sub-cgroups the payload
// may have made.
//
// A cgroup that Remove already took away is empty, so Kill after Remove
// succeeds. Kill refuses to signal the calling process or PID 1, should
// either be in the cgroup. It does not wait for (reap) the processes: that
// stays with whoever is their parent.
func (c *Cgroup) Kill() error {
	if c.layout.Version == V2 && len(c.paths) > 0 {
		err := writeFile(filepath.Join(c.paths[0], "cgroup.kill"), "1")
		// ENOENT: a kernel older than 5.14, or the cgroup is gone; the
		// loop tells which.
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	deadline := time.Now().Add(killTimeout)
	delay := time.Millisecond
	for {
		pids, populated, err := c.occupants()
		if err != nil {
			return err
		}
		if !populated {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kill cgroup of container %q: pids %s still there after %v",
				c.name, joinPids(pids), killTimeout)
		}
		if err := c.killRound(pids); err != nil {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// occupants returns the sorted pids in the cgroup and every cgroup below
// it, in all hierarchies, and whether anything is inside at all. On v2
// cgroup.events "populated" also counts what cgroup.procs cannot show (a
// task that is not visible in the caller's PID namespace). A cgroup that
// is gone holds nothing: rmdir only succeeds on an empty cgroup.
func (c *Cgroup) occupants() ([]int, bool, error) {
	var all []int
	populated := false
	for _, leaf := range c.paths {
		pids, err := pidsUnder(leaf)
		if err != nil {
			return nil, false, err
		}
		all = append(all, pids...)
		if c.layout.Version == V2 {
			p := filepath.Join(leaf, "cgroup.events")
			text, err := readFile(p)
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			if err != nil {
				return nil, false, err
			}
			n, err := keyedValue(text, "populated")
			if err != nil {
				return nil, false, &Error{Step: "parse", Path: p, Err: err}
			}
			populated = populated || n != 0
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	return all, populated || len(all) > 0, nil
}

// killRound SIGKILLs pids, read from cgroup.procs a moment ago.
//
// A pid read from cgroup.procs may exit and be reused by an unrelated
// process before kill(2). So each pid is first pinned with a pidfd, then
// cgroup.procs is read again: a pinned pid still listed is a process in
// the cgroup (the one pinned, or one that got its pid and was born inside,
// which is equally ours to kill), and only those are signalled.
func (c *Cgroup) killRound(pids []int) error {
	self := os.Getpid()
	for _, pid := range pids {
		if pid == self || pid == 1 {
			return fmt.Errorf("kill cgroup of container %q: refusing, it holds pid %d (this process or init)", c.name, pid)
		}
	}
	fds := make(map[int]int, len(pids))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		switch {
		case err == nil:
			fds[pid] = fd
		case errors.Is(err, unix.ESRCH):
			// Gone already.
		case errors.Is(err, unix.ENOSYS):
			// Before Linux 5.3: no pidfds; plain kill, small race.
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				return &Error{Step: "kill", Path: fmt.Sprintf("pid %d", pid), Err: err}
			}
		default:
			return &Error{Step: "pidfd_open", Path: fmt.Sprintf("pid %d", pid), Err: err}
		}
	}
	still, _, err := c.occupants()
	if err != nil {
		return err
	}
	for pid, fd := range fds {
		if !slices.Contains(still, pid) {
			continue
		}
		if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return &Error{Step: "pidfd_send_signal SIGKILL", Path: fmt.Sprintf("pid %d", pid), Err: err}
		}
	}
	return nil
}
