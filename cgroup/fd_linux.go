package cgroup

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FD opens the cgroup's v2 directory for SysProcAttr.UseCgroupFD and
// CgroupFD: clone3 with CLONE_INTO_CGROUP starts the child inside the
// cgroup, so it never runs a moment outside its limits. The caller closes
// the descriptor. On v1 there is no single directory to clone into, so FD
// fails there; use Add.
func (c *Cgroup) FD() (int, error) {
	if c.layout.Version != V2 || len(c.paths) != 1 {
		return -1, fmt.Errorf("cgroup fd of container %q: needs cgroup v2, layout is %s", c.name, c.layout.Version)
	}
	fd, err := unix.Open(c.paths[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &Error{Step: "open", Path: c.paths[0], Err: err}
	}
	return fd, nil
}
