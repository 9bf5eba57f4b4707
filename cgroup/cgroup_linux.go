package cgroup

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
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

// Name returns the container name.
func (c *Cgroup) Name() string { return c.name }

// Layout returns the layout the cgroup was made in.
func (c *Cgroup) Layout() *Layout { return c.layout }

// Paths returns the cgroup's directories, one per hierarchy used.
func (c *Cgroup) Paths() []string { return slices.Clone(c.paths) }

// Add moves process pid, with all its threads, into the cgroup in every
// hierarchy. It stops at the first failure.
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

// dirOf returns the cgroup directory in the hierarchy of controller.
func (c *Cgroup) dirOf(controller string) (string, bool) {
	mount, ok := c.layout.Mounts[controller]
	if !ok {
		return "", false
	}
	return filepath.Join(mount, Parent, c.name), true
}
