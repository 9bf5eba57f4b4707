package cgroup

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

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
	if err := l.Check(r); err != nil {
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
		if err := apply(w); err != nil {
			return nil, c.undo(err)
		}
	}
	return c, nil
}

// apply does one write of a plan. A failed write of a file that some
// kernels lack says so, next to the path and errno.
func apply(w Write) error {
	if w.From != "" {
		return inherit(w.Path, w.From)
	}
	err := writeFile(w.Path, w.Value)
	if errors.Is(err, unix.ENOENT) {
		if k, ok := knobOfFile(filepath.Base(w.Path)); ok && k.optional {
			return fmt.Errorf("%w (this kernel lacks the file, so it cannot apply %s)", err, k.limitName())
		}
	}
	return err
}

// inherit copies the content of from to path, when path is empty.
func inherit(path, from string) error {
	cur, err := readFile(path)
	if err != nil {
		return err
	}
	if strings.TrimSpace(cur) != "" {
		return nil
	}
	v, err := readFile(from)
	if err != nil {
		return err
	}
	if strings.TrimSpace(v) == "" {
		// Copying nothing would leave a cgroup no task can join, and
		// the failure would only show later, as ENOSPC on cgroup.procs.
		return fmt.Errorf("inherit %s from %s: that is empty too", path, from)
	}
	return writeFile(path, strings.TrimSpace(v))
}

// knobOfFile returns the row that writes file, on either version.
func knobOfFile(file string) (knob, bool) {
	for _, k := range knobs {
		if k.file[V1] == file || k.file[V2] == file {
			return k, true
		}
	}
	return knob{}, false
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
