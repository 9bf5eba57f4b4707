package cgroup

import (
	"path/filepath"
	"strings"
)

// Write is one control-file write of a Plan.
type Write struct {
	Path, Value string
}

// Plan is what Create does, as data: make Dirs in order, then do Writes in
// order. It is printable (String) so a dry run can show it.
type Plan struct {
	// Dirs are made in this order, parents before children. A directory
	// that is also in Paths must not exist yet; any other (the shared
	// parent) may.
	Dirs []string
	// Writes happen after all Dirs exist, in this order.
	Writes []Write
	// Paths are the container's cgroup directories, one per hierarchy:
	// the ones processes join and Remove deletes.
	Paths []string
}

// String prints one action per line:
//
//	mkdir /sys/fs/cgroup/pids/minispawn/demo
//	write /sys/fs/cgroup/pids/minispawn/demo/pids.max = 64
func (p Plan) String() string {
	var b strings.Builder
	for _, d := range p.Dirs {
		b.WriteString("mkdir " + d + "\n")
	}
	for _, w := range p.Writes {
		b.WriteString("write " + w.Path + " = " + w.Value + "\n")
	}
	return b.String()
}

// Plan returns what Create(l, name, r) does. It is pure: no I/O, and it does
// not check its inputs (Create does, with ValidName and Resources.Validate).
//
// Every knob is written, "no limit" included, so that the limits never
// depend on what the directory held before.
//
// On V1 the cgroup is Parent/name under each used hierarchy. On V2 it is
// Parent/name under the one root, and the used controllers are enabled in
// cgroup.subtree_control of every level above the leaf (the root and
// Parent): v2 only gives a cgroup a controller's files when its parent
// delegates that controller. The writes are idempotent, so they are made
// whether or not an earlier run already made them.
func (l *Layout) Plan(name string, r Resources) Plan {
	var p Plan
	for _, h := range l.hierarchies() {
		parent := filepath.Join(h, Parent)
		leaf := filepath.Join(parent, name)
		p.Dirs = append(p.Dirs, parent, leaf)
		p.Paths = append(p.Paths, leaf)
		if l.Version == V2 {
			enable := subtreeControl(l.controllersAt(h))
			p.Writes = append(p.Writes,
				Write{filepath.Join(h, "cgroup.subtree_control"), enable},
				Write{filepath.Join(parent, "cgroup.subtree_control"), enable})
		}
		for _, k := range knobs {
			if l.Mounts[k.controller] != h || k.file[l.Version] == "" {
				continue
			}
			p.Writes = append(p.Writes, Write{filepath.Join(leaf, k.file[l.Version]), k.format(l.Version, k.get(r))})
		}
	}
	return p
}

// subtreeControl is the cgroup.subtree_control text that enables cs.
func subtreeControl(cs []string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = "+" + c
	}
	return strings.Join(parts, " ")
}
