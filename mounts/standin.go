package mounts

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Missing is what a plan lacks in a root directory that must not be
// written to: the targets Apply would have to create there, and the
// directories that need a stand-in to hold them (see StandIn).
type Missing struct {
	// Targets are the steps' targets that do not exist in the root and
	// are not below an earlier step's target (which would hold them).
	Targets []string
	// Dirs are, for each of Targets, its deepest ancestor that exists in
	// the root: the directories whose stand-ins hold the targets. They
	// are sorted shallowest first, the order in which they are stood in
	// for (a stand-in for / binds /etc into it, which /etc's stand-in
	// then covers).
	Dirs []string
}

// Empty reports whether nothing is missing.
func (m Missing) Empty() bool { return len(m.Targets) == 0 }

// Lookup answers questions about paths inside a root, as Apply resolves
// them (symlinks resolved inside the root).
type Lookup interface {
	// Exists reports whether p exists, its final component not followed.
	Exists(p string) (bool, error)
	// IsDir reports whether p leads to a directory, following symlinks.
	IsDir(p string) (bool, error)
}

// FindMissing works out what plan would create in a root, without
// touching it. A step creates its target unless that
// target is an earlier step's target or below one: /dev/null is made on
// /dev's tmpfs, not in the root. Masks and read-only steps skip a missing
// target, so they never create one.
func FindMissing(plan []Mount, root Lookup) (Missing, error) {
	var miss Missing
	var made []string
	seen := map[string]bool{}
	for _, m := range plan {
		if m.Kind == KindMask || m.Kind == KindReadOnly {
			continue
		}
		t := m.Target
		if !below(t, made) {
			ok, err := root.Exists(t)
			if err != nil {
				return Missing{}, fmt.Errorf("look up mount target %s in the root: %w", t, err)
			}
			if !ok {
				miss.Targets = append(miss.Targets, t)
				d, err := deepestDir(path.Dir(t), root)
				if err != nil {
					return Missing{}, err
				}
				if !seen[d] {
					seen[d] = true
					miss.Dirs = append(miss.Dirs, d)
				}
			}
		}
		made = append(made, t)
	}
	sort.SliceStable(miss.Dirs, func(i, j int) bool { return depth(miss.Dirs[i]) < depth(miss.Dirs[j]) })
	return miss, nil
}

// below reports whether p is one of dirs or inside one of them.
func below(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// deepestDir is the deepest of d and its ancestors that is a directory in
// the root. A dangling symlink on the way is not one: the stand-in goes
// above it, and Apply then reports the symlink.
func deepestDir(d string, root Lookup) (string, error) {
	for d != "/" {
		ok, err := root.IsDir(d)
		if err != nil {
			return "", fmt.Errorf("look up %s in the root: %w", d, err)
		}
		if ok {
			break
		}
		d = path.Dir(d)
	}
	return d, nil
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}
