package cgroup

import (
	"fmt"
	"slices"
	"strings"
)

// threadCgroup is one line of /proc/thread-self/cgroup:
// "hierarchy-ID:controller-list:path".
type threadCgroup struct {
	controllers []string // "cpu", "cpuacct"; "name=systemd"; none on v2
	path        string   // below the hierarchy's root, e.g. "/" or "/user.slice"
}

// parseThreadCgroups parses the text of /proc/PID/cgroup or
// /proc/thread-self/cgroup.
func parseThreadCgroups(text string) ([]threadCgroup, error) {
	var out []threadCgroup
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			continue
		}
		id, rest, ok1 := strings.Cut(line, ":")
		ctrl, path, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || id == "" || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("cgroup membership line %q: want ID:CONTROLLERS:/PATH", line)
		}
		var cs []string
		if ctrl != "" {
			cs = strings.Split(ctrl, ",")
		}
		out = append(out, threadCgroup{controllers: cs, path: path})
	}
	return out, nil
}

// pathOf returns the path of the v1 hierarchy that holds controller (a v1
// name, e.g. "blkio").
func pathOf(cgs []threadCgroup, controller string) (string, bool) {
	for _, c := range cgs {
		if slices.Contains(c.controllers, controller) {
			return c.path, true
		}
	}
	return "", false
}
