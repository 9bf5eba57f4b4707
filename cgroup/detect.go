package cgroup

import (
	"fmt"
	"slices"
	"strings"
)

// layoutFrom chooses the layout for a mount table; it is Detect without
// the I/O. controllersOf returns the text of cgroup.controllers at the
// root of a cgroup2 mount.
//
// The choice, in order:
//  1. The first cgroup2 mount whose cgroup.controllers lists every
//     Required controller: V2, with those of the other used controllers
//     it lists too. (A pure v2 host has it at /sys/fs/cgroup.)
//  2. Otherwise every Required controller on a v1 "cgroup" mount: V1,
//     with the other used controllers that are mounted. A mount of the
//     whole hierarchy (root "/") wins over a bind mount of a subtree of
//     it.
//  3. Otherwise an error that says what was found.
//
// v2 goes first because, when a cgroup2 mount has the controllers, the
// kernel cannot also have them on v1 (a controller is bound to one
// hierarchy at a time), and v2 is the hierarchy with a future.
func layoutFrom(mounts []mountEntry, controllersOf func(mountPoint string) (string, error)) (*Layout, error) {
	need := Required
	var notes []string

	for _, m := range mounts {
		if m.FSType != "cgroup2" {
			continue
		}
		text, err := controllersOf(m.MountPoint)
		if err != nil {
			notes = append(notes, fmt.Sprintf("cgroup2 at %s: %v", m.MountPoint, err))
			continue
		}
		have := strings.Fields(text)
		if missing := missingFrom(need, have); len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("cgroup2 at %s has controllers [%s], lacks [%s]",
				m.MountPoint, strings.Join(have, " "), strings.Join(missing, " ")))
			continue
		}
		var offered []string
		for _, c := range Controllers() {
			if slices.Contains(have, c) {
				offered = append(offered, c)
			}
		}
		return V2Layout(m.MountPoint, offered...), nil
	}

	chosen := map[string]mountEntry{}
	for _, m := range mounts {
		if m.FSType != "cgroup" {
			continue
		}
		for _, c := range Controllers() {
			if !slices.Contains(m.SuperOptions, controllerName(V1, c)) {
				continue
			}
			prev, seen := chosen[c]
			if !seen || (prev.Root != "/" && m.Root == "/") {
				chosen[c] = m
			}
		}
	}
	var found []string
	v1 := map[string]string{}
	for c, m := range chosen {
		v1[c] = m.MountPoint
		if slices.Contains(need, c) {
			found = append(found, c)
		}
	}
	if missing := missingFrom(need, found); len(missing) == 0 {
		return V1Layout(v1), nil
	} else if len(found) > 0 {
		slices.Sort(found)
		notes = append(notes, fmt.Sprintf("cgroup v1 has [%s], lacks [%s]",
			strings.Join(found, " "), strings.Join(missing, " ")))
	} else {
		notes = append(notes, "no cgroup v1 mount holds any of them")
	}
	return nil, fmt.Errorf("no cgroup hierarchy holds the controllers [%s]: %s",
		strings.Join(need, " "), strings.Join(notes, "; "))
}

// missingFrom returns the elements of need that are not in have.
func missingFrom(need, have []string) []string {
	var out []string
	for _, n := range need {
		if !slices.Contains(have, n) {
			out = append(out, n)
		}
	}
	return out
}
