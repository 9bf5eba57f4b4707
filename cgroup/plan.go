package cgroup

import (
	"path/filepath"
	"strings"
)

// Write is one control-file write of a Plan.
type Write struct {
	Path, Value string
	// From, when set, replaces Value: Create reads the file From and
	// writes what it holds to Path, but only when Path is empty. It is how
	// a v1 cpuset gets the CPUs and memory nodes of its parent, without
	// which no task may join it; a parent that has some already (set by
	// an administrator, or by an earlier container) keeps them.
	From string
}

// String renders the write as one line of a printed Plan.
func (w Write) String() string {
	if w.From != "" {
		return "inherit " + w.Path + " from " + w.From + " (when empty)"
	}
	return "write " + w.Path + " = " + w.Value
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
//	inherit /sys/fs/cgroup/cpuset/minispawn/cpuset.cpus from /sys/fs/cgroup/cpuset/cpuset.cpus (when empty)
func (p Plan) String() string {
	var b strings.Builder
	for _, d := range p.Dirs {
		b.WriteString("mkdir " + d + "\n")
	}
	for _, w := range p.Writes {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

// Plan returns what Create(l, name, r) does. It is pure: no I/O, and it does
// not check its inputs (Create does, with ValidName and Resources.Validate).
//
// Every knob is written, "no limit" included, so that the limits never
// depend on what the directory held before; only the optional files (see
// knob.optional), which some kernels lack, are written just when set.
//
// On V1 the cpuset files start empty and a cgroup with empty ones takes no
// task: the shared parent inherits the root's and the leaf its parent's,
// unless a limit says otherwise. The leaf also gets cgroup.clone_children
// = 1, so that cgroups a payload makes below it inherit them the same way.
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
				Write{Path: filepath.Join(h, "cgroup.subtree_control"), Value: enable},
				Write{Path: filepath.Join(parent, "cgroup.subtree_control"), Value: enable})
		}
		if m, ok := l.Mounts["cpuset"]; ok && m == h && l.Version == V1 {
			p.Writes = append(p.Writes, Write{Path: filepath.Join(leaf, "cgroup.clone_children"), Value: "1"})
		}
		for _, k := range knobs {
			file := k.file[l.Version]
			if m, ok := l.Mounts[k.controller]; !ok || m != h || file == "" {
				continue
			}
			if k.inheritV1 && l.Version == V1 {
				p.Writes = append(p.Writes, Write{Path: filepath.Join(parent, file), From: filepath.Join(h, file)})
				if !k.isSet(r) {
					p.Writes = append(p.Writes, Write{Path: filepath.Join(leaf, file), From: filepath.Join(parent, file)})
				}
			}
			for _, v := range k.values(l.Version, r) {
				p.Writes = append(p.Writes, Write{Path: filepath.Join(leaf, file), Value: v})
			}
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
