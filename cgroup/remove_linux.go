package cgroup

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Remove removes the cgroup's directories, leaves first, then the shared
// parent if this Cgroup made it and no other container uses it. A leaf that
// is busy (its last processes are still exiting) is retried for up to
// about 2s. Remove is idempotent: a second call does nothing.
func (c *Cgroup) Remove() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	var left []string
	// One deadline for all leaves: the processes exit in parallel.
	deadline := time.Now().Add(removeLeafTimeout)
	for _, dir := range c.pending {
		var err error
		if c.parents[dir] {
			err = rmdir(dir)
			// Busy means another container lives there now: it is
			// theirs to keep.
			if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.ENOTEMPTY) {
				err = nil
			}
		} else {
			err = removeLeaf(dir, deadline)
		}
		if errors.Is(err, unix.ENOENT) {
			err = nil
		}
		if err != nil {
			errs = append(errs, err)
			left = append(left, dir)
		}
	}
	c.pending = left
	return errors.Join(errs...)
}

// removeLeafTimeout bounds how long Remove waits for busy cgroups.
const removeLeafTimeout = 2 * time.Second

// removeLeaf removes a container cgroup and any cgroups the payload made
// below it, deepest first. rmdir fails with EBUSY while a killed process is
// still exiting, so each rmdir is retried until deadline; then the error
// says which pids are still there.
func removeLeaf(dir string, deadline time.Time) error {
	dirs, err := subtree(dir)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return &Error{Step: "rmdir", Path: dir, Err: unix.ENOENT}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := rmdirRetry(dirs[i], deadline); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return nil
}

func rmdirRetry(dir string, deadline time.Time) error {
	delay := time.Millisecond
	for {
		err := rmdir(dir)
		if !errors.Is(err, unix.EBUSY) {
			return err
		}
		if time.Now().After(deadline) {
			if pids, perr := readPids(dir); perr == nil && len(pids) > 0 {
				return fmt.Errorf("%w (still holds pids %s after %v)", err, joinPids(pids), removeLeafTimeout)
			}
			return fmt.Errorf("%w (after %v)", err, removeLeafTimeout)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}
