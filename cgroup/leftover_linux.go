package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Names returns the names of the container cgroups under Parent in any of
// l's hierarchies, sorted: running containers and leftovers alike.
func Names(l *Layout) ([]string, error) {
	seen := map[string]bool{}
	for _, h := range l.hierarchies() {
		dir := filepath.Join(h, Parent)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, &Error{Step: "readdir", Path: dir, Err: unwrapPathError(err)}
		}
		for _, e := range entries {
			if e.IsDir() && ValidName(e.Name()) == nil {
				seen[e.Name()] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// RemoveLeftover removes the cgroup directories of container name, in
// every hierarchy, when none of them holds a process, and returns those it
// removed. When any holds one it removes nothing and returns an error
// wrapping ErrRunning.
//
// The caller must know that no one creates or fills that container's
// cgroup meanwhile: minispawn holds the container's name lock.
func RemoveLeftover(l *Layout, name string) ([]string, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	stale, err := leftovers(name, l.Plan(name, Resources{}).Paths)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(removeLeafTimeout)
	var removed []string
	for _, dir := range stale {
		if err := removeLeaf(dir, deadline); err != nil && !errors.Is(err, unix.ENOENT) {
			return removed, err
		}
		removed = append(removed, dir)
	}
	return removed, nil
}
