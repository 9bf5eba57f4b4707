package cgroup

import (
	"fmt"
	"strings"
)

// MaxNameLen is the longest container name a cgroup accepts here; it
// matches the configuration's limit.
const MaxNameLen = 64

// reservedPrefixes are the prefixes of control-file names in cgroupfs
// ("<prefix>.something"). A child cgroup with such a name could clash with
// a control file of its parent, now or after a controller is enabled.
var reservedPrefixes = []string{
	"cgroup", "memory", "pids", "cpu", "cpuacct", "cpuset", "io", "blkio",
	"hugetlb", "rdma", "misc", "freezer", "devices", "net_cls", "net_prio",
	"perf_event", "dmem",
}

// reservedNames are v1 control files without a controller prefix.
var reservedNames = []string{"tasks", "notify_on_release", "release_agent"}

// ValidName reports whether name can be a container's cgroup directory: 1
// to MaxNameLen of letters, digits, '-', '_' and '.', not "." or "..", and
// not a name the kernel uses for a control file.
func ValidName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("cgroup name %q: want 1 to %d characters", name, MaxNameLen)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("cgroup name %q: not a directory name", name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("cgroup name %q: character %q not allowed (letters, digits, '-', '_', '.')", name, c)
		}
	}
	for _, r := range reservedNames {
		if name == r {
			return fmt.Errorf("cgroup name %q: reserved by the kernel for a control file", name)
		}
	}
	if prefix, _, found := strings.Cut(name, "."); found {
		for _, r := range reservedPrefixes {
			if prefix == r {
				return fmt.Errorf("cgroup name %q: the prefix %q is reserved by the kernel for control files", name, r+".")
			}
		}
	}
	return nil
}
