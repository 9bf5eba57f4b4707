package main

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
)

// Cgroups the systemd way (CGROUP_DELEGATION: systemd owns the tree, a
// unit with Delegate=yes owns its subtree). The pure part: where things
// go. systemd_linux.go asks systemd and moves processes.
//
//	started as                      the container's cgroup
//	a unit with Delegate=yes        UNIT/minispawn/NAME, minispawn itself in
//	                                UNIT/supervisor (cgroup v2: no process
//	                                may sit in UNIT once it hands controllers
//	                                down)
//	by hand, systemd running        the same below a transient scope,
//	                                SLICE/minispawn-NAME.scope, that
//	                                systemd makes with delegation (D-Bus)
//	without systemd, or             minispawn/NAME at the root of each
//	cgroup = "cgroupfs"             hierarchy (package cgroup)

// supervisorGroup is the child of the delegated cgroup that minispawn
// moves itself into, as systemd-nspawn does.
const supervisorGroup = "supervisor"

// cgroupDriverEnv overrides [systemd] cgroup, for test beds that run
// minispawn by hand under systemd yet want the cgroup filesystem.
const cgroupDriverEnv = "MINISPAWN_CGROUP"

// cgroupDriver is the driver to use: the environment's override when set
// and valid, else the file's.
func cgroupDriver(fromFile config.CgroupDriver, env string) (config.CgroupDriver, error) {
	if env == "" {
		return fromFile, nil
	}
	var d config.CgroupDriver
	if err := d.UnmarshalText([]byte(env)); err != nil {
		return "", fmt.Errorf("%s: %w", cgroupDriverEnv, err)
	}
	return d, nil
}

// delegatedLayout rebases l onto the delegated cgroup unit (a path from
// the hierarchy root, like systemd's ControlGroup property), so that
// package cgroup makes UNIT/minispawn/NAME.
//
// v2: one hierarchy, the controllers those of UNIT's cgroup.controllers
// that minispawn uses (controllersOf reads them); the required ones must
// be there. v1: every controller's hierarchy at its own UNIT directory,
// where systemd made one (exists); the controllers of hierarchies where
// it did not (v1 controllers systemd does not manage) stay at the
// hierarchy's root, and are returned in order.
func delegatedLayout(l *cgroup.Layout, unit string, controllersOf func(dir string) ([]string, error),
	exists func(dir string) bool) (*cgroup.Layout, []string, error) {
	if !path.IsAbs(unit) {
		return nil, nil, fmt.Errorf("delegated cgroup %q is not an absolute path", unit)
	}
	if l.Version == cgroup.V2 {
		var root string
		for _, m := range l.Mounts {
			root = m
		}
		dir := filepath.Join(root, unit)
		have, err := controllersOf(dir)
		if err != nil {
			return nil, nil, err
		}
		var use []string
		for _, c := range cgroup.Controllers() {
			if slices.Contains(have, c) {
				use = append(use, c)
			}
		}
		for _, c := range cgroup.Required {
			if !slices.Contains(use, c) {
				return nil, nil, fmt.Errorf("the delegated cgroup %s offers the controllers [%s], not %s: the unit needs Delegate=yes (or Delegate=%s)",
					dir, strings.Join(have, " "), c, strings.Join(cgroup.Required, " "))
			}
		}
		return cgroup.V2Layout(dir, use...), nil, nil
	}
	mounts := map[string]string{}
	var atRoot []string
	for c, m := range l.Mounts {
		if dir := filepath.Join(m, unit); exists(dir) {
			mounts[c] = dir
			continue
		}
		mounts[c] = m
		atRoot = append(atRoot, c)
	}
	slices.Sort(atRoot)
	return cgroup.V1Layout(mounts), atRoot, nil
}

// scopeName is the transient scope for container name started by hand.
func scopeName(name string) string { return "minispawn-" + name + ".scope" }

// unitType is the D-Bus interface suffix for a unit's type: "Service"
// for "web.service".
func unitType(unit string) string {
	i := strings.LastIndexByte(unit, '.')
	if i < 0 || i == len(unit)-1 {
		return ""
	}
	t := unit[i+1:]
	return strings.ToUpper(t[:1]) + t[1:]
}
