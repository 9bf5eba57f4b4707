package cgroup

import (
	"os"
	"path/filepath"
)

// Detect returns the layout of the running system, from
// /proc/self/mountinfo: v2 when a cgroup2 mount holds every used controller
// (see layoutFrom), else the v1 per-controller mounts.
func Detect() (*Layout, error) {
	const mountinfo = "/proc/self/mountinfo"
	text, err := os.ReadFile(mountinfo)
	if err != nil {
		return nil, &Error{Step: "read", Path: mountinfo, Err: unwrapPathError(err)}
	}
	mounts, err := parseMountinfo(string(text))
	if err != nil {
		return nil, &Error{Step: "parse", Path: mountinfo, Err: err}
	}
	return layoutFrom(mounts, func(mp string) (string, error) {
		return readFile(filepath.Join(mp, "cgroup.controllers"))
	})
}
