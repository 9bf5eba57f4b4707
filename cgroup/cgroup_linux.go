package cgroup

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroup is one container's cgroup, made by Create. Its methods are safe
// for concurrent use.
type Cgroup struct {
	layout *Layout
	name   string
	paths  []string // the leaves, one per hierarchy (Plan.Paths)

	mu sync.Mutex
	// pending are the leaves and made parents Remove has yet to take away,
	// leaves first. Remove drops what it removed, so a second call never
	// touches a directory that a later Create (of the same name) made.
	pending []string
	// parents are the shared parents this Create made; Remove tries them
	// once and leaves them to whoever still uses them.
	parents map[string]bool
}

// Create makes the cgroup of container name with limits r, following
// l.Plan(name, r) to the letter, and returns it. Processes join it with
// Add.
//
// A cgroup of that name left over by an earlier run is handled first: if it
// is empty (its minispawn was SIGKILLed before it could clean up), Create
// removes it and logs that with slog.Info; if it holds processes, Create
// fails with an error wrapping ErrRunning that lists their pids. On any
// failure Create removes what it made, so nothing is left behind.
func Create(l *Layout, name string, r Resources) (*Cgroup, error) {
	// 1. Check the inputs: nothing has been touched yet.
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	p := l.Plan(name, r)

	// 2. Look at every leftover before removing any, so that a running
	// container is refused with all of its directories intact.
	stale, err := leftovers(name, p.Paths)
	if err != nil {
		return nil, err
	}

	// 3. Remove the empty leftovers, so that the new cgroup starts from
	// the kernel's defaults and not from the old run's settings.
	for _, dir := range stale {
		slog.Info("removing stale empty cgroup left by an earlier run", "container", name, "path", dir)
		if err := removeLeaf(dir, time.Now().Add(removeLeafTimeout)); err != nil {
			return nil, fmt.Errorf("remove stale cgroup of container %q: %w", name, err)
		}
	}

	// 4. Make the directories, then write the limits. Limits go in
	// before any process can join, so nothing ever runs unlimited.
	c := &Cgroup{layout: l, name: name, paths: p.Paths, parents: map[string]bool{}}
	if err := c.makeDirs(p); err != nil {
		return nil, c.undo(err)
	}
	for _, w := range p.Writes {
		if err := writeFile(w.Path, w.Value); err != nil {
			return nil, c.undo(err)
		}
	}
	return c, nil
}

// leftovers returns the existing leaves among paths, all of them empty, or
// an error wrapping ErrRunning when any holds processes.
func leftovers(name string, paths []string) ([]string, error) {
	var stale, busy []string
	var pids []int
	for _, dir := range paths {
		ok, err := exists(dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		in, err := pidsUnder(dir)
		if err != nil {
			return nil, err
		}
		if len(in) > 0 {
			busy = append(busy, dir)
			pids = append(pids, in...)
			continue
		}
		stale = append(stale, dir)
	}
	if len(busy) > 0 {
		slices.Sort(pids)
		return nil, fmt.Errorf("%w: container %q seems to be running: pids %s in %s",
			ErrRunning, name, joinPids(slices.Compact(pids)), strings.Join(busy, ", "))
	}
	return stale, nil
}

// makeDirs makes p.Dirs in order. A leaf must be new; a shared parent may
// exist already.
func (c *Cgroup) makeDirs(p Plan) error {
	for _, dir := range p.Dirs {
		if !slices.Contains(p.Paths, dir) {
			if err := c.makeParent(dir); err != nil {
				return err
			}
			continue
		}
		err := mkdir(dir)
		// ENOENT: a concurrent Remove of the last other container took
		// the shared parent away between our two mkdirs. Make it again.
		for try := 0; errors.Is(err, unix.ENOENT) && try < 3 && slices.Contains(p.Dirs, filepath.Dir(dir)); try++ {
			if perr := c.makeParent(filepath.Dir(dir)); perr != nil {
				return perr
			}
			err = mkdir(dir)
		}
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%w: container %q is being created by someone else: %w", ErrRunning, c.name, err)
		}
		if err != nil {
			return err
		}
		c.pending = append([]string{dir}, c.pending...)
	}
	return nil
}

func (c *Cgroup) makeParent(dir string) error {
	err := mkdir(dir)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return err
	}
	c.parents[dir] = true
	c.pending = append(c.pending, dir)
	return nil
}

// undo removes what Create made so far and returns err with any failure
// of that removal joined to it.
func (c *Cgroup) undo(err error) error {
	if rerr := c.Remove(); rerr != nil {
		return errors.Join(err, fmt.Errorf("undo: %w", rerr))
	}
	return err
}

// Name returns the container name.
func (c *Cgroup) Name() string { return c.name }

// Layout returns the layout the cgroup was made in.
func (c *Cgroup) Layout() *Layout { return c.layout }

// Paths returns the cgroup's directories, one per hierarchy used.
func (c *Cgroup) Paths() []string { return slices.Clone(c.paths) }

// Add moves process pid (and on v1 all its threads) into the cgroup, in
// every hierarchy. It stops at the first failure.
func (c *Cgroup) Add(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("cgroup add: invalid pid %d", pid)
	}
	for _, dir := range c.paths {
		if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Procs returns the sorted pids of the processes in the cgroup and in any
// cgroup the payload made below it, as seen from the caller's PID
// namespace: the union over all hierarchies (on v1 a process can sit in
// one and not yet in another). A removed cgroup has none.
func (c *Cgroup) Procs() ([]int, error) {
	pids, _, err := c.occupants()
	return pids, err
}

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
