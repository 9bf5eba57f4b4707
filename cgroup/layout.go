package cgroup

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Version is the cgroup hierarchy flavour a Layout uses.
type Version int

// The two hierarchy versions.
const (
	// V1 is the legacy layout: one mount per controller (or per group of
	// co-mounted controllers), each with its own tree of cgroups.
	V1 Version = 1
	// V2 is the unified layout: one tree, controllers enabled per level
	// through cgroup.subtree_control.
	V2 Version = 2
)

func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// Layout says which hierarchy holds each controller minispawn uses.
//
// Build one with Detect (the running system), or with V1Layout or V2Layout
// (a known system, for plans and tests).
type Layout struct {
	// Version is the hierarchy flavour.
	Version Version
	// Mounts maps every controller the host offers, of those minispawn
	// uses, to the mount point of the hierarchy that holds it. Keys are
	// v2 names ("io" for v1's blkio). On V2 all of them map to the one
	// cgroup2 mount. The Required ones are always there; a limit on one
	// that is missing fails at Check.
	Mounts map[string]string
}

// Parent is the cgroup, below each hierarchy root, that holds every
// container's cgroup.
const Parent = "minispawn"

// Required are the controllers without which no container runs: every
// container gets a memory and a pids limit's accounting, and a fork bomb
// or a leak must stay inside. The others of Controllers are used when the
// host offers them.
var Required = []string{"memory", "pids"}

// Controllers returns the controllers minispawn uses, by their v2 names,
// in the order plans visit them. It follows the knobs table: a new row
// with a new controller makes that controller used.
func Controllers() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range knobs {
		if !seen[k.controller] {
			seen[k.controller] = true
			out = append(out, k.controller)
		}
	}
	return out
}

// V1Layout returns a V1 layout with the given controller -> mount point
// map. It copies the map.
func V1Layout(mounts map[string]string) *Layout {
	m := make(map[string]string, len(mounts))
	for c, p := range mounts {
		m[c] = filepath.Clean(p)
	}
	return &Layout{Version: V1, Mounts: m}
}

// V2Layout returns a V2 layout whose cgroup2 mount is root, offering the
// given controllers; all of Controllers when none are given.
func V2Layout(root string, controllers ...string) *Layout {
	root = filepath.Clean(root)
	if len(controllers) == 0 {
		controllers = Controllers()
	}
	m := map[string]string{}
	for _, c := range controllers {
		m[c] = root
	}
	return &Layout{Version: V2, Mounts: m}
}

// controllerName is how version ver names controller c (a v2 name).
func controllerName(ver Version, c string) string {
	if ver == V1 && c == "io" {
		return "blkio"
	}
	return c
}

// describeRoot says where the layout's controllers come from, for
// messages: "cgroup v2 at /sys/fs/cgroup" or "cgroup v1 mounts".
func (l *Layout) describeRoot() string {
	if l.Version == V2 {
		if hs := l.hierarchies(); len(hs) > 0 {
			return "cgroup v2 at " + hs[0]
		}
	}
	return "cgroup " + l.Version.String() + " mounts"
}

// hierarchies returns the distinct mount points the layout uses, in
// Controllers order: one on V2, one per (group of co-mounted) controllers
// on V1.
func (l *Layout) hierarchies() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range Controllers() {
		p, ok := l.Mounts[c]
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// controllersAt returns the used controllers whose hierarchy is mounted at
// mount, in Controllers order, by the layout version's names.
func (l *Layout) controllersAt(mount string) []string {
	var out []string
	for _, c := range Controllers() {
		if m, ok := l.Mounts[c]; ok && m == mount {
			out = append(out, controllerName(l.Version, c))
		}
	}
	return out
}

// String describes the layout on one line, e.g.
// "cgroup v1: memory at /sys/fs/cgroup/memory, pids at /sys/fs/cgroup/pids"
// or "cgroup v2 at /sys/fs/cgroup (memory pids)".
func (l *Layout) String() string {
	if l == nil {
		return "cgroup: none"
	}
	if l.Version == V2 {
		hs := l.hierarchies()
		root := ""
		if len(hs) > 0 {
			root = hs[0]
		}
		return fmt.Sprintf("cgroup v2 at %s (%s)", root, strings.Join(l.controllersAt(root), " "))
	}
	var parts []string
	for _, h := range l.hierarchies() {
		parts = append(parts, fmt.Sprintf("%s at %s", strings.Join(l.controllersAt(h), ","), h))
	}
	return fmt.Sprintf("cgroup %s: %s", l.Version, strings.Join(parts, ", "))
}
